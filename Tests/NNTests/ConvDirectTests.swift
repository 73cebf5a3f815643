import Testing
@testable import NN
import Tensor

/// The direct AVX-512 path against the naive 7-loop (forward) and the classic im2col path
/// (gradients), for every kernel shape and stride, with odd sizes, rows longer than one 16-wide
/// vector with a partial tail, channel counts that are not multiples of the 8-channel block, ≤ 16 and
/// > 16 output channels (the two weight-gradient kernels), several samples, and slabs of one plane.
/// Skipped on CPUs without AVX-512F (the path is not used there).
@Suite("conv3d direct kernels", .enabled(if: Conv3dDirectKernel.available))
struct ConvDirectTests {
    static let kernels: [Kernel3D] = [.k333, .k331, .k113, .k111, Kernel3D(d: 1, h: 1, w: 3),
                                      Kernel3D(d: 3, h: 5, w: 1), Kernel3D(d: 5, h: 1, w: 3)]
    static let strides: [Stride3D] = [.one, .two, Stride3D(d: 1, h: 2, w: 2), Stride3D(d: 2, h: 1, w: 1),
                                      Stride3D(d: 1, h: 1, w: 2)]
    /// N, Cin, D, H, W and Cout: tiny, an x row of 1, a row of 19 (one vector + tail), 33 (two + tail).
    /// Stride-1 convs with rows of up to 8 (the first two) take the padded-row ("flat") layout, with
    /// and without padding columns by kernel width; the rest one row per vector (see `flatLayoutChoice`).
    static let shapes: [([Int], Int)] = [([2, 3, 5, 6, 7], 4), ([1, 9, 4, 3, 1], 10), ([1, 2, 3, 4, 19], 17),
                                         ([1, 1, 4, 2, 33], 16), ([1, 3, 3, 2, 16], 9), ([1, 2, 2, 3, 32], 11),
                                         ([2, 3, 3, 4, 18], 5)]

