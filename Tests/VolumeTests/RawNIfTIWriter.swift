import Foundation
@testable import Volume

/// Writes NIfTI-1/-2 files byte by byte, in either byte order, independently of libnifti and of
/// the project's writer: the reader's byte-order handling is tested against files whose every
/// field the test chose. Expected geometry comes from nibabel (see the tests that use this).
struct RawNIfTIFile {
    enum Order { case little, big }
    enum Values {
        case int16([Int16])
        case float32([Float])
        var datatype: Int16 { switch self { case .int16: 4; case .float32: 16 } }
        var bitpix: Int16 { switch self { case .int16: 16; case .float32: 32 } }
    }
    var version = 1
    var order = Order.little
    var shape: [Int]                 // dim[1...]
    var pixdim: [Double]             // pixdim[0...3] (pixdim[0] = qfac)
    var values: Values
    var sclSlope = 0.0, sclInter = 0.0
    var xyztUnits: UInt8 = 2         // mm
    var qformCode: Int = 0, sformCode: Int = 0
    var quatern: [Double] = [0, 0, 0]     // b, c, d
    var qoffset: [Double] = [0, 0, 0]
    var srow: [[Double]] = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]

    func bytes() -> [UInt8] {
        let v1 = version == 1
        let headerSize = v1 ? 348 : 540, dataOffset = v1 ? 352 : 544
        var b = [UInt8](repeating: 0, count: dataOffset)
        func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            let v = order == .big ? value.bigEndian : value.littleEndian
            withUnsafeBytes(of: v) { for (i, x) in $0.enumerated() { b[offset + i] = x } }
        }
        func putReal(_ value: Double, at offset: Int) {
            if v1 { put(Float(value).bitPattern, at: offset) } else { put(value.bitPattern, at: offset) }
        }
        func putInt(_ value: Int, at offset: Int) { if v1 { put(Int16(value), at: offset) } else { put(Int64(value), at: offset) } }
        put(Int32(headerSize), at: 0)
        var dims = [shape.count] + shape
        while dims.count < 8 { dims.append(1) }
        var pd = pixdim
        while pd.count < 8 { pd.append(0) }
        if v1 {
            for (i, d) in dims.enumerated() { putInt(d, at: 40 + 2 * i) }
            put(values.datatype, at: 70); put(values.bitpix, at: 72)
            for (i, p) in pd.enumerated() { putReal(p, at: 76 + 4 * i) }
            putReal(Double(dataOffset), at: 108); putReal(sclSlope, at: 112); putReal(sclInter, at: 116)
            b[123] = xyztUnits
            put(Int16(qformCode), at: 252); put(Int16(sformCode), at: 254)
            for i in 0..<3 { putReal(quatern[i], at: 256 + 4 * i); putReal(qoffset[i], at: 268 + 4 * i) }
            for r in 0..<3 { for c in 0..<4 { putReal(srow[r][c], at: 280 + 16 * r + 4 * c) } }
            for (i, x) in "n+1\0".utf8.enumerated() { b[344 + i] = x }
        } else {
            for (i, x) in [0x6E, 0x2B, 0x32, 0, 0x0D, 0x0A, 0x1A, 0x0A].enumerated() { b[4 + i] = UInt8(x) }
            put(values.datatype, at: 12); put(values.bitpix, at: 14)
            for (i, d) in dims.enumerated() { putInt(d, at: 16 + 8 * i) }
            for (i, p) in pd.enumerated() { putReal(p, at: 104 + 8 * i) }
            put(Int64(dataOffset), at: 168); putReal(sclSlope, at: 176); putReal(sclInter, at: 184)
            put(Int32(qformCode), at: 344); put(Int32(sformCode), at: 348)
            for i in 0..<3 { putReal(quatern[i], at: 352 + 8 * i); putReal(qoffset[i], at: 376 + 8 * i) }
            for r in 0..<3 { for c in 0..<4 { putReal(srow[r][c], at: 400 + 32 * r + 8 * c) } }
            put(Int32(xyztUnits), at: 500)
        }
        switch values {
        case .int16(let v): for x in v { withUnsafeBytes(of: order == .big ? x.bigEndian : x.littleEndian) { b += $0 } }
        case .float32(let v): for x in v { withUnsafeBytes(of: order == .big ? x.bitPattern.bigEndian : x.bitPattern.littleEndian) { b += $0 } }
        }
        return b
    }

    /// Writes the file into `folder`, and also into `$C2FNAS_RAW_NIFTI_DUMP` when that is set (how the
    /// nibabel expectations stored in the tests were computed: Fixtures/expected_raw.py).
    @discardableResult
    func write(_ name: String, in folder: URL) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try Data(bytes()).write(to: url)
        if let dump = ProcessInfo.processInfo.environment["C2FNAS_RAW_NIFTI_DUMP"] {
            try Data(bytes()).write(to: URL(fileURLWithPath: dump).appendingPathComponent(name))
        }
        return url
    }
}

/// x + 10 y + 100 z (file order, x fastest): every voxel value says where it is.
func rampValues(_ s: [Int]) -> [Double] {
    var out = [Double]()
    for k in 0..<s[2] { for j in 0..<s[1] { for i in 0..<s[0] { out.append(Double(i + 10 * j + 100 * k)) } } }
    return out
}
