import Foundation
import Search

/// What one engine process does with a run folder. The coarse stage is one supernet and one
/// evolution per cluster, independent of the others, so it can be split across processes
/// (`--executor local --jobs N`) or Slurm array tasks (`--executor slurm`):
/// `plan` fingerprints, clusters and plans the steps, then stops; `cluster(k)` runs cluster k alone in
/// `clusters/k/` and writes its `result.json`; `finish` adopts every cluster's result and runs the
/// remaining stages. `whole` is the one-process run, which also adopts any results it finds.
public enum EngineRole: Sendable, Equatable, CustomStringConvertible {
    case whole, plan, cluster(Int), finish

    public var description: String {
        switch self {
        case .whole: return "whole run"
        case .plan: return "planning"
        case let .cluster(k): return "cluster \(k + 1)"
        case .finish: return "stages after the coarse one"
        }
    }
}

/// Everything the rest of the run needs from one cluster of the coarse stage: written atomically by
/// the process that ran the cluster, read by the one that continues. Its presence means "done".
public struct ClusterResult: Codable, Sendable, Equatable {
    public var cluster: Int
    /// The cluster's best candidate (nil when no member fitted the memory / MAC limits).
    public var finalist: Candidate?
    /// Every candidate scored, in the order the evolution scored them (the order of candidates.jsonl).
    public var candidates: [Candidate]
    /// The noise guard's verdict on the cluster's initial population.
    public var signal: RankingSignal?
    /// Training steps the cluster took (supernet steps, guard rounds included).
    public var steps: Int
    /// Wall seconds the cluster's work took.
    public var seconds: Double
    public var node: String
}

/// Why a cluster process stopped without a result: written next to its checkpoints so that
/// `c2fnas status` and the submitting command can name the task, the node and the log.
public struct ClusterFailure: Codable, Sendable, Equatable {
    public var cluster: Int
    public var message: String
    public var node: String
    /// The scheduler's task id (`SLURM_ARRAY_JOB_ID_SLURM_ARRAY_TASK_ID`), when there is one.
    public var task: String?
    public var at: Date
}

/// The files of one cluster's process, under `clusters/<k>/` of the run folder. Only that process
/// writes here, and it writes nowhere else: two cluster tasks never share a file.
public struct ClusterFolder: Sendable {
    public let run: RunDirectory
    public let cluster: Int

    public init(run: RunDirectory, cluster: Int) { self.run = run; self.cluster = cluster }

    public var url: URL { run.url.appendingPathComponent("clusters").appendingPathComponent(String(cluster)) }
    /// The cluster process's own events, metrics, candidates and checkpoints.
    public var files: RunDirectory { RunDirectory(url: url) }
    public var result: URL { url.appendingPathComponent("result.json") }
    public var failure: URL { url.appendingPathComponent("failed.json") }
    public var lock: URL { url.appendingPathComponent("lock") }

    public func loadResult() -> ClusterResult? {
        guard let d = try? Data(contentsOf: result) else { return nil }
        return try? Self.decoder.decode(ClusterResult.self, from: d)
    }

    public func loadFailure() -> ClusterFailure? {
        guard let d = try? Data(contentsOf: failure) else { return nil }
        return try? Self.decoder.decode(ClusterFailure.self, from: d)
    }

    static let decoder: JSONDecoder = {
        let d = JSONDecoder(); d.dateDecodingStrategy = .iso8601; return d
    }()
    static let encoder: JSONEncoder = {
        let e = JSONEncoder(); e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return e
    }()
}

extension RunDirectory {
    /// The folder of cluster `k`'s process (see `ClusterFolder`).
    public func clusterFolder(_ k: Int) -> ClusterFolder { ClusterFolder(run: self, cluster: k) }
    /// Held by the process that writes the run's own files (plan, whole or finish).
    public var lock: URL { url.appendingPathComponent("lock") }
}

