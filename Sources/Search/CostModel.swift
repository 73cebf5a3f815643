/// Knobs of the training-memory estimate; the defaults describe one SGD-momentum step in f32.
/// `activationFactor` and `baseBytes` exist to be calibrated against measured RSS.
public struct MemoryModel: Hashable, Sendable, Codable {
    public var bytesPerElement: Int = 4
    public var batch: Int = 1
    /// Optimiser state tensors per parameter: SGD with momentum 1, Adam 2, plain SGD 0.
    public var optimizerStatesPerParameter: Int = 1
    /// Multiplier on the saved activations (1 = every layer output kept once).
    public var activationFactor: Double = 1
    /// Upper bound on the im2col column buffer, in elements, when the conv is tiled; nil = unbounded.
    public var workspaceCapElements: Int? = nil
    /// Fixed process baseline (runtime, libraries, data), added as is.
    public var baseBytes: Int = 0

    public init(batch: Int = 1, optimizerStatesPerParameter: Int = 1) {
        self.batch = batch
        self.optimizerStatesPerParameter = optimizerStatesPerParameter
    }

    /// Calibrated against measured peak RSS of real training steps (`c2fnas bench step`, see
    /// docs/DECISIONS.md): the conv workspace is the engine's 16 MiB column budget, and the
    /// process baseline (runtime, Foundation, OpenBLAS) is added.
    public static var calibrated: MemoryModel {
        var m = MemoryModel()
        m.workspaceCapElements = 4 << 20
        m.activationFactor = calibratedActivationFactor
        m.baseBytes = calibratedBaseBytes
        return m
    }
    /// Measured 2026-11-27, C2FNAS-Panc w=8, SGD, 1 thread: peak RSS 84 / 178 / 354 MiB at 32³ / 48³ / 64³
    /// against raw estimates 63 / 142 / 294 MiB; the binary starts at 21.5 MiB. Autodiff keeps a few
    /// temporaries beyond the layer outputs (norm statistics, softmax), hence the 1.1.
    public static let calibratedActivationFactor = 1.1
    public static let calibratedBaseBytes = 22 << 20
}

/// Parameters, multiply-adds and estimated peak training memory of a network at one input size.
public struct CostEstimate: Hashable, Sendable, Codable {
    /// Conv weights, the classifier's bias, and 2 affine values per instance-norm channel.
    public var parameters: Int
    /// Convolution multiply-adds of one forward pass of one sample: Σ Cout·Cin·kd·kh·kw·output voxels.
    /// Norms, activations, upsampling and sums are not counted.
    public var macs: Int
    /// Estimated peak bytes of one training step (see `NetworkGraph.cost`).
    public var memoryBytes: Int
    /// The terms of `memoryBytes`, in bytes.
    public var activationBytes: Int
    public var gradientBytes: Int
    public var parameterStateBytes: Int
    public var workspaceBytes: Int
}

extension NetworkGraph {
    /// Cost at `input` (D, H, W; the architecture's patch by default).
    ///
    /// Memory formula, in elements of `bytesPerElement` bytes, with B = batch:
    /// - saved activations A = activationFactor · B · (network input + every layer output + every
    ///   merged sum/concat tensor): a tape of closures keeps each intermediate alive until backward;
    /// - backward gradients G = 2 · B · (largest single tensor): the incoming and outgoing gradient
    ///   of the layer being differentiated;
    /// - parameter state S = P · (1 weight + 1 gradient + optimizerStatesPerParameter);
    /// - workspace W = largest im2col column buffer of one sample, Cin·kd·kh·kw·output voxels, over
    ///   the convs that need one (kernel > 1 or stride > 1), capped by `workspaceCapElements`.
    /// memoryBytes = bytesPerElement · (A + G + S + W) + baseBytes.
    public func cost(input: [Int]? = nil, memory: MemoryModel = MemoryModel()) throws -> CostEstimate {
        let trace = try traceShapes(input: input ?? architecture.patch)
        let params = parameterCount
        var macs = 0, saved = trace.input.elements, largest = trace.input.elements, workspace = 0
        for l in trace.layers {
            saved += l.output.elements
            largest = max(largest, l.output.elements)
            if l.layer.kind == .conv {
                macs += l.layer.outChannels * l.layer.inChannels * l.layer.kernel.volume * l.output.voxels
                if l.layer.kernel.volume > 1 || l.layer.stride > 1 {
                    workspace = max(workspace, l.layer.inChannels * l.layer.kernel.volume * l.output.voxels)
                }
            }
        }
        for case let m? in trace.mergedInputs {
            saved += m.elements
            largest = max(largest, m.elements)
        }
        if let cap = memory.workspaceCapElements { workspace = min(workspace, cap) }
        let e = memory.bytesPerElement, b = memory.batch
        let activationBytes = Int((Double(saved * b * e) * memory.activationFactor).rounded(.up))
        let gradientBytes = 2 * largest * b * e
        let stateBytes = params * (2 + memory.optimizerStatesPerParameter) * e
        let workspaceBytes = workspace * e
        return CostEstimate(parameters: params, macs: macs,
                            memoryBytes: activationBytes + gradientBytes + stateBytes + workspaceBytes + memory.baseBytes,
                            activationBytes: activationBytes, gradientBytes: gradientBytes,
                            parameterStateBytes: stateBytes, workspaceBytes: workspaceBytes)
    }
}

extension Architecture {
    /// Cost of this architecture at its patch size.
    public func cost(memory: MemoryModel = MemoryModel()) throws -> CostEstimate {
        try NetworkGraph(self).cost(memory: memory)
    }
}
