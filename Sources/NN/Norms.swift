// Instance norm and batch norm (affine), forward and backward, plus their layers.
//
// Statistics use the biased variance, as PyTorch does for normalisation; batch norm's running
// variance is updated with the unbiased one (momentum 0.1 by default). Sums accumulate in SIMD
// Float blocks combined in Double, per plane (per fixed chunk of a large plane, merged in chunk
// order) on one thread each: deterministic for any thread count and schedule.
// Backward recomputes x̂ from the input (kept alive by the graph anyway) instead of storing it.

import CPlaneKernels
import Foundation
import Tensor

/// Per-plane statistics of a normalisation: mean and 1/sqrt(var + eps) for each (group) index.
struct NormStats {
    var mean: [Float]
    var invStd: [Float]
    /// The forward's per-plane affine y = x·scale + shift, kept by the instance norm so its
    /// backward recomputes the ReLU mask from x instead of reading y (empty elsewhere).
    var scale: [Float] = []
    var shift: [Float] = []
}

/// The chunks a large plane of an instance norm splits into, and the two-phase schedule over them.
/// With several threads a plane-per-job norm reads each plane where the previous op (a conv whose
/// runs go along z) left half of it, in the other core's cache; by chunks listed along z (chunk k of
/// every plane before chunk k + 1 of any) and claimed from both ends of the pool, each core reads
/// and writes the z-half it holds. The chunk count depends only on the plane size, so the merged
/// statistics are the same on any thread count.
struct PlaneChunks {
    /// Chunks per plane: 16 K values each at least (two at 32³, eight at 64³), one below 32 K.
    let count: Int
    let values: Int

    init(values v: Int) {
        values = v
        count = max(1, min(8, v / (16 << 10)))
    }

    var isSplit: Bool { count > 1 }

    /// The schedule of split planes now: whole planes per job on one thread and when the host has
    /// the pool's cores close (they share an L3, and the chunks' second pass re-read from it cost
    /// more than the first pass's reads from the other core: a 2-thread step 76.2 against 78.3 ms,
    /// 24 alternating processes), the chunks when far apart (85 against 95 ms). Both give the same bits.
    static func wholePlanes() -> Bool {
        Compute.threads == 1 || wholePlanesAlways || !Compute.pool.coresFarApart()
    }

    /// C2FNAS_NORM_WHOLE_PLANES=1 runs split planes whole-plane per job on any placement (A/B runs).
    static let wholePlanesAlways = ProcessInfo.processInfo.environment["C2FNAS_NORM_WHOLE_PLANES"] == "1"

    /// Values per pool item at least (16-128 K measured alike on two threads).
    static let itemValues = 32 << 10

    /// Values of chunk k of a plane (edges on whole 16-value vectors).
    subscript(k: Int) -> Range<Int> {
        func edge(_ j: Int) -> Int { j == count ? values : values * j / count / 16 * 16 }
        return edge(k)..<edge(k + 1)
    }

    /// Calls `body(plane, chunk)` for every chunk of every plane over the pool, in items of at least
    /// 32 K values of one chunk index, listed chunk by chunk (along z). `revisit`, for the pass that
    /// re-reads what the previous one read, lists each chunk's planes last to first: a core then
    /// starts where it stopped (at two chunks per plane, with the claims from both ends), on the
    /// planes still in its L2.
    func forEach(planes: Int, revisit: Bool = false, _ body: (Int, Int) -> Void) {
        let chunkValues = values / count
        let per = max(1, min(planes, PlaneChunks.itemValues / max(1, chunkValues)))
        let groups = (planes + per - 1) / per
        Compute.parallelFor(count * groups) { i in
            let k = i / groups, gi = revisit ? groups - 1 - i % groups : i % groups
            for p in (planes * gi / groups)..<(planes * (gi + 1) / groups) { body(p, k) }
        }
    }
}

enum NormKernels {
    /// Runs `body(p)` for every plane of `v` values over the pool, in items of whole planes holding
    /// at least 16 K values each: one plane per item at 8³ (512 values) ran slower on two threads
    /// than on one (64 channels: 21 → 28 µs per call), the cores trading the item counter.
    @inline(__always)
    static func forEachPlane(_ planes: Int, _ v: Int, _ body: (Int) -> Void) {
        let items = min(planes, max(1, planes * v / (16 << 10)))
        Compute.parallelFor(items) { i in
            for p in (planes * i / items)..<(planes * (i + 1) / items) { body(p) }
        }
    }

