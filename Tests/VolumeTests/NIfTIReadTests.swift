import Foundation
import Testing
@testable import Volume

@Suite("NIfTI reading against nibabel")
struct NIfTIReadTests {
    static let files = ["int16_scaled.nii.gz", "uint8.nii", "float32_qform.nii.gz", "nifti2_int32.nii.gz",
                        "two_channel.nii.gz", "lps_int16.nii.gz", "permuted_uint16.nii.gz", "float64_pixdim.nii",
                        "labels_uint8.nii.gz"]

    @Test("shape, spacing, affine, canonical RAS affine and voxel values match nibabel", arguments: files)
    func matchesNibabel(name: String) throws {
        let e = try #require(Fixtures.expected[name])
        let img = try NIfTI.readImage(Fixtures.url(name))
        let h = img.header
        #expect(h.fileShape.array == e.shape)
        #expect(h.channels == e.channels)
        #expect(img.volume.channels == e.channels)
        for a in 0..<3 { #expect(abs(h.pixdim[a] - e.zooms[a]) < 1e-6, "zoom \(a)") }
        for i in 0..<16 { #expect(abs(h.fileAffine.m[i] - e.affine[i]) < 1e-5, "file affine[\(i)]") }
        // Canonical grid: nibabel's as_closest_canonical is the reference.
        #expect(img.volume.shape.array == e.canonical_shape)
        for i in 0..<16 { #expect(abs(img.volume.affine.m[i] - e.canonical_affine[i]) < 1e-5, "canonical affine[\(i)]") }
        for a in 0..<3 { #expect(abs(img.volume.spacing[a] - e.canonical_zooms[a]) < 1e-6, "canonical spacing \(a)") }
        for p in e.picks {
            let v = img.volume[Int(p[0]), Int(p[1]), Int(p[2]), Int(p[3])]
            #expect(abs(Double(v) - p[4]) < 1e-5 * max(1, abs(p[4])), "voxel \(p)")
        }
        let sum = img.volume.data.reduce(0.0) { $0 + Double($1) }
        #expect(abs(sum - e.sum) < 1e-4 * max(1, abs(e.sum)))
    }

    @Test("scl_slope and scl_inter are applied to int16 data")
    func scaling() throws {
        let img = try NIfTI.readImage(Fixtures.url("int16_scaled.nii.gz"))
        #expect(img.header.sclSlope == 0.5 && img.header.sclInter == -10)
        // raw = i + 10j + 100k - 50; value = raw * 0.5 - 10 (RAS file, so canonical = file order).
        #expect(img.volume[3, 2, 1, 0] == Float((3 + 20 + 100 - 50)) * 0.5 - 10)
    }

    @Test("NIfTI-2 is recognised as version 2; NIfTI-1 as version 1")
    func versions() throws {
        #expect(try NIfTI.readHeader(Fixtures.url("nifti2_int32.nii.gz")).version == 2)
        #expect(try NIfTI.readHeader(Fixtures.url("uint8.nii")).version == 1)
    }

    @Test("LPS file: canonical voxel (i, j, k) is file voxel (nx-1-i, ny-1-j, k)")
    func lpsReorientation() throws {
        let img = try NIfTI.readImage(Fixtures.url("lps_int16.nii.gz"))
        let o = img.header.orientation
        #expect(o.sourceAxis == [0, 1, 2] && o.flipped == [true, true, false])
        for k in 0..<3 { for j in 0..<4 { for i in 0..<5 {
            #expect(img.volume[i, j, k, 0] == Float((4 - i) + 10 * (3 - j) + 100 * k))
        } } }
        // The world position of a voxel is unchanged by reorientation.
        let world = img.volume.affine.apply(SIMD3(1, 2, 1))
        let fromFile = img.header.fileAffine.apply(SIMD3(3, 1, 1))
        #expect(simd_distance(world, fromFile) < 1e-9)
    }

    @Test("label maps read as UInt8 with class counts")
    func labels() throws {
        let (lab, _) = try NIfTI.readLabels(Fixtures.url("labels_uint8.nii.gz"))
        #expect(lab.classCounts() == [6 * 5 * 4 - 12 - 1, 12, 0, 1])
        #expect(lab[4, 3, 2] == 3)
    }
}

func simd_distance(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> Double {
    let d = a - b
    return (d * d).sum().squareRoot()
}
