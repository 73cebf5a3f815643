/// The coarse stage's weight-sharing supernet, as data: every parameter any member topology of
/// a cluster uses, under its shared name (keyed by cell, level and input kind). A training step
/// samples one member and runs only that member's graph, looking its weights up by
/// `GraphLayer.sharedName`, so memory holds one network's activations, never the union's.
public struct SupernetLayout: Hashable, Sendable, Codable {
    /// Union of the members' shared parameters, in order of first use.
    public var parameters: [ParameterSpec]
    /// How many members use each parameter (same order), e.g. to report coverage.
    public var usage: [Int]

    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Builds the union over `members` (each with `op` in every cell) and checks that a shared
    /// name always has one shape.
    public init(members: [Topology], settings: NetworkSettings, levels: Int, op: CellOp = .coarseDefault) throws {
        var index: [String: Int] = [:]
        var params: [ParameterSpec] = []
        var usage: [Int] = []
        for t in members {
            let arch = settings.architecture(name: "supernet-member", topology: t,
                                             ops: Array(repeating: op, count: t.cellCount), levels: levels)
            for p in try NetworkGraph(arch).sharedParameters {
                if let i = index[p.name] {
                    guard params[i].shape == p.shape else {
                        throw GraphError(name: p.name, message: "shared weight has shapes \(params[i].shape) and \(p.shape) in different members")
                    }
                    usage[i] += 1
                } else {
                    index[p.name] = params.count
                    params.append(p)
                    usage.append(1)
                }
            }
        }
        self.parameters = params
        self.usage = usage
    }
}
