// Elementwise and combining ops: add, scale, multiply, ReLU, LeakyReLU, channel concat,
// weighted sum (mixed ops), sum and mean. Each forward is followed by its backward closure.

import Tensor

/// "<op> <C> ch <W>x<H>x<D>" for an N, C, spatial… shape: the row of `bench step --profile`'s op
/// table an op's time goes to (the conv shapes have their own table).
func profileLabel(_ op: String, _ shape: [Int]) -> String {
    shape.count < 3 ? "\(op) \(shape.reduce(1, *)) values"
        : "\(op) \(shape[1]) ch " + shape.dropFirst(2).reversed().map(String.init).joined(separator: "x")
}

/// a + b (same shape).
public func add(_ a: Variable, _ b: Variable) -> Variable {
    precondition(a.shape == b.shape, "add: shapes \(a.shape) and \(b.shape) differ")
    return Variable.make(OpProfile.measure(.elementwise) { a.value + b.value }, inputs: [a, b], kind: .elementwise) { g in
        if a.requiresGrad { a.accumulateGrad(g) }
        if b.requiresGrad { b.accumulateGrad(g) }
    }
}

public func + (a: Variable, b: Variable) -> Variable { add(a, b) }

/// Σ of any number of same-shape variables.
public func addAll(_ xs: [Variable]) -> Variable {
    precondition(!xs.isEmpty, "addAll: needs at least one input")
    for x in xs { precondition(x.shape == xs[0].shape, "addAll: shapes \(xs[0].shape) and \(x.shape) differ") }
    let label = { profileLabel("add \(xs.count)", xs[0].shape) }
    let value = OpProfile.withDetail(label()) { OpProfile.measure(.elementwise) { Tensor.sum(xs.map(\.value)) } }
    return Variable.make(value, inputs: xs, kind: nil) { g in
        OpProfile.withDetail(label()) {
            OpProfile.measure(.elementwise) { for x in xs where x.requiresGrad { x.accumulateGrad(g) } }
        }
    }
}

/// s · x for a constant s.
public func scale(_ x: Variable, by s: Float) -> Variable {
    Variable.make(OpProfile.measure(.elementwise) { s * x.value }, inputs: [x], kind: .elementwise) { g in x.accumulateGrad(s * g) }
}

/// Elementwise a · b (same shape).
public func multiply(_ a: Variable, _ b: Variable) -> Variable {
    precondition(a.shape == b.shape, "multiply: shapes \(a.shape) and \(b.shape) differ")
    let av = a.value, bv = b.value
    let out = OpProfile.measure(.elementwise) { pointwise(av, bv) { $0 * $1 } }
    return Variable.make(out, inputs: [a, b], kind: .elementwise) { g in
        if a.requiresGrad { a.accumulateGrad(pointwise(g, bv) { $0 * $1 }) }
        if b.requiresGrad { b.accumulateGrad(pointwise(g, av) { $0 * $1 }) }
    }
}

/// out[i] = f(a[i], b[i]), parallel over chunks.
@inline(__always)
func pointwise(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
    var out = Tensor(uninitialized: a.shape)
    let n = a.count, planes = a.planes
    a.withUnsafePointer { x in b.withUnsafePointer { y in out.withUnsafeMutablePointer { o in
        Compute.parallelAlongZ(count: n, planes: planes, grain: parallelGrain) { r in
            let xs = x + r.lowerBound, ys = y + r.lowerBound, os = o + r.lowerBound
            for i in 0..<r.count { os[i] = f(xs[i], ys[i]) }
        } } } }
    return out
}

/// out[i] = f(a[i]), parallel over chunks.
@inline(__always)
func pointwise(_ a: Tensor, _ f: (Float) -> Float) -> Tensor {
    var out = Tensor(uninitialized: a.shape)
    let n = a.count, planes = a.planes
    a.withUnsafePointer { x in out.withUnsafeMutablePointer { o in
        Compute.parallelAlongZ(count: n, planes: planes, grain: parallelGrain) { r in
            let xs = x + r.lowerBound, os = o + r.lowerBound
            for i in 0..<r.count { os[i] = f(xs[i]) }
        } } }
    return out
}

/// max(x, 0). The loops are written out here rather than passed to `pointwise`: a closure called per
/// element through the thread pool is not inlined, and ReLU then cost a quarter of the convolutions.
public func relu(_ x: Variable) -> Variable {
    let label = { profileLabel("relu", x.shape) }
    let y = OpProfile.withDetail(label()) { OpProfile.measure(.activation) { Activation.relu(x.value) } }
    return Variable.make(y, inputs: [x], kind: nil) { g in
        OpProfile.withDetail(label()) {
            OpProfile.measure(.activation) { x.accumulateGrad(Activation.reluBackward(g, output: y)) }
        }
    }
}

