import ArgumentParser
import Foundation
import Engine
import Volume
import Search

/// `c2fnas export RUN_DIR [--candidate ID] --out DIR`: copy a run's final model, or write a scored
/// candidate's architecture (with the run's plan and a model card), to a folder of its own.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Export a run's final model or one of its candidates.")

    @Argument(help: "Run folder.")
    var runFolder: String
    @Option(help: "Candidate id (as listed in candidates.jsonl and the workbench); default: the final model.")
    var candidate: String?
    @Option(help: "Destination folder (written atomically).")
    var out: String

    func run() throws {
        let dir = RunDirectory(url: URL(fileURLWithPath: runFolder))
        let dest = URL(fileURLWithPath: out)
        var files: [String: Data] = [:]
        if let candidate {
            let records = try String(contentsOf: dir.candidates, encoding: .utf8).split(separator: "\n")
                .compactMap { try? JSONDecoder().decode(CandidateRecord.self, from: Data($0.utf8)) }
            guard let c = records.last(where: { $0.id == candidate }) else {
                throw ValidationError("no candidate \(candidate) in \(dir.candidates.path); known: \(records.map(\.id).prefix(10).joined(separator: ", "))…")
            }
            let cfg = try RunConfig.load(dir.config)
            let planData = try Data(contentsOf: dir.plan)
            let plan = try JSONDecoder().decode(Plan.self, from: planData)
            let arch = Architecture(name: c.id, topology: Topology(c.levels), ops: c.ops.compactMap { CellOp(name: $0) },
                                    baseWidth: cfg.width, levels: cfg.levels, inputChannels: plan.modalities.count,
                                    classes: plan.classCount, patch: [plan.patch.z, plan.patch.y, plan.patch.x],
                                    provenance: Provenance(source: "coarse candidate of \(dir.url.lastPathComponent)",
                                                           seed: cfg.seed, dataset: plan.datasetName, metrics: ["fitness": c.fitness]))
            try arch.validate()
            files["architecture.json"] = try arch.jsonData()
            files["plan.json"] = planData
            files["model-card.md"] = Data("""
                # Candidate \(c.id)

                Scored in cluster \(c.cluster + 1), generation \(c.generation) with supernet weights: mean foreground Dice \(String(format: "%.4f", c.fitness)).
                Parameters \(c.params), multiply-adds per patch \(String(format: "%.3g", c.macs)).
                No weights: a candidate's weights live inside its supernet. Train it with `c2fnas train architecture.json DATASET`.

                """.utf8)
        } else {
            for name in ["architecture.json", "weights.safetensors", "plan.json", "model-card.md"] {
                let src = dir.export.appendingPathComponent(name)
                guard let d = try? Data(contentsOf: src) else {
                    throw ValidationError("\(src.path) is missing: the run has not finished its export stage yet (resume it with c2fnas search … --run \(dir.url.path))")
                }
                files[name] = d
            }
        }
        try ExportFolder.write(files: files, to: dest)
        print("exported to \(dest.path)")
    }
}
