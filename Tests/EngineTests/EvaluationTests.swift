import Testing
import Foundation
@testable import Engine
import Search

@Suite("Honest evaluation: split, bootstrap, stability")
struct EvaluationTests {
    @Test("three-way split: disjoint, complete, seeded, ~20 % test; too few cases state test = val")
    func split() {
        let s = DataSplit.indices(count: 12, valFraction: 0.2, testFraction: 0.2, seed: 7)
        #expect(s.train.count == 8 && s.validation.count == 2 && s.test.count == 2 && !s.testIsValidation)
        #expect(Set(s.train + s.validation + s.test) == Set(0..<12))
        #expect(Set(s.train).isDisjoint(with: s.validation) && Set(s.train).isDisjoint(with: s.test)
                && Set(s.validation).isDisjoint(with: s.test))
        let again = DataSplit.indices(count: 12, valFraction: 0.2, testFraction: 0.2, seed: 7)
        #expect(again.train == s.train && again.test == s.test)
        let other = (0..<20).map { DataSplit.indices(count: 12, valFraction: 0.2, testFraction: 0.2, seed: UInt64($0)).test }
        #expect(Set(other).count > 1, "the seed moves the test cases")
        // The validation part is the one the two-way split used (same seed, same cases).
        let noTest = DataSplit.indices(count: 12, valFraction: 0.2, testFraction: 0, seed: 7)
        #expect(noTest.validation == s.validation && noTest.test == noTest.validation && noTest.testIsValidation)
        for n in 2..<DataSplit.minimumForTest {
            let few = DataSplit.indices(count: n, valFraction: 0.2, testFraction: 0.2, seed: 1)
            #expect(few.testIsValidation && few.test == few.validation && !few.train.isEmpty)
        }
        // Large fractions still leave a case to train on.
        let greedy = DataSplit.indices(count: 5, valFraction: 0.5, testFraction: 0.45, seed: 1)
        #expect(greedy.train.count >= 1 && greedy.test.count >= 1)
        let rule = DataSplit(train: ["a"], validation: ["b"], test: ["b"], testIsValidation: true).rule
        #expect(rule.contains("biased upwards"))
    }

    @Test("splitSeed fixes the split across run seeds; -1 follows the run's seed")
    func splitSeed() throws {
        func split(_ overrides: [String]) throws -> DataSplit {
            var c = try reducedConfig()
            try c.apply(overrides: overrides)
            return try TrainingData(folder: sampleTask, config: c).split
        }
        let a = try split(["seed=1", "splitSeed=5"]), b = try split(["seed=2", "splitSeed=5"])
        #expect(a == b)
        #expect(try split(["seed=5"]) == a)
        #expect(try split(["seed=1"]).test != a.test || (try split(["seed=2"])).test != a.test)
    }

    @Test("cross-validation folds: seeded, complete, sizes differ by at most one")
    func foldAssignment() {
        for (n, k) in [(7, 2), (10, 5), (5, 5), (11, 3)] {
            let a = SearchEngine.foldAssignment(count: n, folds: k, seed: 3)
            #expect(a.count == n && Set(a) == Set(0..<k))
            let sizes = (0..<k).map { f in a.filter { $0 == f }.count }
            #expect(sizes.max()! - sizes.min()! <= 1)
            #expect(a == SearchEngine.foldAssignment(count: n, folds: k, seed: 3))
        }
        #expect(Set((0..<10).map { SearchEngine.foldAssignment(count: 10, folds: 2, seed: UInt64($0)) }).count > 1)
    }

    @Test("bootstrap interval: hand case, exact enumeration and a numpy reference")
    func bootstrap() throws {
        // Two differences 0 and 1: resampled means are 0, ½, 1 with probability ¼, ½, ¼, so the
        // 2.5th and 97.5th percentiles are 0 and 1 exactly.
        let two = try #require(PairedBootstrap.interval(differences: [0, 1], resamples: 10_000, seed: 1))
        #expect(two.low == 0 && two.high == 1 && two.mean == 0.5)
        let same = try #require(PairedBootstrap.interval(differences: [0.2, 0.2, 0.2, 0.2, 0.2], seed: 2))
        #expect(abs(same.low - 0.2) < 1e-12 && abs(same.high - 0.2) < 1e-12)

        // Exact bootstrap of 5 values: all 5^5 equally likely resamples, enumerated here.
        let e = [0.10, -0.05, 0.02, 0.07, -0.01]
        var exact: [Double] = []
        for code in 0..<3125 {
            var c = code, s = 0.0
            for _ in 0..<5 { s += e[c % 5]; c /= 5 }
            exact.append(s / 5)
        }
        exact.sort()
        let exactLow = PairedBootstrap.percentile(sorted: exact, 0.025), exactHigh = PairedBootstrap.percentile(sorted: exact, 0.975)
        // numpy.percentile of the same enumeration: −0.02 and 0.072 (computed once with numpy 2.4).
        #expect(abs(exactLow - -0.02) < 1e-9 && abs(exactHigh - 0.072) < 1e-9)
        let mc = try #require(PairedBootstrap.interval(differences: e, resamples: 200_000, seed: 3))
        #expect(abs(mc.low - exactLow) <= 0.004 && abs(mc.high - exactHigh) <= 0.004)

        // numpy, 2,000,000 resamples (default_rng(20261201).integers, mean, percentile 2.5 / 97.5):
        // mean 0.015125, interval [−0.003, 0.033125]. The Monte Carlo error at 200,000 resamples is
        // about 0.0002 here; 0.002 is ten of those.
        let d = [0.031, -0.012, 0.054, 0.008, -0.027, 0.046, 0.019, 0.002]
        let ci = try #require(PairedBootstrap.interval(differences: d, resamples: 200_000, seed: 4))
        #expect(abs(ci.mean - 0.015125) < 1e-12)
        #expect(abs(ci.low - -0.003) <= 0.002 && abs(ci.high - 0.033125) <= 0.002)
        #expect(!ci.excludesZero)
        // Seeded: the same seed gives the same interval.
        #expect(PairedBootstrap.interval(differences: d, resamples: 10_000, seed: 4) == PairedBootstrap.interval(differences: d, resamples: 10_000, seed: 4))
    }

    @Test("a comparison pairs the cases and gives no interval below 5 test cases")
    func comparison() {
        func metrics(_ role: String, _ rows: [[Double]]) -> TestMetrics {
            let per = (0..<rows[0].count).map { k in rows.reduce(0) { $0 + $1[k] } / Double(rows.count) }
            return TestMetrics(role: role, architecture: role, params: 1, macs: 1, caseIDs: rows.indices.map { "c\($0)" },
                               dicePerCase: rows, dicePerClass: per, nsdPerClass: per, testIsValidation: false)
        }
        let a = metrics("searched", [[0.9, 0.5], [0.8, 0.4], [0.7, 0.6], [0.9, 0.2], [0.6, 0.5]])
        let b = metrics("baseline", [[0.8, 0.5], [0.8, 0.3], [0.6, 0.6], [0.9, 0.1], [0.5, 0.4]])
        let c = ModelComparison(searched: a, reference: b, note: "", resamples: 10_000, seed: 1)
        #expect(abs(c.differencePerClass[0] - 0.06) < 1e-12 && abs(c.differencePerClass[1] - 0.06) < 1e-12)
        #expect(abs(c.meanDifference - 0.06) < 1e-12)
        let i = try! #require(c.interval)
        // Per-case mean differences are 0.05, 0.05, 0.05, 0.1, 0.1: every resample mean lies in [0.05, 0.1].
        #expect(i.low >= 0.05 - 1e-12 && i.high <= 0.1 + 1e-12 && i.excludesZero)
        #expect(c.intervalPerClass?.count == 2)
        let few = ModelComparison(searched: metrics("searched", [[0.9], [0.8]]), reference: metrics("baseline", [[0.7], [0.8]]),
                                  note: "", resamples: 1000, seed: 1)
        #expect(few.interval == nil && few.summary.contains("no interval"))
    }

    @Test("budget: cluster members above maxMACs are excluded before the supernet sees them")
    func budgetFiltersMembers() async throws {
        var config = try reducedConfig()
        let settings = NetworkSettings(baseWidth: config.width, inputChannels: 1, classes: 3, patch: config.patch)
        let space = SearchSpace(cells: config.cells, levels: config.levels)
        let all = space.enumerate()
        func macs(_ t: Topology) throws -> Int {
            try NetworkGraph(settings.architecture(name: "m", topology: t, ops: [CellOp](repeating: .conv3D, count: t.cellCount),
                                                   levels: config.levels)).cost().macs
        }
        let sorted = try all.map(macs).sorted()
        let limit = sorted[sorted.count / 2]
        try config.apply(overrides: ["maxMACs=\(limit)"])
        let engine = SearchEngine(datasetFolder: sampleTask, directory: RunDirectory(url: URL(fileURLWithPath: "/nonexistent")), config: config)
        let kept = try await engine.admittedMembers(all, settings: settings)
        #expect(!kept.isEmpty && kept.count < all.count)
        for t in all { #expect(try kept.contains(t) == (macs(t) <= limit), "\(t)") }
    }

    @Test("a checkpoint of an older version (no test-metrics field) is refused with the checkpoint-mismatch message")
    func olderCheckpoint() async throws {
        let dir = try temporaryFolder("old-ckpt"); defer { try? FileManager.default.removeItem(at: dir) }
        let run = RunDirectory(url: dir)
        try run.create()
        let config = try reducedConfig()
        try AtomicFile.write(config.json(), to: run.config)
        var json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(RunProgress())) as? [String: Any])
        json["testMetrics"] = nil
        try CheckpointStore(root: run.checkpoints).save(step: 1, files: ["progress.json": JSONSerialization.data(withJSONObject: json)])
        let outcome = await SearchEngine(datasetFolder: sampleTask, directory: run, config: config).run()
        guard case let .failed(message) = outcome else { Issue.record("expected a failure, got \(outcome)"); return }
        #expect(message.contains("has no field testMetrics") && message.contains("start a new run folder"))
    }

    /// Writes a finished-looking run folder: export/architecture.json and export/evaluation.json.
    func syntheticRun(_ root: URL, _ name: String, levels: [Int], ops: [CellOp], dice: [Double]?) throws -> URL {
        let dir = root.appendingPathComponent(name)
        let export = dir.appendingPathComponent("export")
        try FileManager.default.createDirectory(at: export, withIntermediateDirectories: true)
        let arch = Architecture(name: name, topology: Topology(levels), ops: ops, baseWidth: 2, levels: 3,
                                inputChannels: 1, classes: 3, patch: [16, 16, 16], provenance: Provenance(seed: 5))
        try arch.jsonData().write(to: export.appendingPathComponent("architecture.json"))
        if let dice {
            let m = TestMetrics(role: "searched", architecture: name, params: 1, macs: 1, caseIDs: ["a"], dicePerCase: [dice],
                                dicePerClass: dice, nsdPerClass: dice, testIsValidation: false)
            let e = EvaluationSummary(split: nil, testMetrics: ["searched": m], comparisons: [:])
            try JSONEncoder().encode(e).write(to: export.appendingPathComponent("evaluation.json"))
        }
        return dir
    }

    @Test("stability of three synthetic runs: Hamming distances, agreement per cell, Dice spread")
    func stability() throws {
        let root = try temporaryFolder("stability"); defer { try? FileManager.default.removeItem(at: root) }
        let t: [CellOp] = [.conv3D, .conv3D, .conv2D, .p3D]
        let a = try syntheticRun(root, "s0", levels: [1, 2, 2, 1], ops: t, dice: [0.9, 0.5])
        let b = try syntheticRun(root, "s1", levels: [1, 2, 2, 1], ops: [.conv3D, .conv2D, .conv2D, .p3D], dice: [0.8, 0.6])
        let c = try syntheticRun(root, "s2", levels: [2, 3, 2, 1], ops: [.conv2D, .conv2D, .p3D, .p3D], dice: [0.7, 0.4])
        let report = try StabilityReport(runs: [a, b, c].map { try StabilityReport.Run.load($0) })
        #expect(report.pairwiseHamming.map { $0.distance } == [0, 2, 2])
        #expect(abs(report.meanHamming - 4.0 / 3) < 1e-12 && report.maxHamming == 2)
        let twoThirds: Double = 2.0 / 3
        let levels: [Double] = [twoThirds, twoThirds, 1, 1], ops: [Double] = [twoThirds, twoThirds, twoThirds, 1]
        #expect(report.levelAgreement == levels)
        #expect(report.opAgreement == ops)
        let mean = try #require(report.meanDice), perClass = try #require(report.dicePerClass)
        // Means over classes 0.7, 0.7, 0.55: mean 0.65, squared deviations sum to 0.015, sample sd sqrt(0.015 / 2) = 0.0866.
        #expect(abs(mean.mean - 0.65) < 1e-12 && abs(mean.sd - 0.0075.squareRoot()) < 1e-12)
        #expect(mean.min == 0.55 && mean.max == 0.7)
        #expect(abs(perClass[0].mean - 0.8) < 1e-12 && abs(perClass[0].sd - 0.1) < 1e-12)
        let text = report.text(classNames: ["liver", "tumour"])
        #expect(text.contains("mean 1.33, max 2 of 4 cells") && text.contains("liver: mean 0.8000, sd 0.1000"))
        #expect(!text.contains("different test cases"))   // all three held out case "a"

        // A run without evaluation.json: topology figures only. A run of another space: an error.
        let d = try syntheticRun(root, "s3", levels: [1, 2, 2, 1], ops: t, dice: nil)
        #expect(try StabilityReport(runs: [a, d].map { try StabilityReport.Run.load($0) }).meanDice == nil)
        let e = try syntheticRun(root, "s4", levels: [1, 2, 3, 3, 2, 1], ops: t + t.prefix(2), dice: nil)
        #expect(throws: StabilityError.self) { try StabilityReport(runs: [a, e].map { try StabilityReport.Run.load($0) }) }
        #expect(throws: RunFileError.self) { try StabilityReport.Run.load(root.appendingPathComponent("missing")) }
    }
}
