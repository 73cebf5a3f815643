/// An 8-bit RGB colour.
public struct RGB: Hashable, Sendable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
    public init(hex: UInt32) { self.init(UInt8(hex >> 16), UInt8((hex >> 8) & 0xFF), UInt8(hex & 0xFF)) }
    public init(grey v: UInt8) { self.init(v, v, v) }

    /// `self` blended towards `o` by `t` (0 = self, 1 = o), rounded.
    public func mixed(with o: RGB, _ t: Double) -> RGB {
        func m(_ x: UInt8, _ y: UInt8) -> UInt8 { UInt8(max(0, min(255, (Double(x) * (1 - t) + Double(y) * t).rounded()))) }
        return RGB(m(r, o.r), m(g, o.g), m(b, o.b))
    }

    /// "#rrggbb".
    public var hex: String {
        let digits = Array("0123456789abcdef")
        return "#" + String([r >> 4, r & 15, g >> 4, g & 15, b >> 4, b & 15].map { digits[Int($0)] })
    }
}

/// A packed RGB image, rows top to bottom (3 bytes a pixel).
public struct RGBImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var bytes: [UInt8]

    public init(width: Int, height: Int, fill: RGB = RGB(0, 0, 0)) {
        self.width = max(0, width)
        self.height = max(0, height)
        var b = [UInt8](repeating: 0, count: self.width * self.height * 3)
        if fill != RGB(0, 0, 0) {
            for i in 0..<(self.width * self.height) { b[3 * i] = fill.r; b[3 * i + 1] = fill.g; b[3 * i + 2] = fill.b }
        }
        bytes = b
    }

    public init(width: Int, height: Int, bytes: [UInt8]) {
        precondition(bytes.count == width * height * 3, "RGBImage: \(bytes.count) bytes for \(width)×\(height)")
        self.width = width
        self.height = height
        self.bytes = bytes
    }

    public subscript(x: Int, y: Int) -> RGB {
        get { let i = 3 * (y * width + x); return RGB(bytes[i], bytes[i + 1], bytes[i + 2]) }
        set { let i = 3 * (y * width + x); bytes[i] = newValue.r; bytes[i + 1] = newValue.g; bytes[i + 2] = newValue.b }
    }

    /// Nearest-neighbour resampling to `w`×`h` (never blurs a label contour).
    public func scaledNearest(width w: Int, height h: Int) -> RGBImage {
        guard w > 0, h > 0, width > 0, height > 0 else { return RGBImage(width: max(0, w), height: max(0, h)) }
        if w == width && h == height { return self }
        var out = [UInt8](repeating: 0, count: w * h * 3)
        var columns = [Int](repeating: 0, count: w)
        for x in 0..<w { columns[x] = 3 * min(width - 1, x * width / w) }
        bytes.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    let row = min(height - 1, y * height / h) * width * 3
                    var o = y * w * 3
                    for x in 0..<w {
                        let s = row + columns[x]
                        dst[o] = src[s]; dst[o + 1] = src[s + 1]; dst[o + 2] = src[s + 2]
                        o += 3
                    }
                }
            }
        }
        return RGBImage(width: w, height: h, bytes: out)
    }

    /// Copies `image` into this one with its top-left corner at (x, y), clipped.
    public mutating func paste(_ image: RGBImage, x: Int, y: Int) {
        for row in 0..<image.height where y + row >= 0 && y + row < height {
            for col in 0..<image.width where x + col >= 0 && x + col < width {
                self[x + col, y + row] = image[col, row]
            }
        }
    }
}