/// An exclusive advisory lock (flock) held for a process's lifetime: a second process that would
/// write the same files gets a clear error instead of interleaving its writes. The kernel releases
/// it when the process ends, however it ends (kill -9 included).
public final class RunLock: @unchecked Sendable {
    private let fd: Int32

    public init(_ url: URL, holder: String) throws {
        fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw RunFileError.cannotWrite(url.path, reason: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let other = (try? String(contentsOf: url, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            throw EngineError.busy(path: url.deletingLastPathComponent().path, holder: other)
        }
        let text = "\(holder), pid \(getpid()) on \(hostName())\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit { close(fd) }
}

/// The short host name (the node a Slurm task ran on).
public func hostName() -> String {
    var buf = [CChar](repeating: 0, count: 256)
    guard gethostname(&buf, buf.count - 1) == 0 else { return "unknown" }
    return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

extension SearchEngine {
    /// Adopts cluster k's result from its own process, exactly as if this process had run it: the
    /// same candidates.jsonl lines in the same order, the same finalist, signal and events.
    func adopt(_ r: ClusterResult, clusters: Int) throws {
        emit(.stageStarted(stage: .coarse, detail: "cluster \(r.cluster + 1)/\(clusters) · result of its own process (\(r.node), \(ProcessStats.format(seconds: r.seconds)))"))
        if let s = r.signal {
            progress.signals.append(s)
            emit(.rankingSignal(s))
            if s.belowNoise {
                log(RunWarning.fitnessBelowNoise(cluster: r.cluster + 1, spread: s.spread, noise: s.noise, steps: s.supernetSteps).description, .warning)
            } else {
                log(String(format: "cluster %d: fitness spread %.4f, noise of one score %.4f (from clusters/%d)",
                           r.cluster + 1, s.spread, s.noise, r.cluster))
            }
        } else if r.finalist == nil {
            log("cluster \(r.cluster + 1): no topology fits maxMemoryMB / maxMACs; the cluster has no finalist", .warning)
        }
        for c in r.candidates { record(candidate: c) }
        if let best = r.finalist {
            emit(.topology(role: .best, levels: best.topology.levels, ops: best.ops.map(\.rawValue)))
            progress.finalists.append(best)
        }
        progress.candidates += r.candidates
        progress.globalStep += r.steps
        // A budget counts the cluster's work as if this process had done it, so the stages after the
        // coarse one get the steps a one-machine run would; parallel clusters only shorten the wall time.
        progress.workSeconds += r.seconds
        progress.cluster += 1
        emit(.stageFinished(stage: .coarse))
        try checkpoint([:])
    }

    /// Writes cluster k's result once its process has finished it (idempotent: a resumed process that
    /// finds the cluster done writes the same file again).
    func writeResult(cluster k: Int) throws {
        let folder = directory.clusterFolder(k)
        let result = ClusterResult(cluster: k, finalist: progress.finalists.first { $0.cluster == k },
                                   candidates: progress.candidates.filter { $0.cluster == k },
                                   signal: progress.signals.first { $0.cluster == k },
                                   steps: progress.globalStep, seconds: progress.workSeconds, node: hostName())
        try AtomicFile.write(try ClusterFolder.encoder.encode(result), to: folder.result)
        try? FileManager.default.removeItem(at: folder.failure)
        log("cluster \(k + 1) done: result in \(folder.result.path)")
    }

    /// Records why cluster k's process ended without a result.
    func writeFailure(cluster k: Int, message: String) {
        let env = ProcessInfo.processInfo.environment
        let task = env["SLURM_ARRAY_JOB_ID"].map { "\($0)_\(env["SLURM_ARRAY_TASK_ID"] ?? "?")" } ?? env["SLURM_JOB_ID"]
        let f = ClusterFailure(cluster: k, message: message, node: hostName(), task: task, at: Date())
        if let d = try? ClusterFolder.encoder.encode(f) { try? AtomicFile.write(d, to: directory.clusterFolder(k).failure) }
    }
}
