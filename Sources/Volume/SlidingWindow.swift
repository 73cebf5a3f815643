import Foundation

/// A segmentation network seen as a function: a patch (channel-major, x fastest) with `channels`
/// channels and spatial size `size` in, K values per voxel out (K-major, same spatial size).
public typealias PatchNetwork = (_ patch: [Float], _ channels: Int, _ size: Shape3) throws -> [Float]

/// Sliding-window inference with Gaussian importance weighting and optional mirroring.
public struct SlidingWindow: Sendable {
    public enum Output: String, Sendable, Codable {
        /// The network returns probabilities: windows are averaged as they are.
        case probabilities
        /// The network returns logits: windows are averaged, then a softmax is taken per voxel.
        case logits
    }
    public var patchSize: Shape3
    /// Fraction of the patch that neighbouring windows share (0 ≤ overlap < 1).
    public var overlap: Double
    /// Gaussian sigma as a fraction of the patch side.
    public var sigmaScale: Double
    /// Axes (0 = x, 1 = y, 2 = z) to mirror for test-time augmentation; every subset is run.
    public var mirrorAxes: [Int]
    public var output: Output

    public init(patchSize: Shape3, overlap: Double = 0.5, sigmaScale: Double = 1.0 / 8.0,
                mirrorAxes: [Int] = [], output: Output = .logits) {
        self.patchSize = patchSize; self.overlap = overlap; self.sigmaScale = sigmaScale
        self.mirrorAxes = mirrorAxes; self.output = output
    }

    /// Window start positions along one axis: evenly spaced from 0 to n − p, step ≤ p·(1 − overlap).
    public static func starts(length n: Int, patch p: Int, overlap: Double) -> [Int] {
        if n <= p { return [0] }
        let step = max(1.0, Double(p) * (1 - overlap))
        let count = Int((Double(n - p) / step).rounded(.up)) + 1
        let actual = Double(n - p) / Double(count - 1)
        return (0..<count).map { Int((Double($0) * actual).rounded()) }
    }

    /// Importance map: a Gaussian centred on the patch, max 1, smallest value clamped above 0.
    public func importance() -> [Float] {
        let p = patchSize
        func axis(_ n: Int) -> [Double] {
            let c = Double(n - 1) / 2, s = max(Double(n) * sigmaScale, 1e-6)
            return (0..<n).map { exp(-(Double($0) - c) * (Double($0) - c) / (2 * s * s)) }
        }
        let gx = axis(p.x), gy = axis(p.y), gz = axis(p.z)
        var w = [Float](repeating: 0, count: p.count)
        var o = 0
        for k in 0..<p.z { for j in 0..<p.y { for i in 0..<p.x { w[o] = Float(gx[i] * gy[j] * gz[k]); o += 1 } } }
        let m = w.max() ?? 1
        let floor = Float.leastNormalMagnitude * 1e6
        return w.map { max($0 / m, floor) }
    }

