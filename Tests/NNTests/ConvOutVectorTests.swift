import Testing
@testable import NN
import Tensor

/// The output-channel-vector forward kernel (c2f_conv_forward_outvec) against the naive 7-loop, for
/// every kernel and stride the direct path takes: tiles of 1-3 rows (rows of 3 and 4), rows of 7,
/// rows of 13 (a 12-voxel tile and a 1-voxel tail), 32 and 64 output channels (whole blocks) and 100
/// (a partial last block), two samples, one slab and one plane per slab; and the packed-weight cache
/// that sliding-window inference uses with it. Skipped without AVX-512F.
@Suite("conv3d output-channel-vector kernel", .enabled(if: Conv3dDirectKernel.available))
struct ConvOutVectorTests {
    static let kernels: [Kernel3D] = [.k333, .k331, .k113, Kernel3D(d: 3, h: 5, w: 1)]
    static let strides: [Stride3D] = [.one, .two, Stride3D(d: 1, h: 2, w: 2), Stride3D(d: 2, h: 1, w: 1)]
    static let shapes: [([Int], Int)] = [([2, 3, 4, 4, 4], 32), ([1, 5, 3, 9, 3], 64), ([1, 2, 5, 6, 7], 100),
                                         ([1, 3, 3, 5, 13], 32)]

    /// Forward through the kernel whatever the dispatch would choose.
    static func outVectorForward(_ x: Tensor, _ w: Tensor, bias: Tensor?, stride: Stride3D, budget: Int) -> Tensor {
        let g = ConvGeometry(input: x.shape, weight: w.shape, stride: stride)
        var y = Tensor(uninitialized: g.outputShape)
        let packed = w.withUnsafePointer { Conv3dDirectKernel.packedWeights($0, g, transposed: false, outVectors: true) }
        x.withUnsafePointer { xp in y.withUnsafeMutablePointer { yp in
            for n in 0..<g.n {
                let src = xp + n * g.cin * g.inVoxels, dst = yp + n * g.cout * g.outVoxels
                if let bias {
                    bias.withUnsafePointer { bp in
                        Conv3dDirectKernel.convolve(src, inputs: g.cin, packed, outputs: g.cout, bias: bp, dst, g,
                                                    budgetBytes: budget, outVectors: true)
                    }
                } else {
                    Conv3dDirectKernel.convolve(src, inputs: g.cin, packed, outputs: g.cout, bias: nil, dst, g,
                                                budgetBytes: budget, outVectors: true)
                }
            }
        } }
        return y
    }

    @Test("runs where output channels are many and rows short or strided")
    func appliesWhere() {
        func uses(_ shape: [Int], _ cout: Int, _ s: Stride3D = .one) -> Bool {
            let g = ConvGeometry(input: shape, weight: [cout, shape[1], 3, 3, 3], stride: s)
            return Conv3dDirectKernel.usesOutVectors(g, inputs: g.cin, outputs: g.cout)
        }
        #expect(uses([1, 128, 8, 8, 8], 128))
        #expect(uses([1, 256, 4, 4, 4], 256))
        #expect(uses([1, 16, 64, 64, 64], 32, .two))
        #expect(uses([1, 64, 16, 16, 16], 128, .two))
        #expect(!uses([1, 32, 32, 32, 32], 32))    // rows of 32 fill x-vectors
        #expect(!uses([1, 64, 16, 16, 16], 64))    // rows of 16 too
        #expect(!uses([1, 64, 8, 8, 8], 16))       // one half-empty block of 32 outputs
        #expect(!uses([1, 16, 8, 8, 8], 48))       // a partial block on few outputs
        #expect(uses([1, 16, 8, 8, 8], 100))       // ... but not on many
    }

