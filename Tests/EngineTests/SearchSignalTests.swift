import Testing
import Foundation
import Search
import Volume
@testable import Engine

@Suite("Search signal")
struct SearchSignalTests {
    // MARK: Kendall τ

    @Test("Kendall τ-b matches scipy.stats.kendalltau, ties included")
    func kendallMatchesReference() {
        // Reference values computed once with scipy 1.17.1 (`scipy.stats.kendalltau(x, y).statistic`).
        #expect(abs(RankingAudit.kendallTau([1, 2, 3, 4], [1, 3, 2, 4]) - 0.6666666666666666) < 1e-12)
        #expect(abs(RankingAudit.kendallTau([1, 2, 2, 3], [1, 2, 3, 3]) - 0.8) < 1e-12)
        #expect(abs(RankingAudit.kendallTau([0.1, 0.4, 0.35, 0.8, 0.7, 0.2, 0.5, 0.9],
                                            [0.3, 0.5, 0.6, 0.75, 0.7, 0.1, 0.45, 0.8]) - 0.7142857142857143) < 1e-12)
        #expect(abs(RankingAudit.kendallTau([3, 1, 4, 1, 5, 9, 2, 6], [2, 7, 1, 8, 2, 8, 1, 8]) - 0.16051447078102563) < 1e-12)
        #expect(RankingAudit.kendallTau([1, 2, 3], [3, 2, 1]) == -1)
        #expect(RankingAudit.kendallTau([1, 1, 1], [1, 2, 3]) == 0, "a constant sample has no ranking")
    }

    @Test("the audit computes τ on a synthetic fitness with a known ranking")
    func auditOnSyntheticFitness() throws {
        // 3 clusters × 6 topologies; the stand-alone score is the supernet fitness with two adjacent
        // pairs swapped, so exactly two of the C(n,2) pairs of the audited sample are discordant.
        let space = SearchSpace(cells: 8, levels: 3, rule: .ushape)
        let all = space.enumerate()
        let settings = NetworkSettings(baseWidth: 2, inputChannels: 1, classes: 2, patch: [16, 16, 16])
        var candidates: [Candidate] = []
        for (i, t) in all.prefix(18).enumerated() {
            let arch = settings.architecture(name: "c", topology: t, ops: Array(repeating: .conv3D, count: 8), levels: 3)
            candidates.append(Candidate(topology: t, ops: arch.ops, fitness: Double(i) / 100, cost: try NetworkGraph(arch).cost(),
                                        cluster: i % 3, generation: 0))
        }
        let finalists = (0..<3).map { k in Candidate.best(of: candidates.filter { $0.cluster == k })! }
        let sample = RankingAudit.sample(candidates: candidates, finalists: finalists, total: 8)
        #expect(sample.count == 8)
        #expect(Set(sample.map(\.topology)).count == 8, "no topology audited twice")
        #expect(finalists.allSatisfy { f in sample.contains { $0.topology == f.topology } }, "every finalist is audited")
        #expect(Set(sample.map(\.cluster)) == [0, 1, 2], "the sample spreads over clusters")
        let byFitness = sample.sorted { $0.fitness < $1.fitness }
        var standAlone = byFitness.map(\.fitness)
        standAlone.swapAt(0, 1); standAlone.swapAt(4, 5)
        let tau = RankingAudit.kendallTau(byFitness.map(\.fitness), standAlone)
        let pairs = 8.0 * 7 / 2
        #expect(abs(tau - (pairs - 4) / pairs) < 1e-12)  // (C − D) / pairs with D = 2
    }

    @Test("the audit sample spreads over fitness within a cluster: best and worst first")
    func quantileOrder() {
        #expect(RankingAudit.quantileOrder(5) == [0, 4, 2, 1, 3])
        #expect(Set(RankingAudit.quantileOrder(9)) == Set(0..<9))
        #expect(RankingAudit.quantileOrder(2) == [0, 1])
    }

    // MARK: noise guard

    func score(_ v: Double, _ a: Double, _ b: Double) -> FitnessScore {
        FitnessScore(softDice: v, dice: v, halves: [a, b])
    }

    @Test("the noise guard triggers on a constant fitness, retrains up to its cap, then warns")
    func guardOnConstantFitness() {
        let constant = (0..<6).map { _ in score(0.2, 0.2, 0.2) }
        let first = NoiseGuard.decide(constant, metric: .softDice, roundsTaken: 0, maxRounds: 2, extraSteps: 0.5)
        #expect(first.decision == .retrain)
        #expect(first.spread == 0)
        #expect(NoiseGuard.decide(constant, metric: .softDice, roundsTaken: 1, maxRounds: 2, extraSteps: 0.5).decision == .retrain)
        #expect(NoiseGuard.decide(constant, metric: .softDice, roundsTaken: 2, maxRounds: 2, extraSteps: 0.5).decision
                == .accept(belowNoise: true))
    }

    @Test("the noise guard accepts a spread well above the noise, and flags one within it")
    func guardOnSpread() {
        // Each topology's two half scores differ by ±0.02 around their halves' means → noise 0.02.
        let clear = [score(0.10, 0.09, 0.11), score(0.30, 0.31, 0.29)]
        let r = NoiseGuard.decide(clear, metric: .softDice, roundsTaken: 0, maxRounds: 2, extraSteps: 0.5)
        #expect(r.decision == .accept(belowNoise: false))
        #expect(abs(r.noise - 0.02) < 1e-12 && abs(r.spread - 0.2) < 1e-12)
        // A half that is easier for every topology is no noise in their order.
        let common = [score(0.10, 0.05, 0.15), score(0.20, 0.15, 0.25), score(0.30, 0.25, 0.35)]
        #expect(NoiseGuard.decide(common, metric: .softDice, roundsTaken: 0, maxRounds: 2, extraSteps: 0.5).noise < 1e-12)
        let noisy = [score(0.30, 0.20, 0.40), score(0.31, 0.41, 0.21), score(0.32, 0.22, 0.42)]
        #expect(NoiseGuard.decide(noisy, metric: .softDice, roundsTaken: 0, maxRounds: 0, extraSteps: 0.5).decision
                == .accept(belowNoise: true))
        #expect(NoiseGuard.decide([score(0.3, 0.3, 0.3)], metric: .softDice, roundsTaken: 0, maxRounds: 2,
                                  extraSteps: 0.5).decision == .accept(belowNoise: false), "one topology: nothing to rank")
    }

    // MARK: budget

    let times = StepTimes(trainStep: 0.30, fitness: 1.2, fineStep: 1.1, evaluationCase: 6.0)
    let work = BudgetWork(clusters: 4, fitnessPerCluster: 18, standAlone: 8, evaluationCases: 5,
                          validationCasesPerFinalStep: 5.0 / 200)

    @Test("the budget splitter is deterministic for given step times and fills the budget")
    func budgetDeterministic() {
        let a = BudgetPlanner.plan(budgetSeconds: 7200, times: times, work: work)
        let b = BudgetPlanner.plan(budgetSeconds: 7200, times: times, work: work)
        #expect(a == b)
        #expect(a.warning == nil)
        #expect(abs(a.totalSeconds - 7200) / 7200 < 0.05, "planned \(a.totalSeconds) s of 7200")
        // Shares of the training time after fixed costs: supernets 40 %, stand-alone 15 %, fine 15 %, final 30 %.
        let fixed = Double(4 * 18 + 8) * 1.2 + 5 * 6.0
        let free = 7200 - fixed
        #expect(a.supernetSteps == Int(free * 0.40 / (0.30 * 4)))
        #expect(a.standAloneSteps == Int(free * 0.15 / (0.30 * 8)))
        #expect(a.fineSteps == Int(free * 0.15 / 1.1))
        #expect(a.finalSteps == Int(free * 0.30 / (0.30 + 5.0 / 200 * 6.0)))
        let twice = BudgetPlanner.plan(budgetSeconds: 14400, times: times, work: work)
        #expect(twice.supernetSteps > a.supernetSteps && twice.finalSteps > a.finalSteps)
    }

    @Test("a budget too small for the fixed costs says so")
    func budgetTooSmall() {
        let p = BudgetPlanner.plan(budgetSeconds: 60, times: times, work: work)
        #expect(p.warning != nil)
        #expect(p.supernetSteps >= 20 && p.finalSteps >= 50, "minimum steps still apply")
    }

    @Test("re-planning after an overrun shrinks the stages left so the run still ends on budget")
    func replanAfterOverrun() {
        let plan = BudgetPlanner.plan(budgetSeconds: 7200, times: times, work: work)
        // The coarse stage took 20 % longer than planned.
        let elapsed = (plan.seconds["coarse"] ?? 0) * 1.2
        let next = BudgetPlanner.replan(plan, elapsed: elapsed, times: times, work: work,
                                        remaining: ["selection", "fine", "final", "evaluation"])
        #expect(next.finalSteps < plan.finalSteps && next.fineSteps < plan.fineSteps)
        let projected = elapsed + ["selection", "fine", "final", "evaluation"].reduce(0) { $0 + (next.seconds[$1] ?? 0) }
        #expect(abs(projected - 7200) / 7200 < 0.05, "projected end \(projected) s")
        #expect(BudgetPlanner.replan(plan, elapsed: elapsed, times: times, work: work, remaining: ["fine", "final", "evaluation"])
                == BudgetPlanner.replan(plan, elapsed: elapsed, times: times, work: work, remaining: ["fine", "final", "evaluation"]))
    }

    @Test("budgets are written as durations")
    func budgetParsing() {
        #expect(parseBudgetMinutes("90m") == 90)
        #expect(parseBudgetMinutes("2h") == 120)
        #expect(parseBudgetMinutes("1h30m") == 90)
        #expect(parseBudgetMinutes("45") == 45)
        #expect(parseBudgetMinutes("3600s") == 60)
        #expect(parseBudgetMinutes("2 hours") == nil)
        #expect(parseBudgetMinutes("h") == nil)
    }

    // MARK: no proxy

    @Test("no preset searches at a width or patch other than the one it deploys")
    func noProxy() throws {
        for name in RunConfig.presetNames {
            let c = try RunConfig.preset(name)
            let fields = Mirror(reflecting: c).children.compactMap(\.label)
            #expect(!fields.contains("finalWidth") && !fields.contains("finalPatch"), "\(name): a separate deploy width")
            #expect(c.width >= 8, "\(name): width \(c.width) cannot learn small classes (DECISIONS 2026-11-27)")
        }
    }

    // MARK: α entropy

    @Test("the entropy regulariser's gradient matches finite differences")
    func entropyGradient() {
        let a: [Float] = [0.3, -0.2, 0.5]
        let g = AlphaEntropy.gradient(a, weight: 0.7, cells: 2)
        for j in 0..<3 {
            var up = a, down = a
            let h: Float = 1e-3
            up[j] += h; down[j] -= h
            let f = { (v: [Float]) in 0.7 / 2 * AlphaEntropy.entropy(AlphaEntropy.softmax(v)) }
            let numeric = (f(up) - f(down)) / Double(2 * h)
            #expect(abs(Double(g[j]) - numeric) < 1e-4, "component \(j): \(g[j]) vs \(numeric)")
        }
        #expect(abs(AlphaEntropy.mean([[1.0 / 3, 1.0 / 3, 1.0 / 3]]) - Foundation.log(3.0)) < 1e-12)
        #expect(AlphaEntropy.mean([[1, 0, 0]]) == 0)
    }
}