    /// Mean and inverse std over `groups` sets of planes. Plane p (of `planes` planes, each `v`
    /// elements) belongs to group `groupOf(p)`. Two-pass (mean, then squared deviation).
    static func stats(_ x: UnsafePointer<Float>, planes: Int, v: Int, groups: Int,
                      groupOf: (Int) -> Int, eps: Float) -> (NormStats, variance: [Double]) {
        var sums = [Double](repeating: 0, count: planes)
        sums.withUnsafeMutableBufferPointer { sp in
            let s = sp.baseAddress!
            forEachPlane(planes, v) { p in s[p] = Kernels.serialSum(x + p * v, count: v) }
        }
        var count = [Double](repeating: 0, count: groups)
        var mean = [Double](repeating: 0, count: groups)
        for p in 0..<planes { mean[groupOf(p)] += sums[p]; count[groupOf(p)] += Double(v) }
        for g in 0..<groups { mean[g] /= count[g] }
        let meanF = mean.map { Float($0) }
        sums.withUnsafeMutableBufferPointer { sp in
            let s = sp.baseAddress!
            forEachPlane(planes, v) { p in
                s[p] = Kernels.serialSquaredDeviation(x + p * v, from: meanF[groupOf(p)], count: v)
            }
        }
        var variance = [Double](repeating: 0, count: groups)
        for p in 0..<planes { variance[groupOf(p)] += sums[p] }
        for g in 0..<groups { variance[g] /= count[g] }
        let inv = variance.map { Float(1 / ($0 + Double(eps)).squareRoot()) }
        return (NormStats(mean: meanF, invStd: inv), variance)
    }

    /// y = γ_c (x - μ_g) · inv_g + β_c for every plane p (channel c = p % channels).
    static func apply(_ x: Tensor, stats: NormStats, groupOf: @escaping (Int) -> Int,
                      gamma: Tensor, beta: Tensor, channels: Int) -> Tensor {
        let planes = x.shape[0] * x.shape[1], v = x.count / max(1, planes)
        var y = Tensor(uninitialized: x.shape)
        x.withUnsafePointer { xp in y.withUnsafeMutablePointer { yp in
        gamma.withUnsafePointer { gp in beta.withUnsafePointer { bp in
            forEachPlane(planes, v) { p in
                let c = p % channels, grp = groupOf(p)
                let scale = gp[c] * stats.invStd[grp]
                let shift = bp[c] - stats.mean[grp] * scale
                let xs = xp + p * v, ys = yp + p * v
                for i in 0..<v { ys[i] = xs[i] * scale + shift }
            }
        } } } }
        return y
    }

    /// Per-plane Σ dy and Σ dy·x̂ (Double), with x̂ = (x - μ)·inv.
    static func planeGradSums(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, planes: Int, v: Int,
                              stats: NormStats, groupOf: (Int) -> Int) -> (sumDy: [Double], sumDyXhat: [Double]) {
        var sdy = [Double](repeating: 0, count: planes)
        var sdx = [Double](repeating: 0, count: planes)
        sdy.withUnsafeMutableBufferPointer { a in sdx.withUnsafeMutableBufferPointer { b in
            let pa = a.baseAddress!, pb = b.baseAddress!
            forEachPlane(planes, v) { p in
                let grp = groupOf(p)
                let sumDy = Kernels.serialSum(dy + p * v, count: v)
                let sumDyX = Kernels.serialDot(dy + p * v, x + p * v, count: v)
                pa[p] = sumDy
                // Σ dy·(x - μ)·inv = inv·(Σ dy·x - μ Σ dy)
                pb[p] = Double(stats.invStd[grp]) * (sumDyX - Double(stats.mean[grp]) * sumDy)
            }
        } }
        return (sdy, sdx)
    }
}

/// Instance norm over the spatial axes of each (sample, channel), with per-channel affine
/// γ (`weight`) and β (`bias`), both of shape [C].
public func instanceNorm(_ x: Variable, weight: Variable, bias: Variable, eps: Float = 1e-5) -> Variable {
    instanceNormOp(x, weight: weight, bias: bias, eps: eps, rectify: false, op: "instanceNorm")
}

