import Foundation
import Tensor

/// A segmentation network seen as a function: a patch (channel-major, x fastest) with `channels`
/// channels and spatial size `size` in, K values per voxel out (K-major, same spatial size).
public typealias PatchNetwork = (_ patch: [Float], _ channels: Int, _ size: Shape3) throws -> [Float]
/// The same for `count` patches at once (batch-major): larger jobs per op for the thread pool.
public typealias PatchBatchNetwork = (_ patches: [Float], _ count: Int, _ channels: Int, _ size: Shape3) throws -> [Float]

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
    /// Windows per network call (with a `PatchBatchNetwork`); results do not depend on it.
    public var batch: Int

    public init(patchSize: Shape3, overlap: Double = 0.5, sigmaScale: Double = 1.0 / 8.0,
                mirrorAxes: [Int] = [], output: Output = .logits, batch: Int = 1) {
        self.patchSize = patchSize; self.overlap = overlap; self.sigmaScale = sigmaScale
        self.mirrorAxes = mirrorAxes; self.output = output; self.batch = max(1, batch)
    }

    /// Window start positions along one axis: evenly spaced from 0 to n − p, step ≤ p·(1 − overlap).
    public static func starts(length n: Int, patch p: Int, overlap: Double) -> [Int] {
        if n <= p { return [0] }
        let step = max(1.0, Double(p) * (1 - overlap))
        let count = Int((Double(n - p) / step).rounded(.up)) + 1
        let actual = Double(n - p) / Double(count - 1)
        return (0..<count).map { Int((Double($0) * actual).rounded()) }
    }

    /// The importance map's factor along one axis: a Gaussian centred on the patch side, max 1,
    /// clamped above 0. The map is the product of the three, so the summed weight of all windows at a
    /// voxel is the product of three per-axis sums and needs no volume of its own.
    func axisImportance(_ n: Int) -> [Double] {
        let c = Double(n - 1) / 2, s = max(Double(n) * sigmaScale, 1e-6)
        let g = (0..<n).map { exp(-(Double($0) - c) * (Double($0) - c) / (2 * s * s)) }
        let m = g.max() ?? 1
        return g.map { max($0 / m, 1e-10) }
    }

    /// Importance map: a Gaussian centred on the patch, max 1, smallest value clamped above 0.
    public func importance() -> [Float] {
        let p = patchSize
        let gx = axisImportance(p.x), gy = axisImportance(p.y), gz = axisImportance(p.z)
        var w = [Float](repeating: 0, count: p.count)
        var o = 0
        for k in 0..<p.z { for j in 0..<p.y { for i in 0..<p.x { w[o] = Float(gx[i] * gy[j] * gz[k]); o += 1 } } }
        return w
    }

    /// The number of windows `predict`/`stream` run over an image of shape `s` (mirrors not counted).
    public func windowCount(_ s: Shape3) -> Int {
        (0..<3).reduce(1) { $0 * SlidingWindow.starts(length: max(s[$1], patchSize[$1]), patch: patchSize[$1], overlap: overlap).count }
    }

    /// Runs the network over the whole image and returns K per-voxel class probabilities (or, when
    /// `output == .probabilities` and the net is not a classifier, its weighted average) on the image grid.
    public func predict(_ image: Volume, classes: Int, network: PatchNetwork,
                        progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> Volume {
        var one = self
        one.batch = 1
        return try withoutActuallyEscaping(network) { net in
            try one.predict(image, classes: classes, batchNetwork: SlidingWindow.batched(net), progress: progress)
        }
    }

    /// A single-patch network called once per patch of a batch.
    static func batched(_ network: @escaping PatchNetwork) -> PatchBatchNetwork {
        { patches, count, channels, size in
            if count == 1 { return try network(patches, channels, size) }
            let n = channels * size.count
            var out = [Float]()
            for w in 0..<count { out += try network(Array(patches[(w * n)..<((w + 1) * n)]), channels, size) }
            return out
        }
    }

    public func stream(_ image: Volume, classes: Int, network: PatchNetwork,
                       progress: ((_ done: Int, _ total: Int) -> Void)? = nil,
                       slice: (_ z: Int, _ probs: UnsafeBufferPointer<Float>) throws -> Void) throws {
        var one = self
        one.batch = 1
        try withoutActuallyEscaping(network) { net in
            try one.stream(image, classes: classes, batchNetwork: SlidingWindow.batched(net), progress: progress, slice: slice)
        }
    }

    public func predict(_ image: Volume, classes: Int, batchNetwork network: PatchBatchNetwork,
                        progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> Volume {
        let s = image.shape, plane = s.x * s.y, n = s.count
        var result = [Float](repeating: 0, count: n * classes)
        try result.withUnsafeMutableBufferPointer { out in
            try stream(image, classes: classes, batchNetwork: network, progress: progress) { z, probs in
                for c in 0..<classes {
                    (out.baseAddress! + c * n + z * plane).update(from: probs.baseAddress! + c * plane, count: plane)
                }
            }
        }
        return Volume(grid: image.grid, channels: classes, data: result)
    }

    /// Sliding-window inference that hands the finished result over one z slice at a time
    /// (ascending z; `slice` gets K planes of s.x × s.y, channel-major, valid only during the call).
    /// Memory: the windows' sums are kept for a slab of patch depth + one window step, not the whole
    /// volume; the weights are products of per-axis sums; patch and output buffers are reused.
    public func stream(_ image: Volume, classes: Int, batchNetwork network: PatchBatchNetwork,
                       progress: ((_ done: Int, _ total: Int) -> Void)? = nil,
                       slice: (_ z: Int, _ probs: UnsafeBufferPointer<Float>) throws -> Void) throws {
        let s = image.shape, p = patchSize, channels = image.channels
        // Pad (zeros) up to the patch size where the image is smaller; the padding is never emitted.
        let padded = Shape3(max(s.x, p.x), max(s.y, p.y), max(s.z, p.z))
        let paddedImage: Volume = padded == s ? image : {
            var v = Volume(grid: Grid(shape: padded, spacing: image.spacing, affine: image.affine), channels: channels, repeating: 0)
            Crop.paste(image.data, channels: channels, into: &v.data, shape: padded, box: Box3(lower: Shape3(0, 0, 0), upper: s))
            return v
        }()
        let xs = SlidingWindow.starts(length: padded.x, patch: p.x, overlap: overlap)
        let ys = SlidingWindow.starts(length: padded.y, patch: p.y, overlap: overlap)
        let zs = SlidingWindow.starts(length: padded.z, patch: p.z, overlap: overlap)
        let gauss = importance()
        // Σ over windows of the importance at each voxel, per axis (the map is a product).
        func weightSums(_ starts: [Int], _ n: Int, _ g: [Double]) -> [Double] {
            var w = [Double](repeating: 0, count: n)
            for s0 in starts { for i in g.indices { w[s0 + i] += g[i] } }
            return w
        }
        let wx = weightSums(xs, padded.x, axisImportance(p.x)), wy = weightSums(ys, padded.y, axisImportance(p.y))
        let wz = weightSums(zs, padded.z, axisImportance(p.z))
        let maxStep = zip(zs, zs.dropFirst()).map { $1 - $0 }.max() ?? 0
        let depth = min(padded.z, p.z + maxStep)
        let plane = padded.x * padded.y, slab = depth * plane, pn = p.count
        let mirrors = mirrorSets()
        let total = xs.count * ys.count * zs.count
        var acc = [Float](repeating: 0, count: classes * slab)        // [class][z - base][y][x]
        let pc = pn * channels, pk = pn * classes
        var patches = [Float](repeating: 0, count: batch * pc)
        var out = [Float](repeating: 0, count: batch * pk)
        var origins = [(x: Int, y: Int, z: Int)]()
        origins.reserveCapacity(batch)
        let emitPlane = s.x * s.y
        var emitted = [Float](repeating: 0, count: classes * emitPlane)
        var base = 0, done = 0

        /// Emits the finished slices base..<end and slides the slab down to start at `end`.
        func flush(upTo end: Int) throws {
            for z in base..<end where z < s.z {
                let zl = z - base
                let logits = output == .logits
                // Rows in parallel: the weight normalisation and, for logits, the softmax of each voxel.
                acc.withUnsafeBufferPointer { a in
                    emitted.withUnsafeMutableBufferPointer { e in
                        let ap = a.baseAddress!, ep = e.baseAddress!
                        Compute.parallelChunks(count: s.y, grain: max(1, 16384 / max(1, s.x * classes))) { _, rows in
                            for j in rows {
                                let wyz = wy[j] * wz[z]
                                for i in 0..<s.x {
                                    let inv = Float(1 / (wx[i] * wyz))
                                    let o = j * s.x + i, src = zl * plane + j * padded.x + i
                                    for c in 0..<classes { ep[c * emitPlane + o] = ap[c * slab + src] * inv }
                                    if logits { SlidingWindow.softmaxVoxel(ep + o, classes: classes, stride: emitPlane) }
                                }
                            }
                        }
                    }
                }
                try emitted.withUnsafeBufferPointer { try slice(z, $0) }
            }
            let shift = end - base, keep = depth - shift
            acc.withUnsafeMutableBufferPointer { a in
                for c in 0..<classes {
                    let row = a.baseAddress! + c * slab
                    if keep > 0 { memmove(row, row + shift * plane, keep * plane * MemoryLayout<Float>.stride) }
                    (row + max(0, keep) * plane).update(repeating: 0, count: min(depth, shift) * plane)
                }
            }
            base = end
        }

        /// Runs the network on the collected windows and adds their weighted outputs. A batch may
        /// span two rows of windows (the slab holds both: depth = patch + the largest step), so that
        /// a row whose window count is not a multiple of the batch leaves no short batch behind.
        func runBatch() throws {
            let b = origins.count
            guard b > 0 else { return }
            // Without mirroring the network's output is added as it is (a copy into `out` was 3-4 %
            // of a 2-thread inference, serial).
            var direct: [Float]? = nil
            for axes in mirrors {
                var input = b == batch ? patches : Array(patches[0..<(b * pc)])
                if !axes.isEmpty {
                    for w in 0..<b {
                        let m = SlidingWindow.mirrored(Array(patches[(w * pc)..<((w + 1) * pc)]), channels: channels, size: p, axes: axes)
                        input.replaceSubrange((w * pc)..<((w + 1) * pc), with: m)
                    }
                }
                let y = try network(input, b, channels, p)
                guard y.count == b * pk else {
                    throw VolumeError.invalidArgument("network returned \(y.count) values for \(b) \(p) patch(es) with \(classes) classes (expected \(b * pk))")
                }
                if mirrors.count == 1 && axes.isEmpty { direct = y; break }
                out.withUnsafeMutableBufferPointer { o in
                    for w in 0..<b {
                        let back = axes.isEmpty ? [] : SlidingWindow.mirrored(Array(y[(w * pk)..<((w + 1) * pk)]), channels: classes, size: p, axes: axes)
                        (axes.isEmpty ? y : back).withUnsafeBufferPointer { yb in
                            let from = axes.isEmpty ? w * pk : 0, to = w * pk
                            if axes.isEmpty { for i in 0..<pk { o[to + i] = yb[from + i] } }
                            else { for i in 0..<pk { o[to + i] += yb[from + i] } }
                        }
                    }
                }
            }
            let scale = 1 / Float(mirrors.count)
            acc.withUnsafeMutableBufferPointer { a in
                (direct ?? out).withUnsafeBufferPointer { o in
                    gauss.withUnsafeBufferPointer { g in
                        let ap = a.baseAddress!, op = o.baseAddress!, gp = g.baseAddress!
                        // (class, slab plane) pairs in parallel: each writes its own plane of the slab;
                        // windows are added in order within a pair, so the sums do not depend on threads
                        // or on how the windows were batched.
                        Compute.parallelFor(classes * depth) { job in
                            let c = job / depth, zl = job % depth
                            for (w, origin) in origins.enumerated() {
                                let k = zl + base - origin.z
                                guard k >= 0 && k < p.z else { continue }
                                for j in 0..<p.y {
                                    let dst = c * slab + zl * plane + (origin.y + j) * padded.x + origin.x
                                    let src = p.index(0, j, k)
                                    let oc = w * pk + c * pn + src
                                    for i in 0..<p.x { ap[dst + i] += op[oc + i] * scale * gp[src + i] }
                                }
                            }
                        }
                    }
                }
            }
            done += b
            progress?(done, total)
            origins.removeAll(keepingCapacity: true)
        }

        for z0 in zs {
            // Every later window starts at or after z0: the slices before it are finished once the
            // windows still waiting for a batch are added.
            if z0 + p.z > base + depth {
                try runBatch()
                try flush(upTo: z0)
            }
            for y0 in ys {
                for x0 in xs {
                    let w = origins.count
                    paddedImage.data.withUnsafeBufferPointer { src in
                        patches.withUnsafeMutableBufferPointer { dst in
                            let sp = src.baseAddress!, dp = dst.baseAddress!
                            // (channel, plane) pairs in parallel once a patch is large (64³: 1 MiB).
                            let jobs = pc >= 1 << 16 ? channels * p.z : 1
                            Compute.parallelFor(jobs) { job in
                                let pairs = jobs == 1 ? 0..<(channels * p.z) : job..<(job + 1)
                                for pair in pairs {
                                    let c = pair / p.z, k = pair % p.z
                                    for j in 0..<p.y {
                                        (dp + w * pc + c * pn + p.index(0, j, k))
                                            .update(from: sp + c * padded.count + padded.index(x0, y0 + j, z0 + k), count: p.x)
                                    }
                                }
                            }
                        }
                    }
                    origins.append((x0, y0, z0))
                    if origins.count == batch { try runBatch() }
                }
            }
        }
        try runBatch()
        try flush(upTo: padded.z)
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

    /// Softmax over the `classes` values of one voxel, `stride` apart, in place.
    @inline(__always)
    static func softmaxVoxel(_ d: UnsafeMutablePointer<Float>, classes: Int, stride n: Int) {
        var m = -Float.infinity
        for c in 0..<classes { m = max(m, d[c * n]) }
        var total: Float = 0
        for c in 0..<classes { let e = exp(d[c * n] - m); d[c * n] = e; total += e }
        for c in 0..<classes { d[c * n] /= total }
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

/// `predictCase` with a network that takes `window.batch` patches per call.
public func predictCase(image: Volume, preprocessor: Preprocessor, window: SlidingWindow,
                        batchNetwork network: PatchBatchNetwork) throws -> (probabilities: Volume, labels: LabelVolume) {
    let pre = try preprocessor.run(id: "inference", image: image)
    let probs = try window.predict(pre.image, classes: preprocessor.plan.classCount, batchNetwork: network)
    let full = preprocessor.restore(probabilities: probs, record: pre.record)
    return (full, argmax(full))
}

/// `predictCase(...).labels` with bounded memory: the source volume is consumed by preprocessing,
/// the probabilities stream out of the sliding window one slice at a time and are resampled back
/// and arg-maxed as they come (same arithmetic as `restore` + `argmax`). Peak: the preprocessed
/// volume plus slabs, instead of (2 + 3K) volumes.
public func predictCaseLabels(image: consuming Volume, preprocessor: Preprocessor, window: SlidingWindow, network: @escaping PatchNetwork,
                              progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> LabelVolume {
    var one = window
    one.batch = 1
    return try predictCaseLabels(image: consume image, preprocessor: preprocessor, window: one,
                                 batchNetwork: SlidingWindow.batched(network), progress: progress)
}

public func predictCaseLabels(image: consuming Volume, preprocessor: Preprocessor, window: SlidingWindow, batchNetwork network: PatchBatchNetwork,
                              progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> LabelVolume {
    let pre = try preprocessor.run(id: "inference", image: consume image)
    let classes = preprocessor.plan.classCount
    var restorer = LabelRestorer(source: pre.image.shape, record: pre.record, classes: classes)
    try window.stream(pre.image, classes: classes, batchNetwork: network, progress: progress) { z, probs in restorer.push(z: z, probs: probs) }
    return LabelVolume(grid: pre.record.originalGrid, data: restorer.labels)
}

/// Trilinear resampling of K probability slices from the preprocessed grid to the crop box of the
/// original grid, then the argmax, one slice at a time. The passes run x, then y, then z like
/// `Resample.trilinear`, so the result is bit-identical to `argmax(restore(...))`.
struct LabelRestorer {
    let source: Shape3, box: Box3, full: Shape3, classes: Int
    let crop: Shape3
    let x0: [Int], x1: [Int], xw: [Float], y0: [Int], y1: [Int], yw: [Float], z0: [Int], z1: [Int], zw: [Float]
    /// Background outside the crop box (probability 1 for class 0 there).
    var labels: [UInt8]
    /// The last two source slices after the x and y passes (slot z % 2), K × crop.x × crop.y each.
    var planes: [[Float]]
    var rows: [Float]
    var blended: [Float]
    var next = 0

    init(source: Shape3, record: PreprocessRecord, classes: Int) {
        self.source = source; self.box = record.crop; self.full = record.originalGrid.shape; self.classes = classes
        crop = record.crop.size
        func axis(_ nIn: Int, _ nOut: Int) -> ([Int], [Int], [Float]) {
            let c = Resample.coordinates(nIn, nOut)
            let i0 = c.map { Int($0.rounded(.down)) }
            return (i0, i0.map { min($0 + 1, nIn - 1) }, zip(c, i0).map { Float($0 - Double($1)) })
        }
        (x0, x1, xw) = axis(source.x, crop.x); (y0, y1, yw) = axis(source.y, crop.y); (z0, z1, zw) = axis(source.z, crop.z)
        labels = [UInt8](repeating: 0, count: full.count)
        planes = [[Float]](repeating: [Float](repeating: 0, count: classes * crop.x * crop.y), count: 2)
        rows = [Float](repeating: 0, count: classes * crop.x * source.y)
        blended = [Float](repeating: 0, count: classes * crop.x * crop.y)
    }

    mutating func push(z: Int, probs: UnsafeBufferPointer<Float>) {
        let sp = source.x * source.y, cx = crop.x, cp = crop.x * crop.y
        let sameX = source.x == crop.x, sameY = source.y == crop.y
        // x pass: K × source.y rows of source.x → crop.x.
        rows.withUnsafeMutableBufferPointer { r in
            for c in 0..<classes { for j in 0..<source.y {
                let src = probs.baseAddress! + c * sp + j * source.x
                let dst = r.baseAddress! + (c * source.y + j) * cx
                if sameX { dst.update(from: src, count: cx); continue }
                for i in 0..<cx { let w = xw[i]; dst[i] = src[x0[i]] * (1 - w) + src[x1[i]] * w }
            } }
        }
        // y pass: rows → crop.y, into slot z % 2.
        let slot = z % 2
        planes[slot].withUnsafeMutableBufferPointer { pl in
            rows.withUnsafeBufferPointer { r in
                for c in 0..<classes { for j in 0..<crop.y {
                    let dst = pl.baseAddress! + c * cp + j * cx
                    if sameY { dst.update(from: r.baseAddress! + (c * source.y + j) * cx, count: cx); continue }
                    let a = r.baseAddress! + (c * source.y + y0[j]) * cx, b = r.baseAddress! + (c * source.y + y1[j]) * cx
                    let w = yw[j], wa = 1 - w
                    for t in 0..<cx { dst[t] = a[t] * wa + b[t] * w }
                } }
            }
        }
        // z pass for every output slice whose two source slices have arrived (they are z - 1 and z).
        while next < crop.z && z1[next] <= z {
            let k = next
            let w = zw[k], wa = 1 - w
            let a = planes[z0[k] % 2], b = planes[z1[k] % 2]
            let same = source.z == crop.z
            blended.withUnsafeMutableBufferPointer { d in
                for t in 0..<(classes * cp) { d[t] = same ? a[t] : a[t] * wa + b[t] * w }
            }
            blended.withUnsafeBufferPointer { d in
                labels.withUnsafeMutableBufferPointer { out in
                    for j in 0..<crop.y {
                        let row = full.index(box.lower.x, box.lower.y + j, box.lower.z + k)
                        for i in 0..<cx {
                            var best = d[j * cx + i], label = 0
                            for c in 1..<max(1, classes) where d[c * cp + j * cx + i] > best { best = d[c * cp + j * cx + i]; label = c }
                            out[row + i] = UInt8(label)
                        }
                    }
                }
            }
            next += 1
        }
    }
}
