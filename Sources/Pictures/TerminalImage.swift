import Foundation

/// How the terminal shows pictures: one of three pixel protocols, or character cells (half blocks).
public enum GraphicsMode: String, Sendable, CaseIterable {
    case kitty, sixel, iterm, cells
}

/// Escape sequences that put an RGB image at the cursor, for the three pixel protocols, and the
/// tmux passthrough wrapping. The cursor does not move (callers save and restore it anyway).
public enum TerminalImage {
    static let esc = "\u{1B}"

    /// kitty graphics protocol: zlib-compressed RGB (`f=24,o=z`), base64 in chunks of at most 4096
    /// bytes, no replies (`q=2`), cursor kept (`C=1`), image id `id` so it can be deleted later.
    public static func kitty(_ image: RGBImage, id: UInt32) -> String {
        let payload = Data(PNG.deflate(image.bytes, level: 1)).base64EncodedString()
        var out = ""
        out.reserveCapacity(payload.utf8.count + payload.utf8.count / 4096 * 16 + 64)
        var start = payload.startIndex
        var first = true
        while start < payload.endIndex {
            let end = payload.index(start, offsetBy: 4096, limitedBy: payload.endIndex) ?? payload.endIndex
            let more = end < payload.endIndex ? 1 : 0
            let control = first ? "a=T,f=24,o=z,s=\(image.width),v=\(image.height),i=\(id),q=2,C=1,m=\(more)" : "m=\(more)"
            out += esc + "_G" + control + ";" + payload[start..<end] + esc + "\\"
            first = false
            start = end
        }
        return out
    }

    /// Deletes a kitty image and its placements (and frees its data).
    public static func kittyDelete(id: UInt32) -> String { esc + "_Ga=d,d=I,i=\(id),q=2" + esc + "\\" }

    /// iTerm2 inline image (OSC 1337) of a PNG, drawn at exactly the image's pixel size.
    public static func iterm(_ image: RGBImage) -> String {
        let png = PNG.encode(image, level: 1)
        return esc + "]1337;File=inline=1;size=\(png.count);width=\(image.width)px;height=\(image.height)px;preserveAspectRatio=0:"
            + Data(png).base64EncodedString() + "\u{07}"
    }

    /// Sixel with the fixed 256-register palette of `SixelPalette`; the height is cut to a multiple
    /// of 6 by the caller when it matters (a sixel band is 6 rows).
    public static func sixel(_ image: RGBImage) -> String { SixelEncoder.encode(image) }

    /// The sequence wrapped for tmux's `allow-passthrough` (DCS tmux; … ST, inner ESCs doubled).
    public static func tmuxPassthrough(_ sequence: String) -> String {
        esc + "Ptmux;" + sequence.replacingOccurrences(of: esc, with: esc + esc) + esc + "\\"
    }
}

/// The sixel palette: the 6×6×6 colour cube and 40 greys, all given in the whole percents sixel
/// colour definitions use, so a decoder gets back exactly these RGB values.
public enum SixelPalette {
    /// Palette entries as percents (0–100).
    public static let percents: [(Int, Int, Int)] = {
        var p = [(Int, Int, Int)]()
        let cube = [0, 20, 40, 60, 80, 100]
        for r in cube { for g in cube { for b in cube { p.append((r, g, b)) } } }
        for k in 0..<40 { let v = (k * 100 + 19) / 39; p.append((v, v, v)) }
        return p
    }()

    /// What a percent means in 8 bits (rounded), as xterm and our decoder read it.
    public static func byte(percent p: Int) -> UInt8 { UInt8((p * 255 + 50) / 100) }

    public static let colors: [RGB] = percents.map { RGB(byte(percent: $0.0), byte(percent: $0.1), byte(percent: $0.2)) }

    static func distance(_ a: RGB, _ b: RGB) -> Int {
        let dr = Int(a.r) - Int(b.r), dg = Int(a.g) - Int(b.g), db = Int(a.b) - Int(b.b)
        return 2 * dr * dr + 4 * dg * dg + 3 * db * db
    }

