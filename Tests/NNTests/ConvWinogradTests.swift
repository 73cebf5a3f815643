import Testing
@testable import NN
import Tensor

/// Winograd F(2x2x2, 3x3x3) and F(2x2, 3x3) (the 3x3x1 kernel) against the naive 7-loop (forward)
/// and the classic im2col path (input gradient): odd extents (partial tiles in z, y and x), rows
/// with a partial second tile vector, rows of ≤ 8 tiles (two tile rows per vector, an odd count of
/// tile rows), channel counts that are not multiples of the 8-channel block, two samples, one and
/// several runs, and groups whose last micro-tile holds 1, 2 or 3 vectors. Skipped without AVX-512F.
@Suite("conv3d Winograd kernel", .enabled(if: Conv3dWinogradKernel.available))
struct ConvWinogradTests {
    @Test("applies to stride-1 3x3x3 and 3x3x1 convs of ≥ 16 channels each way with mostly full tile vectors")
    func appliesWhere() {
        func g(_ shape: [Int], _ cout: Int, _ k: Kernel3D = .k333, _ s: Stride3D = .one) -> ConvGeometry {
            ConvGeometry(input: shape, weight: [cout, shape[1], k.d, k.h, k.w], stride: s)
        }
        func applies(_ g: ConvGeometry) -> Bool { Conv3dWinogradKernel.applies(g, inputs: g.cin, outputs: g.cout) }
        #expect(applies(g([1, 32, 32, 32, 32], 32)))
        #expect(applies(g([1, 32, 64, 64, 64], 16)))
        #expect(applies(g([1, 16, 5, 3, 24], 32)))       // 12 tiles of 16 lanes
        #expect(!applies(g([1, 16, 5, 3, 20], 32)))      // 10 of 16
        #expect(applies(g([1, 16, 16, 16, 16], 32)))     // two rows of 8 tiles per vector
        #expect(applies(g([1, 16, 16, 16, 12], 32)))     // two rows of 6: 12 of 16
        #expect(!applies(g([1, 16, 8, 8, 8], 32)))       // two rows of 4: the direct kernel
        #expect(!applies(g([1, 16, 32, 32, 32], 8)))     // transforms per channel outweigh the products
        #expect(!applies(g([1, 8, 32, 32, 32], 16)))
        #expect(applies(g([1, 16, 32, 32, 32], 16)))
        #expect(applies(g([1, 32, 32, 32, 32], 32, .k331)))
        #expect(applies(g([1, 16, 32, 32, 32], 16, .k331)))
        #expect(!applies(g([1, 16, 32, 32, 32], 8, .k331)))
        #expect(applies(g([1, 32, 32, 32, 32], 16)))
        #expect(applies(g([1, 16, 32, 32, 32], 32)))
        #expect(!applies(g([1, 16, 32, 32, 32], 16, .k113)))
        #expect(!applies(g([1, 16, 32, 32, 32], 16, Kernel3D(d: 5, h: 3, w: 3))))
        #expect(!applies(g([1, 16, 32, 32, 32], 16, .k333, .two)))
    }

    /// The kernel itself on any extents (the dispatch only sends it rows of ≥ 24 voxels).
    static func winograd(_ x: Tensor, _ w: Tensor, bias: Tensor?, transposed: Bool = false, runs: Int) -> Tensor {
        let n = x.shape[0], channels = x.shape[1]
        let g = transposed
            ? ConvGeometry(input: [n, w.shape[1], x.shape[2], x.shape[3], x.shape[4]], weight: w.shape, stride: .one)
            : ConvGeometry(input: x.shape, weight: w.shape, stride: .one)
        let outputs = transposed ? g.cin : g.cout
        var y = Tensor(uninitialized: [n, outputs, g.d, g.h, g.w])
        let packed = w.withUnsafePointer { Conv3dWinogradKernel.packedWeights($0, g, transposed: transposed) }
        x.withUnsafePointer { xp in y.withUnsafeMutablePointer { yp in
            for s in 0..<n {
                let src = xp + s * channels * g.inVoxels, dst = yp + s * outputs * g.inVoxels
                if let bias {
                    bias.withUnsafePointer { bp in
                        Conv3dWinogradKernel.convolve(src, inputs: channels, packed, outputs: outputs, bias: bp, dst, g,
                                                      runs: runs)
                    }
                } else {
                    Conv3dWinogradKernel.convolve(src, inputs: channels, packed, outputs: outputs, bias: nil, dst, g,
                                                  runs: runs)
                }
            }
        } }
        return y
    }

