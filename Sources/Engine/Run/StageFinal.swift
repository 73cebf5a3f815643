import Foundation
import NN
import Search
import Volume
import Tensor

extension SearchEngine {
    /// The derived network trained from scratch: SGD with Nesterov momentum and poly decay,
    /// validation Dice (sliding window) every `validateEvery` steps.
    func stageFinal() throws {
        let data = try trainingData()
        let arch = try finalArchitecture(data)
        emit(.stageStarted(stage: .final, detail: "training \(arch.ops.map(\.rawValue).joined(separator: " ")) from scratch"))
        let (net, store) = try finalNetwork(arch)
        let sgd = finalOptimizer(net)
        let steps = finalSteps
        let schedule = PolyLRSchedule(baseLearningRate: Float(config.finalLR), totalSteps: max(1, steps))
        if let saved = pendingTensors {
            try restore(saved, store: store, optimizers: [("sgd", sgd)])
            pendingTensors = nil
        }
        let snapshot = { self.tensors(store: store, optimizers: [("sgd", sgd)]) }
        while progress.finalStep < steps {
            if gate.takeSkip() { log("final training cut short by request at step \(progress.finalStep)"); break }
            var rng = SeedDomain.finalBatch.rng(config.seed, progress.finalStep)
            sgd.learningRate = schedule.learningRate(atStep: progress.finalStep)
            let (x, y) = data.batch(size: config.batch, rng: &rng)
            let loss = try trainStep(net, sgd, input: x, labels: y, clip: config.finalGradClip)
            progress.finalStep += 1
            progress.globalStep += 1
            emit(.trainLoss(value: loss))
            emit(.progress(done: progress.finalStep, total: steps, label: "final training"))
            var dice: Double?
            if config.validateEvery > 0 && (progress.finalStep % config.validateEvery == 0) && progress.finalStep < steps {
                let v = try Inference.validationDice(net, cases: data.validation, classes: data.classes,
                                                     patch: data.plan.patch, overlap: config.fitnessOverlap)
                dice = v.mean
                emit(.validation(dice: v.mean, perClass: v.perClass))
            }
            recordMetric(loss: loss, dice: dice)
            try betweenSteps(snapshot)
        }
        emit(.stageFinished(stage: .final))
        progress.stage = .evaluation
        // Evaluation and export use these weights (in memory now, or from the checkpoint on resume).
        pendingTensors = snapshot()
        try checkpoint(pendingTensors!)
    }

    /// A stand-alone network for `arch`, fresh (seeded) or with the weights a checkpoint holds.
    /// The final training's optimiser (also the baseline's, ablation's and cross-validation folds'):
    /// SGD with Nesterov momentum, or Adam, at `finalLR` with `finalWeightDecay`.
    func finalOptimizer(_ net: GraphNetwork) -> any Optimizer {
        config.finalOptimizer == .adam
            ? Adam(parameters: net.parameters, learningRate: Float(config.finalLR), weightDecay: Float(config.finalWeightDecay))
            : SGD(parameters: net.parameters, learningRate: Float(config.finalLR), momentum: Float(config.weightMomentum),
                  nesterov: config.nesterov, weightDecay: Float(config.finalWeightDecay))
    }

    func finalNetwork(_ arch: Architecture) throws -> (GraphNetwork, ParameterStore) {
        let store = ParameterStore(seed: SeedDomain.finalInit.seed(config.seed))
        let net = GraphNetwork(graph: try NetworkGraph(arch), store: store)
        return (net, store)
    }

