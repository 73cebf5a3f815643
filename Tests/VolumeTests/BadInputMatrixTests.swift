import Foundation
import Testing
import CNIfTI
@testable import Volume

/// The rows of the bad-input matrix (issue 8) not covered by NIfTIErrorTests / DatasetTests.
/// Bad files are made from valid fixtures by editing header fields, so each test says exactly
/// what is wrong with its file.
@Suite("Bad-input matrix")
struct BadInputMatrixTests {
    @Test("unsupported datatypes (RGB, RGBA, complex) are refused by name", arguments: [
        (Int16(DT_RGB24), Int16(24), "RGB24"), (Int16(DT_RGBA32), Int16(32), "RGBA32"), (Int16(DT_COMPLEX128), Int16(128), "COMPLEX128"),
    ])
    func unsupportedDatatype(code: Int16, bitpix: Int16, name: String) throws {
        let dir = try makeTempDir("dtype"); defer { try? FileManager.default.removeItem(at: dir) }
        var bytes = try NIfTIBytes.read(Fixtures.url("uint8.nii"))
        bytes.setInt16(code, at: NIfTIBytes.datatype)
        bytes.setInt16(bitpix, at: NIfTIBytes.bitpix)
        for gz in [false, true] {
            let url = dir.appendingPathComponent(gz ? "rgb.nii.gz" : "rgb.nii")
            try NIfTIBytes.write(bytes, to: url, gzip: gz)
            expectVolumeError([url.path, name, "not supported", "float32"]) { _ = try NIfTI.readImage(url) }
        }
    }

    @Test("a header promising more voxels than the file holds is refused before allocating")
    func headerLargerThanFile() throws {
        let dir = try makeTempDir("claims"); defer { try? FileManager.default.removeItem(at: dir) }
        var bytes = try NIfTIBytes.read(Fixtures.url("uint8.nii"))
        // 500³ uint8 voxels = 125 MB, under the voxel limit: only the file size gives it away.
        for axis in 1...3 { bytes.setInt16(500, at: NIfTIBytes.dim + 2 * axis) }
        let plain = dir.appendingPathComponent("claims.nii"), gz = dir.appendingPathComponent("claims.nii.gz")
        try NIfTIBytes.write(bytes, to: plain, gzip: false)
        try NIfTIBytes.write(bytes, to: gz, gzip: true)
        expectVolumeError([plain.path, "promises 125000000 voxels", "388 bytes", "truncated"]) { _ = try NIfTI.readImage(plain) }
        expectVolumeError([gz.path, "promises 125000000 voxels", "compressed"]) { _ = try NIfTI.readImage(gz) }
        // The header alone is fine to read: it is the data that is missing.
        #expect(try NIfTI.readHeader(plain).fileShape == Shape3(500, 500, 500))
    }

    @Test("non-finite intensities (a scale factor that overflows float32) name the file and the count")
    func nonFinite() throws {
        let dir = try makeSmallTask("nan"); defer { try? FileManager.default.removeItem(at: dir) }
        let ds = try MSDDataset.load(dir)
        // libnifti zeroes NaN/inf stored in float voxels when loading; scaling can still overflow.
        func overflow(_ url: URL) throws -> Int {
            let values = try NIfTI.readImage(url).volume.data
            var bytes = try NIfTIBytes.read(url)
            bytes.setFloat(1e38, at: NIfTIBytes.sclSlope)
            bytes.setFloat(0, at: NIfTIBytes.sclSlope + 4)
            try NIfTIBytes.write(bytes, to: url, gzip: true)
            return values.filter { !Float(Double($0) * Double(Float(1e38))).isFinite }.count
        }
        let c = ds.training[1], image = try NIfTI.readImage(c.image)
        let bad = try overflow(c.image)
        #expect(bad > 0)
        expectVolumeError([c.image.path, "\(bad) of \(image.volume.data.count) voxel values are NaN or infinite", "scl_slope", "nan_to_num"]) {
            _ = try ds.loadCase(c)
        }
        expectVolumeError([c.image.path, "NaN or infinite"]) { _ = try Fingerprint.compute(dataset: ds) }
        let test = ds.test[0]
        #expect(try overflow(test.image) > 0)
        expectVolumeError([test.image.path, "NaN or infinite"]) { _ = try ds.loadTestImage(test) }
    }

