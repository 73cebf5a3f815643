import Foundation
import Testing
@testable import Volume

@Suite("NIfTI writing")
struct NIfTIWriteTests {
    @Test("labels written like a source keep its header affine, orientation and voxels",
          arguments: ["lps_int16.nii.gz", "permuted_uint16.nii.gz", "nifti2_int32.nii.gz", "float32_qform.nii.gz", "uint8.nii"])
    func labelRoundTrip(source: String) throws {
        let dir = try makeTempDir("write"); defer { try? FileManager.default.removeItem(at: dir) }
        let src = try NIfTI.readImage(Fixtures.url(source))
        var labels = LabelVolume(grid: src.volume.grid)
        for i in labels.data.indices { labels.data[i] = UInt8((i * 7) % 5) }
        let out = dir.appendingPathComponent("pred.nii.gz")
        try NIfTI.write(labels, like: src.header, to: out)
        let (back, h) = try NIfTI.readLabels(out)
        #expect(back.data == labels.data)
        #expect(h.version == src.header.version)
        #expect(h.fileShape == src.header.fileShape)
        #expect(h.fileAffine.isClose(to: src.header.fileAffine, tolerance: 1e-5))
        #expect(back.grid.matches(src.volume.grid, tolerance: 1e-5))
        #expect(h.datatype == 2)   // DT_UINT8
        // No temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["pred.nii.gz"])
    }

    @Test("4D float32 probabilities round-trip on an LPS grid")
    func probabilities() throws {
        let dir = try makeTempDir("write4d"); defer { try? FileManager.default.removeItem(at: dir) }
        let src = try NIfTI.readImage(Fixtures.url("lps_int16.nii.gz"))
        let n = src.volume.shape.count
        let probs = Volume(grid: src.volume.grid, channels: 3, data: (0..<(3 * n)).map { Float($0) / Float(3 * n) })
        let out = dir.appendingPathComponent("probs.nii")
        try NIfTI.write(probs, like: src.header, to: out)
        let back = try NIfTI.readImage(out)
        #expect(back.volume.channels == 3)
        #expect(back.volume.data == probs.data)
        #expect(back.header.fileAffine.isClose(to: src.header.fileAffine, tolerance: 1e-5))
    }

    @Test("int16 image from a fresh header (LPS affine) reads back with the same world geometry")
    func freshHeader() throws {
        let dir = try makeTempDir("fresh"); defer { try? FileManager.default.removeItem(at: dir) }
        let fileAffine = Affine(rowMajor: [-0.8, 0, 0, 10, 0, -0.8, 0, 12, 0, 0, 2.5, -20, 0, 0, 0, 1])
        let header = NIfTIHeader(fileShape: Shape3(6, 5, 4), fileAffine: fileAffine)
        #expect(header.orientation.flipped == [true, true, false])
        let v = Volume(grid: header.grid, data: (0..<120).map { Float($0 * 3 - 100) })
        let url = dir.appendingPathComponent("img.nii.gz")
        try NIfTI.write(v, storage: .int16, like: header, to: url)
        let back = try NIfTI.readImage(url)
        #expect(back.volume.data == v.data)
        #expect(back.header.datatype == 4)   // DT_INT16
        #expect(back.header.fileAffine.isClose(to: fileAffine, tolerance: 1e-5))
        #expect(back.volume.affine.isClose(to: header.grid.affine, tolerance: 1e-5))
    }

    @Test("writing into a missing folder or with a wrong extension is a clear error")
    func badDestination() throws {
        let h = NIfTIHeader(fileShape: Shape3(2, 2, 2), fileAffine: .identity)
        let l = LabelVolume(grid: h.grid)
        expectVolumeError(["/no/such/folder/x.nii.gz", "does not exist"]) {
            try NIfTI.write(l, like: h, to: URL(fileURLWithPath: "/no/such/folder/x.nii.gz"))
        }
        let dir = try makeTempDir("ext"); defer { try? FileManager.default.removeItem(at: dir) }
        expectVolumeError(["x.png", ".nii"]) { try NIfTI.write(l, like: h, to: dir.appendingPathComponent("x.png")) }
        expectVolumeError(["does not fit"]) {
            try NIfTI.write(LabelVolume(grid: Grid(shape: Shape3(3, 2, 2), spacing: SIMD3(1, 1, 1))), like: h, to: dir.appendingPathComponent("y.nii"))
        }
    }
}

@Suite("canonical orientation")
struct OrientationTests {
    @Test("toFile inverts toCanonical for every axis permutation and flip; world positions agree")
    func allOrientations() {
        let shape = Shape3(4, 3, 5)
        let perms = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]
        let data = (0..<(shape.count * 2)).map { $0 }
        for perm in perms {
            for flips in 0..<8 {
                // A file affine whose voxel axis a points along world axis perm[a], negated by the flip bits.
                var m = Affine(rowMajor: [Double](repeating: 0, count: 16)); m[3, 3] = 1
                for a in 0..<3 { m[perm[a], a] = (flips >> a) & 1 == 1 ? -1.5 : 1.5; m[a, 3] = Double(a) * 10 }
                let o = Orientation.canonical(for: m, fileShape: shape)
                let canon = o.toCanonical(data, channels: 2)
                #expect(o.toFile(canon, channels: 2) == data)
                let ca = o.canonicalAffine(fromFile: m)
                for a in 0..<3 { #expect(ca[a, a] > 0, "canonical axis \(a) must point along +world \(a)") }
                // Canonical voxel c and its file voxel have the same world position and value.
                let cs = o.canonicalShape
                let c = SIMD3(Double(cs.x - 1), 1.0, 2.0)
                let f = o.canonicalToFile.apply(c)
                #expect(simd_distance(ca.apply(c), m.apply(f)) < 1e-9)
                #expect(canon[cs.index(cs.x - 1, 1, 2)] == data[shape.index(Int(f.x), Int(f.y), Int(f.z))])
            }
        }
    }
}
