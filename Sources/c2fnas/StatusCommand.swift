import ArgumentParser
import Foundation
import Engine
import Scheduler

/// `c2fnas status DIR`: where a run stands, from its folder (and from Slurm when squeue is here):
/// its stage and, for a split coarse stage, which clusters are pending, running, done or failed.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a run's progress per cluster (local jobs or Slurm tasks).")

    @Argument(help: "Run folder (the --run of the search).")
    var runFolder: String

    func run() throws {
        let dir = RunDirectory(url: URL(fileURLWithPath: runFolder))
        let dataset = RunSource.load(dir).map { URL(fileURLWithPath: $0.datasetFolder) } ?? dir.url
        let report = try StatusReport(run: dir, task: ClusterTask(binary: ClusterTask.currentBinary(), dataset: dataset, run: dir))
        for line in report.lines() { print(line) }
        if !report.status.finished, report.submission != nil, report.queue != nil, !report.jobsActive {
            for line in report.failureLines() { print("error: \(line)") }
        }
    }
}
