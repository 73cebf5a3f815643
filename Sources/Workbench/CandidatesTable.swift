import Foundation

/// Scored topologies by rank, with a selection that stays in view. Columns that do not fit are
/// dropped (mem, MACs, id, params, in that order); the topology column is cut with "…".
public struct CandidatesTable: Sendable {
    public var rows: [CandidateRow]
    public var selectedIndex: Int?
    /// Row whose topology the grid currently shows (marked ▸).
    public var shownID: String?

    public init(rows: [CandidateRow], selectedIndex: Int?, shownID: String? = nil) {
        self.rows = rows
        self.selectedIndex = selectedIndex
        self.shownID = shownID
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
        // 1 column for the ▸ marker, 1 space between columns, room for a 12-cell topology.
        func needed(_ c: [(priority: Int, column: Column)]) -> Int { 1 + c.reduce(0) { $0 + $1.column.width + 1 } + 12 }
        while needed(cols) > width, let drop = cols.indices.filter({ cols[$0].priority > 0 }).max(by: { cols[$0].priority < cols[$1].priority }) {
            cols.remove(at: drop)
        }
        return cols.map(\.column)
    }

    public func draw<C: Canvas>(in rect: Rect, on canvas: inout C, theme: ResolvedTheme) {
        guard !rect.isEmpty else { return }
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
