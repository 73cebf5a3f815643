// Trilinear ×2 upsampling with PyTorch's align_corners=false semantics, forward and backward.
//
// Output index o maps to source s = (o + 0.5) / 2 - 0.5, clamped at 0; i0 = floor(s), i1 = min(i0 + 1,
// n - 1), weights (1 - λ, λ) with λ = s - i0. The op is separable, so it runs as three 1-D passes
// (W, then H, then D); backward applies the transposed passes in reverse order. Along W the
// weights are the fixed 0.75/0.25 pattern with clamped ends, written out directly.

import Tensor

/// Source indices and weights of a ×2 linear resampling along one axis of length n.
struct LinearTaps {
    let i0: [Int], i1: [Int], w0: [Float], w1: [Float]

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
    }
}

enum Upsample2x {
    /// The W pass (contiguous rows): fixed weights 0.25/0.75 with clamped ends.
    static func rows(_ x: Tensor, rows: Int, n: Int, outShape: [Int]) -> Tensor {
        var y = Tensor(uninitialized: outShape)
        x.withUnsafePointer { xp in y.withUnsafeMutablePointer { yp in
            Compute.parallelChunks(count: rows, grain: max(1, parallelGrain / max(1, n))) { _, r in
                for row in r {
                    let s = xp + row * n, d = yp + row * 2 * n
                    d[0] = s[0]
                    for k in 0..<(n - 1) {
                        let a = s[k], b = s[k + 1]
                        d[2 * k + 1] = 0.75 * a + 0.25 * b
                        d[2 * k + 2] = 0.25 * a + 0.75 * b
                    }
                    d[2 * n - 1] = s[n - 1]
                }
            }
        } }
        return y
    }

    /// Transpose of `rows`.
    static func rowsBackward(_ g: Tensor, rows: Int, n: Int, inShape: [Int]) -> Tensor {
        var x = Tensor(uninitialized: inShape)
        g.withUnsafePointer { gp in x.withUnsafeMutablePointer { xp in
            Compute.parallelChunks(count: rows, grain: max(1, parallelGrain / max(1, n))) { _, r in
                for row in r {
                    let s = gp + row * 2 * n, d = xp + row * n
                    if n == 1 { d[0] = s[0] + s[1]; continue }
                    d[0] = s[0] + 0.75 * s[1] + 0.25 * s[2]
                    for k in 1..<(n - 1) {
                        d[k] = 0.25 * s[2 * k - 1] + 0.75 * s[2 * k] + 0.75 * s[2 * k + 1] + 0.25 * s[2 * k + 2]
                    }
                    d[n - 1] = 0.25 * s[2 * n - 3] + 0.75 * s[2 * n - 2] + s[2 * n - 1]
                }
            }
        } }
        return x
    }

    /// One pass along an axis: input viewed as [outer, n, inner] → [outer, 2n, inner].
    static func pass(_ x: Tensor, outer: Int, n: Int, inner: Int, taps: LinearTaps, outShape: [Int]) -> Tensor {
        var y = Tensor(uninitialized: outShape)
        x.withUnsafePointer { xp in y.withUnsafeMutablePointer { yp in
            Compute.parallelFor(outer) { b in
                let src = xp + b * n * inner, dst = yp + b * 2 * n * inner
                for o in 0..<(2 * n) {
                    let r0 = src + taps.i0[o] * inner, r1 = src + taps.i1[o] * inner, d = dst + o * inner
                    let a = taps.w0[o], c = taps.w1[o]
                    for i in 0..<inner { d[i] = a * r0[i] + c * r1[i] }
                }
            }
        } }
        return y
    }

    /// Transposed pass: [outer, 2n, inner] → [outer, n, inner].
    static func passBackward(_ g: Tensor, outer: Int, n: Int, inner: Int, taps: LinearTaps, inShape: [Int]) -> Tensor {
        var x = Tensor.zeros(inShape)
        g.withUnsafePointer { gp in x.withUnsafeMutablePointer { xp in
            Compute.parallelFor(outer) { b in
                let src = gp + b * 2 * n * inner, dst = xp + b * n * inner
                for o in 0..<(2 * n) {
                    let s = src + o * inner, d0 = dst + taps.i0[o] * inner, d1 = dst + taps.i1[o] * inner
                    let a = taps.w0[o], c = taps.w1[o]
                    for i in 0..<inner { d0[i] += a * s[i] }
                    for i in 0..<inner { d1[i] += c * s[i] }
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
    let shapeW = [s[0], s[1], d, h, 2 * w], shapeH = [s[0], s[1], d, 2 * h, 2 * w]
    let shapeD = [s[0], s[1], 2 * d, 2 * h, 2 * w]
    let y = OpProfile.measure(.resample) {
        let a = Upsample2x.rows(x.value, rows: nc * d * h, n: w, outShape: shapeW)
        let b = Upsample2x.pass(a, outer: nc * d, n: h, inner: 2 * w, taps: th, outShape: shapeH)
        return Upsample2x.pass(b, outer: nc, n: d, inner: 4 * h * w, taps: td, outShape: shapeD)
    }
    return Variable.make(y, inputs: [x], kind: .resample) { g in
        let gb = Upsample2x.passBackward(g, outer: nc, n: d, inner: 4 * h * w, taps: td, inShape: shapeH)
        let ga = Upsample2x.passBackward(gb, outer: nc * d, n: h, inner: 2 * w, taps: th, inShape: shapeW)
        x.accumulateGrad(Upsample2x.rowsBackward(ga, rows: nc * d * h, n: w, inShape: s))
    }
}
