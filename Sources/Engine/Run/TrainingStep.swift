import Foundation
import NN
import Search
import Tensor

extension SearchEngine {
    /// One optimisation step on a batch: forward, Dice + CE loss, backward, clip, update.
    /// A non-finite loss skips the update, halves the learning rate and is reported; after five
    /// in a row the run fails with an explanation instead of training on garbage.
    func trainStep(_ net: GraphNetwork, _ optimizer: any Optimizer, input: Tensor, labels: Tensor,
                   clip: Double?) throws -> Double {
        let logits = net(Variable(input))
        let loss = segmentationLoss(logits: logits, labels: labels)
        let value = Double(loss.item)
        guard value.isFinite else {
            optimizer.zeroGrad()
            net.zeroGrad()
            optimizer.learningRate *= 0.5
            lossFailures += 1
            log(RunWarning.nonFiniteLoss(step: progress.globalStep, learningRate: optimizer.learningRate).description, .warning)
            if lossFailures >= 5 {
                throw EngineError.diverged(step: progress.globalStep)
            }
            return value
        }
        lossFailures = 0
        loss.backward()
        if let clip { _ = clipGradientNorm(optimizer.parameters, maxNorm: Float(clip)) }
        optimizer.step()
        optimizer.zeroGrad()
        net.zeroGrad()
        return value
    }

    /// Optimiser state and weights of a store under prefixes, for a checkpoint.
    func tensors(store: ParameterStore, optimizers: [(String, any Optimizer)]) -> [String: Tensor] {
        var t: [String: Tensor] = [:]
        for p in store.all { t["weights." + p.name] = p.value }
        for (prefix, o) in optimizers { for (k, v) in o.stateTensors() { t[prefix + "." + k] = v } }
        return t
    }

    /// Restores weights and optimizer state saved by `tensors(store:optimizers:)`.
    func restore(_ saved: [String: Tensor], store: ParameterStore, optimizers: [(String, any Optimizer)]) throws {
        for p in store.all {
            guard let v = saved["weights." + p.name] else {
                throw EngineError.checkpointMismatch("weights.\(p.name) is missing")
            }
            try p.load(v)
        }
        for (prefix, o) in optimizers {
            var state: [String: Tensor] = [:]
            for (k, v) in saved where k.hasPrefix(prefix + ".") { state[String(k.dropFirst(prefix.count + 1))] = v }
            try o.loadState(state)
        }
    }

    /// Network settings shared by every architecture of this run, searched and deployed alike: one
    /// width and one patch for every stage (C2FNAS's point; no proxy search).
    func networkSettings(_ data: TrainingData) -> NetworkSettings {
        NetworkSettings(baseWidth: config.width, inputChannels: data.channels,
                        classes: data.classes, patch: data.patchDHW)
    }

    /// The segmentation loss every stage optimises: Dice (batch or per patch, per config) + CE.
    func segmentationLoss(logits: Variable, labels: Tensor) -> Variable {
        diceCELoss(logits: logits, labels: labels, batchDice: config.batchDice)
    }

    var searchSpace: SearchSpace {
        SearchSpace(cells: config.cells, levels: config.levels, rule: config.rule)
    }

    var coarseOp: CellOp { config.coarseOp }
}

public enum EngineError: Error, CustomStringConvertible {
    case diverged(step: Int)
    case checkpointMismatch(String)
    case olderCheckpoint(path: String, found: Int, expected: Int)
    case planUnreadable(path: String, reason: String)
    case planMismatch(path: String, changes: [String])
    case noCandidates
    /// Another process holds the lock of this run folder (or of one cluster's folder).
    case busy(path: String, holder: String)
    /// A cluster process was started on a run folder that has not been planned.
    case notPlanned(String)
    case noSuchCluster(Int, clusters: Int)
    /// The stages after the coarse one were started before every cluster had its result.
    case clustersNotDone([Int], run: String, failures: [String])

    public var description: String {
        switch self {
        case let .diverged(step):
            return "training diverged: five non-finite losses in a row up to step \(step), even after lowering the learning rate. Lower the learning rate (e.g. --set weightLR=0.01 --set finalLR=0.005) and resume; the last checkpoint holds finite weights."
        case let .checkpointMismatch(what):
            return "the checkpoint does not match this run (\(what)). It was written by another version or config; start a new run folder."
        case let .olderCheckpoint(path, found, expected):
            return "the checkpoint \(path) was made by \(found < expected ? "an older" : "a newer") version of c2fnas (run format \(found); this version reads format \(expected)), so it cannot be resumed bit for bit. Finish the run with the version that started it, or start a new run folder (the dataset and config can be reused)."
        case let .planUnreadable(path, reason):
            return "cannot use the plan \(path): \(reason). Make one with `c2fnas plan DATASET --out plan.json` (edit it if needed) and pass it with --plan."
        case let .planMismatch(path, changes):
            return "the plan \(path) was made from another version of this dataset: \(changes.joined(separator: "; ")). Make a new plan with `c2fnas plan DATASET`, or point the run at the dataset the plan was made from."
        case let .busy(path, holder):
            return "\(path) is in use by another process (\(holder.isEmpty ? "unknown" : holder)). Wait for it to end, or stop it (Ctrl-C, or scancel for a Slurm task); two processes never write the same run files."
        case let .notPlanned(path):
            return "\(path) has not been planned, so a cluster cannot start. Run `c2fnas search DATASET --run \(path) --stage plan` first (the --executor options do this for you)."
        case let .noSuchCluster(k, n):
            return "there is no cluster \(k) in this run: its coarse stage has \(n) clusters, numbered 0 to \(n - 1)."
        case let .clustersNotDone(ks, run, failures):
            let list = ks.map { String($0) }.joined(separator: ", ")
            return "clusters \(list) of \(run) have no result yet\(failures.isEmpty ? "" : " (\(failures.joined(separator: "; ")))"), so the stages after the coarse one cannot start. Run the same `c2fnas search ... --executor` command again: it resubmits only those clusters, which resume from their checkpoints. `c2fnas status \(run)` shows each cluster."
        case .noCandidates:
            return "the coarse stage scored no topology, so there is nothing to select. Check that generations and population are positive."
        }
    }
}
