import Foundation
import Engine

/// What `c2fnas status DIR` prints and what `--wait` reports: the run folder's state per cluster,
/// joined with Slurm's view of the run's jobs when squeue is present.
public struct StatusReport: Sendable {
    public var status: RunStatus
    public var submission: SlurmSubmission?
    /// Active queue entries of the last submission (nil: no Slurm here, or it did not answer).
    public var queue: [SlurmQueueEntry]?
    public var task: ClusterTask

    public init(run: RunDirectory, task: ClusterTask, askSlurm: Bool = true) throws {
        status = try RunStatus.read(run)
        self.task = task
        submission = SlurmSubmission.load(run.url.appendingPathComponent("slurm/jobs.json")).last
        if askSlurm, let s = submission, Slurm.available { queue = Slurm.queue(jobs: s.jobIDs) } else { queue = nil }
    }

    /// The queue entry of cluster k's task in the last submission.
    public func entry(cluster k: Int) -> SlurmQueueEntry? {
        guard let s = submission, let array = s.arrayJob else { return nil }
        return queue?.first { $0.job == array && $0.arrayTask == k }
            ?? queue?.first { $0.job == array && $0.arrayTask == nil && s.clusters.contains(k) }  // still one pending line
    }

    public var finishEntry: SlurmQueueEntry? {
        guard let s = submission else { return nil }
        return queue?.first { $0.job == s.finishJob }
    }

    /// Whether any job of the last submission is still queued or running.
    public var jobsActive: Bool { !(queue ?? []).isEmpty }

    public func lines() -> [String] {
        var out = ["run \(task.run.url.path): stage \(status.stage.rawValue)"
                   + (status.clusterCount > 0 ? ", \(status.clusterCount) clusters" : "")]
        if let s = submission {
            out.append("slurm: " + (s.arrayJob.map { "array job \($0) (clusters \(s.clusters.map(String.init).joined(separator: ",")))" } ?? "no array job")
                       + ", finishing job \(s.finishJob)" + (queue == nil ? " (squeue not available)" : ""))
        }
        if status.clusterCount > 0 && status.stage <= .coarse {
            out.append("cluster  state     progress         detail")
            for c in status.clusters {
                var state = c.state.rawValue
                var detail = ""
                if let e = entry(cluster: c.index) {
                    state = e.state.lowercased()
                    detail = "slurm \(e.id)" + (e.node.isEmpty ? "" : " on \(e.node)") + (e.state == "PENDING" && e.reason != "None" ? " (\(e.reason))" : "")
                } else if c.state == .started, queue != nil || submission == nil, let q = c.quietSeconds, q > 120 {
                    state = "stopped"
                    detail = "no process has written for \(Int(q)) s; rerun the search command to resume it"
                }
                if let f = c.failure, c.state == .failed {
                    detail = "on \(f.node)" + (f.task.map { " (slurm \($0))" } ?? "") + ": \(f.message); log \(task.clusterLog(c.index).path)"
                }
                if let r = c.result { detail = "finalist " + (r.finalist.map { "k\($0.cluster + 1)-" + $0.topology.levels.map(String.init).joined() } ?? "none") + " on \(r.node), \(ProcessStats.format(seconds: r.seconds))" }
                let steps = stepsColumn(c)
                out.append(pad("\(c.index)", 8) + pad(state, 9) + pad(steps, 16) + detail)
            }
        }
        if let e = finishEntry {
            out.append("finishing job \(e.id): \(e.state.lowercased())" + (e.state == "PENDING" ? " (\(e.reason))" : "") + (e.node.isEmpty ? "" : " on \(e.node)"))
        } else if status.finished {
            out.append("finished; export in \(task.run.export.path)")
        }
        return out
    }

    func stepsColumn(_ c: RunStatus.Cluster) -> String {
        if c.state == .adopted { return "" }
        if let r = c.result { return "\(r.steps) steps" }
        if let live = c.live {
            let what = live.label.split(separator: " ").first.map(String.init) ?? ""
            return "\(what) \(live.done)/\(live.total)"
        }
        if let g = c.generation { return "evolution \(g)" }
        if let s = c.step { return "\(s)/\(c.target.map(String.init) ?? "?")" }
        return ""
    }

    /// Why a split run that has no active jobs did not finish: each line names the cluster, the task,
    /// the node and the log.
    public func failureLines() -> [String] {
        var out: [String] = []
        for c in status.clusters where c.state != .adopted && c.state != .done {
            if let f = c.failure {
                out.append("cluster \(c.index)" + (f.task.map { " (slurm task \($0))" } ?? "") + " on \(f.node): \(f.message); log \(task.clusterLog(c.index).path)")
            } else {
                out.append("cluster \(c.index): ended without a result or a failure record (killed with SIGKILL, out of memory, or never started); log \(task.clusterLog(c.index).path)")
            }
        }
        if out.isEmpty && !status.finished {
            out.append("the finishing job ended before the run was done; log \(task.finishLog.path)")
        }
        return out
    }
}

/// Left-aligns `s` in a column of `width` characters and a space.
func pad(_ s: String, _ width: Int) -> String {
    s + String(repeating: " ", count: max(0, width - s.count)) + " "
}
