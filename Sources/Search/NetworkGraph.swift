/// What a cell input is, relative to the cell (C2FNAS.md, "Wiring"). The prev input is split by
/// its move because its resampling block differs; together with (cell, level) this is the
/// weight-sharing key of the coarse-stage supernet.
public enum InputKind: String, Hashable, Sendable, Codable, CaseIterable {
    /// The previous output, from one level above (down resampling: stride-2 conv).
    case prevDown
    /// The previous output at the same level (keep resampling: 1x1x1 conv).
    case prevKeep
    /// The previous output, from one level below (up resampling: trilinear ×2 + 1x1x1 conv).
    case prevUp
    /// A keep cell's second input: the output two steps back, when at the same level.
    case twoBack
    /// An up cell's second input: the most recent earlier output at its level (U-Net skip).
    case skip

    public static func prev(_ move: Move) -> InputKind {
        switch move {
        case .down: .prevDown
        case .keep: .prevKeep
        case .up: .prevUp
        }
    }

    /// The resampling move of a prev input; nil for twoBack and skip (same level, no resampling).
    public var move: Move? {
        switch self {
        case .prevDown: .down
        case .prevKeep: .keep
        case .prevUp: .up
        case .twoBack, .skip: nil
        }
    }
}

/// One input of a cell: its kind and where it comes from, as a step (0 = the stem, s = cell s-1).
public struct CellInput: Hashable, Sendable, Codable, CustomStringConvertible {
    public var kind: InputKind
    public var sourceStep: Int

    public init(_ kind: InputKind, from sourceStep: Int) {
        self.kind = kind
        self.sourceStep = sourceStep
    }

    /// 0-based source cell, or nil when the source is the stem.
    public var sourceCell: Int? { sourceStep == 0 ? nil : sourceStep - 1 }

    public var description: String { "\(kind)(\(sourceCell.map { "cell \($0)" } ?? "stem"))" }
}

/// A wiring unit of the graph: its input blocks are merged (one input as is, several summed or
/// concatenated on channels), then its layers run in order. The block's output is the last
/// layer's output. Blocks are in execution order; inputs always refer to earlier blocks.
public struct GraphBlock: Hashable, Sendable, Codable {
    public enum Role: String, Hashable, Sendable, Codable {
        case stem, resample, cellOp, fuse, headUp, head
    }
    public enum Merge: String, Hashable, Sendable, Codable {
        case single, sum, concat
    }

    public var id: Int
    /// Name prefix of the block's layers, e.g. "cells.3.in0.op".
    public var name: String
    public var role: Role
    /// Ids of the input blocks; empty means the network input (only the stem).
    public var inputs: [Int]
    public var merge: Merge
    public var layers: [GraphLayer]
    /// 0-based cell, for cell blocks.
    public var cell: Int?
    /// Which cell input the block serves (resample and cellOp blocks).
    public var inputIndex: Int?
    public var inputKind: InputKind?
    /// The resampling move (resample and headUp blocks).
    public var move: Move?
    /// The cell's op (cellOp blocks). The fine stage replaces these blocks by mixed ops.
    public var op: CellOp?
    /// Channels after the merge and at the output.
    public var inChannels: Int
    public var outChannels: Int
    /// Resolution level of the merged input and of the output.
    public var inLevel: Int
    public var level: Int
    /// Supernet name prefix of the block: weights are shared by (cell, level, input kind).
    public var sharedName: String
}

/// The full computation of an architecture, derived mechanically from it. Build a network by
/// walking `blocks` in order: merge the inputs' outputs, apply the layers, store the result.
/// See `NetworkGraph+Build.swift` for the wiring rules and the naming scheme.
public struct NetworkGraph: Hashable, Sendable, Codable {
    public var architecture: Architecture
    public var blocks: [GraphBlock]
    /// Inputs of each cell, in the order of the cell's op blocks (in0, in1).
    public var cellInputs: [[CellInput]]
    public var stemBlock: Int
    /// Output block (the fuse block) of each cell.
    public var cellOutputBlocks: [Int]
    /// The head block; its output is the K-channel logits at input resolution.
    public var headBlock: Int

    /// Every layer, in execution order.
    public var layers: [GraphLayer] { blocks.flatMap(\.layers) }

    /// Every parameter tensor under its stand-alone name, in execution order.
    public var parameters: [ParameterSpec] { layers.flatMap(\.parameters) }

    /// Every parameter tensor under its supernet (shared) name.
    public var sharedParameters: [ParameterSpec] { layers.flatMap(\.sharedParameters) }

    /// Total number of scalar parameters.
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.parameterCount } }

    /// Block id of output `step` (0 = stem, s = cell s-1).
    public func outputBlock(ofStep step: Int) -> Int { step == 0 ? stemBlock : cellOutputBlocks[step - 1] }
}
