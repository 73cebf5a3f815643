import Foundation
import Engine

/// `--executor local --jobs N`: the clusters of the coarse stage as child processes on this machine,
/// at most N at once, each with the run's thread count. Every child is in its own process group, so
/// a Ctrl-C reaches it once, through `stop()`, and it checkpoints before it exits.
public final class LocalJobs: @unchecked Sendable {
    public let task: ClusterTask
    public let jobs: Int
    private let lock = NSLock()
    private var running: [Int: pid_t] = [:]
    private var stopping = false

    public init(task: ClusterTask, jobs: Int) { self.task = task; self.jobs = max(1, jobs) }

    /// Runs `clusters`; returns each one's exit status (0 = its result is written). `report` gets a
    /// line per start and end.
    public func run(clusters: [Int], report: (String) -> Void) throws -> [Int: Int32] {
        try FileManager.default.createDirectory(at: task.logs, withIntermediateDirectories: true)
        var queue = clusters
        var status: [Int: Int32] = [:]
        var started: [Int: Date] = [:]
        while !queue.isEmpty || !snapshot().isEmpty {
            while snapshot().count < jobs, !queue.isEmpty, !isStopping {
                let k = queue.removeFirst()
                let pid = try spawn(task.clusterArguments(k), log: task.clusterLog(k))
                lock.withLock { running[k] = pid }
                started[k] = Date()
                report("cluster \(k + 1): started (pid \(pid), log \(task.clusterLog(k).path))")
            }
            if isStopping { queue.removeAll() }
            for (k, pid) in snapshot() {
                var st: Int32 = 0
                let r = waitpid(pid, &st, WNOHANG)
                guard r == pid else { continue }
                let code: Int32 = (st & 0x7f) == 0 ? (st >> 8) & 0xff : 128 + (st & 0x7f)
                status[k] = code
                lock.withLock { _ = running.removeValue(forKey: k) }
                let secs = Date().timeIntervalSince(started[k] ?? Date())
                report("cluster \(k + 1): " + (code == 0 ? "done in \(ProcessStats.format(seconds: secs))"
                                                          : "ended with status \(code); see \(task.clusterLog(k).path)"))
            }
            usleep(100_000)
        }
        return status
    }

    /// Asks every running child to checkpoint and stop (SIGTERM) and starts no more.
    public func stop() {
        let pids = lock.withLock { () -> [pid_t] in stopping = true; return Array(running.values) }
        for p in pids { kill(p, SIGTERM) }
    }

    private var isStopping: Bool { lock.withLock { stopping } }
    private func snapshot() -> [Int: pid_t] { lock.withLock { running } }

    /// posix_spawn with stdout and stderr appended to `log`, in a new process group.
    private func spawn(_ arguments: [String], log: URL) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attr, 0)
        let argv = ([task.binary.path] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, task.binary.path, &actions, &attr, argv, environ)
        guard rc == 0 else {
            throw RunFileError.cannotRead(task.binary.path, reason: "cannot start it: \(String(cString: strerror(rc)))")
        }
        return pid
    }
}
