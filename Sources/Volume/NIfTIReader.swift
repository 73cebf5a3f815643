import Foundation
import Synchronization
import CNIfTI

/// libnifti keeps process-global options, so every call into it goes through this lock.
let niftiLock = Mutex<Void>(())

/// A volume read from disk together with the header needed to write results back.
public struct NIfTIImage: Sendable {
    public var volume: Volume
    public var header: NIfTIHeader

    /// Refuses NaN or infinite voxels: they would turn every statistic and loss into NaN.
    public func requireFinite(path: String) throws {
        let bad = volume.data.withUnsafeBufferPointer { d in d.reduce(0) { $0 + ($1.isFinite ? 0 : 1) } }
        if bad > 0 { throw VolumeError.nonFiniteIntensities(path: path, count: bad, total: volume.data.count) }
    }
}

public struct NIfTIReadOptions: Sendable {
    /// Refuse files with more voxels (all channels) than this, before allocating anything.
    public var maxVoxels: Int = 1 << 30
    public init(maxVoxels: Int = 1 << 30) { self.maxVoxels = maxVoxels }
}

/// NIfTI-1 and NIfTI-2 (.nii, .nii.gz) reading and writing through libnifti2.
public enum NIfTI {
    /// Reads only the header (cheap): shape, channels, datatype, spacing, affine, orientation.
    public static func readHeader(_ url: URL, options: NIfTIReadOptions = .init()) throws -> NIfTIHeader {
        try niftiLock.withLock { _ in try withImage(url.path, loadData: false, options: options) { _, h in h } }
    }

    /// Reads an image as Float32 (scl_slope/scl_inter applied), reoriented to canonical RAS.
    public static func readImage(_ url: URL, options: NIfTIReadOptions = .init()) throws -> NIfTIImage {
        let (raw, header) = try niftiLock.withLock { _ in
            try withImage(url.path, loadData: true, options: options) { nim, h in (try floatData(nim, path: url.path), h) }
        }
        let data = header.orientation.toCanonical(raw, channels: header.channels)
        return NIfTIImage(volume: Volume(grid: header.grid, channels: header.channels, data: data), header: header)
    }

    /// Reads a label map: every voxel must be a whole number in 0...255 (after scaling).
    public static func readLabels(_ url: URL, options: NIfTIReadOptions = .init()) throws -> (labels: LabelVolume, header: NIfTIHeader) {
        let image = try readImage(url, options: options)
        guard image.volume.channels == 1 else {
            throw VolumeError.notLabels(path: url.path, detail: "\(image.volume.channels) channels, expected 1")
        }
        var out = [UInt8](repeating: 0, count: image.volume.data.count)
        for (i, v) in image.volume.data.enumerated() {
            guard v >= 0, v <= 255, v.rounded() == v else {
                throw VolumeError.notLabels(path: url.path, detail: "value \(v) at voxel \(i)")
            }
            out[i] = UInt8(v)
        }
        return (LabelVolume(grid: image.volume.grid, data: out), image.header)
    }

