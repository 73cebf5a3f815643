/// The colours overlays are drawn with: one per class (class c uses `classes[(c - 1) % count]`),
/// and the false-positive / false-negative colours of the error view.
public struct OverlayPalette: Sendable, Equatable {
    public var classes: [RGB]
    public var falsePositive: RGB
    public var falseNegative: RGB
    /// Opacity of a label fill; a prediction is drawn as an opaque outline over a lighter fill.
    public var fillAlpha: Double
    public var predictionFillAlpha: Double

    public init(classes: [RGB] = OverlayPalette.standardClasses, falsePositive: RGB = RGB(hex: 0xff0000),
                falseNegative: RGB = RGB(hex: 0x0087ff), fillAlpha: Double = 0.5, predictionFillAlpha: Double = 0.2) {
        precondition(!classes.isEmpty, "OverlayPalette needs at least one class colour")
        self.classes = classes
        self.falsePositive = falsePositive
        self.falseNegative = falseNegative
        self.fillAlpha = fillAlpha
        self.predictionFillAlpha = predictionFillAlpha
    }

    /// Twelve distinguishable colours (after Trubetskoy's "20 distinct colours": red, green, yellow,
    /// blue, orange, purple, cyan, magenta, lime, pink, teal, brown): pairwise CIE76 ΔE ≥ 29, ≥ 24 from every grey.
    public static let standardClasses: [RGB] = [
        0xe6194b, 0x3cb44b, 0xffe119, 0x4363d8, 0xf58231, 0x911eb4,
        0x42d4f4, 0xf032e6, 0xbfef45, 0xfabed4, 0x469990, 0x9a6324,
    ].map { RGB(hex: $0) }

    public func color(forClass c: Int) -> RGB { classes[(max(1, c) - 1) % classes.count] }
}

/// What a tile of the slice view shows.
public enum TileKind: String, Sendable, CaseIterable {
    case image = "img", label, prediction = "pred", combined = "lbl+pred", errors = "FP/FN"
}

/// What covers a rendered pixel, for terminals that cannot show colour (marks instead).
public enum OverlayMark: UInt8, Sendable {
    case none = 0, fill, outline, falsePositive, falseNegative
}

/// Draws a slice tile as RGB at the slice's own resolution (one pixel a voxel); callers scale
/// it nearest-neighbour. Grey through the window; labels filled with their class colour;
/// predictions drawn as class-coloured outlines over a faint fill, so in the combined tile the
/// label (fill) and the prediction (outline) stay apart; errors in the FP / FN colours.
public enum SliceRenderer {
    public static func render(_ plane: SlicePlane, kind: TileKind, window: ClosedRange<Float>,
                              palette: OverlayPalette, opaque: Bool = false) -> (image: RGBImage, marks: [OverlayMark]) {
        let n = plane.u * plane.v
        var image = RGBImage(width: plane.u, height: plane.v)
        var marks = [OverlayMark](repeating: .none, count: n)
        let lo = window.lowerBound, width = max(1e-6, window.upperBound - window.lowerBound)
        let label = plane.label, pred = plane.prediction
        let outline = pred.map { boundary($0, u: plane.u, v: plane.v) }
        let fill = opaque ? 1 : palette.fillAlpha, predFill = opaque ? 0 : palette.predictionFillAlpha
        for i in 0..<n {
            let g = UInt8(max(0, min(255, ((plane.intensity[i] - lo) / width * 255).rounded())))
            var c = RGB(grey: g)
            let l = Int(label?[i] ?? 0), p = Int(pred?[i] ?? 0)
            switch kind {
            case .image: break
            case .label:
                if l > 0 { c = c.mixed(with: palette.color(forClass: l), fill); marks[i] = .fill }
            case .prediction:
                if p > 0 {
                    let onEdge = outline![i]
                    c = c.mixed(with: palette.color(forClass: p), onEdge ? 1 : predFill)
                    marks[i] = onEdge ? .outline : .fill
                }
            case .combined:
                if l > 0 { c = c.mixed(with: palette.color(forClass: l), fill); marks[i] = .fill }
                if p > 0, outline![i] { c = palette.color(forClass: p); marks[i] = .outline }
            case .errors:
                if p > 0 && p != l { c = c.mixed(with: palette.falsePositive, opaque ? 1 : 0.7); marks[i] = .falsePositive }
                else if l > 0 && p == 0 { c = c.mixed(with: palette.falseNegative, opaque ? 1 : 0.7); marks[i] = .falseNegative }
            }
            image.bytes[3 * i] = c.r; image.bytes[3 * i + 1] = c.g; image.bytes[3 * i + 2] = c.b
        }
        return (image, marks)
    }

    /// Foreground pixels with a 4-neighbour of another class (or the slice edge).
    static func boundary(_ m: [UInt8], u: Int, v: Int) -> [Bool] {
        var out = [Bool](repeating: false, count: m.count)
        for y in 0..<v {
            for x in 0..<u {
                let i = y * u + x, c = m[i]
                guard c != 0 else { continue }
                out[i] = x == 0 || y == 0 || x == u - 1 || y == v - 1
                    || m[i - 1] != c || m[i + 1] != c || m[i - u] != c || m[i + u] != c
            }
        }
        return out
    }

    /// Which tiles exist for the maps a slice has: label and prediction tiles need their maps.
    public static func available(_ kind: TileKind, hasLabel: Bool, hasPrediction: Bool) -> Bool {
        switch kind {
        case .image: true
        case .label: hasLabel
        case .prediction: hasPrediction
        case .combined: hasLabel || hasPrediction
        case .errors: hasLabel && hasPrediction
        }
    }
}