    @Test("forward with and without bias matches the naive loop, one slab and one plane per slab",
          arguments: kernels, strides)
    func forwardMatchesNaive(kernel: Kernel3D, stride: Stride3D) {
        var rng = RNG(seed: 53)
        for (shape, cout) in Self.shapes {
            let x = Tensor.randomNormal(shape, rng: &rng)
            let w = Tensor.randomNormal([cout, shape[1], kernel.d, kernel.h, kernel.w], rng: &rng)
            let g = ConvGeometry(input: shape, weight: w.shape, stride: stride)
            guard Conv3dDirectKernel.applies(g) else { continue }
            let b = Tensor.randomNormal([cout], rng: &rng)
            let want = naiveConv3d(x, w, bias: b, stride: stride)
            for budget in [1 << 20, 64] {
                let got = Self.outVectorForward(x, w, bias: b, stride: stride, budget: budget)
                #expect(got.shape == want.shape)
                #expect(got.maxAbsDifference(want) < 1e-4, "\(shape) -> \(cout) budget \(budget)")
            }
            let noBias = Self.outVectorForward(x, w, bias: nil, stride: stride, budget: 1 << 20)
            #expect(noBias.maxAbsDifference(naiveConv3d(x, w, bias: nil, stride: stride)) < 1e-4, "\(shape) no bias")
        }
    }

    @Test("the dispatch takes the kernel for a 128-channel 3³ and a strided conv, and matches the naive loop")
    func dispatch() {
        var rng = RNG(seed: 59)
        for (shape, stride) in [([1, 40, 3, 3, 3], Stride3D.one), ([1, 6, 7, 6, 9], .two)] {
            let x = Tensor.randomNormal(shape, rng: &rng)
            let w = Tensor.randomNormal([128, shape[1], 3, 3, 3], rng: &rng)
            let g = ConvGeometry(input: shape, weight: w.shape, stride: stride)
            #expect(Conv3dDirectKernel.usesOutVectors(g, inputs: g.cin, outputs: g.cout))
            let got = Conv3dKernel.forward(x: x, weight: w, bias: nil, stride: stride, direct: true)
            #expect(got.maxAbsDifference(naiveConv3d(x, w, bias: nil, stride: stride)) < 1e-3)
        }
    }

