import Foundation
import Testing
@testable import Engine
import Volume

/// Plans as inputs (nnU-Net's fingerprint → plans → preprocessing): `c2fnas plan` writes one, a run
/// given it uses it as written, and a dataset that changed since is refused by name.
@Suite("Plans as inputs")
struct PlanInputTests {
    func writtenPlan(_ dir: URL) throws -> (Plan, URL) {
        let url = dir.appendingPathComponent("plan.json")
        let r = try runC2FNAS(["plan", sampleTask.path, "--set", "patch=16,16,16", "--set", "batch=1", "--out", url.path])
        #expect(r.reason == .exit && r.status == 0, "\(r.output)")
        return (try TrainingData.loadPlan(url), url)
    }

    @Test("c2fnas plan writes the plan a run would make, with the fingerprint it came from")
    func planCommand() throws {
        let dir = try temporaryFolder("plancmd"); defer { try? FileManager.default.removeItem(at: dir) }
        let (plan, _) = try writtenPlan(dir)
        let config = try reducedConfig()
        let data = try TrainingData(folder: sampleTask, config: config)
        #expect(plan == data.plan)
        #expect(plan.patchSize == [16, 16, 16])
        let fp = try #require(plan.fingerprint)
        #expect(fp.cases.map(\.id) == data.fingerprint.cases.map(\.id) && !fp.cases.isEmpty)
    }

    @Test("an edited plan pins the target spacing and patch of the run")
    func editedPlanIsUsed() throws {
        let dir = try temporaryFolder("planedit"); defer { try? FileManager.default.removeItem(at: dir) }
        var (plan, url) = try writtenPlan(dir)
        plan.targetSpacing = plan.targetSpacing.map { $0 * 1.5 }
        plan.patchSize = [32, 16, 16]
        try AtomicFile.writeJSON(plan, to: url)
        let data = try TrainingData(folder: sampleTask, config: try reducedConfig(), plan: (try TrainingData.loadPlan(url), url.path))
        #expect(data.plan.targetSpacing == plan.targetSpacing && data.patchDHW == [16, 16, 32])
        let base = try TrainingData(folder: sampleTask, config: try reducedConfig())
        // Coarser spacing: fewer voxels per preprocessed case.
        #expect(data.train[0].image.shape.count < base.train[0].image.shape.count)
    }

    @Test("a dataset whose fingerprint changed since the plan is refused, naming what changed")
    func changedDatasetRefused() throws {
        let dir = try temporaryFolder("planfp"); defer { try? FileManager.default.removeItem(at: dir) }
        let (plan, url) = try writtenPlan(dir)
        var fp = try #require(plan.fingerprint)
        let first = fp.cases[0].id
        fp.cases[0].spacing[2] += 1
        fp.cases.append(FingerprintSummary.Case(id: "ghost_99", shape: [8, 8, 8], spacing: [1, 1, 1], classVoxels: [512]))
        var edited = plan
        edited.fingerprint = fp
        let e = #expect(throws: EngineError.self) {
            _ = try TrainingData(folder: sampleTask, config: try reducedConfig(), plan: (edited, url.path))
        }
        let message = e?.description ?? ""
        #expect(message.contains("the plan \(url.path) was made from another version of this dataset"), "\(message)")
        #expect(message.contains("case \(first): spacing was"), "\(message)")
        #expect(message.contains("training case(s) ghost_99 no longer in the dataset"), "\(message)")
        #expect(e.flatMap { ErrorCatalogue.id(of: $0) } == "engine.plan-mismatch")

        var badPatch = plan
        badPatch.patchSize = [20, 16, 16]
        let p = #expect(throws: EngineError.self) {
            _ = try TrainingData(folder: sampleTask, config: try reducedConfig(), plan: (badPatch, url.path))
        }
        #expect(p?.description.contains("multiples of 2^levels = 8") == true, "\(p?.description ?? "")")
        try Data(#"{"datasetName": "x"}"#.utf8).write(to: url)
        let u = #expect(throws: EngineError.self) { _ = try TrainingData.loadPlan(url) }
        #expect(u?.description.contains("cannot use the plan \(url.path): field") == true, "\(u?.description ?? "")")
    }
}