    /// N, Cin, D, H, W and Cout. Rows of 33: a second tile vector with one valid voxel; H = 1: one
    /// tile vector per tile plane; rows of 16, 11 and 7: two tile rows per vector, with an
    /// odd number of tile rows (H = 5, 7) leaving the last vector's second half outside.
    static let shapes: [([Int], Int)] = [([1, 8, 5, 3, 24], 9), ([2, 9, 4, 6, 32], 8), ([1, 3, 3, 5, 33], 17),
                                         ([1, 8, 3, 1, 24], 8), ([1, 2, 2, 2, 7], 3), ([1, 16, 6, 4, 64], 16),
                                         ([1, 8, 3, 5, 16], 10), ([2, 9, 2, 7, 11], 8), ([1, 16, 4, 8, 16], 16)]
    static let kernels: [Kernel3D] = [.k333, .k331]

    @Test("forward with and without bias matches the naive loop, in one run and in several",
          arguments: kernels)
    func forwardMatchesNaive(kernel: Kernel3D) {
        var rng = RNG(seed: 53)
        for (shape, cout) in Self.shapes {
            let x = Tensor.randomNormal(shape, rng: &rng)
            let w = Tensor.randomNormal([cout, shape[1], kernel.d, kernel.h, kernel.w], rng: &rng)
            let b = Tensor.randomNormal([cout], rng: &rng)
            let want = naiveConv3d(x, w, bias: b, stride: .one)
            for runs in [1, 3] {
                let got = Self.winograd(x, w, bias: b, runs: runs)
                // Sums of 27 · Cin products of N(0, 1) values (magnitude ~ 10-20): the transforms
                // add a few ulps of that.
                #expect(got.maxAbsDifference(want) < 2e-4, "\(shape) runs \(runs)")
            }
            #expect(Self.winograd(x, w, bias: nil, runs: 1)
                .maxAbsDifference(naiveConv3d(x, w, bias: nil, stride: .one)) < 2e-4, "\(shape) no bias")
        }
    }

    @Test("the input gradient (transposed, flipped weights) matches the classic path", arguments: kernels)
    func inputGradientMatchesClassic(kernel: Kernel3D) {
        var rng = RNG(seed: 59)
        for (shape, cout) in Self.shapes {
            let x = Tensor.randomNormal(shape, rng: &rng)
            let w = Tensor.randomNormal([cout, shape[1], kernel.d, kernel.h, kernel.w], rng: &rng)
            let gy = Tensor.randomNormal([shape[0], cout, shape[2], shape[3], shape[4]], rng: &rng)
            let want = Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: .one, needInput: true,
                                             needWeight: false, needBias: false, planeShift: false, direct: false)
            for runs in [1, 3] {
                let got = Self.winograd(gy, w, bias: nil, transposed: true, runs: runs)
                #expect(got.maxAbsDifference(want.input!) < 2e-4, "\(shape) runs \(runs)")
            }
        }
    }

    @Test("the conv dispatch takes it for forward and dX, and the results match the reference paths")
    func dispatch() {
        var rng = RNG(seed: 61)
        let x = Tensor.randomNormal([1, 16, 4, 5, 32], rng: &rng)
        let w = Tensor.randomNormal([33, 16, 3, 3, 3], rng: &rng)
        let b = Tensor.randomNormal([33], rng: &rng)
        let gy = Tensor.randomNormal([1, 33, 4, 5, 32], rng: &rng)
        #expect(convProfileLabel(x.shape, w.shape, .one).hasSuffix("(winograd)"))
        let y = Conv3dKernel.forward(x: x, weight: w, bias: b, stride: .one, direct: true)
        #expect(y.maxAbsDifference(naiveConv3d(x, w, bias: b, stride: .one)) < 2e-4)
        let want = Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: .one, needInput: true,
                                         needWeight: true, needBias: true, planeShift: false, direct: false)
        let got = Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: .one, needInput: true,
                                        needWeight: true, needBias: true, direct: true)
        #expect(got.input!.maxAbsDifference(want.input!) < 2e-4)
        #expect(got.weight!.maxAbsDifference(want.weight!) < 1e-3)
    }

    /// Threads only change how the tile vectors are split into runs, which may not change a value.
    @Test("results are bit-identical however the tile vectors are split into runs")
    func partitionIndependent() {
        var rng = RNG(seed: 67)
        let x = Tensor.randomNormal([1, 9, 6, 8, 32], rng: &rng)
        let w = Tensor.randomNormal([10, 9, 3, 3, 3], rng: &rng)
        let results = [1, 2, 5, 7].map { Self.winograd(x, w, bias: nil, runs: $0).scalars }
        #expect(results.allSatisfy { $0 == results[0] })
    }
}
