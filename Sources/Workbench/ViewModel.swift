import Foundation
import Pictures

// The workbench's view model: plain values the engine side fills from its events.
// The workbench never reads engine types; it draws only what is here.

/// What the run is doing, as acknowledged by the engine.
public enum RunActivity: String, Sendable, Equatable, CaseIterable {
    case starting, running, paused, finished, failed, stopped

    /// Finished, failed or stopped: nothing more will happen.
    public var isTerminal: Bool { self == .finished || self == .failed || self == .stopped }
}

/// One progress counter of a stage, e.g. "clusters 2/4" or "gen 7/10".
public struct ProgressCounter: Sendable, Equatable {
    public var name: String
    public var current: Int
    public var total: Int
    public init(_ name: String, _ current: Int, of total: Int) {
        self.name = name
        self.current = current
        self.total = total
    }
    public var text: String { "\(name) \(current)/\(total)" }
}

/// The header line's facts.
public struct RunView: Sendable, Equatable {
    public var dataset: String
    public var stage: String
    public var counters: [ProgressCounter]
    public var etaSeconds: Double?
    public var secondsPerStep: Double?
    public var ramBytes: Int64?
    public var state: RunActivity
    public var runDirectory: String
    /// Why the run failed or stopped, when it did.
    public var message: String?
    /// Search-signal facts once known: the ranking audit's τ, the mean α entropy, a noise warning.
    public var signal: String?

    public init(dataset: String = "", stage: String = "", counters: [ProgressCounter] = [],
                etaSeconds: Double? = nil, secondsPerStep: Double? = nil, ramBytes: Int64? = nil,
                state: RunActivity = .starting, runDirectory: String = "", message: String? = nil, signal: String? = nil) {
        self.signal = signal
        self.dataset = dataset
        self.stage = stage
        self.counters = counters
        self.etaSeconds = etaSeconds
        self.secondsPerStep = secondsPerStep
        self.ramBytes = ramBytes
        self.state = state
        self.runDirectory = runDirectory
        self.message = message
    }

    /// "clusters 2/4 · gen 7/10".
    public var progressText: String { counters.map(\.text).joined(separator: " · ") }
}

/// One point of a curve.
public struct CurvePoint: Sendable, Equatable {
    public var step: Int
    public var value: Double
    public init(step: Int, value: Double) {
        self.step = step
        self.value = value
    }
}

/// A stage change on the step axis (drawn as a vertical marker).
public struct StageBoundary: Sendable, Equatable {
    public var step: Int
    public var label: String
    public init(step: Int, label: String) {
        self.step = step
        self.label = label
    }
}

/// Training curves.
public struct CurvesView: Sendable, Equatable {
    public var trainLoss: [CurvePoint]
    public var valDice: [CurvePoint]
    public var boundaries: [StageBoundary]
    public init(trainLoss: [CurvePoint] = [], valDice: [CurvePoint] = [], boundaries: [StageBoundary] = []) {
        self.trainLoss = trainLoss
        self.valDice = valDice
        self.boundaries = boundaries
    }
}

/// A topology: the level (1-based) of each cell, with the cell ops once known ("2D", "3D", "P3D").
public struct TopologyPath: Sendable, Equatable {
    public var cellLevels: [Int]
    public var ops: [String]?
    public init(cellLevels: [Int], ops: [String]? = nil) {
        self.cellLevels = cellLevels
        self.ops = ops
    }
    /// Compact text, e.g. "112234332111".
    public var text: String { cellLevels.map(String.init).joined() }
}

/// The topology panel: the current member being trained, the best so far and the cluster medoid.
public struct TopologyView: Sendable, Equatable {
    public var levels: Int
    public var current: TopologyPath?
    public var best: TopologyPath?
    public var medoid: TopologyPath?
    public init(levels: Int = 4, current: TopologyPath? = nil, best: TopologyPath? = nil, medoid: TopologyPath? = nil) {
        self.levels = levels
        self.current = current
        self.best = best
        self.medoid = medoid
    }
}

/// Fine stage: softmax(α) per cell over the op names.
public struct OpProbabilitiesView: Sendable, Equatable {
    public var opNames: [String]
    public var cells: [[Double]]
    /// Fraction of the fine stage done (0…1); collapse is only worrying early.
    public var progress: Double
    public init(opNames: [String] = ["2D", "3D", "P3D"], cells: [[Double]] = [], progress: Double = 0) {
        self.opNames = opNames
        self.cells = cells
        self.progress = progress
    }

    /// Entropy of cell `i` divided by log(op count): 1 = uniform, 0 = one-hot.
    public func normalizedEntropy(cell i: Int) -> Double {
        let p = cells[i]
        guard p.count > 1 else { return 0 }
        let total = p.reduce(0, +)
        guard total > 0 else { return 1 }
        var h = 0.0
        for v in p where v > 0 { let q = v / total; h -= q * log(q) }
        return h / log(Double(p.count))
    }

    /// True when cell `i` has (nearly) committed to one op while less than `early` of the stage is done.
    public func collapsedEarly(cell i: Int, entropyBelow threshold: Double = 0.35, early: Double = 0.5) -> Bool {
        progress < early && normalizedEntropy(cell: i) < threshold
    }
}

