import Foundation
import Pictures

/// What a colour is for. Theme files name roles by `rawValue`.
public enum Role: String, Sendable, CaseIterable, Hashable {
    case text, dim, frame
    case frameFocus = "frame-focus"
    case title, header, footer, selection, dialog, paused, warning
    case axis, grid
    case curveTrain = "curve-train"
    case curveVal = "curve-val"
    case level1 = "level-1", level2 = "level-2", level3 = "level-3", level4 = "level-4"
    case topologyBest = "topology-best"
    case topologyMedoid = "topology-medoid"
    case op2D = "op-2D", op3D = "op-3D", opP3D = "op-P3D"
    case overlayLabel = "overlay-label"
    case overlayPred = "overlay-pred"
    case errorFP = "error-fp"
    case errorFN = "error-fn"
    case logDebug = "log-debug", logInfo = "log-info", logWarning = "log-warning", logError = "log-error"
    /// Segmentation classes 1…12 (class 13 uses class-1 again, and so on).
    case class1 = "class-1", class2 = "class-2", class3 = "class-3", class4 = "class-4", class5 = "class-5", class6 = "class-6"
    case class7 = "class-7", class8 = "class-8", class9 = "class-9", class10 = "class-10", class11 = "class-11", class12 = "class-12"

    public static let classRoles: [Role] = [.class1, .class2, .class3, .class4, .class5, .class6,
                                            .class7, .class8, .class9, .class10, .class11, .class12]
    /// The role that colours label value `c` (≥ 1).
    public static func classRole(_ c: Int) -> Role { classRoles[(max(1, c) - 1) % classRoles.count] }

    /// Level roles repeat beyond four levels.
    public static func level(_ l: Int) -> Role { [.level1, .level2, .level3, .level4][max(0, l - 1) % 4] }

    public static func op(_ name: String) -> Role {
        switch name.uppercased() {
        case "2D": return .op2D
        case "3D": return .op3D
        case "P3D": return .opP3D
        default: return .text
        }
    }

    public static func log(_ level: LogSeverity) -> Role { [.logDebug, .logInfo, .logWarning, .logError][level.rawValue] }

    /// What a role looks like without colour.
    var monochromeAttributes: TextAttributes {
        switch self {
        case .header, .footer, .selection, .paused: return .reverse
        case .title, .frameFocus, .warning, .logError, .errorFP, .curveVal, .topologyBest: return .bold
        case .dim, .grid, .logDebug, .topologyMedoid: return .dim
        case .errorFN: return .underline
        default: return []
        }
    }
}

/// How many colours the terminal can show.
public enum ColorDepth: Int, Sendable, Comparable, CaseIterable {
    case monochrome, ansi16, palette256, truecolor
    public static func < (a: ColorDepth, b: ColorDepth) -> Bool { a.rawValue < b.rawValue }

    /// The depth to draw with, from ncurses' `COLORS` and `can_change_color()` and the environment:
    /// `NO_COLOR` (any non-empty value) forces monochrome; 24-bit needs a direct-colour terminfo
    /// (`COLORS` ≥ 2^24), or `COLORTERM=truecolor|24bit` on a 256-colour terminal that can
    /// redefine its palette (the canvas then defines colours on demand).
    public static func detect(colors: Int, canChangeColor: Bool, environment: [String: String]) -> ColorDepth {
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return .monochrome }
        if colors >= 1 << 24 { return .truecolor }
        if colors >= 256 {
            let colorTerm = environment["COLORTERM"]?.lowercased() ?? ""
            return (colorTerm == "truecolor" || colorTerm == "24bit") && canChangeColor ? .truecolor : .palette256
        }
        if colors >= 8 { return .ansi16 }
        return .monochrome
    }
}

/// One role's look in a theme file.
public struct RoleStyle: Sendable, Equatable {
    public var fg: Color
    public var bg: Color
    public var attributes: TextAttributes
    /// Attributes used instead of colours on monochrome terminals (nil: the role's default).
    public var monochrome: TextAttributes?
    public init(fg: Color = .default, bg: Color = .default, attributes: TextAttributes = [], monochrome: TextAttributes? = nil) {
        self.fg = fg
        self.bg = bg
        self.attributes = attributes
        self.monochrome = monochrome
    }
}

/// A colour theme: a style per role.
public struct Theme: Sendable, Equatable {
    public var name: String
    public var roles: [Role: RoleStyle]

    public init(name: String, roles: [Role: RoleStyle]) {
        self.name = name
        self.roles = roles
    }

    public func style(_ role: Role) -> RoleStyle { roles[role] ?? Theme.builtIn.roles[role] ?? RoleStyle() }

