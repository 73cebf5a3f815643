import Foundation

/// Every failure of the Volume module: each names the file (or case) and says how to fix it.
public enum VolumeError: Error, Equatable, CustomStringConvertible, LocalizedError {
    case fileNotFound(path: String, role: String)
    case truncated(path: String, detail: String)
    case badMagic(path: String, found: String)
    case unsupportedDatatype(path: String, code: Int32, name: String)
    case tooLarge(path: String, dims: [Int], voxels: Int, limit: Int)
    case badDimensions(path: String, dims: [Int])
    case twoDimensional(path: String, dims: [Int])
    case badSpacing(path: String, spacing: [Double])
    case notLabels(path: String, detail: String)
    case niftiFailure(path: String, detail: String)
    case writeFailed(path: String, detail: String)
    case datasetJSONMissing(folder: String)
    case datasetJSONMalformed(path: String, detail: String)
    case pathEscapesDataset(dataset: String, entry: String)
    case gridMismatch(caseID: String, image: String, label: String, detail: String)
    case unknownLabelValues(caseID: String, path: String, values: [Int], known: [Int])
    case channelMismatch(caseID: String, path: String, channels: Int, modalities: Int)
    case nonFiniteIntensities(path: String, count: Int, total: Int)
    case noForeground(dataset: String, cases: Int)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .fileNotFound(p, role):
            return "\(p): \(role) not found. Check the path (and, for a dataset, the entry in dataset.json)."
        case let .truncated(p, d):
            return "\(p): file is truncated or corrupt (\(d)). Re-copy or re-export it; for .nii.gz check that `gzip -t` passes."
        case let .badMagic(p, f):
            return "\(p): not a NIfTI-1/NIfTI-2 file (header magic \(f)). Convert it to .nii or .nii.gz (e.g. with dcm2niix or nibabel)."
        case let .unsupportedDatatype(p, c, n):
            return "\(p): datatype \(n) (code \(c)) is not supported; use an integer or float32/float64 image (e.g. nibabel `img.set_data_dtype(np.float32)`)."
        case let .tooLarge(p, dims, v, limit):
            return "\(p): dimensions \(dims) mean \(v) voxels, above the limit of \(limit). The header is probably corrupt; otherwise crop or downsample the image first."
        case let .badDimensions(p, dims):
            return "\(p): invalid dimensions \(dims) (every side must be ≥ 1). The header is corrupt; re-export the image."
        case let .twoDimensional(p, dims):
            return "\(p): image is 2D (dims \(dims)); c2fnas segments 3D volumes. Stack the slices into one 3D NIfTI file."
        case let .badSpacing(p, s):
            return "\(p): voxel spacing \(s) must be finite and non-zero (pixdim[1...3]). Fix the header, e.g. nibabel `img.header.set_zooms(...)`."
        case let .notLabels(p, d):
            return "\(p): not a label map (\(d)). Labels must be integers 0...255 stored in an integer datatype or as whole floats."
        case let .niftiFailure(p, d):
            return "\(p): libnifti could not read the file (\(d)). Check the file with `nifti_tool -disp_hdr -infiles \(p)`."
        case let .writeFailed(p, d):
            return "\(p): writing failed (\(d)). Check that the folder exists, is writable and the disk is not full."
        case let .datasetJSONMissing(f):
            return "\(f): no dataset.json. A dataset folder needs dataset.json, imagesTr/ and labelsTr/ (Medical Segmentation Decathlon layout); `c2fnas sample OUT` writes an example."
        case let .datasetJSONMalformed(p, d):
            return "\(p): malformed dataset.json (\(d)). Compare with sample-data/Task00_Phantom/dataset.json."
        case let .pathEscapesDataset(ds, e):
            return "\(ds)/dataset.json: path \"\(e)\" leaves the dataset folder. Use paths like \"./imagesTr/case_001.nii.gz\" inside the folder."
        case let .gridMismatch(c, i, l, d):
            return "case \(c): image \(i) and label \(l) are on different grids (\(d)). Resample the label onto the image grid (nearest neighbour)."
        case let .unknownLabelValues(c, p, v, k):
            return "case \(c): \(p) contains label values \(v) that dataset.json does not list (known: \(k)). Add them to \"labels\" or fix the label map."
        case let .channelMismatch(c, p, ch, m):
            return "case \(c): \(p) has \(ch) channel(s) but dataset.json's \"modality\" lists \(m). Fix the modality map or the image."
        case let .nonFiniteIntensities(p, n, total):
            return "\(p): \(n) of \(total) voxel values are NaN or infinite after scl_slope/scl_inter scaling, which would turn every loss and statistic into NaN. Check scl_slope and scl_inter in the header, replace non-finite voxels (e.g. numpy `np.nan_to_num`) and save the image again."
        case let .noForeground(ds, n):
            return "\(ds)/dataset.json: all \(n) training label maps are background only (no voxel > 0), so there is nothing to learn. Check that labelsTr/ holds the segmentations and that \"training\" pairs each image with its own label."
        case let .invalidArgument(s):
            return s
        }
    }
    public var errorDescription: String? { description }
}