/// relu(instanceNorm(x)) as one op: the normalised values are written rectified, and the backward
/// pass masks the incoming gradient inline, so neither the unrectified output nor the masked
/// gradient is ever stored (one activation and two passes over it fewer than the two ops).
/// Same values as `relu(instanceNorm(x, …))`; gradients equal up to summation order.
public func instanceNormReLU(_ x: Variable, weight: Variable, bias: Variable, eps: Float = 1e-5) -> Variable {
    instanceNormOp(x, weight: weight, bias: bias, eps: eps, rectify: true, op: "instanceNormReLU")
}

/// Inference only (outside graph recording): `instanceNorm`, or `instanceNormReLU` when `rectify`,
/// written over the input's own tensor, which the caller hands over: `x` is left empty and must
/// not be read again. The normalised plane is stored where it was just read (in the core's L2)
/// instead of into a second buffer whose lines are first fetched from memory: the write pass was
/// 6 % of sliding-window inference, more than the two reading passes together (perf).
/// Same values as the out-of-place op.
public func instanceNormInPlace(_ x: Variable, weight: Variable, bias: Variable, eps: Float = 1e-5,
                                rectify: Bool) -> Variable {
    precondition(!GradMode.isEnabled, "instanceNormInPlace: only outside graph recording (noGrad)")
    let s = x.shape, c = s.count >= 3 ? s[1] : 0
    precondition(s.count >= 3 && weight.value.count == c && bias.value.count == c,
                 "instanceNormInPlace: input \(s), weight \(weight.shape), bias \(bias.shape)")
    var t = x.value
    x.value = Tensor(uninitialized: [0])   // t is now the only reference: no copy-on-write
    let op = rectify ? "instanceNormReLU" : "instanceNorm"
    OpProfile.withDetail(profileLabel(op, s)) {
        OpProfile.measure(.norm) {
            NormKernels.instanceForwardInPlace(&t, gamma: weight.value, beta: bias.value, channels: c, eps: eps,
                                               rectify: rectify)
        }
    }
    return Variable(t)
}

/// Instance norm, optionally rectified. A plane is one job that runs all its passes back to back
/// (statistics, then the normalised write; in backward the two sums, then dx), so a plane read from
/// memory once is re-read from the core's L2 cache rather than from DRAM; large planes on cores the
/// host placed far apart go by chunks instead (`PlaneChunks`).
private func instanceNormOp(_ x: Variable, weight: Variable, bias: Variable, eps: Float, rectify: Bool,
                            op: String) -> Variable {
    let s = x.shape
    precondition(s.count >= 3, "\(op): input must be N,C,spatial…, got \(s)")
    let c = s[1], planes = s[0] * c
    precondition(weight.value.count == c && bias.value.count == c,
                 "\(op): input has \(c) channels, weight \(weight.shape), bias \(bias.shape)")
    let xv = x.value
    let label = { profileLabel(op, s) }
    let (stats, y) = OpProfile.withDetail(label()) {
        OpProfile.measure(.norm) {
            NormKernels.instanceForward(xv, gamma: weight.value, beta: bias.value, channels: c, eps: eps, rectify: rectify)
        }
    }
    return Variable.make(y, inputs: [x, weight, bias], kind: nil) { g in
        let (dx, sdy, sdx) = OpProfile.withDetail(label()) {
            OpProfile.measure(.norm) {
                NormKernels.instanceBackward(xv, output: rectify ? y : nil, gradOutput: g, stats: stats,
                                             gamma: weight.value, channels: c, needInput: x.requiresGrad)
            }
        }
        if weight.requiresGrad {
            weight.accumulateGrad(Tensor(shape: weight.shape) { ch in
                Float(stride(from: ch, to: planes, by: c).reduce(0.0) { $0 + sdx[$1] }) })
        }
        if bias.requiresGrad {
            bias.accumulateGrad(Tensor(shape: bias.shape) { ch in
                Float(stride(from: ch, to: planes, by: c).reduce(0.0) { $0 + sdy[$1] }) })
        }
        if let dx { x.accumulateGrad(dx) }
    }
}

/// Running statistics of a batch norm, updated in training mode.
public final class BatchNormState {
    public let runningMean: Buffer
    public let runningVar: Buffer
    public init(name: String, channels: Int) {
        runningMean = Buffer(name: name + ".running_mean", value: .zeros([channels]))
        runningVar = Buffer(name: name + ".running_var", value: .ones([channels]))
    }
}

