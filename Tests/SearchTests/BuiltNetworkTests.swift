import Testing
import NN
@testable import Search

/// The network builder on the built-in architectures: forward shape, parameter count against
/// independent counts, one training step; and seeding by name (issue 5, items 1 and 5).
@Suite struct BuiltNetworkTests {
    /// Scalar parameters of an architecture counted straight from C2FNAS.md ("Network skeleton",
    /// "Wiring", "Cell ops"), layer by layer, without the graph's layer lists. Only the cell
    /// inputs come from `NetworkGraph.wiring` (checked against hand-written wiring elsewhere).
    static func specParameterCount(_ a: Architecture) -> Int {
        let w = a.baseWidth, cin = a.inputChannels, k = a.classes
        func ch(_ l: Int) -> Int { w << l }
        let norm = { (c: Int) in 2 * c }                  // affine IN: scale + shift
        var n = cin * w * 27 + norm(w)                     // stem conv1 3³ C→w, IN
        n += w * 2 * w * 27 + norm(2 * w)                  // stem conv2 3³ s2 w→2w, IN
        for (i, inputs) in NetworkGraph.wiring(of: a.topology).enumerated() {
            let c = ch(a.topology.levels[i])
            for input in inputs {
                switch input.kind {
                case .prevDown: n += (c / 2) * c * 27 + norm(c)   // conv3 s2 C/2→C, IN
                case .prevKeep: n += c * c + norm(c)              // conv1 C→C, IN
                case .prevUp: n += (2 * c) * c + norm(c)          // ×2, conv1 2C→C, IN
                case .twoBack, .skip: break                       // already at the cell's level
                }
                switch a.ops[i] {                                 // each input has its own op
                case .conv2D: n += c * c * 9 + norm(c)
                case .conv3D: n += c * c * 27 + norm(c)
                case .p3D: n += c * c * 9 + c * c * 3 + norm(c)
                }
            }
            n += c * c + norm(c)                                  // fuse: conv1, IN
        }
        let before = a.topology.level(atStep: a.topology.cellCount - 1)
        if before != 1 { n += ch(before) * ch(1) + norm(ch(1)) }  // head.up: conv1 to level 1's width
        n += 2 * ch(1) * ch(1) * 27 + norm(ch(1))                 // head conv1 3³ 4w→2w, IN
        n += ch(1) * w * 27 + norm(w)                             // head conv2 3³ 2w→w, IN
        n += w * k + k                                            // classifier 1³ w→K + bias
        return n
    }

    /// The hand count reproduces the figures quoted for the built-ins at w = 8 (1.22 M and 2.00 M).
    @Test func specCountMatchesQuotedFigures() throws {
        let panc = Self.specParameterCount(try Architecture.builtin("c2fnas-panc"))
        let unet = Self.specParameterCount(try Architecture.builtin("unet"))
        #expect((1_215_000..<1_225_000).contains(panc), "C2FNAS-Panc w=8: \(panc)")
        #expect((1_995_000..<2_005_000).contains(unet), "U-Net w=8: \(unet)")
        #expect(try NetworkGraph(Architecture.builtin("c2fnas-panc")).parameterCount == panc)
    }

    static let smallArchitectures: [Architecture] = [
        try! Architecture.builtin("c2fnas-panc", baseWidth: 2, classes: 3, patch: [16, 32, 32]),
        try! Architecture.builtin("unet", baseWidth: 2, classes: 3, patch: [16, 32, 32]),
        BuildFixtures.tinyArchitecture(width: 2, classes: 3, patch: [8, 16, 16]),
    ]

    /// Forward shape, parameter counts (graph, hand count, and the weights a backward pass
    /// actually reaches), and one SGD step with Dice + CE that changes every weight.
    @Test(arguments: smallArchitectures)
    func forwardCountAndOneStep(_ arch: Architecture) throws {
        let graph = try NetworkGraph(arch)
        let store = ParameterStore(seed: 42)
        let net = GraphNetwork(graph: graph, store: store)
        let n = 2
        let x = BuildFixtures.input(n, arch.inputChannels, arch.patch, seed: 1)
        let y = BuildFixtures.labels(n, classes: arch.classes, arch.patch, seed: 2)

        #expect(net.parameterCount == graph.parameterCount)
        #expect(net.parameterCount == Self.specParameterCount(arch))
        #expect(Set(net.parameters.map(\.name)).count == net.parameters.count, "parameter names are unique")
        #expect(store.all.count == net.parameters.count, "the store holds exactly the network's weights")

        let before = BuildFixtures.snapshot(net.parameters)
        let logits = net(Variable(x))
        #expect(logits.shape == [n, arch.classes] + arch.patch)
        #expect(logits.value.scalars.allSatisfy { $0.isFinite })
        let loss = diceCELoss(logits: logits, labels: y)
        #expect(loss.item.isFinite && loss.item > 0)
        loss.backward()

        // Every weight is reached by the backward pass: their sizes add up to the count.
        let reached = store.all.filter { $0.grad != nil }
        #expect(reached.count == net.parameters.count)
        #expect(reached.reduce(0) { $0 + $1.value.count } == graph.parameterCount)
        for p in net.parameters {
            let g = try #require(p.grad, "\(p.name) has no gradient")
            #expect(g.scalars.allSatisfy { $0.isFinite }, "\(p.name): non-finite gradient")
            #expect(g.sumOfSquares() > 0, "\(p.name): zero gradient")
        }

        let sgd = SGD(parameters: net.parameters, learningRate: 0.01, momentum: 0.9)
        sgd.step()
        sgd.zeroGrad()
        for p in net.parameters {
            #expect(p.value != before[p.name]!, "\(p.name) did not change")
        }
        let after = noGrad { diceCELoss(logits: net(Variable(x)), labels: y).item }
        #expect(after.isFinite)
        // Inference (in-place norms and ReLUs, cached packed weights) computes exactly what the recorded
        // forward does.
        let recorded = net(Variable(x)).value
        let cache = PackedWeightCache()
        let inference = cache.using { noGrad { net(Variable(x)) } }.value
        #expect(inference == recorded)
        #expect(cache.using { noGrad { net(Variable(x)) } }.value == recorded)
    }

