/// One computation of a network graph: a conv, an instance norm, a ReLU or a trilinear ×2
/// upsample. A builder maps each kind to one NN op.
///
/// Parameters (PyTorch layout, so exported safetensors load in PyTorch):
/// conv `name.weight` [out, in, d, h, w] and, when `bias`, `name.bias` [out];
/// instance norm (affine) `name.weight` [C] (init 1) and `name.bias` [C] (init 0).
/// Convolutions use "same" padding (k/2 per axis); a stride-2 conv halves every even side.
/// The upsample is trilinear with scale 2 and align_corners = false (PyTorch's default).
public struct GraphLayer: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable {
        case conv, instanceNorm, relu, upsample
    }

    public var kind: Kind
    /// Stable name in the stand-alone network, e.g. "cells.3.in0.op.conv"; parameters append
    /// ".weight" / ".bias". Parameter-free layers are named too (e.g. "cells.3.fuse.relu").
    public var name: String
    /// Name of the same weights in a coarse-stage supernet, where weights are keyed by
    /// (cell, level, input kind): e.g. "cells.3.L2.prevDown.op.conv".
    public var sharedName: String
    public var inChannels: Int
    public var outChannels: Int
    /// (1,1,1) for everything but convs.
    public var kernel: Kernel3
    /// 1, or 2 for the stride-2 down convs.
    public var stride: Int
    public var padding: Kernel3
    public var bias: Bool
    /// Resolution level of the layer's output (0 = input resolution, l = 1/2^l of it).
    public var level: Int

    public static func conv(name: String, shared: String, in cin: Int, out cout: Int, kernel: Kernel3,
                            stride: Int, level: Int, bias: Bool = false) -> GraphLayer {
        GraphLayer(kind: .conv, name: name, sharedName: shared, inChannels: cin, outChannels: cout,
                   kernel: kernel, stride: stride, padding: kernel.samePadding, bias: bias, level: level)
    }

    public static func norm(name: String, shared: String, channels: Int, level: Int) -> GraphLayer {
        GraphLayer(kind: .instanceNorm, name: name, sharedName: shared, inChannels: channels, outChannels: channels,
                   kernel: .one, stride: 1, padding: Kernel3(0, 0, 0), bias: false, level: level)
    }

    /// Parameter-free layers get their name filled in by the block that owns them.
    public static func relu(channels: Int, level: Int, name: String = "", shared: String = "") -> GraphLayer {
        GraphLayer(kind: .relu, name: name, sharedName: shared, inChannels: channels, outChannels: channels,
                   kernel: .one, stride: 1, padding: Kernel3(0, 0, 0), bias: false, level: level)
    }

    /// Trilinear ×2; `level` is the output level (one less than the input's).
    public static func upsample(channels: Int, level: Int, name: String = "", shared: String = "") -> GraphLayer {
        GraphLayer(kind: .upsample, name: name, sharedName: shared, inChannels: channels, outChannels: channels,
                   kernel: .one, stride: 1, padding: Kernel3(0, 0, 0), bias: false, level: level)
    }

    /// The layer's parameters with their shapes, under its stand-alone name.
    public var parameters: [ParameterSpec] { parameterSpecs(prefix: name) }

    /// The layer's parameters under its supernet (shared) name.
    public var sharedParameters: [ParameterSpec] { parameterSpecs(prefix: sharedName) }

    func parameterSpecs(prefix: String) -> [ParameterSpec] {
        switch kind {
        case .conv:
            var out = [ParameterSpec(name: "\(prefix).weight",
                                     shape: [outChannels, inChannels, kernel.d, kernel.h, kernel.w], role: .convWeight)]
            if bias { out.append(ParameterSpec(name: "\(prefix).bias", shape: [outChannels], role: .convBias)) }
            return out
        case .instanceNorm:
            return [ParameterSpec(name: "\(prefix).weight", shape: [outChannels], role: .normScale),
                    ParameterSpec(name: "\(prefix).bias", shape: [outChannels], role: .normShift)]
        case .relu, .upsample:
            return []
        }
    }

    /// Number of scalar parameters.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
}

/// A named parameter tensor and its shape.
public struct ParameterSpec: Hashable, Sendable, Codable {
    public enum Role: String, Hashable, Sendable, Codable { case convWeight, convBias, normScale, normShift }
    public var name: String
    public var shape: [Int]
    public var role: Role
    public var count: Int { shape.reduce(1, *) }
}