/// Batch norm over (N, spatial) per channel. In training it normalises with the batch statistics
/// and updates `state` (running = (1 - momentum)·running + momentum·batch, unbiased variance);
/// in evaluation it uses the running statistics.
public func batchNorm(_ x: Variable, weight: Variable, bias: Variable, state: BatchNormState,
                      training: Bool, momentum: Float = 0.1, eps: Float = 1e-5) -> Variable {
    let s = x.shape
    precondition(s.count >= 3, "batchNorm: input must be N,C,spatial…, got \(s)")
    let c = s[1], planes = s[0] * c, v = x.value.count / max(1, planes)
    precondition(weight.value.count == c && bias.value.count == c,
                 "batchNorm: input has \(c) channels, weight \(weight.shape), bias \(bias.shape)")
    let xv = x.value
    let groupOf: @Sendable (Int) -> Int = { $0 % c }
    let stats: NormStats
    if training {
        let (st, variance) = xv.withUnsafePointer {
            NormKernels.stats($0, planes: planes, v: v, groups: c, groupOf: groupOf, eps: eps)
        }
        stats = st
        let m = Double(s[0] * v)
        let unbiased = variance.map { m > 1 ? $0 * m / (m - 1) : $0 }
        var rm = state.runningMean.value, rv = state.runningVar.value
        for ch in 0..<c {
            rm[flat: ch] = (1 - momentum) * rm[flat: ch] + momentum * st.mean[ch]
            rv[flat: ch] = (1 - momentum) * rv[flat: ch] + momentum * Float(unbiased[ch])
        }
        state.runningMean.value = rm
        state.runningVar.value = rv
    } else {
        stats = NormStats(mean: state.runningMean.value.scalars,
                          invStd: state.runningVar.value.scalars.map { 1 / ($0 + eps).squareRoot() })
    }
    let y = NormKernels.apply(xv, stats: stats, groupOf: groupOf, gamma: weight.value, beta: bias.value, channels: c)
    return Variable.make(y, inputs: [x, weight, bias], kind: .norm) { g in
        let gamma = weight.value
        let (sdy, sdx) = xv.withUnsafePointer { xp in g.withUnsafePointer { gp in
            NormKernels.planeGradSums(xp, gp, planes: planes, v: v, stats: stats, groupOf: groupOf) } }
        var sumDy = [Double](repeating: 0, count: c), sumDyXhat = [Double](repeating: 0, count: c)
        for p in 0..<planes { sumDy[p % c] += sdy[p]; sumDyXhat[p % c] += sdx[p] }
        if weight.requiresGrad { weight.accumulateGrad(Tensor(shape: weight.shape) { Float(sumDyXhat[$0]) }) }
        if bias.requiresGrad { bias.accumulateGrad(Tensor(shape: bias.shape) { Float(sumDy[$0]) }) }
        if x.requiresGrad {
            let m = Double(s[0] * v)
            // training: dx = γ·inv·(dy - mean(dy) - x̂·mean(dy·x̂)); eval: dx = γ·inv·dy
            let mdy = training ? sumDy.map { Float($0 / m) } : [Float](repeating: 0, count: c)
            let mdx = training ? sumDyXhat.map { Float($0 / m) } : [Float](repeating: 0, count: c)
            var dx = Tensor(uninitialized: s)
            xv.withUnsafePointer { xp in g.withUnsafePointer { gp in dx.withUnsafeMutablePointer { dp in
            gamma.withUnsafePointer { gam in
                NormKernels.forEachPlane(planes, v) { p in
                    let ch = p % c
                    let inv = stats.invStd[ch], mu = stats.mean[ch]
                    let k = gam[ch] * inv
                    let a = mdy[ch], b = mdx[ch]
                    let xs = xp + p * v, gs = gp + p * v, ds = dp + p * v
                    for i in 0..<v { ds[i] = k * (gs[i] - a - (xs[i] - mu) * inv * b) }
                }
            } } } }
            x.accumulateGrad(dx)
        }
    }
}

/// InstanceNorm3d(affine): parameters "<name>.weight" (ones) and "<name>.bias" (zeros), eps 1e-5.
public final class InstanceNorm3d: Module {
    public let weight: Parameter, bias: Parameter
    public let eps: Float
    public init(name: String, channels: Int, eps: Float = 1e-5) {
        weight = Parameter(name: name + ".weight", value: .ones([channels]))
        bias = Parameter(name: name + ".bias", value: .zeros([channels]))
        self.eps = eps
    }
    public func callAsFunction(_ x: Variable) -> Variable { instanceNorm(x, weight: weight, bias: bias, eps: eps) }
    public var parameters: [Parameter] { [weight, bias] }
}

