import Foundation

/// The stages of a run, in order.
public enum Stage: String, Codable, Sendable, CaseIterable, Comparable {
    case plan, coarse, selection, fine, final, evaluation, baseline, ablation, crossValidation, export, done

    public static func < (a: Stage, b: Stage) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
    /// The stage after this one (`done` stays `done`).
    public var next: Stage {
        let all = Stage.allCases
        return all[min(all.firstIndex(of: self)! + 1, all.count - 1)]
    }
}

public enum LogLevel: String, Codable, Sendable, Comparable {
    case debug, info, warning, error
    public static func < (a: LogLevel, b: LogLevel) -> Bool {
        let order: [LogLevel] = [.debug, .info, .warning, .error]
        return order.firstIndex(of: a)! < order.firstIndex(of: b)!
    }
}

/// Which topology a `.topology` event describes (the workbench grid shows all three).
public enum TopologyRole: String, Codable, Sendable { case current, best, medoid, final }

/// One scored architecture; the coarse stage emits one per topology it evaluates.
public struct CandidateRecord: Codable, Sendable, Equatable {
    public var id: String
    public var cluster: Int
    public var generation: Int
    public var levels: [Int]
    public var ops: [String]
    /// Mean foreground Dice on the validation split, with the supernet's (or own) weights.
    public var fitness: Double
    public var params: Int
    public var macs: Double
    public var memoryBytes: Double
    /// Measured CPU time of one inference window (stand-alone network, milliseconds); measured after
    /// the coarse stage, so nil in the records written while it runs.
    public var latencyMs: Double?

    public init(id: String, cluster: Int, generation: Int, levels: [Int], ops: [String],
                fitness: Double, params: Int, macs: Double, memoryBytes: Double, latencyMs: Double? = nil) {
        self.id = id; self.cluster = cluster; self.generation = generation; self.levels = levels
        self.ops = ops; self.fitness = fitness; self.params = params; self.macs = macs
        self.memoryBytes = memoryBytes; self.latencyMs = latencyMs
    }
}

/// Everything the engine tells its listeners. Encoded one JSON object a line in events.jsonl,
/// so replaying the log rebuilds the same state the live run showed.
public enum EngineEvent: Codable, Sendable, Equatable {
    case runStarted(dataset: String, preset: String, runDirectory: String)
    /// A resumed run restarts at `fromStep`: listeners drop curve points at or after it.
    case resumed(fromStep: Int)
    case stageStarted(stage: Stage, detail: String)
    case stageFinished(stage: Stage)
    case progress(done: Int, total: Int, label: String)
    case trainLoss(value: Double)
    case validation(dice: Double, perClass: [Double])
    case topology(role: TopologyRole, levels: [Int], ops: [String])
    case candidate(CandidateRecord)
    case alpha(probabilities: [[Double]], opNames: [String])
    /// A cluster's fitness spread against the noise of one score (after its noise guard).
    case rankingSignal(RankingSignal)
    /// A topology trained from scratch in the selection stage.
    case standAlone(StandAloneResult)
    /// Kendall τ between supernet fitness and stand-alone fitness.
    case audit(AuditReport)
    /// The run's step plan (from the wall-time budget, or mirroring the config).
    case budget(BudgetPlan)
    /// Estimated seconds left for the whole run.
    case eta(seconds: Double)
    case prediction(caseID: String, path: String)
    case paused(Bool)
    case checkpointed(path: String)
    case log(level: LogLevel, message: String)
    case exported(path: String)
    /// How the cases were split (search-train / search-val / test) and by which rule.
    case split(DataSplit)
    /// Metrics of a trained model on the test cases.
    case testMetrics(TestMetrics)
    /// The searched network against the baseline or the ablation on the same test cases.
    case comparison(ModelComparison)
    /// One fold of the optional cross-validation of the final architecture.
    case crossValidation(CrossValidationFold)
    case finished(dice: Double?)
    case failed(message: String)
}

/// An event with its place in the run: a monotonic sequence number, the training step it
/// happened at, the stage, and the wall-clock time (seconds since 1970).
public struct EventRecord: Codable, Sendable, Equatable {
    public var seq: Int
    public var step: Int
    public var stage: Stage
    public var wall: Double
    public var event: EngineEvent

    public init(seq: Int, step: Int, stage: Stage, wall: Double, event: EngineEvent) {
        self.seq = seq; self.step = step; self.stage = stage; self.wall = wall; self.event = event
    }
}
