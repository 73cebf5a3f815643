import Foundation
import Search
import Volume

/// Everything about a run's position that a checkpoint must restore, besides tensors
/// (weights and optimizer state live in safetensors files next to it). Random numbers for each
/// training step are derived from (seed, stage, cluster, step), so no generator state is needed
/// beyond these counters and the evolution's own saved generator.
public struct RunProgress: Codable, Sendable {
    /// The layout of checkpoints and the random streams they continue. 2: one RNG (xoshiro256**)
    /// and SeedDomain streams everywhere (DECISIONS 2026-12-01). A run of another format is refused.
    public static let currentFormatVersion = 2
    public var formatVersion = RunProgress.currentFormatVersion
    public var stage: Stage = .plan
    /// Global training-step counter (the x axis of every curve).
    public var globalStep = 0
    /// Next event sequence number.
    public var seq = 0
    // Coarse stage.
    public var clustering: Clustering?
    public var cluster = 0
    public var supernetStep = 0
    public var evolution: EvolutionState?
    public var candidates: [Candidate] = []
    public var finalists: [Candidate] = []
    /// Supernet steps the current cluster trains before (re-)scoring; the noise guard raises it.
    public var supernetTarget: Int?
    /// Noise-guard rounds taken in the current cluster.
    public var guardRounds = 0
    /// Per cluster: fitness spread against noise, and what the guard did.
    public var signals: [RankingSignal] = []
    /// The step plan a wall-time budget produced (nil without a budget).
    public var budget: BudgetPlan?
    // Selection: stand-alone training of finalists and audited topologies.
    public var standAlone: [StandAloneResult] = []
    public var standAloneStep = 0
    public var audit: AuditReport?
    // Selection and fine stage.
    public var chosen: Topology?
    public var fineStep = 0
    public var derivedOps: [CellOp]?
    public var alphaHistory: [[[Double]]] = []
    /// Mean entropy of softmax(α) at the end of the fine stage.
    public var alphaEntropy: Double?
    // Final training and evaluation.
    public var finalStep = 0
    public var bestValDice: Double?
    public var metrics: [String: Double] = [:]
    public var dicePerClass: [Double] = []
    public var nsdPerClass: [Double] = []
    // Honest evaluation: test metrics of the searched net, the baseline and the ablation.
    public var testMetrics: [String: TestMetrics] = [:]
    public var comparisons: [String: ModelComparison] = [:]
    // Cross-validation of the final architecture.
    public var fold = 0
    public var foldStep = 0
    public var folds: [CrossValidationFold] = []
    public var baselineStep = 0
    public var ablationStep = 0
    /// Measured inference latency per candidate id (ms), filled once after the coarse stage.
    public var latencies: [String: Double]?
    /// Seconds of work done so far (across resumes).
    public var workSeconds = 0.0
    /// Byte sizes of the append-only CSV/JSONL files at this checkpoint (truncated back on resume).
    public var metricsBytes: UInt64 = 0
    public var candidatesBytes: UInt64 = 0

    public init() {}
}
