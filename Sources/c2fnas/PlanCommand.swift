import ArgumentParser
import Engine
import Foundation
import Volume

/// `c2fnas plan DATASET --out plan.json`: fingerprint → plan, as a file a user can read and edit
/// (nnU-Net's plans). `search` and `train` take it with `--plan`, and it pins target spacing, patch
/// and normalisation; it records the fingerprint, so a changed dataset is refused by name.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Fingerprint a dataset and write the plan a run would use (edit it, then pass it with --plan).")

    @Argument(help: "Dataset folder in MSD layout (dataset.json, imagesTr/, labelsTr/).")
    var dataset: String
    @Option(help: "Scale preset whose patch, levels and batch the plan uses: tiny, cpu or paper.")
    var preset: String = "tiny"
    @Option(name: .customLong("set"), help: "Override a config field, e.g. --set patch=64,64,32 (repeatable).")
    var overrides: [String] = []
    @Option(name: .customLong("out"), help: "Where to write the plan.")
    var out: String = "plan.json"

    func run() throws {
        var cfg = try RunConfig.preset(preset)
        try cfg.apply(overrides: overrides)
        let ds = try MSDDataset.load(URL(fileURLWithPath: dataset))
        let f = try Fingerprint.compute(dataset: ds) { n, total, id in
            if !id.isEmpty { FileHandle.standardError.write(Data("\r  reading \(n + 1)/\(total) \(id)    ".utf8)) }
        }
        FileHandle.standardError.write(Data("\r".utf8))
        let plan = TrainingData.makePlan(fingerprint: f, config: cfg)
        let url = URL(fileURLWithPath: out)
        try AtomicFile.writeJSON(plan, to: url)
        print(plan.summary)
        print("saved \(url.path); use it with: c2fnas search \(dataset) --plan \(url.path)")
    }
}
