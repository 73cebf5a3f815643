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

    /// Off only in tests, to compare against every block running its own ReLU and no fused norm.
    var shareReLUs = true
    /// Per block: its input goes through a ReLU first (every candidate op's, in a mixed op).
    private let readsReLU: [Bool]
    /// Per block: it ends in an instance norm whose output only ReLUs read, so the two run fused.
    private let writesReLU: [Bool]

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
        let reads = graph.blocks.map { block in
            block.merge == .single && Self.layers(of: block, mixed: mixedOps, candidates: true)
                .allSatisfy { $0.first?.kind == .relu }
        }
        readsReLU = reads
        writesReLU = graph.blocks.map { block in
            let consumers = graph.blocks.filter { $0.inputs.contains(block.id) }
            let mixedBlock = mixedOps && block.role == .cellOp
            return !mixedBlock && block.layers.last?.kind == .instanceNorm && !consumers.isEmpty
                && consumers.allSatisfy { reads[$0.id] }
        }
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
        layers(of: block, mixed: mixed, candidates: true).flatMap { $0 }
    }

    /// The block's layer lists: one, or one per candidate op of a mixed op.
    static func layers(of block: GraphBlock, mixed: Bool, candidates: Bool) -> [[GraphLayer]] {
        guard mixed, block.role == .cellOp, block.cell != nil else { return [block.layers] }
        return opSet.map { opLayers($0, block) }
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
    ///
    /// A block output is often read by several blocks that each start with a ReLU (a cell's output
    /// feeds the next cell's resampling and a later cell's op; in a mixed op all candidate ops start
    /// with one). That ReLU is computed once per block output and shared: the same values and
    /// gradients (the branches' gradients add up before the ReLU's backward, as they would after
    /// it), one activation kept instead of several. When only such ReLUs read a block's output and
    /// the block ends in an instance norm, the norm and the ReLU run as one op (`instanceNormReLU`)
    /// and the unrectified output is never stored.
    public func callAsFunction(_ x: Variable) -> Variable {
        var outputs = [Variable?](repeating: nil, count: graph.blocks.count)
        var rectified: [Int: Variable] = [:]      // relu(block output), by block id (-1: the input)
        var cellWeights: [Int: Variable] = [:]
        for block in graph.blocks {
            let ins = block.inputs.isEmpty ? [x] : block.inputs.map { outputs[$0]! }
            let mixed = mixedOps && block.role == .cellOp && block.cell != nil
            let candidates = Self.layers(of: block, mixed: mixedOps, candidates: true)
            let sharesReLU = shareReLUs && readsReLU[block.id]
            let fusesReLU = shareReLUs && writesReLU[block.id]
            var h: Variable
            switch block.merge {
            case .single: h = ins[0]
            case .sum: h = addAll(ins)
            case .concat: h = concatChannels(ins)
            }
            var layers = candidates
            if sharesReLU {
                let source = block.inputs.first ?? -1
                if let r = rectified[source] {
                    h = r
                } else {
                    h = relu(h)
                    rectified[source] = h
                }
                layers = candidates.map { Array($0.dropFirst()) }
            }
            if mixed, let cell = block.cell {
                let w = cellWeights[cell] ?? softmax(alphas[cell])
                cellWeights[cell] = w
                let branches = layers.map { run($0, h) }
                h = weightedSum(branches, weights: w)
            } else {
                // A sum or concat made here is this block's own tensor: inference may overwrite it.
                h = run(layers[0], h, endWithReLU: fusesReLU, freshInput: block.merge != .single && !sharesReLU)
            }
            // A fused block's output is already rectified; its readers all take it from `rectified`.
            if fusesReLU { rectified[block.id] = h }
            outputs[block.id] = h
        }
        return outputs[graph.headBlock]!
    }

    /// Runs the layers; an instance norm directly followed by a ReLU runs fused, and with
    /// `endWithReLU` so does a final instance norm (the ReLU its readers would apply).
    /// `freshInput`: nothing else reads `input`, so outside graph recording a first ReLU may overwrite it.
    private func run(_ layers: [GraphLayer], _ input: Variable, endWithReLU: Bool = false,
                     freshInput: Bool = false) -> Variable {
        var h = input
        var skipReLU = false
        for (i, layer) in layers.enumerated() {
            if skipReLU { skipReLU = false; continue }
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
                let next = i + 1 < layers.count ? layers[i + 1].kind : nil
                let rectify = shareReLUs && (next == .relu || (next == nil && endWithReLU))
                skipReLU = rectify && next == .relu
                if i > 0 && !GradMode.isEnabled {
                    // Inference: h is the previous layer's fresh output, read by nothing else.
                    h = instanceNormInPlace(h, weight: g, bias: b, rectify: rectify)
                } else if rectify {
                    h = instanceNormReLU(h, weight: g, bias: b)
                } else {
                    h = instanceNorm(h, weight: g, bias: b)
                }
            case .relu:
                h = !GradMode.isEnabled && (i > 0 || freshInput) ? reluInPlace(h) : relu(h)
            case .upsample:
                h = upsampleTrilinear2x(h)
            }
        }
        return h
    }
}

import Foundation
import Tensor
