/// The shape of one sample's feature map: channels and spatial sides (D, H, W).
public struct FeatureShape: Hashable, Sendable, Codable, CustomStringConvertible {
    public var channels: Int, d: Int, h: Int, w: Int
    public init(channels: Int, d: Int, h: Int, w: Int) {
        self.channels = channels; self.d = d; self.h = h; self.w = w
    }
    public var voxels: Int { d * h * w }
    public var elements: Int { channels * voxels }
    public var spatial: [Int] { [d, h, w] }
    /// "16x24x24x24" (C x D x H x W).
    public var description: String { "\(channels)x\(d)x\(h)x\(w)" }
}

/// A shape problem found while tracing a graph, naming the block or layer.
public struct GraphError: Error, Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var message: String
    public var description: String { "\(name): \(message)" }
}

/// Input and output shape of every layer, and the output of every block, for one input size.
public struct ShapeTrace: Sendable, Hashable {
    public struct LayerShape: Sendable, Hashable {
        public var block: Int
        public var layer: GraphLayer
        public var input: FeatureShape
        public var output: FeatureShape
    }
    public var input: FeatureShape
    public var layers: [LayerShape]
    /// Output of each block, by block id.
    public var blockOutputs: [FeatureShape]
    /// The merged input of each block when it is a new tensor (sum or concat of several inputs).
    public var mergedInputs: [FeatureShape?]
}

extension NetworkGraph {
    /// Traces shapes through the graph for an input of spatial size `input` (D, H, W), checking
    /// that summed inputs agree, concatenated inputs share their sides and every layer's declared
    /// input channels match what reaches it.
    public func traceShapes(input: [Int]) throws -> ShapeTrace {
        guard input.count == 3, input.allSatisfy({ $0 > 0 }) else {
            throw GraphError(name: "input", message: "size must be 3 positive sides (D, H, W), got \(input)")
        }
        let x = FeatureShape(channels: architecture.inputChannels, d: input[0], h: input[1], w: input[2])
        var outputs: [FeatureShape] = []
        var merged: [FeatureShape?] = []
        var traces: [ShapeTrace.LayerShape] = []
        for block in blocks {
            let ins = block.inputs.map { outputs[$0] }
            var shape: FeatureShape
            switch block.merge {
            case _ where ins.isEmpty:
                shape = x
                merged.append(nil)
            case .single:
                shape = ins[0]
                merged.append(nil)
            case .sum:
                guard ins.allSatisfy({ $0 == ins[0] }) else {
                    throw GraphError(name: block.name, message: "summed inputs differ in shape: \(ins)")
                }
                shape = ins[0]
                merged.append(shape)
            case .concat:
                guard ins.allSatisfy({ $0.spatial == ins[0].spatial }) else {
                    throw GraphError(name: block.name, message: "concatenated inputs differ in size: \(ins)")
                }
                shape = FeatureShape(channels: ins.reduce(0) { $0 + $1.channels }, d: ins[0].d, h: ins[0].h, w: ins[0].w)
                merged.append(shape)
            }
            for layer in block.layers {
                let out = try NetworkGraph.output(of: layer, input: shape)
                traces.append(.init(block: block.id, layer: layer, input: shape, output: out))
                shape = out
            }
            outputs.append(shape)
        }
        return ShapeTrace(input: x, layers: traces, blockOutputs: outputs, mergedInputs: merged)
    }

    /// Output shape of each cell (one sample) for an input of spatial size `input`.
    public func cellShapes(input: [Int]) throws -> [FeatureShape] {
        let trace = try traceShapes(input: input)
        return cellOutputBlocks.map { trace.blockOutputs[$0] }
    }

    static func output(of layer: GraphLayer, input s: FeatureShape) throws -> FeatureShape {
        guard s.channels == layer.inChannels else {
            throw GraphError(name: layer.name, message: "expects \(layer.inChannels) channels, receives \(s.channels)")
        }
        switch layer.kind {
        case .relu, .instanceNorm:
            return s
        case .upsample:
            return FeatureShape(channels: s.channels, d: 2 * s.d, h: 2 * s.h, w: 2 * s.w)
        case .conv:
            func side(_ n: Int, _ k: Int, _ p: Int) throws -> Int {
                let span = n + 2 * p - k
                guard span >= 0 else {
                    throw GraphError(name: layer.name, message: "side \(n) is too small for kernel \(layer.kernel)")
                }
                if layer.stride > 1 && n % layer.stride != 0 {
                    throw GraphError(name: layer.name,
                        message: "side \(n) is not divisible by the stride \(layer.stride); input sides must be multiples of 2^levels")
                }
                return span / layer.stride + 1
            }
            return FeatureShape(channels: layer.outChannels,
                                d: try side(s.d, layer.kernel.d, layer.padding.d),
                                h: try side(s.h, layer.kernel.h, layer.padding.h),
                                w: try side(s.w, layer.kernel.w, layer.padding.w))
        }
    }
}