    static func nearest(_ c: RGB) -> UInt8 {
        var best = 0, bestD = Int.max
        for (i, p) in colors.enumerated() {
            let d = distance(c, p)
            if d < bestD { bestD = d; best = i }
        }
        return UInt8(best)
    }

    /// Exact nearest entry for every grey level (most slice pixels are grey).
    static let greyTable: [UInt8] = (0..<256).map { nearest(RGB(grey: UInt8($0))) }
    /// Nearest entry for colours at 5 bits a channel (bin centres).
    static let colorTable: [UInt8] = (0..<(32 * 32 * 32)).map { (i: Int) -> UInt8 in
        let r = UInt8((i >> 10) * 8 + 4), g = UInt8(((i >> 5) & 31) * 8 + 4), b = UInt8((i & 31) * 8 + 4)
        return nearest(RGB(r, g, b))
    }

    /// The palette index a pixel is drawn with.
    @inline(__always)
    public static func index(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        if r == g && g == b { return greyTable[Int(r)] }
        return colorTable[Int(r >> 3) << 10 | Int(g >> 3) << 5 | Int(b >> 3)]
    }

    /// The image as the sixel output will show it.
    public static func quantized(_ image: RGBImage) -> RGBImage {
        var out = image
        for i in 0..<(image.width * image.height) {
            let c = colors[Int(index(image.bytes[3 * i], image.bytes[3 * i + 1], image.bytes[3 * i + 2]))]
            out.bytes[3 * i] = c.r; out.bytes[3 * i + 1] = c.g; out.bytes[3 * i + 2] = c.b
        }
        return out
    }
}

/// DEC sixel encoder: raster attributes for 1:1 pixels, the palette registers the image uses, then
/// per 6-row band one pass per colour with run-length encoding (`!n`).
enum SixelEncoder {
    static func encode(_ image: RGBImage) -> String {
        let w = image.width, h = image.height
        var out = [UInt8]()
        out.reserveCapacity(w * h / 2)
        func append(_ s: String) { out += Array(s.utf8) }
        func number(_ n: Int) { append(String(n)) }
        var indices = [UInt8](repeating: 0, count: w * h)
        var used = [Bool](repeating: false, count: 256)
        for i in 0..<(w * h) {
            let k = SixelPalette.index(image.bytes[3 * i], image.bytes[3 * i + 1], image.bytes[3 * i + 2])
            indices[i] = k
            used[Int(k)] = true
        }
        append("\u{1B}P0;1;0q\"1;1;\(w);\(h)")
        for (k, p) in SixelPalette.percents.enumerated() where used[k] {
            append("#\(k);2;\(p.0);\(p.1);\(p.2)")
        }
        var bits = [UInt8](repeating: 0, count: w)
        var bandColors = [Bool](repeating: false, count: 256)
        var band = 0
        while band < h {
            let rows = min(6, h - band)
            for k in 0..<256 { bandColors[k] = false }
            for r in 0..<rows { for x in 0..<w { bandColors[Int(indices[(band + r) * w + x])] = true } }
            var firstColour = true
            for k in 0..<256 where bandColors[k] {
                for x in 0..<w { bits[x] = 0 }
                for r in 0..<rows {
                    let row = (band + r) * w
                    for x in 0..<w where indices[row + x] == UInt8(k) { bits[x] |= 1 << r }
                }
                if !firstColour { out.append(UInt8(ascii: "$")) }
                firstColour = false
                out.append(UInt8(ascii: "#")); number(k)
                // Trailing empty columns are skipped; runs of ≥ 4 are run-length encoded.
                var end = w
                while end > 0 && bits[end - 1] == 0 { end -= 1 }
                var x = 0
                while x < end {
                    var run = 1
                    while x + run < end && bits[x + run] == bits[x] { run += 1 }
                    let ch = 63 + bits[x]
                    if run >= 4 { out.append(UInt8(ascii: "!")); number(run); out.append(ch) } else {
                        for _ in 0..<run { out.append(ch) }
                    }
                    x += run
                }
            }
            out.append(UInt8(ascii: "-"))
            band += 6
        }
        append("\u{1B}\\")
        return String(decoding: out, as: UTF8.self)
    }
}
