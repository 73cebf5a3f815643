// conv3d as an autodiff op, and the Conv3d layer (named weight/bias Parameters, He-normal init).

import Tensor

/// 3-D convolution with "same" padding. `x` is N,Cin,D,H,W; `weight` is Cout,Cin,kD,kH,kW (odd
/// sizes); `bias` has Cout values. Output extent per axis is ceil(n / stride).
/// Backward computes only the gradients that are needed (no dX for an input without grad).
public func conv3d(_ x: Variable, weight: Variable, bias: Variable? = nil, stride: Stride3D = .one) -> Variable {
    let label = { convProfileLabel(x.value.shape, weight.value.shape, stride) }
    let flops = { Double(2 * conv3dMACs(inputShape: x.value.shape, outChannels: weight.value.shape[0],
                                        kernel: Kernel3D(d: weight.value.shape[2], h: weight.value.shape[3],
                                                         w: weight.value.shape[4]), stride: stride)) }
    let y = OpProfile.withDetail(label(), flops: flops()) {
        OpProfile.measure(.convForward) {
            Conv3dKernel.forward(x: x.value, weight: weight.value, bias: bias?.value, stride: stride)
        }
    }
    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    return Variable.make(y, inputs: inputs, kind: nil) { gy in
        // Charged to dX; the weight-gradient parts inside measure themselves (exclusive time). The
        // region opens inside the shape label so that the shape split sees it.
        let passes = (x.requiresGrad ? 1 : 0) + (weight.requiresGrad ? 1 : 0)
        let g = OpProfile.withDetail(label(), flops: Double(passes) * flops()) {
            OpProfile.measure(.convInputGrad) {
                Conv3dKernel.backward(x: x.value, weight: weight.value, gradOutput: gy, stride: stride,
                                      needInput: x.requiresGrad, needWeight: weight.requiresGrad,
                                      needBias: bias?.requiresGrad ?? false)
            }
        }
        if let gx = g.input { x.accumulateGrad(gx) }
        if let gw = g.weight { weight.accumulateGrad(gw) }
        if let gb = g.bias { bias!.accumulateGrad(gb) }
    }
}

/// "16->32 k3x3x1 s2 64x64x64 (direct)": channels, kernel and stride in paper notation (x, y, z), the
/// input extent and the path that runs it, for the profile's per-shape split.
func convProfileLabel(_ input: [Int], _ weight: [Int], _ stride: Stride3D) -> String {
    let g = ConvGeometry(input: input, weight: weight, stride: stride)
    let kernel = Kernel3D(d: g.kd, h: g.kh, w: g.kw)
    let direct = Conv3dEngine.useDirect
    let path = direct && Conv3dWinogradKernel.applies(g, inputs: g.cin, outputs: g.cout) ? "winograd"
        : direct && Conv3dDirectKernel.applies(g)
            ? (Conv3dDirectKernel.usesOutVectors(g, inputs: g.cin, outputs: g.cout) ? "direct, out-vectors" : "direct")
        : direct && Conv3dPointwiseKernel.applies(g) ? "pointwise"
        : g.isPointwise ? "gemm" : Conv3dEngine.usePlaneShift && Conv3dPlaneKernel.applies(g) ? "plane" : "im2col"
    let batch = g.n > 1 ? "\(g.n)x" : ""
    return "\(g.cin)->\(g.cout) k\(kernel) s\(stride) \(batch)\(g.w)x\(g.h)x\(g.d) (\(path))"
}

/// Multiply-adds of one conv3d forward pass (for cost models and benchmarks).
public func conv3dMACs(inputShape: [Int], outChannels: Int, kernel: Kernel3D, stride: Stride3D) -> Int {
    let g = ConvGeometry(input: inputShape,
                         weight: [outChannels, inputShape[1], kernel.d, kernel.h, kernel.w], stride: stride)
    return g.macs
}

/// Output shape of a conv3d (same padding).
public func conv3dOutputShape(inputShape: [Int], outChannels: Int, kernel: Kernel3D, stride: Stride3D) -> [Int] {
    ConvGeometry(input: inputShape, weight: [outChannels, inputShape[1], kernel.d, kernel.h, kernel.w],
                 stride: stride).outputShape
}

/// A conv layer: parameters "<name>.weight" [Cout, Cin, kD, kH, kW] and optionally "<name>.bias" [Cout].
public final class Conv3d: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let kernel: Kernel3D
    public let stride: Stride3D
    public let inChannels: Int, outChannels: Int

    /// He-normal weight (fan-in Cin·kernel volume), zero bias.
    public init(name: String, inChannels: Int, outChannels: Int, kernel: Kernel3D, stride: Stride3D = .one,
                bias: Bool = false, rng: inout RNG) {
        self.kernel = kernel
        self.stride = stride
        self.inChannels = inChannels
        self.outChannels = outChannels
        let shape = [outChannels, inChannels, kernel.d, kernel.h, kernel.w]
        weight = Parameter(name: name + ".weight", value: .heNormal(shape, rng: &rng))
        self.bias = bias ? Parameter(name: name + ".bias", value: .zeros([outChannels])) : nil
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        conv3d(x, weight: weight, bias: bias, stride: stride)
    }

    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }
}
