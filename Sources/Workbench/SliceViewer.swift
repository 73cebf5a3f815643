import Foundation
import Pictures

/// One slice of a case: tiles (image, label, prediction, both, errors) side by side, a status
/// line and a legend of class colours. On a canvas that can show pixels (kitty, sixel, iTerm2)
/// each tile is one image at the terminal's pixel resolution; otherwise two pixels per cell
/// (▀ with the upper pixel as foreground and the lower as background); monochrome terminals get
/// an ASCII ramp. All paths draw the same rendering (`SliceRenderer`), scaled nearest-neighbour.
public struct SliceViewer: Sendable {
    public typealias Tile = TileKind

    public var volume: SliceVolume
    public var axis: SliceAxis
    public var index: Int
    public var overlay: OverlayMode
    public var window: ClosedRange<Float>
    /// Status text prefix, e.g. "case 3/12 128×128×40".
    public var caseText: String

    public init(volume: SliceVolume, axis: SliceAxis, index: Int, overlay: OverlayMode,
                window: ClosedRange<Float>? = nil, caseText: String = "") {
        self.volume = volume
        self.axis = axis
        self.index = index
        self.overlay = overlay
        self.window = window ?? volume.autoWindow
        self.caseText = caseText
    }

    /// The window for a UI zoom (width multiple) and shift (fraction of the automatic width).
    public static func window(auto w: ClosedRange<Float>, scale: Double, shift: Double) -> ClosedRange<Float> {
        let width = Double(w.upperBound - w.lowerBound)
        let centre = Double(w.lowerBound + w.upperBound) / 2 + shift * width
        let half = max(1e-6, width * scale / 2)
        return Float(centre - half)...Float(centre + half)
    }

    var planeAxis: PlaneAxis {
        switch axis {
        case .axial: .axial
        case .coronal: .coronal
        case .sagittal: .sagittal
        }
    }

    var size: (x: Int, y: Int, z: Int) { (volume.size.x, volume.size.y, volume.size.z) }

    public var sliceCount: Int { SlicePlane.count(axis: planeAxis, size: size) }

    /// The shown slice as a plane (one pixel a voxel, top row = highest index).
    var plane: SlicePlane {
        SlicePlane.extract(axis: planeAxis, index: index, size: size, spacing: volume.spacing,
                           image: volume.image, label: volume.label, prediction: volume.prediction)
    }

    /// The tiles to show for the overlay mode, given how many fit; tiles needing missing maps are dropped.
    func tiles(fitting n: Int) -> [Tile] {
        let hasLabel = volume.label != nil, hasPred = volume.prediction != nil
        var wanted: [[Tile]]
        switch overlay {
        case .labelAndPrediction: wanted = [[.image, .label, .prediction], [.image, .combined], [.combined]]
        case .label: wanted = [[.image, .label], [.label]]
        case .prediction: wanted = [[.image, .prediction], [.prediction]]
        case .errors: wanted = [[.image, .errors], [.errors]]
        case .none: wanted = [[.image]]
        }
        wanted = wanted.map { $0.filter { SliceRenderer.available($0, hasLabel: hasLabel, hasPrediction: hasPred) } }.filter { !$0.isEmpty }
        return wanted.first { $0.count <= n } ?? [.image]
    }

    /// The classes present in the shown slice's label or prediction (for the legend), ascending.
    func classesShown(_ p: SlicePlane) -> [Int] {
        var seen = [Bool](repeating: false, count: 256)
        for m in [p.label, p.prediction].compactMap({ $0 }) { for v in m where v > 0 { seen[Int(v)] = true } }
        return (1..<256).filter { seen[$0] }
    }

    public func draw<C: Canvas>(in rect: Rect, on canvas: inout C, theme: ResolvedTheme) {
        guard !rect.isEmpty else { return }
        let p = plane
        let u = p.u, v = p.v, su = p.spacingU, sv = p.spacingV
        let statusRows = rect.height >= 3 ? 1 : 0
        let classes = overlay == .none ? [] : classesShown(p)
        let legendRows = rect.height >= 7 && !classes.isEmpty ? 1 : 0
        let area = Rect(x: rect.x, y: rect.y + statusRows, width: rect.width, height: rect.height - statusRows - legendRows)
        guard u > 0, v > 0, !area.isEmpty else { return }
        let pixelCell = canvas.pixelCell
        // Display pixels per cell: the terminal's cell size in pixel modes, 1×2 with half blocks.
        let (cw, ch) = pixelCell.map { ($0.width, $0.height) } ?? (1, 2)
        // Pixels per mm for n tiles side by side (1 column apart); more tiles only while they stay large.
        func scale(_ n: Int) -> Double {
            let tw = (area.width - (n - 1)) / n
            return tw < 4 ? 0 : min(Double(tw * cw) / (Double(u) * su), Double(area.height * ch) / (Double(v) * sv))
        }
        let single = scale(1)
        var n = 1
        for candidate in 2...3 where scale(candidate) >= 0.75 * single { n = candidate }
        let kinds = tiles(fitting: n)
        let tileWidth = (area.width - (kinds.count - 1)) / kinds.count

        if statusRows == 1 {
            let status = "\(caseText) \(axis.rawValue) \(min(index, sliceCount - 1) + 1)/\(sliceCount) "
                + kinds.map(\.rawValue).joined(separator: "|")
            canvas.write(status.trimmingCharacters(in: .whitespaces), y: rect.y, x: rect.x, width: rect.width, style: theme.style(.dim))
        }
        if legendRows == 1 {
            drawLegend(classes, kinds: kinds, y: area.maxY, x: rect.x, width: rect.width, on: &canvas, theme: theme)
        }
        let palette = theme.overlayPalette
        let opaque = theme.depth == .ansi16  // blends cannot be shown with 16 colours
        // Monochrome: the ramp follows the grey image; overlays become reverse video and marks.
        let greys = theme.depth == .monochrome && pixelCell == nil
            ? SliceRenderer.render(p, kind: .image, window: window, palette: palette).image : nil
        for (t, kind) in kinds.enumerated() {
            let tileX = area.x + t * (tileWidth + 1)
            let rendered = SliceRenderer.render(p, kind: kind, window: window, palette: palette, opaque: opaque)
            if let cell = pixelCell {
                let fit = p.fitted(width: tileWidth * cell.width, height: area.height * cell.height)
                let cols = (fit.width + cell.width - 1) / cell.width, rows = (fit.height + cell.height - 1) / cell.height
                let at = Rect(x: tileX + (tileWidth - cols) / 2, y: area.y + (area.height - rows) / 2, width: cols, height: rows)
                canvas.placeImage(rendered.image.scaledNearest(width: fit.width, height: fit.height), cells: at)
            } else {
                let fit = p.fitted(width: tileWidth, height: area.height * 2)
                drawCells(rendered, greys: greys, u: u, v: v, x: tileX + (tileWidth - fit.width) / 2, y: area.y + (area.height * 2 - fit.height) / 4,
                          pixelWidth: fit.width, pixelHeight: fit.height, on: &canvas, theme: theme)
            }
        }
    }

