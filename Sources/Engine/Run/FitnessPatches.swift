import Foundation
import NN
import Tensor
import Search
import Volume

/// What one scoring of a network on the fitness patches measured. Dice values are means over the
/// foreground classes present in the scored patches, each class's Dice computed from sums over all
/// those patches (one ratio per class, as nnU-Net's batch Dice), so a class absent from one patch
/// does not add a 0 or a 1 of its own.
public struct FitnessScore: Codable, Sendable, Equatable {
    /// Soft Dice of the softmax probabilities.
    public var softDice: Double
    /// Dice of the argmax prediction.
    public var dice: Double
    /// The scored metric on each half of the patches (even / odd patch index): two scorings on
    /// disjoint patch sets, whose difference measures how much the score depends on the patches drawn.
    public var halves: [Double]

    public func value(_ metric: FitnessMetric) -> Double {
        switch metric { case .softDice: softDice; case .dice: dice }
    }
}

/// A fixed set of foreground-centred validation patches on which every topology of a run is scored.
///
/// Why patches and not sliding windows over whole cases: at CPU budgets the supernets are trained for a
/// few hundred steps, and whole-volume hard Dice is then 0 for most topologies (the argmax predicts
/// background), so the ranking fell to the MAC tie-break; whole-volume windows also cost more than the
/// training they judge. Fixed patches centred on each class in turn see every class, cost a handful of
/// forward passes, and are the same for every topology, so differences between topologies are not
/// differences between patch draws.
public final class FitnessPatches: @unchecked Sendable {
    public let patch: Shape3
    public let channels: Int
    public let classes: Int
    /// Patches as network inputs (1, C, D, H, W) and their labels (class index per voxel).
    let inputs: [Tensor]
    let labels: [[UInt8]]
    /// Which validation case each patch came from (for the record of what the search read).
    public let caseIDs: [String]

    public var count: Int { inputs.count }

    /// Draws `count` patches from `cases`, cycling over cases and, within a case, over its present
    /// classes, each patch centred on a random voxel of its class. Deterministic in `seed`.
    public init(cases: [PreprocessedCase], count: Int, patch: Shape3, classes: Int, seed: UInt64) {
        precondition(!cases.isEmpty, "FitnessPatches: no validation case")
        self.patch = patch
        self.classes = classes
        channels = cases[0].image.channels
        let sampler = PatchSampler(patchSize: patch, foregroundFraction: 1)
        var rng = RNG(seed: seed)
        let fg = cases.map { ForegroundIndex($0.labels!) }
        var ins: [Tensor] = [], labs: [[UInt8]] = [], ids: [String] = []
        for i in 0..<max(1, count) {
            let ci = i % cases.count, round = i / cases.count
            let c = cases[ci], s = c.image.shape
            let present = fg[ci].presentClasses
            var origin = [0, 0, 0]
            if !present.isEmpty {
                let list = fg[ci].classes[present[round % present.count]]
                let v = list[rng.int(below: list.count)]
                let centre = [v % s.x, (v / s.x) % s.y, v / (s.x * s.y)]
                for a in 0..<3 {
                    let lo = min(0, s[a] - patch[a]), hi = max(0, s[a] - patch[a])
                    origin[a] = min(max(centre[a] - patch[a] / 2, lo), hi)
                }
            } else {
                for a in 0..<3 {
                    let lo = min(0, s[a] - patch[a]), hi = max(0, s[a] - patch[a])
                    origin[a] = rng.int(in: lo...hi)
                }
            }
            let p = sampler.extract(image: c.image, labels: c.labels, origin: origin)
            ins.append(Tensor(shape: [1, channels, patch.z, patch.y, patch.x], scalars: p.image))
            labs.append(p.labels)
            ids.append(c.id)
        }
        inputs = ins
        labels = labs
        caseIDs = ids
    }

    /// Scores `net` on every patch (no gradients); `halves` are of `metric`.
    public func score(_ net: GraphNetwork, metric: FitnessMetric = .softDice) -> FitnessScore {
        score(net, metric: metric, concurrent: Inference.windowsInParallel)
    }

