// Trilinear ×2 upsampling with PyTorch's align_corners=false semantics, forward and backward.
//
// Output index o maps to source s = (o + 0.5) / 2 - 0.5, clamped at 0; i0 = floor(s), i1 = min(i0 + 1,
// n - 1), weights (1 - λ, λ) with λ = s - i0. The op is separable: each output plane blends two
// input planes (D), each of its rows two rows of that blend (H), then the row is resampled along W,
// where the weights are the fixed 0.75/0.25 pattern with clamped ends, written out directly.
// Backward is the transpose, per input plane. Where the direct conv kernels run (AVX-512), one plane
// of either pass is a C kernel (CConvKernels/upsample.c: the W pass as vector interleaves); the Swift
// loops stay as the reference path and for other CPUs.

import CConvKernels
import Tensor

/// Source indices and weights of a ×2 linear resampling along one axis of length n.
struct LinearTaps {
    let i0: [Int], i1: [Int], w0: [Float], w1: [Float]
    /// i0 and i1 for the C kernels.
    let i0c: [Int32], i1c: [Int32]

    init(inputLength n: Int) {
        var i0 = [Int](), i1 = [Int](), w0 = [Float](), w1 = [Float]()
        for o in 0..<(2 * n) {
            let s = max(0, (Double(o) + 0.5) * 0.5 - 0.5)
            let a = min(Int(s), n - 1)
            let lam = Float(s - Double(a))
            i0.append(a)
            i1.append(a < n - 1 ? a + 1 : a)
            w0.append(1 - lam)
            w1.append(lam)
        }
        self.i0 = i0; self.i1 = i1; self.w0 = w0; self.w1 = w1
        i0c = i0.map { Int32($0) }; i1c = i1.map { Int32($0) }
    }
}

enum Upsample2x {
    /// Whether the passes run the C kernels (else the Swift reference loops, which the tests compare
    /// them with by passing `kernels:`; no global switch, so concurrent tests never see a mix).
    static var kernels: Bool { Conv3dDirectKernel.available }

    /// One row along W: d[0..<2n] from s[0..<n], fixed weights 0.25/0.75 with clamped ends.
    @inline(__always)
    static func upRow(_ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, n: Int) {
        d[0] = s[0]
        for k in 0..<(n - 1) {
            let a = s[k], b = s[k + 1]
            d[2 * k + 1] = 0.75 * a + 0.25 * b
            d[2 * k + 2] = 0.25 * a + 0.75 * b
        }
        d[2 * n - 1] = s[n - 1]
    }

    /// Transpose of `upRow`: d[0..<n] from s[0..<2n].
    @inline(__always)
    static func downRow(_ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, n: Int) {
        if n == 1 { d[0] = s[0] + s[1]; return }
        d[0] = s[0] + 0.75 * s[1] + 0.25 * s[2]
        for k in 1..<max(1, n - 1) {
            d[k] = 0.25 * s[2 * k - 1] + 0.75 * s[2 * k] + 0.75 * s[2 * k + 1] + 0.25 * s[2 * k + 2]
        }
        d[n - 1] = 0.25 * s[2 * n - 3] + 0.75 * s[2 * n - 2] + s[2 * n - 1]
    }

    /// For each input index, the (output index, weight) pairs of `taps` that read it: the transpose.
    static func contributors(_ taps: LinearTaps, inputLength n: Int) -> [[(Int, Float)]] {
        var list = [[(Int, Float)]](repeating: [], count: n)
        for o in taps.i0.indices {
            list[taps.i0[o]].append((o, taps.w0[o]))
            list[taps.i1[o]].append((o, taps.w1[o]))
        }
        return list
    }

    /// The kernels' transpose tables: for each input index, the distinct output indices that read it
    /// with a nonzero weight (weights of one output index added), at most 4, as [n][4] lists and counts.
    static func readers(_ taps: LinearTaps, inputLength n: Int) -> (index: [Int32], weight: [Float], count: [Int32]) {
        var index = [Int32](repeating: 0, count: 4 * n), weight = [Float](repeating: 0, count: 4 * n)
        var count = [Int32](repeating: 0, count: n)
        for (i, list) in contributors(taps, inputLength: n).enumerated() {
            var merged: [(Int, Float)] = []
            for (o, w) in list where w != 0 {
                if let k = merged.firstIndex(where: { $0.0 == o }) { merged[k].1 += w } else { merged.append((o, w)) }
            }
            precondition(merged.count <= 4, "upsample: input index \(i) is read by \(merged.count) outputs")
            for (k, (o, w)) in merged.enumerated() { index[4 * i + k] = Int32(o); weight[4 * i + k] = w }
            count[i] = Int32(merged.count)
        }
        return (index, weight, count)
    }

