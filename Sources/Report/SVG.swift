import Foundation

/// Small SVG builders for the report: line charts, scatter plots and a topology diagram. Text is
/// escaped; coordinates are rounded to 0.1 px to keep the file small.
enum SVG {
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// "Nice" tick values covering lo…hi.
    static func ticks(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
        guard hi > lo, lo.isFinite, hi.isFinite else { return [lo] }
        let raw = (hi - lo) / Double(count)
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
        var t = (lo / step).rounded(.up) * step
        var out = [Double]()
        while t <= hi + step * 1e-9 { out.append(t); t += step }
        return out
    }

    static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        if abs(v) >= 1e9 { return String(format: "%.1fG", v / 1e9) }
        if abs(v) >= 1e6 { return String(format: "%.1fM", v / 1e6) }
        if abs(v) >= 1e3 { return String(format: "%.1fk", v / 1e3) }
        return abs(v) < 0.01 ? String(format: "%.0e", v) : String(format: "%.3g", v)
    }

    struct Series {
        var name: String
        var points: [(x: Double, y: Double)]
        var colour: String
        var dashed = false
    }

    /// A line chart with axes, ticks, a legend and optional vertical markers (stage changes).
    static func lineChart(_ series: [Series], width: Double = 560, height: Double = 260, xLabel: String, yLabel: String,
                          yRange: ClosedRange<Double>? = nil, logY: Bool = false, markers: [(x: Double, label: String)] = []) -> String {
        let all = series.flatMap(\.points).filter { $0.y.isFinite && (!logY || $0.y > 0) }
        guard !all.isEmpty else { return "<p class=\"missing\">no points</p>" }
        let m = (l: 56.0, r: 12.0, t: 24.0, b: 36.0)
        let x0 = all.map(\.x).min()!, x1 = max(all.map(\.x).max()!, x0 + 1)
        func ty(_ y: Double) -> Double { logY ? log10(y) : y }
        var y0 = yRange?.lowerBound ?? all.map { ty($0.y) }.min()!, y1 = yRange?.upperBound ?? all.map { ty($0.y) }.max()!
        if y1 <= y0 { y1 = y0 + 1; y0 -= 0 }
        let pw = width - m.l - m.r, ph = height - m.t - m.b
        func px(_ x: Double) -> Double { m.l + (x - x0) / (x1 - x0) * pw }
        func py(_ y: Double) -> Double { m.t + ph - (ty(y) - y0) / (y1 - y0) * ph }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">"
        s += "<rect x=\"\(f(m.l))\" y=\"\(f(m.t))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"#fff\" stroke=\"#888\"/>"
        for t in ticks(x0, x1) {
            s += "<line x1=\"\(f(px(t)))\" x2=\"\(f(px(t)))\" y1=\"\(f(m.t + ph))\" y2=\"\(f(m.t + ph + 4))\" stroke=\"#888\"/>"
            s += "<text x=\"\(f(px(t)))\" y=\"\(f(m.t + ph + 15))\" text-anchor=\"middle\">\(label(t))</text>"
        }
        for t in ticks(y0, y1) {
            let v = logY ? pow(10, t) : t
            s += "<line x1=\"\(f(m.l))\" x2=\"\(f(m.l + pw))\" y1=\"\(f(py(v)))\" y2=\"\(f(py(v)))\" stroke=\"#eee\"/>"
            s += "<text x=\"\(f(m.l - 4))\" y=\"\(f(py(v) + 4))\" text-anchor=\"end\">\(label(v))</text>"
        }
        for mk in markers where mk.x >= x0 && mk.x <= x1 {
            s += "<line x1=\"\(f(px(mk.x)))\" x2=\"\(f(px(mk.x)))\" y1=\"\(f(m.t))\" y2=\"\(f(m.t + ph))\" stroke=\"#bbb\" stroke-dasharray=\"3,3\"/>"
            s += "<text x=\"\(f(px(mk.x) + 2))\" y=\"\(f(m.t + 10))\" fill=\"#888\" font-size=\"9\">\(escape(mk.label))</text>"
        }
        for (i, se) in series.enumerated() {
            let pts = se.points.filter { $0.y.isFinite && (!logY || $0.y > 0) }
            guard !pts.isEmpty else { continue }
            let d = pts.enumerated().map { j, p in (j == 0 ? "M" : "L") + f(px(p.x)) + " " + f(py(p.y)) }.joined(separator: " ")
            s += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(se.colour)\" stroke-width=\"1.5\"\(se.dashed ? " stroke-dasharray=\"5,3\"" : "")/>"
            // A series at one step (one point, or snapshots taken at the same step) gets markers.
            if Set(pts.map(\.x)).count == 1 {
                for p in pts { s += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"3\" fill=\"\(se.colour)\"/>" }
            }
            let spacing = min(130, (pw - 8) / Double(max(1, series.count)))
            s += "<text x=\"\(f(m.l + 8 + Double(i) * spacing))\" y=\"14\" fill=\"\(se.colour)\">■ \(escape(se.name))</text>"
        }
        s += "<text x=\"\(f(m.l + pw / 2))\" y=\"\(f(height - 4))\" text-anchor=\"middle\">\(escape(xLabel))</text>"
        s += "<text transform=\"translate(12 \(f(m.t + ph / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel + (logY ? " (log)" : "")))</text>"
        return s + "</svg>"
    }

    struct Point {
        var x: Double, y: Double
        var colour: String
        var ring: Bool
        var title: String
    }

    /// A scatter plot; `front` (points in x order) is drawn as a step line.
    static func scatter(_ points: [Point], front: [(x: Double, y: Double)], width: Double = 560, height: Double = 300,
                        xLabel: String, yLabel: String) -> String {
        guard !points.isEmpty else { return "<p class=\"missing\">no points</p>" }
        let m = (l: 56.0, r: 12.0, t: 16.0, b: 36.0)
        let xs = points.map(\.x), ys = points.map(\.y)
        let x0 = xs.min()!, x1 = max(xs.max()!, x0 * 1.01 + 1e-9), y0 = min(0, ys.min()!), y1 = max(ys.max()!, y0 + 1e-3)
        let pw = width - m.l - m.r, ph = height - m.t - m.b
        func px(_ x: Double) -> Double { m.l + (x - x0) / (x1 - x0) * pw }
        func py(_ y: Double) -> Double { m.t + ph - (y - y0) / (y1 - y0) * ph }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">"
        s += "<rect x=\"\(f(m.l))\" y=\"\(f(m.t))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"#fff\" stroke=\"#888\"/>"
        for t in ticks(x0, x1) { s += "<text x=\"\(f(px(t)))\" y=\"\(f(m.t + ph + 15))\" text-anchor=\"middle\">\(label(t))</text>" }
        for t in ticks(y0, y1) {
            s += "<line x1=\"\(f(m.l))\" x2=\"\(f(m.l + pw))\" y1=\"\(f(py(t)))\" y2=\"\(f(py(t)))\" stroke=\"#eee\"/>"
            s += "<text x=\"\(f(m.l - 4))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(label(t))</text>"
        }
        if front.count > 1 {
            var d = "M" + f(px(front[0].x)) + " " + f(py(front[0].y))
            for p in front.dropFirst() { d += " H" + f(px(p.x)) + " V" + f(py(p.y)) }
            s += "<path d=\"\(d)\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.2\" stroke-dasharray=\"4,2\"/>"
        }
        for p in points {
            s += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"\(p.ring ? 5 : 3)\" fill=\"\(p.ring ? "none" : p.colour)\" stroke=\"\(p.colour)\" stroke-width=\"\(p.ring ? 2 : 0.5)\"><title>\(escape(p.title))</title></circle>"
        }
        s += "<text x=\"\(f(m.l + pw / 2))\" y=\"\(f(height - 4))\" text-anchor=\"middle\">\(escape(xLabel))</text>"
        s += "<text transform=\"translate(12 \(f(m.t + ph / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>"
        return s + "</svg>"
    }

    /// Cells left to right, levels top (1 = full resolution) to bottom; the path joins the cells'
    /// levels, each node labelled with its op.
    static func topology(levels: [Int], ops: [String], levelCount: Int) -> String {
        guard !levels.isEmpty else { return "<p class=\"missing\">no topology</p>" }
        let dx = 56.0, dy = 44.0, m = 40.0
        let width = m * 2 + dx * Double(levels.count - 1) + 20, height = m + dy * Double(max(1, levelCount - 1)) + 40
        func x(_ i: Int) -> Double { m + 10 + dx * Double(i) }
        func y(_ l: Int) -> Double { m / 2 + 10 + dy * Double(l - 1) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">"
        for l in 1...max(1, levelCount) {
            s += "<line x1=\"\(f(x(0)))\" x2=\"\(f(x(levels.count - 1)))\" y1=\"\(f(y(l)))\" y2=\"\(f(y(l)))\" stroke=\"#eee\"/>"
            s += "<text x=\"4\" y=\"\(f(y(l) + 4))\">L\(l)</text>"
        }
        let d = levels.enumerated().map { i, l in (i == 0 ? "M" : "L") + f(x(i)) + " " + f(y(l)) }.joined(separator: " ")
        s += "<path d=\"\(d)\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2.5\"/>"
        let opColour = ["2D": "#2ca02c", "3D": "#1f77b4", "P3D": "#e377c2"]
        for (i, l) in levels.enumerated() {
            let op = i < ops.count ? ops[i] : ""
            s += "<circle cx=\"\(f(x(i)))\" cy=\"\(f(y(l)))\" r=\"8\" fill=\"\(opColour[op] ?? "#7f7f7f")\"/>"
            s += "<text x=\"\(f(x(i)))\" y=\"\(f(y(l) - 12))\" text-anchor=\"middle\" font-size=\"10\">\(escape(op))</text>"
            s += "<text x=\"\(f(x(i)))\" y=\"\(f(height - 6))\" text-anchor=\"middle\" fill=\"#888\" font-size=\"9\">\(i + 1)</text>"
        }
        return s + "</svg>"
    }
}
