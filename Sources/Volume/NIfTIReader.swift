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
        // Scaled and reoriented in one pass from libnifti's buffer: no file-order Float copy.
        let (data, header) = try niftiLock.withLock { _ in
            try withImage(url.path, loadData: true, options: options) { nim, h in
                (try scaledData(nim, path: url.path, as: Float.self, orientation: h.orientation, channels: h.channels) { Float($0) }, h)
            }
        }
        return NIfTIImage(volume: Volume(grid: header.grid, channels: header.channels, data: data), header: header)
    }

    /// Reads one image from one file per channel (nnU-Net's CASE_0000, CASE_0001, ...): every file
    /// must hold one channel on the same grid. One file: `readImage` (which may hold several channels).
    public static func readChannels(_ urls: [URL], options: NIfTIReadOptions = .init()) throws -> NIfTIImage {
        guard urls.count > 1 else { return try readImage(urls[0], options: options) }
        let header = try readChannelHeaders(urls, options: options)
        var data = [Float]()
        data.reserveCapacity(header.grid.shape.count * urls.count)
        for url in urls { data.append(contentsOf: try readImage(url, options: options).volume.data) }
        return NIfTIImage(volume: Volume(grid: header.grid, channels: urls.count, data: data), header: header)
    }

    /// The header of `readChannels(urls)`: the first file's, with one channel per file, after checking
    /// that each file holds one channel on the first file's grid.
    public static func readChannelHeaders(_ urls: [URL], options: NIfTIReadOptions = .init()) throws -> NIfTIHeader {
        var first = try readHeader(urls[0], options: options)
        guard urls.count > 1 else { return first }
        for url in urls {
            let h = url == urls[0] ? first : try readHeader(url, options: options)
            guard h.channels == 1 else {
                throw VolumeError.channelMismatch(caseID: url.lastPathComponent, path: url.path, channels: h.channels, modalities: 1)
            }
            guard h.grid.matches(first.grid) else {
                throw VolumeError.gridMismatch(caseID: url.lastPathComponent, image: urls[0].path, label: url.path,
                                               detail: "channel files must share one grid: shape \(first.grid.shape) spacing \(first.grid.spacing) vs shape \(h.grid.shape) spacing \(h.grid.spacing)")
            }
            if url != urls[0] { first.warnings += h.warnings }
        }
        first.channels = urls.count
        return first
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
        // Our own parse of the raw header (byte order handled): libnifti's image struct silently
        // replaces bad pixdim values with 1, so the spacing checks need the values as stored.
        let raw = try probe(path)
        guard let nim = nifti_image_read(path, 0) else {
            throw VolumeError.niftiFailure(path: path, detail: "header rejected")
        }
        defer { nifti_image_free(nim) }
        let header = try NIfTIHeader(nim: nim.pointee, raw: raw, path: path)
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
        // A NIfTI-2 vox_offset is a 64-bit field: offset + data may overflow (libFuzzer found a
        // header with vox_offset near Int64.max). Overflow means the file cannot hold it.
        let data = voxels.multipliedReportingOverflow(by: max(1, bytesPerVoxel))
        let sum = max(0, offset).addingReportingOverflow(data.partialValue)
        let need = data.overflow || sum.overflow ? Int.max : sum.partialValue
        let gzip = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)).read(upToCount: 2)).map { $0 == Data([0x1F, 0x8B]) } ?? false
        let capacity = gzip ? size.multipliedReportingOverflow(by: 1032).partialValue + (1 << 16) : size
        guard need <= capacity else {
            throw VolumeError.truncated(path: path, detail: "the header promises \(voxels) voxels of \(datatype) (\(need) bytes) but the file has \(size) bytes\(gzip ? " compressed" : "")")
        }
    }

    static let supportedDatatypes = Set([DT_UINT8, DT_INT8, DT_INT16, DT_UINT16, DT_INT32, DT_UINT32,
                                         DT_INT64, DT_UINT64, DT_FLOAT32, DT_FLOAT64].map { Int32($0) })

    /// Checks the first bytes ourselves so truncation and foreign files get precise messages
    /// (libnifti would read a wrong-magic file as ANALYZE 7.5), and returns the fields we read from
    /// the raw header, byte-swapped when the file's byte order is not ours.
    static func probe(_ path: String) throws -> RawNIfTIFields {
        guard let opened = znzopen(path, "rb", 1) else { throw VolumeError.niftiFailure(path: path, detail: "cannot open") }
        var fp: znzFile? = opened
        defer { _ = Xznzclose(&fp) }
        var bytes = [UInt8](repeating: 0, count: 548)
        let n = bytes.withUnsafeMutableBytes { znzread($0.baseAddress, 1, 548, fp) }
        guard n >= 4 else { throw VolumeError.truncated(path: path, detail: "only \(n) bytes, no header") }
        return try RawNIfTIFields.parse(bytes, count: n, path: path)
    }

    /// The header and every voxel as Float64 with scl_slope/scl_inter applied, in file order
    /// (channels last, as stored): what `c2fnas inspect FILE` reports, comparable with nibabel's
    /// `img.get_fdata()` without a Float32 rounding in between.
    public static func readScaledFileOrder(_ url: URL, options: NIfTIReadOptions = .init()) throws -> (header: NIfTIHeader, values: [Double]) {
        try niftiLock.withLock { _ in
            try withImage(url.path, loadData: true, options: options) { nim, h in
                (h, try scaledData(nim, path: url.path, as: Double.self) { $0 })
            }
        }
    }

    /// Converts the loaded data to Float32 with scl_slope/scl_inter applied (file order).
    static func floatData(_ nim: UnsafeMutablePointer<nifti_image>, path: String) throws -> [Float] {
        try scaledData(nim, path: path, as: Float.self) { Float($0) }
    }

    /// Converts the loaded data to `Out` with scl_slope/scl_inter applied (file order).
    /// With `orientation`, the result is in canonical order (see `Orientation.gather`), else file order.
    static func scaledData<Out>(_ nim: UnsafeMutablePointer<nifti_image>, path: String, as: Out.Type,
                                orientation: Orientation? = nil, channels: Int = 1,
                                _ fromDouble: (Double) -> Out) throws -> [Out] {
        let p = nim.pointee
        let n = Int(p.nvox)
        let slope = p.scl_slope, inter = p.scl_inter
        let scaled = slope != 0 && slope.isFinite && inter.isFinite && !(slope == 1 && inter == 0)
        func convert<T>(_ type: T.Type, _ toDouble: (T) -> Double) -> [Out] {
            let src = UnsafeRawPointer(p.data!).assumingMemoryBound(to: T.self)
            if let orientation, !orientation.isIdentity, orientation.fileShape.count * channels == n {
                return scaled ? orientation.gather(src, channels: channels) { fromDouble(toDouble($0) * slope + inter) }
                              : orientation.gather(src, channels: channels) { fromDouble(toDouble($0)) }
            }
            return [Out](unsafeUninitializedCapacity: n) { buf, count in
                if scaled {
                    for i in 0..<n { buf[i] = fromDouble(toDouble(src[i]) * slope + inter) }
                } else {
                    for i in 0..<n { buf[i] = fromDouble(toDouble(src[i])) }
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