    /// "■ liver ■ spleen ■ tumour · fill = label, outline = prediction", each square in its class colour.
    func drawLegend<C: Canvas>(_ classes: [Int], kinds: [Tile], y: Int, x: Int, width: Int, on canvas: inout C, theme: ResolvedTheme) {
        var col = x
        let end = x + width
        for c in classes {
            let name = volume.classNames[c] ?? "class \(c)"
            guard col + 2 + min(name.count, 4) < end else { break }
            let colour = theme.classColor(c)
            let mark: Style = theme.depth == .monochrome ? Style(attributes: .reverse) : Style(fg: colour)
            canvas.put("■", y: y, x: col, style: mark)
            col += 2
            col += canvas.write(name, y: y, x: col, width: end - col, style: theme.style(.text)) + 1
        }
        if kinds.contains(.errors) {
            let key = theme.depth == .monochrome ? "- missed + false" : "■ missed ■ false"
            if col + key.count < end {
                canvas.put(theme.depth == .monochrome ? "-" : "■", y: y, x: col, style: Style(fg: theme.style(.errorFN).fg))
                canvas.write(" missed ", y: y, x: col + 1, style: theme.style(.dim))
                canvas.put(theme.depth == .monochrome ? "+" : "■", y: y, x: col + 9, style: Style(fg: theme.style(.errorFP).fg))
                col += canvas.write(" false", y: y, x: col + 10, style: theme.style(.dim)) + 11
            }
        }
        if kinds.contains(.combined) || kinds.contains(.prediction) {
            let key = kinds.contains(.combined) ? "· fill label, outline pred" : "· outline pred"
            if col + key.count <= end { canvas.write(key, y: y, x: col, style: theme.style(.dim)) }
        }
    }

    static let ramp: [Character] = Array(" .:-=+*#%@")

    /// Half-block cells (or the ASCII ramp) sampled nearest-neighbour from the rendered tile.
    func drawCells<C: Canvas>(_ rendered: (image: RGBImage, marks: [OverlayMark]), greys: RGBImage?, u: Int, v: Int, x: Int, y: Int,
                              pixelWidth pw: Int, pixelHeight ph: Int, on canvas: inout C, theme: ResolvedTheme) {
        let img = rendered.image
        func source(_ px: Int, _ py: Int) -> Int { min(v - 1, py * v / ph) * u + min(u - 1, px * u / pw) }
        func color(_ i: Int) -> Color { theme.cellColor(RGB(img.bytes[3 * i], img.bytes[3 * i + 1], img.bytes[3 * i + 2])) }
        for row in 0..<((ph + 1) / 2) {
            for col in 0..<pw {
                let top = source(col, 2 * row)
                let bottom = 2 * row + 1 < ph ? source(col, 2 * row + 1) : nil
                if theme.depth == .monochrome {
                    let grey = { (i: Int) in Double(greys?.bytes[3 * i] ?? 0) / 255 }
                    let g = bottom.map { (grey(top) + grey($0)) / 2 } ?? grey(top)
                    let marks = [rendered.marks[top]] + (bottom.map { [rendered.marks[$0]] } ?? [])
                    let marked = marks.contains { $0 != .none }
                    let mark: Character? = marks.contains(.falseNegative) ? "-" : marks.contains(.falsePositive) ? "+" : nil
                    let ch = mark ?? Self.ramp[min(Self.ramp.count - 1, Int(g * Double(Self.ramp.count)))]
                    canvas.put(ch, y: y + row, x: x + col, style: Style(attributes: marked ? .reverse : []))
                } else if let bottom {
                    canvas.put("▀", y: y + row, x: x + col, style: Style(fg: color(top), bg: color(bottom)))
                } else {
                    canvas.put("▀", y: y + row, x: x + col, style: Style(fg: color(top)))
                }
            }
        }
    }
}
