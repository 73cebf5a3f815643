import Pictures

/// A rectangle of character cells; `x`, `y` is the top-left corner.
public struct Rect: Hashable, Sendable, CustomStringConvertible {
    public var x: Int, y: Int, width: Int, height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var isEmpty: Bool { width <= 0 || height <= 0 }
    public var description: String { "(\(x),\(y) \(width)x\(height))" }

    /// The rectangle shrunk by `n` cells on every side.
    public func inset(_ n: Int) -> Rect { Rect(x: x + n, y: y + n, width: width - 2 * n, height: height - 2 * n) }

    public func intersects(_ o: Rect) -> Bool {
        !isEmpty && !o.isEmpty && x < o.maxX && o.x < maxX && y < o.maxY && o.y < maxY
    }

    public func contains(_ o: Rect) -> Bool {
        o.x >= x && o.y >= y && o.maxX <= maxX && o.maxY <= maxY
    }

    /// A centred rectangle of at most the given size inside this one.
    public func centered(width w: Int, height h: Int) -> Rect {
        let cw = min(w, width), ch = min(h, height)
        return Rect(x: x + (width - cw) / 2, y: y + (height - ch) / 2, width: cw, height: ch)
    }
}

/// Where widgets draw: a grid of one-cell-wide characters with styles. Writes outside the
/// grid are ignored, so widgets may clip by simply not caring.
public protocol Canvas {
    var rows: Int { get }
    var cols: Int { get }
    /// Draws one character; ignored outside the grid.
    mutating func put(_ character: Character, y: Int, x: Int, style: Style)
    /// Blanks every cell with the plain style.
    mutating func clear()
    /// The size of one cell in pixels when the canvas can show images (kitty, sixel, iTerm2);
    /// nil on a canvas of character cells only.
    var pixelCell: (width: Int, height: Int)? { get }
    /// Shows `image` (already at its display size) with its top-left corner at the top-left of
    /// `cells`; the cells are left blank. Only called when `pixelCell` is non-nil.
    mutating func placeImage(_ image: RGBImage, cells: Rect)
}

/// An image a frame shows: where, and which pixels.
public struct ImagePlacement: Equatable, Sendable {
    public var cells: Rect
    public var image: RGBImage
    public init(cells: Rect, image: RGBImage) { self.cells = cells; self.image = image }
}

extension Canvas {
    public var pixelCell: (width: Int, height: Int)? { nil }
    public mutating func placeImage(_ image: RGBImage, cells: Rect) {}

    /// Draws `text` from (y, x), one cell per character, clipped to `width` cells (and the grid).
    /// Returns the number of cells used.
    @discardableResult
    public mutating func write(_ text: String, y: Int, x: Int, width: Int? = nil, style: Style = .plain) -> Int {
        let limit = min(width ?? Int.max, cols - x)
        guard limit > 0, y >= 0, y < rows else { return 0 }
        var used = 0
        for ch in text {
            if used >= limit { break }
            put(ch, y: y, x: x + used, style: style)
            used += 1
        }
        return used
    }

    /// Fills a rectangle with one character.
    public mutating func fill(_ rect: Rect, with character: Character = " ", style: Style = .plain) {
        guard !rect.isEmpty else { return }
        for y in rect.y..<rect.maxY {
            for x in rect.x..<rect.maxX { put(character, y: y, x: x, style: style) }
        }
    }
}

/// An in-memory canvas for tests and screenshots.
public struct BufferCanvas: Canvas, Sendable {
    public let rows: Int
    public let cols: Int
    private var characters: [Character]
    private var styles: [Style]
    /// Set to pretend to be a pixel terminal with cells of this size (tests of the pixel path).
    public var cellPixels: (width: Int, height: Int)?
    /// Images placed since the last `clear()`.
    public private(set) var placements: [ImagePlacement] = []

    public var pixelCell: (width: Int, height: Int)? { cellPixels }

    public mutating func placeImage(_ image: RGBImage, cells: Rect) {
        fill(cells, style: .plain)
        placements.append(ImagePlacement(cells: cells, image: image))
    }

    public init(rows: Int, cols: Int, cellPixels: (width: Int, height: Int)? = nil) {
        self.cellPixels = cellPixels
        self.rows = max(0, rows)
        self.cols = max(0, cols)
        characters = Array(repeating: " ", count: self.rows * self.cols)
        styles = Array(repeating: .plain, count: self.rows * self.cols)
    }

    public mutating func put(_ character: Character, y: Int, x: Int, style: Style) {
        guard y >= 0, y < rows, x >= 0, x < cols else { return }
        characters[y * cols + x] = character
        styles[y * cols + x] = style
    }

    public mutating func clear() {
        placements.removeAll()
        for i in characters.indices {
            characters[i] = " "
            styles[i] = .plain
        }
    }

    public func character(y: Int, x: Int) -> Character { characters[y * cols + x] }
    public func style(y: Int, x: Int) -> Style { styles[y * cols + x] }

    /// Row `y` as a string of exactly `cols` characters.
    public func line(_ y: Int) -> String { String(characters[(y * cols)..<((y + 1) * cols)]) }

    /// All rows joined by newlines, trailing blanks of each row removed.
    public var text: String {
        (0..<rows).map { line($0).replacingTrailingSpaces() }.joined(separator: "\n")
    }
}

extension String {
    func replacingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }

    /// The string cut to `width` characters, ending in "…" when cut.
    func truncated(to width: Int) -> String {
        guard width > 0 else { return "" }
        guard count > width else { return self }
        return width == 1 ? "…" : String(prefix(width - 1)) + "…"
    }

    func padded(to width: Int) -> String {
        count >= width ? truncated(to: width) : self + String(repeating: " ", count: width - count)
    }

    func leftPadded(to width: Int) -> String {
        count >= width ? truncated(to: width) : String(repeating: " ", count: width - count) + self
    }
}
