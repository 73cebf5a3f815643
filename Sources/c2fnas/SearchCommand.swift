import ArgumentParser
import Foundation
import Engine
import CLI

/// `c2fnas search DATASET`: the whole C2FNAS run, headless. Re-running it on the same run
/// folder resumes from the last checkpoint.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search, train and evaluate a network for an MSD dataset (resumable).")

    @Argument(help: "Dataset folder in MSD layout (dataset.json, imagesTr/, labelsTr/).")
    var dataset: String

    @Option(help: "Scale preset: tiny, cpu or paper.")
    var preset: String = "tiny"

    @Option(name: .customLong("run"), help: "Run folder (default runs/<dataset>-<time>); an existing one is resumed.")
    var runFolder: String?

    @Option(help: "Config file (JSON); its fields override the preset.")
    var config: String?

    @Option(name: .customLong("set"), help: "Override a config field, e.g. --set supernetSteps=100 (repeatable).")
    var overrides: [String] = []

    @Option(help: "Plan file from `c2fnas plan` (pins spacing, patch, normalisation); a resumed run uses its own plan.json.")
    var plan: String?

    @Option(help: "Random seed.")
    var seed: UInt64?

    @Option(help: "Compute threads.")
    var threads: Int?

    @Option(help: "Wall-time budget of the whole run, e.g. 90m, 2h, 1h30m: every stage's steps are derived from step times measured at the start.")
    var budget: String?

    @Flag(help: "Print the effective config and exit.")
    var printConfig = false

    @Flag(help: "Print every event as a JSON line on stdout.")
    var jsonEvents = false

    @Option(help: "Where the coarse stage's clusters run: local (this machine; with --jobs N, N child processes) or slurm (an array job with a task per cluster, then a dependent job for the rest). --run must then name a folder every node sees.")
    var executor: String?

    @Option(help: "With --executor local: clusters run at once, each with the run's --threads.")
    var jobs: Int = 1

    @Option(help: "With --executor slurm: the partition of both jobs.")
    var partition: String?

    @Option(name: .customLong("slurm-args"), help: "With --executor slurm: more sbatch arguments for both jobs, e.g. \"--time=4:00:00 --mem=8G --account=lab\".")
    var slurmArgs: String?

    @Flag(help: "With --executor slurm: wait for the jobs and exit with the run's status.")
    var wait = false

    @Option(help: ArgumentHelp("One part of a split run: plan, coarse (with --cluster) or finish. Job scripts call this; users need not.", visibility: .hidden))
    var stage: String?

    @Option(help: ArgumentHelp("With --stage coarse: the cluster, from 0.", visibility: .hidden))
    var cluster: Int?

    func run() throws {
        var cfg = try config.map { try RunConfig.load(URL(fileURLWithPath: $0)) } ?? RunConfig.preset(preset)
        var sets = overrides
        if let seed { sets.append("seed=\(seed)") }
        if let threads { sets.append("threads=\(threads)") }
        if let budget {
            guard let minutes = parseBudgetMinutes(budget), minutes > 0 else {
                throw ValidationError("--budget '\(budget)' is not a duration; write it like 90m, 2h or 1h30m")
            }
            sets.append("budgetMinutes=\(minutes)")
        }
        try cfg.apply(overrides: sets)
        try cfg.validate()
        if printConfig { print(cfg.json()); return }
        let folder = URL(fileURLWithPath: dataset)
        let dir = runFolder.map { RunDirectory(url: URL(fileURLWithPath: $0)) }
            ?? RunDirectory.make(root: URL(fileURLWithPath: "runs"), dataset: folder.lastPathComponent)
        if dir.exists {
            FileHandle.standardError.write(Data("resuming \(dir.url.path) (its saved config wins over command-line options)\n".utf8))
        } else {
            print("effective config:\n\(cfg.json())")
        }
        print("run folder: \(dir.url.path)")
        let planURL = plan.map { URL(fileURLWithPath: $0) }
        if let stage {
            let role = try partRole(stage)
            let outcome = CLIRun.execute(datasetFolder: folder, directory: dir, config: cfg, planFile: planURL, role: role, jsonEvents: jsonEvents)
            switch outcome {
            case .finished: print("\(role): done")
            case .stopped: print("\(role): stopped; its checkpoint is kept"); throw ExitCode(3)  // not "ok" for afterok
            case .failed: throw ExitCode.failure
            }
            return
        }
        if executor != nil || jobs > 1 {
            let split = SplitSearch(dataset: folder, run: dir, config: cfg, plan: planURL, jobs: jobs,
                                    partition: partition, slurmArguments: slurmArgs?.split(separator: " ").map(String.init) ?? [],
                                    wait: wait, jsonEvents: jsonEvents, resumeHint: "c2fnas search \(dataset) --run \(dir.url.path)")
            switch executor ?? "local" {
            case "local": try split.runLocal()
            case "slurm": try split.submitSlurm()
            default: throw ValidationError("--executor '\(executor!)' is not one of: local, slurm")
            }
            return
        }
        let outcome = CLIRun.execute(datasetFolder: folder, directory: dir, config: cfg, planFile: planURL, jsonEvents: jsonEvents)
        switch outcome {
        case .finished: print("finished; export in \(dir.export.path)")
        case .stopped: print("stopped; resume with: c2fnas search \(dataset) --run \(dir.url.path)")
        case .failed: throw ExitCode.failure  // the message was printed by the progress reporter
        }
    }

    func partRole(_ stage: String) throws -> EngineRole {
        switch stage {
        case "plan": return .plan
        case "finish": return .finish
        case "coarse":
            guard let cluster, cluster >= 0 else { throw ValidationError("--stage coarse needs --cluster K (from 0)") }
            return .cluster(cluster)
        default: throw ValidationError("--stage '\(stage)' is not one of: plan, coarse, finish")
        }
    }
}
