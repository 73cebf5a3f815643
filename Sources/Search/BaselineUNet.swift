/// The hand-designed comparison of every search: a plain 3D U-Net in the same space (all cells
/// 3x3x3, `perStage` cells per resolution stage) whose width and cells per stage are chosen so
/// its multiply-adds match the searched network's.
extension Architecture {
    /// U-Net topology over `levels` levels: the stem plus `perStage - 1` cells at level 1, `perStage`
    /// cells at every deeper level down to the bottleneck, `perStage` at each level back up and
    /// `max(1, perStage - 1)` at level 1 (the first cell of each decoder level is the up cell that
    /// takes the skip). `levels` 4, `perStage` 2 is `unetTopology`, the built-in `unet`.
    public static func unetTopology(levels: Int, perStage: Int = 2) -> Topology {
        precondition(levels >= 2 && perStage >= 1, "a U-Net needs 2 levels or more and a cell per stage")
        var cells = [Int](repeating: 1, count: perStage - 1)
        for l in 2...levels { cells += [Int](repeating: l, count: perStage) }
        for l in stride(from: levels - 1, through: 1, by: -1) {
            cells += [Int](repeating: l, count: l == 1 ? max(1, perStage - 1) : perStage)
        }
        return Topology(cells)
    }
}

/// A U-Net matched to a searched network by multiply-adds (one forward pass at the same patch).
public struct MatchedBaseline: Sendable {
    public var architecture: Architecture
    public var macs: Int
    public var targetMACs: Int
    /// Cells per resolution stage k (the bottleneck has k cells).
    public var cellsPerStage: Int { architecture.topology.levels.filter { $0 == architecture.levels }.count }
    /// Baseline MACs / searched MACs.
    public var ratio: Double { Double(macs) / Double(max(1, targetMACs)) }
    /// Whether `ratio` is within the tolerance it was matched with.
    public var withinTolerance: Bool

    /// The U-Net with the searched network's levels, channels, classes and patch whose width w and
    /// cells per stage k (1...4) bring its multiply-adds closest to the target. Among the (w, k)
    /// within `tolerance` the classic k = 2 is preferred, then the closest; a base width alone is
    /// too coarse a knob at small widths (8 → 9 is +27 % MACs), hence the second one.
    public static func unet(matching target: Architecture, tolerance: Double = 0.10) throws -> MatchedBaseline {
        let targetMACs = try NetworkGraph(target).cost().macs
        var best: (arch: Architecture, macs: Int, score: Double)?
        for k in 1...4 {
            let topology = Architecture.unetTopology(levels: target.levels, perStage: k)
            func unet(_ w: Int) -> Architecture {
                Architecture(name: "unet-baseline", topology: topology,
                             ops: [CellOp](repeating: .conv3D, count: topology.cellCount),
                             baseWidth: w, levels: target.levels, inputChannels: target.inputChannels,
                             classes: target.classes, patch: target.patch,
                             provenance: Provenance(source: "builtin U-Net matched to \(target.name) by multiply-adds"))
            }
            // MACs grow with w: bisect for the smallest w at or above the target, then try it and w − 1.
            var lo = 1, hi = 4096
            while lo < hi {
                let mid = (lo + hi) / 2
                if try NetworkGraph(unet(mid)).cost().macs >= targetMACs { hi = mid } else { lo = mid + 1 }
            }
            for w in (lo > 1 ? [lo - 1, lo] : [lo]) {
                let arch = unet(w)
                let macs = try NetworkGraph(arch).cost().macs
                let off = abs(Double(macs) / Double(max(1, targetMACs)) - 1)
                // Within tolerance: rank by (not classic, distance); outside: after every match, by distance.
                let score = off <= tolerance ? (k == 2 ? 0 : 1) + off : 10 + off
                if best == nil || score < best!.score || (score == best!.score && w < best!.arch.baseWidth) {
                    best = (arch, macs, score)
                }
            }
        }
        let b = best!
        return MatchedBaseline(architecture: b.arch, macs: b.macs, targetMACs: targetMACs, withinTolerance: b.score < 10)
    }
}

/// Limits on a candidate's cost; candidates above them are excluded before they are scored
/// (a deployment budget). Nil means no limit.
public struct CandidateBudget: Hashable, Sendable, Codable {
    public var maxMemoryBytes: Int?
    public var maxMACs: Int?

    public init(maxMemoryBytes: Int? = nil, maxMACs: Int? = nil) {
        self.maxMemoryBytes = maxMemoryBytes
        self.maxMACs = maxMACs
    }

    /// From the config's `maxMemoryMB` / `maxMACs` (0 = no limit).
    public init(maxMemoryMB: Double, maxMACs: Double) {
        self.maxMemoryBytes = maxMemoryMB > 0 ? Int(maxMemoryMB * 1_048_576) : nil
        self.maxMACs = maxMACs > 0 ? Int(maxMACs) : nil
    }

    public var isUnlimited: Bool { maxMemoryBytes == nil && maxMACs == nil }

    public func admits(_ cost: CostEstimate) -> Bool { rejection(cost) == nil }

    /// Why `cost` exceeds the budget, or nil when it fits (limits are inclusive).
    public func rejection(_ cost: CostEstimate) -> String? {
        if let m = maxMemoryBytes, cost.memoryBytes > m {
            return "estimated training memory \(cost.memoryBytes >> 20) MiB exceeds maxMemoryMB \(m >> 20)"
        }
        if let m = maxMACs, cost.macs > m {
            return "\(cost.macs) multiply-adds exceed maxMACs \(m)"
        }
        return nil
    }
}

/// Pareto optimality over objectives that are all to be minimised (negate the ones to maximise).
public enum ParetoFront {
    /// True for each point no other point dominates (at most as bad everywhere, better somewhere).
    /// Duplicates do not dominate each other, so both stay on the front.
    public static func optimal(_ points: [[Double]]) -> [Bool] {
        points.indices.map { i in
            !points.indices.contains { j in
                j != i && zip(points[j], points[i]).allSatisfy { $0 <= $1 } && zip(points[j], points[i]).contains { $0 < $1 }
            }
        }
    }
}
