import Foundation
@testable import Pictures

/// Independent readers of what the encoders write (test-only): they parse the escape sequences
/// from the protocol specifications, not from the encoder's code.
enum TerminalDecoders {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// Decodes a kitty graphics transmission (`a=T,f=24,o=z`, chunked) to the image and its id.
    static func kitty(_ text: String) throws -> (image: RGBImage, id: Int) {
        var keys = [String: String]()
        var payload = ""
        var rest = Substring(text)
        while let start = rest.range(of: "\u{1B}_G") {
            guard let end = rest.range(of: "\u{1B}\\", range: start.upperBound..<rest.endIndex) else { throw Failure(description: "unterminated APC") }
            let body = rest[start.upperBound..<end.lowerBound]
            guard let semi = body.firstIndex(of: ";") else { throw Failure(description: "no payload separator") }
            for pair in body[..<semi].split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                if kv.count == 2 { keys[String(kv[0])] = String(kv[1]) }
            }
            payload += body[body.index(after: semi)...]
            rest = rest[end.upperBound...]
        }
        guard keys["f"] == "24", keys["o"] == "z", let w = Int(keys["s"] ?? ""), let h = Int(keys["v"] ?? ""),
              let id = Int(keys["i"] ?? ""), keys["m"] == "0" else { throw Failure(description: "unexpected keys \(keys)") }
        guard let data = Data(base64Encoded: payload) else { throw Failure(description: "bad base64") }
        let raw = try PNG.inflate([UInt8](data), expectedSize: w * h * 3)
        return (RGBImage(width: w, height: h, bytes: raw), id)
    }

    /// Decodes a DEC sixel image (raster attributes, colour definitions in percent, `!` repeats,
    /// `$` and `-`) to RGB; pixels never painted stay black.
    static func sixel(_ text: String) throws -> RGBImage {
        let b = Array(text.utf8)
        guard let q = b.firstIndex(of: UInt8(ascii: "q")), b.starts(with: [0x1B, UInt8(ascii: "P")]) else { throw Failure(description: "no DCS … q") }
        var i = q + 1
        func readNumbers() -> [Int] {
            var nums = [Int](), cur: Int? = nil
            while i < b.count {
                let c = b[i]
                if c >= 48 && c <= 57 { cur = (cur ?? 0) * 10 + Int(c - 48) }
                else if c == UInt8(ascii: ";") { nums.append(cur ?? 0); cur = nil }
                else { break }
                i += 1
            }
            if let cur { nums.append(cur) }
            return nums
        }
        var width = 0, height = 0
        if b[i] == UInt8(ascii: "\"") { i += 1; let r = readNumbers(); width = r[2]; height = r[3] }
        var image = RGBImage(width: width, height: height)
        var palette = [Int: RGB]()
        var colour = RGB(0, 0, 0), x = 0, band = 0
        func paint(_ ch: UInt8, _ count: Int) {
            let bits = Int(ch) - 63
            for _ in 0..<count {
                for r in 0..<6 where bits & (1 << r) != 0 && band + r < height && x < width { image[x, band + r] = colour }
                x += 1
            }
        }
        while i < b.count {
            let c = b[i]
            switch c {
            case 0x1B: return image
            case UInt8(ascii: "#"):
                i += 1
                let n = readNumbers()
                if n.count == 5 {
                    guard n[1] == 2 else { throw Failure(description: "only RGB colour definitions") }
                    palette[n[0]] = RGB(SixelPalette.byte(percent: n[2]), SixelPalette.byte(percent: n[3]), SixelPalette.byte(percent: n[4]))
                }
                guard let p = palette[n[0]] else { throw Failure(description: "colour \(n[0]) used before it is defined") }
                colour = p
                continue
            case UInt8(ascii: "!"):
                i += 1
                let n = readNumbers()[0]
                paint(b[i], n)
            case UInt8(ascii: "$"): x = 0
            case UInt8(ascii: "-"): x = 0; band += 6
            case 63...126: paint(c, 1)
            default: throw Failure(description: "unexpected byte \(c) at \(i)")
            }
            i += 1
        }
        throw Failure(description: "no string terminator")
    }
}
