/// Stable identifiers and documented examples of every `VolumeError`, rendered into
/// docs/TROUBLESHOOTING.md by the Engine's `ErrorCatalogue`. `kind` is an exhaustive switch and
/// `example(_:)` switches over every kind, so a new error case cannot compile without an entry.
extension VolumeError {
    public enum Kind: String, CaseIterable, Sendable {
        case fileNotFound = "file-not-found", truncated, badMagic = "bad-magic"
        case unsupportedDatatype = "unsupported-datatype", tooLarge = "too-large", badDimensions = "bad-dimensions"
        case twoDimensional = "two-dimensional", badSpacing = "bad-spacing", notLabels = "not-labels"
        case niftiFailure = "nifti-failure", writeFailed = "write-failed"
        case datasetJSONMissing = "dataset-json-missing", datasetJSONMalformed = "dataset-json-malformed"
        case pathEscapesDataset = "path-escapes-dataset", gridMismatch = "grid-mismatch"
        case unknownLabelValues = "unknown-label-values", channelMismatch = "channel-mismatch"
        case nonFiniteIntensities = "non-finite-intensities", noForeground = "no-foreground"
        case invalidArgument = "invalid-argument"
    }

    public var kind: Kind {
        switch self {
        case .fileNotFound: .fileNotFound
        case .truncated: .truncated
        case .badMagic: .badMagic
        case .unsupportedDatatype: .unsupportedDatatype
        case .tooLarge: .tooLarge
        case .badDimensions: .badDimensions
        case .twoDimensional: .twoDimensional
        case .badSpacing: .badSpacing
        case .notLabels: .notLabels
        case .niftiFailure: .niftiFailure
        case .writeFailed: .writeFailed
        case .datasetJSONMissing: .datasetJSONMissing
        case .datasetJSONMalformed: .datasetJSONMalformed
        case .pathEscapesDataset: .pathEscapesDataset
        case .gridMismatch: .gridMismatch
        case .unknownLabelValues: .unknownLabelValues
        case .channelMismatch: .channelMismatch
        case .nonFiniteIntensities: .nonFiniteIntensities
        case .noForeground: .noForeground
        case .invalidArgument: .invalidArgument
        }
    }

    /// A representative error of `kind` and the usual cause, for the troubleshooting guide.
    public static func example(_ kind: Kind) -> (error: VolumeError, cause: String) {
        let ds = "/data/Task09_Spleen", img = ds + "/imagesTr/spleen_2.nii.gz", lab = ds + "/labelsTr/spleen_2.nii.gz"
        switch kind {
        case .fileNotFound:
            return (.fileNotFound(path: img, role: "image of case spleen_2"),
                    "dataset.json lists a file that is not there (renamed, not copied, or a typo).")
        case .truncated:
            return (.truncated(path: img, detail: "expected 262144 voxels of INT16, could not read them all"),
                    "an interrupted copy or download; the header promises more voxel data than the file holds.")
        case .badMagic:
            return (.badMagic(path: img, found: "\"DICM\""),
                    "the file is not NIfTI (DICOM, NRRD, MHA, a text file) even if its name ends in .nii.")
        case .unsupportedDatatype:
            return (.unsupportedDatatype(path: img, code: 128, name: "RGB24"),
                    "complex, RGB/RGBA or other non-scalar voxel types; c2fnas reads integer and float images.")
        case .tooLarge:
            return (.tooLarge(path: img, dims: [30000, 30000, 30000, 1], voxels: 27_000_000_000_000, limit: 1 << 30),
                    "a corrupt header claims absurd dimensions; refused before any memory is allocated.")
        case .badDimensions:
            return (.badDimensions(path: img, dims: [3, 512, 0, 90]),
                    "a header with a zero or negative size or an impossible number of dimensions.")
        case .twoDimensional:
            return (.twoDimensional(path: img, dims: [512, 512]),
                    "a single slice, or a 2D export of a volume.")
        case .badSpacing:
            return (.badSpacing(path: img, spacing: [0.79, 0.79, 0]),
                    "pixdim[1...3] (or the sform/qform columns) are zero, negative or NaN; common after hand-made conversions.")
        case .notLabels:
            return (.notLabels(path: lab, detail: "value 0.5 at voxel 1234"),
                    "the label file holds probabilities, an interpolated (resampled with a linear filter) mask or several channels.")
        case .niftiFailure:
            return (.niftiFailure(path: img, detail: "header rejected"),
                    "libnifti refused the header (inconsistent fields) after the basic checks passed.")
        case .writeFailed:
            return (.writeFailed(path: ds + "/predictions/spleen_2.nii.gz", detail: "No space left on device"),
                    "the output folder is missing, not writable or the disk is full.")
        case .datasetJSONMissing:
            return (.datasetJSONMissing(folder: ds),
                    "the folder given is not a dataset folder (often one level too high or too low).")
        case .datasetJSONMalformed:
            return (.datasetJSONMalformed(path: ds + "/dataset.json", detail: "missing \"labels\" object, e.g. {\"0\": \"background\", \"1\": \"organ\"}"),
                    "invalid JSON (a trailing comma, a missing quote) or a missing or mistyped field.")
        case .pathEscapesDataset:
            return (.pathEscapesDataset(dataset: ds, entry: "../Task03_Liver/imagesTr/liver_0.nii.gz"),
                    "absolute paths, `~` or `..` in dataset.json entries; every file must live inside the dataset folder.")
        case .gridMismatch:
            return (.gridMismatch(caseID: "spleen_2", image: img, label: lab, detail: "shape (512, 512, 90) vs (512, 512, 89)"),
                    "the label was cropped, resampled or exported from another series than the image.")
        case .unknownLabelValues:
            return (.unknownLabelValues(caseID: "spleen_2", path: lab, values: [2], known: [0, 1]),
                    "a label map uses a value that dataset.json's \"labels\" does not declare.")
        case .channelMismatch:
            return (.channelMismatch(caseID: "spleen_2", path: img, channels: 2, modalities: 1),
                    "a 4D image whose channel count differs from dataset.json's \"modality\" map (or a 3D image where several modalities are declared).")
        case .nonFiniteIntensities:
            return (.nonFiniteIntensities(path: img, count: 1520, total: 23_592_960),
                    "a scl_slope/scl_inter pair that overflows float32 (e.g. slope 1e38). NaN or infinite values stored in float voxels are set to 0 by libnifti when it loads them.")
        case .noForeground:
            return (.noForeground(dataset: ds, cases: 41),
                    "every training label map is empty (images copied into labelsTr/, or empty masks exported).")
        case .invalidArgument:
            return (.invalidArgument("\(ds)/dataset.json lists 1 training case(s); a search needs at least 2 (one to train, one to validate)"),
                    "an argument outside what the operation accepts; the message says which and why.")
        }
    }
}
