import Foundation

/// Seconds per unit of work, measured at the start of a run (`calibrate`) and refined by what the
/// stages observe.
public struct StepTimes: Codable, Sendable, Equatable {
    /// One single-path supernet training step (also the stand-alone and final step estimate).
    public var trainStep: Double
    /// Scoring one topology on the fitness patches.
    public var fitness: Double
    /// One fine-stage iteration (a weight step on the mixed-op network and an α step).
    public var fineStep: Double
    /// Sliding-window inference and metrics of one evaluation case.
    public var evaluationCase: Double

    public init(trainStep: Double, fitness: Double, fineStep: Double, evaluationCase: Double) {
        self.trainStep = trainStep; self.fitness = fitness; self.fineStep = fineStep; self.evaluationCase = evaluationCase
    }
}

/// What a run will do, in steps and seconds: from a wall-time budget (`BudgetPlanner.plan`) or, without
/// one, from the config's step counts (for the whole-run ETA).
public struct BudgetPlan: Codable, Sendable, Equatable {
    /// The budget in seconds (nil: the plan only mirrors the config, for the ETA).
    public var budgetSeconds: Double?
    public var times: StepTimes
    public var supernetSteps: Int
    public var standAloneSteps: Int
    public var fineSteps: Int
    public var finalSteps: Int
    /// Planned seconds per stage name (coarse, selection, fine, final, evaluation).
    public var seconds: [String: Double]
    /// Why the plan could not honour the budget, if it could not.
    public var warning: String?

    public var totalSeconds: Double { seconds.values.reduce(0, +) }
}

/// The counts a plan needs besides step times; all fixed by the config and the dataset.
public struct BudgetWork: Codable, Sendable, Equatable {
    public var clusters: Int
    /// Topologies scored per cluster (initial population + one child a generation).
    public var fitnessPerCluster: Int
    /// Topologies trained stand-alone in the selection stage (finalists and audit; 0 for none).
    public var standAlone: Int
    public var evaluationCases: Int
    /// Validation passes during final training (one every `validateEvery` steps), per step.
    public var validationCasesPerFinalStep: Double
    /// Networks trained like the final one and evaluated on the same cases: the searched network,
    /// plus the baseline U-Net and the ablation when they are on.
    public var finalRuns: Int

    public init(clusters: Int, fitnessPerCluster: Int, standAlone: Int, evaluationCases: Int,
                validationCasesPerFinalStep: Double, finalRuns: Int = 1) {
        self.clusters = clusters; self.fitnessPerCluster = fitnessPerCluster; self.standAlone = standAlone
        self.evaluationCases = evaluationCases; self.validationCasesPerFinalStep = validationCasesPerFinalStep
        self.finalRuns = max(1, finalRuns)
    }
}

/// Splits a wall-time budget across the stages. Fixed costs (scoring topologies, evaluation) come off
/// the top; the rest is shared by the training stages in fixed proportions (DECISIONS 2026-12-01):
/// supernets 40 %, stand-alone training 15 % (when any), fine 15 %, final 30 % (shared by the searched
/// network and, when on, the baseline and the ablation, which train as many steps). Pure: the same budget,
/// times and work give the same plan.
public enum BudgetPlanner {
    public static let shares: [(stage: String, share: Double)] = [
        ("coarse", 0.40), ("selection", 0.15), ("fine", 0.15), ("final", 0.30),
    ]
    static let minimumSteps = ["coarse": 20, "selection": 20, "fine": 20, "final": 50]

    public static func plan(budgetSeconds: Double, times t: StepTimes, work w: BudgetWork) -> BudgetPlan {
        let fitness = Double(w.clusters * w.fitnessPerCluster + w.standAlone) * t.fitness
        let evaluation = Double(w.evaluationCases * w.finalRuns) * t.evaluationCase
        let fixed = fitness + evaluation
        let active = shares.filter { $0.stage != "selection" || w.standAlone > 0 }
        let shareSum = active.reduce(0) { $0 + $1.share }
        let free = max(0, budgetSeconds - fixed)
        func part(_ stage: String) -> Double {
            guard let s = active.first(where: { $0.stage == stage }) else { return 0 }
            return free * s.share / shareSum
        }
        let finalStepCost = Double(w.finalRuns) * t.trainStep + w.validationCasesPerFinalStep * t.evaluationCase
        func steps(_ stage: String, seconds: Double, perStep: Double, units: Int) -> Int {
            guard units > 0, perStep > 0 else { return 0 }
            return max(minimumSteps[stage] ?? 1, Int((seconds / (perStep * Double(units))).rounded(.down)))
        }
        let supernet = steps("coarse", seconds: part("coarse"), perStep: t.trainStep, units: w.clusters)
        let standAlone = steps("selection", seconds: part("selection"), perStep: t.trainStep, units: w.standAlone)
        let fine = steps("fine", seconds: part("fine"), perStep: t.fineStep, units: 1)
        let final = steps("final", seconds: part("final"), perStep: finalStepCost, units: 1)
        var plan = make(budget: budgetSeconds, times: t, work: w, supernet: supernet, standAlone: standAlone,
                        fine: fine, final: final)
        if fixed >= budgetSeconds * 0.8 || plan.totalSeconds > budgetSeconds * 1.15 {
            plan.warning = String(format: "the budget of %@ is too small for this config: scoring topologies and evaluation alone take about %@; the plan needs %@ (fewer clusters, generations or evaluation cases would fit)",
                                  ProcessStats.format(seconds: budgetSeconds), ProcessStats.format(seconds: fixed),
                                  ProcessStats.format(seconds: plan.totalSeconds))
        }
        return plan
    }