/// BatchNorm3d(affine) with running statistics as buffers "<name>.running_mean" / "running_var".
public final class BatchNorm3d: Module {
    public let weight: Parameter, bias: Parameter
    public let state: BatchNormState
    public var training = true
    public let momentum: Float, eps: Float
    public init(name: String, channels: Int, momentum: Float = 0.1, eps: Float = 1e-5) {
        weight = Parameter(name: name + ".weight", value: .ones([channels]))
        bias = Parameter(name: name + ".bias", value: .zeros([channels]))
        state = BatchNormState(name: name, channels: channels)
        self.momentum = momentum
        self.eps = eps
    }
    public func callAsFunction(_ x: Variable) -> Variable {
        batchNorm(x, weight: weight, bias: bias, state: state, training: training, momentum: momentum, eps: eps)
    }
    public var parameters: [Parameter] { [weight, bias] }
    public var buffers: [Buffer] { [state.runningMean, state.runningVar] }
    public func setTraining(_ training: Bool) { self.training = training }
}

extension NormKernels {
    /// Per-plane statistics and y = γ_c (x - μ_p)·inv_p + β_c (rectified when `rectify`), one job per
    /// plane or per chunk (`PlaneChunks`). Each plane's statistics depend only on its values
    /// (`moments`, sums in a fixed order), never on the plane order, the schedule or the thread count.
    /// `wholePlanes` picks the schedule of split planes (tests: both give the same bits); nil lets
    /// `PlaneChunks.wholePlanes()` decide.
    static func instanceForward(_ x: Tensor, gamma: Tensor, beta: Tensor, channels: Int, eps: Float,
                                rectify: Bool, wholePlanes: Bool? = nil) -> (NormStats, Tensor) {
        var y = Tensor(uninitialized: x.shape)
        let stats = x.withUnsafePointer { xp in y.withUnsafeMutablePointer { yp in
            instanceForward(xp, yp, shape: x.shape, gamma: gamma, beta: beta, channels: channels, eps: eps, rectify: rectify,
                            wholePlanes: wholePlanes)
        } }
        return (stats, y)
    }

    /// The same over `x` itself (the output overwrites the input).
    static func instanceForwardInPlace(_ x: inout Tensor, gamma: Tensor, beta: Tensor, channels: Int, eps: Float,
                                       rectify: Bool) {
        let shape = x.shape
        _ = x.withUnsafeMutablePointer { p in
            instanceForward(UnsafePointer(p), p, shape: shape, gamma: gamma, beta: beta, channels: channels, eps: eps,
                            rectify: rectify, wholePlanes: nil)
        }
    }

