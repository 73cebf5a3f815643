import Foundation
import Testing
@testable import Volume

/// Files written byte by byte by `RawNIfTIFile` (big-endian, NIfTI-2, negative pixdim), read back
/// and compared with what nibabel 5 reads from the same bytes. The expectations were computed once
/// (`C2FNAS_RAW_NIFTI_DUMP=dir swift test --filter NIfTIByteOrder`, then
/// `python3 Tests/VolumeTests/Fixtures/expected_raw.py dir`) and are stored here: no Python at test time.
@Suite("NIfTI byte order and negative pixdim against nibabel")
struct NIfTIByteOrderTests {
    struct Expected {
        var shape: [Int]
        var zooms: [Double]
        var affine: [Double]            // nibabel img.affine, row-major
        var canonicalAffine: [Double]   // nib.as_closest_canonical(img).affine
        var picks: [[Double]]           // i, j, k (file order), scaled value
        var sum: Double
    }

    static let files: [String: RawNIfTIFile] = {
        let q = [0.1, 0.2, 0.3]
        var out = [String: RawNIfTIFile]()
        out["be_int16_sform.nii"] = RawNIfTIFile(
            order: .big, shape: [5, 4, 3], pixdim: [1, 0.8, 0.9, 2.5],
            values: .int16(rampValues([5, 4, 3]).map { Int16($0) - 50 }), sclSlope: 0.5, sclInter: -10,
            sformCode: 1, srow: [[0.8, 0, 0, -10], [0, 0.9, 0, 20], [0, 0, 2.5, 5]])
        out["be_float32_qform.nii"] = RawNIfTIFile(
            order: .big, shape: [3, 4, 5], pixdim: [-1, 0.7, 0.8, 1.9],
            values: .float32(rampValues([3, 4, 5]).map { Float($0) * 0.25 + 0.125 }),
            qformCode: 1, quatern: q, qoffset: [1, 2, 3])
        out["be_nifti2_float32.nii"] = RawNIfTIFile(
            version: 2, order: .big, shape: [4, 3, 2], pixdim: [1, 1.25, 0.5, 3.0],
            values: .float32(rampValues([4, 3, 2]).map { Float($0) * -1.5 }),
            qformCode: 1, sformCode: 2, quatern: q, qoffset: [-4, 5, 6],
            srow: [[1.2, 0.1, 0.3, -4], [-0.2, 0.48, 0.1, 5], [0.05, 0.05, 2.9, 6]])
        out["neg_pixdim_qform.nii"] = RawNIfTIFile(
            shape: [4, 3, 3], pixdim: [1, -0.8, 0.9, 2.0],
            values: .int16(rampValues([4, 3, 3]).map { Int16($0) }),
            qformCode: 1, quatern: [0, 0, 0.2], qoffset: [5, -5, 10])
        out["neg_pixdim_sform.nii"] = RawNIfTIFile(
            shape: [4, 3, 3], pixdim: [1, -1.5, 2, 2.5],
            values: .int16(rampValues([4, 3, 3]).map { Int16($0) }),
            sformCode: 1, srow: [[-1.5, 0, 0, 30], [0, 2, 0, -20], [0, 0, 2.5, 7]])
        return out
    }()

