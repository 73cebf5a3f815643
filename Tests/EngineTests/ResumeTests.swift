import Testing
import Foundation
@testable import Engine

/// A reduced search on the bundled sample: every stage runs, in seconds.
let reducedOverrides = [
    "width=2", "patch=16,16,16", "clusters=2", "supernetSteps=3", "population=3", "tournament=2",
    "generations=2", "fineSteps=4", "finalSteps=4", "validateEvery=2", "batch=1", "threads=1",
    "checkpointEverySeconds=0.3", "fitnessCases=1", "fitnessOverlap=0", "overlap=0", "fitnessPatches=2",
    "audit=true", "finalistSelection=train", "finalistSteps=2", "auditTopologies=3",
]

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let sampleTask = repositoryRoot.appendingPathComponent("sample-data/Task00_Phantom")

/// The `c2fnas` binary built next to the test bundle (release or debug).
func c2fnasBinary() throws -> URL {
    let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let candidates = [here.appendingPathComponent("c2fnas"),
                      repositoryRoot.appendingPathComponent(".build/release/c2fnas"),
                      repositoryRoot.appendingPathComponent(".build/debug/c2fnas")]
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "c2fnas binary next to \(here.path)"])
    }
    return found
}

func reducedConfig() throws -> RunConfig {
    var c = try RunConfig.preset("tiny")
    try c.apply(overrides: reducedOverrides)
    return c
}

func finalResult(_ dir: URL) throws -> (arch: String, metrics: [String: Double]) {
    let arch = try String(contentsOf: dir.appendingPathComponent("export/architecture.json"), encoding: .utf8)
    let store = CheckpointStore(root: dir.appendingPathComponent("checkpoints"))
    let files = try store.load(try #require(store.latest()))
    let progress = try JSONDecoder().decode(RunProgress.self, from: try #require(files["progress.json"]))
    #expect(progress.stage == .done)
    return (arch, progress.metrics)
}

@Suite("Run control", .serialized)
struct ResumeTests {
    @Test("the events log replays into the state the live run reported")
    func replayEqualsLive() async throws {
        let dir = try temporaryFolder("replay"); defer { try? FileManager.default.removeItem(at: dir) }
        let live = LiveState()
        // Searched and trained at width 3 (no proxy).
        var config = try reducedConfig()
        try config.apply(overrides: ["width=3"])
        let engine = SearchEngine(datasetFolder: sampleTask, directory: RunDirectory(url: dir), config: config) {
            live.apply($0)
        }
        let outcome = await engine.run()
        #expect(outcome == .finished)
        var replayed = RunState()
        let (records, skipped) = try EventLog.read(RunDirectory(url: dir).events)
        for r in records { replayed.apply(r) }
        #expect(skipped == 0)
        let state = live.state
        #expect(replayed == state)
        #expect(state.finished && state.stage == .done)
        #expect(!state.candidates.isEmpty && !state.trainLoss.isEmpty && state.finalDice != nil)
        #expect(state.exports.last == RunDirectory(url: dir).export.path)
        // The export holds the searched width, and its weights load into it (shapes checked on load).
        let model = try ModelFolder(RunDirectory(url: dir).export)
        #expect(model.architecture.baseWidth == 3)
    }

    @Test("kill -9 at random points, resumed each time, ends like an uninterrupted run")
    func killAndResume() throws {
        let binary = try c2fnasBinary()
        let base = try temporaryFolder("kill"); defer { try? FileManager.default.removeItem(at: base) }
        /// Runs the search; with `killAtLine`, kills it with SIGKILL once its events log has that many lines.
        func run(_ dir: URL, killAtLine: Int? = nil) throws -> Int32? {
            let p = Process()
            p.executableURL = binary
            p.arguments = ["search", sampleTask.path, "--run", dir.path] + reducedOverrides.flatMap { ["--set", $0] }
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            if let killAtLine {
                let events = dir.appendingPathComponent("events.jsonl")
                while p.isRunning {
                    let lines = ((try? Data(contentsOf: events)) ?? Data()).reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
                    if lines >= killAtLine { kill(p.processIdentifier, SIGKILL); p.waitUntilExit(); return nil }
                    usleep(2_000)
                }
            }
            p.waitUntilExit()
            return p.terminationStatus
        }
        let straight = base.appendingPathComponent("straight"), killed = base.appendingPathComponent("killed")
        #expect(try run(straight) == 0)
        let total = try EventLog.read(straight.appendingPathComponent("events.jsonl")).records.count
        // Ten kill points spread over the whole run (event counts grow by a resume's own lines too).
        var rng = SystemRandomNumberGenerator()
        let points = (0..<10).map { i in total * i / 10 + Int.random(in: 1...max(1, total / 10), using: &rng) }
        var kills = 0
        for point in points where try run(killed, killAtLine: point) == nil { kills += 1 }
        #expect(kills == 10, "every kill point lands before the run ends (\(kills) of 10)")
        #expect(try run(killed) == 0)
        let a = try finalResult(straight), b = try finalResult(killed)
        #expect(a.arch == b.arch)
        #expect(a.metrics.keys.sorted() == b.metrics.keys.sorted())
        for (k, v) in a.metrics { #expect(abs(v - (b.metrics[k] ?? .nan)) <= 1e-5, "\(k)") }
    }
    @Test("SIGINT and SIGTERM checkpoint, then exit 0", arguments: [SIGINT, SIGTERM])
    func signalStops(sig: Int32) throws {
        let binary = try c2fnasBinary()
        let dir = try temporaryFolder("signal"); defer { try? FileManager.default.removeItem(at: dir) }
        let p = Process()
        p.executableURL = binary
        p.arguments = ["search", sampleTask.path, "--run", dir.path] + reducedOverrides.flatMap { ["--set", $0] }
            + ["--set", "checkpointEverySeconds=1000"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let events = dir.appendingPathComponent("events.jsonl")
        // Wait until training has started (a train-loss event), then signal.
        let deadline = Date().addingTimeInterval(60)
        while p.isRunning && Date() < deadline {
            if let d = try? String(contentsOf: events, encoding: .utf8), d.contains("trainLoss") { break }
            usleep(5_000)
        }
        try #require(p.isRunning, "the run ended before it could be signalled")
        kill(p.processIdentifier, sig)
        p.waitUntilExit()
        #expect(p.terminationReason == .exit && p.terminationStatus == 0)
        let (records, _) = try EventLog.read(events)
        let last = try #require(records.last(where: { if case .checkpointed = $0.event { return true }; return false }))
        #expect(last.step > 0, "the stop checkpoint holds the training done so far")
        let store = CheckpointStore(root: dir.appendingPathComponent("checkpoints"))
        let files = try store.load(try #require(store.latest()))
        let progress = try JSONDecoder().decode(RunProgress.self, from: try #require(files["progress.json"]))
        #expect(progress.globalStep == last.step && progress.stage != .done)
    }
}


final class LiveState: @unchecked Sendable {
    private let lock = NSLock()
    private var s = RunState()
    func apply(_ r: EventRecord) { lock.lock(); s.apply(r); lock.unlock() }
    var state: RunState { lock.lock(); defer { lock.unlock() }; return s }
}
