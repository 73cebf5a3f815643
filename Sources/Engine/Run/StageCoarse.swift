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
    /// single-path sampling (every member in turn, a fresh permutation each pass) and run regularised
    /// evolution, scoring topologies on the run's fixed fitness patches. A noise guard re-trains a
    /// supernet whose ranking is within the noise of one score, and says so when it stays there.
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
        let patches = fitnessPatches(data)
        if progress.budget == nil {
            try planSteps(data, clustering: clustering, settings: settings, patches: patches)
            try checkpoint([:])  // a resumed run keeps this plan (with a budget, re-measuring could change it)
        }
        if role == .plan { throw PartDone() }
        if role == .finish {
            // Every cluster must have been done by its own process; none is trained here.
            let missing = (progress.cluster..<clustering.k).filter { directory.clusterFolder($0).loadResult() == nil }
            if !missing.isEmpty {
                let failures = missing.compactMap { k in directory.clusterFolder(k).loadFailure().map { "cluster \(k) on \($0.node): \($0.message)" } }
                throw EngineError.clustersNotDone(missing, run: directory.url.path, failures: failures)
            }
        }
        let metric = config.fitnessMetric
        while progress.cluster < clustering.k {
            let k = progress.cluster
            if case let .cluster(mine) = role, k != mine { break }  // a cluster process does its own cluster only
            // A cluster done by its own process (local jobs or a Slurm task) is adopted, not re-trained.
            if role != .cluster(k), progress.supernetStep == 0, progress.evolution == nil,
               let result = directory.clusterFolder(k).loadResult() {
                try adopt(result, clusters: clustering.k)
                continue
            }
            // Candidates over the memory / MAC budget are never trained in the supernet nor scored.
            let members = try admittedMembers(clustering.members[k], settings: settings)
            guard !members.isEmpty else {
                log("cluster \(k + 1): no topology fits maxMemoryMB / maxMACs; the cluster has no finalist", .warning)
                progress.cluster += 1
                try checkpoint([:])
                continue
            }
            emit(.stageStarted(stage: .coarse, detail: "cluster \(k + 1)/\(clustering.k) · \(members.count) topologies"))
            emit(.topology(role: .medoid, levels: clustering.medoids[k].levels, ops: []))
            let supernet = try SupernetModel(members: members, settings: settings, levels: config.levels, op: coarseOp,
                                             seed: SeedDomain.supernetInit.seed(config.seed, k))
            let sgd = SGD(parameters: supernet.parameters, learningRate: Float(config.supernetLR),
                          momentum: Float(config.weightMomentum), weightDecay: Float(config.weightDecay))
            if let saved = pendingTensors {
                try restore(saved, store: supernet.store, optimizers: [("sgd", sgd)])
                pendingTensors = nil
            }
            let snapshot = { self.tensors(store: supernet.store, optimizers: [("sgd", sgd)]) }
            let baseSteps = supernetSteps
            let extra = max(1, Int(Double(baseSteps) * config.noiseGuardSteps))
            if progress.supernetTarget == nil { progress.supernetTarget = baseSteps }
            rounds: while true {
                // 1. Supernet training, one member per step, every member once per pass.
                while progress.supernetStep < progress.supernetTarget! && progress.evolution == nil {
                    if gate.takeSkip() { log("supernet training of cluster \(k + 1) cut short by request"); break }
                    let step = progress.supernetStep
                    let t = fairMember(members, cluster: k, step: step)
                    let net = try supernet.network(for: t)
                    sgd.learningRate = supernetLearningRate(step: step, base: baseSteps, extra: extra)
                    var rng = SeedDomain.supernetBatch.rng(config.seed, k, step)
                    let (x, y) = data.batch(size: config.batch, rng: &rng)
                    let started = Date()
                    let loss = try trainStep(net, sgd, input: x, labels: y, clip: config.gradClip)
                    observe(trainStep: Date().timeIntervalSince(started))
                    progress.supernetStep += 1
                    progress.globalStep += 1
                    emit(.trainLoss(value: loss))
                    emit(.topology(role: .current, levels: t.levels, ops: []))
                    emit(.progress(done: progress.supernetStep, total: progress.supernetTarget!, label: "supernet \(k + 1)/\(clustering.k)"))
                    recordMetric(loss: loss, dice: nil)
                    try betweenSteps(snapshot)
                }
                // 2. Evolution with supernet fitness.
                if progress.evolution == nil {
                    let evo = EvolutionConfig(populationSize: config.population, generations: config.generations,
                                              tournamentSize: min(config.tournament, config.population))
                    progress.evolution = try EvolutionState(space: space, members: members, cluster: k, settings: settings,
                                                            op: coarseOp, config: evo, memory: .calibrated,
                                                            seed: SeedDomain.evolution.seed(config.seed))
                    try checkpoint(snapshot())
                }
                while !progress.evolution!.isFinished {
                    if gate.takeSkip() { log("evolution of cluster \(k + 1) cut short by request"); break }
                    let initial = !progress.evolution!.initialised
                    let gen = initial ? 0 : progress.evolution!.generation + 1
                    emit(.progress(done: gen, total: config.generations, label: "evolution \(k + 1)/\(clustering.k)"))
                    // Step a local copy: the fitness closure emits events, which touch `progress`.
                    var evolution = progress.evolution!
                    var scores: [FitnessScore] = []
                    let scored = try evolution.step { t in
                        let net = try supernet.network(for: t)
                        emit(.topology(role: .current, levels: t.levels, ops: []))
                        let s = patches.score(net, metric: metric)
                        scores.append(s)
                        return s.value(metric)
                    }
                    if initial {
                        // The noise guard, on the initial population: is its spread more than the noise of one score?
                        let (decision, spread, noise) = NoiseGuard.decide(scores, metric: metric, roundsTaken: progress.guardRounds,
                                                                          maxRounds: config.noiseGuardRounds, extraSteps: config.noiseGuardSteps)
                        if decision == .retrain {
                            progress.guardRounds += 1
                            progress.supernetTarget! += extra
                            progress.evolution = nil
                            log(String(format: "cluster %d: fitness spread %.4f is within the noise of one score (%.4f); training its supernet %d more steps (guard round %d/%d)",
                                       k + 1, spread, noise, extra, progress.guardRounds, config.noiseGuardRounds))
                            try checkpoint(snapshot())
                            continue rounds
                        }
                        let below = decision == .accept(belowNoise: true)
                        let signal = RankingSignal(cluster: k, spread: spread, noise: noise, extraRounds: progress.guardRounds,
                                                   supernetSteps: progress.supernetStep, belowNoise: below)
                        progress.signals.append(signal)
                        emit(.rankingSignal(signal))
                        if below {
                            log(RunWarning.fitnessBelowNoise(cluster: k + 1, spread: spread, noise: noise,
                                                             steps: progress.supernetStep).description, .warning)
                        } else {
                            log(String(format: "cluster %d: fitness spread %.4f over %d topologies, noise of one score %.4f",
                                       k + 1, spread, scores.count, noise))
                        }
                    }
                    progress.evolution = evolution
                    for c in scored { record(candidate: c) }
                    if let best = progress.evolution!.best {
                        emit(.topology(role: .best, levels: best.topology.levels, ops: best.ops.map(\.rawValue)))
                    }
                    try betweenSteps(snapshot)
                    try checkpoint(snapshot())
                }
                break
            }
            if let best = progress.evolution!.best { progress.finalists.append(best) }
            progress.candidates += progress.evolution!.candidates
            progress.evolution = nil
            progress.supernetStep = 0
            progress.supernetTarget = nil
            progress.guardRounds = 0
            progress.cluster += 1
            emit(.stageFinished(stage: .coarse))
            try checkpoint([:])
        }
        if case .cluster = role { throw PartDone() }
        progress.stage = .selection
        replan(remaining: ["selection", "fine", "final", "evaluation"])
        try checkpoint([:])
    }

    /// The member trained at `step`: pass p = step / members visits every member once, in an order
    /// drawn for that pass, so each member gets the same number of steps (± 1).
    func fairMember(_ members: [Topology], cluster k: Int, step: Int) -> Topology {
        let pass = step / members.count
        var rng = SeedDomain.supernetOrder.rng(config.seed, k, pass)
        var order = Array(members.indices)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.int(below: i + 1)) }
        return members[order[step % members.count]]
    }

    /// Linear warm-up over the first `supernetWarmup` of the base steps, then poly decay to the end of
    /// them; each noise-guard round restarts at half the base rate and decays over its extra steps.
    func supernetLearningRate(step: Int, base: Int, extra: Int) -> Float {
        let lr = Float(config.supernetLR)
        if step >= base {
            let pos = (step - base) % max(1, extra)
            return PolyLRSchedule(baseLearningRate: lr / 2, totalSteps: max(1, extra)).learningRate(atStep: pos)
        }
        let warm = Int(Double(base) * config.supernetWarmup)
        if step < warm { return lr * Float(step + 1) / Float(warm + 1) }
        return PolyLRSchedule(baseLearningRate: lr, totalSteps: max(1, base - warm)).learningRate(atStep: step - warm)
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
        if let line = try? enc.encode(r) { append(String(decoding: line, as: UTF8.self), to: work.candidates) }
    }
}
