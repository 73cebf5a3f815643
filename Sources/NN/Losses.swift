// Softmax (over channels, or over a vector), soft Dice loss, cross-entropy, and their sum.
//
// Labels are a Tensor of class indices stored as Floats (0, 1, …, C-1), shape N,1,D,H,W or
// N,D,H,W (one label per voxel), matching the logits' N and spatial extents.

import Foundation
import Tensor

/// Softmax across the channel axis of an N,C,… tensor, for every sample and voxel.
public func softmaxChannels(_ x: Variable) -> Variable {
    let s = x.shape
    precondition(s.count >= 2, "softmaxChannels: input needs a channel axis, got \(s)")
    let n = s[0], c = s[1], v = x.value.count / max(1, n * c)
    let y = OpProfile.measure(.loss) {
        var y = Tensor(uninitialized: s)
        x.value.withUnsafePointer { xp in y.withUnsafeMutablePointer { yp in
            SoftmaxKernel.forward(xp, yp, n: n, c: c, v: v)
        } }
        return y
    }
    return Variable.make(y, inputs: [x], kind: .loss) { g in
        var dx = Tensor(uninitialized: s)
        y.withUnsafePointer { yp in g.withUnsafePointer { gp in dx.withUnsafeMutablePointer { dp in
            let chunks = Compute.chunkCount(count: v, grain: 4096)
            Compute.parallelFor(n * chunks) { job in
                let sample = job / chunks, r = Compute.chunkRange(job % chunks, chunks: chunks, count: v)
                let base = sample * c * v
                withUnsafeTemporaryAllocation(of: Float.self, capacity: r.count) { dot in
                    let dotp = dot.baseAddress!
                    dotp.update(repeating: 0, count: r.count)
                    for ch in 0..<c {
                        let ys = yp + base + ch * v + r.lowerBound, gs = gp + base + ch * v + r.lowerBound
                        for i in 0..<r.count { dotp[i] += ys[i] * gs[i] }
                    }
                    for ch in 0..<c {
                        let o = base + ch * v + r.lowerBound
                        let ys = yp + o, gs = gp + o, ds = dp + o
                        for i in 0..<r.count { ds[i] = ys[i] * (gs[i] - dotp[i]) }
                    }
                }
            }
        } } }
        x.accumulateGrad(dx)
    }
}

enum SoftmaxKernel {
    /// Channel softmax of n samples × c channels × v voxels.
    static func forward(_ xp: UnsafePointer<Float>, _ yp: UnsafeMutablePointer<Float>, n: Int, c: Int, v: Int) {
        let chunks = Compute.chunkCount(count: v, grain: 4096)
        Compute.parallelFor(n * chunks) { job in
            let sample = job / chunks, r = Compute.chunkRange(job % chunks, chunks: chunks, count: v)
            let base = sample * c * v + r.lowerBound
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * r.count) { tmp in
                let mx = tmp.baseAddress!, total = mx + r.count
                mx.update(from: xp + base, count: r.count)
                for ch in 1..<max(1, c) {
                    let xs = xp + base + ch * v
                    for i in 0..<r.count { mx[i] = max(mx[i], xs[i]) }
                }
                total.update(repeating: 0, count: r.count)
                let end = r.count & ~15
                for ch in 0..<c {
                    let xs = xp + base + ch * v, ys = yp + base + ch * v
                    var i = 0
                    while i < end {   // 16 lanes: Kernels.exp instead of a libm call per value
                        let e = Kernels.exp(UnsafeRawPointer(xs + i).loadUnaligned(as: SIMD16<Float>.self)
                                            - UnsafeRawPointer(mx + i).loadUnaligned(as: SIMD16<Float>.self))
                        UnsafeMutableRawPointer(ys + i).storeBytes(of: e, as: SIMD16<Float>.self)
                        let tsum = UnsafeRawPointer(total + i).loadUnaligned(as: SIMD16<Float>.self) + e
                        UnsafeMutableRawPointer(total + i).storeBytes(of: tsum, as: SIMD16<Float>.self)
                        i += 16
                    }
                    while i < r.count { let e = expf(xs[i] - mx[i]); ys[i] = e; total[i] += e; i += 1 }
                }
                for i in 0..<r.count { total[i] = 1 / total[i] }
                for ch in 0..<c {
                    let ys = yp + base + ch * v
                    for i in 0..<r.count { ys[i] *= total[i] }
                }
            }
        }
    }
}

