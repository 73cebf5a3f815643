import Testing
@testable import Search
import Tensor

@Suite("Baseline U-Net, budget, Pareto front")
struct BaselineMatchTests {
    /// The three presets' trained networks: (cells, levels, trained width, patch) as in RunConfig.
    static let presets: [(name: String, cells: Int, levels: Int, width: Int, patch: [Int])] = [
        ("tiny", 8, 3, 8, [32, 32, 32]),
        ("cpu", 12, 4, 8, [48, 48, 48]),
        ("paper", 12, 4, 32, [96, 96, 96]),
    ]

    @Test("the generic U-Net topology is the built-in one at 4 levels and a plain U shape at 3")
    func unetTopology() throws {
        #expect(Architecture.unetTopology(levels: 4, perStage: 2) == Architecture.unetTopology)
        #expect(Architecture.unetTopology(levels: 3, perStage: 2).levels == [1, 2, 2, 3, 3, 2, 2, 1])
        #expect(Architecture.unetTopology(levels: 3, perStage: 1).levels == [2, 3, 2, 1])
        #expect(Architecture.unetTopology(levels: 2, perStage: 3).levels == [1, 1, 2, 2, 2, 1, 1])
        for l in 2...5 { for k in 1...4 {
            // Valid in the lattice space (any ±1 path back to level 1), which is what the builder accepts.
            let t = Architecture.unetTopology(levels: l, perStage: k)
            #expect(SearchSpace(cells: t.cellCount, levels: l, rule: .lattice).contains(t), "L \(l) k \(k)")
            #expect(t.levels.max() == l)
        } }
    }

    /// Every preset, topologies spread over the whole space (every `stride`-th in lexicographic order,
    /// so the all-level-1 path and the deepest paths are included) with seeded random ops: the matched
    /// U-Net's multiply-adds, counted independently from its own graph, are within ±10 %.
    @Test("MAC matching within ±10 % for the three presets (4 and 3 levels)", arguments: [0, 1, 2])
    func macMatching(preset index: Int) throws {
        let p = Self.presets[index]
        let space = SearchSpace(cells: p.cells, levels: p.levels)
        let all = space.enumerate()
        let stride = max(1, all.count / 24)
        var picked = Swift.stride(from: 0, to: all.count, by: stride).map { all[$0] }
        picked.append(all.last!)
        var rng = RNG(seed: 13, stream: UInt64(index))
        let settings = NetworkSettings(baseWidth: p.width, inputChannels: 1, classes: 3, patch: p.patch)
        for t in picked {
            let ops = (0..<p.cells).map { _ in CellOp.allCases[Int(rng.next() % UInt64(CellOp.allCases.count))] }
            let searched = settings.architecture(name: "searched", topology: t, ops: ops, levels: p.levels)
            let m = try MatchedBaseline.unet(matching: searched)
            let macs = try NetworkGraph(m.architecture).cost().macs
            let target = try NetworkGraph(searched).cost().macs
            let ratio = Double(macs) / Double(target)
            #expect(abs(ratio - 1) <= 0.10, "\(p.name) \(t): U-Net w \(m.architecture.baseWidth) ratio \(ratio)")
            #expect(m.withinTolerance && macs == m.macs)
            #expect(m.architecture.topology == Architecture.unetTopology(levels: p.levels, perStage: m.cellsPerStage))
            #expect(m.architecture.levels == p.levels && m.architecture.patch == p.patch)
            #expect(m.architecture.ops.allSatisfy { $0 == .conv3D })
            try m.architecture.validate()
        }
    }

    @Test("C2FNAS-Panc at w 8 matches the classic 2-cells-per-stage U-Net at w 8 (0.944×, as documented)")
    func pancMatchesBuiltin() throws {
        let panc = try Architecture.builtin("c2fnas-panc")
        let m = try MatchedBaseline.unet(matching: panc)
        #expect(m.architecture.topology == Architecture.unetTopology && m.architecture.baseWidth == 8 && m.cellsPerStage == 2)
        #expect(abs(m.ratio - 0.944) < 0.005)
    }

    @Test("the budget admits a cost at its limits and rejects one above, naming the limit")
    func budget() throws {
        let cost = try Architecture.builtin("c2fnas-panc").cost()
        #expect(CandidateBudget().admits(cost) && CandidateBudget().isUnlimited)
        #expect(CandidateBudget(maxMemoryMB: 0, maxMACs: 0).isUnlimited)
        #expect(CandidateBudget(maxMemoryBytes: cost.memoryBytes, maxMACs: cost.macs).admits(cost))
        let tightMACs = CandidateBudget(maxMACs: cost.macs - 1)
        #expect(!tightMACs.admits(cost) && tightMACs.rejection(cost)!.contains("maxMACs"))
        let tightMemory = CandidateBudget(maxMemoryBytes: cost.memoryBytes - 1)
        #expect(!tightMemory.admits(cost) && tightMemory.rejection(cost)!.contains("maxMemoryMB"))
        #expect(CandidateBudget(maxMemoryMB: 1.5, maxMACs: 2e9) == CandidateBudget(maxMemoryBytes: 1_572_864, maxMACs: 2_000_000_000))
    }

    @Test("Pareto front: dominated points are off, ties and trade-offs stay on")
    func pareto() {
        // (−Dice, MACs, memory): b dominates d; a, b, c trade off; e duplicates a.
        let pts: [[Double]] = [[-0.9, 10, 5], [-0.8, 5, 5], [-0.7, 4, 9], [-0.8, 6, 5], [-0.9, 10, 5]]
        #expect(ParetoFront.optimal(pts) == [true, true, true, false, true])
        #expect(ParetoFront.optimal([]) == [])
        // Against a brute-force definition on seeded random points.
        var rng = RNG(seed: 3, stream: 0)
        let rand = (0..<40).map { _ in (0..<3).map { _ in Double(rng.next() % 7) } }
        let front = ParetoFront.optimal(rand)
        for (i, p) in rand.enumerated() {
            let dominated = rand.contains { q in q != p && zip(q, p).allSatisfy { $0 <= $1 } }
            #expect(front[i] == !dominated)
        }
    }
}
