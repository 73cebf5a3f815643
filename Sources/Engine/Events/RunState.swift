import Foundation

/// What a listener knows about a run, built only by folding events. The workbench draws from
/// it, and replaying `events.jsonl` through `apply` rebuilds the same state the live run had.
public struct RunState: Sendable, Equatable {
    public struct Point: Sendable, Equatable { public var step: Int; public var value: Double }
    public struct Boundary: Sendable, Equatable { public var step: Int; public var stage: Stage }
    public struct LogLine: Sendable, Equatable {
        public var step: Int; public var level: LogLevel; public var message: String
    }

    public var dataset = ""
    public var preset = ""
    public var runDirectory = ""
    public var stage: Stage = .plan
    public var stageDetail = ""
    public var progress: (done: Int, total: Int, label: String) = (0, 0, "")
    public var step = 0
    public var startWall: Double?
    public var lastWall: Double?
    public var paused = false
    public var finished = false
    public var failure: String?
    public var finalDice: Double?
    public var trainLoss: [Point] = []
    public var valDice: [Point] = []
    public var valDicePerClass: [Double] = []
    public var boundaries: [Boundary] = []
    public var topologies: [TopologyRole: (levels: [Int], ops: [String])] = [:]
    /// Candidates by id, in first-seen order (a re-scored id after resume replaces its row).
    public var candidates: [CandidateRecord] = []
    public var alpha: [[Double]] = []
    public var alphaOps: [String] = []
    /// Mean entropy of softmax(α) over cells, per alpha event (ln 3 = uniform over three ops).
    public var alphaEntropy: [Point] = []
    public var signals: [RankingSignal] = []
    public var standAlone: [StandAloneResult] = []
    public var audit: AuditReport?
    public var budget: BudgetPlan?
    /// Whole-run estimate of seconds left, and the wall time it was made at.
    public var runETA: (seconds: Double, wall: Double)?
    public var predictions: [String: String] = [:]
    public var exports: [String] = []
    public var lastCheckpoint: String?
    public var log: [LogLine] = []
    public var maxLogLines = 500
    /// When the current stage began (for ETAs) and the wall times of recent train-loss events.
    public var stageStartWall: Double?
    public var trainLossWalls: [Double] = []
    /// The case split and its rule.
    public var split: DataSplit?
    /// Test metrics by role ("searched", "baseline", "ablation").
    public var testMetrics: [String: TestMetrics] = [:]
    /// Comparisons by the reference's role ("baseline", "ablation").
    public var comparisons: [String: ModelComparison] = [:]
    /// Cross-validation folds, by fold index.
    public var folds: [CrossValidationFold] = []

    public init() {}

    public mutating func apply(_ r: EventRecord) {
        step = max(step, r.step)
        stage = r.stage
        if startWall == nil { startWall = r.wall }
        lastWall = r.wall
        switch r.event {
        case let .runStarted(dataset, preset, dir):
            self.dataset = dataset; self.preset = preset; self.runDirectory = dir
            finished = false; failure = nil
        case let .resumed(from):
            trainLoss.removeAll { $0.step >= from }
            alphaEntropy.removeAll { $0.step >= from }
            valDice.removeAll { $0.step >= from }
            boundaries.removeAll { $0.step > from }
            step = from
            paused = false; finished = false; failure = nil
            appendLog(r.step, .info, "resumed at step \(from)")
        case let .stageStarted(s, detail):
            stage = s; stageDetail = detail; progress = (0, 0, ""); stageStartWall = r.wall
            if boundaries.last?.stage != s { boundaries.append(Boundary(step: r.step, stage: s)) }
            appendLog(r.step, .info, "stage \(s.rawValue): \(detail)")
        case .stageFinished:
            break
        case let .progress(done, total, label):
            if label != progress.label { stageStartWall = r.wall }
            progress = (done, total, label)
        case let .trainLoss(v):
            trainLoss.append(Point(step: r.step, value: v))
            trainLossWalls.append(r.wall)
            if trainLossWalls.count > 50 { trainLossWalls.removeFirst(trainLossWalls.count - 50) }
        case let .validation(dice, perClass):
            valDice.append(Point(step: r.step, value: dice)); valDicePerClass = perClass
        case let .topology(role, levels, ops):
            topologies[role] = (levels, ops)
        case let .candidate(c):
            if let i = candidates.firstIndex(where: { $0.id == c.id }) { candidates[i] = c } else { candidates.append(c) }
        case let .alpha(p, names):
            alpha = p; alphaOps = names
            alphaEntropy.append(Point(step: r.step, value: meanEntropy(p)))
        case let .rankingSignal(sig):
            signals.removeAll { $0.cluster == sig.cluster }; signals.append(sig)
        case let .standAlone(result):
            standAlone.removeAll { $0.id == result.id }; standAlone.append(result)
        case let .audit(report):
            audit = report
        case let .budget(plan):
            budget = plan
        case let .eta(seconds):
            runETA = (seconds, r.wall)
        case let .prediction(id, path):
            predictions[id] = path
        case let .paused(p):
            paused = p
        case let .checkpointed(path):
            lastCheckpoint = path
        case let .log(level, message):
            appendLog(r.step, level, message)
        case let .exported(path):
            exports.append(path); appendLog(r.step, .info, "exported to \(path)")
        case let .split(s):
            split = s
        case let .testMetrics(m):
            testMetrics[m.role] = m
        case let .comparison(c):
            comparisons[c.reference.role] = c
            appendLog(r.step, .info, "\(c.reference.role): \(c.summary)")
        case let .crossValidation(f):
            folds.removeAll { $0.fold == f.fold }
            folds.append(f)
        case let .finished(dice):
            finished = true; finalDice = dice; stage = .done
        case let .failed(message):
            failure = message; appendLog(r.step, .error, message)
        }
    }

    private mutating func appendLog(_ step: Int, _ level: LogLevel, _ message: String) {
        log.append(LogLine(step: step, level: level, message: message))
        if log.count > maxLogLines { log.removeFirst(log.count - maxLogLines) }
    }

    /// Mean over cells of the entropy of each cell's op probabilities (natural log).
    public func meanEntropy(_ p: [[Double]]) -> Double {
        guard !p.isEmpty else { return 0 }
        return p.map { row in -row.reduce(0) { $0 + ($1 > 0 ? $1 * Foundation.log($1) : 0) } }.reduce(0, +) / Double(p.count)
    }

    /// Candidates best first (higher fitness, then fewer multiply-adds).
    public var rankedCandidates: [CandidateRecord] {
        candidates.sorted { ($0.fitness, -$0.macs) > ($1.fitness, -$1.macs) }
    }

    public static func == (a: RunState, b: RunState) -> Bool {
        a.dataset == b.dataset && a.preset == b.preset && a.stage == b.stage && a.step == b.step
            && a.progress.done == b.progress.done && a.progress.total == b.progress.total
            && a.paused == b.paused && a.finished == b.finished && a.failure == b.failure
            && a.finalDice == b.finalDice && a.trainLoss == b.trainLoss && a.valDice == b.valDice
            && a.boundaries == b.boundaries && a.candidates == b.candidates && a.alpha == b.alpha
            && a.predictions == b.predictions && a.exports == b.exports
            && a.split == b.split && a.testMetrics == b.testMetrics && a.comparisons == b.comparisons && a.folds == b.folds
            && a.topologies.mapValues { "\($0.levels)\($0.ops)" } == b.topologies.mapValues { "\($0.levels)\($0.ops)" }
    }
}