    /// Initial weights depend on (seed, name) only: two stores asked for the same parameters in
    /// opposite orders, or for a subset first, hold bit-identical tensors.
    @Test func initialisationIsKeyedByName() throws {
        let graph = try NetworkGraph(BuildFixtures.tinyArchitecture())
        let specs = graph.parameters
        let forward = ParameterStore(seed: 9), backward = ParameterStore(seed: 9), other = ParameterStore(seed: 10)
        for s in specs { _ = forward.parameter(s) }
        for s in specs.reversed() { _ = backward.parameter(s) }
        for s in specs { _ = other.parameter(s) }
        for s in specs {
            #expect(forward.byName[s.name]!.value == backward.byName[s.name]!.value, "\(s.name) depends on order")
        }
        // A different seed draws different conv weights (norms and biases are constants).
        let convs = specs.filter { $0.role == .convWeight }
        #expect(convs.allSatisfy { forward.byName[$0.name]!.value != other.byName[$0.name]!.value })

        // Networks built on fresh stores with the same seed compute bit-identical outputs, also
        // when one store first created the weights in reverse order.
        let x = BuildFixtures.input(1, 1, graph.architecture.patch, seed: 3)
        let a = noGrad { GraphNetwork(graph: graph, store: backward)(Variable(x)).value }
        let b = noGrad { GraphNetwork(graph: graph, store: ParameterStore(seed: 9))(Variable(x)).value }
        #expect(a == b)

        // The supernet's shared names follow the same rule: two supernets of one seed agree.
        let settings = NetworkSettings(baseWidth: 2, inputChannels: 1, classes: 2, patch: [8, 16, 16])
        let members = [Topology([1, 2, 2, 2, 2, 2, 1, 1]), Topology([1, 2, 3, 3, 2, 2, 1, 1])]
        let s1 = try SupernetModel(members: members, settings: settings, levels: 3, seed: 4)
        let s2 = try SupernetModel(members: members.reversed(), settings: settings, levels: 3, seed: 4)
        #expect(s1.parameters.map(\.name) == s2.parameters.map(\.name))
        #expect(zip(s1.parameters, s2.parameters).allSatisfy { $0.value == $1.value })
    }

    /// The initialisation follows the spec: He-normal conv weights (std √(2/fan-in)), zero conv
    /// bias and norm shift, unit norm scale.
    @Test func initialisationFollowsTheSpec() throws {
        let store = ParameterStore(seed: 1)
        let w = store.parameter(ParameterSpec(name: "probe.conv.weight", shape: [16, 8, 3, 3, 3], role: .convWeight))
        let fanIn = 8.0 * 27
        let mean = w.value.mean()
        let std = (w.value.sumOfSquares() / Double(w.value.count) - mean * mean).squareRoot()
        #expect(abs(mean) < 0.02)
        #expect(abs(std / (2 / fanIn).squareRoot() - 1) < 0.05, "std \(std)")
        let bias = store.parameter(ParameterSpec(name: "probe.conv.bias", shape: [4], role: .convBias))
        let scale = store.parameter(ParameterSpec(name: "probe.norm.weight", shape: [4], role: .normScale))
        let shift = store.parameter(ParameterSpec(name: "probe.norm.bias", shape: [4], role: .normShift))
        #expect(bias.value.scalars == [0, 0, 0, 0] && shift.value.scalars == [0, 0, 0, 0])
        #expect(scale.value.scalars == [1, 1, 1, 1])
        // Asking again returns the same object.
        #expect(store.parameter(ParameterSpec(name: "probe.conv.weight", shape: [16, 8, 3, 3, 3], role: .convWeight)) === w)
    }
}