    /// [planes, d, h, w] → [planes, 2d, 2h, 2w] in one pass: per output plane, the two input planes
    /// blended along D into a scratch plane, then per output row the two scratch rows along H, then
    /// W. Each output value is written once (three separate 1-D passes wrote 2 + 4 + 8 times the
    /// input through two intermediate tensors); output planes are the pool's jobs. (The kernel blends
    /// each output row's four input rows directly, in registers; the reference loops use the scratch.)
    static func forward(_ x: Tensor, planes: Int, d: Int, h: Int, w: Int, th: LinearTaps, td: LinearTaps,
                        outShape: [Int], kernels: Bool = Upsample2x.kernels) -> Tensor {
        var y = Tensor(uninitialized: outShape)
        let hw = h * w, ohw = 4 * hw
        if kernels {
            x.withUnsafePointer { xp in y.withUnsafeMutablePointer { yp in
                // Jobs listed along z (every plane's zo before zo + 1): the pool's two ends then keep
                // each core on one z-half, as the convs and norms around it (ThreadPool.drain).
                Compute.parallelFor(planes * 2 * d) { job in
                    let b = job % planes, zo = job / planes
                    c2f_upsample2x_plane(xp + (b * d + td.i0[zo]) * hw, xp + (b * d + td.i1[zo]) * hw,
                                         td.w0[zo], td.w1[zo], yp + (b * 2 * d + zo) * ohw, Int32(h), Int32(w),
                                         th.i0c, th.i1c, th.w0, th.w1)
                }
            } }
            return y
        }
        x.withUnsafePointer { xp in y.withUnsafeMutablePointer { yp in
            Compute.parallelFor(planes * 2 * d) { job in
                let b = job / (2 * d), zo = job % (2 * d)
                let p0 = xp + (b * d + td.i0[zo]) * hw, p1 = xp + (b * d + td.i1[zo]) * hw
                let a0 = td.w0[zo], a1 = td.w1[zo]
                withUnsafeTemporaryAllocation(of: Float.self, capacity: hw + w) { scratch in
                    let plane = scratch.baseAddress!, row = plane + hw
                    for i in 0..<hw { plane[i] = a0 * p0[i] + a1 * p1[i] }
                    let out = yp + (b * 2 * d + zo) * ohw
                    for yo in 0..<(2 * h) {
                        let r0 = plane + th.i0[yo] * w, r1 = plane + th.i1[yo] * w
                        let c0 = th.w0[yo], c1 = th.w1[yo]
                        for i in 0..<w { row[i] = c0 * r0[i] + c1 * r1[i] }
                        upRow(row, out + yo * 2 * w, n: w)
                    }
                }
            }
        } }
        return y
    }

    /// Transpose of `forward`: per input plane, every output plane that reads it (at most four),
    /// each output row taken back along W and added into the two input rows it reads, weighted
    /// (the reference loops; the kernel gathers per input row instead).
    static func backward(_ g: Tensor, planes: Int, d: Int, h: Int, w: Int, th: LinearTaps, td: LinearTaps,
                         inShape: [Int], kernels: Bool = Upsample2x.kernels) -> Tensor {
        var x = Tensor(uninitialized: inShape)
        let hw = h * w, ohw = 4 * hw
        if kernels {
            // Per input plane, the (at most 4) output planes that read it summed into a scratch plane,
            // then each input row gathered from the (at most 4) rows of it (CConvKernels/upsample.c).
            let (zs, ws, nz) = readers(td, inputLength: d)
            let (ys, yws, ny) = readers(th, inputLength: h)
            g.withUnsafePointer { gp in x.withUnsafeMutablePointer { xp in
            zs.withUnsafeBufferPointer { zp in ws.withUnsafeBufferPointer { wp in
                Compute.parallelFor(planes * d) { job in
                    let b = job % planes, z = job / planes   // along z, as the forward
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: ohw) { scratch in
                        c2f_upsample2x_backward_plane(gp + b * 2 * d * ohw, ohw, zp.baseAddress! + 4 * z, wp.baseAddress! + 4 * z,
                                                      nz[z], xp + (b * d + z) * hw, Int32(h), Int32(w), ys, yws, ny,
                                                      scratch.baseAddress!)
                    }
                }
            } }
            } }
            return x
        }
        let fromZ = contributors(td, inputLength: d)
        g.withUnsafePointer { gp in x.withUnsafeMutablePointer { xp in
            Compute.parallelFor(planes * d) { job in
                let b = job / d, z = job % d
                let acc = xp + (b * d + z) * hw
                acc.update(repeating: 0, count: hw)
                withUnsafeTemporaryAllocation(of: Float.self, capacity: w) { scratch in
                    let row = scratch.baseAddress!
                    for (zo, a) in fromZ[z] {
                        let src = gp + (b * 2 * d + zo) * ohw
                        for yo in 0..<(2 * h) {
                            downRow(src + yo * 2 * w, row, n: w)
                            let r0 = acc + th.i0[yo] * w, r1 = acc + th.i1[yo] * w
                            let c0 = a * th.w0[yo], c1 = a * th.w1[yo]
                            for i in 0..<w { r0[i] += c0 * row[i] }
                            for i in 0..<w { r1[i] += c1 * row[i] }
                        }
                    }
                }
            }
        } }
        return x
    }
}

/// Trilinear upsampling by 2 along D, H and W (N,C,D,H,W → N,C,2D,2H,2W), align_corners=false.
public func upsampleTrilinear2x(_ x: Variable) -> Variable {
    let s = x.shape
    precondition(s.count == 5, "upsampleTrilinear2x: input must be N,C,D,H,W, got \(s)")
    let nc = s[0] * s[1], d = s[2], h = s[3], w = s[4]
    let th = LinearTaps(inputLength: h), td = LinearTaps(inputLength: d)
    let shapeD = [s[0], s[1], 2 * d, 2 * h, 2 * w]
    let label = { profileLabel("upsample to", shapeD) }
    let y = OpProfile.withDetail(label()) {
        OpProfile.measure(.resample) {
            Upsample2x.forward(x.value, planes: nc, d: d, h: h, w: w, th: th, td: td, outShape: shapeD)
        }
    }
    return Variable.make(y, inputs: [x], kind: nil) { g in
        OpProfile.withDetail(label()) {
            OpProfile.measure(.resample) {
                x.accumulateGrad(Upsample2x.backward(g, planes: nc, d: d, h: h, w: w, th: th, td: td, inShape: s))
            }
        }
    }
}
