import Foundation
import Search
import Volume

/// The one way a scored candidate is exported (workbench `e`, the engine's export command and
/// `c2fnas export --candidate`): its architecture, the run's plan and a model card, read from the run
/// folder alone. A candidate's weights live inside its cluster's supernet, so none are written;
/// `c2fnas train architecture.json DATASET` trains it.
public enum CandidateExport {
    /// Writes candidate `id` of the run in `run` to `out` (atomically, as every export).
    public static func write(candidate id: String, run: RunDirectory, to out: URL) throws {
        let text = (try? String(contentsOf: run.candidates, encoding: .utf8)) ?? ""
        let records = text.split(separator: "\n").compactMap { try? JSONDecoder().decode(CandidateRecord.self, from: Data($0.utf8)) }
        // The last record of an id wins (a candidate re-scored after a resume or a noise-guard round).
        guard let c = records.last(where: { $0.id == id }) else {
            throw RunFileError.cannotRead(run.candidates.path,
                                          reason: "no candidate \(id); known: \(records.map(\.id).suffix(10).joined(separator: ", "))")
        }
        let config = try RunConfig.load(run.config)
        let planData: Data
        do { planData = try Data(contentsOf: run.plan) } catch {
            throw RunFileError.cannotRead(run.plan.path, reason: "missing; the run has not finished planning")
        }
        let plan: Plan
        do { plan = try JSONDecoder().decode(Plan.self, from: planData) } catch {
            throw RunFileError.corrupt(run.plan.path, reason: "\(error)")
        }
        try ExportFolder.write(files: try files(for: c, config: config, plan: plan, planData: planData,
                                                runName: run.url.lastPathComponent), to: out)
    }

    /// The export folder's files for one candidate record.
    public static func files(for c: CandidateRecord, config: RunConfig, plan: Plan, planData: Data,
                             runName: String) throws -> [String: Data] {
        let ops = c.ops.compactMap { CellOp(name: $0) }
        let arch = Architecture(name: c.id, topology: Topology(c.levels), ops: ops, baseWidth: config.width,
                                levels: config.levels, inputChannels: plan.modalities.count, classes: plan.classCount,
                                patch: [plan.patch.z, plan.patch.y, plan.patch.x],
                                provenance: Provenance(source: "coarse candidate of \(runName)", seed: config.seed,
                                                       dataset: plan.datasetName, metrics: ["fitness": c.fitness]))
        try arch.validate()
        let latency = c.latencyMs.map { String(format: "; one inference window %.1f ms on this machine", $0) } ?? ""
        let card = """
            # Candidate \(c.id)

            - run: \(runName) (preset \(config.preset.rawValue), seed \(config.seed)); dataset \(plan.datasetName)
            - topology (level of each cell): \(c.levels.map(String.init).joined(separator: ",")); ops \(c.ops.joined(separator: ","))
            - scored in cluster \(c.cluster + 1), generation \(c.generation), with its supernet's weights: fitness \(String(format: "%.4f", c.fitness)) (\(config.fitnessMetric.rawValue) on the run's fixed validation patches)
            - parameters \(c.params), multiply-adds per patch \(String(format: "%.3g", c.macs)), estimated training memory \(String(format: "%.0f", c.memoryBytes / 1_048_576)) MiB\(latency)

            No weights: a candidate's weights live inside its supernet. Train it with `c2fnas train architecture.json DATASET`.

            """
        return ["architecture.json": try arch.jsonData(), "plan.json": planData, "model-card.md": Data(card.utf8)]
    }
}
