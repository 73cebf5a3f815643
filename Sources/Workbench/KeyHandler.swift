/// Key handling as a pure function: the new UI state and the commands for the engine.
public enum KeyHandler {
    /// Handles one key. `model` is read only (for selection bounds and the run state).
    public static func handle(_ key: Key, state: UIState, model: WorkbenchModel) -> (UIState, [Command]) {
        var s = state
        s.status = nil
        if key == .resize { return (s, []) }

        switch state.overlay {
        case .confirm(let kind):
            switch key {
            case .character("y"), .character("Y"), .enter:
                s.overlay = nil
                switch kind {
                case .quit:
                    s.quitRequested = true
                    s.status = "checkpointing and quitting…"
                    return (s, [.quit])
                case .nextStage:
                    s.status = "next stage requested"
                    return (s, [.nextStage])
                }
            case .character("n"), .character("N"), .escape, .character("q"):
                s.overlay = nil
            default: break
            }
            return (s, [])
        case .help(let scroll):
            switch Keymap.action(for: key) {
            case .moveDown?: s.overlay = .help(scroll: scroll + 1)
            case .moveUp?: s.overlay = .help(scroll: max(0, scroll - 1))
            case .pageDown?: s.overlay = .help(scroll: scroll + 10)
            case .pageUp?: s.overlay = .help(scroll: max(0, scroll - 10))
            case .redraw?: return (s, [.redraw])
            case .help?, .closeOverlay?, .quit?: s.overlay = nil
            default: break
            }
            return (s, [])
        case nil:
            break
        }

        guard let action = Keymap.action(for: key) else { return (s, []) }
        return apply(action, to: s, model: model)
    }

    static func apply(_ action: Action, to state: UIState, model: WorkbenchModel) -> (UIState, [Command]) {
        var s = state
        switch action {
        case .quit:
            s.overlay = .confirm(.quit)
        case .help:
            s.overlay = .help(scroll: 0)
        case .closeOverlay:
            s.shownCandidateID = nil
        case .togglePause:
            switch model.run.state {
            case .running, .starting:
                s.requestedPause = true  // the header shows "pausing…" until the engine confirms
                return (s, [.pause])
            case .paused:
                s.requestedPause = false
                return (s, [.resume])
            case .finished, .failed, .stopped:
                s.status = "the run is \(model.run.state.rawValue)"
            }
        case .nextStage:
            if model.run.state.isTerminal {
                s.status = "the run is \(model.run.state.rawValue)"
            } else {
                s.overlay = .confirm(.nextStage)
            }
        case .nextPane, .previousPane:
            let visible = Panel.allCases.filter { s.isVisible($0) }
            if !visible.isEmpty {
                let i = visible.firstIndex(of: s.focus) ?? -1
                let step = action == .nextPane ? 1 : -1
                s.focus = visible[((i + step) % visible.count + visible.count) % visible.count]
            }
        case .togglePanel(let p):
            if s.hidden.contains(p) {
                s.hidden.remove(p)
            } else {
                s.hidden.insert(p)
                if s.focus == p, let next = Panel.allCases.first(where: { s.isVisible($0) }) { s.focus = next }
            }
        case .moveUp, .moveDown, .moveLeft, .moveRight, .pageUp, .pageDown, .first, .last:
            move(action, state: &s, model: model)
        case .axis(let a):
            s.axis = a
        case .previousCase, .nextCase:
            // Relative to the case on screen; the engine loads it and the model follows.
            let count = model.slices.caseCount
            guard count > 0 else { s.status = "no validation cases yet"; break }
            let current = model.slices.caseIndex
            let next = max(0, min(count - 1, current + (action == .nextCase ? 1 : -1)))
            if next != current {
                s.status = "loading case \(next + 1)/\(count)…"
                return (s, [.selectCase(next)])
            }
        case .cycleOverlay:
            let all = OverlayMode.allCases
            s.overlayMode = all[(all.firstIndex(of: s.overlayMode)! + 1) % all.count]
        case .windowNarrower: s.windowScale = max(0.05, s.windowScale / 1.25)
        case .windowWider: s.windowScale = min(20, s.windowScale * 1.25)
        case .levelDown: s.levelShift -= 0.05
        case .levelUp: s.levelShift += 0.05
        case .resetWindow:
            s.windowScale = 1
            s.levelShift = 0
        case .toggleLogScale: s.logScaleLoss.toggle()
        case .cycleLogFilter:
            s.logMinimum = LogSeverity(rawValue: (s.logMinimum.rawValue + 1) % LogSeverity.allCases.count)!
            s.logScroll = 0
        case .cycleTheme: s.themeIndex += 1
        case .exportCandidate:
            guard let row = selectedCandidate(s, model) else { s.status = "no candidate to export yet"; break }
            s.status = "export of candidate \(row.id) requested"
            return (s, [.export(candidateID: row.id)])
        case .showCandidate:
            guard let row = selectedCandidate(s, model) else { s.status = "no candidate selected"; break }
            s.shownCandidateID = row.id
        case .cycleCandidateSort:
            let all = CandidateSort.allCases
            s.candidateSort = all[(all.firstIndex(of: s.candidateSort)! + 1) % all.count]
            s.status = "candidates sorted by \(s.candidateSort.title)"
        case .redraw:
            return (s, [.redraw])
        }
        return (s, [])
    }

