import Foundation
import CNIfTI

/// On-disk voxel type for writing.
public enum NIfTIStorage: Sendable {
    case uint8, int16, float32
    var datatype: Int32 {
        switch self {
        case .uint8: Int32(DT_UINT8)
        case .int16: Int32(DT_INT16)
        case .float32: Int32(DT_FLOAT32)
        }
    }
}

extension NIfTI {
    /// Writes a label map (canonical grid of `header`) in the file orientation and geometry of
    /// `header`, so it overlays the source image in any viewer. Atomic: temp file + rename.
    public static func write(_ labels: LabelVolume, like header: NIfTIHeader, to url: URL) throws {
        try checkShape(labels.shape, channels: 1, header: header, url: url)
        let fileOrder = header.orientation.toFile(labels.data, channels: 1)
        try writeRaw(channels: 1, storage: .uint8, header: header, url: url) { nim in
            // Bytes straight in: no Float copy of a full-size label map.
            let d = nim.pointee.data.assumingMemoryBound(to: UInt8.self)
            fileOrder.withUnsafeBufferPointer { for i in 0..<min($0.count, Int(nim.pointee.nvox)) { d[i] = $0[i] } }
        }
    }

    /// Writes an image or class probabilities (channels become the 4th dimension).
    public static func write(_ volume: Volume, storage: NIfTIStorage = .float32, like header: NIfTIHeader, to url: URL) throws {
        try checkShape(volume.shape, channels: volume.channels, header: header, url: url)
        let fileOrder = header.orientation.toFile(volume.data, channels: volume.channels)
        try writeRaw(channels: volume.channels, storage: storage, header: header, url: url) { fill($0, with: fileOrder, storage: storage) }
    }

    private static func checkShape(_ s: Shape3, channels: Int, header: NIfTIHeader, url: URL) throws {
        guard s == header.orientation.canonicalShape, channels >= 1 else {
            throw VolumeError.invalidArgument("\(url.path): volume \(s) × \(channels) does not fit header grid \(header.orientation.canonicalShape)")
        }
    }

