import Foundation
import Testing
@testable import Volume
import Tensor

/// Seeded mutation fuzzing of the NIfTI reader: valid fixtures with corrupted header fields,
/// flipped bytes, truncation, appended junk (incl. fake extensions), written plain or gzipped
/// (or with the gzip stream itself damaged). Every case must decode or throw a VolumeError;
/// a trap would kill the test process. Deterministic: the same seed gives the same cases.
@Suite("NIfTI fuzzing")
struct NIfTIFuzzTests {
    static let seeds = ["uint8.nii", "float64_pixdim.nii", "int16_scaled.nii.gz", "float32_qform.nii.gz",
                        "nifti2_int32.nii.gz", "two_channel.nii.gz", "labels_uint8.nii.gz", "lps_int16.nii.gz"]
    /// (offset, width) of numeric header fields, NIfTI-1 and NIfTI-2.
    static let fields1: [(Int, Int)] = fieldList([(0, 4, 1), (40, 2, 8), (70, 2, 1), (72, 2, 1), (76, 4, 8), (108, 4, 1),
                                                  (112, 4, 1), (116, 4, 1), (252, 2, 1), (254, 2, 1), (256, 4, 6),
                                                  (280, 4, 12), (344, 4, 1), (348, 4, 1)])
    static let fields2: [(Int, Int)] = fieldList([(0, 4, 1), (4, 8, 1), (12, 2, 1), (14, 2, 1), (16, 8, 8), (104, 8, 8),
                                                  (168, 8, 1), (176, 8, 1), (184, 8, 1), (344, 4, 1), (348, 4, 1),
                                                  (352, 8, 6), (400, 8, 12), (536, 4, 1)])
    /// (offset, width, count) runs → (offset, width) per field.
    static func fieldList(_ runs: [(Int, Int, Int)]) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        for (o, w, n) in runs { for i in 0..<n { out.append((o + w * i, w)) } }
        return out
    }

    @Test("thousands of mutated files decode or throw a VolumeError, never trap or over-allocate")
    func fuzzReader() throws {
        let dir = try makeTempDir("fuzz-nifti"); defer { try? FileManager.default.removeItem(at: dir) }
        let originals = try Self.seeds.map { try NIfTIBytes.read(Fixtures.url($0)).bytes }
        var rng = RNG(seed: 0xF0_22_2026)
        let cases = 1600
        var decoded = 0, refused = [VolumeError.Kind: Int]()
        for n in 0..<cases {
            var bytes = originals[rng.int(below: originals.count)]
            let v2 = bytes.count >= 4 && bytes[0] == 0x1C && bytes[1] == 0x02
            for _ in 0..<rng.int(in: 1...3) { Self.mutate(&bytes, nifti2: v2, rng: &rng) }
            let mode = rng.int(below: 10)   // 0-4 plain, 5-8 gzip, 9 gzip with damaged stream
            let url = dir.appendingPathComponent("case\(n % 8)" + (mode < 5 ? ".nii" : ".nii.gz"))
            try NIfTIBytes.write(NIfTIBytes(bytes: bytes), to: url, gzip: mode >= 5)
            if mode == 9 { try Self.damage(url, rng: &rng) }
            let fileSize = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
            do {
                switch rng.int(below: 6) {
                case 0: _ = try NIfTI.readHeader(url)
                case 1:
                    let l = try NIfTI.readLabels(url)
                    #expect(l.labels.data.count <= fileSize * (mode >= 5 ? 1032 : 1))
                default:
                    let image = try NIfTI.readImage(url)
                    // Never more voxels than the file can hold (the header-size guard).
                    #expect(image.volume.data.count <= fileSize * (mode >= 5 ? 1032 : 1), "case \(n)")
                }
                decoded += 1
            } catch let e as VolumeError {
                refused[e.kind, default: 0] += 1
                #expect(e.description.contains(url.path), "case \(n): \(e)")
            } catch {
                Issue.record("case \(n): untyped error \(error)")
            }
        }
        let summary = refused.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ")
        print("NIfTI fuzz: \(cases) cases, \(decoded) decoded, refused: \(summary)")
        #expect(decoded > 50 && refused.count >= 5, "the mutations exercise both paths")
    }

    static func mutate(_ b: inout [UInt8], nifti2: Bool, rng: inout RNG) {
        guard !b.isEmpty else { b = [UInt8](repeating: 0, count: rng.int(below: 600)); return }
        switch rng.int(below: 8) {
        case 0, 1, 2:   // a numeric header field set to an interesting value
            let fields = nifti2 ? fields2 : fields1
            let (o, w) = fields[rng.int(below: fields.count)]
            guard o + w <= b.count else { return }
            let value = interesting(width: w, rng: &rng)
            for i in 0..<w { b[o + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        case 3:   // random bytes anywhere in the header
            for _ in 0..<rng.int(in: 1...6) { b[rng.int(below: min(b.count, 560))] = UInt8(truncatingIfNeeded: rng.next()) }
        case 4:   // truncate
            b.removeLast(rng.int(below: b.count))
        case 5:   // a fake extension: flag set, then esize/ecode and junk
            let at = nifti2 ? 540 : 348
            guard b.count >= at + 4 else { return }
            b[at] = 1
            var ext = [UInt8]()
            for v in [UInt32(truncatingIfNeeded: interesting(width: 4, rng: &rng)), UInt32(rng.int(below: 40))] {
                withUnsafeBytes(of: v.littleEndian) { ext += $0 }
            }
            b.insert(contentsOf: ext + (0..<rng.int(below: 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at + 4)
        case 6:   // junk appended
            b += (0..<rng.int(in: 1...300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        default:  // byte flips in the data
            for _ in 0..<rng.int(in: 1...8) { let i = rng.int(below: b.count); b[i] ^= UInt8(1 << rng.int(below: 8)) }
        }
    }

    /// Inputs libFuzzer (tests/fuzz/run.sh) found to crash the reader, each kept as a regression case.
    static let fuzzCrashes: [(name: String, base64: String)] = [
        // NIfTI-2 with vox_offset near Int64.max: offset + data size overflowed in checkDataFits.
        ("vox_offset overflow", [
            "HAIAAG4rMgANChoKCAAgAAMAAAAAAAAAAwAAAAAAAAAEAAAAAAAAAAMAAAAAAAAAAQAAAAAAAAABAAAAAAAAAAEAAAAAAAAA",
            "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAADwPwAAAAAAAOA/AAAAAAAA4D8AAAAAAAD0PwAAAAAAAPD/",
            "/////////////////////////////////////////3////////////////8AAAAAAAAAAAAAAAAAAAAAgD8AAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAAAAAAAACzvb7jywU+AABIwVaanT51TII/Jc23vgAA8kEAAAAA6ZhDPjOpCkAAAOBAAAAAAAAAAAAA",
            "IAAAAAAAAG4rMQAAAAAAOP85/zr/9fX19fX19fX19fX19fX19fX19fX19fX19fX19fX19fX19fX19fX19fX19fX19fX19fX1",
            "9fX19fX19fX19fX19fX19fX19fX19fX19fX19fX19fX19fX19fX19fX19fX19fX19fX19Tv/PP89/0L/Q/9E9w2+d0J/AAAA",
            "AG4rMQAAAAAIwAAAAAAAAOA/AAAAAAAAAAAAAAArAAAAAAAAAAAAAADwvwAAAAAAAAAAAAAAAAAA4D8AAAAAAAAAAAAAAAAA",
            "AADAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAPQ/AAAAAAAACMAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAGoBAAB/AQAA",
            "ggEAAIUBAACIAQAAUQIAAFQCAABXAgAAWgIAAG8CAAByAgAAdQIAAHgCAACNAgAAkAIAAJMCAACWAgAAqwIAAAAABAAAAAAA",
            "AAAEAAAAAAAAAAMAAAAAAAAAAQAAAAAAAAABAAAAAAAAAAEAAAAAAAAAAAAA4D8AAAAAAAAAAAEAAAAAAADAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAPQ/AAAAAAAACMAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABq",
            "AQAAfwEAAIIBAACFAQAAiAEAAFECAABUAgAAVwIAAFoCAABvAgAAcgIArgIAALECAAC0AgAA",
        ].joined()),
    ]

    @Test("inputs that crashed the libFuzzer harness now throw a VolumeError")
    func fuzzerCrashes() throws {
        let dir = try makeTempDir("fuzz-crashes"); defer { try? FileManager.default.removeItem(at: dir) }
        for c in Self.fuzzCrashes {
            let url = dir.appendingPathComponent("case.nii")
            try #require(Data(base64Encoded: c.base64)).write(to: url)
            let options = NIfTIReadOptions(maxVoxels: 1 << 16)
            #expect(throws: VolumeError.self, "\(c.name)") { _ = try NIfTI.readImage(url, options: options) }
        }
    }

    /// Boundary values as raw little-endian bits of the field's width (ints and floats).
    static func interesting(width: Int, rng: inout RNG) -> UInt64 {
        let ints: [Int64] = [0, 1, -1, 2, 3, 4, 5, 7, 8, 16, 127, 128, 255, 256, 348, 352, 540, 32767, -32768, 65535,
                             Int64(Int32.max), Int64(Int32.min), 1 << 40, Int64.max, Int64.min]
        let floats: [Double] = [0, -0.0, 1, -1, 0.5, 1e-30, 1e30, .nan, .infinity, -.infinity, 1e300]
        if rng.bernoulli(0.3) { return rng.next() }
        if width >= 4 && rng.bernoulli(0.4) {
            let f = floats[rng.int(below: floats.count)]
            return width == 4 ? UInt64(Float(f).bitPattern) : f.bitPattern
        }
        return UInt64(bitPattern: ints[rng.int(below: ints.count)])
    }

    /// Flips bytes inside the compressed stream (past the 10-byte gzip header).
    static func damage(_ url: URL, rng: inout RNG) throws {
        var d = [UInt8](try Data(contentsOf: url))
        guard d.count > 12 else { return }
        for _ in 0..<rng.int(in: 1...4) { d[rng.int(in: 10...(d.count - 1))] ^= UInt8(truncatingIfNeeded: rng.next() | 1) }
        try Data(d).write(to: url)
    }
}
