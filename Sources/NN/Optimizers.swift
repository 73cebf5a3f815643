// Optimizers (SGD with momentum/Nesterov/weight decay, Adam, AdamW), the poly learning-rate
// schedule, and gradient clipping by global norm. Update rules follow PyTorch's.
//
// State is exported as name → tensor: "<prefix>.<kind>.<parameter name>" plus a scalar
// "<prefix>.step", so it can sit in the same safetensors file as the weights.

import Foundation
import Tensor

public protocol Optimizer: AnyObject {
    var parameters: [Parameter] { get }
    var learningRate: Float { get set }
    /// Applies one update from the parameters' accumulated grads (parameters without grad are skipped).
    func step()
    /// Optimizer state as name → tensor (for checkpoints).
    func stateTensors() -> [String: Tensor]
    /// Restores state written by `stateTensors()`.
    func loadState(_ tensors: [String: Tensor]) throws
}

extension Optimizer {
    /// Clears every parameter's gradient.
    public func zeroGrad() { for p in parameters { p.grad = nil } }
}

/// A piece of one parameter's update: value, gradient and up to two state arrays, `count` elements.
private struct UpdateSlice {
    var value: UnsafeMutablePointer<Float>
    var grad: UnsafePointer<Float>
    var state0: UnsafeMutablePointer<Float>?
    var state1: UnsafeMutablePointer<Float>?
    var count: Int
}

/// Runs `body` over every parameter that has a gradient, in slices of at most 32 Ki elements spread
/// over the pool in one fork/join (an update is elementwise, so the result does not depend on the
/// split). `state0` / `state1` (optimizer state per parameter) are created as zeros when `makeState`.
/// Pointers are taken after each tensor is made unique and stay valid during the call: the
/// parameters, their grads and the state arrays are not reassigned while it runs.
private func updateInSlices(_ params: [Parameter], state0: inout [Tensor?], state1: inout [Tensor?],
                            makeState0: Bool, makeState1: Bool, _ body: (UpdateSlice) -> Void) {
    let slice = 1 << 15
    var slices: [UpdateSlice] = []
    var grads: [Tensor] = []
    for (k, p) in params.enumerated() {
        guard let g = p.grad else { continue }
        precondition(g.count == p.value.count, "optimizer: grad of \(p.name) has shape \(g.shape), value \(p.value.shape)")
        if makeState0 && state0[k] == nil { state0[k] = .zeros(p.value.shape) }
        if makeState1 && state1[k] == nil { state1[k] = .zeros(p.value.shape) }
        let n = p.value.count
        let vp = p.value.withUnsafeMutablePointer { $0 }
        let gp = g.withUnsafePointer { $0 }
        let s0 = state0[k]?.withUnsafeMutablePointer { $0 }
        let s1 = state1[k]?.withUnsafeMutablePointer { $0 }
        grads.append(g)
        var off = 0
        while off < n {
            let m = min(slice, n - off)
            slices.append(UpdateSlice(value: vp + off, grad: gp + off, state0: s0.map { $0 + off },
                                      state1: s1.map { $0 + off }, count: m))
            off += m
        }
    }
    withExtendedLifetime((params, grads, state0, state1)) {
        slices.withUnsafeBufferPointer { sp in
            Compute.parallelFor(sp.count) { i in body(sp[i]) }
        }
    }
}

private func loadSlots(_ tensors: [String: Tensor], key: (Parameter) -> String, params: [Parameter],
                       into slots: inout [Tensor?]) throws {
    for (k, p) in params.enumerated() {
        guard let t = tensors[key(p)] else { slots[k] = nil; continue }
        guard t.shape == p.value.shape else {
            throw NNError.shapeMismatch("optimizer state \(key(p)): stored \(t.shape), parameter is \(p.value.shape)")
        }
        slots[k] = t
    }
}

/// SGD: g ← grad + wd·p; v ← μ·v + g; p ← p - lr·(Nesterov ? g + μ·v : v).
public final class SGD: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public var momentum: Float, weightDecay: Float
    public var nesterov: Bool
    private var velocity: [Tensor?]
    private var unused: [Tensor?] = []
    public private(set) var stepCount = 0

    public init(parameters: [Parameter], learningRate: Float, momentum: Float = 0.9,
                nesterov: Bool = false, weightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        velocity = Array(repeating: nil, count: parameters.count)
    }

    public func step() { OpProfile.measure(.optimiser) { update() } }

    private func update() {
        let lr = learningRate, mu = momentum, wd = weightDecay, nest = nesterov
        if unused.count != parameters.count { unused = Array(repeating: nil, count: parameters.count) }
        updateInSlices(parameters, state0: &velocity, state1: &unused, makeState0: mu != 0, makeState1: false) { s in
            let p = s.value, g = s.grad, n = s.count
            guard mu != 0, let v = s.state0 else {
                for i in 0..<n { p[i] -= lr * (g[i] + wd * p[i]) }
                return
            }
            if nest {
                for i in 0..<n {
                    let gi = g[i] + wd * p[i]
                    let vi = mu * v[i] + gi
                    v[i] = vi
                    p[i] -= lr * (gi + mu * vi)
                }
            } else {
                for i in 0..<n {
                    let vi = mu * v[i] + (g[i] + wd * p[i])
                    v[i] = vi
                    p[i] -= lr * vi
                }
            }
        }
        stepCount += 1
    }

    public func stateTensors() -> [String: Tensor] {
        var d: [String: Tensor] = ["sgd.step": Tensor(scalar: Float(stepCount))]
        for (k, p) in parameters.enumerated() { if let v = velocity[k] { d["sgd.momentum." + p.name] = v } }
        return d
    }

    public func loadState(_ tensors: [String: Tensor]) throws {
        try loadSlots(tensors, key: { "sgd.momentum." + $0.name }, params: parameters, into: &velocity)
        stepCount = Int(tensors["sgd.step"]?.item ?? 0)
    }
}

