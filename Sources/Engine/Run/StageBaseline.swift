import Foundation
import NN
import Tensor
import Search
import Volume

/// The references of the honest evaluation: a MAC-matched U-Net (`baseline`) and the coarse winner
/// with the coarse op everywhere (`ablation`), each trained exactly like the final network (same
/// steps, batches, augmentation, optimiser and schedule) and evaluated on the same test cases.
///
/// Checkpoints carry the final network's tensors unchanged (the export stage reads them) next to
/// the reference's own, under the reference's role as prefix.
extension SearchEngine {
    func stageBaseline() throws {
        if config.baseline == .on {
            let data = try trainingData()
            let searched = try finalArchitecture(data)
            let match = try MatchedBaseline.unet(matching: searched)
            let unet = match.architecture
            let note = "U-Net w \(unet.baseWidth), \(match.cellsPerStage) cell(s) per stage, \(unet.levels) levels; multiply-adds "
                + String(format: "%.3g vs %.3g (%.2f×)", Double(match.macs), Double(match.targetMACs), match.ratio)
            if !match.withinTolerance {
                log("baseline: no U-Net width within ±10 % of the searched net's multiply-adds; closest is \(note)", .warning)
            }
            try trainAndCompare(role: "baseline", arch: unet, note: note, step: \.baselineStep)
        }
        progress.stage = .ablation
        try checkpoint(pendingTensors ?? [:])
    }

    func stageAblation() throws {
        if config.ablation == .on, fixedArchitecture == nil {
            let data = try trainingData()
            let searched = try finalArchitecture(data)
            let ops = [CellOp](repeating: coarseOp, count: searched.topology.cellCount)
            if searched.ops == ops {
                log("ablation: the fine stage kept \(coarseOp.rawValue) in every cell, so the ablation is the searched network itself; nothing to train")
            } else {
                var arch = searched.with(topology: searched.topology, ops: ops)
                arch.name = "ablation-\(coarseOp.rawValue)"
                try trainAndCompare(role: "ablation", arch: arch,
                                    note: "the coarse winner with \(coarseOp.rawValue) in every cell (no fine stage)",
                                    step: \.ablationStep)
            }
        }
        progress.stage = .crossValidation
        try checkpoint(pendingTensors ?? [:])
    }

    /// Trains `arch` from scratch like the final network, evaluates it on the test cases and emits
    /// its metrics and the comparison with the searched network.
    private func trainAndCompare(role: String, arch: Architecture, note: String, step: WritableKeyPath<RunProgress, Int>) throws {
        let data = try trainingData()
        emit(.stageStarted(stage: progress.stage, detail: "training \(arch.name) (\(note))"))
        let cost = try NetworkGraph(arch).cost()
        // The final stage's batches: same cases, patches and augmentation at every step.
        let net = try trainLikeFinal(arch, label: "\(role) training", prefix: role + ".", step: step) { rng in
            data.batch(size: config.batch, rng: &rng)
        }
        let metrics = try evaluateOnTest(net, role: role, arch: arch, cost: cost, writePredictions: false).metrics
        progress.testMetrics[role] = metrics
        emit(.testMetrics(metrics))
        if let searched = progress.testMetrics["searched"] {
            let c = ModelComparison(searched: searched, reference: metrics, note: note,
                                    resamples: config.bootstrapResamples, seed: config.seed ^ SeedDomain.bootstrap.rawValue)
            progress.comparisons[role] = c
            emit(.comparison(c))
        }
        emit(.stageFinished(stage: progress.stage))
    }

    /// Prefixes of the reference networks' tensors in a checkpoint; everything else is the final
    /// network's and is carried through unchanged.
    static let referencePrefixes = ["baseline.", "ablation.", "fold."]

