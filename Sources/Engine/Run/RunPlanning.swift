import Foundation
import NN
import Search
import Volume

extension SearchEngine {
    /// The run's fixed fitness patches (drawn once per process from the validation split; the same
    /// seed draws the same patches after a resume).
    func fitnessPatches(_ data: TrainingData) -> FitnessPatches {
        if let fitnessSet { return fitnessSet }
        let cases = config.fitnessCases > 0 ? Array(data.validation.prefix(config.fitnessCases)) : data.validation
        let p = FitnessPatches(cases: cases, count: config.fitnessPatches, patch: data.plan.patch, classes: data.classes,
                               seed: SeedDomain.fitness.seed(config.seed))
        fitnessSet = p
        return p
    }

    // Step counts: the budget plan's when there is one, else the config's.
    var supernetSteps: Int { progress.budget?.supernetSteps ?? config.supernetSteps }
    var fineSteps: Int { progress.budget?.fineSteps ?? config.fineSteps }
    var finalSteps: Int { progress.budget?.finalSteps ?? config.finalSteps }

    /// The work counts of this run's stages, for the planner.
    func budgetWork(_ data: TrainingData, clustering: Clustering) -> BudgetWork {
        let perCluster = clustering.members.map { min(config.population, $0.count) + config.generations }
        let fitnessPerCluster = perCluster.max() ?? 0
        let train = config.finalistSelection == .train
        let standAlone = config.audit ? max(config.auditTopologies, clustering.k) : (train ? clustering.k : 0)
        let validation = Double(data.validation.count)
        return BudgetWork(clusters: clustering.k, fitnessPerCluster: fitnessPerCluster, standAlone: standAlone,
                          evaluationCases: data.split.test.count,
                          validationCasesPerFinalStep: config.validateEvery > 0 ? validation / Double(config.validateEvery) : 0,
                          finalRuns: 1 + (config.baseline == .on ? 1 : 0) + (config.ablation == .on ? 1 : 0))
    }

    /// Measures step times on throwaway networks (their own seeds; the run's results do not depend on
    /// them), then fixes the step counts: from the budget when one is set, else from the config. The
    /// plan is checkpointed, so a resumed run keeps it.
    func planSteps(_ data: TrainingData, clustering: Clustering, settings: NetworkSettings, patches: FitnessPatches) throws {
        let times = try calibrate(data, topology: clustering.medoids[0], settings: settings, patches: patches)
        let work = budgetWork(data, clustering: clustering)
        let plan: BudgetPlan
        if config.budgetMinutes > 0 {
            plan = BudgetPlanner.plan(budgetSeconds: config.budgetMinutes * 60, times: times, work: work)
            log("budget \(ProcessStats.format(seconds: config.budgetMinutes * 60)): supernets \(plan.supernetSteps) steps × \(work.clusters), "
                + "stand-alone \(plan.standAloneSteps) steps × \(work.standAlone), fine \(plan.fineSteps), final \(plan.finalSteps) steps "
                + String(format: "(measured: train step %.3f s, fitness %.2f s, fine step %.3f s, evaluation case %.1f s)",
                         times.trainStep, times.fitness, times.fineStep, times.evaluationCase))
            if let w = plan.warning { log(w, .warning) }
        } else {
            plan = BudgetPlanner.make(budget: nil, times: times, work: work, supernet: config.supernetSteps,
                                      standAlone: config.finalistSteps > 0 ? config.finalistSteps : config.supernetSteps,
                                      fine: config.fineSteps, final: config.finalSteps)
        }
        progress.budget = plan
        emit(.budget(plan))
        emitETA()
    }

