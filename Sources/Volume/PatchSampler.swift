import Tensor

/// A training patch: `image` is channel-major (each channel x fastest, then y, then z), `labels`
/// has one value per voxel. `origin` is the patch's first voxel in the case (may be negative
/// when the case is smaller than the patch: those voxels are padding, image 0 and label 0).
public struct Patch: Sendable, Equatable {
    public var size: Shape3
    public var channels: Int
    public var image: [Float]
    public var labels: [UInt8]
    public var origin: [Int]
    public var centredOnForeground: Bool
}

/// Foreground voxel positions per class, for foreground-centred sampling.
public struct ForegroundIndex: Sendable {
    /// classes[c] = linear voxel indices with label c (c ≥ 1); index 0 unused.
    public var classes: [[Int]]
    public init(_ labels: LabelVolume) {
        var classes = [[Int]](repeating: [], count: 256)
        for (i, l) in labels.data.enumerated() where l > 0 { classes[Int(l)].append(i) }
        let last = classes.lastIndex(where: { !$0.isEmpty }) ?? 0
        self.classes = Array(classes[0...last])
    }
    public var presentClasses: [Int] { classes.indices.filter { $0 > 0 && !classes[$0].isEmpty } }
}

/// Random patches, a fraction of them centred on a random foreground voxel (a random present
/// class first, then a random voxel of it, so small classes are seen as often as large ones).
public struct PatchSampler: Sendable {
    public var patchSize: Shape3
    public var foregroundFraction: Double
    public init(patchSize: Shape3, foregroundFraction: Double = 1.0 / 3.0) {
        self.patchSize = patchSize; self.foregroundFraction = foregroundFraction
    }

    /// Draws one patch. Each patch is foreground-centred with probability `foregroundFraction`
    /// (when the case has foreground); the same rng state gives the same patch.
    public func sample(image: Volume, labels: LabelVolume, foreground: ForegroundIndex, rng: inout RNG) -> Patch {
        let s = image.shape
        let wantForeground = rng.bernoulli(foregroundFraction)
        let present = foreground.presentClasses
        var origin = [0, 0, 0]
        var centred = false
        if wantForeground, !present.isEmpty {
            let cls = present[rng.int(below: present.count)]
            let list = foreground.classes[cls]
            let v = list[rng.int(below: list.count)]
            let centre = [v % s.x, (v / s.x) % s.y, v / (s.x * s.y)]
            for a in 0..<3 {
                let lo = min(0, s[a] - patchSize[a]), hi = max(0, s[a] - patchSize[a])
                origin[a] = min(max(centre[a] - patchSize[a] / 2, lo), hi)
            }
            centred = true
        } else {
            for a in 0..<3 {
                // Volume ≥ patch: origin in 0...n-p. Volume < patch: the volume sits at a random
                // offset inside the padded patch, origin in n-p...0.
                let lo = min(0, s[a] - patchSize[a]), hi = max(0, s[a] - patchSize[a])
                origin[a] = rng.int(in: lo...hi)
            }
        }
        var p = extract(image: image, labels: labels, origin: origin)
        p.centredOnForeground = centred
        return p
    }

    /// Copies the patch at `origin`, padding outside the volume with 0 (image) and 0 (label).
    public func extract(image: Volume, labels: LabelVolume?, origin: [Int]) -> Patch {
        let s = image.shape, p = patchSize, n = s.count, pn = p.count
        var img = [Float](repeating: 0, count: pn * image.channels)
        var lab = [UInt8](repeating: 0, count: pn)
        // Overlap of the patch with the volume, per axis, in patch coordinates.
        let lo = (0..<3).map { max(0, -origin[$0]) }
        let hi = (0..<3).map { min(p[$0], s[$0] - origin[$0]) }
        if hi[0] > lo[0] && hi[1] > lo[1] && hi[2] > lo[2] {
            let width = hi[0] - lo[0]
            image.data.withUnsafeBufferPointer { src in
                img.withUnsafeMutableBufferPointer { dst in
                    for c in 0..<image.channels { for k in lo[2]..<hi[2] { for j in lo[1]..<hi[1] {
                        let from = c * n + s.index(origin[0] + lo[0], origin[1] + j, origin[2] + k)
                        let to = c * pn + p.index(lo[0], j, k)
                        (dst.baseAddress! + to).update(from: src.baseAddress! + from, count: width)
                    } } }
                }
            }
            if let labels {
                for k in lo[2]..<hi[2] { for j in lo[1]..<hi[1] {
                    let from = s.index(origin[0] + lo[0], origin[1] + j, origin[2] + k)
                    let to = p.index(lo[0], j, k)
                    for i in 0..<width { lab[to + i] = labels.data[from + i] }
                } }
            }
        }
        return Patch(size: p, channels: image.channels, image: img, labels: lab, origin: origin, centredOnForeground: false)
    }
}