    /// Per plane its statistics, then y = γ (x − μ)·inv + β. `yp` may equal `xp`: each value is read
    /// before it is written, at the same index. A large plane's statistics are per chunk merged in a
    /// fixed order (`PlaneChunks`), the same on any thread count; on one thread, or with one chunk,
    /// a job takes whole planes (the second read comes from its L2), else the chunks' moments are one
    /// fork/join and the normalised writes another, both listed along z (see `PlaneChunks`).
    private static func instanceForward(_ xp: UnsafePointer<Float>, _ yp: UnsafeMutablePointer<Float>, shape: [Int],
                                        gamma: Tensor, beta: Tensor, channels: Int, eps: Float,
                                        rectify: Bool, wholePlanes: Bool?) -> NormStats {
        let planes = shape[0] * shape[1], v = shape.reduce(1, *) / max(1, planes)
        let chunks = PlaneChunks(values: v)
        var mean = [Float](repeating: 0, count: planes), inv = mean, scales = mean, shifts = mean
        var parts = [Double](repeating: 0, count: chunks.isSplit ? 2 * planes * chunks.count : 0)
        gamma.withUnsafePointer { gp in beta.withUnsafePointer { bp in
        mean.withUnsafeMutableBufferPointer { mb in inv.withUnsafeMutableBufferPointer { ib in
        scales.withUnsafeMutableBufferPointer { sb in shifts.withUnsafeMutableBufferPointer { tb in
        parts.withUnsafeMutableBufferPointer { pb in
            let mp = mb.baseAddress!, ip = ib.baseAddress!, sp = sb.baseAddress!, tp = tb.baseAddress!
            // Statistics and affine of plane p from its (mean, m2) per chunk.
            func settle(_ p: Int, _ mu: Float, _ variance: Double) {
                let invStd = Float(1 / (variance + Double(eps)).squareRoot())
                mp[p] = mu
                ip[p] = invStd
                let ch = p % channels
                sp[p] = gp[ch] * invStd
                tp[p] = bp[ch] - mu * sp[p]
            }
            if !chunks.isSplit {
                forEachPlane(planes, v) { p in
                    let (mu, variance) = moments(xp + p * v, count: v)
                    settle(p, mu, variance)
                    affine(xp + p * v, yp + p * v, count: v, scale: sp[p], shift: tp[p], rectify: rectify)
                }
                return
            }
            let mom = pb.baseAddress!   // (mean, m2) of chunk k of plane p at 2 (k · planes + p)
            func chunkMoments(_ p: Int, _ k: Int) {
                let r = chunks[k]
                let (mu, m2) = chunkedMoments(xp + p * v + r.lowerBound, count: r.count)
                mom[2 * (k * planes + p)] = mu
                mom[2 * (k * planes + p) + 1] = m2
            }
            func merge(_ p: Int) {
                var n = 0.0, mu = 0.0, q = 0.0
                for k in 0..<chunks.count {
                    let len = Double(chunks[k].count), mk = mom[2 * (k * planes + p)], qk = mom[2 * (k * planes + p) + 1]
                    let total = n + len, delta = mk - mu
                    mu += delta * len / total
                    q += qk + delta * delta * n * len / total
                    n = total
                }
                settle(p, Float(mu), q / Double(v))
            }
            if wholePlanes ?? PlaneChunks.wholePlanes() {
                forEachPlane(planes, v) { p in
                    for k in 0..<chunks.count { chunkMoments(p, k) }
                    merge(p)
                    affine(xp + p * v, yp + p * v, count: v, scale: sp[p], shift: tp[p], rectify: rectify)
                }
                return
            }
            chunks.forEach(planes: planes) { p, k in chunkMoments(p, k) }
            for p in 0..<planes { merge(p) }
            chunks.forEach(planes: planes, revisit: true) { p, k in
                let r = chunks[k]
                affine(xp + p * v + r.lowerBound, yp + p * v + r.lowerBound, count: r.count, scale: sp[p], shift: tp[p],
                       rectify: rectify)
            }
        } } } } } } }
        return NormStats(mean: mean, invStd: inv, scale: scales, shift: shifts)
    }

    /// Mean and sum of squared deviations (both Double) of one chunk of a plane.
    @inline(__always)
    static func chunkedMoments(_ x: UnsafePointer<Float>, count n: Int) -> (mean: Double, m2: Double) {
        if Kernels.planeKernels {
            var mean = 0.0, m2 = 0.0
            c2f_plane_moments(x, n, &mean, &m2)
            return (mean, m2)
        }
        let mu = Kernels.serialSum(x, count: n) / Double(n), c = Float(mu)
        let m2 = Kernels.serialSquaredDeviation(x, from: c, count: n) - Double(n) * (mu - Double(c)) * (mu - Double(c))
        return (mu, max(0, m2))
    }

    /// Mean (Float) and biased variance of one plane: in one read with the AVX-512 kernel (block
    /// moments merged in Double: a 64³ plane is 1 MiB, its second read came from L3), else two passes.
    @inline(__always)
    static func moments(_ x: UnsafePointer<Float>, count v: Int) -> (mean: Float, variance: Double) {
        if Kernels.planeKernels {
            var mean = 0.0, m2 = 0.0
            c2f_plane_moments(x, v, &mean, &m2)
            return (Float(mean), m2 / Double(v))
        }
        let mu = Float(Kernels.serialSum(x, count: v) / Double(v))
        return (mu, Kernels.serialSquaredDeviation(x, from: mu, count: v) / Double(v))
    }