    // nibabel 5.3.2 on the bytes above (Fixtures/expected_raw.py).
    static let expected: [String: Expected] = [
        "be_float32_qform.nii": Expected(
            shape: [3, 4, 5], zooms: [0.699999988079071, 0.800000011920929, 1.899999976158142],
            affine: [0.5179999794960022, -0.4131337084376025, -0.8187950085726383, 1.0, 0.4174919840553356, 0.6399999976158138, 0.1243974922908844, 2.0, -0.217661314436857, 0.24437790628008674, -1.7099999728798867, 3.0, 0.0, 0.0, 0.0, 1.0],
            canonicalAffine: [0.5179999794960022, -0.4131337084376025, 0.8187950085726383, -2.2751800342905533, 0.4174919840553356, 0.6399999976158138, -0.1243974922908844, 2.4975899691635375, -0.217661314436857, 0.24437790628008674, 1.7099999728798867, -3.839999891519547, 0.0, 0.0, 0.0, 1.0],
            picks: [[0.0, 0.0, 0.0, 0.125], [2.0, 3.0, 4.0, 108.125], [1.0, 2.0, 1.0, 30.375], [2.0, 0.0, 1.0, 25.625]],
            sum: 3247.5),
        "be_int16_sform.nii": Expected(
            shape: [5, 4, 3], zooms: [0.800000011920929, 0.8999999761581421, 2.5],
            affine: [0.800000011920929, 0.0, 0.0, -10.0, 0.0, 0.8999999761581421, 0.0, 20.0, 0.0, 0.0, 2.5, 5.0, 0.0, 0.0, 0.0, 1.0],
            canonicalAffine: [0.800000011920929, 0.0, 0.0, -10.0, 0.0, 0.8999999761581421, 0.0, 20.0, 0.0, 0.0, 2.5, 5.0, 0.0, 0.0, 0.0, 1.0],
            picks: [[0.0, 0.0, 0.0, -35.0], [4.0, 3.0, 2.0, 82.0], [1.0, 2.0, 1.0, 25.5], [4.0, 0.0, 1.0, 17.0]],
            sum: 1410.0),
        "be_nifti2_float32.nii": Expected(
            shape: [4, 3, 2], zooms: [1.25, 0.5, 3.0],
            affine: [1.2, 0.1, 0.3, -4.0, -0.2, 0.48, 0.1, 5.0, 0.05, 0.05, 2.9, 6.0, 0.0, 0.0, 0.0, 1.0],
            canonicalAffine: [1.2, 0.1, 0.3, -4.0, -0.2, 0.48, 0.1, 5.0, 0.05, 0.05, 2.9, 6.0, 0.0, 0.0, 0.0, 1.0],
            picks: [[0.0, 0.0, 0.0, -0.0], [3.0, 2.0, 1.0, -184.5], [1.0, 2.0, 1.0, -181.5], [3.0, 0.0, 1.0, -154.5]],
            sum: -2214.0),
        "neg_pixdim_qform.nii": Expected(
            shape: [4, 3, 3], zooms: [0.800000011920929, 0.8999999761581421, 2.0],
            affine: [0.7360000090599059, -0.352726518653749, 0.0, 5.0, 0.31353469622564073, 0.8279999759197235, 0.0, -5.0, 0.0, 0.0, 2.0, 10.0, 0.0, 0.0, 0.0, 1.0],
            canonicalAffine: [0.7360000090599059, -0.352726518653749, 0.0, 5.0, 0.31353469622564073, 0.8279999759197235, 0.0, -5.0, 0.0, 0.0, 2.0, 10.0, 0.0, 0.0, 0.0, 1.0],
            picks: [[0.0, 0.0, 0.0, 0.0], [3.0, 2.0, 2.0, 223.0], [1.0, 2.0, 1.0, 121.0], [3.0, 0.0, 1.0, 103.0]],
            sum: 4014.0),
        "neg_pixdim_sform.nii": Expected(
            shape: [4, 3, 3], zooms: [1.5, 2.0, 2.5],
            affine: [-1.5, 0.0, 0.0, 30.0, 0.0, 2.0, 0.0, -20.0, 0.0, 0.0, 2.5, 7.0, 0.0, 0.0, 0.0, 1.0],
            canonicalAffine: [1.5, 0.0, 0.0, 25.5, 0.0, 2.0, 0.0, -20.0, 0.0, 0.0, 2.5, 7.0, 0.0, 0.0, 0.0, 1.0],
            picks: [[0.0, 0.0, 0.0, 0.0], [3.0, 2.0, 2.0, 223.0], [1.0, 2.0, 1.0, 121.0], [3.0, 0.0, 1.0, 103.0]],
            sum: 4014.0),
    ]

    @Test("geometry and values match nibabel", arguments: files.keys.sorted())
    func matchesNibabel(name: String) throws {
        let dir = try makeTempDir("raw")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = try Self.files[name]!.write(name, in: dir)
        let e = try #require(Self.expected[name])
        let img = try NIfTI.readImage(url)
        let h = img.header
        #expect(h.fileShape.array == e.shape)
        for a in 0..<3 { #expect(abs(h.pixdim[a] - e.zooms[a]) < 1e-6, "zoom \(a): \(h.pixdim[a]) vs \(e.zooms[a])") }
        for i in 0..<16 { #expect(abs(h.fileAffine.m[i] - e.affine[i]) < 1e-5, "file affine[\(i)]: \(h.fileAffine.m) vs \(e.affine)") }
        for i in 0..<16 { #expect(abs(img.volume.affine.m[i] - e.canonicalAffine[i]) < 1e-5, "canonical affine[\(i)]") }
        let file = h.orientation.toFile(img.volume.data, channels: 1)
        for p in e.picks {
            let v = file[h.fileShape.index(Int(p[0]), Int(p[1]), Int(p[2]))]
            #expect(abs(Double(v) - p[3]) < 1e-5 * max(1, abs(p[3])), "voxel \(p): \(v)")
        }
        let sum = img.volume.data.reduce(0.0) { $0 + Double($1) }
        #expect(abs(sum - e.sum) < 1e-6 * max(1, abs(e.sum)))
    }

    @Test("big-endian files are flagged as byte-swapped; little-endian ones are not")
    func byteSwappedFlag() throws {
        let dir = try makeTempDir("raw")
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, f) in Self.files {
            let h = try NIfTI.readHeader(try f.write(name, in: dir))
            #expect(h.byteSwapped == (f.order == .big), "\(name)")
            #expect(h.version == f.version)
        }
    }

    @Test("a negative pixdim is read as its magnitude with a warning naming the file")
    func negativePixdimWarns() throws {
        let dir = try makeTempDir("raw")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = try Self.files["neg_pixdim_qform.nii"]!.write("neg_pixdim_qform.nii", in: dir)
        let h = try NIfTI.readHeader(url)
        #expect(h.warnings.count == 1)
        #expect(h.warnings.first?.contains(url.path) == true)
        #expect(h.warnings.first?.contains("negative voxel spacing") == true)
        let fixture = try NIfTI.readHeader(Fixtures.url("bad_negative_spacing.nii"))
        #expect(fixture.pixdim == SIMD3(1, 1, 1))
        #expect(fixture.warnings.count == 1)
        #expect(try NIfTI.readHeader(Self.files["be_int16_sform.nii"]!.write("x.nii", in: dir)).warnings.isEmpty)
    }
}
