/// Where everything goes on a terminal of a given size.
public struct ScreenLayout: Sendable, Equatable {
    public var header: Rect
    public var footer: Rect
    /// Visible panels only; rects never overlap and stay inside the screen.
    public var panels: [Panel: Rect]

    /// Three bands: curves and topology on top, slices / ops / candidates in the middle, the log
    /// at the bottom. Hidden panels give their space to the rest of their band; an empty band gives
    /// its height to the others. At 80×24 every panel keeps a usable size.
    public static func compute(rows: Int, cols: Int, hidden: Set<Panel> = []) -> ScreenLayout {
        let header = Rect(x: 0, y: 0, width: cols, height: rows >= 1 ? 1 : 0)
        let footer = Rect(x: 0, y: max(1, rows - 1), width: cols, height: rows >= 2 ? 1 : 0)
        let bodyTop = 1, bodyHeight = max(0, rows - 2)

        let bands: [(panels: [(Panel, Double)], weight: Double, minimum: Int, maximum: Int)] = [
            ([(.curves, 0.5), (.topology, 0.5)], 0.35, 6, Int.max),
            ([(.slices, 0.44), (.ops, 0.24), (.candidates, 0.32)], 0.45, 6, Int.max),
            ([(.log, 1)], 0.2, 3, 14),
        ]
        let present = bands.map { band in band.panels.filter { !hidden.contains($0.0) } }
        let heights = distribute(bodyHeight,
                                 weights: bands.indices.map { present[$0].isEmpty ? 0 : bands[$0].weight },
                                 minimums: bands.indices.map { present[$0].isEmpty ? 0 : bands[$0].minimum },
                                 maximums: bands.indices.map { present[$0].isEmpty ? 0 : bands[$0].maximum })
        var panels = [Panel: Rect]()
        var y = bodyTop
        for (b, members) in present.enumerated() where !members.isEmpty {
            let widths = distribute(cols, weights: members.map(\.1), minimums: members.map { _ in 0 },
                                    maximums: members.map { _ in Int.max })
            var x = 0
            for (i, (panel, _)) in members.enumerated() {
                panels[panel] = Rect(x: x, y: y, width: widths[i], height: heights[b])
                x += widths[i]
            }
            y += heights[b]
        }
        return ScreenLayout(header: header, footer: footer, panels: panels)
    }

    /// Splits `total` by weight, honouring minimums first (when they fit) and maximums; the
    /// rounding remainder goes to the heaviest parts. Zero-weight parts get nothing.
    static func distribute(_ total: Int, weights: [Double], minimums: [Int], maximums: [Int]) -> [Int] {
        var sizes = [Int](repeating: 0, count: weights.count)
        let active = weights.indices.filter { weights[$0] > 0 }
        guard total > 0, !active.isEmpty else { return sizes }
        let minimumSum = active.reduce(0) { $0 + minimums[$1] }
        let useMinimums = minimumSum <= total
        var free = active
        var left = total
        // Water-filling: parts whose share would break a bound get pinned to it, then the rest share.
        while !free.isEmpty {
            let weightSum = free.reduce(0.0) { $0 + weights[$1] }
            var pinned = false
            for i in free {
                let share = Double(left) * weights[i] / weightSum
                if useMinimums, share < Double(minimums[i]) { sizes[i] = minimums[i]; pinned = true }
                else if share > Double(maximums[i]) { sizes[i] = maximums[i]; pinned = true }
                if pinned {
                    left -= sizes[i]
                    free.removeAll { $0 == i }
                    break
                }
            }
            if !pinned {
                var used = 0
                for i in free {
                    sizes[i] = Int((Double(left) * weights[i] / weightSum).rounded(.down))
                    used += sizes[i]
                }
                for i in free.sorted(by: { (-weights[$0], $0) < (-weights[$1], $1) }).prefix(left - used) { sizes[i] += 1 }
                free.removeAll()
            }
        }
        // Everything pinned at a maximum and room left (e.g. the log alone): the heaviest part takes it.
        let rest = total - sizes.reduce(0, +)
        if rest > 0, let heaviest = active.max(by: { (weights[$0], -$0) < (weights[$1], -$1) }) { sizes[heaviest] += rest }
        return sizes
    }
}
