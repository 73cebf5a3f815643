import Foundation
import Engine

/// One workbench session: starts (or resumes) a run on the engine thread, or follows a run that
/// another process writes (`attach`), and drives the terminal UI on the main thread until the
/// user quits. Quitting asks the engine to checkpoint and stop, then waits for it.
@MainActor
public final class WorkbenchSession {
    public enum Source { case run(SearchEngine), attach(RunDirectory) }

    let source: Source
    let datasetFolder: URL
    let levels: Int
    let themes: [Theme]
    /// `--graphics`: how slices are drawn.
    public var graphics: GraphicsChoice = .auto
    let mailbox = Mailbox<EventRecord>()
    let outcome = OutcomeCell()
    var state = Engine.RunState()
    var browser: CaseBrowser
    var caseIndex = 0
    var lastTick = 0.0
    var follower: EventFollower?

    public init(engineFor datasetFolder: URL, directory: RunDirectory, config: RunConfig, themes: [Theme]) {
        let box = mailbox
        self.source = .run(SearchEngine(datasetFolder: datasetFolder, directory: directory, config: config) { box.post($0) })
        self.datasetFolder = datasetFolder
        self.levels = config.levels
        self.themes = themes
        self.browser = CaseBrowser(datasetFolder: datasetFolder)
    }

    public init(attach directory: RunDirectory, datasetFolder: URL, levels: Int, themes: [Theme]) {
        self.source = .attach(directory)
        self.datasetFolder = datasetFolder
        self.levels = levels
        self.themes = themes
        self.browser = CaseBrowser(datasetFolder: datasetFolder)
        follower = EventFollower(url: directory.events)
    }

    /// Runs the UI; returns how the run ended (nil when attached read-only).
    public func run() throws -> RunOutcome? {
        if case let .run(engine) = source {
            let cell = outcome
            Task.detached { cell.set(await engine.run()) }
        }
        let initial = WorkbenchModel()
        do {
            try TerminalDriver.run(model: initial, options: .init(themes: themes, graphics: graphics), update: { model in
                self.update(&model)
            }, onCommand: { command in
                self.handle(command)
            })
        } catch {
            if case let .run(engine) = source { engine.send(.stop); _ = outcome.wait(seconds: 60) }
            throw error
        }
        if case let .run(engine) = source {
            engine.send(.stop)
            return outcome.wait(seconds: 120)
        }
        return nil
    }

    private func update(_ model: inout WorkbenchModel) -> Bool {
        var records = mailbox.drain()
        if let follower { records += follower.poll() }
        let now = Date().timeIntervalSince1970
        let finishedRun = outcome.peek()
        // An attached run whose coarse stage is split across processes (local jobs, Slurm tasks)
        // writes its clusters' progress under clusters/<k>/: read it from the folder every 2 s.
        if case let .attach(dir) = source, now - lastStatusRead > 2 {
            lastStatusRead = now
            let status = try? RunStatus.read(dir)
            clusterLine = status?.clusterSummary
            clustersActive = status?.clusters.contains { $0.state == .started && ($0.quietSeconds ?? .infinity) < 30 } ?? false
        }
        let due = !records.isEmpty || now - lastTick > 1 || pendingCase || (finishedRun != nil && model.run.state == .running)
        guard due else { return false }
        lastTick = now
        pendingCase = false
        for r in records { state.apply(r) }
        var runState: RunActivity?
        if finishedRun == .stopped { runState = .stopped }
        if case .attach = source, !state.finished, state.failure == nil, !clustersActive, let last = state.lastWall, now - last > 30 {
            runState = .stopped  // the writing process has gone quiet
        }
        let ram: Int64? = { if case .run = source { return Int64(ProcessStats.residentBytes) }; return nil }()
        let old = model
        model = ModelAdapter.model(from: state, levels: levels, now: now, ramBytes: ram, outcome: runState, keeping: model)
        if let clusterLine { model.run.signal = [clusterLine, model.run.signal].compactMap { $0 }.joined(separator: " · ") }
        // Jump once to a case with a prediction as soon as the first one exists.
        if !jumpedToPrediction, let first = browser.firstPredicted(state.predictions) {
            jumpedToPrediction = true
            if state.predictions[browser.caseID(caseIndex) ?? ""] == nil { caseIndex = first }
        }
        let path = state.predictions[browser.caseID(caseIndex) ?? ""]
        if shown == nil || shown!.index != caseIndex || shown!.prediction != path {
            model.slices = SlicesView(caseIndex: caseIndex, caseCount: browser.count,
                                      volume: browser.load(caseIndex, predictionPath: path))
            shown = (caseIndex, path)
        }
        return model != old
    }

    var lastStatusRead = 0.0
    var clusterLine: String?
    var clustersActive = false
    var jumpedToPrediction = false
    var shown: (index: Int, prediction: String?)?

    private func handle(_ command: Command) -> DriverControl {
        switch command {
        case .selectCase(let i):
            caseIndex = i
            pendingCase = true
            return .keepRunning
        case .redraw:
            return .keepRunning
        default:
            break
        }
        guard case let .run(engine) = source else { return command == .quit ? .exit : .keepRunning }
        switch command {
        case .pause: engine.send(.pause)
        case .resume: engine.send(.resume)
        case .nextStage: engine.send(.skipStage)
        case .quit: engine.send(.stop)
        case .export(let id): engine.send(.export(candidate: id))
        case .selectCase, .redraw: break
        }
        return .keepRunning
    }

    var pendingCase = false
}

/// Follows an `events.jsonl` that another process appends to: returns the complete new lines.
final class EventFollower {
    let url: URL
    private var offset: UInt64 = 0
    private var partial = Data()
    init(url: URL) { self.url = url }

    func poll() -> [EventRecord] {
        guard let h = try? FileHandle(forReadingFrom: url) else { return [] }
        defer { try? h.close() }
        guard (try? h.seek(toOffset: offset)) != nil, let data = try? h.readToEnd(), !data.isEmpty else { return [] }
        offset += UInt64(data.count)
        partial.append(data)
        var out: [EventRecord] = []
        let decoder = JSONDecoder()
        while let nl = partial.firstIndex(of: 0x0A) {
            let line = partial[partial.startIndex..<nl]
            partial = Data(partial[(nl + 1)...])
            if let r = try? decoder.decode(EventRecord.self, from: Data(line)) { out.append(r) }
        }
        return out
    }
}