    /// `concurrent`: the patches' passes run on the pool, one per thread (same values; for tests).
    func score(_ net: GraphNetwork, metric: FitnessMetric, concurrent: Bool) -> FitnessScore {
        let k = classes, v = patch.count
        // Per patch and class: soft intersection, soft prediction sum, hard intersection, hard
        // prediction sum, reference sum.
        var sums = [Double](repeating: 0, count: count * k * 5)
        let cache = PackedWeightCache()   // the same weights for every patch: pack them once
        let inputs = inputs, labels = labels
        // Patch pi's sums go to sums[pi·k·5 ..< (pi + 1)·k·5], from its own pass: the patches may run
        // concurrently, one per pool thread (as the windows of an inference batch), with the same values.
        func scorePatch(_ pi: Int, _ sp: UnsafeMutablePointer<Double>) {
            let logits = cache.using { noGrad { net(Variable(inputs[pi])) } }.value
            let lab = labels[pi]
            let base = pi * k * 5
            logits.withUnsafePointer { lp in
                withUnsafeTemporaryAllocation(of: Double.self, capacity: k * 5) { acc in
                    acc.initialize(repeating: 0)
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: k) { e in
                        for i in 0..<v {
                            var mx = lp[i], arg = 0
                            for c in 1..<k where lp[c * v + i] > mx { mx = lp[c * v + i]; arg = c }
                            var z: Float = 0
                            for c in 0..<k { let t = expf(lp[c * v + i] - mx); e[c] = t; z += t }
                            let y = Int(lab[i])
                            for c in 1..<k {
                                let p = Double(e[c] / z)
                                acc[c * 5 + 1] += p
                                if c == y { acc[c * 5] += p; acc[c * 5 + 4] += 1 }
                            }
                            if arg > 0 {
                                acc[arg * 5 + 3] += 1
                                if arg == y { acc[arg * 5 + 2] += 1 }
                            }
                        }
                    }
                    for j in 0..<(k * 5) { sp[base + j] = acc[j] }
                }
            }
        }
        sums.withUnsafeMutableBufferPointer { sb in
            let sp = sb.baseAddress!
            if concurrent {
                Compute.parallelFor(count) { scorePatch($0, sp) }
            } else {
                for pi in 0..<count { scorePatch(pi, sp) }
            }
        }
        let all = Array(0..<count)
        let even = all.filter { $0 % 2 == 0 }, odd = all.filter { $0 % 2 == 1 }
        let soft = Self.meanDice(sums, patches: all, classes: k, soft: true)
        let hard = Self.meanDice(sums, patches: all, classes: k, soft: false)
        let isSoft = metric == .softDice
        return FitnessScore(softDice: soft, dice: hard,
                            halves: odd.isEmpty ? [isSoft ? soft : hard, isSoft ? soft : hard]
                                : [even, odd].map { Self.meanDice(sums, patches: $0, classes: k, soft: isSoft) })
    }

    /// Mean over foreground classes present in `patches` of 2·I / (P + Y), sums over those patches.
    static func meanDice(_ sums: [Double], patches: [Int], classes k: Int, soft: Bool) -> Double {
        var total = 0.0, n = 0
        for c in 1..<k {
            var i = 0.0, p = 0.0, y = 0.0
            for pi in patches {
                let b = pi * k * 5 + c * 5
                i += soft ? sums[b] : sums[b + 2]
                p += soft ? sums[b + 1] : sums[b + 3]
                y += sums[b + 4]
            }
            guard y > 0 else { continue }
            total += 2 * i / (p + y)
            n += 1
        }
        return n == 0 ? 0 : total / Double(n)
    }
}

/// How trustworthy a cluster's ranking is: the spread of its scored fitness against the noise of
/// one score (from the two disjoint patch halves).
public struct RankingSignal: Codable, Sendable, Equatable {
    public var cluster: Int
    /// max − min of the fitness of the scored topologies.
    public var spread: Double
    /// Noise of one fitness value relative to the others: twice its estimated standard error. Each
    /// topology is scored on two disjoint patch halves; each half's scores are centred on that half's
    /// mean (a half that is easier for every topology says nothing about their order), and the noise is
    /// the root-mean-square difference of a topology's two centred scores. A full-set score averages
    /// twice the patches of a half, so its standard error is half that difference's.
    public var noise: Double
    /// Extra supernet training rounds the guard asked for.
    public var extraRounds: Int
    public var supernetSteps: Int
    /// The spread is still within the noise after the last allowed round: the ranking is not evidence.
    public var belowNoise: Bool

    public init(cluster: Int, spread: Double, noise: Double, extraRounds: Int, supernetSteps: Int, belowNoise: Bool) {
        self.cluster = cluster; self.spread = spread; self.noise = noise; self.extraRounds = extraRounds
        self.supernetSteps = supernetSteps; self.belowNoise = belowNoise
    }

    /// Spread and noise of a set of scores. A constant fitness (spread 0) is always below the noise.
    public static func measure(_ scores: [FitnessScore], metric: FitnessMetric) -> (spread: Double, noise: Double) {
        let values = scores.map { $0.value(metric) }
        let spread = (values.max() ?? 0) - (values.min() ?? 0)
        let n = Double(max(1, scores.count))
        let meanA = scores.reduce(0) { $0 + $1.halves[0] } / n, meanB = scores.reduce(0) { $0 + $1.halves[1] } / n
        let d2 = scores.map { s in
            let d = (s.halves[0] - meanA) - (s.halves[1] - meanB)
            return d * d
        }
        // 2 · SE = 2 · (rms / 2) = rms.
        let rms = d2.isEmpty ? 0 : (d2.reduce(0, +) / Double(d2.count)).squareRoot()
        return (spread, rms)
    }

    /// The guard's test: is the ranking within the noise (or constant)?
    public static func isBelowNoise(spread: Double, noise: Double) -> Bool {
        spread <= 0 || spread < noise
    }
}

/// The coarse stage's guard against choosing on noise: after a cluster's initial population is scored,
/// either train its supernet longer and score again, or accept the ranking (flagged when it is still
/// within the noise).
public enum NoiseGuard {
    public enum Decision: Equatable, Sendable {
        case retrain
        case accept(belowNoise: Bool)
    }

    public static func decide(_ scores: [FitnessScore], metric: FitnessMetric, roundsTaken: Int, maxRounds: Int,
                              extraSteps: Double) -> (decision: Decision, spread: Double, noise: Double) {
        let (spread, noise) = RankingSignal.measure(scores, metric: metric)
        // One topology (or none) leaves nothing to choose between.
        let below = scores.count >= 2 && RankingSignal.isBelowNoise(spread: spread, noise: noise)
        if below && roundsTaken < maxRounds && extraSteps > 0 { return (.retrain, spread, noise) }
        return (.accept(belowNoise: below), spread, noise)
    }
}
