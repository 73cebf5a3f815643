import Foundation
import CNIfTI

/// What a NIfTI file says about its geometry, kept so a prediction can be written back on the
/// source grid with the source header. Raw header values are in file order and file units; `grid`
/// is the canonical (RAS) grid in millimetres that the volume is processed on.
public struct NIfTIHeader: Sendable, Equatable, Codable {
    public var version: Int                 // 1 or 2 (as on disk)
    public var fileShape: Shape3
    public var channels: Int
    public var datatype: Int32
    /// |pixdim[1...3]|: a negative stored value is read as its magnitude (see `warnings`).
    public var pixdim: SIMD3<Double>
    public var xyztUnits: Int32
    public var qformCode: Int32
    /// quatern_b, quatern_c, quatern_d, qoffset_x, qoffset_y, qoffset_z, qfac.
    public var quaternion: [Double]
    public var sformCode: Int32
    public var sform: Affine
    public var sclSlope: Double
    public var sclInter: Double
    public var descrip: String
    /// Voxel-to-world (mm) in file order: sform if set, else qform, else pixdim scaling.
    public var fileAffine: Affine
    public var orientation: Orientation
    /// The canonical processing grid.
    public var grid: Grid
    /// The file was written in the other byte order (big-endian on this host); fields were swapped.
    public var byteSwapped = false
    /// Which header fields gave `fileAffine`: "sform", "qform" or "pixdim" (NIfTI method 1).
    public var affineSource = "sform"
    /// Things a reader should know but that do not stop the read (each names the file).
    public var warnings: [String] = []

    /// A fresh header for writing a new image: `fileAffine` (mm) defines orientation and spacing;
    /// both sform and qform are set (codes 1 = scanner anatomical).
    public init(fileShape: Shape3, fileAffine: Affine, channels: Int = 1, descrip: String = "") {
        self.version = 1; self.fileShape = fileShape; self.channels = channels
        self.datatype = Int32(DT_FLOAT32)
        var qb = 0.0, qc = 0.0, qd = 0.0, qx = 0.0, qy = 0.0, qz = 0.0, dx = 0.0, dy = 0.0, dz = 0.0, qfac = 0.0
        nifti_dmat44_to_quatern(cnifti_mat_make(fileAffine.m), &qb, &qc, &qd, &qx, &qy, &qz, &dx, &dy, &dz, &qfac)
        self.pixdim = SIMD3(dx, dy, dz)
        self.xyztUnits = Int32(NIFTI_UNITS_MM) | Int32(NIFTI_UNITS_SEC)
        self.qformCode = 1; self.quaternion = [qb, qc, qd, qx, qy, qz, qfac]
        self.sformCode = 1; self.sform = fileAffine
        self.sclSlope = 1; self.sclInter = 0
        self.descrip = descrip
        self.fileAffine = fileAffine
        self.orientation = Orientation.canonical(for: fileAffine, fileShape: fileShape)
        self.grid = Grid(shape: orientation.canonicalShape, spacing: orientation.canonicalSpacing(fromFile: pixdim),
                         affine: orientation.canonicalAffine(fromFile: fileAffine))
    }

