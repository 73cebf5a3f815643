/// One scored topology of the search, kept so a user can pick any candidate, not only the winner.
public struct Candidate: Hashable, Sendable, Codable {
    public var topology: Topology
    public var ops: [CellOp]
    /// What the caller's fitness function returned (in C2FNAS: mean foreground validation Dice).
    public var fitness: Double
    public var parameters: Int
    /// Multiply-adds of one forward pass at the patch size.
    public var macs: Int
    /// Estimated peak training memory at the patch size, in bytes.
    public var memoryBytes: Int
    public var cluster: Int
    /// Generation in which it was first scored (0 = initial population).
    public var generation: Int

    public init(topology: Topology, ops: [CellOp], fitness: Double, cost: CostEstimate, cluster: Int, generation: Int) {
        self.topology = topology
        self.ops = ops
        self.fitness = fitness
        self.parameters = cost.parameters
        self.macs = cost.macs
        self.memoryBytes = cost.memoryBytes
        self.cluster = cluster
        self.generation = generation
    }

    /// The selection order of C2FNAS.md: higher fitness wins, ties go to fewer multiply-adds, then
    /// (for determinism) to the lexicographically smaller topology.
    public func isBetter(than other: Candidate) -> Bool {
        if fitness != other.fitness { return fitness > other.fitness }
        if macs != other.macs { return macs < other.macs }
        return topology < other.topology
    }

    /// The best of `candidates` by `isBetter(than:)` (e.g. the finalist of a cluster).
    public static func best(of candidates: [Candidate]) -> Candidate? {
        candidates.reduce(nil) { best, c in best.map { c.isBetter(than: $0) ? c : $0 } ?? c }
    }
}

/// Width, channels, classes and patch shared by every candidate of a search: with a topology and
/// ops they make an `Architecture`.
public struct NetworkSettings: Hashable, Sendable, Codable {
    public var baseWidth: Int
    public var inputChannels: Int
    public var classes: Int
    public var patch: [Int]

    public init(baseWidth: Int, inputChannels: Int, classes: Int, patch: [Int]) {
        self.baseWidth = baseWidth
        self.inputChannels = inputChannels
        self.classes = classes
        self.patch = patch
    }

    public func architecture(name: String, topology: Topology, ops: [CellOp], levels: Int,
                             provenance: Provenance = Provenance()) -> Architecture {
        Architecture(name: name, topology: topology, ops: ops, baseWidth: baseWidth, levels: levels,
                     inputChannels: inputChannels, classes: classes, patch: patch, provenance: provenance)
    }
}
