import Testing
import Foundation
@testable import Engine

/// The coarse stage split into one process per cluster (what `--executor local|slurm` runs), driven
/// in-process here: it must give the run the same result as one process, and each part must write
/// only its own files.
@Suite("Split coarse stage", .serialized)
struct SplitRunTests {
    /// Every regular file under `root` with its size and modification time.
    func files(_ root: URL) -> [String: String] {
        var out: [String: String] = [:]
        let base = root.standardizedFileURL.path
        guard let e = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey, .contentModificationDateKey, .fileSizeKey]) else { return out }
        for case let url as URL in e {
            guard let v = try? url.resourceValues(forKeys: [.isRegularFileKey, .contentModificationDateKey, .fileSizeKey]),
                  v.isRegularFile == true else { continue }
            let rel = String(url.standardizedFileURL.path.dropFirst(base.count + 1))
            out[rel] = "\(v.fileSize ?? -1) \(v.contentModificationDate?.timeIntervalSince1970 ?? 0)"
        }
        return out
    }

    func changed(_ before: [String: String], _ after: [String: String]) -> [String] {
        after.filter { before[$0.key] != $0.value }.map(\.key).sorted()
    }

    func run(_ dir: URL, _ role: EngineRole, _ config: RunConfig) async -> RunOutcome {
        await SearchEngine(datasetFolder: sampleTask, directory: RunDirectory(url: dir), config: config, role: role).run()
    }

    @Test("plan, one process per cluster, finish: same export bytes as one process; each cluster writes only clusters/k")
    func splitEqualsWhole() async throws {
        let base = try temporaryFolder("split"); defer { try? FileManager.default.removeItem(at: base) }
        let config = try reducedConfig()
        let whole = base.appendingPathComponent("whole"), split = base.appendingPathComponent("split")
        #expect(await run(whole, .whole, config) == .finished)

        #expect(await run(split, .plan, config) == .finished)
        let planned = try RunStatus.read(RunDirectory(url: split))
        #expect(planned.stage == .coarse && planned.clusterCount == 2 && planned.clustersToRun == [0, 1])
        // Finishing before the clusters are done is refused, naming them, and trains nothing.
        let early = await run(split, .finish, config)
        guard case let .failed(message) = early else { Issue.record("finish ran without the clusters' results"); return }
        #expect(message.contains("clusters 0, 1") && message.contains("c2fnas status"))
        #expect(try RunStatus.read(RunDirectory(url: split)).clustersAdopted == 0)

        for k in [1, 0] {  // out of order: each cluster depends on nothing but the plan
            let before = files(split)
            #expect(await run(split, .cluster(k), config) == .finished)
            let written = changed(before, files(split))
            #expect(!written.isEmpty)
            let foreign = written.filter { !$0.hasPrefix("clusters/\(k)/") }
            #expect(foreign.isEmpty, "cluster \(k) wrote outside clusters/\(k)/: \(foreign)")
            #expect(RunDirectory(url: split).clusterFolder(k).loadResult()?.cluster == k)
        }
        // A second process for a finished cluster only rewrites its own result.
        let before = files(split)
        #expect(await run(split, .cluster(0), config) == .finished)
        #expect(changed(before, files(split)).allSatisfy { $0.hasPrefix("clusters/0/") })

        #expect(await run(split, .finish, config) == .finished)
        let a = try Data(contentsOf: whole.appendingPathComponent("export/weights.safetensors"))
        let b = try Data(contentsOf: split.appendingPathComponent("export/weights.safetensors"))
        #expect(a == b, "the split run's weights differ from the one-process run's")
        #expect(try finalResult(whole).arch == finalResult(split).arch)
        // candidates.jsonl: the same candidates in the same order (latency is a measurement, not compared).
        func ids(_ dir: URL) throws -> [String] {
            try String(contentsOf: dir.appendingPathComponent("candidates.jsonl"), encoding: .utf8)
                .split(separator: "\n").compactMap { line in
                    (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
                }.compactMap { o in o["fitness"].map { "\(o["id"] ?? "")@\($0)" } }
        }
        #expect(try ids(whole) == ids(split))
    }

    @Test("a cluster process refuses an unplanned run, a cluster that does not exist, and a cluster already running")
    func clusterErrors() async throws {
        let base = try temporaryFolder("split-errors"); defer { try? FileManager.default.removeItem(at: base) }
        let config = try reducedConfig()
        let dir = base.appendingPathComponent("run")
        guard case let .failed(m1) = await run(dir, .cluster(0), config) else { Issue.record("ran unplanned"); return }
        #expect(m1.contains("has not been planned") && m1.contains("--stage plan"))
        #expect(await run(dir, .plan, config) == .finished)
        guard case let .failed(m2) = await run(dir, .cluster(5), config) else { Issue.record("ran cluster 5 of 2"); return }
        #expect(m2.contains("no cluster 5") && m2.contains("0 to 1"))
        // Another process holds cluster 0's lock: a second one must not write there.
        let run0 = RunDirectory(url: dir).clusterFolder(0)
        try FileManager.default.createDirectory(at: run0.url, withIntermediateDirectories: true)
        let held = try RunLock(run0.lock, holder: "test holder")
        guard case let .failed(m3) = await run(dir, .cluster(0), config) else { Issue.record("two writers of cluster 0"); return }
        #expect(m3.contains("in use by another process") && m3.contains("test holder"))
        #expect(run0.loadFailure() == nil, "the refused process wrote into the folder it does not own")
        withExtendedLifetime(held) {}
        #expect(!FileManager.default.fileExists(atPath: run0.files.checkpoints.appendingPathComponent("LATEST").path))
    }
}
