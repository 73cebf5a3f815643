import Foundation
import Testing
@testable import Engine
@testable import NN
import Volume
import Tensor

/// Faults outside the program: a full disk (a file-size limit, `ulimit -f`, with SIGXFSZ ignored
/// so writes fail with EFBIG like ENOSPC) and a read-only run folder. Tests run as root, for whom
/// chmod does not deny writes, so read-only means a read-only bind mount in a private mount
/// namespace (`unshare -rm`), or sysfs, where nobody may create folders.
@Suite("Faults", .serialized)
struct FaultTests {
    static let diskFull = "disk is full while writing"

    @Test("disk full while exporting keeps the previous export and says so")
    func diskFullExport() throws {
        let dir = try temporaryFolder("fullexport"); defer { try? FileManager.default.removeItem(at: dir) }
        let run = RunDirectory(url: dir.appendingPathComponent("run"))
        try FileManager.default.createDirectory(at: run.export, withIntermediateDirectories: true)
        var rng = RNG(seed: 3)
        let weights = Data((0..<200_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        for (name, data) in ["architecture.json": Data("{}".utf8), "weights.safetensors": weights,
                             "plan.json": Data("{}".utf8), "model-card.md": Data("# card".utf8)] {
            try data.write(to: run.export.appendingPathComponent(name))
        }
        let dest = dir.appendingPathComponent("model")
        #expect(try runC2FNAS(["export", run.url.path, "--out", dest.path]).status == 0)
        let before = try snapshot(dest)
        try Data("newer".utf8).write(to: run.export.appendingPathComponent("model-card.md"))
        // 64 blocks of 512 bytes: the 200 kB weights file cannot be written.
        let r = try runC2FNAS(["export", run.url.path, "--out", dest.path], shellPrefix: "trap '' XFSZ; ulimit -f 64")
        #expect(r.reason == .exit && r.status == 1)
        #expect(r.output.contains("\(Self.diskFull) \(dest.path). The previous checkpoint or export is intact"), "\(r.output)")
        #expect(try snapshot(dest) == before)
        #expect(!FileManager.default.fileExists(atPath: dest.path + ".tmp") && !FileManager.default.fileExists(atPath: dest.path + ".old"))
    }

    @Test("a stopped run: disk full at the next checkpoint and a read-only run folder leave its checkpoint intact; it then resumes and finishes")
    func stoppedRunSurvivesFaults() throws {
        let dir = try temporaryFolder("faultrun"); defer { try? FileManager.default.removeItem(at: dir) }
        let args = ["search", sampleTask.path, "--run", dir.path] + reducedOverrides.flatMap { ["--set", $0] }
            + ["--set", "checkpointEverySeconds=1000"]
        try stopAfterFirstTrainLoss(args)
        let store = CheckpointStore(root: dir.appendingPathComponent("checkpoints"))
        let ckpt = try #require(store.latest())
        let saved = try store.load(ckpt)
        let tensors = try #require(saved["tensors.safetensors"])
        let eventsSize = try Data(contentsOf: dir.appendingPathComponent("events.jsonl")).count
        // A limit below the tensor file (the next checkpoint has the same tensors) but well above the logs.
        let blocks = tensors.count / 512 - 1
        try #require(eventsSize + 16_384 < blocks * 512, "events \(eventsSize) B, tensors \(tensors.count) B")

        let full = try runC2FNAS(args, shellPrefix: "trap '' XFSZ; ulimit -f \(blocks)")
        #expect(full.reason == .exit && full.status == 1, "\(full.output)")
        #expect(full.output.contains("error: the \(Self.diskFull) \(store.root.path)/ckpt-"), "\(full.output)")
        #expect(full.output.contains("The previous checkpoint or export is intact"))
        #expect(try store.latest() == ckpt && store.load(ckpt) == saved)
        #expect(try SafeTensors.decode(tensors).tensors.isEmpty == false)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: store.root.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty, "\(leftovers)")

        if let readOnly = Self.readOnlyLauncher(for: dir) {
            let ro = try runC2FNAS(args, shellPrefix: readOnly.prefix, via: readOnly.launcher)
            #expect(ro.reason == .exit && ro.status == 1, "\(ro.output)")
            #expect(ro.output.contains("\(dir.path) is on a read-only file system or not writable. Choose a writable run folder"), "\(ro.output)")
            #expect(try store.latest() == ckpt && store.load(ckpt) == saved)
            if geteuid() != 0 { _ = chmod(dir.path, 0o755) }
        } else {
            print("read-only run folder: no way to make one here (not root and no chmod, or unshare refused); only the sysfs case runs")
        }

        let resumed = try runC2FNAS(args)
        #expect(resumed.status == 0, "\(resumed.output)")
        let (records, _) = try EventLog.read(dir.appendingPathComponent("events.jsonl"))
        let resumedFrom = records.compactMap { r -> Int? in if case let .resumed(step) = r.event { return step }; return nil }
        let progress = try JSONDecoder().decode(RunProgress.self, from: try #require(saved["progress.json"]))
        #expect(resumedFrom.last == progress.globalStep)
        #expect(records.contains { if case .finished = $0.event { return true }; return false })
    }

    @Test("a run or export folder where nobody may write (sysfs) is refused with a clear message")
    func unwritableFolder() throws {
        let target = "/sys/c2fnas-\(UUID().uuidString.prefix(8))"
        try #require(!FileManager.default.fileExists(atPath: target))
        let search = try runC2FNAS(["search", sampleTask.path, "--run", target] + reducedOverrides.flatMap { ["--set", $0] })
        #expect(search.reason == .exit && search.status == 1)
        #expect(search.output.contains("\(target) is on a read-only file system or not writable. Choose a writable run folder with --run DIR."), "\(search.output)")
        let dir = try temporaryFolder("roexport"); defer { try? FileManager.default.removeItem(at: dir) }
        let run = RunDirectory(url: dir)
        try FileManager.default.createDirectory(at: run.export, withIntermediateDirectories: true)
        for name in ["architecture.json", "weights.safetensors", "plan.json", "model-card.md"] {
            try Data("x".utf8).write(to: run.export.appendingPathComponent(name))
        }
        let export = try runC2FNAS(["export", dir.path, "--out", target + "/model"])
        #expect(export.reason == .exit && export.status == 1)
        #expect(export.output.contains("\(target) is on a read-only file system or not writable"), "\(export.output)")
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    /// How to run a command with `dir` read-only: chmod for an ordinary user; for root a
    /// read-only bind mount in a private user+mount namespace. Nil when neither is possible.
    static func readOnlyLauncher(for dir: URL) -> (prefix: String, launcher: [String])? {
        if geteuid() != 0 {
            return chmod(dir.path, 0o555) == 0 ? ("true", []) : nil
        }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        probe.arguments = ["-rm", "/bin/sh", "-c", "mount --bind '\(dir.path)' '\(dir.path)' && mount -o remount,bind,ro '\(dir.path)'"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return nil }
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else { return nil }
        return ("mount --bind '\(dir.path)' '\(dir.path)' && mount -o remount,bind,ro '\(dir.path)'", ["/usr/bin/unshare", "-rm"])
    }

    /// Runs a search until it reports training, then SIGINT: the run checkpoints and exits 0.
    func stopAfterFirstTrainLoss(_ args: [String]) throws {
        let p = Process()
        p.executableURL = try c2fnasBinary()
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let events = URL(fileURLWithPath: args[3]).appendingPathComponent("events.jsonl")
        let deadline = Date().addingTimeInterval(60)
        while p.isRunning && Date() < deadline {
            if let d = try? String(contentsOf: events, encoding: .utf8), d.contains("trainLoss") { break }
            usleep(5_000)
        }
        try #require(p.isRunning, "the run ended before it could be stopped")
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }

    func snapshot(_ folder: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            out[name] = try Data(contentsOf: folder.appendingPathComponent(name))
        }
        return out
    }
}