    /// Builds the header from a libnifti image (header fields only; data untouched) and the fields
    /// parsed from the raw bytes (`raw.pixdim` as stored, byte order already undone).
    init(nim p: nifti_image, raw: RawNIfTIFields, path: String) throws {
        let dims = withUnsafeBytes(of: p.dim) { Array($0.bindMemory(to: Int64.self)) }.map { Int($0) }
        let ndim = dims[0]
        guard (1...7).contains(ndim), dims[1...ndim].allSatisfy({ $0 >= 1 }) else {
            throw VolumeError.badDimensions(path: path, dims: Array(dims[0...max(0, min(ndim, 7))]))
        }
        let used = Array(dims[1...ndim])
        if ndim < 3 || dims[1...3].contains(1) {
            throw VolumeError.twoDimensional(path: path, dims: used)
        }
        self.version = raw.version
        self.byteSwapped = raw.swapped
        self.fileShape = Shape3(dims[1], dims[2], dims[3])
        var channels = 1
        for d in ndim > 3 ? Array(dims[4...ndim]) : [] {
            let (product, overflow) = channels.multipliedReportingOverflow(by: d)
            guard !overflow else { throw VolumeError.tooLarge(path: path, dims: used, voxels: Int.max, limit: Int(Int32.max)) }
            channels = product
        }
        self.channels = channels
        self.datatype = p.datatype
        let pd = raw.pixdim
        guard [pd[1], pd[2], pd[3]].allSatisfy({ $0.isFinite && $0 != 0 }) else {
            throw VolumeError.badSpacing(path: path, spacing: [pd[1], pd[2], pd[3]])
        }
        // nibabel, ITK and MONAI read a negative pixdim as its magnitude; the direction belongs to
        // the qform (qfac, quaternion) or the sform, which keep their signs.
        let spacing = SIMD3(abs(pd[1]), abs(pd[2]), abs(pd[3]))
        if pd[1] < 0 || pd[2] < 0 || pd[3] < 0 {
            warnings.append("\(path): negative voxel spacing pixdim[1...3] = \([pd[1], pd[2], pd[3]]) read as \([spacing.x, spacing.y, spacing.z]) (as nibabel does); the orientation comes from the \(p.sform_code > 0 ? "sform" : (p.qform_code > 0 ? "qform" : "pixdim")). Fix the header with nibabel `img.header.set_zooms(...)`.")
        }
        self.pixdim = spacing
        self.xyztUnits = Int32(p.xyz_units) | Int32(p.time_units)
        self.qformCode = p.qform_code
        self.quaternion = [p.quatern_b, p.quatern_c, p.quatern_d, p.qoffset_x, p.qoffset_y, p.qoffset_z, p.qfac]
        self.sformCode = p.sform_code
        var m = [Double](repeating: 0, count: 16)
        cnifti_mat_get(p.sto_xyz, &m)
        self.sform = Affine(rowMajor: m)
        self.sclSlope = p.scl_slope; self.sclInter = p.scl_inter
        self.descrip = withUnsafeBytes(of: p.descrip) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        let affine: Affine
        if p.sform_code > 0 {
            affine = sform; affineSource = "sform"
        } else if p.qform_code > 0 {
            // Built here from |pixdim|: libnifti's qto_xyz uses 1 for a non-positive pixdim.
            let q = nifti_quatern_to_dmat44(p.quatern_b, p.quatern_c, p.quatern_d, p.qoffset_x, p.qoffset_y, p.qoffset_z,
                                            spacing.x, spacing.y, spacing.z, p.qfac)
            cnifti_mat_get(q, &m); affine = Affine(rowMajor: m); affineSource = "qform"
        } else {
            affine = .scaling(spacing); affineSource = "pixdim"
        }
        guard affine.m.allSatisfy({ $0.isFinite }), affine.columnNorms.min() > 0 else {
            throw VolumeError.badSpacing(path: path, spacing: Array([affine.columnNorms.x, affine.columnNorms.y, affine.columnNorms.z]))
        }
        // Millimetres for processing; metre and micron headers are rescaled (the raw fields stay as stored).
        let unit: Double = p.xyz_units == NIFTI_UNITS_METER ? 1000 : (p.xyz_units == NIFTI_UNITS_MICRON ? 0.001 : 1)
        var mmAffine = affine
        for r in 0..<3 { for c in 0..<4 { mmAffine[r, c] *= unit } }
        // Again in millimetres: a metre header near Double's range overflows here (found by libFuzzer).
        let mmNorms = mmAffine.columnNorms
        guard mmAffine.m.allSatisfy({ $0.isFinite }), [mmNorms.x, mmNorms.y, mmNorms.z].allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw VolumeError.badSpacing(path: path, spacing: [mmNorms.x, mmNorms.y, mmNorms.z])
        }
        self.fileAffine = mmAffine
        self.orientation = Orientation.canonical(for: mmAffine, fileShape: fileShape)
        self.grid = Grid(shape: orientation.canonicalShape,
                         spacing: orientation.canonicalSpacing(fromFile: spacing * unit),
                         affine: orientation.canonicalAffine(fromFile: mmAffine))
    }

    public var datatypeName: String { NIfTIHeader.datatypeName(datatype) }
    static func datatypeName(_ code: Int32) -> String {
        guard let s = nifti_datatype_string(code) else { return "unknown" }
        return String(cString: s)
    }
}