    /// Trains `arch` from scratch exactly like the final stage (optimiser, poly schedule, clip, step
    /// count, per-step batch seeds; `batch` draws step s's batch from its generator), resumable:
    /// its tensors are checkpointed under `prefix` next to the carried final-network tensors.
    func trainLikeFinal(_ arch: Architecture, label: String, prefix: String, step: WritableKeyPath<RunProgress, Int>,
                        batch: (inout RNG) -> (input: Tensor, labels: Tensor)) throws -> GraphNetwork {
        // Initialised like the final network (same seed domain) and with the same optimiser.
        let (net, store) = try finalNetwork(arch)
        let optimizer = finalOptimizer(net)
        // The same number of steps as the searched network's final training (the budget plan's, if any).
        let steps = finalSteps
        let schedule = PolyLRSchedule(baseLearningRate: Float(config.finalLR), totalSteps: max(1, steps))
        let saved = pendingTensors ?? [:]
        let carried = saved.filter { kv in !Self.referencePrefixes.contains { kv.key.hasPrefix($0) } }
        let own = Dictionary(uniqueKeysWithValues: saved.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
        if !own.isEmpty { try restore(own, store: store, optimizers: [("sgd", optimizer)]) }
        pendingTensors = carried
        let snapshot = {
            var t = carried
            for (k, v) in self.tensors(store: store, optimizers: [("sgd", optimizer)]) { t[prefix + k] = v }
            return t
        }
        while progress[keyPath: step] < steps {
            if gate.takeSkip() { log("\(label) cut short by request at step \(progress[keyPath: step])"); break }
            var rng = SeedDomain.finalBatch.rng(config.seed, progress[keyPath: step])
            optimizer.learningRate = schedule.learningRate(atStep: progress[keyPath: step])
            let (x, y) = batch(&rng)
            let loss = try trainStep(net, optimizer, input: x, labels: y, clip: config.finalGradClip)
            progress[keyPath: step] += 1
            progress.globalStep += 1
            emit(.trainLoss(value: loss))
            emit(.progress(done: progress[keyPath: step], total: steps, label: label))
            recordMetric(loss: loss, dice: nil)
            try betweenSteps(snapshot)
        }
        return net
    }

    /// Sliding-window inference of `net` on every test case on its original grid: Dice and NSD per
    /// case and class, mean HD95 per class, optionally writing the predictions.
    func evaluateOnTest(_ net: GraphNetwork, role: String, arch: Architecture, cost: CostEstimate,
                        writePredictions: Bool) throws -> (metrics: TestMetrics, hd95: [Double]) {
        let data = try trainingData()
        let cases = data.testCases
        let window = SlidingWindow(patchSize: data.plan.patch, overlap: config.overlap,
                                   mirrorAxes: config.mirrorTTA ? [0, 1, 2] : [], output: .logits,
                                   batch: Inference.windowBatch)
        let labels = Array(1..<data.classes)
        var dicePerCase: [[Double]] = [], nsd = [Double](repeating: 0, count: labels.count), hd = nsd
        let network = Inference.patchBatchNetwork(net)
        for (i, c) in cases.enumerated() {
            try checkStop()
            let (image, reference) = try data.dataset.loadCase(c)
            let (_, pred) = try predictCase(image: image.volume, preprocessor: Preprocessor(plan: data.plan),
                                            window: window, batchNetwork: network)
            let m = try Metrics.evaluate(prediction: pred, reference: reference, labels: labels,
                                         defaultTolerance: config.nsdToleranceMM)
            dicePerCase.append(m.map(\.dice))
            for (j, r) in m.enumerated() { nsd[j] += r.nsd; hd[j] += r.hd95 }
            if writePredictions {
                let out = directory.predictions.appendingPathComponent("\(c.id).nii.gz")
                try NIfTI.write(pred, like: image.header, to: out)
                emit(.prediction(caseID: c.id, path: out.path))
            }
            emit(.progress(done: i + 1, total: cases.count, label: "\(role) on test cases"))
        }
        let n = Double(max(1, cases.count))
        let dicePerClass = labels.indices.map { j in dicePerCase.reduce(0) { $0 + $1[j] } / n }
        let metrics = TestMetrics(role: role, architecture: arch.name, params: cost.parameters, macs: Double(cost.macs),
                                  caseIDs: cases.map(\.id), dicePerCase: dicePerCase, dicePerClass: dicePerClass,
                                  nsdPerClass: nsd.map { $0 / n }, testIsValidation: data.split.testIsValidation)
        return (metrics, hd.map { $0 / n })
    }
}

extension SearchEngine {
    /// Case ids each stage has read from the training data so far (by stage name), for audits.
    public func caseReads() -> [String: Set<String>] { data?.caseReads ?? [:] }
}
