import Foundation
import Search

/// One topology trained from scratch for the short stand-alone budget (a finalist, an audited
/// topology, or both), scored on the same fitness patches as the supernet scored it.
public struct StandAloneResult: Codable, Sendable, Equatable {
    public var id: String
    public var cluster: Int
    public var levels: [Int]
    /// Its fitness with the supernet's weights (what the coarse stage ranked it by).
    public var supernetFitness: Double
    /// Its fitness after `steps` steps of training from scratch.
    public var standAloneFitness: Double
    /// Hard Dice on the fitness patches, from scratch (for the record).
    public var standAloneDice: Double
    public var steps: Int
    public var macs: Double
    public var isFinalist: Bool

    public init(id: String, cluster: Int, levels: [Int], supernetFitness: Double, standAloneFitness: Double,
                standAloneDice: Double, steps: Int, macs: Double, isFinalist: Bool) {
        self.id = id; self.cluster = cluster; self.levels = levels; self.supernetFitness = supernetFitness
        self.standAloneFitness = standAloneFitness; self.standAloneDice = standAloneDice; self.steps = steps
        self.macs = macs; self.isFinalist = isFinalist
    }
}

/// The ranking audit: does the supernet's fitness order topologies as training them does?
public struct AuditReport: Codable, Sendable, Equatable {
    /// Kendall τ-b between supernet fitness and stand-alone fitness over the audited topologies.
    public var kendallTau: Double
    public var topologies: Int
    public var steps: Int
    public var metric: String

    public init(kendallTau: Double, topologies: Int, steps: Int, metric: String) {
        self.kendallTau = kendallTau; self.topologies = topologies; self.steps = steps; self.metric = metric
    }

    /// A one-line verdict for the log, the header and the model card.
    public var summary: String {
        let verdict = kendallTau >= 0.6 ? "strong" : kendallTau >= 0.4 ? "moderate" : kendallTau >= 0.2 ? "weak" : "none"
        return String(format: "ranking audit: Kendall τ %.2f over %d topologies (%d stand-alone steps each; agreement %@)",
                      kendallTau, topologies, steps, verdict)
    }
}

public enum RankingAudit {
    /// Kendall's τ-b of two paired samples (ties in either variable handled as in scipy's default).
    /// Returns 0 when either sample is constant or fewer than two pairs are given.
    public static func kendallTau(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count, "kendallTau: samples of different lengths")
        let n = x.count
        guard n >= 2 else { return 0 }
        var concordant = 0.0, discordant = 0.0, tiesX = 0.0, tiesY = 0.0
        for i in 0..<n {
            for j in (i + 1)..<n {
                let dx = x[i] - x[j], dy = y[i] - y[j]
                if dx == 0 && dy == 0 { continue }
                if dx == 0 { tiesX += 1; continue }
                if dy == 0 { tiesY += 1; continue }
                if (dx > 0) == (dy > 0) { concordant += 1 } else { discordant += 1 }
            }
        }
        let denom = ((concordant + discordant + tiesX) * (concordant + discordant + tiesY)).squareRoot()
        return denom == 0 ? 0 : (concordant - discordant) / denom
    }

    /// The topologies to train stand-alone: every finalist (when `finalists` is non-empty) plus,
    /// up to `total`, scored candidates spread over clusters (round-robin) and over fitness (within a
    /// cluster, the candidates at evenly spaced fitness quantiles, best and worst first). Deterministic.
    public static func sample(candidates: [Candidate], finalists: [Candidate], total: Int) -> [Candidate] {
        var chosen = finalists
        var seen = Set(finalists.map(\.topology))
        guard total > chosen.count else { return chosen }
        let clusters = Array(Set(candidates.map(\.cluster))).sorted()
        // Per cluster, candidates in order of quantile position: extremes first, then midpoints.
        var queues: [[Candidate]] = clusters.map { k in
            let sorted = candidates.filter { $0.cluster == k }.sorted { $0.isBetter(than: $1) }
            return quantileOrder(sorted.count).map { sorted[$0] }
        }
        while chosen.count < total, queues.contains(where: { !$0.isEmpty }) {
            for q in queues.indices where chosen.count < total {
                while let c = queues[q].first {
                    queues[q].removeFirst()
                    if seen.insert(c.topology).inserted { chosen.append(c); break }
                }
            }
        }
        return chosen
    }

    /// Indices 0..<n ordered so every prefix spreads over the range: 0, n-1, then midpoints by bisection.
    static func quantileOrder(_ n: Int) -> [Int] {
        guard n > 2 else { return Array(0..<n) }
        var order = [0, n - 1], used: Set<Int> = [0, n - 1]
        var intervals = [(0, n - 1)]
        while order.count < n {
            var next: [(Int, Int)] = []
            for (a, b) in intervals where b - a > 1 {
                let m = (a + b) / 2
                if used.insert(m).inserted { order.append(m) }
                next.append((a, m)); next.append((m, b))
            }
            if next.isEmpty { break }
            intervals = next
        }
        for i in 0..<n where !used.contains(i) { order.append(i) }
        return order
    }
}