/// Adam (L2 weight decay added to the gradient) or AdamW (`decoupledWeightDecay`: p ← p - lr·wd·p).
public final class Adam: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public var beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    public let decoupledWeightDecay: Bool
    private var m: [Tensor?], v: [Tensor?]
    public private(set) var stepCount = 0

    public init(parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        m = Array(repeating: nil, count: parameters.count)
        v = m
    }

    /// AdamW with PyTorch's default weight decay 0.01.
    public static func adamW(parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9,
                             beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0.01) -> Adam {
        Adam(parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps,
             weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    private var prefix: String { decoupledWeightDecay ? "adamw" : "adam" }

    public func step() { OpProfile.measure(.optimiser) { update() } }

    private func update() {
        stepCount += 1
        let lr = learningRate, b1 = beta1, b2 = beta2, e = eps, wd = weightDecay, decoupled = decoupledWeightDecay
        let bc1 = 1 - Float(Foundation.pow(Double(b1), Double(stepCount)))
        let bc2 = 1 - Float(Foundation.pow(Double(b2), Double(stepCount)))
        let stepSize = lr / bc1, bc2Root = bc2.squareRoot()
        updateInSlices(parameters, state0: &m, state1: &v, makeState0: true, makeState1: true) { s in
            let p = s.value, g = s.grad, mp = s.state0!, vp = s.state1!
            for i in 0..<s.count {
                var gi = g[i]
                if decoupled { p[i] -= lr * wd * p[i] } else { gi += wd * p[i] }
                let mi = b1 * mp[i] + (1 - b1) * gi
                let vi = b2 * vp[i] + (1 - b2) * gi * gi
                mp[i] = mi
                vp[i] = vi
                p[i] -= stepSize * mi / (vi.squareRoot() / bc2Root + e)
            }
        }
    }

    public func stateTensors() -> [String: Tensor] {
        var d: [String: Tensor] = [prefix + ".step": Tensor(scalar: Float(stepCount))]
        for (k, p) in parameters.enumerated() {
            if let a = m[k] { d[prefix + ".m." + p.name] = a }
            if let b = v[k] { d[prefix + ".v." + p.name] = b }
        }
        return d
    }

    public func loadState(_ tensors: [String: Tensor]) throws {
        try loadSlots(tensors, key: { self.prefix + ".m." + $0.name }, params: parameters, into: &m)
        try loadSlots(tensors, key: { self.prefix + ".v." + $0.name }, params: parameters, into: &v)
        for k in parameters.indices where (m[k] == nil) != (v[k] == nil) {
            throw NNError.missingTensor("optimizer state for \(parameters[k].name) has only one of m and v")
        }
        stepCount = Int(tensors[prefix + ".step"]?.item ?? 0)
    }
}

/// Poly decay: lr(step) = base · (1 - step / totalSteps)^power (nnU-Net: power 0.9), 0 past the end.
public struct PolyLRSchedule: Sendable, Equatable, Codable {
    public var baseLearningRate: Float
    public var totalSteps: Int
    public var power: Float

    public init(baseLearningRate: Float, totalSteps: Int, power: Float = 0.9) {
        self.baseLearningRate = baseLearningRate
        self.totalSteps = max(1, totalSteps)
        self.power = power
    }

    public func learningRate(atStep step: Int) -> Float {
        let f = max(0, 1 - Double(min(max(step, 0), totalSteps)) / Double(totalSteps))
        return baseLearningRate * Float(Foundation.pow(f, Double(power)))
    }
}

/// Scales all gradients so their global L2 norm is at most `maxNorm`; returns the norm before
/// clipping. The norm is summed in Double in parameter order (deterministic).
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    OpProfile.measure(.optimiser) { clipGradients(parameters, maxNorm: maxNorm) }
}

private func clipGradients(_ parameters: [Parameter], maxNorm: Float) -> Float {
    var total = 0.0
    for p in parameters { if let g = p.grad { total += g.sumOfSquares() } }
    let norm = Float(total.squareRoot())
    if norm > maxNorm {
        let s = maxNorm / (norm + 1e-6)
        for p in parameters where p.grad != nil { p.grad!.scale(by: s) }
    }
    return norm
}
