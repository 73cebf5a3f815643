import Testing
import Foundation
import CNIfTI

/// Proves the libnifti2 binding by itself: a volume written through the C library reads back
/// with the same dims, datatype, pixdim, sform and voxels.
@Suite("libnifti binding")
struct NIfTIBindingTests {
    @Test("write a float32 volume with libnifti and read it back", arguments: ["nii", "nii.gz"])
    func roundTrip(ext: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nifti-bind-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("vol.\(ext)").path

        let (nx, ny, nz) = (5, 4, 3)
        var dims: [Int64] = [3, Int64(nx), Int64(ny), Int64(nz), 1, 1, 1, 1]
        let nim = try #require(nifti_make_new_nim(&dims, Int32(DT_FLOAT32), 1))
        let data = nim.pointee.data.assumingMemoryBound(to: Float.self)
        for i in 0..<(nx * ny * nz) { data[i] = Float(i) * 0.5 - 3 }
        // An oblique-free affine with anisotropic spacing and an LPS-like flip.
        let affine: [Double] = [-0.8, 0, 0, 10,
                                0, -0.7, 0, 20,
                                0, 0, 2.5, -30,
                                0, 0, 0, 1]
        cnifti_set_affine(nim, affine, 2, 1)
        #expect(nifti_set_filenames(nim, path, 0, 1) == 0)
        nifti_image_write(nim)
        nifti_image_free(nim)

        let back = try #require(nifti_image_read(path, 1))
        defer { nifti_image_free(back) }
        let p = back.pointee
        #expect((p.nx, p.ny, p.nz) == (Int64(nx), Int64(ny), Int64(nz)))
        #expect(p.datatype == Int32(DT_FLOAT32))
        #expect(abs(p.dx - 0.8) < 1e-6 && abs(p.dy - 0.7) < 1e-6 && abs(p.dz - 2.5) < 1e-6)
        #expect(p.sform_code == 2)
        var m = [Double](repeating: 0, count: 16)
        cnifti_mat_get(p.sto_xyz, &m)
        for i in 0..<16 { #expect(abs(m[i] - affine[i]) < 1e-6, "sform[\(i)]") }
        let v = p.data.assumingMemoryBound(to: Float.self)
        for i in 0..<(nx * ny * nz) { #expect(v[i] == Float(i) * 0.5 - 3) }
    }
}