    func calibrate(_ data: TrainingData, topology: Topology, settings: NetworkSettings,
                   patches: FitnessPatches) throws -> StepTimes {
        let arch = settings.architecture(name: "calibration", topology: topology,
                                         ops: Array(repeating: coarseOp, count: topology.levels.count), levels: config.levels)
        let graph = try NetworkGraph(arch)
        var rng = SeedDomain.calibration.rng(config.seed)
        let (x, y) = data.batch(size: config.batch, rng: &rng)
        func median(_ n: Int, _ body: () -> Void) -> Double {
            body()  // warm-up: first-touch allocations, workspace growth
            var t: [Double] = []
            for _ in 0..<n { let s = Date(); body(); t.append(Date().timeIntervalSince(s)) }
            return t.sorted()[t.count / 2]
        }
        let batchDice = config.batchDice, metric = config.fitnessMetric
        let net = GraphNetwork(graph: graph, store: ParameterStore(seed: SeedDomain.calibration.seed(config.seed, 1)))
        let sgd = SGD(parameters: net.parameters, learningRate: 1e-6, momentum: 0.9)
        let train = median(3) {
            let loss = diceCELoss(logits: net(Variable(x)), labels: y, batchDice: batchDice)
            loss.backward()
            sgd.step(); sgd.zeroGrad(); net.zeroGrad()
        }
        let fitness = median(1) { _ = patches.score(net, metric: metric) }
        let mixed = GraphNetwork(graph: graph, store: ParameterStore(seed: SeedDomain.calibration.seed(config.seed, 2)), mixedOps: true)
        let msgd = SGD(parameters: mixed.parameters, learningRate: 1e-6, momentum: 0.9)
        let fine = median(2) {
            let loss = diceCELoss(logits: mixed(Variable(x)), labels: y, batchDice: batchDice)
            loss.backward()
            msgd.step(); msgd.zeroGrad(); mixed.zeroGrad()
            let a = diceCELoss(logits: mixed(Variable(x)), labels: y, batchDice: batchDice)
            a.backward()
            mixed.zeroGrad(); for p in mixed.alphas { p.grad = nil }
        }
        // One evaluation case: sliding windows over the median case size, from the measured cost of a
        // forward pass per patch (fitness time / patches), plus a third for resampling and metrics.
        let perWindow = fitness / Double(max(1, patches.count))
        let shape = data.plan.medianResampledShape, p = data.plan.patch
        let windows = (0..<3).reduce(1) { n, a in
            n * SlidingWindow.starts(length: max(shape[a], p[a]), patch: p[a], overlap: config.overlap).count
        } * (config.mirrorTTA ? 8 : 1)
        return StepTimes(trainStep: train, fitness: fitness, fineStep: fine, evaluationCase: Double(windows) * perWindow * 1.33)
    }

    /// Folds a measured training-step time into the running estimate (exponential average).
    func observe(trainStep seconds: Double) {
        observedTrainStep = observedTrainStep.map { 0.9 * $0 + 0.1 * seconds } ?? seconds
    }

    /// Likewise for a fine-stage iteration (weight step and α step).
    func observe(fineStep seconds: Double) {
        observedFineStep = observedFineStep.map { 0.9 * $0 + 0.1 * seconds } ?? seconds
    }

    /// Work seconds so far (across resumes).
    var elapsedWork: Double { progress.workSeconds + Date().timeIntervalSince(workStart) }

    /// With a budget, re-plans the stages not started yet from the time left and the step times seen
    /// so far (the cluster guard or a loaded machine may have used more than planned).
    func replan(remaining: Set<String>) {
        guard let plan = progress.budget, plan.budgetSeconds != nil else { return }
        var times = plan.times
        if let t = observedTrainStep, t > 0 {
            // Until fine steps are seen they scale with the train step (same machine load), by the ratio
            // calibration measured; evaluation likewise.
            times.fineStep *= t / times.trainStep
            times.evaluationCase *= t / times.trainStep
            times.trainStep = t
        }
        if let f = observedFineStep, f > 0 { times.fineStep = f }
        guard let data = self.data, let clustering = progress.clustering else { return }
        let work = budgetWork(data, clustering: clustering)
        let next = BudgetPlanner.replan(plan, elapsed: elapsedWork, times: times, work: work, remaining: remaining)
        if next != plan {
            progress.budget = next
            log("budget re-planned after \(ProcessStats.format(seconds: elapsedWork)): stand-alone \(next.standAloneSteps), fine \(next.fineSteps), final \(next.finalSteps) steps")
            emit(.budget(next))
        }
    }

