/// Levels × cells: each cell is a node on its level's row, consecutive cells joined by
/// connectors. The medoid, the best and the current topology are drawn in that order with
/// their own glyphs (○ ─, ◆ ═, ● ━), so where they agree the current one shows.
public struct TopologyGrid: Sendable {
    public var levels: Int
    public var current: TopologyPath?
    public var best: TopologyPath?
    public var medoid: TopologyPath?
    /// Legend word for the current path ("now", or "cand 7" when a candidate is shown).
    public var currentName: String

    public init(levels: Int, current: TopologyPath?, best: TopologyPath? = nil, medoid: TopologyPath? = nil,
                currentName: String = "now") {
        self.levels = levels
        self.current = current
        self.best = best
        self.medoid = medoid
        self.currentName = currentName
    }

    struct Glyphs {
        let node, horizontal, vertical, downTop, downBottom, upBottom, upTop: Character
    }
    static let currentGlyphs = Glyphs(node: "●", horizontal: "━", vertical: "┃", downTop: "╮", downBottom: "╰", upBottom: "╯", upTop: "╭")
    static let bestGlyphs = Glyphs(node: "◆", horizontal: "═", vertical: "║", downTop: "╗", downBottom: "╚", upBottom: "╝", upTop: "╔")
    static let medoidGlyphs = Glyphs(node: "○", horizontal: "─", vertical: "│", downTop: "╮", downBottom: "╰", upBottom: "╯", upTop: "╭")

    public func draw<C: Canvas>(in rect: Rect, on canvas: inout C, theme: ResolvedTheme) {
        let paths = [medoid, best, current].compactMap { $0 }
        let cells = paths.map(\.cellLevels.count).max() ?? 0
        guard cells > 0, levels > 0, !rect.isEmpty else {
            canvas.write("no topology yet", y: rect.y, x: rect.x, width: rect.width, style: theme.style(.dim))
            return
        }
        // Row labels ("L1 ") when they fit; cell spacing grows with the room (3…6 columns).
        var labelWidth = 3
        if labelWidth + (cells - 1) * 3 + 1 > rect.width { labelWidth = 0 }
        let spacing = cells > 1 ? max(2, min(6, (rect.width - labelWidth - 1) / (cells - 1))) : 3
        let x0 = rect.x + labelWidth
        let rowsShown = min(levels, rect.height)
        if labelWidth > 0 {
            for l in 1...rowsShown { canvas.write("L\(l)", y: rect.y + l - 1, x: rect.x, style: theme.style(.axis)) }
        }
        func clipPut(_ ch: Character, level: Int, x: Int, style: Style) {
            guard level >= 1, level <= rowsShown, x >= rect.x, x < rect.maxX else { return }
            canvas.put(ch, y: rect.y + level - 1, x: x, style: style)
        }

        func drawPath(_ path: TopologyPath, glyphs g: Glyphs, style: (Int) -> Style) {
            let lv = path.cellLevels
            for i in lv.indices {
                let x = x0 + i * spacing
                clipPut(g.node, level: lv[i], x: x, style: style(lv[i]))
                guard i + 1 < lv.count else { continue }
                let a = lv[i], b = lv[i + 1], xNext = x + spacing
                if a == b {
                    for cx in (x + 1)..<xNext { clipPut(g.horizontal, level: a, x: cx, style: style(a)) }
                } else if b > a {  // down: corner right after the node, run along the lower row
                    clipPut(g.downTop, level: a, x: x + 1, style: style(a))
                    for l in (a + 1)..<b { clipPut(g.vertical, level: l, x: x + 1, style: style(l)) }
                    clipPut(g.downBottom, level: b, x: x + 1, style: style(b))
                    for cx in (x + 2)..<max(x + 2, xNext) { clipPut(g.horizontal, level: b, x: cx, style: style(b)) }
                } else {  // up: run along the lower row, corner right before the next node
                    for cx in (x + 1)..<max(x + 1, xNext - 1) { clipPut(g.horizontal, level: a, x: cx, style: style(a)) }
                    clipPut(g.upBottom, level: a, x: xNext - 1, style: style(a))
                    for l in (b + 1)..<a { clipPut(g.vertical, level: l, x: xNext - 1, style: style(l)) }
                    clipPut(g.upTop, level: b, x: xNext - 1, style: style(b))
                }
            }
        }
        if let medoid { drawPath(medoid, glyphs: Self.medoidGlyphs) { _ in theme.style(.topologyMedoid) } }
        if let best { drawPath(best, glyphs: Self.bestGlyphs) { _ in theme.style(.topologyBest) } }
        if let current { drawPath(current, glyphs: Self.currentGlyphs) { theme.style(Role.level($0)) } }

        // The op of each cell under the grid, once known.
        var y = rect.y + rowsShown
        if let ops = current?.ops ?? best?.ops, y < rect.maxY {
            if labelWidth > 0 { canvas.write("op", y: y, x: rect.x, style: theme.style(.axis)) }
            for (i, op) in ops.enumerated() {
                let x = x0 + i * spacing
                guard x < rect.maxX else { break }
                canvas.put(op.hasPrefix("P") ? "P" : (op.first ?? "?"), y: y, x: x, style: theme.style(Role.op(op)))
            }
            y += 1
        }
        if y < rect.maxY {
            var x = rect.x
            let entries: [(TopologyPath?, String, Character, Role)] = [
                (current, currentName, "●", .level1), (best, "best", "◆", .topologyBest), (medoid, "medoid", "○", .topologyMedoid),
            ]
            for (path, name, glyph, role) in entries where path != nil {
                guard x + name.count + 2 <= rect.maxX else { break }
                canvas.put(glyph, y: y, x: x, style: theme.style(role))
                x += 1 + canvas.write(" " + name + "  ", y: y, x: x + 1, width: rect.maxX - x - 1, style: theme.style(.dim))
            }
        }
    }
}
