import Foundation

/// One slice of a case as terminal pixels: two pixels per cell (▀ with the upper pixel as
/// foreground and the lower as background), grey levels through a window, label / prediction
/// as tints or an error view. Monochrome terminals get an ASCII ramp instead.
public struct SliceViewer: Sendable {
    public enum Tile: String, Sendable { case image = "img", label, prediction = "pred", combined = "lbl+pred", errors = "FP/FN" }

    public var volume: SliceVolume
    public var axis: SliceAxis
    public var index: Int
    public var overlay: OverlayMode
    public var window: ClosedRange<Float>
    /// Status text prefix, e.g. "case 3/12".
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

    /// Slice extent: horizontal and vertical voxel counts and spacings.
    var plane: (u: Int, v: Int, su: Double, sv: Double) {
        let s = volume.size, sp = volume.spacing
        switch axis {
        case .axial: return (s.x, s.y, sp[0], sp[1])
        case .coronal: return (s.x, s.z, sp[0], sp[2])
        case .sagittal: return (s.y, s.z, sp[1], sp[2])
        }
    }

    public var sliceCount: Int {
        switch axis {
        case .axial: return volume.size.z
        case .coronal: return volume.size.y
        case .sagittal: return volume.size.x
        }
    }

    /// Voxel index of slice pixel (iu, iv); iv = 0 is the top row, which shows the highest index.
    func voxel(_ iu: Int, _ iv: Int) -> Int {
        let s = volume.size, k = max(0, min(sliceCount - 1, index))
        let row = plane.v - 1 - iv
        switch axis {
        case .axial: return (k * s.y + row) * s.x + iu
        case .coronal: return (row * s.y + k) * s.x + iu
        case .sagittal: return (row * s.y + iu) * s.x + k
        }
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
        wanted = wanted.map { tiles in
            tiles.filter { t in
                switch t {
                case .image: return true
                case .label: return hasLabel
                case .prediction: return hasPred
                case .combined: return hasLabel || hasPred
                case .errors: return hasLabel && hasPred
                }
            }
        }.filter { !$0.isEmpty }
        return wanted.first { $0.count <= n } ?? [.image]
    }

    public func draw<C: Canvas>(in rect: Rect, on canvas: inout C, theme: ResolvedTheme) {
        guard !rect.isEmpty else { return }
        let (u, v, su, sv) = plane
        let statusRows = rect.height >= 3 ? 1 : 0
        let area = Rect(x: rect.x, y: rect.y + statusRows, width: rect.width, height: rect.height - statusRows)
        guard u > 0, v > 0, !area.isEmpty else { return }
        // Pixels per mm for n tiles side by side (1 column apart); more tiles only while they stay large.
        func scale(_ n: Int) -> Double {
            let tw = (area.width - (n - 1)) / n
            return tw < 4 ? 0 : min(Double(tw) / (Double(u) * su), Double(area.height * 2) / (Double(v) * sv))
        }
        let single = scale(1)
        var n = 1
        for candidate in 2...3 where scale(candidate) >= 0.75 * single { n = candidate }
        let kinds = tiles(fitting: n)
        let tileWidth = (area.width - (kinds.count - 1)) / kinds.count
        let s = scale(kinds.count)
        let pw = max(1, min(tileWidth, Int(Double(u) * su * s))), ph = max(1, min(area.height * 2, Int(Double(v) * sv * s)))

        if statusRows == 1 {
            let status = "\(caseText) \(axis.rawValue) \(min(index, sliceCount - 1) + 1)/\(sliceCount) "
                + kinds.map(\.rawValue).joined(separator: "|")
            canvas.write(status.trimmingCharacters(in: .whitespaces), y: rect.y, x: rect.x, width: rect.width, style: theme.style(.dim))
        }
        for (t, kind) in kinds.enumerated() {
            let tileX = area.x + t * (tileWidth + 1)
            drawTile(kind, x: tileX + (tileWidth - pw) / 2, y: area.y + (area.height * 2 - ph) / 4,
                     pixelWidth: pw, pixelHeight: ph, on: &canvas, theme: theme)
        }
    }

    /// What one pixel looks like: its grey level and an optional tint role or error mark.
    struct Pixel {
        var grey: Double
        var tint: Role?
        var tintClass: Int
        var mark: Character?
    }

    func pixel(_ kind: Tile, voxel i: Int) -> Pixel {
        let lo = window.lowerBound, hi = window.upperBound
        let g = Double(max(0, min(1, (volume.image[i] - lo) / (hi - lo))))
        let l = Int(volume.label?[i] ?? 0), p = Int(volume.prediction?[i] ?? 0)
        switch kind {
        case .image: return Pixel(grey: g, tint: nil, tintClass: 0, mark: nil)
        case .label: return Pixel(grey: g, tint: l > 0 ? .overlayLabel : nil, tintClass: l, mark: nil)
        case .prediction: return Pixel(grey: g, tint: p > 0 ? .overlayPred : nil, tintClass: p, mark: nil)
        case .combined:
            if l > 0 && p > 0 { return Pixel(grey: g, tint: .overlayLabel, tintClass: max(l, p), mark: nil) }
            if l > 0 { return Pixel(grey: g, tint: .errorFN, tintClass: l, mark: nil) }
            if p > 0 { return Pixel(grey: g, tint: .overlayPred, tintClass: p, mark: nil) }
            return Pixel(grey: g, tint: nil, tintClass: 0, mark: nil)
        case .errors:
            if p > 0 && p != l { return Pixel(grey: g, tint: .errorFP, tintClass: 1, mark: "+") }
            if l > 0 && p == 0 { return Pixel(grey: g, tint: .errorFN, tintClass: 1, mark: "-") }
            return Pixel(grey: g, tint: nil, tintClass: 0, mark: nil)
        }
    }

    /// A pixel's colour at the theme's depth; higher classes get a stronger tint.
    func color(_ px: Pixel, theme: ResolvedTheme) -> Color {
        guard let role = px.tint else { return theme.grey(px.grey) }
        return theme.tint(grey: px.grey, with: role, alpha: min(0.9, 0.5 + 0.2 * Double(px.tintClass - 1)))
    }

    static let ramp: [Character] = Array(" .:-=+*#%@")

    func drawTile<C: Canvas>(_ kind: Tile, x: Int, y: Int, pixelWidth pw: Int, pixelHeight ph: Int,
                             on canvas: inout C, theme: ResolvedTheme) {
        let (u, v, _, _) = plane
        func at(_ px: Int, _ py: Int) -> Pixel {
            pixel(kind, voxel: voxel(min(u - 1, px * u / pw), min(v - 1, py * v / ph)))
        }
        for row in 0..<((ph + 1) / 2) {
            for col in 0..<pw {
                let top = at(col, 2 * row)
                let bottom = 2 * row + 1 < ph ? at(col, 2 * row + 1) : nil
                if theme.depth == .monochrome {
                    let g = bottom.map { (top.grey + $0.grey) / 2 } ?? top.grey
                    let marked = top.tint != nil || bottom?.tint != nil
                    let mark = top.mark ?? bottom?.mark
                    let ch = mark ?? Self.ramp[min(Self.ramp.count - 1, Int(g * Double(Self.ramp.count)))]
                    canvas.put(ch, y: y + row, x: x + col, style: Style(attributes: marked ? .reverse : []))
                } else if let bottom {
                    canvas.put("▀", y: y + row, x: x + col, style: Style(fg: color(top, theme: theme), bg: color(bottom, theme: theme)))
                } else {
                    canvas.put("▀", y: y + row, x: x + col, style: Style(fg: color(top, theme: theme)))
                }
            }
        }
    }
}