    @Test("all-background labels: one such case is accepted, a dataset with no foreground at all is refused")
    func allBackground() throws {
        let dir = try makeSmallTask("bg", tests: 0); defer { try? FileManager.default.removeItem(at: dir) }
        let ds = try MSDDataset.load(dir)
        func blank(_ c: MSDCase) throws {
            let (labels, header) = try NIfTI.readLabels(c.label)
            try NIfTI.write(LabelVolume(grid: labels.grid, repeating: 0), like: header, to: c.label)
        }
        try blank(ds.training[0])
        let f = try Fingerprint.compute(dataset: ds)
        #expect(f.cases[0].classVoxels.dropFirst().allSatisfy { $0 == 0 })
        #expect(f.cases[1].classVoxels.dropFirst().contains { $0 > 0 })
        for c in ds.training.dropFirst() { try blank(c) }
        expectVolumeError([dir.standardizedFileURL.path + "/dataset.json", "all 3 training label maps are background only", "labelsTr/"]) {
            _ = try Fingerprint.compute(dataset: ds)
        }
    }

    @Test("a 4D image with more channels than the modality map lists")
    func fourDChannels() throws {
        let dir = try makeSmallTask("4d", tests: 0); defer { try? FileManager.default.removeItem(at: dir) }
        let ds = try MSDDataset.load(dir)
        let c = ds.training[2]
        let image = try NIfTI.readImage(c.image)
        let two = Volume(grid: image.volume.grid, channels: 2, data: image.volume.data + image.volume.data)
        try NIfTI.write(two, like: image.header, to: c.image)
        #expect(try NIfTI.readHeader(c.image).channels == 2)
        expectVolumeError(["case \(c.id)", c.image.path, "2 channel(s)", "\"modality\" lists 1"]) { try ds.checkCase(c) }
        expectVolumeError(["case \(c.id)", "2 channel(s)"]) { _ = try ds.loadCase(c) }
        expectVolumeError(["case \(c.id)", "2 channel(s)"]) { try ds.validate() }
    }

    @Test("a grid mismatch in spacing only (same shape) is caught")
    func spacingMismatch() throws {
        let dir = try makeSmallTask("spacing", tests: 0); defer { try? FileManager.default.removeItem(at: dir) }
        let ds = try MSDDataset.load(dir)
        let c = ds.training[0]
        // Same voxels, pixdim[3] doubled: the label no longer lies on the image grid.
        let gz = try NIfTIBytes.read(c.label)
        var bytes = gz
        bytes.setFloat(bytes.float(at: NIfTIBytes.pixdim + 12) * 2, at: NIfTIBytes.pixdim + 12)
        bytes.setInt16(0, at: NIfTIBytes.sformCode); bytes.setInt16(0, at: NIfTIBytes.qformCode)
        try NIfTIBytes.write(bytes, to: c.label, gzip: true)
        expectVolumeError(["case \(c.id)", "different grids", "Resample the label"]) { try ds.checkCase(c) }
    }
}

/// Raw NIfTI-1 bytes of a file (gzip or not) with typed access to header fields by offset.
struct NIfTIBytes {
    static let dim = 40, datatype = 70, bitpix = 72, pixdim = 76, voxOffset = 108, sclSlope = 112
    static let qformCode = 252, sformCode = 254, magic = 344

    var bytes: [UInt8]

    /// Reads a .nii or .nii.gz file through znzlib (which inflates gzip transparently).
    static func read(_ url: URL) throws -> NIfTIBytes {
        guard let opened = znzopen(url.path, "rb", 1) else { throw CocoaError(.fileReadNoSuchFile) }
        var fp: znzFile? = opened
        defer { _ = Xznzclose(&fp) }
        var out = [UInt8](), chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { znzread($0.baseAddress, 1, 65536, fp) }
            if n <= 0 { break }
            out += chunk[0..<n]
        }
        return NIfTIBytes(bytes: out)
    }

    /// Writes the bytes, deflated with gzip when asked (znzlib, like libnifti's own writer).
    static func write(_ b: NIfTIBytes, to url: URL, gzip: Bool) throws {
        try? FileManager.default.removeItem(at: url)
        guard let opened = znzopen(url.path, "wb", gzip ? 1 : 0) else { throw CocoaError(.fileWriteUnknown) }
        var fp: znzFile? = opened
        let n = b.bytes.withUnsafeBytes { znzwrite($0.baseAddress, 1, $0.count, fp) }
        _ = Xznzclose(&fp)
        guard n == b.bytes.count else { throw CocoaError(.fileWriteUnknown) }
    }

    mutating func setInt16(_ v: Int16, at o: Int) { withUnsafeBytes(of: v.littleEndian) { bytes.replaceSubrange(o..<(o + 2), with: $0) } }
    mutating func setInt32(_ v: Int32, at o: Int) { withUnsafeBytes(of: v.littleEndian) { bytes.replaceSubrange(o..<(o + 4), with: $0) } }
    mutating func setFloat(_ v: Float, at o: Int) { setInt32(Int32(bitPattern: v.bitPattern), at: o) }
    func float(at o: Int) -> Float { Float(bitPattern: UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24) }
}