/// Softmax over all entries of a vector (e.g. architecture logits α of one cell).
public func softmax(_ x: Variable) -> Variable {
    precondition(x.shape.count == 1, "softmax: expects a vector, got \(x.shape) (use softmaxChannels for N,C,…)")
    let v = x.value.scalars
    let m = v.max() ?? 0
    let e = v.map { Double(Foundation.exp($0 - m)) }
    let z = e.reduce(0, +)
    let y = e.map { Float($0 / z) }
    return Variable.make(Tensor(shape: x.shape, scalars: y), inputs: [x], kind: .loss) { g in
        let gs = g.scalars
        let dot = zip(y, gs).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        x.accumulateGrad(Tensor(shape: x.shape, scalars: (0..<y.count).map { y[$0] * (gs[$0] - Float(dot)) }))
    }
}

/// Reads labels as class indices, checking shape and range.
func classIndices(_ labels: Tensor, n: Int, c: Int, v: Int, op: String) -> [Int32] {
    precondition(labels.count == n * v, "\(op): labels \(labels.shape) do not match \(n) samples × \(v) voxels")
    return labels.withUnsafeBufferPointer { p in
        p.map { value in
            let k = Int32(value)
            precondition(Float(k) == value && k >= 0 && Int(k) < c,
                         "\(op): label value \(value) is not a class index in 0..<\(c)")
            return k
        }
    }
}

/// Soft Dice loss on probabilities p (N,C,…): 1 - mean over (sample, class) of
/// (2 Σ p·g + smooth) / (Σ p + Σ g + smooth), g the one-hot label. `includeBackground: false`
/// drops class 0; `batchDice: true` sums over the batch before the ratio (one Dice per class).
public func softDiceLoss(probabilities p: Variable, labels: Tensor, includeBackground: Bool = false,
                         smooth: Float = 1e-5, batchDice: Bool = false) -> Variable {
    OpProfile.measure(.loss) {
        softDiceForward(p, labels: labels, includeBackground: includeBackground, smooth: smooth, batchDice: batchDice)
    }
}

private func softDiceForward(_ p: Variable, labels: Tensor, includeBackground: Bool, smooth: Float,
                             batchDice: Bool) -> Variable {
    let s = p.shape
    precondition(s.count >= 2, "softDiceLoss: probabilities need N,C,…, got \(s)")
    let n = s[0], c = s[1], v = p.value.count / max(1, n * c)
    let first = includeBackground ? 0 : 1
    precondition(c > first, "softDiceLoss: \(c) classes leave nothing to score (includeBackground: \(includeBackground))")
    let lab = classIndices(labels, n: n, c: c, v: v, op: "softDiceLoss")
    // Σ p·g, Σ p, Σ g per (sample, class), Double, fixed order.
    var inter = [Double](repeating: 0, count: n * c), psum = inter, gsum = inter
    p.value.withUnsafePointer { pp in lab.withUnsafeBufferPointer { lp in
        for sample in 0..<n {
            for ch in 0..<c {
                let ps = pp + (sample * c + ch) * v, ls = lp.baseAddress! + sample * v
                psum[sample * c + ch] = Kernels.serialSum(ps, count: v)
                var i = 0.0, gcount = 0.0
                for k in 0..<v where ls[k] == Int32(ch) { i += Double(ps[k]); gcount += 1 }
                inter[sample * c + ch] = i
                gsum[sample * c + ch] = gcount
            }
        }
    } }
    let (diceTotal, terms, coefA, coefB) = diceCoefficients(inter: inter, psum: psum, gsum: gsum, samples: n,
                                                           classes: c, first: first, batchDice: batchDice, smooth: smooth)
    let loss = Tensor(scalar: Float(1 - diceTotal / terms))
    return Variable.make(loss, inputs: [p], kind: .loss) { g in
        let scale = -g.item / Float(terms)
        var dp = Tensor.zeros(s)
        lab.withUnsafeBufferPointer { lp in dp.withUnsafeMutablePointer { dpp in
            for sample in 0..<n {
                let gi = batchDice ? 0 : sample
                for ch in first..<c {
                    let a = scale * coefA[gi * c + ch], b = scale * coefB[gi * c + ch]
                    let ds = dpp + (sample * c + ch) * v, ls = lp.baseAddress! + sample * v
                    let label = Int32(ch)
                    for k in 0..<v { ds[k] = (ls[k] == label ? a : 0) - b }
                }
            }
        } }
        p.accumulateGrad(dp)
    }
}

