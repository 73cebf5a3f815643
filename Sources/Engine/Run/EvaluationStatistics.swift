import Foundation
import Volume

/// A percentile bootstrap confidence interval of a mean.
public struct BootstrapInterval: Codable, Sendable, Equatable {
    public var mean: Double
    public var low: Double
    public var high: Double
    /// Coverage, e.g. 0.95.
    public var level: Double
    public var resamples: Int

    public init(mean: Double, low: Double, high: Double, level: Double, resamples: Int) {
        self.mean = mean; self.low = low; self.high = high; self.level = level; self.resamples = resamples
    }

    /// True when the interval lies entirely on one side of 0.
    public var excludesZero: Bool { low > 0 || high < 0 }
}

/// The paired per-case bootstrap of a mean difference: the per-case differences (searched −
/// reference on the same test case) are resampled with replacement `resamples` times, and the
/// interval is the (1 − level)/2 and (1 + level)/2 percentiles of the resampled means, with
/// linear interpolation between order statistics (numpy's default `percentile`).
public enum PairedBootstrap {
    /// Fewer paired cases than this give no interval (the resampled means take too few values).
    public static let minimumCases = 5

    public static func interval(differences d: [Double], resamples: Int = 10_000, level: Double = 0.95,
                                seed: UInt64) -> BootstrapInterval? {
        guard d.count >= 1, resamples >= 1, d.allSatisfy(\.isFinite) else { return nil }
        let n = d.count
        var rng = SeedDomain.bootstrap.rng(seed)
        var means = [Double](repeating: 0, count: resamples)
        for r in 0..<resamples {
            var s = 0.0
            for _ in 0..<n { s += d[rng.int(below: n)] }
            means[r] = s / Double(n)
        }
        means.sort()
        let tail = (1 - level) / 2
        return BootstrapInterval(mean: d.reduce(0, +) / Double(n), low: percentile(sorted: means, tail),
                                 high: percentile(sorted: means, 1 - tail), level: level, resamples: resamples)
    }

    /// The q-quantile (0...1) of sorted values, linear interpolation between closest ranks.
    public static func percentile(sorted v: [Double], _ q: Double) -> Double {
        precondition(!v.isEmpty, "percentile of no values")
        let h = Double(v.count - 1) * q
        let lo = Int(h.rounded(.down)), hi = min(v.count - 1, lo + 1)
        return v[lo] + (h - Double(lo)) * (v[hi] - v[lo])
    }
}
