/// How a file's voxel axes map onto the canonical RAS+ axes used for processing: voxel axis 0
/// runs toward +x world (Right), axis 1 toward +y (Anterior), axis 2 toward +z (Superior).
/// Reorientation only permutes and reverses axes, so it is exact and invertible.
public struct Orientation: Sendable, Equatable, Codable {
    /// For canonical axis w (0, 1, 2): the file axis it is read from.
    public var sourceAxis: [Int]
    /// For canonical axis w: whether that file axis runs backwards.
    public var flipped: [Bool]
    /// Voxel counts in file order.
    public var fileShape: Shape3

    public init(sourceAxis: [Int], flipped: [Bool], fileShape: Shape3) {
        self.sourceAxis = sourceAxis; self.flipped = flipped; self.fileShape = fileShape
    }

    /// The closest canonical orientation for `affine` (greedy on the largest direction cosines,
    /// like nibabel's `io_orientation` for non-degenerate matrices).
    public static func canonical(for affine: Affine, fileShape: Shape3) -> Orientation {
        let norms = affine.columnNorms
        var cos = [[Double]](repeating: [0, 0, 0], count: 3)   // cos[world][fileAxis]
        for w in 0..<3 { for a in 0..<3 {
            let c = norms[a] > 0 ? affine[w, a] / norms[a] : (w == a ? 1 : 0)
            cos[w][a] = c.isFinite ? c : 0   // never NaN: every world axis must get a file axis below
        } }
        var source = [-1, -1, -1], flips = [false, false, false]
        var usedWorld = Set<Int>(), usedAxis = Set<Int>()
        for _ in 0..<3 {
            var best = (w: -1, a: -1, v: -1.0)
            for w in 0..<3 where !usedWorld.contains(w) {
                for a in 0..<3 where !usedAxis.contains(a) && abs(cos[w][a]) > best.v { best = (w, a, abs(cos[w][a])) }
            }
            source[best.w] = best.a; flips[best.w] = cos[best.w][best.a] < 0
            usedWorld.insert(best.w); usedAxis.insert(best.a)
        }
        return Orientation(sourceAxis: source, flipped: flips, fileShape: fileShape)
    }

    public static func identity(_ shape: Shape3) -> Orientation {
        Orientation(sourceAxis: [0, 1, 2], flipped: [false, false, false], fileShape: shape)
    }

    public var isIdentity: Bool { sourceAxis == [0, 1, 2] && flipped == [false, false, false] }
    public var canonicalShape: Shape3 { Shape3(fileShape[sourceAxis[0]], fileShape[sourceAxis[1]], fileShape[sourceAxis[2]]) }

    /// The matrix taking a canonical voxel index to the file voxel index.
    public var canonicalToFile: Affine {
        var t = Affine(rowMajor: [Double](repeating: 0, count: 16))
        t[3, 3] = 1
        for w in 0..<3 {
            let a = sourceAxis[w]
            t[a, w] = flipped[w] ? -1 : 1
            t[a, 3] = flipped[w] ? Double(fileShape[a] - 1) : 0
        }
        return t
    }
    public func canonicalAffine(fromFile affine: Affine) -> Affine { affine * canonicalToFile }
    public func canonicalSpacing(fromFile s: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3(s[sourceAxis[0]], s[sourceAxis[1]], s[sourceAxis[2]])
    }

    /// Reorders file-order voxels (per channel) into canonical order.
    public func toCanonical<T>(_ data: [T], channels: Int = 1) -> [T] { reorder(data, channels: channels, toFile: false) }
    /// The exact inverse of `toCanonical`.
    public func toFile<T>(_ data: [T], channels: Int = 1) -> [T] { reorder(data, channels: channels, toFile: true) }

    /// Canonical-order values converted from file-order storage in one pass (the reader uses it
    /// on libnifti's buffer, so no file-order copy of the volume is made). Same walk as `toCanonical`.
    func gather<T, Out>(_ src: UnsafePointer<T>, channels: Int, _ convert: (T) -> Out) -> [Out] {
        let n = fileShape.count
        let fileStride = [1, fileShape.x, fileShape.x * fileShape.y]
        let c = canonicalShape
        var step = [0, 0, 0], start = 0
        for w in 0..<3 {
            let s = fileStride[sourceAxis[w]]
            step[w] = flipped[w] ? -s : s
            if flipped[w] { start += (c[w] - 1) * s }
        }
        return [Out](unsafeUninitializedCapacity: n * channels) { dst, count in
            var canonicalIndex = 0
            for ch in 0..<channels {
                let base = ch * n
                for k in 0..<c.z {
                    for j in 0..<c.y {
                        var f = base + start + k * step[2] + j * step[1]
                        for _ in 0..<c.x {
                            (dst.baseAddress! + canonicalIndex).initialize(to: convert(src[f]))
                            canonicalIndex += 1; f += step[0]
                        }
                    }
                }
            }
            count = n * channels
        }
    }

    private func reorder<T>(_ data: [T], channels: Int, toFile: Bool) -> [T] {
        if isIdentity { return data }
        let n = fileShape.count
        precondition(data.count == n * channels, "reorientation: data count does not match shape × channels")
        let fileStride = [1, fileShape.x, fileShape.x * fileShape.y]
        let c = canonicalShape
        var step = [0, 0, 0], start = 0
        for w in 0..<3 {
            let s = fileStride[sourceAxis[w]]
            step[w] = flipped[w] ? -s : s
            if flipped[w] { start += (c[w] - 1) * s }
        }
        var out = data   // same element type and count; every element is overwritten
        data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for ch in 0..<channels {
                    let base = ch * n
                    var canonicalIndex = base
                    for k in 0..<c.z {
                        for j in 0..<c.y {
                            var f = base + start + k * step[2] + j * step[1]
                            for _ in 0..<c.x {
                                if toFile { dst[f] = src[canonicalIndex] } else { dst[canonicalIndex] = src[f] }
                                canonicalIndex += 1; f += step[0]
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