    /// Backward of `instanceForward`: per plane Σ m·dy and Σ m·dy·x̂ (m the ReLU mask y > 0 when
    /// `output` is given, else 1), then, when `needInput`, dx = γ·inv·(m·dy - mean(m·dy) - x̂·mean(m·dy·x̂)),
    /// in the same job per plane, or per chunk in two fork/joins (as `instanceForward`).
    static func instanceBackward(_ x: Tensor, output y: Tensor?, gradOutput g: Tensor, stats: NormStats,
                                 gamma: Tensor, channels: Int, needInput: Bool, wholePlanes: Bool? = nil)
        -> (dx: Tensor?, sumDy: [Double], sumDyXhat: [Double]) {
        let planes = x.shape[0] * x.shape[1], v = x.count / max(1, planes)
        let chunks = PlaneChunks(values: v)
        var sdy = [Double](repeating: 0, count: planes), sdx = sdy
        var parts = [Double](repeating: 0, count: chunks.isSplit ? 2 * planes * chunks.count : 0)
        var dx = needInput ? Tensor(uninitialized: x.shape) : nil
        let mask = y ?? x   // unused when not rectified
        let rectified = y != nil
        func body(_ dp: UnsafeMutablePointer<Float>?) {
            x.withUnsafePointer { xp in g.withUnsafePointer { gp in mask.withUnsafePointer { yp in
            gamma.withUnsafePointer { gam in
            sdy.withUnsafeMutableBufferPointer { a in sdx.withUnsafeMutableBufferPointer { b in
            parts.withUnsafeMutableBufferPointer { cb in
                let pa = a.baseAddress!, pb = b.baseAddress!
                // (Σ m·dy, Σ m·dy·x) over values r of plane p.
                func sums(_ p: Int, _ r: Range<Int>) -> (Double, Double) {
                    let o = p * v + r.lowerBound, n = r.count
                    if rectified && Kernels.planeKernels {
                        var a = 0.0, b = 0.0
                        c2f_plane_rectified_sums(gp + o, xp + o, n, stats.scale[p], stats.shift[p], &a, &b)
                        return (a, b)
                    } else if rectified {
                        return maskedSums(gp + o, xp + o, mask: yp + o, count: n)
                    }
                    return (Kernels.serialSum(gp + o, count: n), Kernels.serialDot(gp + o, xp + o, count: n))
                }
                // Σ dy·(x - μ)·inv = inv·(Σ dy·x - μ Σ dy)
                func settle(_ p: Int, _ sumDy: Double, _ sumDyX: Double) {
                    pa[p] = sumDy
                    pb[p] = Double(stats.invStd[p]) * (sumDyX - Double(stats.mean[p]) * sumDy)
                }
                // dx over values r of plane p: k·(m·dy − mdy − (x − μ)·inv·mdx) = k·m·dy + (a·x + b).
                func inputGrad(_ p: Int, _ r: Range<Int>, _ dp: UnsafeMutablePointer<Float>) {
                    let inv = stats.invStd[p], mu = stats.mean[p]
                    let k = gam[p % channels] * inv
                    let mdy = Float(pa[p] / Double(v)), mdx = Float(pb[p] / Double(v))
                    let a = -k * inv * mdx, b = k * (mu * inv * mdx - mdy)
                    let o = p * v + r.lowerBound
                    if Kernels.planeKernels {
                        c2f_plane_norm_input_grad(gp + o, xp + o, dp + o, r.count, k, a, b, rectified ? 1 : 0,
                                                  rectified ? stats.scale[p] : 0, rectified ? stats.shift[p] : 0)
                    } else {
                        inputGradient(gp + o, xp + o, mask: rectified ? yp + o : nil, dp + o, count: r.count, k: k, a: a, b: b)
                    }
                }
                if !chunks.isSplit {
                    forEachPlane(planes, v) { p in
                        let (sumDy, sumDyX) = sums(p, 0..<v)
                        settle(p, sumDy, sumDyX)
                        if let dp { inputGrad(p, 0..<v, dp) }
                    }
                    return
                }
                let part = cb.baseAddress!   // the sums of chunk k of plane p at 2 (k · planes + p)
                func chunkSums(_ p: Int, _ k: Int) {
                    let (sumDy, sumDyX) = sums(p, chunks[k])
                    part[2 * (k * planes + p)] = sumDy
                    part[2 * (k * planes + p) + 1] = sumDyX
                }
                func merge(_ p: Int) {
                    var sumDy = 0.0, sumDyX = 0.0
                    for k in 0..<chunks.count { sumDy += part[2 * (k * planes + p)]; sumDyX += part[2 * (k * planes + p) + 1] }
                    settle(p, sumDy, sumDyX)
                }
                if wholePlanes ?? PlaneChunks.wholePlanes() {
                    forEachPlane(planes, v) { p in
                        for k in 0..<chunks.count { chunkSums(p, k) }
                        merge(p)
                        if let dp { inputGrad(p, 0..<v, dp) }
                    }
                    return
                }
                chunks.forEach(planes: planes) { p, k in chunkSums(p, k) }
                for p in 0..<planes { merge(p) }
                if let dp { chunks.forEach(planes: planes, revisit: true) { p, k in inputGrad(p, chunks[k], dp) } }
            } } } } } } }
        }
        if dx != nil { dx!.withUnsafeMutablePointer { body($0) } } else { body(nil) }
        return (dx, sdy, sdx)
    }

