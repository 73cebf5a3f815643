import Foundation
import Pictures
import Volume

/// Why a figure cannot be made; each message names the file and the fix.
public enum FigureError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(image: String, other: String, imageShape: String, otherShape: String)
    case sliceOutOfRange(index: Int, count: Int, axis: String)
    case badAxis(String)

    public var description: String {
        switch self {
        case let .shapeMismatch(image, other, a, b):
            return "\(other) is \(b) but the image \(image) is \(a); give the label or prediction map made for this image"
        case let .sliceOutOfRange(index, count, axis):
            return "slice \(index) does not exist: the \(axis) axis has slices 0…\(count - 1); choose one in range or use --auto"
        case .badAxis(let a):
            return "axis \"\(a)\" is not one of a, c, s (axial, coronal, sagittal)"
        }
    }
}

/// One case read for figures: the image (first channel, canonical RAS as the reader gives it)
/// and optional label and prediction maps on the same grid.
public struct CaseFigure: Sendable {
    public var size: (x: Int, y: Int, z: Int)
    public var spacing: [Double]
    public var image: [Float]
    public var label: [UInt8]?
    public var prediction: [UInt8]?

    public init(size: (x: Int, y: Int, z: Int), spacing: [Double], image: [Float], label: [UInt8]?, prediction: [UInt8]?) {
        self.size = size
        self.spacing = spacing
        self.image = image
        self.label = label
        self.prediction = prediction
    }

    /// Reads the files; label and prediction must have the image's shape.
    public static func read(image: URL, label: URL?, prediction: URL?) throws -> CaseFigure {
        let img = try NIfTI.readImage(image)
        let s = img.volume.shape
        func map(_ url: URL?) throws -> [UInt8]? {
            guard let url else { return nil }
            let (l, _) = try NIfTI.readLabels(url)
            guard l.shape == s else {
                throw FigureError.shapeMismatch(image: image.path, other: url.path, imageShape: s.description, otherShape: l.shape.description)
            }
            return l.data
        }
        let sp = img.volume.spacing
        return CaseFigure(size: (s.x, s.y, s.z), spacing: [sp.x, sp.y, sp.z], image: Array(img.volume.data.prefix(s.count)),
                          label: try map(label), prediction: try map(prediction))
    }

    /// The slice with the most foreground: in the label, else the prediction, else the middle one.
    public func autoSlice(_ axis: PlaneAxis) -> Int {
        if let m = label ?? prediction, m.contains(where: { $0 != 0 }) { return SlicePlane.mostForeground(axis: axis, size: size, mask: m) }
        return SlicePlane.count(axis: axis, size: size) / 2
    }

    public func plane(_ axis: PlaneAxis, index: Int) throws -> SlicePlane {
        let n = SlicePlane.count(axis: axis, size: size)
        guard (0..<n).contains(index) else { throw FigureError.sliceOutOfRange(index: index, count: n, axis: axis.rawValue) }
        return SlicePlane.extract(axis: axis, index: index, size: size, spacing: spacing, image: image, label: label, prediction: prediction)
    }

    /// The tiles the maps allow, in the order image | label | prediction | errors.
    public var kinds: [TileKind] {
        [TileKind.image, .label, .prediction, .errors].filter {
            SliceRenderer.available($0, hasLabel: label != nil, hasPrediction: prediction != nil)
        }
    }

    /// The automatic window of the whole volume (the workbench's), so every slice of a case matches.
    public var window: ClosedRange<Float> { Windowing.percentile(image) }
}