/// The soft Dice terms from per-(sample, class) sums Σ p·g, Σ p, Σ g: Σ of the Dice ratios, their
/// count, and per (group, class) the coefficients of dDice/dp = A·g − B. Groups are samples, or one
/// group with `batchDice` (sums over the batch before the ratio).
func diceCoefficients(inter: [Double], psum: [Double], gsum: [Double], samples n: Int, classes c: Int,
                      first: Int, batchDice: Bool, smooth: Float)
    -> (total: Double, terms: Double, coefA: [Float], coefB: [Float]) {
    let groups = batchDice ? 1 : n
    func groupSums(_ a: [Double], _ gi: Int, _ ch: Int) -> Double {
        batchDice ? (0..<n).reduce(0) { $0 + a[$1 * c + ch] } : a[gi * c + ch]
    }
    let sm = Double(smooth)
    var total = 0.0
    var coefA = [Float](repeating: 0, count: groups * c), coefB = coefA
    for gi in 0..<groups {
        for ch in first..<c {
            let i = groupSums(inter, gi, ch), ps = groupSums(psum, gi, ch), gs = groupSums(gsum, gi, ch)
            let num = 2 * i + sm, den = ps + gs + sm
            total += num / den
            coefA[gi * c + ch] = Float(2 / den)
            coefB[gi * c + ch] = Float(num / (den * den))
        }
    }
    return (total, Double(groups * (c - first)), coefA, coefB)
}

/// Mean cross-entropy over all voxels of N,C,… logits against class-index labels.
public func crossEntropyLoss(logits x: Variable, labels: Tensor) -> Variable {
    OpProfile.measure(.loss) { crossEntropyForward(x, labels: labels) }
}

private func crossEntropyForward(_ x: Variable, labels: Tensor) -> Variable {
    let s = x.shape
    precondition(s.count >= 2, "crossEntropyLoss: logits need N,C,…, got \(s)")
    let n = s[0], c = s[1], v = x.value.count / max(1, n * c)
    let lab = classIndices(labels, n: n, c: c, v: v, op: "crossEntropyLoss")
    var prob = Tensor(uninitialized: s)
    x.value.withUnsafePointer { xp in prob.withUnsafeMutablePointer { yp in
        SoftmaxKernel.forward(xp, yp, n: n, c: c, v: v)
    } }
    var total = 0.0
    prob.withUnsafePointer { pp in
        for sample in 0..<n {
            for k in 0..<v {
                let q = pp[(sample * c + Int(lab[sample * v + k])) * v + k]
                total -= Double(logf(max(q, Float.leastNormalMagnitude)))
            }
        }
    }
    let count = Float(n * v)
    return Variable.make(Tensor(scalar: Float(total / Double(n * v))), inputs: [x], kind: .loss) { g in
        let scale = g.item / count
        var dx = prob
        dx.withUnsafeMutablePointer { dp in
            Kernels.scale(dp, by: scale, count: n * c * v)
            for sample in 0..<n {
                for k in 0..<v { dp[(sample * c + Int(lab[sample * v + k])) * v + k] -= scale }
            }
        }
        x.accumulateGrad(dx)
    }
}

/// Dice (on softmax of the logits) + cross-entropy, weighted: the segmentation loss. One fused op:
/// the softmax is computed once, the per-class sums and the cross-entropy in one parallel pass, and
/// the backward writes d(loss)/d(logits) in one pass (the composition of `softDiceLoss`,
/// `softmaxChannels` and `crossEntropyLoss` gives the same value and gradient; a test checks it).
/// Sums run over fixed voxel chunks (independent of the thread count) combined in order.
public func diceCELoss(logits: Variable, labels: Tensor, includeBackground: Bool = false, smooth: Float = 1e-5,
                       batchDice: Bool = false, diceWeight: Float = 1, ceWeight: Float = 1) -> Variable {
    OpProfile.measure(.loss) {
        fusedDiceCE(logits, labels: labels, includeBackground: includeBackground, smooth: smooth,
                    batchDice: batchDice, diceWeight: diceWeight, ceWeight: ceWeight)
    }
}

