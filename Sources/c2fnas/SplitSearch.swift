import ArgumentParser
import Foundation
import Engine
import CLI
import Scheduler

/// A search whose coarse stage runs as one process per cluster: plan here, then the clusters as
/// local child processes or Slurm array tasks, then the remaining stages. Re-running the same
/// command runs only what is not done; every part resumes from its own checkpoint.
struct SplitSearch {
    var dataset: URL
    var run: RunDirectory
    var config: RunConfig
    var plan: URL?
    var jobs: Int
    var partition: String?
    var slurmArguments: [String]
    var wait: Bool
    var jsonEvents: Bool
    var resumeHint: String

    var task: ClusterTask { ClusterTask(binary: ClusterTask.currentBinary(), dataset: dataset, run: run) }

    /// Plans the run here (fingerprint, clusters, step counts), so that every part reads one plan.
    private func planHere() throws -> RunStatus {
        let status = try? RunStatus.read(run)
        if status == nil || status!.stage <= .coarse && status!.clusterCount == 0 {
            switch CLIRun.execute(datasetFolder: dataset, directory: run, config: config, planFile: plan, role: .plan, jsonEvents: jsonEvents) {
            case .finished: break
            case .stopped: throw ExitCode(3)
            case .failed: throw ExitCode.failure
            }
        }
        return try RunStatus.read(run)
    }

    func runLocal() throws {
        let status = try planHere()
        let todo = status.stage <= .coarse ? status.clustersToRun : []
        if !todo.isEmpty {
            let runner = LocalJobs(task: task, jobs: jobs)
            let trap = SignalTrap { sig in
                FileHandle.standardError.write(Data("signal \(sig): asking the cluster processes to checkpoint and stop\n".utf8))
                runner.stop()
            }
            let started = Date()
            print("coarse stage: \(todo.count) clusters, \(jobs) at a time, \(config.threads) threads each")
            let codes = try runner.run(clusters: todo) { print($0) }
            withExtendedLifetime(trap) {}
            let failed = codes.filter { $0.value != 0 }.keys.sorted()
            if !failed.isEmpty {
                let report = try StatusReport(run: run, task: task, askSlurm: false)
                for line in report.failureLines() { print("error: \(line)") }
                print("resume with: \(resumeHint) --executor local --jobs \(jobs)")
                throw ExitCode.failure
            }
            print("coarse stage done in \(ProcessStats.format(seconds: Date().timeIntervalSince(started)))")
        }
        switch CLIRun.execute(datasetFolder: dataset, directory: run, config: config, planFile: plan, role: .finish, jsonEvents: jsonEvents) {
        case .finished: print("finished; export in \(run.export.path)")
        case .stopped: print("stopped; resume with: \(resumeHint) --executor local --jobs \(jobs)")
        case .failed: throw ExitCode.failure
        }
    }

    func submitSlurm() throws {
        guard Slurm.available else { throw SlurmError.missing("sbatch") }
        let status = try planHere()
        if status.finished { print("finished; export in \(run.export.path)"); return }
        let before = try StatusReport(run: run, task: task)
        if before.jobsActive {
            // Never two writers of one cluster: the last submission is still at work.
            for line in before.lines() { print(line) }
            throw ValidationError("the jobs of this run's last submission are still queued or running; follow them with `c2fnas status \(run.url.path)`, or scancel them before submitting again")
        }
        let todo = status.stage <= .coarse ? status.clustersToRun : []
        // The run's saved config decides the threads (the plan step wrote it).
        let threads = (try? RunConfig.load(run.config).threads) ?? config.threads
        let submitter = SlurmSubmitter(task: task, threads: threads, partition: partition, extraArguments: slurmArguments)
        let s = try submitter.submit(clusters: todo)
        if let a = s.arrayJob {
            print("submitted array job \(a): clusters \(todo.map(String.init).joined(separator: ",")) (\(threads) CPUs per task; logs \(task.logs.path)/cluster-K.log)")
        } else {
            print("every cluster is done; no array job")
        }
        print("submitted job \(s.finishJob): the stages after the coarse one" + (s.arrayJob.map { ", after array job \($0) succeeds" } ?? "") + " (log \(task.finishLog.path))")
        print("follow with: c2fnas status \(run.url.path)   or   c2fnas-tui --attach \(run.url.path)")
        guard wait else { return }
        try waitForSlurm(s)
    }

    /// Polls the queue until the submission's jobs are gone, printing cluster states as they change;
    /// then exits with the run's status.
    private func waitForSlurm(_ s: SlurmSubmission) throws {
        var last: [String] = []
        while true {
            let report = try StatusReport(run: run, task: task)
            let now = report.lines()
            if now != last { for line in now where !last.contains(line) { print(line) }; last = now }
            guard report.queue != nil else { throw SlurmError.missing("squeue") }
            if !report.jobsActive {
                if report.status.finished { return }  // its last line said where the export is
                for line in report.failureLines() { print("error: \(line)") }
                print("resume with the same command: it resubmits only what is not done")
                throw ExitCode.failure
            }
            usleep(1_000_000)
        }
    }
}
