import Foundation
import Tensor

/// Probabilities and ranges of the training augmentations (each applied independently).
public struct AugmentationConfig: Sendable, Codable, Equatable {
    /// Probability of flipping each axis (x, y, z).
    public var flipProbability: [Double] = [0.5, 0.5, 0.5]
    /// Probability of a 90°·k in-plane (x–y) rotation, k uniform in 1...3 (k = 2 only if x ≠ y).
    public var rotateProbability: Double = 0.5
    public var scaleProbability: Double = 0.15
    public var scaleRange: [Double] = [0.9, 1.1]
    public var shiftProbability: Double = 0.15
    public var shiftRange: [Double] = [-0.1, 0.1]
    public var gammaProbability: Double = 0.15
    public var gammaRange: [Double] = [0.7, 1.5]
    public var noiseProbability: Double = 0.15
    /// Noise standard deviation is drawn uniformly from 0...noiseMaxSigma.
    public var noiseMaxSigma: Double = 0.1
    public init() {}
    /// Every probability zero: patches pass through unchanged.
    public static let none: AugmentationConfig = {
        var c = AugmentationConfig()
        c.flipProbability = [0, 0, 0]; c.rotateProbability = 0; c.scaleProbability = 0
        c.shiftProbability = 0; c.gammaProbability = 0; c.noiseProbability = 0
        return c
    }()
}

/// Applies spatial (image and labels together) and intensity (image only) augmentations.
public struct Augmenter: Sendable {
    public var config: AugmentationConfig
    public init(config: AugmentationConfig = .init()) { self.config = config }

    public func apply(_ p: inout Patch, rng: inout RNG) {
        for axis in 0..<3 where rng.bernoulli(config.flipProbability[axis]) { Augmenter.flip(&p, axis: axis) }
        if rng.bernoulli(config.rotateProbability) {
            let k = p.size.x == p.size.y ? rng.int(in: 1...3) : 2
            Augmenter.rotateInPlane(&p, quarterTurns: k)
        }
        let n = p.size.count
        for c in 0..<p.channels {
            let range = (c * n)..<((c + 1) * n)
            if rng.bernoulli(config.scaleProbability) {
                let f = Float(rng.uniform(config.scaleRange[0], config.scaleRange[1]))
                for i in range { p.image[i] *= f }
            }
            if rng.bernoulli(config.shiftProbability) {
                let s = Float(rng.uniform(config.shiftRange[0], config.shiftRange[1]))
                for i in range { p.image[i] += s }
            }
            if rng.bernoulli(config.gammaProbability) {
                Augmenter.gamma(&p.image, range: range, gamma: rng.uniform(config.gammaRange[0], config.gammaRange[1]))
            }
            if rng.bernoulli(config.noiseProbability) {
                let sigma = rng.uniform(0, config.noiseMaxSigma)
                for i in range { p.image[i] += Float(sigma * rng.gaussian()) }
            }
        }
    }

    /// Reverses one axis of image and labels.
    public static func flip(_ p: inout Patch, axis: Int) {
        let s = p.size
        func perm(_ i: Int, _ j: Int, _ k: Int) -> Int {
            axis == 0 ? s.index(s.x - 1 - i, j, k) : (axis == 1 ? s.index(i, s.y - 1 - j, k) : s.index(i, j, s.z - 1 - k))
        }
        remap(&p, newSize: s, source: perm)
    }

    /// Rotates the x–y plane by k·90° (counter-clockwise looking down z). Odd k swaps x and y sizes.
    public static func rotateInPlane(_ p: inout Patch, quarterTurns k: Int) {
        let s = p.size
        let t = ((k % 4) + 4) % 4
        if t == 0 { return }
        let out = t % 2 == 0 ? s : Shape3(s.y, s.x, s.z)
        // Output voxel (i, j) takes input voxel: k=1 (j, ny-1-i); k=2 (nx-1-i, ny-1-j); k=3 (nx-1-j, i).
        remap(&p, newSize: out) { i, j, kz in
            switch t {
            case 1: s.index(j, s.y - 1 - i, kz)
            case 2: s.index(s.x - 1 - i, s.y - 1 - j, kz)
            default: s.index(s.x - 1 - j, i, kz)
            }
        }
    }

    /// nnU-Net style gamma: rescale to [0, 1], raise to gamma, rescale back.
    static func gamma(_ d: inout [Float], range: Range<Int>, gamma g: Double) {
        guard let lo = d[range].min(), let hi = d[range].max(), hi > lo else { return }
        let span = hi - lo
        for i in range { d[i] = Float(pow(Double((d[i] - lo) / span), g)) * span + lo }
    }

    private static func remap(_ p: inout Patch, newSize: Shape3, source: (Int, Int, Int) -> Int) {
        let n = newSize.count
        var map = [Int](repeating: 0, count: n)
        var o = 0
        for k in 0..<newSize.z { for j in 0..<newSize.y { for i in 0..<newSize.x { map[o] = source(i, j, k); o += 1 } } }
        var img = [Float](repeating: 0, count: p.image.count)
        for c in 0..<p.channels { let b = c * n; for i in 0..<n { img[b + i] = p.image[b + map[i]] } }
        p.labels = map.map { p.labels[$0] }
        p.image = img
        p.size = newSize
    }
}
