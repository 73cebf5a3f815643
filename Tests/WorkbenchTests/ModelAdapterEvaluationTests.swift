import Testing
import Foundation
import Engine
@testable import Workbench

@Suite("model adapter: Pareto front and evaluation lines")
struct ModelAdapterEvaluationTests {
    func record(_ r: EngineEvent, _ seq: Int) -> EventRecord { EventRecord(seq: seq, step: seq, stage: .coarse, wall: Double(seq), event: r) }

    @Test("candidates are marked Pareto-optimal in (Dice ↑, MACs ↓, memory ↓); split and comparison lines are built from events")
    func adapter() {
        var s = Engine.RunState()
        let cands = [
            CandidateRecord(id: "a", cluster: 0, generation: 0, levels: [1, 1], ops: [], fitness: 0.9, params: 1, macs: 10, memoryBytes: 5),
            CandidateRecord(id: "b", cluster: 0, generation: 0, levels: [1, 1], ops: [], fitness: 0.8, params: 1, macs: 5, memoryBytes: 5, latencyMs: 2.5),
            CandidateRecord(id: "c", cluster: 0, generation: 0, levels: [1, 1], ops: [], fitness: 0.7, params: 1, macs: 6, memoryBytes: 6),
        ]
        for (i, c) in cands.enumerated() { s.apply(record(.candidate(c), i)) }
        s.apply(record(.split(DataSplit(train: ["1", "2", "3"], validation: ["4"], test: ["5", "6"], testIsValidation: false)), 3))
        func metrics(_ role: String, _ d: [[Double]]) -> TestMetrics {
            TestMetrics(role: role, architecture: role, params: 1, macs: 1, caseIDs: d.indices.map { "\($0)" }, dicePerCase: d,
                        dicePerClass: [d.map { $0[0] }.reduce(0, +) / Double(d.count)], nsdPerClass: [0], testIsValidation: false)
        }
        let searched = metrics("searched", [[0.9], [0.7]]), baseline = metrics("baseline", [[0.8], [0.7]])
        s.apply(record(.testMetrics(searched), 4))
        s.apply(record(.comparison(ModelComparison(searched: searched, reference: baseline, note: "", resamples: 100, seed: 0)), 5))
        let m = ModelAdapter.model(from: s, levels: 2, now: 10, ramBytes: nil)
        #expect(m.candidates.map(\.id) == ["a", "b", "c"])
        #expect(m.candidates.map(\.paretoOptimal) == [true, true, false])   // c: worse than b in all three
        #expect(m.candidates[1].latencyMs == 2.5)
        #expect(m.evaluation.count == 3)
        #expect(m.evaluation[0].hasPrefix("3/1/2 train/val/test · test held out"))
        #expect(m.evaluation[1].hasPrefix("test Dice 0.800"))
        #expect(m.evaluation[2].hasPrefix("vs U-Net 0.750: Δ +0.050 (n<5, no CI)"))
    }
}