    /// A plan that only mirrors given step counts (no budget), for the ETA.
    public static func make(budget: Double?, times t: StepTimes, work w: BudgetWork, supernet: Int, standAlone: Int,
                            fine: Int, final: Int) -> BudgetPlan {
        let finalStepCost = Double(w.finalRuns) * t.trainStep + w.validationCasesPerFinalStep * t.evaluationCase
        let seconds: [String: Double] = [
            "coarse": Double(w.clusters) * (Double(supernet) * t.trainStep + Double(w.fitnessPerCluster) * t.fitness),
            "selection": Double(w.standAlone) * (Double(standAlone) * t.trainStep + t.fitness),
            "fine": Double(fine) * t.fineStep,
            "final": Double(final) * finalStepCost,
            "evaluation": Double(w.evaluationCases * w.finalRuns) * t.evaluationCase,
        ]
        return BudgetPlan(budgetSeconds: budget, times: t, supernetSteps: supernet, standAloneSteps: standAlone,
                          fineSteps: fine, finalSteps: final, seconds: seconds, warning: nil)
    }

    /// Re-plans the stages that have not started, after `elapsed` seconds of work, so the run still ends
    /// on its budget: their shares of the time that is left, with the latest measured times.
    public static func replan(_ plan: BudgetPlan, elapsed: Double, times: StepTimes, work w: BudgetWork,
                              remaining stages: Set<String>) -> BudgetPlan {
        guard let budget = plan.budgetSeconds else { return plan }
        var left = budget - elapsed
        if stages.contains("evaluation") { left -= Double(w.evaluationCases * w.finalRuns) * times.evaluationCase }
        if stages.contains("selection") { left -= Double(w.standAlone) * times.fitness }
        let active = shares.filter { stages.contains($0.stage) && ($0.stage != "selection" || w.standAlone > 0) }
        let sum = active.reduce(0) { $0 + $1.share }
        var p = plan
        p.times = times
        let free = max(0, left)
        func part(_ stage: String) -> Double {
            guard sum > 0, let s = active.first(where: { $0.stage == stage }) else { return 0 }
            return free * s.share / sum
        }
        let finalStepCost = Double(w.finalRuns) * times.trainStep + w.validationCasesPerFinalStep * times.evaluationCase
        if stages.contains("selection"), w.standAlone > 0 {
            p.standAloneSteps = max(minimumSteps["selection"]!, Int(part("selection") / (times.trainStep * Double(w.standAlone))))
        }
        if stages.contains("fine") { p.fineSteps = max(minimumSteps["fine"]!, Int(part("fine") / times.fineStep)) }
        if stages.contains("final") { p.finalSteps = max(minimumSteps["final"]!, Int(part("final") / finalStepCost)) }
        let fresh = make(budget: budget, times: times, work: w, supernet: p.supernetSteps, standAlone: p.standAloneSteps,
                         fine: p.fineSteps, final: p.finalSteps)
        for s in stages { p.seconds[s] = fresh.seconds[s] }
        return p
    }
}

/// Parses a budget such as `90m`, `2h`, `1h30m`, `45` (minutes) or `3600s` into minutes.
public func parseBudgetMinutes(_ text: String) -> Double? {
    let s = text.trimmingCharacters(in: .whitespaces).lowercased()
    if let m = Double(s), m.isFinite, m >= 0 { return m }
    var total = 0.0, number = "", any = false
    for ch in s {
        if ch.isNumber || ch == "." { number.append(ch); continue }
        guard let v = Double(number), v.isFinite else { return nil }
        switch ch {
        case "h": total += v * 60
        case "m": total += v
        case "s": total += v / 60
        default: return nil
        }
        number = ""; any = true
    }
    guard number.isEmpty, any else { return nil }
    return total
}
