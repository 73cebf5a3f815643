import Foundation
import Testing
@testable import Pictures

/// A known slice: a grey ramp with two label classes (a filled square, a bar) and a prediction
/// that misses part of the square and adds a blob.
func testPlane(u: Int = 20, v: Int = 12) -> SlicePlane {
    var intensity = [Float](repeating: 0, count: u * v), label = [UInt8](repeating: 0, count: u * v)
    var pred = [UInt8](repeating: 0, count: u * v)
    for y in 0..<v {
        for x in 0..<u {
            let i = y * u + x
            intensity[i] = Float(x * 10 + y)
            if (3..<9).contains(x) && (2..<8).contains(y) { label[i] = 1; if x < 7 { pred[i] = 1 } }
            if x == 14 { label[i] = 2; pred[i] = 2 }
            if (16..<19).contains(x) && y < 3 { pred[i] = 3 }
        }
    }
    return SlicePlane(u: u, v: v, spacingU: 1, spacingV: 1, intensity: intensity, label: label, prediction: pred)
}

@Suite("PNG")
struct PNGTests {
    @Test("CRC-32 matches the standard check value")
    func crc() {
        #expect(PNG.crc32(Array("123456789".utf8)) ^ 0xFFFF_FFFF == 0xCBF4_3926)
        #expect(PNG.crc32([UInt8]()) ^ 0xFFFF_FFFF == 0)
    }

    @Test("encode then decode gives the pixels back; the file has IHDR, IDAT and IEND")
    func roundTrip() throws {
        var img = RGBImage(width: 7, height: 5)
        for y in 0..<5 { for x in 0..<7 { img[x, y] = RGB(UInt8(x * 30), UInt8(y * 50), UInt8((x * y * 7) & 255)) } }
        let bytes = PNG.encode(img)
        #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(String(decoding: bytes[12..<16], as: UTF8.self) == "IHDR")
        #expect(String(decoding: bytes[(bytes.count - 8)..<(bytes.count - 4)], as: UTF8.self) == "IEND")
        #expect(try PNG.decode(bytes) == img)
        // A flipped bit in the pixel data is caught by the chunk CRC.
        var broken = bytes
        broken[bytes.count - 20] ^= 1
        #expect(throws: PNGError.self) { try PNG.decode(broken) }
    }

    @Test("the decoder undoes all five PNG filters (rows made by hand)")
    func filters() throws {
        // 2×5 greyscale image, one row per filter type 0…4, built from the spec's definitions.
        let pixels: [[UInt8]] = [[10, 200], [20, 30], [40, 90], [7, 250], [100, 3]]
        var raw = [UInt8]()
        for (y, row) in pixels.enumerated() {
            let up = y > 0 ? pixels[y - 1] : [0, 0]
            raw.append(UInt8(y))
            for x in 0..<2 {
                let a = x > 0 ? Int(row[x - 1]) : 0, b = Int(up[x]), c = x > 0 ? Int(up[x - 1]) : 0
                let pred: Int
                switch y {
                case 0: pred = 0
                case 1: pred = a
                case 2: pred = b
                case 3: pred = (a + b) / 2
                default:
                    let p = a + b - c
                    pred = abs(p - a) <= abs(p - b) && abs(p - a) <= abs(p - c) ? a : (abs(p - b) <= abs(p - c) ? b : c)
                }
                raw.append(UInt8(truncatingIfNeeded: Int(row[x]) - pred))
            }
        }
        var file = PNG.signature
        PNG.chunk("IHDR", PNG.bigEndian(2) + PNG.bigEndian(5) + [8, 0, 0, 0, 0], into: &file)
        PNG.chunk("IDAT", PNG.deflate(raw), into: &file)
        PNG.chunk("IEND", [], into: &file)
        let img = try PNG.decode(file)
        for y in 0..<5 { for x in 0..<2 { #expect(img[x, y] == RGB(grey: pixels[y][x])) } }
    }
}

@Suite("slice rendering")
struct SliceRenderTests {
    @Test("label fill, prediction outline and errors use the class and error colours")
    func colours() {
        let plane = testPlane()
        let pal = OverlayPalette()
        let window: ClosedRange<Float> = 0...255
        let img = SliceRenderer.render(plane, kind: .image, window: window, palette: pal).image
        #expect(img[5, 4] == RGB(grey: 54))
        let label = SliceRenderer.render(plane, kind: .label, window: window, palette: pal).image
        #expect(label[5, 4] == RGB(grey: 54).mixed(with: pal.color(forClass: 1), 0.5))
        #expect(label[14, 0] == RGB(grey: 140).mixed(with: pal.color(forClass: 2), 0.5))
        let combined = SliceRenderer.render(plane, kind: .combined, window: window, palette: pal)
        // The prediction of class 1 covers x 3…6: x 6 is its right edge (outline), x 4 inside (label fill).
        #expect(combined.image[6, 4] == pal.color(forClass: 1))
        #expect(combined.marks[4 * 20 + 6] == .outline)
        #expect(combined.image[4, 4] == RGB(grey: 44).mixed(with: pal.color(forClass: 1), 0.5))
        let errors = SliceRenderer.render(plane, kind: .errors, window: window, palette: pal)
        #expect(errors.marks[4 * 20 + 8] == .falseNegative)   // labelled, not predicted
        #expect(errors.marks[1 * 20 + 17] == .falsePositive)  // predicted class 3, background in the label
        #expect(errors.marks[4 * 20 + 4] == OverlayMark.none)
    }

    /// CIELAB (D65) of an sRGB colour, for perceptual distances.
    static func lab(_ c: RGB) -> (Double, Double, Double) {
        func lin(_ v: UInt8) -> Double { let x = Double(v) / 255; return x > 0.04045 ? pow((x + 0.055) / 1.055, 2.4) : x / 12.92 }
        let r = lin(c.r), g = lin(c.g), b = lin(c.b)
        let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047, y = 0.2126 * r + 0.7152 * g + 0.0722 * b
        let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883
        func f(_ t: Double) -> Double { t > 0.008856 ? cbrt(t) : 7.787 * t + 16.0 / 116 }
        return (116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z)))
    }

