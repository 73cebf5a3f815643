/// The six panels; the raw value is the key that toggles the panel.
public enum Panel: Int, Sendable, CaseIterable, Hashable, Comparable {
    case curves = 1, topology, ops, candidates, slices, log
    public static func < (a: Panel, b: Panel) -> Bool { a.rawValue < b.rawValue }
    public var title: String {
        switch self {
        case .curves: return "loss / Dice"
        case .topology: return "topology"
        case .ops: return "ops"
        case .candidates: return "candidates"
        case .slices: return "slices"
        case .log: return "log"
        }
    }
}

public enum SliceAxis: String, Sendable, CaseIterable, Hashable {
    case axial, coronal, sagittal
}

/// What the slice viewer lays over the image.
public enum OverlayMode: String, Sendable, CaseIterable, Hashable {
    case labelAndPrediction = "label|pred"
    case label, prediction
    case errors = "FP/FN"
    case none
}

/// Confirmation dialogs.
public enum ConfirmKind: Sendable, Equatable {
    case quit, nextStage
    public var question: String {
        switch self {
        case .quit: return "Quit? The run is checkpointed first."
        case .nextStage: return "End this stage and start the next one?"
        }
    }
}

public enum Overlay: Sendable, Equatable {
    case help(scroll: Int)
    case confirm(ConfirmKind)
}

/// What the UI asks of the engine (the caller routes these).
public enum Command: Sendable, Equatable {
    case pause, resume, nextStage
    /// Checkpoint, stop the run, then exit.
    case quit
    case export(candidateID: String)
    /// Load validation case `index` for the slice viewer.
    case selectCase(Int)
    /// Repaint the whole terminal (handled by the driver).
    case redraw
}

/// State that belongs to the UI only (never to the run).
public struct UIState: Sendable, Equatable {
    public var focus: Panel = .candidates
    public var hidden: Set<Panel> = []
    public var overlay: Overlay?
    /// The pause state last asked for; the banner still follows the engine's acknowledgement.
    public var requestedPause: Bool?
    public var quitRequested = false
    public var selectedCandidateID: String?
    /// Candidate whose topology the grid shows instead of the live one (Enter; Esc goes back).
    public var shownCandidateID: String?
    public var axis: SliceAxis = .axial
    /// Slice index per axis; nil = middle slice.
    public var sliceIndex: [SliceAxis: Int] = [:]
    public var overlayMode: OverlayMode = .labelAndPrediction
    /// Window width as a multiple of the automatic window; level shift as a fraction of it.
    public var windowScale = 1.0
    public var levelShift = 0.0
    public var logScaleLoss = true
    public var logMinimum: LogSeverity = .debug
    /// Log lines scrolled up from the newest.
    public var logScroll = 0
    public var opsScroll = 0
    /// Order of the candidates pane (k cycles it).
    public var candidateSort: CandidateSort = .fitness
    public var themeIndex = 0
    /// One transient line for the footer ("pausing…", "no candidate selected").
    public var status: String?

    public init() {}

    public func isVisible(_ p: Panel) -> Bool { !hidden.contains(p) }
}