    /// Opens the file with libnifti (header first), validates it, optionally loads the data, and
    /// hands both to `body`. Must be called with `niftiLock` held.
    static func withImage<R>(_ path: String, loadData: Bool, options: NIfTIReadOptions,
                             _ body: (UnsafeMutablePointer<nifti_image>, NIfTIHeader) throws -> R) throws -> R {
        nifti_set_debug_level(0)   // our errors say more than libnifti's stderr lines
        guard FileManager.default.fileExists(atPath: path) else { throw VolumeError.fileNotFound(path: path, role: "NIfTI file") }
        let version = try probe(path)
        // The raw header first: libnifti's image struct silently replaces bad pixdim values with 1.
        var nver: Int32 = 0
        guard let rawHeader = nifti_read_header(path, &nver, 0) else {
            throw VolumeError.niftiFailure(path: path, detail: "header rejected")
        }
        let rawPixdim: [Double] = nver == 2
            ? withUnsafeBytes(of: rawHeader.assumingMemoryBound(to: nifti_2_header.self).pointee.pixdim) { Array($0.bindMemory(to: Double.self)) }
            : withUnsafeBytes(of: rawHeader.assumingMemoryBound(to: nifti_1_header.self).pointee.pixdim) { $0.bindMemory(to: Float.self).map { Double($0) } }
        free(rawHeader)
        guard let nim = nifti_image_read(path, 0) else {
            throw VolumeError.niftiFailure(path: path, detail: "header rejected")
        }
        defer { nifti_image_free(nim) }
        let header = try NIfTIHeader(nim: nim.pointee, rawPixdim: rawPixdim, version: version, path: path)
        let voxels = header.fileShape.x.multipliedReportingOverflow(by: header.fileShape.y)
        let total = voxels.partialValue.multipliedReportingOverflow(by: header.fileShape.z)
        let all = total.partialValue.multipliedReportingOverflow(by: header.channels)
        if voxels.overflow || total.overflow || all.overflow || all.partialValue > options.maxVoxels {
            throw VolumeError.tooLarge(path: path, dims: header.fileShape.array + [header.channels],
                                       voxels: all.overflow ? Int.max : all.partialValue, limit: options.maxVoxels)
        }
        guard supportedDatatypes.contains(header.datatype) else {
            throw VolumeError.unsupportedDatatype(path: path, code: header.datatype, name: header.datatypeName)
        }
        if loadData {
            try checkDataFits(path: path, offset: Int(nim.pointee.iname_offset), voxels: all.partialValue,
                              bytesPerVoxel: Int(nim.pointee.nbyper), datatype: header.datatypeName)
            guard nifti_image_load(nim) == 0, nim.pointee.data != nil else {
                throw VolumeError.truncated(path: path, detail: "expected \(all.partialValue) voxels of \(header.datatypeName), could not read them all")
            }
        }
        return try body(nim, header)
    }

