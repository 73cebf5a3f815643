import Foundation

/// Where a run stands, read from its folder alone (so `c2fnas status`, `c2fnas-tui --attach` and the
/// submitting command agree, on any node that sees the folder): the run's stage and, for a coarse
/// stage split across processes, each cluster's state from `clusters/<k>/`.
public struct RunStatus: Sendable, Equatable {
    public enum ClusterState: String, Sendable, Equatable {
        /// Nothing written yet.
        case pending
        /// Has a checkpoint and is being written to, or was stopped before its result (see `failure`).
        case started
        case done
        case failed
        /// Adopted by the run (done in-process or read from its result).
        case adopted
    }

    public struct LiveProgress: Sendable, Equatable {
        public var label: String
        public var done: Int
        public var total: Int
    }

    public struct Cluster: Sendable, Equatable {
        public var index: Int
        public var state: ClusterState
        /// Supernet steps taken and planned, from the cluster's latest checkpoint.
        public var step: Int?
        public var target: Int?
        /// Evolution generation reached, when scoring.
        public var generation: Int?
        public var failure: ClusterFailure?
        public var result: ClusterResult?
        /// Seconds since the cluster's events log last grew (a quiet process may be gone).
        public var quietSeconds: Double?
        /// The newest progress event of the cluster's process ("supernet 2/4", 812 of 2916).
        public var live: LiveProgress?
    }

    public var stage: Stage
    /// Clusters of the coarse stage (0 before the run is planned).
    public var clusterCount: Int
    /// Clusters the run itself has already adopted or trained.
    public var clustersAdopted: Int
    public var clusters: [Cluster]

    public var finished: Bool { stage == .done }

    /// Reads the run folder; throws only when it is not a run folder.
    public static func read(_ run: RunDirectory, now: Date = Date()) throws -> RunStatus {
        guard run.exists else {
            throw RunFileError.cannotRead(run.config.path, reason: "not a run folder (no config.json); name the folder given to --run")
        }
        let progress = latestProgress(run.checkpoints)
        let stage = progress?.stage ?? .plan
        let count = progress?.clustering?.k ?? 0
        let adopted = stage > .coarse ? count : (progress?.cluster ?? 0)
        var clusters: [Cluster] = []
        for k in 0..<count {
            let folder = run.clusterFolder(k)
            var c = Cluster(index: k, state: .pending)
            let own = latestProgress(folder.files.checkpoints)
            c.step = own?.supernetStep; c.target = own?.supernetTarget
            if let evo = own?.evolution, evo.initialised { c.generation = evo.generation }
            if let attrs = try? FileManager.default.attributesOfItem(atPath: folder.files.events.path),
               let m = attrs[.modificationDate] as? Date { c.quietSeconds = now.timeIntervalSince(m) }
            c.live = lastProgress(folder.files.events)
            c.result = folder.loadResult()
            c.failure = folder.loadFailure()
            if k < adopted { c.state = .adopted } else if c.result != nil { c.state = .done } else if c.failure != nil {
                c.state = .failed
            } else if own != nil || c.quietSeconds != nil { c.state = .started }
            clusters.append(c)
        }
        return RunStatus(stage: stage, clusterCount: count, clustersAdopted: adopted, clusters: clusters)
    }

    /// Clusters that still need a process: neither adopted nor with a result.
    public var clustersToRun: [Int] { clusters.filter { $0.state != .adopted && $0.state != .done }.map(\.index) }

    /// The last progress event in the final 16 KB of an events log.
    static func lastProgress(_ events: URL) -> LiveProgress? {
        guard let h = try? FileHandle(forReadingFrom: events) else { return nil }
        defer { try? h.close() }
        guard let end = try? h.seekToEnd() else { return nil }
        try? h.seek(toOffset: end > 16_384 ? end - 16_384 : 0)
        guard let data = try? h.readToEnd() else { return nil }
        let dec = JSONDecoder()
        for line in data.split(separator: 0x0A).reversed() {
            if let r = try? dec.decode(EventRecord.self, from: Data(line)), case let .progress(done, total, label) = r.event {
                return LiveProgress(label: label, done: done, total: total)
            }
        }
        return nil
    }

    /// progress.json of a checkpoint store's newest checkpoint, read without loading its tensors.
    static func latestProgress(_ root: URL) -> RunProgress? {
        guard let url = CheckpointStore(root: root).latestWithoutVerifying(),
              let data = try? Data(contentsOf: url.appendingPathComponent("progress.json")) else { return nil }
        return try? JSONDecoder().decode(RunProgress.self, from: data)
    }

    /// One line, for a header: "clusters 2 done · 1 running 40/120 · 1 pending".
    public var clusterSummary: String? {
        guard clusterCount > 0, stage <= .coarse else { return nil }
        var parts: [String] = []
        let done = clusters.filter { $0.state == .done || $0.state == .adopted }.count
        if done > 0 { parts.append("\(done) done") }
        for c in clusters where c.state == .started {
            parts.append(c.live.map { "\($0.label) \($0.done)/\($0.total)" }
                ?? "\(c.index + 1): \(c.step ?? 0)/\(c.target.map(String.init) ?? "?")")
        }
        let failed = clusters.filter { $0.state == .failed }.map { String($0.index + 1) }
        if !failed.isEmpty { parts.append("failed \(failed.joined(separator: ","))") }
        let pending = clusters.filter { $0.state == .pending }.count
        if pending > 0 { parts.append("\(pending) pending") }
        return "clusters " + parts.joined(separator: " · ")
    }
}

extension CheckpointStore {
    /// The newest checkpoint folder that has a progress.json, without reading its other files (for
    /// status displays; a resume uses `latest()`, which checks every file).
    public func latestWithoutVerifying() -> URL? {
        newest { FileManager.default.fileExists(atPath: $0.appendingPathComponent("progress.json").path) }
    }
}