    /// Seconds the whole run still needs, from the plan and the current stage's progress.
    func remainingSeconds() -> Double? {
        guard let plan = progress.budget else { return nil }
        let order = ["coarse", "selection", "fine", "final", "evaluation"]
        // The baseline and ablation train and evaluate like the final network: planned with "final".
        let current = [.baseline, .ablation].contains(progress.stage) ? "evaluation" : progress.stage.rawValue
        guard let ci = order.firstIndex(of: current) else { return progress.stage == .done ? 0 : nil }
        var left = 0.0
        for s in order[(ci + 1)...] { left += plan.seconds[s] ?? 0 }
        let planned = plan.seconds[current] ?? 0
        let done: Double
        switch progress.stage {
        case .coarse:
            let k = Double(progress.clustering?.k ?? 1)
            let target = Double(max(1, progress.supernetTarget ?? plan.supernetSteps))
            let inCluster = progress.evolution != nil ? 0.7 + 0.3 * Double(progress.evolution!.generation) / Double(max(1, config.generations))
                : 0.7 * Double(progress.supernetStep) / target
            done = (Double(progress.cluster) + inCluster) / k
        case .selection:
            let n = Double(max(1, standAloneList.count))
            done = (Double(progress.standAlone.count) + Double(progress.standAloneStep) / Double(max(1, standAloneSteps))) / n
        case .fine: done = Double(progress.fineStep) / Double(max(1, fineSteps))
        case .final: done = Double(progress.finalStep) / Double(max(1, finalSteps))
        default: done = 0
        }
        return left + planned * (1 - min(1, max(0, done)))
    }

    func emitETA() {
        if let s = remainingSeconds() { emit(.eta(seconds: s)) }
    }
}

extension SearchEngine {
    /// The model card's "Search evidence" lines: what the run measured about its own ranking.
    func searchEvidence() -> [String] {
        var lines: [String] = []
        lines.append("search and deployment at the same width \(config.width) and patch \(config.patch.map(String.init).joined(separator: "×")) (no proxy)")
        if let a = progress.audit {
            lines.append(a.summary)
            for r in progress.standAlone {
                lines.append(String(format: "  - %@: supernet fitness %.4f, stand-alone fitness %.4f (Dice %.4f)%@", r.id,
                                    r.supernetFitness, r.standAloneFitness, r.standAloneDice, r.isFinalist ? ", finalist" : ""))
            }
        } else if !progress.standAlone.isEmpty {
            lines.append("finalists trained from scratch for \(standAloneSteps) steps: " + progress.standAlone.map {
                String(format: "%@ %.4f", $0.id, $0.standAloneFitness) }.joined(separator: ", "))
        } else {
            lines.append("ranking audit: off (--set audit=true trains a sample of topologies stand-alone and reports Kendall τ)")
        }
        for s in progress.signals.sorted(by: { $0.cluster < $1.cluster }) {
            lines.append(String(format: "cluster %d: fitness spread %.4f vs noise of one score %.4f after %d supernet steps%@%@",
                                s.cluster + 1, s.spread, s.noise, s.supernetSteps,
                                s.extraRounds > 0 ? " (\(s.extraRounds) noise-guard round\(s.extraRounds == 1 ? "" : "s"))" : "",
                                s.belowNoise ? " — WITHIN NOISE: its finalist is not chosen by evidence" : ""))
        }
        if let h = progress.alphaEntropy {
            lines.append(String(format: "fine stage: mean entropy of softmax(α) %.3f at the end (uniform ln 3 = %.3f; %.0f %% lower)",
                                h, Foundation.log(3.0), 100 * (1 - h / Foundation.log(3.0))))
        }
        if let b = progress.budget, let s = b.budgetSeconds {
            lines.append("budget \(ProcessStats.format(seconds: s)): supernets \(b.supernetSteps) steps per cluster, stand-alone \(b.standAloneSteps), fine \(b.fineSteps), final \(b.finalSteps); work time \(ProcessStats.format(seconds: progress.workSeconds))")
        }
        return lines
    }
}
