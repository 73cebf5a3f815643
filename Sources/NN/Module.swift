// Module: anything that owns named Parameters (and optionally Buffers such as running statistics).
//
// Networks compose modules; `parameters` lists every trainable tensor once, in a stable order,
// which optimizers and checkpoints rely on. `stateDict()` / `loadStateDict(_:)` map names to
// tensors for safetensors files.

import Tensor

public protocol Module: AnyObject {
    /// Every trainable parameter, each once, in a stable order.
    var parameters: [Parameter] { get }
    /// Non-trainable state saved with the model (default: none).
    var buffers: [Buffer] { get }
    /// Switches train/eval behaviour (batch norm); default does nothing.
    func setTraining(_ training: Bool)
}

extension Module {
    public var buffers: [Buffer] { [] }
    public func setTraining(_ training: Bool) {}

    /// Total number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// Name → tensor for every parameter and buffer.
    public func stateDict() -> [String: Tensor] {
        var d: [String: Tensor] = [:]
        for p in parameters { d[p.name] = p.value }
        for b in buffers { d[b.name] = b.value }
        return d
    }

    /// Loads every parameter and buffer by name; all must be present with matching shapes.
    /// Extra entries in `dict` are ignored (optimizer state may share the file).
    public func loadStateDict(_ dict: [String: Tensor]) throws {
        for p in parameters {
            guard let t = dict[p.name] else {
                throw NNError.missingTensor("\(p.name) is not in the checkpoint; it was written for a different model")
            }
            try p.load(t)
        }
        for b in buffers {
            guard let t = dict[b.name] else {
                throw NNError.missingTensor("\(b.name) is not in the checkpoint; it was written for a different model")
            }
            guard t.shape == b.value.shape else {
                throw NNError.shapeMismatch("buffer \(b.name): stored \(t.shape), model expects \(b.value.shape)")
            }
            b.value = t
        }
    }

    /// Clears every parameter's gradient.
    public func zeroGrad() { for p in parameters { p.grad = nil } }
}
