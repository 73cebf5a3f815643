import Testing
@testable import NN
import Tensor

/// The plane-shift conv path (in-plane columns + one shifted GEMM per depth tap) against the naive
/// loop (forward) and the classic full-column path (gradients), with one tile and one plane per tile.
@Suite("conv3d plane-shift path")
struct ConvPlaneShiftTests {
    static let kernels: [Kernel3D] = [.k333, .k113, Kernel3D(d: 3, h: 5, w: 1), Kernel3D(d: 5, h: 1, w: 3)]

    @Test("applies only to stride 1 with a depth kernel")
    func appliesWhere() {
        func geometry(_ k: Kernel3D, _ s: Stride3D) -> ConvGeometry {
            ConvGeometry(input: [1, 2, 6, 6, 6], weight: [2, 2, k.d, k.h, k.w], stride: s)
        }
        #expect(Conv3dPlaneKernel.applies(geometry(.k333, .one)))
        #expect(Conv3dPlaneKernel.applies(geometry(.k113, .one)))
        #expect(!Conv3dPlaneKernel.applies(geometry(.k331, .one)))
        #expect(!Conv3dPlaneKernel.applies(geometry(.k333, .two)))
        #expect(!Conv3dPlaneKernel.applies(geometry(.k333, Stride3D(d: 1, h: 2, w: 2))))
    }

    @Test("forward matches the naive loop, one tile and one plane per tile", arguments: kernels)
    func forwardMatchesNaive(kernel: Kernel3D) {
        var rng = RNG(seed: 21)
        let x = Tensor.randomNormal([2, 3, 6, 5, 7], rng: &rng)
        let w = Tensor.randomNormal([4, 3, kernel.d, kernel.h, kernel.w], rng: &rng)
        let b = Tensor.randomNormal([4], rng: &rng)
        let want = naiveConv3d(x, w, bias: b, stride: .one)
        for budget in [1 << 20, 64] {
            let got = Conv3dKernel.forward(x: x, weight: w, bias: b, stride: .one, budgetBytes: budget, planeShift: true, direct: false)
            #expect(got.maxAbsDifference(want) < 1e-4, "budget \(budget)")
        }
    }

    @Test("gradients equal the classic path's, one tile and one plane per tile", arguments: kernels)
    func backwardMatchesClassic(kernel: Kernel3D) {
        var rng = RNG(seed: 23)
        let x = Tensor.randomNormal([2, 3, 6, 5, 7], rng: &rng)
        let w = Tensor.randomNormal([4, 3, kernel.d, kernel.h, kernel.w], rng: &rng)
        let gy = Tensor.randomNormal([2, 4, 6, 5, 7], rng: &rng)
        let want = Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: .one, needInput: true,
                                         needWeight: true, needBias: true, planeShift: false, direct: false)
        for budget in [1 << 20, 64] {
            let got = Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: .one, needInput: true,
                                            needWeight: true, needBias: true, budgetBytes: budget, planeShift: true, direct: false)
            #expect(got.input!.maxAbsDifference(want.input!) < 1e-4, "budget \(budget)")
            #expect(got.weight!.maxAbsDifference(want.weight!) < 1e-3, "budget \(budget)")
            #expect(got.bias!.maxAbsDifference(want.bias!) == 0)
        }
        let onlyInput = Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: .one, needInput: true,
                                              needWeight: false, needBias: false, budgetBytes: 64, planeShift: true, direct: false)
        #expect(onlyInput.weight == nil)
        #expect(onlyInput.input!.maxAbsDifference(want.input!) < 1e-4)
        let onlyWeight = Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: .one, needInput: false,
                                               needWeight: true, needBias: false, budgetBytes: 64, planeShift: true, direct: false)
        #expect(onlyWeight.input == nil)
        #expect(onlyWeight.weight!.maxAbsDifference(want.weight!) < 1e-3)
    }

    @Test("plane-shift gradients match finite differences", arguments: [Kernel3D.k333, .k113])
    func gradientCheck(kernel: Kernel3D) {
        let inputs = GradientCheck.randomInputs([[2, 2, 4, 5, 4], [3, 2, kernel.d, kernel.h, kernel.w], [3]], seed: 9)
        GradientCheck().check(inputs) { v in conv3d(v[0], weight: v[1], bias: v[2], stride: .one) }
    }
}