/// One row of the candidates table (a scored topology).
public struct CandidateRow: Sendable, Equatable {
    public var id: String
    public var rank: Int
    public var dice: Double?
    public var params: Int
    public var macs: Int64
    public var memoryBytes: Int64
    public var topology: TopologyPath
    /// Measured CPU time of one inference window, milliseconds (nil until measured).
    public var latencyMs: Double?
    /// Not dominated by another candidate in (Dice ↑, MACs ↓, memory ↓).
    public var paretoOptimal: Bool
    public init(id: String, rank: Int, dice: Double?, params: Int, macs: Int64, memoryBytes: Int64, topology: TopologyPath,
                latencyMs: Double? = nil, paretoOptimal: Bool = false) {
        self.id = id
        self.rank = rank
        self.dice = dice
        self.params = params
        self.macs = macs
        self.memoryBytes = memoryBytes
        self.topology = topology
        self.latencyMs = latencyMs
        self.paretoOptimal = paretoOptimal
    }
}

/// Voxel counts along x, y, z.
public struct VolumeSize: Sendable, Equatable {
    public var x: Int, y: Int, z: Int
    public init(x: Int, y: Int, z: Int) {
        self.x = x
        self.y = y
        self.z = z
    }
    public var count: Int { x * y * z }
}

/// One case for the slice viewer: image intensities with x fastest and z slowest, and optional
/// label and prediction class maps of the same size.
public struct SliceVolume: Sendable, Equatable {
    public var name: String
    public var size: VolumeSize
    public var image: [Float]
    public var label: [UInt8]?
    public var prediction: [UInt8]?
    public var classCount: Int
    /// Class names by label value (from dataset.json), for the legend.
    public var classNames: [Int: String]
    /// Voxel spacing in mm (x, y, z), for the displayed aspect ratio.
    public var spacing: [Double]
    /// Default display window: roughly the 1st and 99th intensity percentiles.
    public var autoWindow: ClosedRange<Float>

    public init(name: String = "", size: VolumeSize, image: [Float], label: [UInt8]? = nil, prediction: [UInt8]? = nil,
                classCount: Int = 2, spacing: [Double] = [1, 1, 1], classNames: [Int: String] = [:]) {
        precondition(image.count == size.count, "SliceVolume: image has \(image.count) voxels, size says \(size.count)")
        precondition(label.map { $0.count == size.count } ?? true, "SliceVolume: label size differs from the image")
        precondition(prediction.map { $0.count == size.count } ?? true, "SliceVolume: prediction size differs from the image")
        self.name = name
        self.size = size
        self.image = image
        self.label = label
        self.prediction = prediction
        self.classCount = classCount
        self.classNames = classNames
        self.spacing = spacing.count == 3 ? spacing : [1, 1, 1]
        autoWindow = SliceVolume.percentileWindow(image)
    }

    /// 1st–99th percentile of the intensities (the same window `c2fnas overlay` and the report use).
    static func percentileWindow(_ values: [Float]) -> ClosedRange<Float> { Windowing.percentile(values) }
}

/// The slice panel: which case of how many, and its data once loaded.
public struct SlicesView: Sendable, Equatable {
    public var caseIndex: Int
    public var caseCount: Int
    public var volume: SliceVolume?
    public init(caseIndex: Int = 0, caseCount: Int = 0, volume: SliceVolume? = nil) {
        self.caseIndex = caseIndex
        self.caseCount = caseCount
        self.volume = volume
    }
}

public enum LogSeverity: Int, Sendable, Comparable, CaseIterable {
    case debug, info, warning, error
    public static func < (a: LogSeverity, b: LogSeverity) -> Bool { a.rawValue < b.rawValue }
    public var name: String { ["debug", "info", "warning", "error"][rawValue] }
    var tag: String { ["D", "I", "W", "E"][rawValue] }
}

public struct LogLine: Sendable, Equatable {
    public var level: LogSeverity
    public var text: String
    public init(_ level: LogSeverity, _ text: String) {
        self.level = level
        self.text = text
    }
}

/// Everything the screen shows.
public struct WorkbenchModel: Sendable, Equatable {
    public var run: RunView
    public var curves: CurvesView
    public var topology: TopologyView
    public var ops: OpProbabilitiesView?
    public var candidates: [CandidateRow]
    public var slices: SlicesView
    public var log: [LogLine]
    /// The honest-evaluation lines (split rule, test Dice, searched vs baseline / ablation), newest facts only.
    public var evaluation: [String] = []

    public init(run: RunView = RunView(), curves: CurvesView = CurvesView(), topology: TopologyView = TopologyView(),
                ops: OpProbabilitiesView? = nil, candidates: [CandidateRow] = [], slices: SlicesView = SlicesView(),
                log: [LogLine] = []) {
        self.run = run
        self.curves = curves
        self.topology = topology
        self.ops = ops
        self.candidates = candidates
        self.slices = slices
        self.log = log
    }

    /// Candidates in table order (by rank).
    public var rankedCandidates: [CandidateRow] { candidates.sorted { ($0.rank, $0.id) < ($1.rank, $1.id) } }

    /// Candidates in the order of a sort key (ties by rank).
    public func sortedCandidates(_ key: CandidateSort) -> [CandidateRow] {
        rankedCandidates.enumerated().sorted { a, b in
            let (x, y) = (key.value(a.element), key.value(b.element))
            return x != y ? x < y : a.offset < b.offset
        }.map(\.element)
    }
}