    static func deltaE(_ a: RGB, _ b: RGB) -> Double {
        let p = lab(a), q = lab(b)
        return ((p.0 - q.0) * (p.0 - q.0) + (p.1 - q.1) * (p.1 - q.1) + (p.2 - q.2) * (p.2 - q.2)).squareRoot()
    }

    @Test("the standard palette has 12 colours far apart (CIE76 ΔE > 25) and far from every grey (ΔE > 20)")
    func palette() {
        let c = OverlayPalette.standardClasses
        #expect(c.count >= 12)
        for i in c.indices {
            for j in c.indices where j > i { #expect(Self.deltaE(c[i], c[j]) > 25, "\(c[i].hex) vs \(c[j].hex)") }
            let nearestGrey = (0...255).map { Self.deltaE(c[i], RGB(grey: UInt8($0))) }.min()!
            #expect(nearestGrey > 20, "\(c[i].hex) is close to grey")
        }
        #expect(OverlayPalette().color(forClass: 13) == c[0])
    }

    @Test("nearest-neighbour scaling repeats pixels and never mixes colours")
    func scaling() {
        let plane = testPlane()
        let img = SliceRenderer.render(plane, kind: .combined, window: 0...255, palette: OverlayPalette()).image
        let big = img.scaledNearest(width: 60, height: 36)
        let colours = Set((0..<img.height).flatMap { y in (0..<img.width).map { img[$0, y] } })
        for y in 0..<36 { for x in 0..<60 { #expect(big[x, y] == img[x / 3, y / 3]) } }
        #expect(Set((0..<36).flatMap { y in (0..<60).map { big[$0, y] } }).isSubset(of: colours))
    }

    @Test("slices are cut along each axis with the top row the highest index; auto picks the most foreground")
    func extract() {
        let size = (x: 3, y: 4, z: 5)
        let image = (0..<60).map(Float.init)
        var mask = [UInt8](repeating: 0, count: 60)
        mask[(3 * 4 + 1) * 3 + 2] = 1; mask[(3 * 4 + 2) * 3 + 2] = 1; mask[(1 * 4 + 1) * 3 + 0] = 1
        let a = SlicePlane.extract(axis: .axial, index: 2, size: size, spacing: [1, 1, 2], image: image, label: nil, prediction: nil)
        #expect(a.u == 3 && a.v == 4)
        #expect(a.intensity[0] == Float((2 * 4 + 3) * 3 + 0))  // top-left: y = 3
        let s = SlicePlane.extract(axis: .sagittal, index: 1, size: size, spacing: [1, 1, 2], image: image, label: nil, prediction: nil)
        #expect(s.u == 4 && s.v == 5 && s.spacingV == 2)
        #expect(s.intensity[1] == Float((4 * 4 + 1) * 3 + 1))
        #expect(SlicePlane.mostForeground(axis: .axial, size: size, mask: mask) == 3)
        #expect(SlicePlane.mostForeground(axis: .sagittal, size: size, mask: mask) == 2)
        #expect(SlicePlane.mostForeground(axis: .coronal, size: size, mask: mask) == 1)
        #expect(s.fitted(width: 100, height: 100) == (40, 100))
    }
}

@Suite("terminal images")
struct TerminalImageTests {
    static func slice() -> RGBImage {
        SliceRenderer.render(testPlane(), kind: .combined, window: 0...255, palette: OverlayPalette()).image
            .scaledNearest(width: 80, height: 48)
    }

    @Test("kitty: the transmitted pixels decode to exactly the slice")
    func kitty() throws {
        let img = Self.slice()
        let seq = TerminalImage.kitty(img, id: 7)
        let (decoded, id) = try TerminalDecoders.kitty(seq)
        #expect(id == 7)
        #expect(decoded == img)
        #expect(TerminalImage.kittyDelete(id: 7) == "\u{1B}_Ga=d,d=I,i=7,q=2\u{1B}\\")
    }

    @Test("kitty: large images are sent in chunks of at most 4096 base64 bytes")
    func kittyChunks() throws {
        var img = RGBImage(width: 300, height: 200)
        var state: UInt32 = 1
        for i in img.bytes.indices { state = state &* 1_664_525 &+ 1_013_904_223; img.bytes[i] = UInt8(state >> 24) }
        let seq = TerminalImage.kitty(img, id: 2)
        let chunks = seq.components(separatedBy: "\u{1B}_G").dropFirst()
        #expect(chunks.count > 1)
        for c in chunks { #expect(c.split(separator: ";", maxSplits: 1)[1].utf8.count <= 4096 + 2) }
        #expect(try TerminalDecoders.kitty(seq).image == img)
    }

    @Test("sixel: decodes to exactly the slice quantised to the fixed palette; greys within 4 levels")
    func sixel() throws {
        let img = Self.slice()
        let decoded = try TerminalDecoders.sixel(TerminalImage.sixel(img))
        #expect(decoded.width == img.width && decoded.height == img.height)
        #expect(decoded == SixelPalette.quantized(img))
        var worstGrey = 0
        for y in 0..<img.height {
            for x in 0..<img.width where img[x, y].r == img[x, y].g && img[x, y].g == img[x, y].b {
                worstGrey = max(worstGrey, abs(Int(img[x, y].r) - Int(decoded[x, y].r)))
            }
        }
        #expect(worstGrey <= 4)
        // Class colours stay the nearest palette entry: the outline of class 1 is still reddish.
        let outline = decoded[6 * 4, 4 * 4]
        #expect(outline.r > 150 && outline.g < 100)
    }

    @Test("sixel of a height that is not a multiple of 6 keeps every row")
    func sixelOddHeight() throws {
        let img = Self.slice().scaledNearest(width: 33, height: 17)
        #expect(try TerminalDecoders.sixel(TerminalImage.sixel(img)) == SixelPalette.quantized(img))
    }

    @Test("iTerm2: an OSC 1337 inline PNG of the image's size")
    func iterm() throws {
        let img = Self.slice()
        let seq = TerminalImage.iterm(img)
        #expect(seq.hasPrefix("\u{1B}]1337;File=inline=1;"))
        #expect(seq.contains("width=80px;height=48px"))
        let b64 = seq.split(separator: ":", maxSplits: 1)[1].dropLast()
        let png = try #require(Data(base64Encoded: String(b64)))
        #expect(try PNG.decode([UInt8](png)) == img)
    }

    @Test("tmux passthrough doubles every ESC inside DCS tmux; … ST")
    func tmux() {
        #expect(TerminalImage.tmuxPassthrough("\u{1B}_Ga=d\u{1B}\\") == "\u{1B}Ptmux;\u{1B}\u{1B}_Ga=d\u{1B}\u{1B}\\\u{1B}\\")
    }
}
