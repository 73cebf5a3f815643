import Foundation

/// The candidates pane's orders; each sorts best first (Dice high, costs low; unknown last).
public enum CandidateSort: String, Sendable, CaseIterable, Hashable {
    case fitness, macs, memory, params, latency

    public var title: String {
        switch self {
        case .fitness: return "Dice"
        case .macs: return "MACs"
        case .memory: return "memory"
        case .params: return "params"
        case .latency: return "latency"
        }
    }

    /// Ascending key: smaller sorts first.
    func value(_ r: CandidateRow) -> Double {
        switch self {
        case .fitness: return -(r.dice ?? -.infinity)
        case .macs: return Double(r.macs)
        case .memory: return Double(r.memoryBytes)
        case .params: return Double(r.params)
        case .latency: return r.latencyMs ?? .infinity
        }
    }
}

/// Scored topologies in the chosen order, with a selection that stays in view. Pareto-optimal rows
/// (Dice, MACs, memory) are marked ◆. Columns that do not fit are dropped (latency, mem, MACs, id,
/// params, in that order); the topology column is cut with "…". Below the rows, the honest-evaluation
/// lines (split rule, test Dice, searched vs baseline) take the last lines of the pane.
public struct CandidatesTable: Sendable {
    public var rows: [CandidateRow]
    public var selectedIndex: Int?
    /// Row whose topology the grid currently shows (marked ▸).
    public var shownID: String?
    public var evaluation: [String]

    public init(rows: [CandidateRow], selectedIndex: Int?, shownID: String? = nil, evaluation: [String] = []) {
        self.rows = rows
        self.selectedIndex = selectedIndex
        self.shownID = shownID
        self.evaluation = evaluation
    }

    struct Column {
        let title: String
        let width: Int
        let rightAligned: Bool
        let value: (CandidateRow) -> String
    }

    func columns(width: Int) -> [Column] {
        let idWidth = min(8, max(2, rows.map(\.id.count).max() ?? 2))
        let rankWidth = max(2, "\(rows.map(\.rank).max() ?? 1)".count + 1)
        var cols: [(priority: Int, column: Column)] = [
            (0, Column(title: "#", width: rankWidth, rightAligned: true) { "#\($0.rank)" }),
            (2, Column(title: "id", width: idWidth, rightAligned: false) { $0.id }),
            (0, Column(title: "Dice", width: 5, rightAligned: true) { r in r.dice.map { String(format: "%.3f", $0) } ?? "—" }),
            (3, Column(title: "params", width: 6, rightAligned: true) { Format.si(Double($0.params)) }),
            (4, Column(title: "MACs", width: 6, rightAligned: true) { Format.si(Double($0.macs)) }),
            (5, Column(title: "mem", width: 5, rightAligned: true) { Format.bytes($0.memoryBytes) }),
        ]
        // The Pareto mark and the latency appear once there is something to show.
        if rows.contains(where: \.paretoOptimal) {
            cols.insert((0, Column(title: "◆", width: 1, rightAligned: false) { $0.paretoOptimal ? "◆" : " " }), at: 1)
        }
        if rows.contains(where: { $0.latencyMs != nil }) {
            cols.append((6, Column(title: "ms", width: 5, rightAligned: true) { r in
                r.latencyMs.map { $0 < 100 ? String(format: "%.1f", $0) : String(format: "%.0f", $0) } ?? "—"
            }))
        }
        // 1 column for the ▸ marker, 1 space between columns, room for a 12-cell topology.
        func needed(_ c: [(priority: Int, column: Column)]) -> Int { 1 + c.reduce(0) { $0 + $1.column.width + 1 } + 12 }
        while needed(cols) > width, let drop = cols.indices.filter({ cols[$0].priority > 0 }).max(by: { cols[$0].priority < cols[$1].priority }) {
            cols.remove(at: drop)
        }
        return cols.map(\.column)
    }

    public func draw<C: Canvas>(in whole: Rect, on canvas: inout C, theme: ResolvedTheme) {
        guard !whole.isEmpty else { return }
        // Evaluation lines at the bottom, leaving the header and at least two rows to the table.
        let footer = min(evaluation.count, max(0, whole.height - 3))
        for (i, text) in evaluation.prefix(footer).enumerated() {
            canvas.write(text, y: whole.y + whole.height - footer + i, x: whole.x, width: whole.width, style: theme.style(.header))
        }
        let rect = Rect(x: whole.x, y: whole.y, width: whole.width, height: whole.height - footer)
        guard !rows.isEmpty else {
            canvas.write("no candidates yet", y: rect.y, x: rect.x, width: rect.width, style: theme.style(.dim))
            return
        }
        let cols = columns(width: rect.width)
        let fixed = 1 + cols.reduce(0) { $0 + $1.width + 1 }
        let topologyWidth = rect.width - fixed
        func line(_ cells: [String], marker: String, topology: String) -> String {
            var s = marker
            for (c, text) in zip(cols, cells) {
                s += (c.rightAligned ? text.leftPadded(to: c.width) : text.padded(to: c.width)) + " "
            }
            if topologyWidth > 0 { s += topology.truncated(to: topologyWidth) }
            return s
        }
        let header = line(cols.map(\.title), marker: " ", topology: topologyWidth >= 4 ? "topology" : "")
        canvas.write(header, y: rect.y, x: rect.x, width: rect.width, style: theme.style(.axis).adding(.bold))

        let visible = rect.height - 1
        guard visible > 0 else { return }
        let selected = selectedIndex.map { max(0, min(rows.count - 1, $0)) }
        let top = selected.map { $0 < visible ? 0 : $0 - visible + 1 } ?? 0
        for r in 0..<min(visible, rows.count - top) {
            let row = rows[top + r]
            let text = line(cols.map { $0.value(row) }, marker: row.id == shownID ? "▸" : " ",
                            topology: topologyText(row.topology))
            let y = rect.y + 1 + r
            if top + r == selected {
                let style = theme.style(.selection)
                canvas.fill(Rect(x: rect.x, y: y, width: rect.width, height: 1), style: style)
                canvas.write(text, y: y, x: rect.x, width: rect.width, style: style)
            } else {
                canvas.write(text, y: y, x: rect.x, width: rect.width, style: theme.style(.text))
            }
        }
    }

    /// Levels, then the op initials once known: "112234332111 2P33332 3P323".
    func topologyText(_ t: TopologyPath) -> String {
        guard let ops = t.ops else { return t.text }
        return t.text + " " + ops.map { $0.hasPrefix("P") ? "P" : String($0.prefix(1)) }.joined()
    }
}
