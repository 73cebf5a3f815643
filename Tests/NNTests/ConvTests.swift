import Testing
@testable import NN
import Tensor

/// Naive direct convolution in Double: the independent reference (7 nested loops per output).
func naiveConv3d(_ x: Tensor, _ w: Tensor, bias: Tensor?, stride: Stride3D) -> Tensor {
    let n = x.shape[0], cin = x.shape[1], d = x.shape[2], h = x.shape[3], wd = x.shape[4]
    let cout = w.shape[0], kd = w.shape[2], kh = w.shape[3], kw = w.shape[4]
    let od = (d - 1) / stride.d + 1, oh = (h - 1) / stride.h + 1, ow = (wd - 1) / stride.w + 1
    var y = Tensor.zeros([n, cout, od, oh, ow])
    for s in 0..<n { for co in 0..<cout { for z in 0..<od { for yy in 0..<oh { for xx in 0..<ow {
        var acc = Double(bias?[co] ?? 0)
        for ci in 0..<cin { for a in 0..<kd { for b in 0..<kh { for c in 0..<kw {
            let zi = z * stride.d - kd / 2 + a, yi = yy * stride.h - kh / 2 + b, xi = xx * stride.w - kw / 2 + c
            if zi < 0 || zi >= d || yi < 0 || yi >= h || xi < 0 || xi >= wd { continue }
            acc += Double(x[s, ci, zi, yi, xi]) * Double(w[co, ci, a, b, c])
        } } } }
        y[s, co, z, yy, xx] = Float(acc)
    } } } } }
    return y
}

let convKernels: [Kernel3D] = [.k333, .k331, .k113, .k111, Kernel3D(d: 1, h: 1, w: 3), Kernel3D(d: 3, h: 5, w: 1)]
let convStrides: [Stride3D] = [.one, .two, Stride3D(d: 1, h: 2, w: 2), Stride3D(d: 2, h: 1, w: 1)]

@Suite("conv3d")
struct ConvTests {
    @Test("forward matches the naive loop for every kernel and stride, one tile and many, every path",
          arguments: convKernels, convStrides)
    func forwardMatchesNaive(kernel: Kernel3D, stride: Stride3D) {
        var rng = RNG(seed: 7)
        let x = Tensor.randomNormal([2, 3, 5, 6, 7], rng: &rng)
        let w = Tensor.randomNormal([4, 3, kernel.d, kernel.h, kernel.w], rng: &rng)
        let b = Tensor.randomNormal([4], rng: &rng)
        let want = naiveConv3d(x, w, bias: b, stride: stride)
        // Both the default paths (direct kernels on AVX-512 CPUs) and the GEMM paths (everywhere else).
        for direct in [true, false] {
            for budget in [1 << 20, 64] {   // 64 bytes forces one output row per tile
                let got = Conv3dKernel.forward(x: x, weight: w, bias: b, stride: stride, budgetBytes: budget,
                                               direct: direct)
                #expect(got.shape == want.shape)
                #expect(got.maxAbsDifference(want) < 1e-4, "budget \(budget) direct \(direct)")
            }
        }
    }

    @Test("output shape is ceil(n / stride) with same padding")
    func outputShape() {
        #expect(conv3dOutputShape(inputShape: [1, 2, 32, 33, 7], outChannels: 5, kernel: .k333, stride: .two)
                == [1, 5, 16, 17, 4])
        #expect(conv3dOutputShape(inputShape: [1, 2, 8, 8, 8], outChannels: 3, kernel: .k113, stride: .one)
                == [1, 3, 8, 8, 8])
        #expect(conv3dMACs(inputShape: [1, 2, 4, 4, 4], outChannels: 3, kernel: .k333, stride: .one) == 3 * 54 * 64)
        #expect(Kernel3D.k331.description == "3x3x1" && Kernel3D.k331.d == 1 && Kernel3D.k331.w == 3)
        #expect(Kernel3D.k113.description == "1x1x3" && Kernel3D.k113.d == 3 && Kernel3D.k113.h == 1)
        #expect(Kernel3D(paper: 3, 3, 1) == .k331)
    }

    @Test("backward gradients agree between one tile and many tiles", arguments: convKernels, convStrides)
    func tiledBackwardAgrees(kernel: Kernel3D, stride: Stride3D) {
        var rng = RNG(seed: 11)
        let x = Tensor.randomNormal([2, 3, 5, 6, 7], rng: &rng)
        let w = Tensor.randomNormal([4, 3, kernel.d, kernel.h, kernel.w], rng: &rng)
        let outShape = conv3dOutputShape(inputShape: x.shape, outChannels: 4, kernel: kernel, stride: stride)
        let gy = Tensor.randomNormal(outShape, rng: &rng)
        for direct in [true, false] {
            let big = Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: stride, needInput: true,
                                            needWeight: true, needBias: true, budgetBytes: 1 << 20, direct: direct)
            let small = Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: stride, needInput: true,
                                              needWeight: true, needBias: true, budgetBytes: 64, direct: direct)
            #expect(big.input!.maxAbsDifference(small.input!) < 1e-4, "direct \(direct)")
            #expect(big.weight!.maxAbsDifference(small.weight!) < 1e-4, "direct \(direct)")
            #expect(big.bias!.maxAbsDifference(small.bias!) == 0)
        }
    }

    @Test("conv3d gradients (input, weight, bias) match finite differences", arguments: convKernels, convStrides)
    func gradientCheck(kernel: Kernel3D, stride: Stride3D) {
        let inputs = GradientCheck.randomInputs([[2, 2, 4, 5, 4], [3, 2, kernel.d, kernel.h, kernel.w], [3]], seed: 5)
        GradientCheck().check(inputs) { v in conv3d(v[0], weight: v[1], bias: v[2], stride: stride) }
    }

    @Test("no input gradient is computed for an input that does not need it")
    func skipsInputGradient() {
        var rng = RNG(seed: 3)
        let x = Variable(.randomNormal([1, 1, 4, 4, 4], rng: &rng))
        let conv = Conv3d(name: "stem", inChannels: 1, outChannels: 2, kernel: .k333, bias: true, rng: &rng)
        sum(conv(x)).backward()
        #expect(x.grad == nil)
        #expect(conv.weight.grad != nil && conv.bias!.grad != nil)
        // d(Σy)/db = number of output voxels per channel.
        #expect(conv.bias!.grad!.scalars == [64, 64])
    }

    @Test("Conv3d layer: names, shapes and He-normal spread")
    func layerInit() {
        var rng = RNG(seed: 1)
        let conv = Conv3d(name: "cells.3.op.conv", inChannels: 16, outChannels: 32, kernel: .k333, rng: &rng)
        #expect(conv.weight.name == "cells.3.op.conv.weight")
        #expect(conv.weight.value.shape == [32, 16, 3, 3, 3])
        #expect(conv.parameters.count == 1)
        let std = (conv.weight.value.sumOfSquares() / Double(conv.weight.value.count)).squareRoot()
        let want = (2.0 / Double(16 * 27)).squareRoot()
        #expect(abs(std - want) / want < 0.05)
    }
}
