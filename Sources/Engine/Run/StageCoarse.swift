import Foundation
import NN
import Search
import Volume

extension SearchEngine {
    /// Loads the dataset, fingerprints it and writes plan.json.
    func stagePlan() throws {
        emit(.stageStarted(stage: .plan, detail: "fingerprint and plan"))
        let data = try trainingData()
        try AtomicFile.writeJSON(data.plan, to: directory.plan)
        log("plan: spacing \(data.plan.targetSpacing.map { String(format: "%.2f", $0) }.joined(separator: "×")) mm, patch \(data.patchDHW.map(String.init).joined(separator: "×")) (d×h×w), \(data.train.count) training / \(data.validation.count) validation cases")
        emit(.stageFinished(stage: .plan))
        if let arch = fixedArchitecture {
            progress.chosen = arch.topology
            progress.derivedOps = arch.ops
            emit(.topology(role: .final, levels: arch.topology.levels, ops: arch.ops.map(\.rawValue)))
            log("training the given architecture \(arch.name); no search")
            progress.stage = .final
        } else {
            progress.stage = .coarse
        }
        try checkpoint([:])
    }

    /// Coarse stage: cluster the topologies, then per cluster train a weight-sharing supernet by
    /// single-path sampling and run regularised evolution with supernet fitness.
    func stageCoarse() throws {
        let data = try trainingData()
        let space = searchSpace
        if progress.clustering == nil {
            let all = space.enumerate()
            let k = min(config.clusters, all.count)
            progress.clustering = try KMedoids.pam(all, k: k, seed: SeedDomain.clustering.seed(config.seed))
            log("\(all.count) topologies (\(space.rule.rawValue), \(config.cells) cells, \(config.levels) levels) in \(k) clusters")
        }
        let clustering = progress.clustering!
        let settings = networkSettings(data)
        while progress.cluster < clustering.k {
            let k = progress.cluster, members = clustering.members[k]
            emit(.stageStarted(stage: .coarse, detail: "cluster \(k + 1)/\(clustering.k) · \(members.count) topologies"))
            emit(.topology(role: .medoid, levels: clustering.medoids[k].levels, ops: []))
            let supernet = try SupernetModel(members: members, settings: settings, levels: config.levels, op: coarseOp,
                                             seed: SeedDomain.supernetInit.seed(config.seed, k))
            let sgd = SGD(parameters: supernet.parameters, learningRate: Float(config.supernetLR),
                          momentum: Float(config.weightMomentum), weightDecay: Float(config.weightDecay))
            let schedule = PolyLRSchedule(baseLearningRate: Float(config.supernetLR), totalSteps: max(1, config.supernetSteps))
            if let saved = pendingTensors {
                try restore(saved, store: supernet.store, optimizers: [("sgd", sgd)])
                pendingTensors = nil
            }
            let snapshot = { self.tensors(store: supernet.store, optimizers: [("sgd", sgd)]) }
            // 1. Supernet training, one sampled member per step.
            while progress.supernetStep < config.supernetSteps && progress.evolution == nil {
                if gate.takeSkip() { log("supernet training of cluster \(k + 1) cut short by request"); break }
                var rng = SeedDomain.supernetBatch.rng(config.seed, k, progress.supernetStep)
                let t = members[rng.int(below: members.count)]
                let net = try supernet.network(for: t)
                sgd.learningRate = schedule.learningRate(atStep: progress.supernetStep)
                let (x, y) = data.batch(size: config.batch, rng: &rng)
                let loss = try trainStep(net, sgd, input: x, labels: y, clip: config.gradClip)
                progress.supernetStep += 1
                progress.globalStep += 1
                emit(.trainLoss(value: loss))
                emit(.topology(role: .current, levels: t.levels, ops: []))
                emit(.progress(done: progress.supernetStep, total: config.supernetSteps, label: "supernet \(k + 1)/\(clustering.k)"))
                recordMetric(loss: loss, dice: nil)
                try betweenSteps(snapshot)
            }
            // 2. Evolution with supernet fitness.
            if progress.evolution == nil {
                let evo = EvolutionConfig(populationSize: config.population, generations: config.generations,
                                          tournamentSize: min(config.tournament, config.population))
                progress.evolution = try EvolutionState(space: space, members: members, cluster: k, settings: settings,
                                                        op: coarseOp, config: evo, memory: .calibrated, seed: SeedDomain.evolution.seed(config.seed))
                try checkpoint(snapshot())
            }
            let fitnessCases = config.fitnessCases > 0 ? Array(data.validation.prefix(config.fitnessCases)) : data.validation
            while !progress.evolution!.isFinished {
                if gate.takeSkip() { log("evolution of cluster \(k + 1) cut short by request"); break }
                let gen = progress.evolution!.initialised ? progress.evolution!.generation + 1 : 0
                emit(.progress(done: gen, total: config.generations, label: "evolution \(k + 1)/\(clustering.k)"))
                // Step a local copy: the fitness closure emits events, which touch `progress`.
                var evolution = progress.evolution!
                let scored = try evolution.step { t in
                    let net = try supernet.network(for: t)
                    emit(.topology(role: .current, levels: t.levels, ops: []))
                    return try Inference.validationDice(net, cases: fitnessCases, classes: data.classes,
                                                        patch: data.plan.patch, overlap: config.fitnessOverlap).mean
                }
                progress.evolution = evolution
                for c in scored { record(candidate: c) }
                if let best = progress.evolution!.best {
                    emit(.topology(role: .best, levels: best.topology.levels, ops: best.ops.map(\.rawValue)))
                }
                try betweenSteps(snapshot)
                try checkpoint(snapshot())
            }
            if let best = progress.evolution!.best { progress.finalists.append(best) }
            progress.candidates += progress.evolution!.candidates
            progress.evolution = nil
            progress.supernetStep = 0
            progress.cluster += 1
            emit(.stageFinished(stage: .coarse))
            try checkpoint([:])
        }
        progress.stage = .selection
        try checkpoint([:])
    }

    func candidateID(_ c: Candidate) -> String {
        "k\(c.cluster + 1)-" + c.topology.levels.map(String.init).joined()
    }

    func record(candidate c: Candidate) {
        let r = CandidateRecord(id: candidateID(c), cluster: c.cluster, generation: c.generation, levels: c.topology.levels,
                                ops: c.ops.map(\.rawValue), fitness: c.fitness, params: c.parameters,
                                macs: Double(c.macs), memoryBytes: Double(c.memoryBytes))
        emit(.candidate(r))
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        if let line = try? enc.encode(r) { append(String(decoding: line, as: UTF8.self), to: directory.candidates) }
    }

    /// Selection: the best finalist by supernet fitness (ties: fewer multiply-adds).
    func stageSelection() throws {
        emit(.stageStarted(stage: .selection, detail: "\(progress.finalists.count) finalists"))
        guard let best = Candidate.best(of: progress.finalists) else { throw EngineError.noCandidates }
        progress.chosen = best.topology
        log("selected \(candidateID(best)) (Dice \(String(format: "%.3f", best.fitness)), \(best.parameters) parameters)")
        emit(.topology(role: .best, levels: best.topology.levels, ops: best.ops.map(\.rawValue)))
        emit(.stageFinished(stage: .selection))
        progress.stage = .fine
        try checkpoint([:])
    }
}
