/// A terminal colour: the terminal's default, an entry of the xterm 256-colour palette
/// (0–15 are the ANSI colours), or a 24-bit colour.
public enum Color: Hashable, Sendable {
    case `default`
    case palette(UInt8)
    case rgb(UInt8, UInt8, UInt8)
}

/// Text attributes that survive on every terminal, including monochrome ones.
public struct TextAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = TextAttributes(rawValue: 1)
    public static let dim = TextAttributes(rawValue: 2)
    public static let reverse = TextAttributes(rawValue: 4)
    public static let underline = TextAttributes(rawValue: 8)
}

/// How one cell is drawn: foreground, background and attributes.
public struct Style: Hashable, Sendable {
    public var fg: Color
    public var bg: Color
    public var attributes: TextAttributes

    public init(fg: Color = .default, bg: Color = .default, attributes: TextAttributes = []) {
        self.fg = fg
        self.bg = bg
        self.attributes = attributes
    }

    public static let plain = Style()

    public func with(fg: Color) -> Style { var s = self; s.fg = fg; return s }
    public func with(bg: Color) -> Style { var s = self; s.bg = bg; return s }
    public func adding(_ a: TextAttributes) -> Style { var s = self; s.attributes.formUnion(a); return s }
}

/// Conversions between 24-bit colours and the xterm palettes, used to degrade a theme and
/// to quantise the slice viewer's grey levels and overlay blends.
public enum ColorMath {
    /// xterm's default RGB values for the 16 ANSI colours.
    static let ansi16: [(UInt8, UInt8, UInt8)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]
    /// The six intensities of the 6×6×6 colour cube (palette 16–231).
    static let cubeLevels: [Int] = [0, 95, 135, 175, 215, 255]

    /// RGB of a palette entry (xterm defaults).
    public static func rgb(ofPalette index: UInt8) -> (UInt8, UInt8, UInt8) {
        let i = Int(index)
        if i < 16 { return ansi16[i] }
        if i < 232 {
            let c = i - 16
            return (UInt8(cubeLevels[c / 36]), UInt8(cubeLevels[(c / 6) % 6]), UInt8(cubeLevels[c % 6]))
        }
        let g = UInt8(8 + 10 * (i - 232))
        return (g, g, g)
    }

    /// RGB of any colour; nil for the terminal default, which is unknown.
    public static func rgb(of color: Color) -> (UInt8, UInt8, UInt8)? {
        switch color {
        case .default: return nil
        case .palette(let i): return rgb(ofPalette: i)
        case .rgb(let r, let g, let b): return (r, g, b)
        }
    }

    static func distance(_ a: (UInt8, UInt8, UInt8), _ b: (UInt8, UInt8, UInt8)) -> Int {
        let dr = Int(a.0) - Int(b.0), dg = Int(a.1) - Int(b.1), db = Int(a.2) - Int(b.2)
        return dr * dr + dg * dg + db * db
    }

    /// Nearest entry of palette 16–255 (the fixed part: cube and grey ramp; 0–15 vary by terminal).
    public static func nearest256(_ c: (UInt8, UInt8, UInt8)) -> UInt8 {
        func cubeIndex(_ v: UInt8) -> Int {
            var best = 0
            for k in 1..<6 where abs(cubeLevels[k] - Int(v)) < abs(cubeLevels[best] - Int(v)) { best = k }
            return best
        }
        let (ri, gi, bi) = (cubeIndex(c.0), cubeIndex(c.1), cubeIndex(c.2))
        let cube = UInt8(16 + 36 * ri + 6 * gi + bi)
        let average = (Int(c.0) + Int(c.1) + Int(c.2)) / 3
        let greyStep = max(0, min(23, (average - 8 + 5) / 10))
        let grey = UInt8(232 + greyStep)
        return distance(rgb(ofPalette: grey), c) < distance(rgb(ofPalette: cube), c) ? grey : cube
    }

    /// Nearest of the 16 ANSI colours.
    public static func nearest16(_ c: (UInt8, UInt8, UInt8)) -> UInt8 {
        var best = 0
        for k in 1..<16 where distance(ansi16[k], c) < distance(ansi16[best], c) { best = k }
        return UInt8(best)
    }

    /// `a` blended towards `b` by `t` (0 = a, 1 = b).
    public static func mix(_ a: (UInt8, UInt8, UInt8), _ b: (UInt8, UInt8, UInt8), _ t: Double) -> (UInt8, UInt8, UInt8) {
        func m(_ x: UInt8, _ y: UInt8) -> UInt8 { UInt8(max(0, min(255, (Double(x) * (1 - t) + Double(y) * t).rounded()))) }
        return (m(a.0, b.0), m(a.1, b.1), m(a.2, b.2))
    }

    /// A colour expressed at a given depth: exact in truecolor, nearest palette entry otherwise,
    /// the default colour in monochrome.
    public static func degrade(_ color: Color, to depth: ColorDepth) -> Color {
        switch (color, depth) {
        case (.default, _), (_, .monochrome): return .default
        case (.rgb, .truecolor), (.palette, .truecolor): return color
        case (.rgb(let r, let g, let b), .palette256): return .palette(nearest256((r, g, b)))
        case (.palette, .palette256): return color
        case (.palette(let i), .ansi16): return i < 16 ? color : .palette(nearest16(rgb(ofPalette: i)))
        case (.rgb(let r, let g, let b), .ansi16): return .palette(nearest16((r, g, b)))
        }
    }
}
