import Foundation

/// A grid of braille dots, 2 wide and 4 tall per character cell.
public struct BrailleGrid: Sendable {
    public let cols: Int, rows: Int
    public private(set) var bits: [UInt8]

    public init(cols: Int, rows: Int) {
        self.cols = max(0, cols)
        self.rows = max(0, rows)
        bits = [UInt8](repeating: 0, count: self.cols * self.rows)
    }

    public var dotWidth: Int { cols * 2 }
    public var dotHeight: Int { rows * 4 }

    /// Unicode braille bit of the dot at column dx (0–1), row dy (0–3) inside a cell.
    static func bit(dx: Int, dy: Int) -> UInt8 {
        dy == 3 ? (dx == 0 ? 0x40 : 0x80) : UInt8(1 << (dy + 3 * dx))
    }

    public mutating func set(x: Int, y: Int) {
        guard x >= 0, y >= 0, x < dotWidth, y < dotHeight else { return }
        bits[(y / 4) * cols + x / 2] |= BrailleGrid.bit(dx: x % 2, dy: y % 4)
    }

    /// A straight line of dots (Bresenham).
    public mutating func line(from a: (x: Int, y: Int), to b: (x: Int, y: Int)) {
        var (x, y) = a
        let dx = abs(b.x - a.x), dy = -abs(b.y - a.y)
        let sx = a.x < b.x ? 1 : -1, sy = a.y < b.y ? 1 : -1
        var err = dx + dy
        while true {
            set(x: x, y: y)
            if x == b.x && y == b.y { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    public func cell(col: Int, row: Int) -> UInt8 { bits[row * cols + col] }

    public static func character(_ bits: UInt8) -> Character {
        Character(Unicode.Scalar(0x2800 + UInt32(bits))!)
    }
}

public enum AxisSide: Sendable { case left, right }

/// One curve of a plot.
public struct PlotSeries: Sendable {
    public var name: String
    public var points: [CurvePoint]
    public var role: Role
    public var side: AxisSide
    public var logScale: Bool
    public init(name: String, points: [CurvePoint], role: Role, side: AxisSide = .left, logScale: Bool = false) {
        self.name = name
        self.points = points
        self.role = role
        self.side = side
        self.logScale = logScale
    }
}

/// A braille line plot: legend on top, value axes (left, and right when a series uses it),
/// step axis below, and dotted vertical markers at stage boundaries.
public struct LinePlot: Sendable {
    public var series: [PlotSeries]
    public var boundaries: [StageBoundary]

    public init(series: [PlotSeries], boundaries: [StageBoundary] = []) {
        self.series = series
        self.boundaries = boundaries
    }

    /// The value range of one axis after the log transform, or nil without data.
    func range(_ side: AxisSide) -> (lo: Double, hi: Double, log: Bool)? {
        var lo = Double.infinity, hi = -Double.infinity, log = false
        for s in series where s.side == side {
            log = log || s.logScale
            for p in s.points {
                guard let t = transform(p.value, log: s.logScale) else { continue }
                lo = min(lo, t)
                hi = max(hi, t)
            }
        }
        guard lo <= hi else { return nil }
        if hi - lo < 1e-12 { lo -= 0.5; hi += 0.5 }
        return (lo, hi, log)
    }

    func transform(_ v: Double, log: Bool) -> Double? {
        guard v.isFinite else { return nil }
        if log { return v > 0 ? log10(v) : nil }
        return v
    }

    public func draw<C: Canvas>(in rect: Rect, on canvas: inout C, theme: ResolvedTheme) {
        guard rect.width >= 4, rect.height >= 1 else { return }
        let showLegend = rect.height >= 3, showXAxis = rect.height >= 3
        if showLegend { drawLegend(y: rect.y, x: rect.x, width: rect.width, on: &canvas, theme: theme) }
        guard series.contains(where: { !$0.points.isEmpty }) else {
            canvas.write("waiting for the first step", y: rect.y + (showLegend ? 1 : 0), x: rect.x, width: rect.width,
                         style: theme.style(.dim))
            return
        }
        let plotTop = rect.y + (showLegend ? 1 : 0)
        let plotRows = rect.height - (showLegend ? 1 : 0) - (showXAxis ? 1 : 0)
        let left = range(.left), right = range(.right)
        let leftLabels = left.map { axisLabels($0, rows: plotRows) } ?? []
        let rightLabels = right.map { axisLabels($0, rows: plotRows) } ?? []
        var leftGutter = (leftLabels.map(\.text.count).max() ?? 0) + 1
        var rightGutter = right == nil ? 0 : (rightLabels.map(\.text.count).max() ?? 0) + 1
        if rect.width - leftGutter - rightGutter < 4 { leftGutter = 0; rightGutter = 0 }
        let plotX = rect.x + leftGutter
        let plotCols = rect.width - leftGutter - rightGutter
        guard plotRows >= 1, plotCols >= 1 else { return }

        let axisStyle = theme.style(.axis)
        if leftGutter > 0 {
            for r in 0..<plotRows { canvas.put("│", y: plotTop + r, x: plotX - 1, style: axisStyle) }
            for l in leftLabels {
                canvas.write(l.text.leftPadded(to: leftGutter - 1), y: plotTop + l.row, x: rect.x, style: axisStyle)
                canvas.put("┤", y: plotTop + l.row, x: plotX - 1, style: axisStyle)
            }
        }
        if rightGutter > 0 {
            for r in 0..<plotRows { canvas.put("│", y: plotTop + r, x: plotX + plotCols, style: axisStyle) }
            for l in rightLabels {
                canvas.put("├", y: plotTop + l.row, x: plotX + plotCols, style: axisStyle)
                canvas.write(l.text, y: plotTop + l.row, x: plotX + plotCols + 1, style: axisStyle)
            }
        }

        // Step range over every series.
        let steps = series.flatMap { $0.points.map(\.step) }
        let xmin = steps.min() ?? 0, xmax = max(steps.max() ?? 1, xmin + 1)
        let grid = BrailleGrid(cols: plotCols, rows: plotRows)
        func dotX(_ step: Int) -> Int {
            Int((Double(step - xmin) / Double(xmax - xmin) * Double(grid.dotWidth - 1)).rounded())
        }

        // Each series on its own grid, so each cell can take the colour of the last series in it.
        var owner = [Role?](repeating: nil, count: plotCols * plotRows)
        var combined = [UInt8](repeating: 0, count: plotCols * plotRows)
        for s in series {
            guard let r = s.side == .left ? left : right else { continue }
            var g = BrailleGrid(cols: plotCols, rows: plotRows)
            var previous: (x: Int, y: Int)?
            for p in s.points {
                guard let t = transform(p.value, log: s.logScale) else { previous = nil; continue }
                let y = Int(((r.hi - t) / (r.hi - r.lo) * Double(g.dotHeight - 1)).rounded())
                let point = (x: dotX(p.step), y: y)
                if let previous { g.line(from: previous, to: point) } else { g.set(x: point.x, y: point.y) }
                previous = point
            }
            for i in combined.indices where g.bits[i] != 0 {
                combined[i] |= g.bits[i]
                owner[i] = s.role
            }
        }
        for row in 0..<plotRows {
            for col in 0..<plotCols {
                let i = row * plotCols + col
                guard combined[i] != 0, let role = owner[i] else { continue }
                canvas.put(BrailleGrid.character(combined[i]), y: plotTop + row, x: plotX + col, style: theme.style(role))
            }
        }

        // Stage boundaries: a dotted line through empty cells, the label at the top.
        let gridStyle = theme.style(.grid)
        for b in boundaries where b.step > xmin && b.step <= xmax {
            let col = dotX(b.step) / 2
            for row in 0..<plotRows where combined[row * plotCols + col] == 0 {
                canvas.put("┊", y: plotTop + row, x: plotX + col, style: gridStyle)
            }
            var x = col + 1
            for ch in b.label.prefix(8) {
                guard x < plotCols, combined[x] == 0 else { break }
                canvas.put(ch, y: plotTop, x: plotX + x, style: gridStyle)
                x += 1
            }
        }

        if showXAxis {
            let y = plotTop + plotRows
            if leftGutter > 0 { canvas.put("└", y: y, x: plotX - 1, style: axisStyle) }
            for c in 0..<plotCols { canvas.put("─", y: y, x: plotX + c, style: axisStyle) }
            if rightGutter > 0 { canvas.put("┘", y: y, x: plotX + plotCols, style: axisStyle) }
            if !steps.isEmpty {
                let lo = "\(xmin)", hi = "step \(xmax)"
                canvas.write(lo, y: y, x: plotX, width: plotCols, style: axisStyle)
                if hi.count + lo.count + 1 < plotCols {
                    canvas.write(hi, y: y, x: plotX + plotCols - hi.count, style: axisStyle)
                }
            }
        }
    }

    /// Labels for the top and bottom rows (and the middle one when there is room).
    func axisLabels(_ r: (lo: Double, hi: Double, log: Bool), rows: Int) -> [(row: Int, text: String)] {
        func value(_ t: Double) -> String { LinePlot.compact(r.log ? pow(10, t) : t) }
        guard rows >= 1 else { return [] }
        if rows == 1 { return [(0, value(r.hi))] }
        var labels = [(0, value(r.hi)), (rows - 1, value(r.lo))]
        if rows >= 5 { labels.append((rows / 2, value(r.hi - (r.hi - r.lo) * Double(rows / 2) / Double(rows - 1)))) }
        return labels
    }

    func drawLegend<C: Canvas>(y: Int, x: Int, width: Int, on canvas: inout C, theme: ResolvedTheme) {
        var used = 0
        for s in series {
            guard width - used > 3 else { break }
            if used > 0 { used += canvas.write("  ", y: y, x: x + used, width: width - used) }
            used += canvas.write("━ ", y: y, x: x + used, width: width - used, style: theme.style(s.role))
            var text = s.name
            if let last = s.points.last { text += " " + LinePlot.compact(last.value, precise: true) }
            used += canvas.write(text, y: y, x: x + used, width: width - used, style: theme.style(.text))
        }
    }

    /// Short number text for axes and legends ("0.71", "1.2k", "3e-04").
    public static func compact(_ v: Double, precise: Bool = false) -> String {
        let a = abs(v)
        if a == 0 { return "0" }
        if a >= 1000 { return String(format: "%.1fk", v / 1000) }
        if a >= 100 { return String(format: "%.0f", v) }
        if a >= 10 { return String(format: "%.1f", v) }
        if a >= 0.01 { return String(format: precise ? "%.3f" : "%.2f", v) }
        return String(format: "%.0e", v)
    }
}
