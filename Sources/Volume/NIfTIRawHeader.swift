/// The header fields c2fnas reads from the file's bytes itself instead of from libnifti's image
/// struct: the first check of a file (size, magic, dimensions) happens before libnifti sees it, and
/// libnifti silently replaces non-positive pixdim values with 1. Every multi-byte field goes through
/// `load`, which swaps when the file was written in the other byte order (sizeof_hdr tells which).
struct RawNIfTIFields: Sendable, Equatable {
    var version: Int
    /// The file's byte order is not the host's (a big-endian file on x86 / ARM).
    var swapped: Bool
    /// dim[0...7] as stored.
    var dims: [Int]
    /// pixdim[0...7] as stored (pixdim[0] is qfac).
    var pixdim: [Double]
    var datatype: Int
    var qformCode: Int
    var sformCode: Int

    /// Byte offsets of the fields (NIfTI-1 `nifti1.h`, NIfTI-2 `nifti2.h`).
    private struct Layout {
        var size: Int, magic: Int, dim: Int, dimWidth: Int, pixdim: Int, pixdimWidth: Int
        var datatype: Int, qformCode: Int, sformCode: Int, codeWidth: Int
        static let v1 = Layout(size: 348, magic: 344, dim: 40, dimWidth: 2, pixdim: 76, pixdimWidth: 4,
                               datatype: 70, qformCode: 252, sformCode: 254, codeWidth: 2)
        static let v2 = Layout(size: 540, magic: 4, dim: 16, dimWidth: 8, pixdim: 104, pixdimWidth: 8,
                               datatype: 12, qformCode: 344, sformCode: 348, codeWidth: 4)
    }

    /// Parses the first `count` bytes of a file (at least 540 are needed for NIfTI-2, 348 for NIfTI-1).
    static func parse(_ bytes: [UInt8], count n: Int, path: String) throws -> RawNIfTIFields {
        guard n >= 4, bytes.count >= n else { throw VolumeError.truncated(path: path, detail: "only \(n) bytes, no header") }
        let size = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: Int32.self) }
        let version: Int
        switch size {
        case 348, Int32(348).byteSwapped: version = 1
        case 540, Int32(540).byteSwapped: version = 2
        default: throw VolumeError.badMagic(path: path, found: "sizeof_hdr = \(size), expected 348 or 540")
        }
        let layout = version == 1 ? Layout.v1 : Layout.v2
        guard n >= layout.size else { throw VolumeError.truncated(path: path, detail: "header has \(n) of \(layout.size) bytes") }
        let magic = Array(bytes[layout.magic..<(layout.magic + 4)])
        let ok: [[UInt8]] = version == 1 ? [Array("n+1\0".utf8), Array("ni1\0".utf8)] : [Array("n+2\0".utf8), Array("ni2\0".utf8)]
        guard ok.contains(magic) else {
            let shown = magic.map { (32...126).contains($0) ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }.joined()
            throw VolumeError.badMagic(path: path, found: "\"\(shown)\"")
        }
        let swapped = size != 348 && size != 540

        /// The `width` bytes at `offset` as an unsigned little-endian integer after undoing the file's order.
        func load(_ offset: Int, _ width: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<width { v |= UInt64(bytes[offset + (swapped ? width - 1 - i : i)]) << (8 * UInt64(i)) }
            return v
        }
        func int(_ offset: Int, _ width: Int) -> Int {
            let v = load(offset, width)
            switch width {
            case 2: return Int(Int16(truncatingIfNeeded: v))
            case 4: return Int(Int32(truncatingIfNeeded: v))
            default: return Int(Int64(bitPattern: v))
            }
        }
        func real(_ offset: Int, _ width: Int) -> Double {
            width == 4 ? Double(Float(bitPattern: UInt32(truncatingIfNeeded: load(offset, 4)))) : Double(bitPattern: load(offset, 8))
        }
        let dims = (0...7).map { int(layout.dim + layout.dimWidth * $0, layout.dimWidth) }
        // dim[0] must be 1...7 and the used sides ≥ 1 before libnifti sees the header: it trusts
        // dim[0] as a loop bound (the fuzzer crashed it with a NIfTI-2 dim[0] of 2^42).
        guard (1...7).contains(dims[0]), dims[1...dims[0]].allSatisfy({ $0 >= 1 }) else {
            throw VolumeError.badDimensions(path: path, dims: dims[0] >= 0 && dims[0] <= 7 ? Array(dims[0...dims[0]]) : [dims[0]])
        }
        return RawNIfTIFields(
            version: version, swapped: swapped, dims: dims,
            pixdim: (0...7).map { real(layout.pixdim + layout.pixdimWidth * $0, layout.pixdimWidth) },
            datatype: int(layout.datatype, 2),
            qformCode: int(layout.qformCode, layout.codeWidth),
            sformCode: int(layout.sformCode, layout.codeWidth))
    }
}
