import Foundation
import Testing
@testable import Engine
import Tensor

@Suite("Random streams")
struct RandomStreamTests {
    /// One generator in the whole code base: a second one would fork the seeding, the stream
    /// derivation and the checkpoint format (issue #17).
    @Test("Sources hold exactly one RandomNumberGenerator, Tensor's RNG")
    func oneGenerator() throws {
        let files = FileManager.default.enumerator(at: repositoryRoot.appendingPathComponent("Sources"), includingPropertiesForKeys: nil)!
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
        let conformance = try Regex(#"(struct|class|enum|extension)\s+\w+[^{\n]*\bRandomNumberGenerator\b"#)
        let nextWord = try Regex(#"func\s+next\(\)\s*->\s*(UInt64|Double|UInt32)"#)
        var found: [String] = []
        for f in files {
            let text = try String(contentsOf: f, encoding: .utf8)
            let rel = f.path.replacingOccurrences(of: repositoryRoot.path + "/", with: "")
            for m in text.matches(of: conformance) { found.append("\(rel): \(text[m.range])") }
            for m in text.matches(of: nextWord) where !text.contains("RandomNumberGenerator") { found.append("\(rel): \(text[m.range])") }
        }
        #expect(found.count == 1 && found.first?.hasPrefix("Sources/Tensor/RNG.swift") == true,
                "generator types in Sources: \(found.joined(separator: "; "))")
    }

    @Test("every seed domain gives its own stream, and coordinates separate streams within a domain")
    func domainsAreDistinct() {
        var firsts = Set<UInt64>()
        for d in SeedDomain.allCases {
            for a in 0..<3 { for b in 0..<3 { var g = d.rng(7, a, b); firsts.insert(g.next()) } }
        }
        #expect(firsts.count == SeedDomain.allCases.count * 9)
        var x = SeedDomain.finalBatch.rng(7, 12), y = SeedDomain.finalBatch.rng(7, 12)
        #expect((0..<4).map { _ in x.next() } == (0..<4).map { _ in y.next() })
        #expect(SeedDomain.finalInit.seed(1) != SeedDomain.finalInit.seed(2))
    }

    @Test("a checkpoint without a format version is refused as made by an older version")
    func olderCheckpointRefused() async throws {
        let dir = try temporaryFolder("oldckpt"); defer { try? FileManager.default.removeItem(at: dir) }
        let run = RunDirectory(url: dir)
        try run.create()
        let config = try reducedConfig()
        try AtomicFile.write(config.json(), to: run.config)
        var old = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(RunProgress())) as? [String: Any])
        old["formatVersion"] = nil
        old["stage"] = "coarse"
        try CheckpointStore(root: run.checkpoints).save(step: 0, files: ["progress.json": JSONSerialization.data(withJSONObject: old)])
        let engine = SearchEngine(datasetFolder: sampleTask, directory: run, config: config) { _ in }
        let outcome = await engine.run()
        guard case let .failed(message) = outcome else { Issue.record("resumed an old checkpoint: \(outcome)"); return }
        #expect(message.contains("was made by an older version of c2fnas (run format 1; this version reads format \(RunProgress.currentFormatVersion))"), "\(message)")
        #expect(message.contains("progress.json"))
    }
}
