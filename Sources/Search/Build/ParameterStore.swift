import NN
import Tensor

/// Owns a network's parameters by name and creates each on first use. Initialisation depends
/// only on the store's seed and the parameter's name (not on creation order), so a supernet and a
/// stand-alone network built from the same seed start from the same weights for the same names.
///
/// Init: conv weights He-normal (fan-in = in·kD·kH·kW), conv bias 0, norm scale 1, norm shift 0.
public final class ParameterStore {
    public let seed: UInt64
    public private(set) var byName: [String: Parameter] = [:]

    public init(seed: UInt64) { self.seed = seed }

    /// The parameter named by `spec`, created on first request. Requests with the same name and a
    /// different shape are a programming error in the graph (SupernetLayout checks this up front).
    public func parameter(_ spec: ParameterSpec) -> Parameter {
        if let p = byName[spec.name] {
            precondition(p.value.shape == spec.shape, "parameter \(spec.name): shape \(spec.shape) vs stored \(p.value.shape)")
            return p
        }
        var rng = RNG(seed: seed, stream: Self.hash(spec.name))
        let value: Tensor
        switch spec.role {
        case .convWeight: value = Tensor.heNormal(spec.shape, rng: &rng)
        case .convBias, .normShift: value = Tensor.zeros(spec.shape)
        case .normScale: value = Tensor.ones(spec.shape)
        }
        let p = Parameter(name: spec.name, value: value)
        byName[spec.name] = p
        return p
    }

    /// A free-standing parameter with an explicit value (architecture logits).
    public func parameter(named name: String, initial: () -> Tensor) -> Parameter {
        if let p = byName[name] { return p }
        let p = Parameter(name: name, value: initial())
        byName[name] = p
        return p
    }

    /// Every parameter, sorted by name (a stable order for optimizers and checkpoints).
    public var all: [Parameter] { byName.keys.sorted().map { byName[$0]! } }

    /// FNV-1a of the name: a fixed, platform-independent per-name seed offset.
    static func hash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}
