import Testing
import Foundation
@testable import Engine

func temporaryFolder(_ tag: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("c2fnas-\(tag)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite("Run files")
struct RunFilesTests {
    @Test("atomic write replaces the file and leaves no temporary behind")
    func atomicWrite() throws {
        let dir = try temporaryFolder("atomic"); defer { try? FileManager.default.removeItem(at: dir) }
        let f = dir.appendingPathComponent("a.json")
        try AtomicFile.write("one", to: f)
        try AtomicFile.write("two", to: f)
        #expect(try String(contentsOf: f, encoding: .utf8) == "two")
        #expect(!FileManager.default.fileExists(atPath: f.path + ".tmp"))
    }

    @Test("checkpoints: save, load, prune, and a failed save keeps the previous one")
    func checkpoints() throws {
        let dir = try temporaryFolder("ckpt"); defer { try? FileManager.default.removeItem(at: dir) }
        let store = CheckpointStore(root: dir, keep: 2)
        try store.save(step: 1, files: ["state.json": Data("1".utf8)])
        try store.save(step: 2, files: ["state.json": Data("2".utf8), "w.bin": Data([1, 2, 3])])
        try store.save(step: 3, files: ["state.json": Data("3".utf8)])
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("ckpt-") }.sorted()
        #expect(names == ["ckpt-000000002", "ckpt-000000003"])
        let latest = try #require(store.latest())
        #expect(try store.load(latest)["state.json"] == Data("3".utf8))

        // A save that fails midway (a file in a folder that does not exist) must leave step 3 intact.
        #expect(throws: (any Error).self) {
            try store.save(step: 4, files: ["state.json": Data("4".utf8), "missing/x.bin": Data([9])])
        }
        #expect(store.latest()?.lastPathComponent == "ckpt-000000003")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("ckpt-000000004.tmp").path))

        // A damaged newest checkpoint (truncated file) is skipped in favour of the previous one.
        let damaged = latest.appendingPathComponent("state.json")
        try Data().write(to: damaged)
        #expect(store.latest()?.lastPathComponent == "ckpt-000000002")
    }

    @Test("events log: append, read back, survive a truncated last line")
    func eventsLog() throws {
        let dir = try temporaryFolder("events"); defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("events.jsonl")
        let records = [
            EventRecord(seq: 0, step: 0, stage: .plan, wall: 1, event: .runStarted(dataset: "T", preset: "tiny", runDirectory: "/r")),
            EventRecord(seq: 1, step: 5, stage: .coarse, wall: 2, event: .trainLoss(value: 0.5)),
        ]
        do {
            let log = try EventLog(url: url)
            for r in records { try log.append(r) }
        }
        // Simulate kill -9 in the middle of a line.
        let h = try FileHandle(forWritingTo: url); try h.seekToEnd(); h.write(Data(#"{"seq":2,"st"#.utf8)); try h.close()
        var (back, skipped) = try EventLog.read(url)
        #expect(back == records && skipped == 1)
        // Reopening ends the fragment so new records stay readable.
        let extra = EventRecord(seq: 2, step: 6, stage: .coarse, wall: 3, event: .paused(true))
        try EventLog(url: url).append(extra)
        (back, skipped) = try EventLog.read(url)
        #expect(back == records + [extra] && skipped == 1)
    }

    @Test("folding events: resume drops curve points recomputed after the checkpoint")
    func foldResume() {
        var s = RunState()
        let ev: [(Int, EngineEvent)] = [
            (0, .runStarted(dataset: "T", preset: "tiny", runDirectory: "/r")),
            (0, .stageStarted(stage: .coarse, detail: "cluster 1/4")),
            (1, .trainLoss(value: 1.0)), (2, .trainLoss(value: 0.9)), (3, .trainLoss(value: 0.8)),
            (2, .resumed(fromStep: 2)),
            (2, .trainLoss(value: 0.85)),
            (3, .paused(true)),
        ]
        for (i, (step, e)) in ev.enumerated() {
            s.apply(EventRecord(seq: i, step: step, stage: .coarse, wall: Double(i), event: e))
        }
        #expect(s.trainLoss.map(\.value) == [1.0, 0.85])
        #expect(s.paused && s.dataset == "T" && s.boundaries.count == 1)
    }
}

@Suite("Run config")
struct RunConfigTests {
    @Test("presets follow the C2FNAS.md table")
    func presets() throws {
        let tiny = try RunConfig.preset("tiny"), cpu = try RunConfig.preset("cpu"), paper = try RunConfig.preset("paper")
        func row(_ c: RunConfig) -> [Int] { [c.width] + c.patch + [c.cells, c.levels, c.clusters, c.population, c.generations] }
        // Tiny: "4 or 8 (by measurement)"; width 4 cannot learn the sample's tumour, so 8 (DECISIONS 2026-11-27).
        #expect(row(tiny) == [8, 32, 32, 32, 8, 3, 4, 8, 10])
        #expect(row(cpu) == [8, 48, 48, 48, 12, 4, 4, 8, 10])
        #expect(row(paper) == [32, 96, 96, 96, 12, 4, 8, 20, 20])
        for c in [tiny, cpu, paper] { try c.validate() }
        #expect(throws: ConfigError.unknownPreset("huge")) { try RunConfig.preset("huge") }
    }

    @Test("overrides set typed fields and name bad keys and values")
    func overrides() throws {
        var c = try RunConfig.preset("tiny")
        try c.apply(overrides: ["supernetSteps=12", "patch=16,32,32", "mirrorTTA=true", "weightLR=0.05", "seed=7"])
        #expect(c.supernetSteps == 12 && c.patch == [16, 32, 32] && c.mirrorTTA && c.weightLR == 0.05 && c.seed == 7)
        #expect(throws: ConfigError.self) { try c.apply(overrides: ["supernetStep=3"]) }
        #expect(throws: ConfigError.badValue("cells", "many", expected: "a whole number")) { try c.apply(overrides: ["cells=many"]) }
        #expect(throws: ConfigError.outOfRange("patch", "each side a multiple of 2^levels = 8, at most 512")) {
            try c.apply(overrides: ["patch=20,32,32"])
        }
        let err = #expect(throws: ConfigError.self) { try c.apply(overrides: ["nonsense=1"]) }
        #expect(err?.description.contains("unknown config field 'nonsense'") == true)
    }

    @Test("config files reject unknown fields and fill the rest from the preset")
    func files() throws {
        let dir = try temporaryFolder("cfg"); defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("good.json"), bad = dir.appendingPathComponent("bad.json")
        try Data(#"{"preset":"cpu","seed":3}"#.utf8).write(to: good)
        try Data(#"{"preset":"cpu","popluation":3}"#.utf8).write(to: bad)
        let c = try RunConfig.load(good)
        #expect(c.width == 8 && c.seed == 3)
        #expect(throws: ConfigError.self) { try RunConfig.load(bad) }
    }
}

@Suite("Process stats")
struct ProcessStatsTests {
    /// The workbench header's RAM figure: /proc/self/status pads the number with a tab and spaces.
    @Test("resident and peak memory follow a 64 MiB allocation that is touched")
    func residentMemory() {
        let before = ProcessStats.residentBytes
        #expect(before > 1 << 20)
        let count = 64 << 20
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: count)
        defer { buffer.deallocate() }
        for i in stride(from: 0, to: count, by: 4096) { buffer[i] = UInt8(truncatingIfNeeded: i >> 12) }
        let during = ProcessStats.residentBytes
        // The peak must cover the live, touched buffer. Comparing it with `during` instead is racy:
        // other suites free pages concurrently (madvise does not update the kernel's high-water
        // mark), so VmHWM read later can be a few pages below a VmRSS read earlier (CI, stop 21).
        #expect(ProcessStats.peakResidentBytes >= count)
        #expect(during >= 48 << 20)
        #expect(buffer[4096 * 7] == 7)
    }
}
