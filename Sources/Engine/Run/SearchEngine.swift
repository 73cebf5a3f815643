import Foundation
import NN
import Search
import Volume
import Tensor

/// What the UI or CLI may ask of a running engine.
public enum EngineCommand: Sendable, Equatable {
    case pause, resume, skipStage, stop
    /// Export a scored candidate (by id) or, with nil, the final model.
    case export(candidate: String?)
}

/// How a run ended.
public enum RunOutcome: Sendable, Equatable {
    case finished, stopped, failed(String)
}

/// Thrown inside a stage when the run was asked to stop; the stage checkpoints first.
struct StopRequested: Error {}

/// Thrown when a planning or cluster process has done its part of the run (see `EngineRole`).
struct PartDone: Error {}

/// The engine: owns one run, executes its stages on a dedicated thread (never the cooperative
/// pool), writes every event to `events.jsonl`, checkpoints atomically and streams events to a
/// listener (the workbench or the CLI). Commands arrive from any thread through `send`.
public actor SearchEngine {
    private let executor = ThreadExecutor(name: "c2fnas-engine")
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public nonisolated let gate = PauseGate()
    nonisolated let commands = Mailbox<EngineCommand>()
    nonisolated let onEvent: @Sendable (EventRecord) -> Void

    public let datasetFolder: URL
    /// The run folder: config.json, plan.json and source.json, shared by every process of the run.
    public let directory: RunDirectory
    /// What this process does with the run (the whole run, or one part of a split coarse stage).
    public let role: EngineRole
    /// Where this process writes its events, metrics, candidates and checkpoints: the run folder, or
    /// `clusters/<k>/` for a cluster process (which writes nothing else).
    public let work: RunDirectory
    /// Held while this process writes `work` (a second writer gets a clear error).
    private var lock: RunLock?
    public private(set) var config: RunConfig
    var progress = RunProgress()
    var eventLog: EventLog?
    var data: TrainingData?
    var lastCheckpoint = Date()
    var workStart = Date()
    /// Tensors restored from a checkpoint, consumed by the stage that resumes.
    var pendingTensors: [String: Tensor]?
    var lossFailures = 0
    /// The run's fitness patches, drawn once per process.
    var fitnessSet: FitnessPatches?
    /// Running estimate of a training step's wall time (for re-planning a budget).
    var observedTrainStep: Double?
    var observedFineStep: Double?

    /// When set, the search stages are skipped and this architecture is trained (`c2fnas train`).
    let fixedArchitecture: Architecture?
    /// A plan to use instead of one made from the fingerprint (`--plan`); a resumed run reads its own plan.json.
    let planFile: URL?

    public init(datasetFolder: URL, directory: RunDirectory, config: RunConfig, fixedArchitecture: Architecture? = nil,
                planFile: URL? = nil, role: EngineRole = .whole, onEvent: @escaping @Sendable (EventRecord) -> Void = { _ in }) {
        self.role = role
        if case let .cluster(k) = role { work = directory.clusterFolder(k).files } else { work = directory }
        self.fixedArchitecture = fixedArchitecture
        self.planFile = planFile
        self.datasetFolder = datasetFolder
        self.directory = directory
        self.config = config
        self.onEvent = onEvent
    }

    public nonisolated func send(_ command: EngineCommand) {
        switch command {
        case .pause: gate.pause()
        case .resume: gate.resume()
        case .stop: gate.cancel()
        case .skipStage: gate.requestSkip()
        case .export: commands.post(command)
        }
    }

    /// Runs (or resumes) the whole search. Returns when it finishes, is stopped, or fails.
    public func run() -> RunOutcome {
        defer { lock = nil }  // the run folder is free again once run() returns, however it ends
        do {
            try open()
            Compute.setThreads(config.threads)
            while progress.stage != .done {
                try checkStop()
                if role == .plan && progress.stage > .coarse { break }  // planned long ago
                switch progress.stage {
                case .plan: try stagePlan()
                case .coarse: try stageCoarse()
                case .selection: try measureCandidateLatencies(); try stageSelection()
                case .fine: try stageFine()
                case .final: try stageFinal()
                case .evaluation: try stageEvaluation()
                case .baseline: try stageBaseline()
                case .ablation: try stageAblation()
                case .crossValidation: try stageCrossValidation()
                case .export: try stageExport()
                case .done: break
                }
            }
            emit(.finished(dice: progress.metrics["dice"]))
            return .finished
        } catch is PartDone {
            if case let .cluster(k) = role {
                do { try writeResult(cluster: k) } catch {
                    emit(.failed(message: "\(error)")); return .failed("\(error)")
                }
            }
            log("\(role) done")
            return .finished
        } catch is StopRequested {
            if case let .cluster(k) = role, lock != nil { writeFailure(cluster: k, message: "stopped by a signal (scancel, a time limit or Ctrl-C) at step \(progress.globalStep); its checkpoint is kept") }
            emit(.log(level: .info, message: "stopped at step \(progress.globalStep); run the same command again to resume"))
            return .stopped
        } catch {
            let message = "\(error)"
            // Only the process holding the cluster's lock writes there (a refused second one does not).
            if case let .cluster(k) = role, lock != nil { writeFailure(cluster: k, message: message) }
            emit(.failed(message: message))
            return .failed(message)
        }
    }

    // MARK: events

    func emit(_ event: EngineEvent) {
        let r = EventRecord(seq: progress.seq, step: progress.globalStep, stage: progress.stage,
                            wall: Date().timeIntervalSince1970, event: event)
        progress.seq += 1
        if let eventLog {
            do { try eventLog.append(r) } catch {
                onEvent(EventRecord(seq: r.seq, step: r.step, stage: r.stage, wall: r.wall,
                                    event: .log(level: .error, message: "\(error)")))
            }
        }
        onEvent(r)
    }

    func log(_ message: String, _ level: LogLevel = .info) { emit(.log(level: level, message: message)) }

    // MARK: opening and resuming

    private func open() throws {
        if case let .cluster(k) = role { return try openCluster(k) }
        try directory.create()
        lock = try RunLock(directory.lock, holder: "c2fnas (\(role))")
        let resuming = directory.exists
        if resuming {
            config = try RunConfig.load(directory.config)
        } else {
            try AtomicFile.write(config.json(), to: directory.config)
        }
        // Written on every start: a resume from a moved dataset folder records the new place.
        try AtomicFile.writeJSON(RunSource(datasetFolder: datasetFolder), to: directory.source)
        eventLog = try EventLog(url: directory.events)
        let store = CheckpointStore(root: directory.checkpoints)
        if resuming, let ckpt = store.latest() {
            try restoreCheckpoint(store, ckpt)
            truncate(directory.metrics, to: progress.metricsBytes)
            truncate(directory.candidates, to: progress.candidatesBytes)
            emit(.resumed(fromStep: progress.globalStep))
            log("resumed from \(ckpt.lastPathComponent) in stage \(progress.stage.rawValue)")
        }
        emit(.runStarted(dataset: datasetFolder.lastPathComponent, preset: config.preset.rawValue, runDirectory: directory.url.path))
        workStart = Date()
    }

    /// A cluster process: reads the run's config and plan, writes only under `clusters/<k>/`. It
    /// resumes its own checkpoint, or starts from the run's planned state with cluster k next.
    private func openCluster(_ k: Int) throws {
        guard directory.exists else { throw EngineError.notPlanned(directory.url.path) }
        config = try RunConfig.load(directory.config)
        do { try FileManager.default.createDirectory(at: work.checkpoints, withIntermediateDirectories: true) } catch {
            throw RunFileError.readOnly(work.url.path)
        }
        lock = try RunLock(directory.clusterFolder(k).lock, holder: "c2fnas (cluster \(k + 1))")
        try? FileManager.default.removeItem(at: directory.clusterFolder(k).failure)  // running again
        eventLog = try EventLog(url: work.events)
        let own = CheckpointStore(root: work.checkpoints)
        if let ckpt = own.latest() {
            try restoreCheckpoint(own, ckpt)
            truncate(work.metrics, to: progress.metricsBytes)
            truncate(work.candidates, to: progress.candidatesBytes)
            emit(.resumed(fromStep: progress.globalStep))
            log("cluster \(k + 1) resumed from \(ckpt.lastPathComponent)")
        } else {
            let runStore = CheckpointStore(root: directory.checkpoints)
            guard let ckpt = runStore.latest() else { throw EngineError.notPlanned(directory.url.path) }
            try restoreCheckpoint(runStore, ckpt)
            pendingTensors = nil
            guard progress.stage == .coarse, let clustering = progress.clustering, progress.budget != nil else {
                throw EngineError.notPlanned(directory.url.path)
            }
            guard k >= 0 && k < clustering.k else { throw EngineError.noSuchCluster(k, clusters: clustering.k) }
            // Only what cluster k's own work fills in; the counters restart so that result.json's step
            // count is the cluster's own.
            progress.cluster = k
            progress.supernetStep = 0; progress.supernetTarget = nil; progress.evolution = nil; progress.guardRounds = 0
            progress.candidates = []; progress.finalists = []; progress.signals = []
            progress.globalStep = 0; progress.seq = 0; progress.workSeconds = 0
            progress.metricsBytes = 0; progress.candidatesBytes = 0
        }
        emit(.runStarted(dataset: datasetFolder.lastPathComponent, preset: config.preset.rawValue, runDirectory: work.url.path))
        workStart = Date()
    }

    private func restoreCheckpoint(_ store: CheckpointStore, _ ckpt: URL) throws {
        let files = try store.load(ckpt)
        guard let json = files["progress.json"] else { throw RunFileError.corrupt(ckpt.path, reason: "no progress.json") }
        // Format 1 had no version field; read the version alone first so an old run gets a clear message.
        struct FormatProbe: Decodable { var formatVersion: Int? }
        let found = (try? JSONDecoder().decode(FormatProbe.self, from: json))?.formatVersion ?? 1
        guard found == RunProgress.currentFormatVersion else {
            throw EngineError.olderCheckpoint(path: ckpt.appendingPathComponent("progress.json").path, found: found,
                                              expected: RunProgress.currentFormatVersion)
        }
        do { progress = try JSONDecoder().decode(RunProgress.self, from: json) } catch let DecodingError.keyNotFound(key, _) {
            // A checkpoint of an older version lacks the fields added since (e.g. the test metrics).
            throw EngineError.checkpointMismatch("\(ckpt.path)/progress.json has no field \(key.stringValue)")
        }
        if let t = files["tensors.safetensors"] {
            pendingTensors = try SafeTensors.decode(t, file: ckpt.appendingPathComponent("tensors.safetensors").path).tensors
        }
    }

    private func truncate(_ url: URL, to size: UInt64) {
        guard let h = try? FileHandle(forWritingTo: url) else { return }
        try? h.truncate(atOffset: size)
        try? h.close()
    }

    /// Loads and preprocesses the dataset once per process (deterministic, so a resume sees the same data).
    func trainingData() throws -> TrainingData {
        if let data { data.readerStage = progress.stage.rawValue; return data }
        // The run's own plan.json wins once written (resume reads it, never recomputes it).
        let own = FileManager.default.fileExists(atPath: directory.plan.path) ? directory.plan : nil
        let plan = try (own ?? planFile).map { (plan: try TrainingData.loadPlan($0), path: $0.path) }
        let d = try TrainingData(folder: datasetFolder, config: config, plan: plan) { [self] in self.log($0, $1) }
        d.readerStage = progress.stage.rawValue
        data = d
        emit(.split(d.split))
        return d
    }

    // MARK: checkpoints and control between steps

    /// Saves progress and tensors atomically. Non-finite weights are never written.
    func checkpoint(_ tensors: [String: Tensor]) throws {
        for (name, t) in tensors where !t.scalars.allSatisfy(\.isFinite) {
            log(RunWarning.nonFiniteWeights(tensor: name).description, .warning)
            return
        }
        progress.workSeconds += Date().timeIntervalSince(workStart)
        workStart = Date()
        progress.metricsBytes = fileSize(work.metrics)
        progress.candidatesBytes = fileSize(work.candidates)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        var files = ["progress.json": try enc.encode(progress)]
        if !tensors.isEmpty { files["tensors.safetensors"] = SafeTensors.encode(tensors) }
        let url = try CheckpointStore(root: work.checkpoints).save(step: progress.seq, files: files)
        lastCheckpoint = Date()
        emit(.checkpointed(path: url.path))
    }

    private func fileSize(_ url: URL) -> UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.uint64Value ?? 0
    }

    func checkStop() throws { if gate.isCancelled { throw StopRequested() } }

    /// Called between training steps: honours pause (acknowledged by events), stop (checkpoint,
    /// then unwind), periodic checkpoints, and pending export commands.
    func betweenSteps(_ tensors: () -> [String: Tensor]) throws {
        if gate.isPaused {
            try checkpoint(tensors())
            gate.waitIfPaused(onPause: { emit(.paused(true)) }, onResume: { emit(.paused(false)) })
        }
        if gate.isCancelled { try checkpoint(tensors()); throw StopRequested() }
        if Date().timeIntervalSince(lastCheckpoint) >= config.checkpointEverySeconds { try checkpoint(tensors()) }
        if progress.globalStep % 10 == 0 { emitETA() }
        for command in commands.drain() {
            if case let .export(id) = command { exportCommand(id) }
        }
    }

    /// Appends one line to a run file (metrics.csv, candidates.jsonl).
    func append(_ line: String, to url: URL, header: String? = nil) {
        let fm = FileManager.default
        if !fm.fileExists(atPath: url.path) { _ = fm.createFile(atPath: url.path, contents: header.map { Data(($0 + "\n").utf8) }) }
        guard let h = try? FileHandle(forWritingTo: url) else { return }
        _ = try? h.seekToEnd()
        try? h.write(contentsOf: Data((line + "\n").utf8))
        try? h.close()
    }

    func recordMetric(loss: Double?, dice: Double?) {
        let l = loss.map { String(format: "%.6f", $0) } ?? "", d = dice.map { String(format: "%.6f", $0) } ?? ""
        append("\(progress.globalStep),\(progress.stage.rawValue),\(l),\(d)", to: work.metrics, header: "step,stage,loss,dice")
    }
}
