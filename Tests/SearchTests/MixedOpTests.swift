import Testing
import Foundation
import NN
@testable import Search
import Tensor

/// The fine stage's mixed ops (issue 5, item 3): one α of 3 entries per cell, the output is the
/// softmax(α)-weighted sum of the three ops, and gradients reach α.
@Suite struct MixedOpTests {
    /// 3 cells on 2 levels (keep, down, up); the up cell has two inputs (prev and skip) that
    /// share the cell's α.
    static let arch = NetworkSettings(baseWidth: 2, inputChannels: 1, classes: 2, patch: [8, 8, 8])
        .architecture(name: "mixed", topology: Topology([1, 2, 1]), ops: [.conv3D, .conv3D, .conv3D], levels: 2)

    /// Distinct, clearly non-uniform logits per cell.
    static func setAlphas(_ net: GraphNetwork) {
        let table: [[Float]] = [[0.7, -0.4, 0.2], [-0.3, 0.5, 0.1], [0.2, 0.3, -0.6]]
        for (c, a) in net.alphas.enumerated() { a.value = Tensor(shape: [3], scalars: table[c % 3]) }
    }

    /// Reference forward, written from the definitions and not through `GraphNetwork`: walk the
    /// graph's blocks, and for a cell-op block sum the three ops' outputs weighted by a softmax
    /// of the cell's α computed here in Double. Weights are looked up by the mixed-op naming
    /// `<block>.<op>.conv…` in the store (so a wrong name fails the lookup).
    static func reference(_ graph: NetworkGraph, _ store: ParameterStore, alphas: [[Float]], _ x: Tensor) throws -> Tensor {
        func weight(_ name: String) throws -> Variable { try #require(store.byName[name], "no weight \(name)") }
        func apply(_ layers: [GraphLayer], _ input: Variable) throws -> Variable {
            var h = input
            for l in layers {
                switch l.kind {
                case .relu: h = relu(h)
                case .upsample: h = upsampleTrilinear2x(h)
                case .instanceNorm: h = instanceNorm(h, weight: try weight(l.name + ".weight"), bias: try weight(l.name + ".bias"))
                case .conv:
                    h = conv3d(h, weight: try weight(l.name + ".weight"), bias: l.bias ? try weight(l.name + ".bias") : nil,
                               stride: Stride3D(l.stride))
                }
            }
            return h
        }
        var out: [Int: Variable] = [:]
        for block in graph.blocks {
            let ins = block.inputs.isEmpty ? [Variable(x)] : block.inputs.map { out[$0]! }
            var h = ins[0]
            if block.merge == .sum { for v in ins.dropFirst() { h = h + v } }
            if block.merge == .concat { h = concatChannels(ins) }
            if block.role == .cellOp, let cell = block.cell {
                let a = alphas[cell].map(Double.init)
                let e = a.map { Foundation.exp($0 - a.max()!) }
                let p = e.map { $0 / e.reduce(0, +) }
                var mixed = Tensor.zeros([1])
                for (k, op) in CellOp.allCases.enumerated() {
                    let layers = op.layers(channels: block.outChannels, level: block.level,
                                           prefix: "\(block.name).\(op.rawValue)", sharedPrefix: "")
                    let y = try apply(layers, h).value
                    if k == 0 { mixed = Tensor.zeros(y.shape) }
                    mixed.add(y, scaledBy: Float(p[k]))
                }
                h = Variable(mixed)
            } else {
                h = try apply(block.layers, h)
            }
            out[block.id] = h
        }
        return out[graph.headBlock]!.value
    }

    @Test func alphasAndProbabilities() throws {
        let net = GraphNetwork(graph: try NetworkGraph(Self.arch), store: ParameterStore(seed: 3), mixedOps: true)
        #expect(net.alphas.count == 3)
        #expect(net.alphas.allSatisfy { $0.shape == [3] })
        #expect(net.alphas.map(\.name) == ["alpha.cells.0", "alpha.cells.1", "alpha.cells.2"])
        // Near uniform at the start (symmetry broken at the 1e-3 scale).
        #expect(net.opProbabilities.allSatisfy { $0.allSatisfy { abs($0 - 1.0 / 3) < 0.01 } })
        Self.setAlphas(net)
        for p in net.opProbabilities {
            #expect(p.count == 3)
            #expect(abs(p.reduce(0, +) - 1) < 1e-12)
        }
        #expect(net.derivedOps == [.conv2D, .conv3D, .conv3D])
        // Ties go to the earlier op of `opSet` (2D, 3D, P3D).
        for a in net.alphas { a.value = Tensor(shape: [3], scalars: [0, 1, 1]) }
        #expect(net.derivedOps == [.conv3D, .conv3D, .conv3D])
        // Architecture logits are not weights: the weight optimiser never sees them.
        let weights = Set(net.parameters.map(\.name))
        #expect(net.alphas.allSatisfy { !weights.contains($0.name) })
        // Each op of each cell input has its own weights: the three ops' counts add up.
        let graph = net.graph
        var expected = 0
        for block in graph.blocks {
            if block.role == .cellOp {
                for op in CellOp.allCases {
                    expected += op.layers(channels: block.outChannels, level: block.level, prefix: "p", sharedPrefix: "s")
                        .reduce(0) { $0 + $1.parameterCount }
                }
            } else {
                expected += block.layers.reduce(0) { $0 + $1.parameterCount }
            }
        }
        #expect(net.parameterCount == expected)
    }

    /// Output = the reference's Σ softmax(α)_k · op_k at every cell input.
    @Test func outputIsTheSoftmaxWeightedSumOfTheOps() throws {
        let graph = try NetworkGraph(Self.arch)
        let store = ParameterStore(seed: 8)
        let net = GraphNetwork(graph: graph, store: store, mixedOps: true)
        Self.setAlphas(net)
        let x = BuildFixtures.input(1, 1, Self.arch.patch, seed: 4)
        let got = noGrad { net(Variable(x)).value }
        let want = try noGrad { try Self.reference(graph, store, alphas: net.alphas.map(\.value.scalars), x) }
        let scaleOfOutput = want.scalars.map(abs).max()!
        #expect(got.maxAbsDifference(want) <= 1e-5 * max(1, scaleOfOutput), "diff \(got.maxAbsDifference(want))")
    }

    /// With α one-hot (logit 40 on op k, others 0, so the others weigh e^-40), the mixed net is the
    /// stand-alone net with op k in every cell whose weights are the mixed net's op-k weights.
    @Test(arguments: CellOp.allCases)
    func oneHotAlphaIsTheSingleOpNetwork(_ op: CellOp) throws {
        let mixedGraph = try NetworkGraph(Self.arch)
        let store = ParameterStore(seed: 12)
        let mixed = GraphNetwork(graph: mixedGraph, store: store, mixedOps: true)
        let k = CellOp.allCases.firstIndex(of: op)!
        for a in mixed.alphas { a.value = Tensor(shape: [3], scalars: (0..<3).map { $0 == k ? 40 : 0 }) }

        let single = try NetworkGraph(Self.arch.with(topology: Self.arch.topology, ops: [op, op, op]))
        let alias = ParameterStore(seed: 999)   // another seed: every value must come from `store`
        var aliased = 0
        for block in single.blocks {
            for spec in block.layers.flatMap(\.parameters) {
                var source = spec.name
                if block.role == .cellOp {
                    source = block.name + "." + op.rawValue + spec.name.dropFirst(block.name.count)
                }
                let value = try #require(store.byName[source], "no mixed weight \(source)").value
                _ = alias.parameter(named: spec.name) { value }
                aliased += 1
            }
        }
        #expect(aliased == single.parameters.count)
        let x = BuildFixtures.input(1, 1, Self.arch.patch, seed: 5)
        let want = noGrad { GraphNetwork(graph: single, store: alias)(Variable(x)).value }
        let got = noGrad { mixed(Variable(x)).value }
        #expect(got.maxAbsDifference(want) < 1e-5, "\(op): diff \(got.maxAbsDifference(want))")
    }

    /// Sharing one ReLU between the blocks that read the same output (and between a mixed op's
    /// candidates) gives the loss and every gradient of the network in which each block runs its
    /// own ReLU: the branch gradients add up before the ReLU's backward instead of after it.
    @Test(arguments: [false, true])
    func sharedReLUGivesTheSameLossAndGradients(_ mixedOps: Bool) throws {
        let graph = try NetworkGraph(BuildFixtures.tinyArchitecture(width: 2, classes: 3, patch: [16, 16, 16]))
        let x = BuildFixtures.input(1, 1, [16, 16, 16], seed: 31)
        let labels = BuildFixtures.labels(1, classes: 3, [16, 16, 16], seed: 32)
        func run(shared: Bool) -> (loss: Float, grads: [String: Tensor]) {
            let net = GraphNetwork(graph: graph, store: ParameterStore(seed: 33), mixedOps: mixedOps)
            net.shareReLUs = shared
            let loss = diceCELoss(logits: net(Variable(x)), labels: labels)
            loss.backward()
            var grads: [String: Tensor] = [:]
            for p in net.parameters + net.alphas { grads[p.name] = p.grad }
            return (loss.item, grads)
        }
        let a = run(shared: true), b = run(shared: false)
        #expect(a.loss == b.loss)
        #expect(a.grads.count == b.grads.count && !a.grads.isEmpty)
        for (name, g) in b.grads {
            let mine = try #require(a.grads[name], "\(name) has no gradient with the shared ReLU")
            // Float32 sums in another order, through ~30 layers (measured: up to 6e-5 of the tensor's
            // largest entry); a wiring error would show as O(1).
            let scale = max(1e-3, g.scalars.map(abs).max()!)
            #expect(mine.maxAbsDifference(g) <= 1e-3 * scale, "\(name): diff \(mine.maxAbsDifference(g)) of \(scale)")
        }
    }

    /// ∂L/∂α by autodiff against a central finite difference, for every entry of every cell.
    /// L = Σ r ⊙ logits with a fixed random r. The net is only piecewise smooth (ReLU kinks, and
    /// instance norms over 8 voxels at level 2 of an 8³ input), so a large step crosses kinks and
    /// a tiny one drowns in Float32 rounding; h = 1e-3 balances the two (measured: h = 1e-2 gives
    /// errors up to 60 %, h = 1e-3 under 1 %). Errors are relative to the cell's largest |∂L/∂α|.
    @Test func gradientsReachAlpha() throws {
        let graph = try NetworkGraph(Self.arch)
        let net = GraphNetwork(graph: graph, store: ParameterStore(seed: 21), mixedOps: true)
        Self.setAlphas(net)
        let x = BuildFixtures.input(1, 1, Self.arch.patch, seed: 6)
        let r = Variable(BuildFixtures.input(1, 2, Self.arch.patch, seed: 7))
        func loss() -> Variable { sum(multiply(net(Variable(x)), r)) }
        loss().backward()
        let grads = try net.alphas.map { try #require($0.grad, "\($0.name) has no gradient").scalars }
        net.zeroGrad()
        for a in net.alphas { a.grad = nil }
        let h: Float = 1e-3
        var worst = 0.0
        for (c, a) in net.alphas.enumerated() {
            let scale = Double(grads[c].map(abs).max()!)
            #expect(scale > 0.1, "cell \(c): α gradient vanishes")
            for j in 0..<3 {
                let saved = a.value
                a.value[flat: j] = saved[flat: j] + h
                let up = noGrad { Double(loss().item) }
                a.value[flat: j] = saved[flat: j] - h
                let down = noGrad { Double(loss().item) }
                a.value = saved
                let fd = (up - down) / Double(2 * h)
                let ad = Double(grads[c][j])
                let err = abs(fd - ad) / scale
                worst = max(worst, err)
                #expect(err < 2e-2, "cell \(c) entry \(j): autodiff \(ad) vs finite difference \(fd)")
            }
            // The entries of one cell's gradient sum to zero (softmax is shift invariant).
            #expect(abs(Double(grads[c].reduce(0, +))) <= 1e-4 * scale)
        }
        print("mixed-op α gradient check: worst error \(worst) of the cell's gradient scale")
    }

    /// The α step with frozen weights (`Parameter.withFrozen`): the same α gradient, bit for bit,
    /// and no weight gradient (the convs were asked for no dW: `needWeight` is the weight's requiresGrad).
    @Test func frozenWeightsGiveTheSameAlphaGradient() throws {
        let graph = try NetworkGraph(Self.arch)
        let net = GraphNetwork(graph: graph, store: ParameterStore(seed: 21), mixedOps: true)
        Self.setAlphas(net)
        let x = BuildFixtures.input(1, 1, Self.arch.patch, seed: 6)
        let labels = BuildFixtures.labels(1, classes: 2, Self.arch.patch, seed: 8)
        func alphaGrads(frozen: Bool) throws -> [[Float]] {
            if frozen {
                Parameter.withFrozen(net.parameters) { diceCELoss(logits: net(Variable(x)), labels: labels).backward() }
            } else {
                diceCELoss(logits: net(Variable(x)), labels: labels).backward()
            }
            let g = try net.alphas.map { try #require($0.grad, "\($0.name) has no gradient").scalars }
            if frozen { #expect(net.parameters.allSatisfy { $0.grad == nil }, "a frozen weight got a gradient") }
            #expect(net.parameters.allSatisfy { $0.requiresGrad }, "weights are trainable again after withFrozen")
            net.zeroGrad()
            for a in net.alphas { a.grad = nil }
            return g
        }
        let full = try alphaGrads(frozen: false), frozen = try alphaGrads(frozen: true)
        #expect(full == frozen)
    }
}