    private static func writeRaw(channels: Int, storage: NIfTIStorage, header: NIfTIHeader, url: URL,
                                 fillData: (UnsafeMutablePointer<nifti_image>) -> Void) throws {
        let path = url.path
        let dir = url.deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: dir.path) else {
            throw VolumeError.writeFailed(path: path, detail: "folder \(dir.path) does not exist")
        }
        let name = url.lastPathComponent
        guard name.hasSuffix(".nii") || name.hasSuffix(".nii.gz") else {
            throw VolumeError.writeFailed(path: path, detail: "file name must end in .nii or .nii.gz")
        }
        let tmp = dir.appendingPathComponent(".tmp-\(UUID().uuidString.prefix(8))-\(name)").path
        do {
            try niftiLock.withLock { _ in
                nifti_set_debug_level(0)
                let s = header.fileShape
                var dims: [Int64] = [channels > 1 ? 4 : 3, Int64(s.x), Int64(s.y), Int64(s.z), Int64(channels), 1, 1, 1]
                guard let nim = nifti_make_new_nim(&dims, storage.datatype, 1) else {
                    throw VolumeError.writeFailed(path: path, detail: "libnifti could not allocate the image")
                }
                defer { nifti_image_free(nim) }
                fillData(nim)
                apply(header, to: nim)
                if header.version == 2 {
                    try writeNIfTI2(nim, path: tmp)
                } else {
                    guard nifti_set_filenames(nim, tmp, 0, 1) == 0 else {
                        throw VolumeError.writeFailed(path: path, detail: "libnifti rejected the file name")
                    }
                    nifti_image_write(nim)   // returns nothing: verified by re-reading below
                }
                guard let back = nifti_image_read(tmp, 0) else {
                    throw VolumeError.writeFailed(path: path, detail: "written file does not read back")
                }
                let ok = back.pointee.nvox == nim.pointee.nvox && back.pointee.datatype == nim.pointee.datatype
                nifti_image_free(back)
                guard ok else { throw VolumeError.writeFailed(path: path, detail: "written header does not match") }
            }
            let fd = open(tmp, O_RDONLY)
            if fd >= 0 { fsync(fd); close(fd) }
            guard rename(tmp, path) == 0 else {
                throw VolumeError.writeFailed(path: path, detail: String(cString: strerror(errno)))
            }
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw error
        }
    }

    private static func fill(_ nim: UnsafeMutablePointer<nifti_image>, with data: [Float], storage: NIfTIStorage) {
        let n = Int(nim.pointee.nvox)
        switch storage {
        case .uint8:
            let d = nim.pointee.data.assumingMemoryBound(to: UInt8.self)
            for i in 0..<n { d[i] = UInt8(max(0, min(255, data[i].rounded()))) }
        case .int16:
            let d = nim.pointee.data.assumingMemoryBound(to: Int16.self)
            for i in 0..<n { let v = data[i].rounded(); d[i] = v.isNaN ? 0 : Int16(max(-32768, min(32767, v))) }
        case .float32:
            let d = nim.pointee.data.assumingMemoryBound(to: Float.self)
            for i in 0..<n { d[i] = data[i] }
        }
    }

    /// Copies the geometry of `h` (pixdim, units, qform parameters, sform) into `nim`.
    private static func apply(_ h: NIfTIHeader, to nim: UnsafeMutablePointer<nifti_image>) {
        nim.pointee.dx = h.pixdim.x; nim.pointee.dy = h.pixdim.y; nim.pointee.dz = h.pixdim.z
        withUnsafeMutableBytes(of: &nim.pointee.pixdim) { raw in
            let pd = raw.bindMemory(to: Double.self)
            pd[1] = h.pixdim.x; pd[2] = h.pixdim.y; pd[3] = h.pixdim.z
        }
        nim.pointee.xyz_units = h.xyztUnits & 0x07
        nim.pointee.time_units = h.xyztUnits & 0x38
        let q = h.quaternion
        nim.pointee.quatern_b = q[0]; nim.pointee.quatern_c = q[1]; nim.pointee.quatern_d = q[2]
        nim.pointee.qoffset_x = q[3]; nim.pointee.qoffset_y = q[4]; nim.pointee.qoffset_z = q[5]
        nim.pointee.qfac = q[6] < 0 ? -1 : 1
        nim.pointee.qform_code = h.qformCode
        nim.pointee.qto_xyz = nifti_quatern_to_dmat44(q[0], q[1], q[2], q[3], q[4], q[5],
                                                      h.pixdim.x, h.pixdim.y, h.pixdim.z, nim.pointee.qfac)
        nim.pointee.qto_ijk = nifti_dmat44_inverse(nim.pointee.qto_xyz)
        nim.pointee.sform_code = h.sformCode
        if h.sformCode > 0 {
            nim.pointee.sto_xyz = cnifti_mat_make(h.sform.m)
            nim.pointee.sto_ijk = nifti_dmat44_inverse(nim.pointee.sto_xyz)
        }
        nim.pointee.scl_slope = 1; nim.pointee.scl_inter = 0
        withUnsafeMutableBytes(of: &nim.pointee.descrip) { raw in
            let bytes = Array(h.descrip.utf8.prefix(79))
            for i in 0..<raw.count { raw[i] = i < bytes.count ? bytes[i] : 0 }
        }
    }

    /// libnifti 3.0.1 cannot write single-file NIfTI-2 (it treats it as a pair and overwrites the
    /// header), so the header and data are written here with znz (see notes/swift-platform.md §4).
    private static func writeNIfTI2(_ nim: UnsafeMutablePointer<nifti_image>, path: String) throws {
        nim.pointee.nifti_type = Int32(NIFTI_FTYPE_NIFTI1_1)
        nifti_set_iname_offset(nim, 2)
        nim.pointee.nifti_type = Int32(NIFTI_FTYPE_NIFTI2_1)
        var hdr = nifti_2_header()
        guard nifti_convert_nim2n2hdr(nim, &hdr) == 0 else {
            throw VolumeError.writeFailed(path: path, detail: "cannot build a NIfTI-2 header")
        }
        guard let opened = znzopen(path, "wb", nifti_is_gzfile(path)) else {
            throw VolumeError.writeFailed(path: path, detail: "cannot open for writing")
        }
        var fp: znzFile? = opened
        defer { _ = Xznzclose(&fp) }
        let bytes = Int(nim.pointee.nvox) * Int(nim.pointee.nbyper)
        var pad: UInt32 = 0
        let wrote = withUnsafeBytes(of: &hdr) { znzwrite($0.baseAddress, 1, 540, fp) }
            + withUnsafeBytes(of: &pad) { znzwrite($0.baseAddress, 1, 4, fp) }
            + znzwrite(nim.pointee.data, 1, bytes, fp)
        guard wrote == 544 + bytes else { throw VolumeError.writeFailed(path: path, detail: "short write") }
    }
}
