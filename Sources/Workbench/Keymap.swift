/// A key press, decoded from the terminal.
public enum Key: Hashable, Sendable {
    case character(Character)
    /// Ctrl plus a letter, e.g. `.control("l")` for Ctrl-L.
    case control(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case enter, escape, tab, backTab, backspace
    case function(Int)
    case resize

    /// How the key is written in help and hints.
    public var label: String {
        switch self {
        case .character(" "): return "Space"
        case .character(let c): return String(c)
        case .control(let c): return "Ctrl-" + c.uppercased()
        case .up: return "↑"
        case .down: return "↓"
        case .left: return "←"
        case .right: return "→"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case .home: return "Home"
        case .end: return "End"
        case .enter: return "Enter"
        case .escape: return "Esc"
        case .tab: return "Tab"
        case .backTab: return "Shift-Tab"
        case .backspace: return "Backspace"
        case .function(let n): return "F\(n)"
        case .resize: return "resize"
        }
    }
}

/// What a key does. `Keymap.table` binds keys to actions; the handler interprets actions.
public enum Action: Hashable, Sendable {
    case quit, help, closeOverlay, togglePause, nextStage
    case nextPane, previousPane
    case togglePanel(Panel)
    case moveUp, moveDown, moveLeft, moveRight, pageUp, pageDown, first, last
    case axis(SliceAxis)
    case previousCase, nextCase
    case cycleOverlay
    case windowNarrower, windowWider, levelDown, levelUp, resetWindow
    case toggleLogScale, cycleLogFilter
    case cycleTheme
    case exportCandidate, showCandidate, cycleCandidateSort
    case redraw
}

/// One row of the keymap: the keys, the action, the help text and (optionally) a short footer hint.
public struct KeyBinding: Sendable {
    public let keys: [Key]
    public let action: Action
    public let description: String
    /// Footer hint text (e.g. "pause"); nil = help only. Lower `hintPriority` survives narrower footers.
    public let hint: String?
    public let hintPriority: Int

    public init(_ keys: [Key], _ action: Action, _ description: String, hint: String? = nil, priority: Int = 99) {
        self.keys = keys
        self.action = action
        self.description = description
        self.hint = hint
        hintPriority = priority
    }

    /// "Space, p" — the keys as written in help.
    public var keysLabel: String { keys.map(\.label).joined(separator: ", ") }
}

/// The one keymap: the key handler, the help overlay and the footer hints all come from it.
public enum Keymap {
    public static let table: [KeyBinding] = {
        var t: [KeyBinding] = [
            KeyBinding([.character("q")], .quit, "quit (asks first; the run is checkpointed before exit)", hint: "quit", priority: 1),
            KeyBinding([.character("?"), .function(1)], .help, "show this help", hint: "help", priority: 0),
            KeyBinding([.escape], .closeOverlay, "close the overlay; back to the live topology"),
            KeyBinding([.character(" "), .character("p")], .togglePause, "pause / resume the search (banner once the engine confirms)",
                       hint: "pause", priority: 2),
            KeyBinding([.character("n")], .nextStage, "skip to the next stage (asks first)", hint: "next stage", priority: 4),
            KeyBinding([.tab], .nextPane, "focus the next pane", hint: "pane", priority: 6),
            KeyBinding([.backTab], .previousPane, "focus the previous pane"),
        ]
        for panel in Panel.allCases {
            t.append(KeyBinding([.character(Character(String(panel.rawValue)))], .togglePanel(panel), "show / hide the \(panel.title) panel"))
        }
        t += [
            KeyBinding([.up], .moveUp, "focused pane: previous candidate / slice up / scroll"),
            KeyBinding([.down], .moveDown, "focused pane: next candidate / slice down / scroll"),
            KeyBinding([.left], .moveLeft, "previous slice (slices pane)"),
            KeyBinding([.right], .moveRight, "next slice (slices pane)", hint: "slice", priority: 7),
            KeyBinding([.pageUp], .pageUp, "page up (10 slices in the slices pane)"),
            KeyBinding([.pageDown], .pageDown, "page down (10 slices in the slices pane)"),
            KeyBinding([.home], .first, "first row / slice"),
            KeyBinding([.end], .last, "last row / slice"),
            KeyBinding([.character("a")], .axis(.axial), "axial slices", hint: "axis", priority: 8),
            KeyBinding([.character("c")], .axis(.coronal), "coronal slices"),
            KeyBinding([.character("s")], .axis(.sagittal), "sagittal slices"),
            KeyBinding([.character("[")], .previousCase, "previous validation case"),
            KeyBinding([.character("]")], .nextCase, "next validation case", hint: "case", priority: 9),
            KeyBinding([.character("o")], .cycleOverlay, "overlay: label+prediction / label / prediction / errors / none",
                       hint: "overlay", priority: 10),
            KeyBinding([.character("w")], .windowNarrower, "narrower intensity window (more contrast)"),
            KeyBinding([.character("W")], .windowWider, "wider intensity window"),
            KeyBinding([.character("b")], .levelDown, "darker: lower the window level"),
            KeyBinding([.character("B")], .levelUp, "brighter: raise the window level"),
            KeyBinding([.character("r")], .resetWindow, "reset window / level"),
            KeyBinding([.character("l")], .toggleLogScale, "log / linear scale for the loss curve"),
            KeyBinding([.character("f")], .cycleLogFilter, "log filter: all / info / warnings / errors"),
            KeyBinding([.character("t")], .cycleTheme, "next colour theme"),
            KeyBinding([.character("e")], .exportCandidate, "export the selected candidate", hint: "export", priority: 5),
            KeyBinding([.character("k")], .cycleCandidateSort, "sort the candidates by Dice / MACs / memory / params / latency",
                       hint: "sort", priority: 12),
            KeyBinding([.enter], .showCandidate, "show the selected candidate's topology in the grid", hint: "show", priority: 11),
            KeyBinding([.control("l")], .redraw, "redraw the screen"),
        ]
        return t
    }()

    /// Action bound to a key, if any.
    public static func action(for key: Key) -> Action? {
        lookup[key]
    }

    private static let lookup: [Key: Action] = {
        var d = [Key: Action]()
        for b in table { for k in b.keys { d[k] = b.action } }
        return d
    }()

    /// The footer's key hints, most important first ("? help", "q quit", "Space pause", …).
    public static var hints: [(keys: String, text: String)] {
        table.filter { $0.hint != nil }.sorted { $0.hintPriority < $1.hintPriority }.map { b in
            let keys: String
            switch b.action {
            case .axis: keys = "a/c/s"
            case .moveRight: keys = "←→"
            case .nextCase: keys = "[ ]"
            case .help: keys = "?"
            default: keys = b.keys[0].label
            }
            return (keys, b.hint!)
        }
    }
}
