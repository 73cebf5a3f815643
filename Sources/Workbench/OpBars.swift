import Foundation

/// Fine-stage op probabilities: one line per cell with a ▁…█ bar per op, the leading op and
/// its probability, and ⚠ when a cell commits to one op early (low entropy before half-way).
public struct OpBars: Sendable {
    public var view: OpProbabilitiesView
    /// First cell shown when not every cell fits.
    public var scroll: Int

    public init(view: OpProbabilitiesView, scroll: Int = 0) {
        self.view = view
        self.scroll = scroll
    }

    /// An eighth-block bar for a probability: blank for 0, ▁ … █ for 1/8 … 1.
    public static func bar(_ p: Double) -> Character {
        let eighths = Int((max(0, min(1, p)) * 8).rounded())
        return eighths == 0 ? " " : Character(Unicode.Scalar(0x2580 + UInt32(eighths))!)
    }

    /// Cells that collapsed early.
    public var collapsedCells: [Int] { view.cells.indices.filter { view.collapsedEarly(cell: $0) } }

    public func draw<C: Canvas>(in rect: Rect, on canvas: inout C, theme: ResolvedTheme) {
        guard !rect.isEmpty else { return }
        let k = view.opNames.count, n = view.cells.count
        guard n > 0, k > 0 else {
            canvas.write("no fine stage yet", y: rect.y, x: rect.x, width: rect.width, style: theme.style(.dim))
            return
        }
        let labelWidth = "c\(n)".count
        // Entry widths: full "c1 ▇▂▁ 2D  0.71⚠", compact "c1 ▇▂▁⚠".
        let nameWidth = view.opNames.map(\.count).max() ?? 2
        let full = labelWidth + 1 + k + 1 + nameWidth + 1 + 4 + 1
        let compact = labelWidth + 1 + k + 1
        let rowsForCells = rect.height - 1  // below the header row
        guard rowsForCells >= 1 else { return }
        // One column when every cell fits; else enough columns for all cells; else scroll.
        var columns = 1, entryWidth = rect.width >= full ? full : compact
        if n > rowsForCells {
            let needed = (n + rowsForCells - 1) / rowsForCells
            if needed * (full + 1) - 1 <= rect.width {
                columns = needed; entryWidth = full
            } else if needed * (compact + 1) - 1 <= rect.width {
                columns = needed; entryWidth = compact
            }
        }
        let perColumn = columns > 1 ? (n + columns - 1) / columns : rowsForCells
        let first = columns > 1 ? 0 : max(0, min(scroll, n - rowsForCells))

        // Header: the op initials above their bar columns.
        for c in 0..<columns {
            let x = rect.x + c * (entryWidth + 1) + labelWidth + 1
            for (j, name) in view.opNames.enumerated() {
                canvas.put(name.hasPrefix("P") ? "P" : (name.first ?? "?"), y: rect.y, x: x + j, style: theme.style(Role.op(name)))
            }
        }
        for c in 0..<columns {
            for r in 0..<perColumn {
                let i = first + c * perColumn + r
                guard i < n, r < rowsForCells else { break }
                let y = rect.y + 1 + r
                var x = rect.x + c * (entryWidth + 1)
                let limit = min(rect.maxX, x + entryWidth)
                let p = view.cells[i]
                canvas.write("c\(i + 1)".padded(to: labelWidth), y: y, x: x, width: limit - x, style: theme.style(.axis))
                x += labelWidth + 1
                for j in 0..<k where x + j < limit {
                    canvas.put(OpBars.bar(j < p.count ? p[j] : 0), y: y, x: x + j, style: theme.style(Role.op(view.opNames[j])))
                }
                x += k + 1
                if entryWidth == full, let best = p.indices.max(by: { p[$0] < p[$1] }), best < k {
                    let text = view.opNames[best].padded(to: nameWidth) + " " + String(format: "%.2f", p[best])
                    x += canvas.write(text, y: y, x: x, width: limit - x, style: theme.style(.text))
                }
                if view.collapsedEarly(cell: i), x < rect.maxX {
                    canvas.put("⚠", y: y, x: min(x, limit - 1), style: theme.style(.warning))
                }
            }
        }
    }
}