    /// Runs the network over the whole image and returns K per-voxel class probabilities (or, when
    /// `output == .probabilities` and the net is not a classifier, its weighted average) on the image grid.
    public func predict(_ image: Volume, classes: Int, network: PatchNetwork) throws -> Volume {
        let s = image.shape, p = patchSize
        // Pad (zeros) up to the patch size where the image is smaller; cropped off at the end.
        let padded = Shape3(max(s.x, p.x), max(s.y, p.y), max(s.z, p.z))
        let sampler = PatchSampler(patchSize: p)
        let paddedImage: Volume = padded == s ? image : {
            var v = Volume(grid: Grid(shape: padded, spacing: image.spacing, affine: image.affine), channels: image.channels, repeating: 0)
            Crop.paste(image.data, channels: image.channels, into: &v.data, shape: padded, box: Box3(lower: Shape3(0, 0, 0), upper: s))
            return v
        }()
        let n = padded.count, pn = p.count
        var sum = [Float](repeating: 0, count: n * classes)
        var weight = [Float](repeating: 0, count: n)
        let gauss = importance()
        let mirrors = mirrorSets()
        for z0 in SlidingWindow.starts(length: padded.z, patch: p.z, overlap: overlap) {
            for y0 in SlidingWindow.starts(length: padded.y, patch: p.y, overlap: overlap) {
                for x0 in SlidingWindow.starts(length: padded.x, patch: p.x, overlap: overlap) {
                    let patch = sampler.extract(image: paddedImage, labels: nil, origin: [x0, y0, z0])
                    var out = [Float](repeating: 0, count: pn * classes)
                    for axes in mirrors {
                        let input = SlidingWindow.mirrored(patch.image, channels: image.channels, size: p, axes: axes)
                        let y = try network(input, image.channels, p)
                        guard y.count == pn * classes else {
                            throw VolumeError.invalidArgument("network returned \(y.count) values for a \(p) patch with \(classes) classes (expected \(pn * classes))")
                        }
                        let back = SlidingWindow.mirrored(y, channels: classes, size: p, axes: axes)
                        for i in 0..<out.count { out[i] += back[i] }
                    }
                    let scale = 1 / Float(mirrors.count)
                    for k in 0..<p.z { for j in 0..<p.y {
                        let dst = padded.index(x0, y0 + j, z0 + k), src = p.index(0, j, k)
                        for i in 0..<p.x {
                            let w = gauss[src + i]
                            weight[dst + i] += w
                            for c in 0..<classes { sum[c * n + dst + i] += out[c * pn + src + i] * scale * w }
                        }
                    } }
                }
            }
        }
        for c in 0..<classes { for i in 0..<n { sum[c * n + i] /= weight[i] } }
        if output == .logits { SlidingWindow.softmax(&sum, classes: classes, voxels: n) }
        var result = Volume(grid: Grid(shape: padded, spacing: image.spacing, affine: image.affine), channels: classes, data: sum)
        if padded != s {
            result = Crop.crop(result, to: Box3(lower: Shape3(0, 0, 0), upper: s))
            result.grid = image.grid
        }
        return result
    }

    /// Identity first, then every non-empty subset of `mirrorAxes`.
    func mirrorSets() -> [[Int]] {
        let axes = Array(Set(mirrorAxes.filter { (0..<3).contains($0) })).sorted()
        return (0..<(1 << axes.count)).map { mask in axes.indices.filter { mask & (1 << $0) != 0 }.map { axes[$0] } }
    }

    static func mirrored(_ d: [Float], channels: Int, size s: Shape3, axes: [Int]) -> [Float] {
        if axes.isEmpty { return d }
        let fx = axes.contains(0), fy = axes.contains(1), fz = axes.contains(2)
        var out = d
        let n = s.count
        for c in 0..<channels { for k in 0..<s.z { for j in 0..<s.y { for i in 0..<s.x {
            let src = s.index(fx ? s.x - 1 - i : i, fy ? s.y - 1 - j : j, fz ? s.z - 1 - k : k)
            out[c * n + s.index(i, j, k)] = d[c * n + src]
        } } } }
        return out
    }

    static func softmax(_ d: inout [Float], classes: Int, voxels n: Int) {
        for i in 0..<n {
            var m = -Float.infinity
            for c in 0..<classes { m = max(m, d[c * n + i]) }
            var total: Float = 0
            for c in 0..<classes { let e = exp(d[c * n + i] - m); d[c * n + i] = e; total += e }
            for c in 0..<classes { d[c * n + i] /= total }
        }
    }
}

/// Whole-case inference: preprocess, slide the network, map the probabilities back to the
/// original (canonical) grid and take the argmax. Write the labels with `NIfTI.write(_:like:to:)`.
public func predictCase(image: Volume, preprocessor: Preprocessor, window: SlidingWindow,
                        network: PatchNetwork) throws -> (probabilities: Volume, labels: LabelVolume) {
    let pre = try preprocessor.run(id: "inference", image: image)
    let probs = try window.predict(pre.image, classes: preprocessor.plan.classCount, network: network)
    let full = preprocessor.restore(probabilities: probs, record: pre.record)
    return (full, argmax(full))
}
