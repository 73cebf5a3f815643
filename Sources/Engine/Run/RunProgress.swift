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
    // Selection and fine stage.
    public var chosen: Topology?
    public var fineStep = 0
    public var derivedOps: [CellOp]?
    public var alphaHistory: [[[Double]]] = []
    // Final training and evaluation.
    public var finalStep = 0
    public var bestValDice: Double?
    public var metrics: [String: Double] = [:]
    public var dicePerClass: [Double] = []
    public var nsdPerClass: [Double] = []
    /// Seconds of work done so far (across resumes).
    public var workSeconds = 0.0
    /// Byte sizes of the append-only CSV/JSONL files at this checkpoint (truncated back on resume).
    public var metricsBytes: UInt64 = 0
    public var candidatesBytes: UInt64 = 0

    public init() {}
}
