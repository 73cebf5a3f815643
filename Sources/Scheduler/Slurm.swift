import Foundation
import Engine

/// `--executor slurm`: one array job with a task per cluster not done yet, and one job that depends
/// on it (`afterok`, `--kill-on-invalid-dep=yes`, so a failed task cancels it instead of leaving it
/// pending forever) for selection, fine, final and evaluation. The run folder (on a file system
/// every node shares) stays the only source of truth; job ids are kept in `slurm/jobs.json`.
public struct SlurmSubmitter: Sendable {
    public var task: ClusterTask
    public var threads: Int
    public var partition: String?
    /// Extra sbatch arguments for both jobs (account, QOS, time limit, memory ...).
    public var extraArguments: [String]

    public init(task: ClusterTask, threads: Int, partition: String? = nil, extraArguments: [String] = []) {
        self.task = task; self.threads = max(1, threads); self.partition = partition; self.extraArguments = extraArguments
    }

    public var folder: URL { task.run.url.appendingPathComponent("slurm") }
    public var jobsFile: URL { folder.appendingPathComponent("jobs.json") }

    /// sbatch options of the cluster tasks; on the command line rather than as #SBATCH lines, so a
    /// path with spaces needs no quoting rules of sbatch's own.
    public var clusterOptions: [String] {
        ["--job-name=c2fnas-coarse", "--cpus-per-task=\(threads)", "--output=\(task.logs.path)/cluster-%a.log", "--open-mode=append"]
    }
    public var finishOptions: [String] {
        ["--job-name=c2fnas-finish", "--cpus-per-task=\(threads)", "--output=\(task.finishLog.path)", "--open-mode=append"]
    }

    /// The job script of the cluster tasks (SLURM_ARRAY_TASK_ID is the cluster, counted from 0).
    public var clusterScript: String {
        let args = task.clusterArguments(0).dropLast().map(shellQuoted).joined(separator: " ")
        return """
        #!/bin/bash
        # c2fnas: one array task per cluster of the coarse stage; task k writes only \(task.run.url.path)/clusters/k/.
        # Submitted by `c2fnas search --executor slurm` as:
        #   sbatch \(clusterOptions.map(shellQuoted).joined(separator: " ")) --array=K,... [--partition P] [--slurm-args ...] THIS_FILE
        echo "c2fnas: cluster task ${SLURM_ARRAY_TASK_ID} of job ${SLURM_ARRAY_JOB_ID} on $(hostname), $(date -u +%FT%TZ)"
        exec \(shellQuoted(task.binary.path)) \(args) "${SLURM_ARRAY_TASK_ID}"

        """
    }

    /// The job script of the stages after the coarse one.
    public var finishScript: String {
        """
        #!/bin/bash
        # c2fnas: selection, fine, final training and evaluation of \(task.run.url.path), once every cluster is done.
        # Submitted as: sbatch \(finishOptions.map(shellQuoted).joined(separator: " ")) --dependency=afterok:ARRAY --kill-on-invalid-dep=yes THIS_FILE
        echo "c2fnas: finishing job ${SLURM_JOB_ID} on $(hostname), $(date -u +%FT%TZ)"
        exec \(shellQuoted(task.binary.path)) \(task.finishArguments.map(shellQuoted).joined(separator: " "))

        """
    }

    /// Submits the clusters that still need a process (maybe none) and the finishing job.
    public func submit(clusters: [Int]) throws -> SlurmSubmission {
        let fm = FileManager.default
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        try fm.createDirectory(at: task.logs, withIntermediateDirectories: true)
        let clusterFile = folder.appendingPathComponent("cluster.sbatch"), finishFile = folder.appendingPathComponent("finish.sbatch")
        try AtomicFile.write(clusterScript, to: clusterFile)
        try AtomicFile.write(finishScript, to: finishFile)
        var common: [String] = []
        if let partition { common.append("--partition=\(partition)") }
        common += extraArguments
        var array: String?
        if !clusters.isEmpty {
            let list = clusters.map(String.init).joined(separator: ",")
            array = try Slurm.sbatch(["--parsable"] + clusterOptions + ["--array=\(list)"] + common + [clusterFile.path])
        }
        var finishArgs = ["--parsable"] + finishOptions + common
        if let array { finishArgs += ["--dependency=afterok:\(array)", "--kill-on-invalid-dep=yes"] }
        let finish: String
        do { finish = try Slurm.sbatch(finishArgs + [finishFile.path]) } catch {
            if let array { _ = try? Slurm.run("scancel", [array]) }  // no orphan array without its finishing job
            throw error
        }
        let s = SlurmSubmission(arrayJob: array, clusters: clusters, finishJob: finish, submitted: Date())
        var all = SlurmSubmission.load(jobsFile)
        all.append(s)
        try AtomicFile.write(try SlurmSubmission.encoder.encode(all), to: jobsFile)
        return s
    }
}

