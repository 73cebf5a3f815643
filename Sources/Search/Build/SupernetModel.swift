import NN

/// The weight-sharing supernet of one cluster: every parameter its members use, keyed by
/// (cell, level, input kind), in one store. A training step samples one member and runs only
/// that path, so memory is that of one network, never of the union.
public final class SupernetModel {
    public let layout: SupernetLayout
    public let settings: NetworkSettings
    public let levels: Int
    public let op: CellOp
    public let store: ParameterStore
    private var cache: [Topology: GraphNetwork] = [:]

    public init(members: [Topology], settings: NetworkSettings, levels: Int, op: CellOp = .coarseDefault, seed: UInt64) throws {
        layout = try SupernetLayout(members: members, settings: settings, levels: levels, op: op)
        self.settings = settings
        self.levels = levels
        self.op = op
        store = ParameterStore(seed: seed)
        for spec in layout.parameters { _ = store.parameter(spec) }
    }

    /// Every supernet parameter (sorted by name), for the optimizer and checkpoints.
    public var parameters: [Parameter] { store.all }

    /// The single-path network of `topology`, sharing this supernet's weights. Throws when the
    /// topology uses a (cell, level, input kind) node that no member has.
    public func network(for topology: Topology) throws -> GraphNetwork {
        if let n = cache[topology] { return n }
        let arch = settings.architecture(name: "supernet-path", topology: topology,
                                         ops: Array(repeating: op, count: topology.levels.count), levels: levels)
        let graph = try NetworkGraph(arch)
        // A path outside the cluster would otherwise get fresh weights created on the fly, outside
        // the optimizer's parameter list and the checkpoint, and never trained.
        for spec in graph.sharedParameters where store.byName[spec.name]?.value.shape != spec.shape {
            throw GraphError(name: spec.name, message: "topology \(topology) is not covered by this supernet: "
                + "no shared weight of shape \(spec.shape); build paths only for members of the supernet's cluster")
        }
        let net = GraphNetwork(graph: graph, store: store, naming: .shared)
        if cache.count > 64 { cache.removeAll() }
        cache[topology] = net
        return net
    }
}
