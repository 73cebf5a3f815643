import Foundation
import Testing
@testable import Volume

/// Inputs libFuzzer (tests/fuzz/run.sh) crashed the reader with, kept as regression tests.
@Suite("NIfTI libFuzzer regressions")
struct NIfTIFuzzRegressionTests {
    /// crash-5eb49912 (nifti target, 2026-12-01): a NIfTI-2 sform of ±1e305 in metres overflowed to
    /// ±inf when scaled to millimetres; Orientation.canonical then saw NaN direction cosines, found no
    /// file axis for a world axis and indexed an array at -1.
    static let metreOverflow = "1c0200006e2b32000d0a1a0a0800200003000000000000000400000000000000040000000000000000030000000000001f8b08000000000004ffcdd24f07024118c7f1e9cf21d13952ec25223a4444d42122baa494d225223a1411dd22a24b44f42622a27bbd945e42872e11db37fbcca6adbd377cfc769e677677766cd4abd4309956a16024185086f22900200105000000000000000400000000000000040000000000000003000000000000000100000000000000010000000000000001000000080000000100000000000000000000000000000000000000000000000000000000000000000000000000f03f000000000000e03f003f000000000000803f0000803f0000803f000080db37fbcca6adbd377cfc769e677677766cd4abd4309956a16024185086f2296bf81da9eb1ea9bba5b45d6bf81da9eb1ea9bba5b45de25ab01a1747de64aefbdf69b0cff7d0fd77e51faf3eb6fc7383d79394cf000000000000000000000000020081c8af3d6df6773c9b23313e000048c10000f2410000e0405381583f07b3bdbee3cb053e000048c10000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000ff3cff3dff42ff43ff44ff45ff46ff47ff4cff4dff4eff4fff50ff51ff56ff57ff58ff59ff5aff5bff60ff61ff0700000000e03f0000000000000000000000fc00000000000000000000f0bf00b06000000000000001473c013a482c00000000000000e03f0ee00000"

    static func bytes(_ hex: String) -> [UInt8] {
        var out = [UInt8](), chars = Array(hex.utf8)
        for i in stride(from: 0, to: chars.count - 1, by: 2) { out.append(UInt8(String(decoding: chars[i...i + 1], as: UTF8.self), radix: 16)!) }
        return out
    }

    @Test("the fuzzer's input is refused with a spacing error, not a trap")
    func fuzzerInput() throws {
        let dir = try makeTempDir("fuzz-regression"); defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("crash.nii")
        try Data(Self.bytes(Self.metreOverflow)).write(to: url)
        expectVolumeError(["crash.nii", "spacing"]) { _ = try NIfTI.readHeader(url) }
    }

    @Test("a hand-made metre sform near Double's range is refused; the same in millimetres too large for norms as well")
    func handMade() throws {
        let dir = try makeTempDir("fuzz-regression"); defer { try? FileManager.default.removeItem(at: dir) }
        var f = RawNIfTIFile(version: 2, shape: [2, 2, 2], pixdim: [1, 1, 1, 1], values: .float32([Float](repeating: 1, count: 8)),
                             sformCode: 1, srow: [[1e306, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]])
        f.xyztUnits = 1   // metres: ×1000 overflows
        expectVolumeError(["metre.nii", "spacing"]) { _ = try NIfTI.readHeader(try f.write("metre.nii", in: dir)) }
        f.xyztUnits = 2
        f.srow = [[1e200, 0, 0, 0], [1e200, 1, 0, 0], [0, 0, 1, 0]]   // column norm overflows
        expectVolumeError(["norm.nii", "spacing"]) { _ = try NIfTI.readHeader(try f.write("norm.nii", in: dir)) }
        f.srow = [[2, 0, 0, 0], [0, 3, 0, 0], [0, 0, 4, 0]]
        #expect(try NIfTI.readHeader(try f.write("fine.nii", in: dir)).fileAffine.columnNorms == SIMD3(2, 3, 4))
    }

    @Test("the closest orientation of a matrix with non-finite entries still assigns every axis")
    func orientationNeverTraps() {
        let bad = Affine(rowMajor: [.nan, 0, 0, 0, 0, .infinity, 0, 0, 0, 0, -.infinity, 0, 0, 0, 0, 1])
        let o = Orientation.canonical(for: bad, fileShape: Shape3(2, 3, 4))
        #expect(o.sourceAxis.sorted() == [0, 1, 2])
    }
}
