import Foundation
import Engine
import Search

/// Builds the workbench's view model from the engine's folded event state. Pure: the live run,
/// a replayed log and an attached run all draw through this one function.
public enum ModelAdapter {
    public static func model(from s: Engine.RunState, levels: Int, now: Double, ramBytes: Int64?,
                             outcome: RunActivity? = nil, keeping old: WorkbenchModel = WorkbenchModel()) -> WorkbenchModel {
        var m = old
        var counters: [ProgressCounter] = []
        if s.progress.total > 0 { counters.append(ProgressCounter(s.progress.label, s.progress.done, of: s.progress.total)) }
        let state: RunActivity
        if let outcome { state = outcome }
        else if s.failure != nil { state = .failed }
        else if s.finished { state = .finished }
        else if s.paused { state = .paused }
        else if s.startWall == nil { state = .starting }
        else { state = .running }
        m.run = RunView(dataset: s.dataset, stage: stageTitle(s), counters: counters,
                        etaSeconds: eta(s, now: now), secondsPerStep: secondsPerStep(s),
                        ramBytes: ramBytes, state: state, runDirectory: s.runDirectory,
                        message: s.failure ?? s.exports.last.map { "exported to \($0)" }, signal: signal(s))
        m.curves = CurvesView(trainLoss: s.trainLoss.map { CurvePoint(step: $0.step, value: $0.value) },
                              valDice: s.valDice.map { CurvePoint(step: $0.step, value: $0.value) },
                              boundaries: s.boundaries.map { StageBoundary(step: $0.step, label: $0.stage.rawValue) })
        func path(_ role: TopologyRole) -> TopologyPath? {
            s.topologies[role].map { TopologyPath(cellLevels: $0.levels, ops: $0.ops.isEmpty ? nil : $0.ops) }
        }
        m.topology = TopologyView(levels: levels, current: path(.current), best: path(.final) ?? path(.best), medoid: path(.medoid))
        if !s.alpha.isEmpty {
            let fine = s.stage == .fine && s.progress.total > 0 ? Double(s.progress.done) / Double(s.progress.total) : 1
            m.ops = OpProbabilitiesView(opNames: s.alphaOps, cells: s.alpha, progress: fine)
        }
        let ranked = s.rankedCandidates
        let pareto = ParetoFront.optimal(ranked.map { [-$0.fitness, $0.macs, $0.memoryBytes] })
        m.candidates = ranked.enumerated().map { i, c in
            CandidateRow(id: c.id, rank: i + 1, dice: c.fitness, params: c.params, macs: Int64(c.macs),
                         memoryBytes: Int64(c.memoryBytes), topology: TopologyPath(cellLevels: c.levels, ops: c.ops),
                         latencyMs: c.latencyMs, paretoOptimal: pareto[i])
        }
        m.evaluation = evaluationLines(s)
        m.log = s.log.suffix(200).map { LogLine(level($0.level), $0.message) }
        return m
    }

    /// The split rule, the test Dice and the comparisons, one line each (the candidates pane's foot).
    static func evaluationLines(_ s: Engine.RunState) -> [String] {
        var lines: [String] = []
        if let split = s.split {
            lines.append("\(split.train.count)/\(split.validation.count)/\(split.test.count) train/val/test"
                + (split.testIsValidation ? " · ⚠ test = val (too few cases): biased" : " · test held out"))
        }
        if let t = s.testMetrics["searched"] {
            lines.append("test Dice " + String(format: "%.3f", t.meanDice) + " · per class "
                + t.dicePerClass.map { String(format: "%.3f", $0) }.joined(separator: " "))
        }
        for role in ["baseline", "ablation"] {
            guard let c = s.comparisons[role] else { continue }
            let per = c.differencePerClass.map { String(format: "%+.3f", $0) }.joined(separator: " ")
            lines.append("vs \(role == "baseline" ? "U-Net" : "no fine") \(String(format: "%.3f", c.reference.meanDice)): Δ "
                + String(format: "%+.3f", c.meanDifference)
                + (c.interval.map { String(format: " [%+.3f,%+.3f]", $0.low, $0.high) } ?? " (n<5, no CI)") + " · \(per)")
        }
        return lines
    }

    static func stageTitle(_ s: Engine.RunState) -> String {
        let name = s.stage.rawValue.uppercased()
        return s.stageDetail.isEmpty || s.stage == .done ? name : "\(name) \(s.stageDetail)"
    }

    /// "τ 0.52 · H(α) 0.71 · 1 cluster within noise": what the search's evidence looks like so far.
    static func signal(_ s: Engine.RunState) -> String? {
        var parts: [String] = []
        let weak = s.signals.filter(\.belowNoise).count
        if weak > 0 { parts.append("\(weak) cluster\(weak == 1 ? "" : "s") within noise") }
        if let a = s.audit { parts.append(String(format: "τ %.2f", a.kendallTau)) }
        if let h = s.alphaEntropy.last { parts.append(String(format: "H(α) %.2f", h.value)) }
        return parts.isEmpty ? nil : parts.joined(separator: " · ")
    }

    /// Remaining time of the whole run when the engine estimated it (counted down since), else of the
    /// current stage's progress, from the pace since its first step.
    static func eta(_ s: Engine.RunState, now: Double) -> Double? {
        if let e = s.runETA, !s.finished { return max(0, e.seconds - (now - e.wall)) }
        guard s.progress.total > 0, s.progress.done > 0, let start = s.stageStartWall, !s.finished else { return nil }
        let elapsed = now - start
        return elapsed * Double(s.progress.total - s.progress.done) / Double(s.progress.done)
    }

    static func secondsPerStep(_ s: Engine.RunState) -> Double? {
        let recent = s.trainLossWalls.suffix(20)
        guard recent.count >= 2, let first = recent.first, let last = recent.last else { return nil }
        return (last - first) / Double(recent.count - 1)
    }

    static func level(_ l: Engine.LogLevel) -> LogSeverity {
        switch l { case .debug: .debug; case .info: .info; case .warning: .warning; case .error: .error }
    }
}
