import Foundation
import Volume

/// What `c2fnas inspect FILE.nii[.gz]` reports about one file, the equivalent of `nib-ls` / `fslhd`:
/// enough to compare c2fnas's reading with another reader's voxel by voxel.
struct NIfTIFileReport: Encodable {
    var path: String
    var version: Int
    var byte_order: String
    /// File order; a 4th entry when the file has channels (or time points).
    var shape: [Int]
    var datatype: String
    var datatype_code: Int
    /// |pixdim[1...3]| in the file's units.
    var spacing: [Double]
    var units: String
    var qform_code: Int
    var sform_code: Int
    /// "sform", "qform" or "pixdim": which fields `affine` comes from.
    var affine_source: String
    /// File voxel indices → world in the file's units, 4 rows: sform if set, else qform, else pixdim
    /// scaling. This is nibabel's `img.affine` except for pixdim-only files (method 1), where nibabel
    /// substitutes its Analyze-style base affine (x flipped, centred) and c2fnas keeps the NIfTI rule.
    var affine: [[Double]]
    /// Axis codes of the file axes (e.g. "LPS"), as nibabel's `aff2axcodes`.
    var orientation: String
    /// The canonical RAS grid c2fnas processes on (millimetres).
    var ras_shape: [Int]
    var ras_spacing: [Double]
    var ras_affine: [[Double]]
    var scl_slope: Double
    var scl_inter: Double
    var min: Double
    var max: Double
    var mean: Double
    /// Float64 sum of every scaled voxel (all channels).
    var sum: Double
    var voxels: [[Int]]
    /// Scaled values at `voxels` (file order indices).
    var values: [Double]
    var descrip: String
    var warnings: [String]

    init(url: URL, voxels: [[Int]]) throws {
        let (h, data) = try NIfTI.readScaledFileOrder(url)
        path = url.path
        version = h.version
        byte_order = h.byteSwapped ? "big-endian" : "little-endian"
        shape = h.fileShape.array + (h.channels > 1 ? [h.channels] : [])
        datatype = h.datatypeName
        datatype_code = Int(h.datatype)
        spacing = [h.pixdim.x, h.pixdim.y, h.pixdim.z]
        let unitCode = h.xyztUnits & 0x07
        let toMM: Double
        switch unitCode {
        case 1: (units, toMM) = ("m", 1000)
        case 3: (units, toMM) = ("µm", 0.001)
        case 2: (units, toMM) = ("mm", 1)
        default: (units, toMM) = ("unknown (read as mm)", 1)
        }
        qform_code = Int(h.qformCode); sform_code = Int(h.sformCode)
        affine_source = h.affineSource
        // fileAffine is in millimetres; report it in the file's own units, as stored.
        affine = (0..<4).map { r in (0..<4).map { c in r < 3 ? h.fileAffine[r, c] / toMM : h.fileAffine[r, c] } }
        let o = h.orientation
        orientation = (0..<3).map { a -> String in
            let w = o.sourceAxis.firstIndex(of: a) ?? a
            return String(Array(o.flipped[w] ? "LPI" : "RAS")[w])
        }.joined()
        ras_shape = h.grid.shape.array
        ras_spacing = [h.grid.spacing.x, h.grid.spacing.y, h.grid.spacing.z]
        ras_affine = (0..<4).map { r in (0..<4).map { c in h.grid.affine[r, c] } }
        scl_slope = h.sclSlope; scl_inter = h.sclInter
        var lo = Double.infinity, hi = -Double.infinity, total = 0.0
        for v in data { lo = Swift.min(lo, v); hi = Swift.max(hi, v); total += v }
        min = lo; max = hi; sum = total; mean = total / Double(Swift.max(1, data.count))
        self.voxels = voxels
        let s = h.fileShape
        values = try voxels.map { v in
            let c = v.count > 3 ? v[3] : 0
            guard (0..<s.x).contains(v[0]), (0..<s.y).contains(v[1]), (0..<s.z).contains(v[2]), (0..<h.channels).contains(c) else {
                throw VolumeError.invalidArgument("\(url.path): voxel \(v) is outside the file's shape \(s.array) with \(h.channels) channel(s) (indices start at 0, file order)")
            }
            return data[c * s.count + s.index(v[0], v[1], v[2])]
        }
        descrip = h.descrip
        warnings = h.warnings
    }

    /// "i,j,k;i,j,k,c" → [[i, j, k], [i, j, k, c]].
    static func parseVoxels(_ text: String) throws -> [[Int]] {
        try text.split(separator: ";").map { part in
            let v = part.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard (3...4).contains(v.count), v.allSatisfy({ $0 != nil && $0! >= 0 }) else {
                throw VolumeError.invalidArgument("--voxels: \"\(part)\" must be i,j,k or i,j,k,c with non-negative integers, voxels separated by ';'")
            }
            return v.map { $0! }
        }
    }

    func json() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        // JSON has no infinity or NaN; an empty or non-finite file still prints.
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try e.encode(self), as: UTF8.self)
    }

    var text: String {
        func f(_ x: Double) -> String { String(format: "%.6g", x) }
        func rows(_ m: [[Double]]) -> String {
            m.map { "[" + $0.map { String(format: "%10.4f", $0) }.joined(separator: " ") + " ]" }.joined(separator: "\n              ")
        }
        var lines = [
            path,
            "  format      NIfTI-\(version), \(byte_order)",
            "  shape       \(shape.map(String.init).joined(separator: " × "))  (file order)",
            "  datatype    \(datatype) (code \(datatype_code))",
            "  spacing     \(spacing.map(f).joined(separator: " × ")) \(units)",
            "  codes       qform_code \(qform_code), sform_code \(sform_code); affine from the \(affine_source)",
            "  orientation \(orientation)",
            "  affine      \(rows(affine))",
            "  RAS grid    \(ras_shape.map(String.init).joined(separator: " × ")), spacing \(ras_spacing.map(f).joined(separator: " × ")) mm",
            "  RAS affine  \(rows(ras_affine))",
            "  scaling     scl_slope \(f(scl_slope)), scl_inter \(f(scl_inter))",
            "  values      min \(f(min)), max \(f(max)), mean \(f(mean)), sum \(String(format: "%.17g", sum))",
        ]
        if !descrip.isEmpty { lines.append("  descrip     \(descrip)") }
        for (v, x) in zip(voxels, values) { lines.append("  voxel \(v.map(String.init).joined(separator: ",")) = \(String(format: "%.17g", x))") }
        return lines.joined(separator: "\n")
    }
}
