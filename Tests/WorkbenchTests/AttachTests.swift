import Foundation
import Testing
import Engine
import Volume
@testable import Workbench

/// `c2fnas-tui --attach RUN` takes its config, plan and dataset from the run folder.
@Suite("attach")
struct AttachTests {
    /// A run folder whose config has `levels` 4 and whose source.json names a 2-case phantom task.
    static func makeRun() throws -> (root: URL, run: URL, dataset: URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("c2fnas-attach-\(UUID().uuidString)")
        let dataset = root.appendingPathComponent("Task07_Other")
        _ = try Phantom.writeTask(to: dataset, trainingCases: 2, testCases: 0, seed: 3)
        let run = root.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        var config = RunConfig()
        config.levels = 4
        try config.json().write(to: run.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        try JSONEncoder().encode(RunSource(datasetFolder: dataset)).write(to: run.appendingPathComponent("source.json"))
        return (root, run, dataset)
    }

    @Test("the run's own dataset and levels, not the bundled sample's")
    func ownDataset() throws {
        let (root, run, dataset) = try Self.makeRun()
        defer { try? FileManager.default.removeItem(at: root) }
        let t = try AttachTarget.resolve(run: run, datasetOverride: nil)
        #expect(t.datasetFolder.standardizedFileURL.path == dataset.standardizedFileURL.path)
        #expect(t.config.levels == 4)
        var browser = CaseBrowser(datasetFolder: t.datasetFolder)
        #expect(browser.count == 2)
        let loaded = browser.load(0, predictionPath: nil)
        let v = try #require(loaded)
        #expect(v.classNames[1] == "liver")
    }

    @Test("a moved dataset is named with the fix; --dataset finds it")
    func moved() throws {
        let (root, run, dataset) = try Self.makeRun()
        defer { try? FileManager.default.removeItem(at: root) }
        let moved = root.appendingPathComponent("elsewhere")
        try FileManager.default.moveItem(at: dataset, to: moved)
        #expect(throws: AttachError.datasetMoved(run: RunDirectory(url: run).url.path, folder: dataset.standardizedFileURL.path)) {
            try AttachTarget.resolve(run: run, datasetOverride: nil)
        }
        #expect(AttachError.datasetMoved(run: "r", folder: "f").description.contains("--dataset FOLDER"))
        #expect(try AttachTarget.resolve(run: run, datasetOverride: moved).datasetFolder == moved)
    }

    @Test("another dataset than the plan's is refused; a folder without config.json is not a run")
    func refusals() throws {
        let (root, run, dataset) = try Self.makeRun()
        defer { try? FileManager.default.removeItem(at: root) }
        try Data(#"{"datasetName": "BrainMRI"}"#.utf8).write(to: run.appendingPathComponent("plan.json"))
        #expect(throws: AttachError.self) { try AttachTarget.resolve(run: run, datasetOverride: dataset) }
        try Data(#"{"datasetName": "Phantom"}"#.utf8).write(to: run.appendingPathComponent("plan.json"))
        #expect(try AttachTarget.resolve(run: run, datasetOverride: nil).plannedDataset == "Phantom")
        #expect(throws: AttachError.notARun(root.path)) { try AttachTarget.resolve(run: root, datasetOverride: nil) }
        try FileManager.default.removeItem(at: run.appendingPathComponent("source.json"))
        #expect(throws: AttachError.datasetUnknown(run: RunDirectory(url: run).url.path)) { try AttachTarget.resolve(run: run, datasetOverride: nil) }
    }
}
