import Tensor

// Reverse-mode autodiff at tensor granularity (micrograd's idea, one node per tensor op).
//
// A `Variable` holds a value `Tensor`, an optional accumulated `grad`, and, when it was produced by
// an op while gradients are enabled, its parents plus a backward closure. Ops are free functions
// (`conv3d`, `relu`, `instanceNorm`, …) that compute the forward value and record the backward
// closure right next to it. There is no global tape: the graph is reachable from the loss.
//
//     let y = relu(instanceNorm(conv3d(x, weight: w), weight: g, bias: b))
//     let loss = diceCELoss(logits: y, labels: labels)
//     loss.backward()              // fills .grad of every Parameter / leaf that requires grad
//     optimizer.step(); optimizer.zeroGrad()
//
// `backward()` walks the graph once in reverse topological order and frees every intermediate's
// closure, parents and grad as soon as it has been used, so activations are released during the
// pass. Leaves (Parameters, inputs created with requiresGrad) keep and accumulate their grads.
// `noGrad { ... }` disables recording (inference): ops then build no graph at all.
// Shape errors are programmer errors: ops check shapes up front and stop with a message naming
// the op and the shapes involved.

import Tensor

public class Variable {
    /// The forward value. Settable (optimizers and checkpoint loading update Parameters in place).
    public var value: Tensor
    /// Accumulated gradient of the loss with respect to `value` (nil until a backward pass reaches it).
    public var grad: Tensor?
    /// Whether gradients flow to this variable (settable only through `Parameter.withFrozen`).
    public internal(set) var requiresGrad: Bool

    var parents: [Variable] = []
    var backwardFn: ((Tensor) -> Void)?

    /// A leaf variable (an input, or a constant when `requiresGrad` is false).
    public init(_ value: Tensor, requiresGrad: Bool = false) {
        self.value = value
        self.requiresGrad = requiresGrad
    }

    public var shape: [Int] { value.shape }
    /// The value of a one-element variable (e.g. a loss).
    public var item: Float { value.item }
    /// True for variables produced by an op that still holds its backward closure.
    public var hasGraph: Bool { backwardFn != nil }

    /// A constant with the same value, cut from the graph.
    public func detached() -> Variable { Variable(value) }

    /// Adds `g` to `grad`.
    func accumulateGrad(_ g: Tensor) {
        precondition(g.count == value.count, "gradient shape \(g.shape) does not match value shape \(value.shape)")
        if grad == nil {
            grad = g.shape == value.shape ? g : g.reshaped(value.shape)
        } else {
            OpProfile.withDetail(profileLabel("gradient sum", value.shape)) { OpProfile.measure(.elementwise) { grad!.add(g) } }
        }
    }

    /// Back-propagates from this variable. `seed` is d(loss)/d(self); it defaults to ones, so for a
    /// scalar loss `loss.backward()` is the usual call. Intermediates are released as they are used;
    /// calling backward twice on the same graph is therefore not possible (the second call only
    /// reaches this node).
    public func backward(seed: Tensor? = nil) {
        precondition(requiresGrad, "backward(): this variable does not require grad "
            + "(built inside noGrad, or from inputs that need no gradient)")
        if let seed {
            precondition(seed.count == value.count, "backward(seed:): seed shape \(seed.shape) vs value \(value.shape)")
        }
        let order = topologicalOrder()
        accumulateGrad(seed ?? Tensor.ones(value.shape))
        for node in order.reversed() {
            guard let fn = node.backwardFn else { continue }
            if let g = node.grad { fn(g) }
            node.backwardFn = nil
            node.parents = []
            node.grad = nil
        }
    }

    /// Nodes with a backward closure, parents before children (iterative DFS, no recursion limit).
    private func topologicalOrder() -> [Variable] {
        var order: [Variable] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Variable, Int)] = [(self, 0)]
        visited.insert(ObjectIdentifier(self))
        while let (node, next) = stack.last {
            if next < node.parents.count {
                stack[stack.count - 1].1 = next + 1
                let p = node.parents[next]
                if p.backwardFn != nil && visited.insert(ObjectIdentifier(p)).inserted {
                    stack.append((p, 0))
                }
            } else {
                stack.removeLast()
                if node.backwardFn != nil { order.append(node) }
            }
        }
        return order
    }

    /// Creates an op's output. The backward closure receives d(loss)/d(output) and must accumulate
    /// into the inputs that require grad. Nothing is recorded under `noGrad` or when no input needs grad.
    /// `kind` is the op's profile kind: the backward pass is charged to it (`OpProfile`); nil when the
    /// backward measures its own parts (conv3d, which also labels them with its shape).
    static func make(_ value: Tensor, inputs: [Variable], kind: OpKind?,
                     backward: @escaping (Tensor) -> Void) -> Variable {
        let needs = GradMode.isEnabled && inputs.contains { $0.requiresGrad }
        let v = Variable(value, requiresGrad: needs)
        if needs {
            v.parents = inputs
            if let kind {
                v.backwardFn = { g in OpProfile.measure(kind) { backward(g) } }
            } else {
                v.backwardFn = backward
            }
        }
        return v
    }
}

/// A trainable tensor with a stable, readable name (e.g. "cells.3.op.conv.weight"), used as its
/// key in safetensors files and optimizer state.
public final class Parameter: Variable {
    public let name: String

    public init(name: String, value: Tensor) {
        self.name = name
        super.init(value, requiresGrad: true)
    }

    /// Replaces the value, checking the shape (for checkpoint loading).
    public func load(_ t: Tensor) throws {
        guard t.shape == value.shape else {
            throw NNError.shapeMismatch("parameter \(name): stored shape \(t.shape), model expects \(value.shape); "
                + "the checkpoint was written for a different architecture")
        }
        value = t
    }

    /// Clears the accumulated gradient.
    public func zeroGrad() { grad = nil }

    /// Runs `body` with `frozen` treated as constants: a forward pass inside builds no gradient
    /// path to them, so a backward pass skips their weight gradients (a conv's dW, a norm's dγ/dβ)
    /// and computes only what reaches the parameters still trainable. The fine stage's α step uses
    /// it: it needs d loss / d α, not the weights' gradients it would otherwise compute and discard.
    public static func withFrozen<T>(_ frozen: [Parameter], _ body: () throws -> T) rethrows -> T {
        for p in frozen { p.requiresGrad = false }
        defer { for p in frozen { p.requiresGrad = true } }
        return try body()
    }
}

/// A named non-trainable tensor saved with a model (e.g. batch-norm running statistics).
public final class Buffer {
    public let name: String
    public var value: Tensor
    public init(name: String, value: Tensor) { self.name = name; self.value = value }
}

/// Whether ops record a graph. Task-local (and thread-local outside tasks), so an inference running
/// under `noGrad` does not affect training elsewhere.
public enum GradMode {
    @TaskLocal public static var isEnabled: Bool = true
}

/// Runs `body` with graph recording disabled (inference, evaluation, parameter updates).
public func noGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$isEnabled.withValue(false) { try body() }
}

public enum NNError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(String)
    case missingTensor(String)
    case invalidFile(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let m): return "shape mismatch: \(m)"
        case .missingTensor(let m): return "missing tensor: \(m)"
        case .invalidFile(let m): return m
        }
    }
}
