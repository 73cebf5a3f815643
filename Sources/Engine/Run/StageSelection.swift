import Foundation
import NN
import Search
import Volume

extension SearchEngine {
    /// Selection: choose the topology the fine stage refines, from the clusters' finalists.
    /// With `finalistSelection = train` every finalist is trained from scratch for the short stand-alone
    /// budget and the best on the fitness patches wins (ties: fewer multiply-adds); otherwise the best
    /// supernet fitness wins. With `audit`, further scored topologies (spread over clusters and fitness)
    /// are trained the same way and Kendall τ between supernet fitness and stand-alone fitness says
    /// whether the supernets ranked by evidence.
    func stageSelection() throws {
        guard !progress.finalists.isEmpty else { throw EngineError.noCandidates }
        let data = try trainingData()
        let list = standAloneList
        emit(.stageStarted(stage: .selection, detail: list.isEmpty ? "\(progress.finalists.count) finalists by fitness"
                           : "training \(list.count) topologies from scratch"))
        let patches = fitnessPatches(data)
        let settings = networkSettings(data)
        while progress.standAlone.count < list.count {
            let i = progress.standAlone.count, c = list[i]
            let result = try trainStandAlone(c, index: i, of: list.count, settings: settings, data: data, patches: patches)
            progress.standAlone.append(result)
            progress.standAloneStep = 0
            emit(.standAlone(result))
            log(String(format: "stand-alone %d/%d %@: fitness %.4f from scratch (supernet %.4f)", i + 1, list.count,
                       result.id, result.standAloneFitness, result.supernetFitness))
            try checkpoint([:])
        }
        if config.audit, progress.audit == nil, progress.standAlone.count >= 2 {
            let r = progress.standAlone
            let tau = RankingAudit.kendallTau(r.map(\.supernetFitness), r.map(\.standAloneFitness))
            let report = AuditReport(kendallTau: tau, topologies: r.count, steps: standAloneSteps,
                                     metric: config.fitnessMetric.rawValue)
            progress.audit = report
            emit(.audit(report))
            log(report.summary, tau < 0.2 ? .warning : .info)
        }
        let best: Candidate
        if config.finalistSelection == .train {
            let finalists = progress.finalists
            let scored = progress.standAlone.filter(\.isFinalist)
            best = finalists.max { a, b in
                let fa = scored.first { $0.levels == a.topology.levels }?.standAloneFitness ?? -1
                let fb = scored.first { $0.levels == b.topology.levels }?.standAloneFitness ?? -1
                if fa != fb { return fa < fb }
                if a.macs != b.macs { return a.macs > b.macs }
                return a.topology > b.topology
            }!
            let f = scored.first { $0.levels == best.topology.levels }?.standAloneFitness ?? 0
            log(String(format: "selected %@ by training from scratch (fitness %.4f; supernet %.4f), %d parameters",
                       candidateID(best), f, best.fitness, best.parameters))
        } else {
            best = Candidate.best(of: progress.finalists)!
            log("selected \(candidateID(best)) (supernet fitness \(String(format: "%.4f", best.fitness)), \(best.parameters) parameters)")
        }
        if let s = progress.signals.first(where: { $0.cluster == best.cluster }), s.belowNoise {
            log("the selected topology's cluster ranked within its noise: its choice inside the cluster is not evidence", .warning)
        }
        progress.chosen = best.topology
        emit(.topology(role: .best, levels: best.topology.levels, ops: best.ops.map(\.rawValue)))
        emit(.stageFinished(stage: .selection))
        progress.stage = .fine
        replan(remaining: ["fine", "final", "evaluation"])
        try checkpoint([:])
    }

    /// The topologies the selection stage trains from scratch: the finalists (for `train` selection
    /// and always in an audit) and, with `audit`, scored candidates up to `auditTopologies`.
    var standAloneList: [Candidate] {
        let train = config.finalistSelection == .train
        guard train || config.audit else { return [] }
        let total = config.audit ? max(config.auditTopologies, progress.finalists.count) : progress.finalists.count
        return RankingAudit.sample(candidates: progress.candidates, finalists: progress.finalists, total: total)
    }

    /// Steps of one stand-alone training (finalists and audit).
    var standAloneSteps: Int {
        progress.budget?.standAloneSteps ?? (config.finalistSteps > 0 ? config.finalistSteps : config.supernetSteps)
    }

    /// Trains `c` from scratch for `standAloneSteps` and scores it on the fitness patches. Every
    /// topology gets the same batches and the same initialisation stream (common random numbers, so
    /// differences between them are not differences of draws); resumable from a checkpoint.
    func trainStandAlone(_ c: Candidate, index: Int, of total: Int, settings: NetworkSettings, data: TrainingData,
                         patches: FitnessPatches) throws -> StandAloneResult {
        let arch = settings.architecture(name: candidateID(c), topology: c.topology, ops: c.ops, levels: config.levels)
        let store = ParameterStore(seed: SeedDomain.standAloneInit.seed(config.seed))
        let net = GraphNetwork(graph: try NetworkGraph(arch), store: store)
        let sgd = SGD(parameters: net.parameters, learningRate: Float(config.supernetLR),
                      momentum: Float(config.weightMomentum), weightDecay: Float(config.weightDecay))
        if let saved = pendingTensors {
            try restore(saved, store: store, optimizers: [("sgd", sgd)])
            pendingTensors = nil
        }
        let snapshot = { self.tensors(store: store, optimizers: [("sgd", sgd)]) }
        let steps = standAloneSteps
        let warm = Int(Double(steps) * config.supernetWarmup)
        let poly = PolyLRSchedule(baseLearningRate: Float(config.supernetLR), totalSteps: max(1, steps - warm))
        while progress.standAloneStep < steps {
            if gate.takeSkip() { log("stand-alone training of \(candidateID(c)) cut short by request"); break }
            let step = progress.standAloneStep
            sgd.learningRate = step < warm ? Float(config.supernetLR) * Float(step + 1) / Float(warm + 1)
                : poly.learningRate(atStep: step - warm)
            var rng = SeedDomain.standAloneBatch.rng(config.seed, step)
            let (x, y) = data.batch(size: config.batch, rng: &rng)
            let started = Date()
            let loss = try trainStep(net, sgd, input: x, labels: y, clip: config.gradClip)
            observe(trainStep: Date().timeIntervalSince(started))
            progress.standAloneStep += 1
            progress.globalStep += 1
            emit(.trainLoss(value: loss))
            emit(.progress(done: progress.standAloneStep, total: steps, label: "stand-alone \(index + 1)/\(total)"))
            recordMetric(loss: loss, dice: nil)
            try betweenSteps(snapshot)
        }
        let s = patches.score(net, metric: config.fitnessMetric)
        return StandAloneResult(id: candidateID(c), cluster: c.cluster, levels: c.topology.levels, supernetFitness: c.fitness,
                                standAloneFitness: s.value(config.fitnessMetric), standAloneDice: s.dice,
                                steps: progress.standAloneStep, macs: Double(c.macs),
                                isFinalist: progress.finalists.contains { $0.topology == c.topology })
    }
}
