@preconcurrency import CNCurses
import Pictures

/// The real terminal: cells go straight into an ncurses window; `TerminalDriver` refreshes.
/// Not Sendable: create and use it on the UI thread only (all ncurses calls stay on one thread).
public final class NCursesCanvas: Canvas {
    let window: UnsafeMutablePointer<WINDOW>
    public private(set) var rows: Int
    public private(set) var cols: Int
    public let depth: ColorDepth
    /// The terminal's colour count (ncurses `COLORS`).
    let colorCount: Int
    /// 24-bit colours are emitted directly (direct-colour terminfo).
    let directColor: Bool
    /// 24-bit colours are emulated by redefining palette slots 16–255 on demand.
    let paletteRemap: Bool
    private var pairs: [PairKey: Int32] = [:]
    private var nextPair: Int32 = 1
    private let maxPairs: Int32
    private var definedColors: [UInt32: Int32] = [:]
    private var nextColorSlot: Int32 = 16

    struct PairKey: Hashable { let fg: Int32, bg: Int32 }

    /// Cell size in pixels when a pixel protocol is in use (set by the driver); nil = cells only.
    var cellPixels: (width: Int, height: Int)?
    /// Images of the frame being drawn; the driver sends them after `doupdate`.
    private(set) var placements: [ImagePlacement] = []

    public var pixelCell: (width: Int, height: Int)? { cellPixels }

    public func placeImage(_ image: RGBImage, cells: Rect) {
        for y in cells.y..<cells.maxY { for x in cells.x..<cells.maxX { put(" ", y: y, x: x, style: .plain) } }
        placements.append(ImagePlacement(cells: cells, image: image))
    }

    init(window: UnsafeMutablePointer<WINDOW>, depth: ColorDepth, colorCount: Int, colorPairs: Int, canChangeColor: Bool) {
        self.window = window
        self.depth = depth
        self.colorCount = colorCount
        directColor = depth == .truecolor && colorCount >= 1 << 24
        paletteRemap = depth == .truecolor && !directColor && canChangeColor && colorCount >= 256
        maxPairs = Int32(max(1, min(colorPairs, Int(Int32.max))))
        var y: Int32 = 0, x: Int32 = 0
        cn_getmaxyx(window, &y, &x)
        rows = Int(y)
        cols = Int(x)
    }

    /// Re-reads the window size (after KEY_RESIZE ncurses has already resized the window).
    func refreshSize() {
        var y: Int32 = 0, x: Int32 = 0
        cn_getmaxyx(window, &y, &x)
        rows = Int(y)
        cols = Int(x)
    }

    /// Called before each frame: forgets colour pairs when the table is nearly full, so a frame
    /// with many distinct colours (the slice viewer in truecolor) never runs out.
    func beginFrame() {
        if Int32(pairs.count) > maxPairs * 3 / 4 {
            pairs.removeAll(keepingCapacity: true)
            nextPair = 1
        }
    }

    public func clear() {
        placements.removeAll()
        werase(window)
    }

    public func put(_ character: Character, y: Int, x: Int, style: Style) {
        guard y >= 0, y < rows, x >= 0, x < cols, let scalar = character.unicodeScalars.first else { return }
        var wide: [wchar_t] = [wchar_t(bitPattern: scalar.value), 0]
        var attrs = attributes(style.attributes)
        var pair: Int32 = 0
        if depth != .monochrome {
            let (fg, fgBold) = colorNumber(style.fg)
            let (bg, _) = colorNumber(style.bg)
            if fgBold { attrs |= cn_a_bold() }
            pair = pairNumber(fg: fg, bg: bg)
        }
        var cell = cchar_t()
        setcchar(&cell, &wide, attrs, 0, &pair)
        // Writing the bottom-right cell returns ERR (the cursor cannot advance) but the cell is drawn.
        _ = mvwadd_wch(window, Int32(y), Int32(x), &cell)
    }

    func attributes(_ a: TextAttributes) -> attr_t {
        var r = cn_a_normal()
        if a.contains(.bold) { r |= cn_a_bold() }
        if a.contains(.dim) { r |= cn_a_dim() }
        if a.contains(.reverse) { r |= cn_a_reverse() }
        if a.contains(.underline) { r |= cn_a_underline() }
        return r
    }

    /// The ncurses colour number for a colour (-1 = terminal default), and whether bold must stand
    /// in for a bright colour the terminal lacks (8-colour terminals).
    func colorNumber(_ c: Color) -> (Int32, Bool) {
        switch c {
        case .default:
            return (-1, false)
        case .palette(let i):
            if paletteRemap, i >= 16 { return (definedColor(ColorMath.rgb(ofPalette: i)), false) }
            if Int(i) < colorCount { return (Int32(i), false) }
            let basic = i < 16 ? i : ColorMath.nearest16(ColorMath.rgb(ofPalette: i))
            return Int(basic) < colorCount ? (Int32(basic), false) : (Int32(basic % 8), basic >= 8)
        case .rgb(let r, let g, let b):
            if directColor { return (Int32(r) << 16 | Int32(g) << 8 | Int32(b), false) }
            if paletteRemap { return (definedColor((r, g, b)), false) }
            return colorNumber(.palette(colorCount >= 256 ? ColorMath.nearest256((r, g, b)) : ColorMath.nearest16((r, g, b))))
        }
    }

    /// A palette slot redefined to (about) this colour. Channels are rounded to multiples of 8 so
    /// 240 slots go a long way; when they run out, the closest defined slot is reused (slots are
    /// never redefined while shown, since that would recolour cells already on screen).
    func definedColor(_ c: (UInt8, UInt8, UInt8)) -> Int32 {
        func q(_ v: UInt8) -> UInt32 { min(255, (UInt32(v) + 4) / 8 * 8) }
        let key = q(c.0) << 16 | q(c.1) << 8 | q(c.2)
        if let slot = definedColors[key] { return slot }
        if nextColorSlot < 256 {
            let slot = nextColorSlot
            nextColorSlot += 1
            func permille(_ v: UInt32) -> Int32 { Int32(v * 1000 / 255) }
            init_extended_color(slot, permille(key >> 16), permille((key >> 8) & 0xFF), permille(key & 0xFF))
            definedColors[key] = slot
            return slot
        }
        let target = (UInt8(key >> 16), UInt8((key >> 8) & 0xFF), UInt8(key & 0xFF))
        let nearest = definedColors.min { a, b in
            ColorMath.distance((UInt8(a.key >> 16), UInt8((a.key >> 8) & 0xFF), UInt8(a.key & 0xFF)), target)
                < ColorMath.distance((UInt8(b.key >> 16), UInt8((b.key >> 8) & 0xFF), UInt8(b.key & 0xFF)), target)
        }
        return nearest?.value ?? 15
    }

    func pairNumber(fg: Int32, bg: Int32) -> Int32 {
        if fg == -1 && bg == -1 { return 0 }
        let key = PairKey(fg: fg, bg: bg)
        if let p = pairs[key] { return p }
        guard nextPair < maxPairs else { return 0 }
        let p = nextPair
        nextPair += 1
        init_extended_pair(p, fg, bg)
        pairs[key] = p
        return p
    }
}
