import Testing
import Foundation
@testable import Engine
import Search

@Suite("Honest evaluation on a short real run", .serialized)
struct HonestEvaluationRunTests {
    @Test("no stage that makes a choice reads a test case; baseline and ablation are compared on the test cases")
    func testCasesStayUnseen() async throws {
        let dir = try temporaryFolder("honest"); defer { try? FileManager.default.removeItem(at: dir) }
        var config = try reducedConfig()
        // 12 cases: 5 search-train, 2 search-val, 5 test (enough for the bootstrap interval).
        try config.apply(overrides: ["testFraction=0.4", "baseline=on", "ablation=on", "bootstrapResamples=1000", "folds=2"])
        let live = LiveState()
        let engine = SearchEngine(datasetFolder: sampleTask, directory: RunDirectory(url: dir), config: config) { live.apply($0) }
        #expect(await engine.run() == .finished)
        let state = live.state
        let split = try #require(state.split)
        #expect(split.test.count == 5 && split.validation.count == 2 && split.train.count == 5 && !split.testIsValidation)

        let reads = await engine.caseReads()
        let test = Set(split.test)
        for stage in [Stage.coarse, .selection, .fine, .final, .crossValidation] {
            let seen = reads[stage.rawValue] ?? []
            #expect(seen.isDisjoint(with: test), "\(stage.rawValue) read test cases \(seen.intersection(test).sorted())")
        }
        // The recording works: the coarse stage read its training and fitness cases, evaluation the test cases.
        #expect(Set(split.validation).isSubset(of: reads["coarse"] ?? []))
        #expect(!(reads["coarse"] ?? []).isDisjoint(with: Set(split.train)))
        #expect(reads["evaluation"] == test)

        // Test metrics of the searched net and the baseline, on the same cases, with the comparison.
        let searched = try #require(state.testMetrics["searched"]), baseline = try #require(state.testMetrics["baseline"])
        #expect(searched.caseIDs == split.test && baseline.caseIDs == split.test)
        let c = try #require(state.comparisons["baseline"])
        #expect(c.interval != nil && c.intervalPerClass?.count == searched.dicePerClass.count)
        #expect(abs(c.meanDifference - (searched.meanDice - baseline.meanDice)) < 1e-12)
        // The baseline's MACs are within ±10 % of the trained searched network's.
        #expect(abs(baseline.macs / searched.macs - 1) <= 0.10, "ratio \(baseline.macs / searched.macs)")
        // The reported figure is the test Dice.
        #expect(state.finalDice == searched.meanDice)

        let export = RunDirectory(url: dir).export
        let card = try String(contentsOf: export.appendingPathComponent("model-card.md"), encoding: .utf8)
        #expect(card.contains("## Test metrics") && card.contains("Searched vs baseline U-Net") && card.contains(split.rule))
        let summary = try JSONDecoder().decode(EvaluationSummary.self, from: Data(contentsOf: export.appendingPathComponent("evaluation.json")))
        #expect(summary.comparisons["baseline"] == c && summary.split == split)
        let arch = try ModelFolder(export).architecture
        if arch.ops.contains(where: { $0 != .conv3D }) {
            #expect(state.comparisons["ablation"] != nil && card.contains("did the fine stage help"))
        }
        // Two folds over the 7 search cases, each validated on its own held-out cases.
        #expect(state.folds.map(\.fold) == [0, 1])
        #expect(Set(state.folds.flatMap(\.caseIDs)) == Set(split.train + split.validation))
        #expect(state.folds.allSatisfy { $0.dicePerClass.count == searched.dicePerClass.count })
        #expect(summary.folds == state.folds && card.contains("## Cross-validation (2 folds"))
        // Every candidate got a latency after the coarse stage.
        #expect(!state.candidates.isEmpty && state.candidates.allSatisfy { ($0.latencyMs ?? 0) > 0 })
    }
}

/// The engine, reachable from its own event callback (to stop it at a chosen event).
final class EngineBox: @unchecked Sendable {
    var engine: SearchEngine?
    var stopped = false
}

extension HonestEvaluationRunTests {
    /// A given architecture (`c2fnas train`) skips the search, so only final training, evaluation
    /// and the baseline run: the baseline stage is compared with and without an interruption.
    @Test("stopped in the middle of baseline training and resumed, the run ends like an uninterrupted one")
    func baselineResumes() async throws {
        let base = try temporaryFolder("honest-resume"); defer { try? FileManager.default.removeItem(at: base) }
        var config = try reducedConfig()
        try config.apply(overrides: ["baseline=on", "finalSteps=6"])
        let given = NetworkSettings(baseWidth: 2, inputChannels: 1, classes: 3, patch: config.patch)
            .architecture(name: "given", topology: Topology([1, 2, 2, 3, 2, 1, 1, 1]),
                          ops: [.conv2D, .conv3D, .p3D, .conv3D, .conv3D, .p3D, .conv2D, .conv3D], levels: 3)
        let straight = RunDirectory(url: base.appendingPathComponent("straight"))
        #expect(await SearchEngine(datasetFolder: sampleTask, directory: straight, config: config, fixedArchitecture: given).run() == .finished)

        let resumed = RunDirectory(url: base.appendingPathComponent("resumed"))
        let box = EngineBox()
        let first = SearchEngine(datasetFolder: sampleTask, directory: resumed, config: config, fixedArchitecture: given) { r in
            // Stop after the third baseline training step (the stop checkpoints first).
            if r.stage == .baseline, case let .progress(done, _, label) = r.event, label == "baseline training", done == 3, !box.stopped {
                box.stopped = true
                box.engine?.send(.stop)
            }
        }
        box.engine = first
        #expect(await first.run() == .stopped)
        #expect(box.stopped)
        #expect(await SearchEngine(datasetFolder: sampleTask, directory: resumed, config: config, fixedArchitecture: given).run() == .finished)

        func summary(_ d: RunDirectory) throws -> EvaluationSummary {
            try JSONDecoder().decode(EvaluationSummary.self, from: Data(contentsOf: d.export.appendingPathComponent("evaluation.json")))
        }
        let a = try summary(straight), b = try summary(resumed)
        let ca = try #require(a.comparisons["baseline"]), cb = try #require(b.comparisons["baseline"])
        for (x, y) in zip(ca.reference.dicePerClass + ca.searched.dicePerClass, cb.reference.dicePerClass + cb.searched.dicePerClass) {
            #expect(abs(x - y) <= 1e-5)
        }
        // The final network's weights survived the baseline stage's checkpoints unchanged.
        let wa = try ModelFolder(straight.export).network.stateDict()
        let wb = try ModelFolder(resumed.export).network.stateDict()
        #expect(wa.keys.sorted() == wb.keys.sorted())
        for (k, t) in wa { #expect(zip(t.scalars, wb[k]!.scalars).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(k)") }
    }
}