    /// The theme as drawn at `depth`: colours quantised, or replaced by attributes in monochrome.
    public func resolved(for depth: ColorDepth) -> ResolvedTheme {
        var styles = [Role: Style]()
        for role in Role.allCases {
            let rs = style(role)
            if depth == .monochrome {
                styles[role] = Style(attributes: rs.monochrome ?? role.monochromeAttributes)
            } else {
                styles[role] = Style(fg: ColorMath.degrade(rs.fg, to: depth), bg: ColorMath.degrade(rs.bg, to: depth),
                                     attributes: rs.attributes)
            }
        }
        return ResolvedTheme(name: name, depth: depth, styles: styles, source: self)
    }
}

/// A theme ready to draw with at one colour depth.
public struct ResolvedTheme: Sendable, Equatable {
    public let name: String
    public let depth: ColorDepth
    let styles: [Role: Style]
    let source: Theme

    public func style(_ role: Role) -> Style { styles[role] ?? .plain }

    /// A grey level (0 = black, 1 = white) as a colour at this depth (default in monochrome).
    public func grey(_ g: Double) -> Color {
        let v = UInt8(max(0, min(255, (g * 255).rounded())))
        switch depth {
        case .truecolor: return .rgb(v, v, v)
        case .palette256: return .palette(ColorMath.nearest256((v, v, v)))
        case .ansi16: return .palette([0, 8, 7, 15][min(3, Int(g * 4))])
        case .monochrome: return .default
        }
    }

    /// ANSI colours for the classes on 16-colour terminals: the bright colours first, then the
    /// normal ones, so the first six classes never share a colour (the theme's 24-bit colours
    /// would collapse onto few ANSI entries).
    static let ansiClassColors: [UInt8] = [9, 10, 11, 12, 13, 14, 1, 2, 3, 4, 5, 6]

    /// The colours the slice renderer uses: the theme's class roles (24-bit), or at 16 colours
    /// the ANSI entries the terminal will show, so each class keeps its own colour.
    public var overlayPalette: OverlayPalette {
        func rgb(_ c: Color, _ fallback: RGB) -> RGB { ColorMath.rgb(of: c).map { RGB($0.0, $0.1, $0.2) } ?? fallback }
        if depth == .ansi16 {
            return OverlayPalette(classes: Self.ansiClassColors.map { i in rgb(.palette(i), RGB(255, 0, 0)) },
                                  falsePositive: rgb(ColorMath.degrade(source.style(.errorFP).fg, to: .ansi16), RGB(255, 0, 0)),
                                  falseNegative: rgb(ColorMath.degrade(source.style(.errorFN).fg, to: .ansi16), RGB(0, 0, 255)))
        }
        let standard = OverlayPalette.standardClasses
        return OverlayPalette(classes: Role.classRoles.enumerated().map { i, r in rgb(source.style(r).fg, standard[i]) },
                              falsePositive: rgb(source.style(.errorFP).fg, RGB(255, 0, 0)),
                              falseNegative: rgb(source.style(.errorFN).fg, RGB(0, 135, 255)))
    }

    /// Class `c`'s colour at this depth (legend squares).
    public func classColor(_ c: Int) -> Color {
        switch depth {
        case .monochrome: return .default
        case .ansi16: return .palette(Self.ansiClassColors[(max(1, c) - 1) % Self.ansiClassColors.count])
        case .palette256, .truecolor:
            let p = overlayPalette.color(forClass: c)
            return ColorMath.degrade(.rgb(p.r, p.g, p.b), to: depth)
        }
    }

    /// A rendered slice pixel as a cell colour at this depth: exact in truecolor, the nearest
    /// xterm-256 entry, or at 16 colours four greys and the nearest ANSI colour.
    public func cellColor(_ c: RGB) -> Color {
        switch depth {
        case .truecolor: return .rgb(c.r, c.g, c.b)
        case .palette256: return .palette(ColorMath.nearest256((c.r, c.g, c.b)))
        case .ansi16:
            if c.r == c.g && c.g == c.b { return .palette([0, 8, 7, 15][min(3, Int(c.r) * 4 / 256)]) }
            return .palette(ColorMath.nearest16((c.r, c.g, c.b)))
        case .monochrome: return .default
        }
    }

    /// A grey level tinted by a role's foreground colour (alpha 0…1), at this depth. On 16-colour
    /// terminals the role colour is used as is, since blends cannot be shown.
    public func tint(grey g: Double, with role: Role, alpha: Double = 0.55) -> Color {
        guard let overlay = ColorMath.rgb(of: source.style(role).fg) else { return grey(g) }
        switch depth {
        case .monochrome: return .default
        case .ansi16: return style(role).fg
        case .palette256, .truecolor:
            let v = UInt8(max(0, min(255, (g * 255).rounded())))
            let (r, gg, b) = ColorMath.mix((v, v, v), overlay, alpha)
            return ColorMath.degrade(.rgb(r, gg, b), to: depth)
        }
    }
}