/// One submission of a run: its array job (nil when every cluster was already done) and its
/// finishing job.
public struct SlurmSubmission: Codable, Sendable, Equatable {
    public var arrayJob: String?
    public var clusters: [Int]
    public var finishJob: String
    public var submitted: Date

    public var jobIDs: [String] { (arrayJob.map { [$0] } ?? []) + [finishJob] }

    public static func load(_ url: URL) -> [SlurmSubmission] {
        guard let d = try? Data(contentsOf: url) else { return [] }
        let dec = JSONDecoder(); dec.dateDecodingStrategy = .iso8601
        return (try? dec.decode([SlurmSubmission].self, from: d)) ?? []
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder(); e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return e
    }()
}

/// One line of `squeue`: a job, or one task of an array job (`id` is then `ARRAY_TASK`).
public struct SlurmQueueEntry: Sendable, Equatable {
    public var id: String
    public var state: String
    public var node: String
    public var reason: String
    /// The array task index, for an array task.
    public var arrayTask: Int? {
        guard let i = id.firstIndex(of: "_") else { return nil }
        return Int(id[id.index(after: i)...])
    }
    /// The job id without the task (`12` for `12_3`).
    public var job: String { id.split(separator: "_").first.map(String.init) ?? id }
}

public enum SlurmError: Error, CustomStringConvertible {
    case missing(String)
    case failed(command: String, status: Int32, output: String)

    public var description: String {
        switch self {
        case let .missing(tool):
            return "\(tool) is not on PATH: --executor slurm runs on a Slurm login node (or set PATH to include Slurm's client commands). Without Slurm, use --executor local --jobs N."
        case let .failed(command, status, output):
            return "`\(command)` failed (status \(status)): \(output.trimmingCharacters(in: .whitespacesAndNewlines)). Check the partition and --slurm-args; `sinfo` lists the partitions."
        }
    }
}

public enum Slurm {
    /// Whether Slurm's client commands are here.
    public static var available: Bool { which("sbatch") != nil && which("squeue") != nil }

    static func which(_ tool: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// Runs a Slurm command and returns its standard output.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        guard let path = which(tool) else { throw SlurmError.missing(tool) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw SlurmError.failed(command: ([tool] + arguments).joined(separator: " "), status: p.terminationStatus,
                                    output: String(decoding: e + o, as: UTF8.self))
        }
        return String(decoding: o, as: UTF8.self)
    }

    /// sbatch --parsable: returns the job id.
    static func sbatch(_ arguments: [String]) throws -> String {
        let out = try run("sbatch", arguments).trimmingCharacters(in: .whitespacesAndNewlines)
        // --parsable prints "id" or "id;cluster".
        guard let id = out.split(separator: ";").first, !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw SlurmError.failed(command: "sbatch " + arguments.joined(separator: " "), status: 0, output: "unexpected output '\(out)'")
        }
        return String(id)
    }

    /// The active (pending, running, completing) entries of these jobs, array tasks one per line; nil
    /// when squeue is missing or fails. Lists the user's own jobs and filters, because `squeue -j`
    /// fails outright once one of the ids has left the controller's memory.
    public static func queue(jobs: [String]) -> [SlurmQueueEntry]? {
        guard !jobs.isEmpty else { return [] }
        guard let out = try? run("squeue", ["--me", "-h", "-r", "-o", "%i|%T|%N|%r"]) else { return nil }
        let wanted = Set(jobs)
        return parseQueue(out).filter { wanted.contains($0.job) }
    }

    public static func parseQueue(_ text: String) -> [SlurmQueueEntry] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count >= 4, !f[0].isEmpty else { return nil }
            return SlurmQueueEntry(id: f[0], state: f[1], node: f[2], reason: f[3])
        }
    }

    public static func cancel(_ jobs: [String]) throws { if !jobs.isEmpty { try run("scancel", jobs) } }
}
