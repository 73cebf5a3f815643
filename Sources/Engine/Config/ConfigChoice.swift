import Search

/// A config field with a closed set of values. It is stored in `config.json` as its raw string, so
/// files stay readable and unchanged; `--set` and config files that name another value are refused
/// with the field and the allowed values (`RunConfig.apply`, `RunConfig.load`).
public protocol ConfigChoice: RawRepresentable, CaseIterable, Codable, Sendable where RawValue == String {}

extension ConfigChoice {
    /// The raw values a config file or `--set` may name, in declaration order.
    public static var allowedValues: [String] { allCases.map(\.rawValue) }
    /// "one of a, b, c": the `expected` part of the error for any other value.
    static var allowedPhrase: String { "one of " + allowedValues.joined(separator: ", ") }
}

/// A scale preset (C2FNAS.md "Scale presets"): what `RunConfig.preset(_:)` fills in.
public enum Preset: String, ConfigChoice, CustomStringConvertible {
    case tiny, cpu, paper
    public var description: String { rawValue }
}

/// How the coarse stage's finalists are compared: by supernet fitness, or by a short training from scratch.
public enum FinalistSelection: String, ConfigChoice, CustomStringConvertible {
    case fitness, train
    public var description: String { rawValue }
}

/// The optimiser of the final training from scratch.
public enum FinalOptimizer: String, ConfigChoice, CustomStringConvertible {
    /// SGD with (Nesterov) momentum, nnU-Net style.
    case sgd
    /// Adam: converges faster on short budgets.
    case adam
    public var description: String { rawValue }
}

extension TopologyRule: ConfigChoice {}
extension CellOp: ConfigChoice {}

/// How the coarse stage scores a topology with its supernet's weights.
public enum FitnessMetric: String, ConfigChoice, CustomStringConvertible {
    /// Soft Dice of the softmax probabilities, summed over all fitness patches per class.
    case softDice
    /// Dice of the argmax prediction, summed over all fitness patches per class.
    case dice
    public var description: String { rawValue }
}

/// An optional stage: `--set baseline=on|off`.
public enum Switch: String, ConfigChoice, CustomStringConvertible {
    case on, off
    public var description: String { rawValue }
}
