// Instance norm and batch norm (affine), forward and backward, plus their layers.
//
// Statistics use the biased variance, as PyTorch does for normalisation; batch norm's running
// variance is updated with the unbiased one (momentum 0.1 by default). Sums accumulate in SIMD
// Float blocks combined in Double, per plane on one thread each: deterministic for any thread count.
// Backward recomputes x̂ from the input (kept alive by the graph anyway) instead of storing it.

import Tensor

/// Per-plane statistics of a normalisation: mean and 1/sqrt(var + eps) for each (group) index.
struct NormStats {
    var mean: [Float]
    var invStd: [Float]
}

enum NormKernels {
    /// Mean and inverse std over `groups` sets of planes. Plane p (of `planes` planes, each `v`
    /// elements) belongs to group `groupOf(p)`. Two-pass (mean, then squared deviation).
    static func stats(_ x: UnsafePointer<Float>, planes: Int, v: Int, groups: Int,
                      groupOf: (Int) -> Int, eps: Float) -> (NormStats, variance: [Double]) {
        var sums = [Double](repeating: 0, count: planes)
        sums.withUnsafeMutableBufferPointer { sp in
            let s = sp.baseAddress!
            Compute.parallelFor(planes) { p in s[p] = Kernels.serialSum(x + p * v, count: v) }
        }
        var count = [Double](repeating: 0, count: groups)
        var mean = [Double](repeating: 0, count: groups)
        for p in 0..<planes { mean[groupOf(p)] += sums[p]; count[groupOf(p)] += Double(v) }
        for g in 0..<groups { mean[g] /= count[g] }
        let meanF = mean.map { Float($0) }
        sums.withUnsafeMutableBufferPointer { sp in
            let s = sp.baseAddress!
            Compute.parallelFor(planes) { p in
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
            Compute.parallelFor(planes) { p in
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
            Compute.parallelFor(planes) { p in
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
    let s = x.shape
    precondition(s.count >= 3, "instanceNorm: input must be N,C,spatial…, got \(s)")
    let c = s[1], planes = s[0] * c, v = x.value.count / max(1, planes)
    precondition(weight.value.count == c && bias.value.count == c,
                 "instanceNorm: input has \(c) channels, weight \(weight.shape), bias \(bias.shape)")
    let xv = x.value
    let (stats, _) = xv.withUnsafePointer {
        NormKernels.stats($0, planes: planes, v: v, groups: planes, groupOf: { $0 }, eps: eps)
    }
    let y = NormKernels.apply(xv, stats: stats, groupOf: { $0 }, gamma: weight.value, beta: bias.value, channels: c)
    return Variable.make(y, inputs: [x, weight, bias]) { g in
        let gamma = weight.value
        let (sdy, sdx) = xv.withUnsafePointer { xp in g.withUnsafePointer { gp in
            NormKernels.planeGradSums(xp, gp, planes: planes, v: v, stats: stats, groupOf: { $0 }) } }
        if weight.requiresGrad {
            weight.accumulateGrad(Tensor(shape: weight.shape) { ch in
                Float(stride(from: ch, to: planes, by: c).reduce(0.0) { $0 + sdx[$1] }) })
        }
        if bias.requiresGrad {
            bias.accumulateGrad(Tensor(shape: bias.shape) { ch in
                Float(stride(from: ch, to: planes, by: c).reduce(0.0) { $0 + sdy[$1] }) })
        }
        if x.requiresGrad {
            // dx = γ·inv·(dy - mean(dy) - x̂·mean(dy·x̂))
            var dx = Tensor(uninitialized: s)
            xv.withUnsafePointer { xp in g.withUnsafePointer { gp in dx.withUnsafeMutablePointer { dp in
            gamma.withUnsafePointer { gam in
                Compute.parallelFor(planes) { p in
                    let inv = stats.invStd[p], mu = stats.mean[p]
                    let k = gam[p % c] * inv
                    let mdy = Float(sdy[p] / Double(v)), mdx = Float(sdx[p] / Double(v))
                    let xs = xp + p * v, gs = gp + p * v, ds = dp + p * v
                    for i in 0..<v { ds[i] = k * (gs[i] - mdy - (xs[i] - mu) * inv * mdx) }
                }
            } } } }
            x.accumulateGrad(dx)
        }
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
    return Variable.make(y, inputs: [x, weight, bias]) { g in
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
                Compute.parallelFor(planes) { p in
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