    /// The selected candidate row: the remembered id if it still exists, else the best one.
    public static func selectedCandidate(_ s: UIState, _ model: WorkbenchModel) -> CandidateRow? {
        let rows = model.sortedCandidates(s.candidateSort)
        return rows.first { $0.id == s.selectedCandidateID } ?? rows.first
    }

    /// Index of the selected candidate in rank order.
    public static func selectedCandidateIndex(_ s: UIState, _ model: WorkbenchModel) -> Int? {
        let rows = model.sortedCandidates(s.candidateSort)
        guard !rows.isEmpty else { return nil }
        return rows.firstIndex { $0.id == s.selectedCandidateID } ?? 0
    }

    /// Slice count along an axis of the current volume (0 without a volume).
    static func sliceCount(_ axis: SliceAxis, _ model: WorkbenchModel) -> Int {
        guard let v = model.slices.volume else { return 0 }
        switch axis {
        case .axial: return v.size.z
        case .coronal: return v.size.y
        case .sagittal: return v.size.x
        }
    }

    /// The slice shown along an axis (clamped; middle by default).
    public static func sliceIndex(_ s: UIState, _ model: WorkbenchModel) -> Int {
        let n = sliceCount(s.axis, model)
        guard n > 0 else { return 0 }
        return max(0, min(n - 1, s.sliceIndex[s.axis] ?? n / 2))
    }

    private static func move(_ action: Action, state s: inout UIState, model: WorkbenchModel) {
        let delta: Int
        switch action {
        case .moveUp, .moveLeft: delta = -1
        case .moveDown, .moveRight: delta = 1
        case .pageUp: delta = -10
        case .pageDown: delta = 10
        case .first: delta = Int.min / 2
        default: delta = Int.max / 2
        }
        switch s.focus {
        case .candidates:
            guard action != .moveLeft, action != .moveRight else { return }
            let rows = model.sortedCandidates(s.candidateSort)
            guard let i = selectedCandidateIndex(s, model) else { return }
            s.selectedCandidateID = rows[max(0, min(rows.count - 1, i &+ delta))].id
        case .slices:
            let n = sliceCount(s.axis, model)
            guard n > 0 else { return }
            // Up, PgUp and right go to higher slice numbers (up the stack); left and down go lower.
            let vertical: Set<Action> = [.moveUp, .moveDown, .pageUp, .pageDown]
            let d = vertical.contains(action) ? -delta : delta
            s.sliceIndex[s.axis] = max(0, min(n - 1, sliceIndex(s, model) &+ d))
        case .log:
            guard action != .moveLeft, action != .moveRight else { return }
            let visible = model.log.filter { $0.level >= s.logMinimum }.count
            s.logScroll = max(0, min(max(0, visible - 1), s.logScroll &- delta))
        case .ops:
            guard action != .moveLeft, action != .moveRight else { return }
            let cells = model.ops?.cells.count ?? 0
            s.opsScroll = max(0, min(max(0, cells - 1), s.opsScroll &+ delta))
        case .curves, .topology:
            break
        }
    }
}