    @Test("stride-1 dX with many input channels and short rows takes the kernel and equals the classic path",
          arguments: [Kernel3D.k333, .k331, .k113])
    func inputGradient(kernel: Kernel3D) {
        var rng = RNG(seed: 67)
        for (shape, cout) in [([2, 64, 4, 4, 4], 16), ([1, 100, 3, 5, 7], 9)] {
            let x = Tensor.randomNormal(shape, rng: &rng)
            let w = Tensor.randomNormal([cout, shape[1], kernel.d, kernel.h, kernel.w], rng: &rng)
            let g = ConvGeometry(input: shape, weight: w.shape, stride: .one)
            #expect(Conv3dDirectKernel.usesOutVectors(g, inputs: g.cout, outputs: g.cin))
            let gy = Tensor.randomNormal(g.outputShape, rng: &rng)
            let want = Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: .one, needInput: true,
                                             needWeight: false, needBias: false, planeShift: false, direct: false)
            for budget in [1 << 20, 64] {
                let got = Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: .one, needInput: true,
                                                needWeight: false, needBias: false, budgetBytes: budget, direct: true)
                #expect(got.input!.maxAbsDifference(want.input!) < 1e-4, "\(shape) budget \(budget)")
            }
        }
    }

    @Test("strided dX with many input channels and short dY rows runs its parity classes on out-vectors, as im2col",
          arguments: [Kernel3D.k333, .k331, Kernel3D(d: 3, h: 5, w: 1)], [Stride3D.two, Stride3D(d: 1, h: 2, w: 2),
                                                                         Stride3D(d: 2, h: 1, w: 1)])
    func stridedInputGradient(kernel: Kernel3D, stride: Stride3D) {
        var rng = RNG(seed: 71)
        // 32 and 64 channels (whole blocks), 100 (a partial last block); dY rows of 4, 3 and 7 (tiles of
        // 3 rows, of 4 rows split 2 + 2, one row of 7); odd extents (a class with fewer planes).
        for (shape, cout) in [([2, 32, 8, 8, 8], 16), ([1, 64, 7, 6, 5], 24), ([1, 100, 4, 5, 13], 8)] {
            let x = Tensor.randomNormal(shape, rng: &rng)
            let w = Tensor.randomNormal([cout, shape[1], kernel.d, kernel.h, kernel.w], rng: &rng)
            let g = ConvGeometry(input: shape, weight: w.shape, stride: stride)
            guard Conv3dDirectKernel.applies(g) else { continue }
            // (Rows of 13 at an x stride of 1 fill x-vectors: the x-vector classes, compared all the same.)
            #expect(Conv3dDirectKernel.classOutVectors(g) == (g.ow <= 8), "\(shape) \(stride)")
            #expect(Conv3dDirectKernel.handlesInputGradient(g))
            let gy = Tensor.randomNormal(g.outputShape, rng: &rng)
            let want = Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: stride, needInput: true,
                                             needWeight: false, needBias: false, planeShift: false, direct: false)
            // The whole dY in one slab, and one plane per slab (items split by channel blocks): each dX
            // value is one sum in (dY channel, tap) order, so the bits do not depend on the split (nor
            // on the thread count, which scales the call's slab budget).
            let got = [1 << 20, 64].map { budget in
                Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: stride, needInput: true,
                                      needWeight: false, needBias: false, budgetBytes: budget, direct: true).input!
            }
            #expect(got[0].maxAbsDifference(want.input!) < 2e-4, "\(shape) \(kernel) \(stride)")
            #expect(got[1].scalars == got[0].scalars, "\(shape) \(kernel) \(stride): the split changed the bits")
        }
        // Few input channels or long rows keep the x-vector classes.
        let few = ConvGeometry(input: [1, 16, 8, 8, 8], weight: [32, 16, 3, 3, 3], stride: .two)
        let long = ConvGeometry(input: [1, 32, 32, 32, 32], weight: [64, 32, 3, 3, 3], stride: .two)
        #expect(!Conv3dDirectKernel.classOutVectors(few) && !Conv3dDirectKernel.classOutVectors(long))
    }

    @Test("a packed-weight cache gives the uncached result, keeps one pack per conv, and never a stale one")
    func packedWeightCache() {
        var rng = RNG(seed: 61)
        // One conv of each packing: Winograd (32->32 at 16 x 16 rows), x-vectors (8->16), out-vectors (8³, 64 out).
        let layers = [Conv3d(name: "w", inChannels: 32, outChannels: 32, kernel: .k333, rng: &rng),
                      Conv3d(name: "d", inChannels: 8, outChannels: 16, kernel: .k333, rng: &rng),
                      Conv3d(name: "o", inChannels: 16, outChannels: 64, kernel: .k333, rng: &rng)]
        let inputs = [Tensor.randomNormal([1, 32, 4, 16, 24], rng: &rng), Tensor.randomNormal([1, 8, 5, 6, 7], rng: &rng),
                      Tensor.randomNormal([1, 16, 8, 8, 8], rng: &rng)]
        let cache = PackedWeightCache()
        func run(_ i: Int) -> Tensor { noGrad { layers[i](Variable(inputs[i])) }.value }
        for i in layers.indices {
            let plain = run(i)
            let first = cache.using { run(i) }, second = cache.using { run(i) }
            #expect(first.scalars == plain.scalars && second.scalars == plain.scalars, "layer \(i)")
        }
        let held = cache.packedFloats
        #expect(held >= layers.reduce(0) { $0 + $1.weight.value.count })
        _ = cache.using { run(0) }
        #expect(cache.packedFloats == held)   // hits add nothing
        // An optimiser-like update in place: the cache must not serve the old pack.
        for layer in layers {
            let n = layer.weight.value.count
            layer.weight.value.withUnsafeMutablePointer { p in for k in 0..<n { p[k] *= -0.5 } }
        }
        for i in layers.indices {
            #expect(cache.using { run(i) }.scalars == run(i).scalars, "layer \(i) after the update")
        }
    }
}