private func fusedDiceCE(_ x: Variable, labels: Tensor, includeBackground: Bool, smooth: Float, batchDice: Bool,
                         diceWeight: Float, ceWeight: Float) -> Variable {
    let s = x.shape
    precondition(s.count >= 2, "diceCELoss: logits need N,C,…, got \(s)")
    let n = s[0], c = s[1], v = x.value.count / max(1, n * c)
    let first = includeBackground ? 0 : 1
    precondition(c > first, "diceCELoss: \(c) classes leave nothing to score (includeBackground: \(includeBackground))")
    precondition(labels.count == n * v, "diceCELoss: labels \(labels.shape) do not match \(n) samples × \(v) voxels")
    var prob = Tensor(uninitialized: s)
    x.value.withUnsafePointer { xp in prob.withUnsafeMutablePointer { yp in
        SoftmaxKernel.forward(xp, yp, n: n, c: c, v: v)
    } }
    // Per (sample, chunk): Σ p, Σ p·g, Σ g per class, then Σ -log p[label] and a bad-label count.
    let chunks = Compute.chunkCount(count: v, grain: 4096)
    let stride = 3 * c + 2
    var partial = [Double](repeating: 0, count: n * chunks * stride)
    prob.withUnsafePointer { pp in labels.withUnsafePointer { lp in partial.withUnsafeMutableBufferPointer { part in
        let partp = part.baseAddress!
        Compute.parallelFor(n * chunks) { job in
            let sample = job / chunks, r = Compute.chunkRange(job % chunks, chunks: chunks, count: v)
            let out = partp + job * stride, ls = lp + sample * v + r.lowerBound, m = r.count
            var bad = 0
            var ce: Float = 0
            for k in 0..<m {
                // Range first: Int(_:) of a NaN or huge label would trap without naming the problem.
                let l = ls[k]
                guard l >= 0 && l < Float(c), Float(Int(l)) == l else { bad += 1; continue }
                let li = Int(l)
                ce -= logf(max(pp[(sample * c + li) * v + r.lowerBound + k], Float.leastNormalMagnitude))
            }
            for ch in 0..<c {
                let ps = pp + (sample * c + ch) * v + r.lowerBound, label = Float(ch)
                var psum: Float = 0, inter: Float = 0, count: Float = 0
                for k in 0..<m {
                    let hit: Float = ls[k] == label ? 1 : 0
                    psum += ps[k]; inter += hit * ps[k]; count += hit
                }
                out[3 * ch] = Double(psum); out[3 * ch + 1] = Double(inter); out[3 * ch + 2] = Double(count)
            }
            out[3 * c] = Double(ce)
            out[3 * c + 1] = Double(bad)
        }
    } } }
    // Chunks combined in order: psum, inter, gsum per (sample, class).
    var psum = [Double](repeating: 0, count: n * c), inter = psum, gsum = psum
    var ceTotal = 0.0, bad = 0.0
    for job in 0..<(n * chunks) {
        let sample = job / chunks, base = job * stride
        for ch in 0..<c {
            psum[sample * c + ch] += partial[base + 3 * ch]
            inter[sample * c + ch] += partial[base + 3 * ch + 1]
            gsum[sample * c + ch] += partial[base + 3 * ch + 2]
        }
        ceTotal += partial[base + 3 * c]
        bad += partial[base + 3 * c + 1]
    }
    precondition(bad == 0, "diceCELoss: \(Int(bad)) label values are not class indices in 0..<\(c)")
    let (diceTotal, terms, coefA, coefB) = diceCoefficients(inter: inter, psum: psum, gsum: gsum, samples: n,
                                                           classes: c, first: first, batchDice: batchDice, smooth: smooth)
    let dice = 1 - diceTotal / terms, ce = ceTotal / Double(n * v)
    let loss = Tensor(scalar: Float(Double(diceWeight) * dice + Double(ceWeight) * ce))
    return Variable.make(loss, inputs: [x], kind: .loss) { g in
        // d/dp of the Dice term (times its weight), through the softmax, plus the CE gradient.
        let gl = g.item, diceScale = -diceWeight / Float(terms), ceScale = ceWeight / Float(n * v)
        var dx = Tensor(uninitialized: s)
        prob.withUnsafePointer { pp in labels.withUnsafePointer { lp in dx.withUnsafeMutablePointer { dp in
            Compute.parallelFor(n * chunks) { job in
                let sample = job / chunks, r = Compute.chunkRange(job % chunks, chunks: chunks, count: v)
                let gi = batchDice ? 0 : sample, ls = lp + sample * v + r.lowerBound, m = r.count
                withUnsafeTemporaryAllocation(of: Float.self, capacity: m) { dotBuffer in
                    let dot = dotBuffer.baseAddress!
                    dot.update(repeating: 0, count: m)
                    for ch in first..<c {
                        let a = diceScale * coefA[gi * c + ch], b = diceScale * coefB[gi * c + ch]
                        let ps = pp + (sample * c + ch) * v + r.lowerBound, label = Float(ch)
                        for k in 0..<m { dot[k] += ps[k] * ((ls[k] == label ? a : 0) - b) }
                    }
                    for ch in 0..<c {
                        let scored = ch >= first
                        let a = scored ? diceScale * coefA[gi * c + ch] : 0, b = scored ? diceScale * coefB[gi * c + ch] : 0
                        let o = (sample * c + ch) * v + r.lowerBound, label = Float(ch)
                        let ps = pp + o, ds = dp + o
                        for k in 0..<m {
                            let hit: Float = ls[k] == label ? 1 : 0
                            let p = ps[k]
                            ds[k] = gl * (p * (hit * a - b - dot[k]) + ceScale * (p - hit))
                        }
                    }
                }
            }
        } } }
        x.accumulateGrad(dx)
    }
}