    @Test("applies to all but 1x1x1 stride 1 and in-plane strides over extent 1; dX wherever it applies")
    func appliesWhere() {
        func geometry(_ k: Kernel3D, _ s: Stride3D) -> ConvGeometry {
            ConvGeometry(input: [1, 2, 6, 6, 6], weight: [2, 2, k.d, k.h, k.w], stride: s)
        }
        #expect(Conv3dDirectKernel.applies(geometry(.k333, .one)))
        #expect(Conv3dDirectKernel.applies(geometry(.k331, .one)))
        #expect(Conv3dDirectKernel.applies(geometry(.k113, .one)))
        #expect(!Conv3dDirectKernel.applies(geometry(.k111, .one)))
        #expect(!Conv3dDirectKernel.applies(geometry(.k111, .two)))
        #expect(!Conv3dDirectKernel.applies(geometry(.k113, .two)))
        #expect(Conv3dDirectKernel.applies(geometry(.k113, Stride3D(d: 2, h: 1, w: 1))))
        #expect(Conv3dDirectKernel.applies(geometry(.k331, .two)))
        #expect(Conv3dDirectKernel.applies(geometry(.k333, .two)))
        #expect(Conv3dDirectKernel.handlesInputGradient(geometry(.k333, .one)))
        let wide = ConvGeometry(input: [1, 2, 6, 6, 16], weight: [2, 2, 3, 3, 3], stride: .two)
        #expect(Conv3dDirectKernel.handlesInputGradient(wide))
        #expect(!Conv3dDirectKernel.handlesInputGradient(geometry(.k333, .two)))   // dY rows of 3
        #expect(!Conv3dDirectKernel.handlesInputGradient(geometry(.k333, Stride3D(d: 2, h: 1, w: 1))))   // rows of 6
        #expect(Conv3dDirectKernel.handlesInputGradient(
            ConvGeometry(input: [1, 2, 6, 6, 9], weight: [2, 2, 3, 3, 3], stride: Stride3D(d: 2, h: 1, w: 1))))
        #expect(!Conv3dDirectKernel.handlesInputGradient(geometry(.k113, .two)))
    }

    @Test("stride-1 convs with short rows take the padded-row layout, rows of whole vectors do not")
    func flatLayoutChoice() {
        func g(_ shape: [Int], _ k: Kernel3D, _ s: Stride3D = .one) -> ConvGeometry {
            ConvGeometry(input: shape, weight: [4, shape[1], k.d, k.h, k.w], stride: s)
        }
        #expect(Conv3dDirectKernel.usesFlatRows(g([1, 8, 4, 4, 4], .k333)))
        #expect(Conv3dDirectKernel.usesFlatRows(g([1, 8, 8, 8, 8], .k331)))
        #expect(Conv3dDirectKernel.usesFlatRows(g([1, 2, 2, 5, 7], .k333)))
        #expect(!Conv3dDirectKernel.usesFlatRows(g([1, 8, 16, 16, 16], .k333)))
        #expect(!Conv3dDirectKernel.usesFlatRows(g([1, 3, 3, 2, 16], .k333)))
        #expect(!Conv3dDirectKernel.usesFlatRows(g([1, 8, 8, 8, 8], .k333, .two)))
        // Rows of 10 and more stay one row per vector even where the flat layout fills more lanes:
        // measured as fast or faster at 10³, 12³, 24³ and 40³.
        #expect(!Conv3dDirectKernel.usesFlatRows(g([1, 16, 24, 24, 24], .k113)))
        #expect(!Conv3dDirectKernel.usesFlatRows(g([1, 16, 12, 12, 12], .k331)))
        #expect(!Conv3dDirectKernel.usesFlatRows(g([1, 2, 3, 4, 19], .k333)))
    }

    @Test("slabs fit the budget and cover the volume in balanced pieces")
    func slabPlanes() {
        let g = ConvGeometry(input: [1, 16, 64, 64, 64], weight: [16, 16, 3, 3, 3], stride: .one)
        let perPlane = 16 * 66 * 66 * 4
        let planes = Conv3dDirectKernel.slabPlanes(g, channels: 16, budgetBytes: 16 << 20)
        #expect((planes + 2) * perPlane <= 16 << 20)
        #expect(planes == 32)   // 58 fit, so 2 slabs of 32
        #expect(Conv3dDirectKernel.slabPlanes(g, channels: 16, budgetBytes: 64) == 1)
        // Stride 2: 32 output planes; p planes read 2p + 1 input planes of 66 x 66 (rows of 66, even).
        let g2 = ConvGeometry(input: [1, 16, 64, 64, 64], weight: [32, 16, 3, 3, 3], stride: .two)
        let planes2 = Conv3dDirectKernel.slabPlanes(g2, channels: 16, budgetBytes: 8 << 20)
        #expect((2 * planes2 + 1) * perPlane <= 8 << 20)
        #expect(planes2 == 11)   // 30 input planes fit: 14 output planes, so 3 slabs of 11
    }

    @Test("forward with bias matches the naive loop, one slab and one plane per slab", arguments: kernels, strides)
    func forwardMatchesNaive(kernel: Kernel3D, stride: Stride3D) {
        var rng = RNG(seed: 31)
        for (shape, cout) in Self.shapes {
            let x = Tensor.randomNormal(shape, rng: &rng)
            let w = Tensor.randomNormal([cout, shape[1], kernel.d, kernel.h, kernel.w], rng: &rng)
            let b = Tensor.randomNormal([cout], rng: &rng)
            let want = naiveConv3d(x, w, bias: b, stride: stride)
            for budget in [1 << 20, 64] {
                let got = Conv3dKernel.forward(x: x, weight: w, bias: b, stride: stride, budgetBytes: budget, direct: true)
                #expect(got.shape == want.shape)
                #expect(got.maxAbsDifference(want) < 1e-4, "\(shape) budget \(budget)")
            }
            let noBias = Conv3dKernel.forward(x: x, weight: w, bias: nil, stride: stride, direct: true)
            #expect(noBias.maxAbsDifference(naiveConv3d(x, w, bias: nil, stride: stride)) < 1e-4, "\(shape) no bias")
        }
    }

    @Test("gradients equal the classic path's, one slab and one plane per slab", arguments: kernels, strides)
    func backwardMatchesClassic(kernel: Kernel3D, stride: Stride3D) {
        var rng = RNG(seed: 37)
        for (shape, cout) in Self.shapes {
            let x = Tensor.randomNormal(shape, rng: &rng)
            let w = Tensor.randomNormal([cout, shape[1], kernel.d, kernel.h, kernel.w], rng: &rng)
            let outShape = conv3dOutputShape(inputShape: shape, outChannels: cout, kernel: kernel, stride: stride)
            let gy = Tensor.randomNormal(outShape, rng: &rng)
            let want = Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: stride, needInput: true,
                                             needWeight: true, needBias: true, planeShift: false, direct: false)
            for budget in [1 << 20, 64] {
                let got = Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: stride, needInput: true,
                                                needWeight: true, needBias: true, budgetBytes: budget, direct: true)
                #expect(got.input!.maxAbsDifference(want.input!) < 1e-4, "\(shape) budget \(budget)")
                #expect(got.weight!.maxAbsDifference(want.weight!) < 1e-3, "\(shape) budget \(budget)")
                #expect(got.bias!.maxAbsDifference(want.bias!) == 0)
            }
            let onlyWeight = Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: stride, needInput: false,
                                                   needWeight: true, needBias: false, budgetBytes: 64, direct: true)
            #expect(onlyWeight.input == nil)
            #expect(onlyWeight.weight!.maxAbsDifference(want.weight!) < 1e-3)
            let onlyInput = Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: stride, needInput: true,
                                                  needWeight: false, needBias: false, direct: true)
            #expect(onlyInput.weight == nil)
            #expect(onlyInput.input!.maxAbsDifference(want.input!) < 1e-4)
        }
    }

    /// Enough dY planes per slab for runs of planes per work item (the shapes above have at most
    /// three), odd and even extents, a partial 8-channel block: dX against the classic path, and
    /// bit-identical whatever the slab size (each value is summed by one item in a fixed order).
    @Test("strided dX over many planes: runs of planes per item match the classic path, any slab size")
    func stridedInputGradientRuns() {
        var rng = RNG(seed: 43)
        for (shape, stride) in [([1, 5, 20, 9, 34], Stride3D.two), ([1, 3, 17, 12, 33], Stride3D(d: 2, h: 2, w: 1)),
                                ([1, 9, 16, 16, 16], Stride3D.two)] {
            let x = Tensor.randomNormal(shape, rng: &rng)
            let w = Tensor.randomNormal([12, shape[1], 3, 3, 3], rng: &rng)
            let outShape = conv3dOutputShape(inputShape: shape, outChannels: 12, kernel: .k333, stride: stride)
            let gy = Tensor.randomNormal(outShape, rng: &rng)
            let want = Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: stride, needInput: true,
                                             needWeight: false, needBias: false, planeShift: false, direct: false)
            let results = [64 << 20, 1 << 20, 64].map { budget in
                Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: stride, needInput: true,
                                      needWeight: false, needBias: false, budgetBytes: budget, direct: true).input!
            }
            #expect(results[0].maxAbsDifference(want.input!) < 1e-4, "\(shape)")
            #expect(results.allSatisfy { $0.scalars == results[0].scalars }, "\(shape)")
        }
    }

    /// The multi-thread forward's private slabs (each run of output planes padded by the thread
    /// that computes it, halo planes padded twice): against the naive loop, and bit-identical to
    /// the shared-slab forward (same kernel, same order per value) for runs of one plane and longer.
    @Test("private slabs per run of planes: the naive loop's values, the shared slab's bits", arguments: [Stride3D.one, .two, Stride3D(d: 2, h: 1, w: 1)])
    func privateSlabs(stride: Stride3D) {
        var rng = RNG(seed: 47)
        for kernel in [Kernel3D.k333, .k331, .k113, Kernel3D(d: 5, h: 1, w: 3)] {
            let x = Tensor.randomNormal([1, 5, 20, 9, 34], rng: &rng)
            let w = Tensor.randomNormal([12, 5, kernel.d, kernel.h, kernel.w], rng: &rng)
            let b = Tensor.randomNormal([12], rng: &rng)
            let g = ConvGeometry(input: x.shape, weight: w.shape, stride: stride)
            guard Conv3dDirectKernel.applies(g), !Conv3dDirectKernel.usesOutVectors(g, inputs: 5, outputs: 12) else { continue }
            let want = naiveConv3d(x, w, bias: b, stride: stride)
            // Values are the same on either path, so switching it does not disturb tests running alongside.
            let saved = Conv3dEngine.usePrivateSlabs
            Conv3dEngine.usePrivateSlabs = false
            let shared = Conv3dKernel.forward(x: x, weight: w, bias: b, stride: stride, direct: true)
            Conv3dEngine.usePrivateSlabs = saved
            let packed = w.withUnsafePointer { Conv3dDirectKernel.packedWeights($0, g, transposed: false) }
            for budget in [64, 1 << 20] {
                var got = Tensor(uninitialized: want.shape)
                x.withUnsafePointer { xp in b.withUnsafePointer { bp in got.withUnsafeMutablePointer { yp in
                    Conv3dDirectKernel.convolveInPrivateSlabs(xp, inputs: 5, packed, outputs: 12, bias: bp, yp, g,
                                                              budgetBytes: budget)
                } } }
                #expect(got.maxAbsDifference(want) < 1e-4, "\(kernel) \(stride) budget \(budget)")
                if !Conv3dWinogradKernel.applies(g, inputs: 5, outputs: 12) {
                    #expect(got.scalars == shared.scalars, "\(kernel) \(stride) budget \(budget)")
                }
            }
        }
    }

    /// The out-vector kernel (many output channels, short or strided rows) in private slabs: against
    /// the naive loop and bit-identical to its shared-slab path, stride 1 and 2, one plane per run
    /// and longer.
    @Test("private slabs for the out-vector kernel: the naive loop's values, the shared slab's bits", arguments: [Stride3D.one, .two])
    func privateSlabsOutVectors(stride: Stride3D) {
        var rng = RNG(seed: 53)
        for (kernel, cin, cout, size) in [(Kernel3D.k333, 16, 32, 8), (.k331, 24, 64, 6), (.k333, 8, 96, 7)] {
            let x = Tensor.randomNormal([1, cin, size + 3, size, size], rng: &rng)
            let w = Tensor.randomNormal([cout, cin, kernel.d, kernel.h, kernel.w], rng: &rng)
            let b = Tensor.randomNormal([cout], rng: &rng)
            let g = ConvGeometry(input: x.shape, weight: w.shape, stride: stride)
            guard Conv3dDirectKernel.applies(g), Conv3dDirectKernel.usesOutVectors(g, inputs: cin, outputs: cout) else {
                Issue.record("\(kernel) \(cin)->\(cout) at \(size) \(stride) does not take the out-vector kernel")
                continue
            }
            let want = naiveConv3d(x, w, bias: b, stride: stride)
            let saved = Conv3dEngine.usePrivateSlabs
            Conv3dEngine.usePrivateSlabs = false
            let shared = Conv3dKernel.forward(x: x, weight: w, bias: b, stride: stride, direct: true)
            Conv3dEngine.usePrivateSlabs = saved
            let packed = w.withUnsafePointer { Conv3dDirectKernel.packedWeights($0, g, transposed: false, outVectors: true) }
            for budget in [64, 1 << 20] {
                var got = Tensor(uninitialized: want.shape)
                x.withUnsafePointer { xp in b.withUnsafePointer { bp in got.withUnsafeMutablePointer { yp in
                    Conv3dDirectKernel.convolveInPrivateSlabs(xp, inputs: cin, packed, outputs: cout, bias: bp, yp, g,
                                                              budgetBytes: budget, outVectors: true)
                } } }
                #expect(got.maxAbsDifference(want) < 1e-3, "\(kernel) \(stride) budget \(budget)")
                #expect(got.scalars == shared.scalars, "\(kernel) \(stride) budget \(budget)")
            }
        }
    }

    /// Depths of 16 and more split the stride-1 weight gradient of ≤ 16 outputs into runs of planes
    /// (`zChunkedWeightGradient`): two, four and eight runs, odd extents, slabs of one plane inside a
    /// run, two samples; against the classic path, and run twice for the same bits.
    @Test("weight gradients summed over runs of planes along z match the classic path", arguments: [Kernel3D.k333, .k331, .k113])
    func zChunkedWeightGradient(kernel: Kernel3D) {
        var rng = RNG(seed: 47)
        for (shape, cout) in [([1, 5, 20, 9, 34], 7), ([2, 3, 33, 6, 7], 16), ([1, 2, 64, 5, 17], 3)] {
            let g = ConvGeometry(input: shape, weight: [cout, shape[1], kernel.d, kernel.h, kernel.w], stride: .one)
            if Conv3dDirectKernel.zChunkedGradients { #expect(Conv3dDirectKernel.zChunks(g) == min(8, shape[2] / 8)) }
            let x = Tensor.randomNormal(shape, rng: &rng)
            let w = Tensor.randomNormal([cout, shape[1], kernel.d, kernel.h, kernel.w], rng: &rng)
            let outShape = conv3dOutputShape(inputShape: shape, outChannels: cout, kernel: kernel, stride: .one)
            let gy = Tensor.randomNormal(outShape, rng: &rng)
            let want = Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: .one, needInput: false,
                                             needWeight: true, needBias: false, planeShift: false, direct: false)
            for budget in [1 << 20, 64] {
                let runs = (0..<2).map { _ in
                    Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: .one, needInput: false,
                                          needWeight: true, needBias: false, budgetBytes: budget, direct: true).weight!
                }
                let scale = max(1, want.weight!.scalars.map(abs).max()!)
                #expect(runs[0].maxAbsDifference(want.weight!) < 2e-5 * scale, "\(shape) budget \(budget)")
                #expect(runs[0].scalars == runs[1].scalars, "\(shape) budget \(budget): runs differ")
            }
            // A call's budget is one core's times the thread count; the runs' slabs take one core's,
            // so the sums are the same whatever the thread count.
            let core = Conv3dEngine.slabBudgetBytes
            let byBudget = [core, 2 * core, 4 * core].map { budget in
                Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: .one, needInput: false,
                                      needWeight: true, needBias: false, budgetBytes: budget, direct: true).weight!.scalars
            }
            #expect(byBudget[1] == byBudget[0] && byBudget[2] == byBudget[0], "\(shape): sums depend on the call's budget")
        }
    }

    /// The merge of run-wise weight gradients, vectorised and (from 32 K values) over the pool,
    /// against the scalar loop it replaced: the same bits, tails and strides included.
    @Test("run sums merge into dw with the scalar loop's bits")
    func runSums() {
        var rng = RNG(seed: 67)
        for (count, runs) in [(5, 3), (16, 1), (37, 8), (40_000, 4), (70_001, 3)] {
            let stride = count + 13
            let partials = Tensor.randomNormal([runs * stride], rng: &rng)
            let start = Tensor.randomNormal([count], rng: &rng)
            var want = start.scalars
            partials.withUnsafePointer { p in
                for i in 0..<count {
                    var total: Float = 0
                    for r in 0..<runs { total += p[r * stride + i] }
                    want[i] += total
                }
            }
            var got = start
            partials.withUnsafePointer { p in got.withUnsafeMutablePointer { d in
                addRunSums(p, runs: runs, stride: stride, count: count, into: d)
            } }
            #expect(got.scalars.map(\.bitPattern) == want.map(\.bitPattern), "\(count) values, \(runs) runs")
        }
    }

    /// Runs that do not split evenly over the threads are halved by input channels (3 runs at depth
    /// 24, 5 at 40): each half pads its channels and sums its pairs. The sums must be the same bits as
    /// unhalved, and match the classic path.
    @Test("weight-gradient runs halved by input channels give the same bits", arguments: [Kernel3D.k333, .k331, .k113])
    func zChunkedHalves(kernel: Kernel3D) {
        var rng = RNG(seed: 61)
        for (shape, cout) in [([1, 5, 24, 9, 34], 7), ([1, 4, 40, 6, 7], 16), ([1, 2, 24, 8, 8], 3)] {
            let g = ConvGeometry(input: shape, weight: [cout, shape[1], kernel.d, kernel.h, kernel.w], stride: .one)
            let x = Tensor.randomNormal(shape, rng: &rng)
            let w = Tensor.randomNormal([cout, shape[1], kernel.d, kernel.h, kernel.w], rng: &rng)
            let outShape = conv3dOutputShape(inputShape: shape, outChannels: cout, kernel: kernel, stride: .one)
            let gy = Tensor.randomNormal(outShape, rng: &rng)
            let want = Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: .one, needInput: false,
                                             needWeight: true, needBias: false, planeShift: false, direct: false).weight!
            let sums = [1, 2].map { halves in
                var dw = Tensor.zeros(want.shape)
                x.withUnsafePointer { xp in gy.withUnsafePointer { gp in dw.withUnsafeMutablePointer { dp in
                    Conv3dDirectKernel.zChunkedWeightGradient(xp, gp, dp, g, budgetBytes: Conv3dEngine.slabBudgetBytes,
                                                              halves: halves)
                } } }
                return dw
            }
            let scale = max(1, want.scalars.map(abs).max()!)
            #expect(sums[0].maxAbsDifference(want) < 2e-5 * scale, "\(shape) \(kernel)")
            #expect(sums[1].scalars == sums[0].scalars, "\(shape) \(kernel): halves changed the sums")
        }
    }

    /// A call's slab budget is one core's times the thread count, but the weight-gradient kernels
    /// round their sums once per slab: all three (runs along z, ≤ 16 outputs; the channel-vector
    /// kernel, > 16; the strided dot kernel) must take one core's budget, so that the sums are the
    /// same on any thread count. Shapes where one core's budget (2 MiB and more) holds fewer planes
    /// than twice or four times it.
    @Test("weight gradients do not depend on the call's (thread-count-scaled) slab budget")
    func weightGradientBudget() {
        var rng = RNG(seed: 59)
        for (input, weight, stride) in [([1, 16, 32, 64, 64], [16, 16, 3, 3, 3], Stride3D.one),
                                        ([1, 16, 16, 32, 32], [32, 16, 3, 3, 3], .one),
                                        ([1, 8, 32, 64, 64], [16, 8, 3, 3, 3], .two)] {
            let x = Tensor.randomNormal(input, rng: &rng)
            let w = Tensor.randomNormal(weight, rng: &rng)
            let outShape = conv3dOutputShape(inputShape: input, outChannels: weight[0], kernel: .k333, stride: stride)
            let gy = Tensor.randomNormal(outShape, rng: &rng)
            let core = Conv3dEngine.slabBudgetBytes
            let sums = [core, 2 * core, 4 * core].map { budget in
                Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: stride, needInput: false,
                                      needWeight: true, needBias: false, budgetBytes: budget, direct: true).weight!.scalars
            }
            #expect(sums[1] == sums[0] && sums[2] == sums[0], "\(input) -> \(weight[0]) stride \(stride)")
        }
    }

    @Test("weight gradients are identical on every run (fixed summation order)")
    func deterministic() {
        var rng = RNG(seed: 41)
        let x = Tensor.randomNormal([1, 5, 6, 6, 20], rng: &rng)
        let w = Tensor.randomNormal([7, 5, 3, 3, 3], rng: &rng)
        let gy = Tensor.randomNormal([1, 7, 6, 6, 20], rng: &rng)
        let runs = (0..<3).map { _ in
            Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: .one, needInput: true,
                                  needWeight: true, needBias: false, direct: true)
        }
        #expect(runs[1].weight!.scalars == runs[0].weight!.scalars && runs[2].weight!.scalars == runs[0].weight!.scalars)
        #expect(runs[1].input!.scalars == runs[0].input!.scalars)
    }

    @Test("1x1x1 kernels over many voxels (several pool chunks, partial tiles) match the naive loop and the GEMM path")
    func pointwiseLarge() {
        var rng = RNG(seed: 43)
        // 10 710 voxels per sample: not a multiple of the 96-voxel tile; 13 outputs and 7 inputs are
        // not multiples of the 4 × 6 weight-gradient tile.
        let x = Tensor.randomNormal([2, 7, 9, 17, 70], rng: &rng)
        let w = Tensor.randomNormal([13, 7, 1, 1, 1], rng: &rng)
        let b = Tensor.randomNormal([13], rng: &rng)
        let gy = Tensor.randomNormal([2, 13, 9, 17, 70], rng: &rng)
        let g = ConvGeometry(input: x.shape, weight: w.shape, stride: .one)
        #expect(Conv3dPointwiseKernel.applies(g))
        let y = Conv3dKernel.forward(x: x, weight: w, bias: b, stride: .one, direct: true)
        #expect(y.maxAbsDifference(naiveConv3d(x, w, bias: b, stride: .one)) < 1e-4)
        let want = Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: .one, needInput: true,
                                         needWeight: true, needBias: true, direct: false)
        let runs = (0..<2).map { _ in
            Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: .one, needInput: true,
                                  needWeight: true, needBias: true, direct: true)
        }
        #expect(runs[0].input!.maxAbsDifference(want.input!) < 1e-4)
        // Sums over 21 420 voxels: relative to the magnitude (~150), float order differences only.
        #expect(runs[0].weight!.maxAbsDifference(want.weight!) < 2e-3)
        #expect(runs[1].weight!.scalars == runs[0].weight!.scalars)
        #expect(runs[1].input!.scalars == runs[0].input!.scalars)
    }

    /// From 12 K voxels the 1x1x1 weight gradient sums runs of voxels apart (`zRuns`: two at 24³, four
    /// in the other two shapes, run edges off the 16-voxel vector and the voxel block, 13 outputs: a
    /// partial block of 4) and merges them in order: against a Double loop, and the same bits run
    /// after run.
    @Test("1x1x1 weight gradients summed over runs of voxels match a Double loop")
    func pointwiseRuns() {
        var rng = RNG(seed: 53)
        for (shape, cout) in [([1, 5, 24, 24, 24], 13), ([1, 5, 20, 40, 41], 13), ([2, 3, 16, 64, 70], 4)] {
            let voxels = shape[2...].reduce(1, *)
            if Conv3dDirectKernel.zChunkedGradients {
                #expect(Conv3dPointwiseKernel.zRuns(voxels: voxels) == (voxels == 13824 ? 2 : 4))
                #expect(Conv3dPointwiseKernel.zRuns(voxels: 6143) == 1 && Conv3dPointwiseKernel.zRuns(voxels: 4096) == 1)
            }
            let x = Tensor.randomNormal(shape, rng: &rng)
            let w = Tensor.randomNormal([cout, shape[1], 1, 1, 1], rng: &rng)
            var gyShape = shape
            gyShape[1] = cout
            let gy = Tensor.randomNormal(gyShape, rng: &rng)
            let runs = (0..<2).map { _ in
                Conv3dKernel.backward(x: x, weight: w, gradOutput: gy, stride: .one, needInput: false,
                                      needWeight: true, needBias: false, direct: true).weight!
            }
            let xs = x.scalars, gs = gy.scalars, cin = shape[1]
            var worst = 0.0
            for o in 0..<cout {
                for i in 0..<cin {
                    var want = 0.0
                    for n in 0..<shape[0] {
                        for v in 0..<voxels { want += Double(gs[(n * cout + o) * voxels + v]) * Double(xs[(n * cin + i) * voxels + v]) }
                    }
                    worst = max(worst, abs(Double(runs[0].scalars[o * cin + i]) - want))
                }
            }
            #expect(worst < 3e-3, "\(shape): off by \(worst)")
            #expect(runs[0].scalars == runs[1].scalars)
        }
    }
}
