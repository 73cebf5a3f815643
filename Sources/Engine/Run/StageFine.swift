import Foundation
import NN
import Search
import Volume

extension SearchEngine {
    /// Fine stage: on the chosen topology, every cell becomes a mixed op over {2D, 3D, P3D}
    /// weighted by softmax(α). Training cases are split 50/50 into A (weights) and B (α). The
    /// first `fineWarmup` of the steps train weights only; then each step takes one weight step on
    /// A and one α step on B (first order). The α loss adds `entropyWeight` × the mean entropy of
    /// softmax(α), ramped in linearly after warm-up, so the ops commit before the derived network is
    /// read off. The derived op of a cell is argmax softmax(α).
    func stageFine() throws {
        let data = try trainingData()
        guard let topology = progress.chosen else { throw EngineError.noCandidates }
        let settings = networkSettings(data)
        emit(.stageStarted(stage: .fine, detail: "op search on \(topology.levels.map(String.init).joined())"))
        let arch = settings.architecture(name: "fine", topology: topology,
                                         ops: Array(repeating: coarseOp, count: topology.levels.count), levels: config.levels)
        let store = ParameterStore(seed: SeedDomain.fineInit.seed(config.seed))
        let net = GraphNetwork(graph: try NetworkGraph(arch), store: store, mixedOps: true)
        let sgd = SGD(parameters: net.parameters, learningRate: Float(config.weightLR),
                      momentum: Float(config.weightMomentum), weightDecay: Float(config.weightDecay))
        let adam = Adam(parameters: net.alphas, learningRate: Float(config.alphaLR),
                        beta1: Float(config.alphaBetas[0]), beta2: Float(config.alphaBetas[1]), weightDecay: 0)
        let steps = fineSteps
        let schedule = PolyLRSchedule(baseLearningRate: Float(config.weightLR), totalSteps: max(1, steps))
        if let saved = pendingTensors {
            try restore(saved, store: store, optimizers: [("sgd", sgd), ("adam", adam)])
            pendingTensors = nil
        }
        let snapshot = { self.tensors(store: store, optimizers: [("sgd", sgd), ("adam", adam)]) }
        // Seeded 50/50 split of the training cases into A (weights) and B (α).
        var splitRNG = SeedDomain.fineSplit.rng(config.seed)
        var order = Array(data.train.indices)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, splitRNG.int(below: i + 1)) }
        let half = max(1, order.count / 2)
        let setA = Array(order.prefix(half)), setB = order.count > 1 ? Array(order.suffix(order.count - half)) : setA
        let warmup = Int((Double(steps) * config.fineWarmup).rounded())
        let names = GraphNetwork.opSet.map(\.rawValue)
        if progress.fineStep == 0 { emit(.alpha(probabilities: net.opProbabilities, opNames: names)) }
        while progress.fineStep < steps {
            if gate.takeSkip() { log("fine stage cut short by request"); break }
            var rng = SeedDomain.fineBatch.rng(config.seed, progress.fineStep)
            sgd.learningRate = schedule.learningRate(atStep: progress.fineStep)
            let (xa, ya) = data.batch(size: config.batch, rng: &rng, subset: setA)
            let iterationStart = Date()
            let loss = try trainStep(net, sgd, input: xa, labels: ya, clip: config.gradClip)
            for a in net.alphas { a.grad = nil }
            if progress.fineStep >= warmup {
                let (xb, yb) = data.batch(size: config.batch, rng: &rng, subset: setB)
                // The weights are constants in the α step: their gradients would be discarded.
                Parameter.withFrozen(net.parameters) {
                    let alphaLoss = segmentationLoss(logits: net(Variable(xb)), labels: yb)
                    if alphaLoss.item.isFinite {
                        alphaLoss.backward()
                        let ramp = Double(progress.fineStep - warmup + 1) / Double(max(1, steps - warmup))
                        AlphaEntropy.addGradient(to: net.alphas, weight: config.entropyWeight * min(1, ramp))
                        adam.step()
                    }
                }
                adam.zeroGrad()
                net.zeroGrad()
            }
            if progress.fineStep >= warmup { observe(fineStep: Date().timeIntervalSince(iterationStart)) }
            progress.fineStep += 1
            progress.globalStep += 1
            emit(.trainLoss(value: loss))
            emit(.progress(done: progress.fineStep, total: steps, label: progress.fineStep > warmup ? "fine (α + weights)" : "fine (warm-up)"))
            if progress.fineStep % 5 == 0 || progress.fineStep == steps {
                let p = net.opProbabilities
                progress.alphaHistory.append(p)
                emit(.alpha(probabilities: p, opNames: names))
            }
            recordMetric(loss: loss, dice: nil)
            try betweenSteps(snapshot)
        }
        let ops = net.derivedOps
        progress.derivedOps = ops
        emit(.alpha(probabilities: net.opProbabilities, opNames: names))
        emit(.topology(role: .final, levels: topology.levels, ops: ops.map(\.rawValue)))
        let entropy = AlphaEntropy.mean(net.opProbabilities)
        progress.alphaEntropy = entropy
        log(String(format: "derived ops: %@; mean α entropy %.3f (uniform ln 3 = %.3f, %.0f %% lower)",
                   ops.map(\.rawValue).joined(separator: " "), entropy, Foundation.log(3.0),
                   100 * (1 - entropy / Foundation.log(3.0))))
        emit(.stageFinished(stage: .fine))
        progress.stage = .final
        replan(remaining: ["final", "evaluation"])
        try checkpoint([:])
    }

    /// The architecture the search produced (topology + derived ops), with provenance.
    func finalArchitecture(_ data: TrainingData) throws -> Architecture {
        guard let topology = progress.chosen else { throw EngineError.noCandidates }
        let ops = progress.derivedOps ?? Array(repeating: coarseOp, count: topology.levels.count)
        var arch = networkSettings(data).architecture(name: "c2fnas-\(data.dataset.name)", topology: topology,
                                                      ops: ops, levels: config.levels)
        arch.provenance = Provenance(source: "c2fnas search (\(config.preset))", seed: config.seed,
                                     dataset: data.dataset.name, metrics: progress.metrics)
        return arch
    }
}