    /// Refuses, before anything is allocated, a header that promises more voxel data than the
    /// file can hold: exactly for .nii, and by deflate's largest ratio (1032:1) for gzip files.
    static func checkDataFits(path: String, offset: Int, voxels: Int, bytesPerVoxel: Int, datatype: String) throws {
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int else { return }
        let need = max(0, offset) + voxels * max(1, bytesPerVoxel)
        let gzip = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)).read(upToCount: 2)).map { $0 == Data([0x1F, 0x8B]) } ?? false
        let capacity = gzip ? size.multipliedReportingOverflow(by: 1032).partialValue + (1 << 16) : size
        guard need <= capacity else {
            throw VolumeError.truncated(path: path, detail: "the header promises \(voxels) voxels of \(datatype) (\(need) bytes) but the file has \(size) bytes\(gzip ? " compressed" : "")")
        }
    }

    static let supportedDatatypes = Set([DT_UINT8, DT_INT8, DT_INT16, DT_UINT16, DT_INT32, DT_UINT32,
                                         DT_INT64, DT_UINT64, DT_FLOAT32, DT_FLOAT64].map { Int32($0) })

    /// Checks the first bytes ourselves so truncation and foreign files get precise messages
    /// (libnifti would read a wrong-magic file as ANALYZE 7.5). Returns the NIfTI version.
    static func probe(_ path: String) throws -> Int {
        guard let opened = znzopen(path, "rb", 1) else { throw VolumeError.niftiFailure(path: path, detail: "cannot open") }
        var fp: znzFile? = opened
        defer { _ = Xznzclose(&fp) }
        var bytes = [UInt8](repeating: 0, count: 548)
        let n = bytes.withUnsafeMutableBytes { znzread($0.baseAddress, 1, 548, fp) }
        guard n >= 4 else { throw VolumeError.truncated(path: path, detail: "only \(n) bytes, no header") }
        let size = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: Int32.self) }
        let version: Int, need: Int, magicAt: Int
        switch size {
        case 348, Int32(348).byteSwapped: (version, need, magicAt) = (1, 348, 344)
        case 540, Int32(540).byteSwapped: (version, need, magicAt) = (2, 540, 4)
        default:
            throw VolumeError.badMagic(path: path, found: "sizeof_hdr = \(size), expected 348 or 540")
        }
        guard n >= need else { throw VolumeError.truncated(path: path, detail: "header has \(n) of \(need) bytes") }
        let magic = Array(bytes[magicAt..<(magicAt + 4)])
        let ok: [[UInt8]] = version == 1 ? [Array("n+1\0".utf8), Array("ni1\0".utf8)] : [Array("n+2\0".utf8), Array("ni2\0".utf8)]
        guard ok.contains(magic) else {
            let shown = magic.map { (32...126).contains($0) ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }.joined()
            throw VolumeError.badMagic(path: path, found: "\"\(shown)\"")
        }
        // dim[0] must be 1...7 and the used sides ≥ 1 before libnifti sees the header: it trusts
        // dim[0] as a loop bound (the fuzzer crashed it with a NIfTI-2 dim[0] of 2^42).
        let swapped = size != 348 && size != 540
        func field(_ offset: Int, _ width: Int) -> Int {
            var v: Int64 = 0
            for i in 0..<width { v |= Int64(bytes[offset + (swapped ? width - 1 - i : i)]) << (8 * Int64(i)) }
            return width == 2 ? Int(Int16(truncatingIfNeeded: v)) : Int(v)
        }
        let dims = (0...7).map { version == 1 ? field(40 + 2 * $0, 2) : field(16 + 8 * $0, 8) }
        guard (1...7).contains(dims[0]), dims[1...dims[0]].allSatisfy({ $0 >= 1 }) else {
            throw VolumeError.badDimensions(path: path, dims: dims[0] >= 0 && dims[0] <= 7 ? Array(dims[0...dims[0]]) : [dims[0]])
        }
        return version
    }

    /// Converts the loaded data to Float32 with scl_slope/scl_inter applied (file order).
    static func floatData(_ nim: UnsafeMutablePointer<nifti_image>, path: String) throws -> [Float] {
        let p = nim.pointee
        let n = Int(p.nvox)
        let slope = p.scl_slope, inter = p.scl_inter
        let scaled = slope != 0 && slope.isFinite && inter.isFinite && !(slope == 1 && inter == 0)
        func convert<T>(_ type: T.Type, _ toDouble: (T) -> Double) -> [Float] {
            let src = UnsafeRawPointer(p.data!).assumingMemoryBound(to: T.self)
            return [Float](unsafeUninitializedCapacity: n) { buf, count in
                if scaled {
                    for i in 0..<n { buf[i] = Float(toDouble(src[i]) * slope + inter) }
                } else {
                    for i in 0..<n { buf[i] = Float(toDouble(src[i])) }
                }
                count = n
            }
        }
        switch Int(p.datatype) {
        case Int(DT_UINT8): return convert(UInt8.self) { Double($0) }
        case Int(DT_INT8): return convert(Int8.self) { Double($0) }
        case Int(DT_INT16): return convert(Int16.self) { Double($0) }
        case Int(DT_UINT16): return convert(UInt16.self) { Double($0) }
        case Int(DT_INT32): return convert(Int32.self) { Double($0) }
        case Int(DT_UINT32): return convert(UInt32.self) { Double($0) }
        case Int(DT_INT64): return convert(Int64.self) { Double($0) }
        case Int(DT_UINT64): return convert(UInt64.self) { Double($0) }
        case Int(DT_FLOAT32): return convert(Float.self) { Double($0) }
        case Int(DT_FLOAT64): return convert(Double.self) { $0 }
        default:
            throw VolumeError.unsupportedDatatype(path: path, code: p.datatype, name: NIfTIHeader.datatypeName(p.datatype))
        }
    }
}
