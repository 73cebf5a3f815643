/// Where a preprocessed case came from, so predictions can be mapped back.
public struct PreprocessRecord: Sendable, Codable, Equatable {
    /// The canonical grid as read from disk.
    public var originalGrid: Grid
    /// The non-zero bounding box in that grid.
    public var crop: Box3
}

/// A case ready for training or inference: cropped, resampled to the plan's spacing, normalised.
public struct PreprocessedCase: Sendable {
    public var id: String
    public var image: Volume
    public var labels: LabelVolume?
    public var record: PreprocessRecord
}

/// Crop to the non-zero box → normalise per channel → resample (trilinear image, nearest label).
/// Deterministic: no randomness anywhere.
public struct Preprocessor: Sendable {
    public var plan: Plan
    public init(plan: Plan) { self.plan = plan }

    /// `image` is consumed: when the caller passes its last reference (`consume`), cropping to the
    /// whole volume and normalising reuse its buffer instead of copying it.
    public func run(id: String, image: consuming Volume, labels: LabelVolume? = nil) throws -> PreprocessedCase {
        guard image.channels == plan.normalization.count else {
            throw VolumeError.channelMismatch(caseID: id, path: id, channels: image.channels, modalities: plan.normalization.count)
        }
        if let labels, labels.shape != image.shape {
            throw VolumeError.gridMismatch(caseID: id, image: "image", label: "label", detail: "shape \(image.shape) vs \(labels.shape)")
        }
        let box = Crop.nonzeroBox(image)
        let originalGrid = image.grid
        var cropped = Crop.crop(image, to: box)
        _ = consume image
        normalize(&cropped)
        let target = Resample.shape(cropped.shape, from: cropped.spacing, to: plan.targetSpacingVector)
        let resampled = Resample.trilinear(consume cropped, to: target)
        let lab = labels.map { Resample.nearest(Crop.crop($0, to: box), to: target) }
        return PreprocessedCase(id: id, image: resampled, labels: lab,
                                record: PreprocessRecord(originalGrid: originalGrid, crop: box))
    }

    /// Applies the plan's per-channel normalisation in place.
    public func normalize(_ v: inout Volume) {
        let n = v.shape.count
        for c in 0..<v.channels {
            let norm = plan.normalization[c]
            v.data.withUnsafeMutableBufferPointer { all in
                let d = UnsafeMutableBufferPointer(rebasing: all[(c * n)..<((c + 1) * n)])
                switch norm.scheme {
                case .ct:
                    let lo = Float(norm.clipLower ?? -.infinity), hi = Float(norm.clipUpper ?? .infinity)
                    let mean = Float(norm.mean ?? 0), inv = Float(1 / (norm.std ?? 1))
                    for i in 0..<n { d[i] = (Swift.min(Swift.max(d[i], lo), hi) - mean) * inv }
                case .zscoreNonzero:
                    var sum = 0.0, sq = 0.0, count = 0
                    for x in d where x != 0 { sum += Double(x); sq += Double(x) * Double(x); count += 1 }
                    guard count > 0 else { return }
                    let mean = sum / Double(count)
                    let std = Swift.max((Swift.max(sq / Double(count) - mean * mean, 0)).squareRoot(), 1e-8)
                    let m = Float(mean), inv = Float(1 / std)
                    for i in 0..<n where d[i] != 0 { d[i] = (d[i] - m) * inv }
                }
            }
        }
    }

    /// Maps class probabilities from the preprocessed grid back to the original canonical grid:
    /// trilinear to the crop size, then pasted; outside the crop the background has probability 1.
    public func restore(probabilities p: Volume, record r: PreprocessRecord) -> Volume {
        let back = Resample.trilinear(p, to: r.crop.size)
        var full = Volume(grid: r.originalGrid, channels: p.channels, repeating: 0)
        let n = full.shape.count
        for i in 0..<n { full.data[i] = 1 }
        Crop.paste(back.data, channels: p.channels, into: &full.data, shape: full.shape, box: r.crop)
        return full
    }
}

/// Per-voxel argmax over channels (ties go to the lower class).
public func argmax(_ p: Volume) -> LabelVolume {
    let n = p.shape.count
    var out = [UInt8](repeating: 0, count: n)
    var best = p.channel(0)
    p.data.withUnsafeBufferPointer { d in
        for c in 1..<max(1, p.channels) {
            let base = c * n
            for i in 0..<n where d[base + i] > best[i] { best[i] = d[base + i]; out[i] = UInt8(c) }
        }
    }
    return LabelVolume(grid: p.grid, data: out)
}