    /// y = x·scale + shift (rectified: max(·, 0)), 16 lanes at a time. Written with SIMD types: the
    /// plain loop's select compiled to a branch per element (perf: the rectified backward was the
    /// second-hottest symbol of a step, all scalar code).
    @inline(__always)
    static func affine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int,
                       scale: Float, shift: Float, rectify: Bool) {
        if Kernels.planeKernels { return c2f_plane_affine(x, y, n, scale, shift, rectify ? 1 : 0) }
        let s = SIMD16<Float>(repeating: scale), t = SIMD16<Float>(repeating: shift), zero = SIMD16<Float>()
        let end = n & ~15
        var i = 0
        while i < end {
            var v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self) * s + t
            if rectify { v.replace(with: zero, where: v .< zero) }
            UnsafeMutableRawPointer(y + i).storeBytes(of: v, as: SIMD16<Float>.self)
            i &+= 16
        }
        while i < n {
            let v = x[i] * scale + shift
            y[i] = rectify && v < 0 ? 0 : v
            i &+= 1
        }
    }

    /// dx = k·m·dy + (a·x + b), m = (mask > 0) or 1 without a mask, 16 lanes at a time (the
    /// portable path; with AVX-512 c2f_plane_norm_input_grad recomputes the mask from x).
    @inline(__always)
    static func inputGradient(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, mask: UnsafePointer<Float>?,
                              _ dx: UnsafeMutablePointer<Float>, count n: Int, k: Float, a: Float, b: Float) {
        let kv = SIMD16<Float>(repeating: k), av = SIMD16<Float>(repeating: a), bv = SIMD16<Float>(repeating: b)
        let zero = SIMD16<Float>()
        let end = n & ~15
        var i = 0
        while i < end {
            var g = UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD16<Float>.self) * kv
            if let mask {   // zero where not (mask > 0), NaN included, as the scalar ReLU backward
                g = zero.replacing(with: g, where: UnsafeRawPointer(mask + i).loadUnaligned(as: SIMD16<Float>.self) .> zero)
            }
            let r = g + (av * UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self) + bv)
            UnsafeMutableRawPointer(dx + i).storeBytes(of: r, as: SIMD16<Float>.self)
            i &+= 16
        }
        while i < n {
            let g = mask.map { $0[i] > 0 ? k * dy[i] : 0 } ?? k * dy[i]
            dx[i] = g + (a * x[i] + b)
            i &+= 1
        }
    }

    /// (Σ m·dy, Σ m·dy·x) over one plane with m = (mask > 0): SIMD lanes per 4096-block, then Double
    /// (the portable path; with AVX-512 c2f_plane_rectified_sums).
    static func maskedSums(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, mask: UnsafePointer<Float>,
                           count n: Int) -> (Double, Double) {
        var totalDy = 0.0, totalDyX = 0.0
        var start = 0
        let zero = SIMD8<Float>(repeating: 0)
        while start < n {
            let m = min(4096, n - start)
            let rg = UnsafeRawPointer(dy + start), rx = UnsafeRawPointer(x + start), rm = UnsafeRawPointer(mask + start)
            var a0 = zero, a1 = zero
            var i = 0
            while i + 8 <= m {
                let g = rg.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
                let on = rm.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self) .> zero
                let mg = zero.replacing(with: g, where: on)
                a0 += mg
                a1 += mg * rx.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
                i &+= 8
            }
            var sDy = Double(a0.sum()), sDyX = Double(a1.sum())
            while i < m {
                if mask[start + i] > 0 {
                    sDy += Double(dy[start + i]); sDyX += Double(dy[start + i]) * Double(x[start + i])
                }
                i += 1
            }
            totalDy += sDy
            totalDyX += sDyX
            start += m
        }
        return (totalDy, totalDyX)
    }
}