    /// Sliding-window inference of the final network on every test case (never used for a choice),
    /// on its original grid: Dice, NSD and HD95 per class, predictions written as NIfTI next to the run.
    func stageEvaluation() throws {
        let data = try trainingData()
        let arch = try finalArchitecture(data)
        emit(.stageStarted(stage: .evaluation, detail: "\(data.split.test.count) test cases" + (data.split.testIsValidation ? " (= the search-val cases)" : "")))
        let (net, store) = try finalNetwork(arch)
        if let saved = pendingTensors {
            try restore(saved, store: store, optimizers: [])
        }
        let labels = Array(1..<data.classes)
        let (test, hd) = try evaluateOnTest(net, role: "searched", arch: arch, cost: try NetworkGraph(arch).cost(), writePredictions: true)
        progress.testMetrics["searched"] = test
        emit(.testMetrics(test))
        progress.dicePerClass = test.dicePerClass
        progress.nsdPerClass = test.nsdPerClass
        let meanDice = test.meanDice
        progress.metrics["dice"] = meanDice
        progress.metrics["nsd"] = progress.nsdPerClass.reduce(0, +) / Double(max(1, labels.count))
        for (j, l) in labels.enumerated() {
            progress.metrics["dice.\(l)"] = progress.dicePerClass[j]
            if hd[j].isFinite { progress.metrics["hd95.\(l)"] = hd[j] }  // JSON has no infinity
        }
        emit(.validation(dice: meanDice, perClass: progress.dicePerClass))
        recordMetric(loss: nil, dice: meanDice)
        log("test: mean foreground Dice \(String(format: "%.4f", meanDice)); per class " +
            zip(labels, progress.dicePerClass).map { "\(data.dataset.labels[$0] ?? "\($0)") \(String(format: "%.3f", $1))" }.joined(separator: ", "))
        emit(.stageFinished(stage: .evaluation))
        progress.stage = .baseline
        try checkpoint(pendingTensors ?? tensors(store: store, optimizers: []))
    }

    /// Writes the export folder: architecture.json, weights.safetensors, plan.json, model-card.md.
    func stageExport() throws {
        let data = try trainingData()
        let arch = try finalArchitecture(data)
        emit(.stageStarted(stage: .export, detail: directory.export.path))
        let (net, store) = try finalNetwork(arch)
        if let saved = pendingTensors {
            try restore(saved, store: store, optimizers: [])
            pendingTensors = nil
        }
        try writeExport(arch: arch, weights: net.stateDict(), data: data, to: directory.export)
        emit(.exported(path: directory.export.path))
        emit(.stageFinished(stage: .export))
        progress.stage = .done
        try checkpoint([:])
    }

    func writeExport(arch: Architecture, weights: [String: Tensor]?, data: TrainingData, to out: URL) throws {
        let cost = try NetworkGraph(arch).cost()
        let names = (0..<data.classes).map { data.dataset.labels[$0] ?? "class \($0)" }
        var card = ModelCardInfo(name: arch.name, dataset: data.dataset.name, classes: Array(names.dropFirst()),
                                 architectureSummary: "levels \(arch.topology.levels.map(String.init).joined(separator: ",")); ops \(arch.ops.map(\.rawValue).joined(separator: ","))",
                                 params: cost.parameters, macs: Double(cost.macs), patch: data.patchDHW,
                                 spacing: data.plan.targetSpacing, dicePerClass: progress.dicePerClass,
                                 nsdPerClass: progress.nsdPerClass, searchSeconds: progress.workSeconds,
                                 seed: config.seed, preset: config.preset.rawValue, split: data.split,
                                 testMetrics: progress.testMetrics, comparisons: progress.comparisons,
                                 folds: progress.folds)
        card.searchEvidence = searchEvidence()
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        var files: [String: Data] = [
            "architecture.json": try arch.jsonData(),
            "plan.json": try enc.encode(data.plan),
            "model-card.md": Data(card.markdown().utf8),
            "evaluation.json": try enc.encode(card.evaluation),
        ]
        if let weights {
            files["weights.safetensors"] = SafeTensors.encode(weights, metadata: ["format": "pt", "architecture": arch.name])
        }
        try ExportFolder.write(files: files, to: out)
    }

    /// `e` in the workbench / `export --candidate`: a candidate's architecture (its weights
    /// exist only inside the supernet, so none are written) or the final model once trained.
    func exportCommand(_ id: String?) {
        do {
            if let id, progress.candidates.contains(where: { candidateID($0) == id })
                        || progress.evolution?.candidates.contains(where: { candidateID($0) == id }) == true {
                let out = directory.url.appendingPathComponent("candidates").appendingPathComponent(id)
                try FileManager.default.createDirectory(at: out.deletingLastPathComponent(), withIntermediateDirectories: true)
                try CandidateExport.write(candidate: id, run: directory, to: out)
                emit(.exported(path: out.path))
            } else {
                log("export: no candidate \(id ?? "(final)") yet; the final model is exported when the run finishes", .warning)
            }
        } catch {
            log("export failed: \(error)", .error)
        }
    }
}
