import Foundation

/// The newest log lines at or above a level, scrollable back in time.
public struct LogPane: Sendable {
    public var lines: [LogLine]
    public var minimum: LogSeverity
    /// Lines scrolled up from the newest.
    public var scroll: Int

    public init(lines: [LogLine], minimum: LogSeverity = .debug, scroll: Int = 0) {
        self.lines = lines
        self.minimum = minimum
        self.scroll = scroll
    }

    public var filtered: [LogLine] { lines.filter { $0.level >= minimum } }

    public func draw<C: Canvas>(in rect: Rect, on canvas: inout C, theme: ResolvedTheme) {
        guard !rect.isEmpty else { return }
        let shown = filtered
        guard !shown.isEmpty else {
            canvas.write(minimum == .debug ? "no log lines yet" : "no lines at \(minimum.name) or above",
                         y: rect.y, x: rect.x, width: rect.width, style: theme.style(.dim))
            return
        }
        let end = max(0, shown.count - max(0, min(scroll, shown.count - 1)))
        let start = max(0, end - rect.height)
        for (r, line) in shown[start..<end].enumerated() {
            let role = Role.log(line.level)
            canvas.write(line.level.tag, y: rect.y + r, x: rect.x, style: theme.style(role))
            canvas.write(line.text, y: rect.y + r, x: rect.x + 2, width: rect.width - 2,
                         style: line.level >= .warning ? theme.style(role) : theme.style(.text))
        }
    }
}

/// The top line: run, stage, progress, timing, memory and state; fields drop from the end of
/// the priority list when the line is narrow. PAUSED shows only when the engine says so.
public struct HeaderBar: Sendable {
    public var run: RunView
    public var requestedPause: Bool?

    public init(run: RunView, requestedPause: Bool? = nil) {
        self.run = run
        self.requestedPause = requestedPause
    }

    var stateText: (String, Role) {
        switch run.state {
        case .paused: return requestedPause == false ? ("⏸ resuming…", .paused) : ("⏸ PAUSED", .paused)
        case .running: return requestedPause == true ? ("▶ pausing…", .header) : ("▶ running", .header)
        case .starting: return ("… starting", .header)
        case .finished: return ("■ finished", .header)
        case .failed: return ("✖ FAILED", .paused)
        case .stopped: return ("■ stopped", .header)
        }
    }

    public func draw<C: Canvas>(in rect: Rect, on canvas: inout C, theme: ResolvedTheme) {
        guard !rect.isEmpty else { return }
        let style = theme.style(.header)
        canvas.fill(Rect(x: rect.x, y: rect.y, width: rect.width, height: 1), style: style)
        let (state, stateRole) = stateText
        // (priority, text): lower priority numbers survive narrower terminals.
        var fields: [(Int, String)] = [(0, "c2fnas")]
        if !run.dataset.isEmpty { fields.append((1, run.dataset)) }
        let stage = [run.stage, run.progressText].filter { !$0.isEmpty }.joined(separator: " ")
        if !stage.isEmpty { fields.append((2, stage)) }
        if let eta = run.etaSeconds { fields.append((3, "ETA " + Format.duration(eta))) }
        if let signal = run.signal { fields.append((4, signal)) }
        if let sps = run.secondsPerStep { fields.append((5, sps < 10 ? String(format: "%.2f s/step", sps) : String(format: "%.0f s/step", sps))) }
        if let ram = run.ramBytes { fields.append((4, "RAM " + Format.bytes(ram))) }
        if run.state == .failed, let m = run.message { fields.append((6, m)) }
        let stateWidth = state.count + 2
        func joined(_ f: [(Int, String)]) -> String { " " + f.map(\.1).joined(separator: " ─ ") + " " }
        var kept = fields
        while kept.count > 1, joined(kept).count > rect.width - stateWidth {
            let drop = kept.indices.max { kept[$0].0 < kept[$1].0 }!
            kept.remove(at: drop)
        }
        canvas.write(joined(kept), y: rect.y, x: rect.x, width: max(0, rect.width - stateWidth), style: style)
        let stateX = max(rect.x, rect.maxX - stateWidth)
        canvas.write(" " + state + " ", y: rect.y, x: stateX, width: rect.maxX - stateX, style: theme.style(stateRole).adding(.bold))
    }
}

/// The bottom line: a status message, then as many key hints as fit (help and quit first).
public struct FooterBar: Sendable {
    public var status: String?
    public init(status: String? = nil) { self.status = status }

    public func draw<C: Canvas>(in rect: Rect, on canvas: inout C, theme: ResolvedTheme) {
        guard !rect.isEmpty else { return }
        let style = theme.style(.footer)
        canvas.fill(Rect(x: rect.x, y: rect.y, width: rect.width, height: 1), style: style)
        var x = rect.x + 1
        if let status {
            x += canvas.write(status + "  ", y: rect.y, x: x, width: rect.maxX - x, style: style.adding(.bold))
        }
        // Keep the priority order for choosing, show them in keymap order of importance.
        for (i, hint) in Keymap.hints.enumerated() {
            let text = (i == 0 ? "" : " · ") + hint.keys + " " + hint.text
            guard x + text.count <= rect.maxX - 1 else { break }
            x += canvas.write(text, y: rect.y, x: x, style: style)
        }
    }
}
