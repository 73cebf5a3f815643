import ArgumentParser
import Foundation
import Engine
import Search
import CLI

/// `c2fnas train ARCH DATASET`: train a given architecture (a JSON file or a built-in name) from
/// scratch, evaluate it and export it — the final stages of a search without the search.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train an architecture (architecture.json, c2fnas-panc or unet) on a dataset.")

    @Argument(help: "architecture.json, or a built-in: \(Architecture.builtinNames.joined(separator: ", ")).")
    var architecture: String
    @Argument(help: "Dataset folder in MSD layout.")
    var dataset: String
    @Option(help: "Preset for training settings: tiny, cpu or paper.")
    var preset: String = "tiny"
    @Option(name: .customLong("run"), help: "Run folder (default runs/<dataset>-<time>); an existing one is resumed.")
    var runFolder: String?
    @Option(help: "Plan file from `c2fnas plan` (pins spacing, patch, normalisation).")
    var plan: String?
    @Option(name: .customLong("set"), help: "Override a config field (repeatable).")
    var overrides: [String] = []

    func run() throws {
        var cfg = try RunConfig.preset(preset)
        try cfg.apply(overrides: overrides)
        let arch = try loadArchitecture(architecture, width: cfg.width, patch: cfg.patch)
        try cfg.apply(overrides: ["width=\(arch.baseWidth)", "levels=\(arch.levels)", "cells=\(arch.ops.count)",
                                  "patch=\(arch.patch.map(String.init).joined(separator: ","))"] + overrides)
        let folder = URL(fileURLWithPath: dataset)
        let dir = runFolder.map { RunDirectory(url: URL(fileURLWithPath: $0)) }
            ?? RunDirectory.make(root: URL(fileURLWithPath: "runs"), dataset: folder.lastPathComponent)
        print("run folder: \(dir.url.path)")
        switch CLIRun.execute(datasetFolder: folder, directory: dir, config: cfg, fixedArchitecture: arch,
                              planFile: plan.map { URL(fileURLWithPath: $0) }) {
        case .finished: print("finished; export in \(dir.export.path)")
        case .stopped: print("stopped; resume with the same command and --run \(dir.url.path)")
        case .failed: throw ExitCode.failure
        }
    }
}