/// max(x, 0) written over x, outside graph recording only: for a tensor that nothing else reads (a
/// layer's fresh output, a block's own merge). `x` is left empty. Writing a second buffer fetched its
/// lines from memory first, as with the norms (see `instanceNormInPlace`).
public func reluInPlace(_ x: Variable) -> Variable {
    precondition(!GradMode.isEnabled, "reluInPlace: only outside graph recording (noGrad)")
    var t = x.value
    x.value = Tensor(uninitialized: [0])   // t is now the only reference: no copy-on-write
    OpProfile.measure(.activation) { Activation.reluInPlace(&t) }
    return Variable(t)
}

/// x for x > 0, slope · x otherwise.
public func leakyRelu(_ x: Variable, slope: Float = 0.01) -> Variable {
    let xv = x.value
    let y = OpProfile.measure(.activation) { pointwise(xv) { $0 > 0 ? $0 : slope * $0 } }
    return Variable.make(y, inputs: [x], kind: .activation) { g in
        x.accumulateGrad(pointwise(g, xv) { $1 > 0 ? $0 : slope * $0 })
    }
}

/// Concatenates N,C_i,… tensors along the channel axis (all other axes equal).
public func concatChannels(_ xs: [Variable]) -> Variable {
    precondition(!xs.isEmpty, "concatChannels: needs at least one input")
    let first = xs[0].shape
    precondition(first.count >= 2, "concatChannels: inputs need a channel axis, got \(first)")
    for x in xs {
        precondition(x.shape.count == first.count && x.shape[0] == first[0] && x.shape[2...] == first[2...],
                     "concatChannels: shapes \(first) and \(x.shape) differ outside the channel axis")
    }
    let n = first[0], v = first[2...].reduce(1, *)
    let channels = xs.map { $0.shape[1] }
    let total = channels.reduce(0, +)
    var outShape = first
    outShape[1] = total
    var out = Tensor(uninitialized: outShape)
    let label = { profileLabel("concat", outShape) }
    OpProfile.withDetail(label()) {
        OpProfile.measure(.elementwise) {
            out.withUnsafeMutablePointer { o in
                var c0 = 0
                for (x, c) in zip(xs, channels) {
                    x.value.withUnsafePointer { p in
                        for s in 0..<n { Kernels.copy(p + s * c * v, into: o + (s * total + c0) * v, count: c * v, planes: c) }
                    }
                    c0 += c
                }
            }
        }
    }
    return Variable.make(out, inputs: xs, kind: nil) { g in
        OpProfile.withDetail(label()) {
            OpProfile.measure(.elementwise) {
                g.withUnsafePointer { gp in
                    var c0 = 0
                    for (x, c) in zip(xs, channels) {
                        if x.requiresGrad {
                            var gx = Tensor(uninitialized: x.shape)
                            gx.withUnsafeMutablePointer { q in
                                for s in 0..<n { Kernels.copy(gp + (s * total + c0) * v, into: q + s * c * v, count: c * v, planes: c) }
                            }
                            x.accumulateGrad(gx)
                        }
                        c0 += c
                    }
                }
            }
        }
    }
}

/// Σ_k weights[k] · inputs[k] (a mixed op's output); `weights` is a vector with one entry per input
/// (e.g. softmax of architecture logits). Gradients flow to the inputs and to the weights.
public func weightedSum(_ inputs: [Variable], weights: Variable) -> Variable {
    precondition(!inputs.isEmpty, "weightedSum: needs at least one input")
    precondition(weights.value.count == inputs.count,
                 "weightedSum: \(inputs.count) inputs but weights has shape \(weights.shape)")
    let shape = inputs[0].shape
    for x in inputs { precondition(x.shape == shape, "weightedSum: shapes \(shape) and \(x.shape) differ") }
    let w = weights.value.scalars
    let out = OpProfile.measure(.elementwise) {
        var out = Tensor.zeros(shape)
        for (k, x) in inputs.enumerated() { out.add(x.value, scaledBy: w[k]) }
        return out
    }
    return Variable.make(out, inputs: inputs + [weights], kind: .elementwise) { g in
        for (k, x) in inputs.enumerated() where x.requiresGrad { x.accumulateGrad(w[k] * g) }
        if weights.requiresGrad {
            let gw = inputs.map { Float(g.dot($0.value)) }
            weights.accumulateGrad(Tensor(shape: weights.shape, scalars: gw))
        }
    }
}

/// Σ of all elements, as a scalar.
public func sum(_ x: Variable) -> Variable {
    Variable.make(Tensor(scalar: Float(x.value.sum())), inputs: [x], kind: .elementwise) { g in
        x.accumulateGrad(Tensor(shape: x.shape, repeating: g.item))
    }
}

/// Mean of all elements, as a scalar.
public func mean(_ x: Variable) -> Variable {
    let n = Float(x.value.count)
    return Variable.make(Tensor(scalar: Float(x.value.mean())), inputs: [x], kind: .elementwise) { g in
        x.accumulateGrad(Tensor(shape: x.shape, repeating: g.item / n))
    }
}
