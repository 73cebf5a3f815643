import Testing
import Foundation
import Search
@testable import Engine

@Suite("Candidate export")
struct CandidateExportTests {
    @Test("a scored candidate exports from the run folder alone: its architecture, the run's plan, a card, no weights")
    func exportFromRunFolder() async throws {
        let dir = try temporaryFolder("candexport"); defer { try? FileManager.default.removeItem(at: dir) }
        var config = try reducedConfig()
        try config.apply(overrides: ["audit=false", "finalistSelection=fitness", "finalSteps=1", "baseline=off"])
        let run = RunDirectory(url: dir)
        #expect(await SearchEngine(datasetFolder: sampleTask, directory: run, config: config).run() == .finished)
        let lines = try String(contentsOf: run.candidates, encoding: .utf8).split(separator: "\n")
        let record = try JSONDecoder().decode(CandidateRecord.self, from: Data(try #require(lines.last).utf8))
        let out = dir.appendingPathComponent("exported")
        try CandidateExport.write(candidate: record.id, run: run, to: out)
        let arch = try Architecture.decode(from: Data(contentsOf: out.appendingPathComponent("architecture.json")), source: "test")
        #expect(arch.topology.levels == record.levels)
        #expect(arch.ops.map(\.rawValue) == record.ops)
        #expect(arch.baseWidth == config.width)
        #expect(try Data(contentsOf: out.appendingPathComponent("plan.json")) == Data(contentsOf: run.plan))
        let card = try String(contentsOf: out.appendingPathComponent("model-card.md"), encoding: .utf8)
        #expect(card.contains(String(format: "%.4f", record.fitness)))
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("weights.safetensors").path))
        #expect(throws: RunFileError.self) { try CandidateExport.write(candidate: "k9-nope", run: run, to: out) }
    }
}
