import NN

/// A `NetworkGraph` executed on the NN engine. Blocks run in order: merge the inputs (one as is,
/// several summed or concatenated), then the block's layers. Parameters come from a store under
/// the layers' stand-alone names or, for a coarse-stage supernet path, their shared names.
///
/// In the fine stage (`mixedOps: true`) every cell-op block becomes a mixed op: each candidate
/// op runs on the block's input and the outputs are summed with weights softmax(α_cell), one α
/// vector per cell (`alpha.cells.<i>`, over `CellOp.allCases`).
public final class GraphNetwork: Module {
    public enum Naming: Sendable { case standalone, shared }

    public let graph: NetworkGraph
    public let store: ParameterStore
    public let naming: Naming
    public let mixedOps: Bool
    /// Trainable weights this network uses, in execution order.
    public let parameters: [Parameter]
    /// Architecture logits, one vector per cell (fine stage only).
    public let alphas: [Parameter]

    public static let opSet: [CellOp] = CellOp.allCases

    public init(graph: NetworkGraph, store: ParameterStore, naming: Naming = .standalone, mixedOps: Bool = false) {
        self.graph = graph
        self.store = store
        self.naming = naming
        self.mixedOps = mixedOps
        var params: [Parameter] = []
        var seen = Set<String>()
        func use(_ specs: [ParameterSpec]) {
            for s in specs where seen.insert(s.name).inserted { params.append(store.parameter(s)) }
        }
        for block in graph.blocks {
            for layer in Self.layers(of: block, mixed: mixedOps) {
                use(naming == .shared ? layer.sharedParameters : layer.parameters)
            }
        }
        parameters = params
        if mixedOps {
            let k = Self.opSet.count
            alphas = (0..<graph.architecture.topology.levels.count).map { cell in
                store.parameter(named: "alpha.cells.\(cell)") {
                    // Near uniform with a little symmetry breaking (DARTS uses 1e-3·N(0,1)).
                    var rng = RNG(seed: store.seed, stream: ParameterStore.hash("alpha.cells.\(cell)"))
                    return Tensor.randomNormal([k], std: 1e-3, rng: &rng)
                }
            }
        } else {
            alphas = []
        }
    }

    /// The layers a block runs: its own, or, for a mixed op, every candidate op's under
    /// `<block>.<op>` names (kept apart so each op has its own weights).
    static func layers(of block: GraphBlock, mixed: Bool) -> [GraphLayer] {
        guard mixed, block.role == .cellOp else { return block.layers }
        return opSet.flatMap { opLayers($0, block) }
    }

    static func opLayers(_ op: CellOp, _ block: GraphBlock) -> [GraphLayer] {
        op.layers(channels: block.outChannels, level: block.level,
                  prefix: "\(block.name).\(op.rawValue)", sharedPrefix: "\(block.sharedName).\(op.rawValue)")
    }

    /// softmax(α) of every cell, as plain numbers (for display and derivation).
    public var opProbabilities: [[Double]] {
        alphas.map { a in
            let v = a.value.scalars.map(Double.init)
            let m = v.max() ?? 0
            let e = v.map { Foundation.exp($0 - m) }
            let z = e.reduce(0, +)
            return e.map { $0 / z }
        }
    }

    /// The op of every cell with the largest softmax(α) (ties go to the earlier op of `opSet`: 2D, 3D, P3D).
    public var derivedOps: [CellOp] {
        opProbabilities.map { p in Self.opSet[p.indices.max { p[$0] < p[$1] || (p[$0] == p[$1] && $0 > $1) }!] }
    }

    /// Logits (N, K, D, H, W) for an input (N, C, D, H, W).
    public func callAsFunction(_ x: Variable) -> Variable {
        var outputs = [Variable?](repeating: nil, count: graph.blocks.count)
        var cellWeights: [Int: Variable] = [:]
        for block in graph.blocks {
            let ins = block.inputs.isEmpty ? [x] : block.inputs.map { outputs[$0]! }
            var h: Variable
            switch block.merge {
            case .single: h = ins[0]
            case .sum: h = addAll(ins)
            case .concat: h = concatChannels(ins)
            }
            if mixedOps && block.role == .cellOp, let cell = block.cell {
                let w = cellWeights[cell] ?? softmax(alphas[cell])
                cellWeights[cell] = w
                let branches = Self.opSet.map { run(Self.opLayers($0, block), h) }
                h = weightedSum(branches, weights: w)
            } else {
                h = run(block.layers, h)
            }
            outputs[block.id] = h
        }
        return outputs[graph.headBlock]!
    }

    private func run(_ layers: [GraphLayer], _ input: Variable) -> Variable {
        var h = input
        for layer in layers {
            let prefix = naming == .shared ? layer.sharedName : layer.name
            switch layer.kind {
            case .conv:
                let w = store.parameter(ParameterSpec(name: prefix + ".weight",
                    shape: [layer.outChannels, layer.inChannels, layer.kernel.d, layer.kernel.h, layer.kernel.w],
                    role: .convWeight))
                let b = layer.bias ? store.parameter(ParameterSpec(name: prefix + ".bias", shape: [layer.outChannels], role: .convBias)) : nil
                h = conv3d(h, weight: w, bias: b, stride: Stride3D(layer.stride))
            case .instanceNorm:
                let g = store.parameter(ParameterSpec(name: prefix + ".weight", shape: [layer.outChannels], role: .normScale))
                let b = store.parameter(ParameterSpec(name: prefix + ".bias", shape: [layer.outChannels], role: .normShift))
                h = instanceNorm(h, weight: g, bias: b)
            case .relu:
                h = relu(h)
            case .upsample:
                h = upsampleTrilinear2x(h)
            }
        }
        return h
    }
}

import Foundation
import Tensor
