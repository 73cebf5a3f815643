import CZlib

/// Why a PNG could not be read; the message names the problem.
public struct PNGError: Error, Equatable, CustomStringConvertible {
    public var problem: String
    public var description: String { "not a readable PNG: \(problem)" }
}

/// PNG files: an encoder for RGB images (8-bit, filter 0, zlib through the system library) and a
/// decoder for 8-bit greyscale / RGB / RGBA non-interlaced files (all five filters), used to
/// check what the encoder and the report write.
public enum PNG {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// CRC-32 (ISO 3309, reflected polynomial 0xEDB88320) as PNG chunks need it.
    static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func crc32<S: Sequence>(_ bytes: S, start: UInt32 = 0xFFFF_FFFF) -> UInt32 where S.Element == UInt8 {
        var c = start
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    static func chunk(_ type: String, _ data: [UInt8], into out: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        out += bigEndian(UInt32(data.count))
        out += typeBytes
        out += data
        out += bigEndian(crc32(data, start: crc32(typeBytes)) ^ 0xFFFF_FFFF)
    }

    /// The PNG file bytes of `image` (colour type 2, 8 bits, every row filter 0 = none).
    public static func encode(_ image: RGBImage, level: Int32 = 6) -> [UInt8] {
        precondition(image.width > 0 && image.height > 0, "PNG.encode: empty image")
        let rowBytes = image.width * 3
        var raw = [UInt8](repeating: 0, count: (rowBytes + 1) * image.height)
        image.bytes.withUnsafeBufferPointer { src in
            raw.withUnsafeMutableBufferPointer { dst in
                for y in 0..<image.height {
                    // dst[y * (rowBytes + 1)] stays 0: filter type none.
                    let d = dst.baseAddress! + y * (rowBytes + 1) + 1
                    d.update(from: src.baseAddress! + y * rowBytes, count: rowBytes)
                }
            }
        }
        var out = signature
        var header = bigEndian(UInt32(image.width)) + bigEndian(UInt32(image.height))
        header += [8, 2, 0, 0, 0]  // bit depth, colour type RGB, deflate, filter method 0, no interlace
        chunk("IHDR", header, into: &out)
        chunk("IDAT", deflate(raw, level: level), into: &out)
        chunk("IEND", [], into: &out)
        return out
    }

    /// zlib stream (RFC 1950) of `data`.
    public static func deflate(_ data: [UInt8], level: Int32 = 6) -> [UInt8] {
        var size = compressBound(uLong(data.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let status = out.withUnsafeMutableBufferPointer { o in
            data.withUnsafeBufferPointer { i in compress2(o.baseAddress, &size, i.baseAddress, uLong(data.count), level) }
        }
        precondition(status == Z_OK, "zlib compress2 failed (\(status))")
        return Array(out.prefix(Int(size)))
    }

    /// Inflates a zlib stream whose decompressed size is known.
    public static func inflate(_ data: [UInt8], expectedSize: Int) throws(PNGError) -> [UInt8] {
        var size = uLong(expectedSize)
        var out = [UInt8](repeating: 0, count: max(1, expectedSize))
        let status = out.withUnsafeMutableBufferPointer { o in
            data.withUnsafeBufferPointer { i in uncompress(o.baseAddress, &size, i.baseAddress, uLong(data.count)) }
        }
        guard status == Z_OK, Int(size) == expectedSize else {
            throw PNGError(problem: "zlib data does not inflate to \(expectedSize) bytes (status \(status), got \(size))")
        }
        return Array(out.prefix(expectedSize))
    }

    /// Decodes a PNG to RGB (greyscale is expanded, alpha dropped). Chunk CRCs are checked.
    public static func decode(_ bytes: [UInt8]) throws(PNGError) -> RGBImage {
        guard bytes.count > 8, Array(bytes.prefix(8)) == signature else { throw PNGError(problem: "no PNG signature") }
        var pos = 8
        var width = 0, height = 0, channels = 0
        var idat = [UInt8]()
        func u32(_ p: Int) -> Int { Int(bytes[p]) << 24 | Int(bytes[p + 1]) << 16 | Int(bytes[p + 2]) << 8 | Int(bytes[p + 3]) }
        var sawEnd = false
        while pos + 12 <= bytes.count {
            let length = u32(pos)
            guard pos + 12 + length <= bytes.count else { throw PNGError(problem: "chunk at byte \(pos) runs past the end") }
            let type = String(decoding: bytes[(pos + 4)..<(pos + 8)], as: UTF8.self)
            let data = Array(bytes[(pos + 8)..<(pos + 8 + length)])
            let stored = UInt32(u32(pos + 8 + length))
            guard crc32(data, start: crc32(bytes[(pos + 4)..<(pos + 8)])) ^ 0xFFFF_FFFF == stored else {
                throw PNGError(problem: "CRC mismatch in chunk \(type)")
            }
            switch type {
            case "IHDR":
                guard length == 13 else { throw PNGError(problem: "IHDR of \(length) bytes") }
                width = u32(pos + 8); height = u32(pos + 12)
                let depth = data[8], colourType = data[9], interlace = data[12]
                guard depth == 8, interlace == 0 else { throw PNGError(problem: "only 8-bit non-interlaced files are read") }
                switch colourType {
                case 0: channels = 1
                case 2: channels = 3
                case 4: channels = 2
                case 6: channels = 4
                default: throw PNGError(problem: "colour type \(colourType) is not read")
                }
            case "IDAT": idat += data
            case "IEND": sawEnd = true
            default: break
            }
            pos += 12 + length
            if sawEnd { break }
        }
        guard sawEnd, width > 0, height > 0, channels > 0 else { throw PNGError(problem: "missing IHDR, IDAT or IEND") }
        let stride = width * channels
        let raw = try inflate(idat, expectedSize: (stride + 1) * height)
        var rows = [UInt8](repeating: 0, count: stride * height)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            for x in 0..<stride {
                let v = raw[y * (stride + 1) + 1 + x]
                let a = x >= channels ? Int(rows[y * stride + x - channels]) : 0
                let b = y > 0 ? Int(rows[(y - 1) * stride + x]) : 0
                let c = x >= channels && y > 0 ? Int(rows[(y - 1) * stride + x - channels]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw PNGError(problem: "row \(y) has filter type \(filter)")
                }
                rows[y * stride + x] = UInt8(truncatingIfNeeded: Int(v) + predictor)
            }
        }
        var image = RGBImage(width: width, height: height)
        for i in 0..<(width * height) {
            let s = i * channels
            if channels < 3 {
                image.bytes[3 * i] = rows[s]; image.bytes[3 * i + 1] = rows[s]; image.bytes[3 * i + 2] = rows[s]
            } else {
                image.bytes[3 * i] = rows[s]; image.bytes[3 * i + 1] = rows[s + 1]; image.bytes[3 * i + 2] = rows[s + 2]
            }
        }
        return image
    }
}
