// Conv3d as direct AVX-512 kernels (CConvKernels), used when the CPU has AVX-512F for all convs but
// the 1x1x1 stride-1 one and in-plane strides over a kernel extent of 1 (see `applies`); otherwise the
// im2col / plane-shift paths run. The input gradient of a strided conv stays on the im2col path
// (Conv3dKernel.backward).
//
// Input is copied slab by slab (the input planes a range of output planes reads) into a zero-padded
// buffer, so each kernel tap is a fixed pointer offset:
//   forward:  y = conv(pad(x), W), bias fused
//   dX:       dx = conv(pad(dY), Wᵀ with flipped taps)   (stride 1, same padding)
//   dW:       dw[co][ci][tap] += Σ_v dY[co][v] · pad(x)[ci][v + tap], with dY transposed to [v][co]
// The slab buffer is bounded by the column budget and reused (ColumnWorkspace). Forward and dX
// spread a slab's output planes over the pool; dW spreads (input channel, tap) pairs, so every
// weight-gradient entry is summed by one thread in a fixed order (deterministic).

import CConvKernels
import Foundation
import Tensor

enum Conv3dDirectKernel {
    /// The CPU runs the AVX-512 kernels.
    static let available = c2f_conv_direct_available() != 0
    /// The output-channel-vector kernel may run: C2FNAS_CONV_OUTVEC is not "0".
    static let outVectorsAvailable = c2f_outvec_available() != 0

    /// Forward and weight gradient, on an AVX-512 CPU: any conv but the 1x1x1 stride-1 one (a plain
    /// GEMM) and those with a stride along an axis of kernel extent 1 in y or x (the padded copy would
    /// hold rows or columns no tap reads; im2col gathers only what it needs and measured faster).
    static func applies(_ g: ConvGeometry) -> Bool {
        available && !g.isPointwise && (g.sw == 1 || g.kw > 1) && (g.sh == 1 || g.kh > 1)
    }

    /// The input gradient runs here for every conv the kernels apply to: stride 1 as a forward conv
    /// with transposed weights, other strides by parity class (`stridedInputGradient`) when dY's rows
    /// fill at least half a vector (64->128 at 8³, dY rows of 4: 1.8 ms here against 0.9 on im2col),
    /// or when dX has the channels for out-vectors (`classOutVectors`).
    static func handlesInputGradient(_ g: ConvGeometry) -> Bool {
        applies(g) && (g.isStride1 || g.ow >= 8 || classOutVectors(g))
    }

    /// Whether a strided conv's input gradient runs its parity classes with the vector along dX's
    /// channels (c2f_conv_class_input_grad_outvec): at least 32 of them, as the forward's out-vector
    /// rule, and dY rows of at most 8 voxels, which fill at most half an x-vector. The im2col path
    /// these shapes took before ran OpenBLAS serially on the caller (a 2-thread step's 64->128 at 8³
    /// and 32->64 at 16³: 0.5-0.7 ms each on either thread count).
    static func classOutVectors(_ g: ConvGeometry) -> Bool {
        outVectorsAvailable && Conv3dEngine.useOutVectors && !g.isStride1 && g.ow <= 8
            && g.cin >= 32 && (g.cin % 32 == 0 || g.cin >= 96)
    }

    static func shape(_ g: ConvGeometry) -> c2f_conv_shape {
        c2f_conv_shape(cin: Int32(g.cin), cout: Int32(g.cout), d: Int32(g.d), h: Int32(g.h), w: Int32(g.w),
                       kd: Int32(g.kd), kh: Int32(g.kh), kw: Int32(g.kw),
                       sd: Int32(g.sd), sh: Int32(g.sh), sw: Int32(g.sw))
    }

    /// Output planes per slab so that the padded slab of `channels` fits the budget (balanced slabs).
    /// A slab of p output planes reads (p - 1)·sd + kd input planes; padded rows are rounded up to
    /// a multiple of the x stride.
    static func slabPlanes(_ g: ConvGeometry, channels: Int, budgetBytes: Int) -> Int {
        let row = (g.w + g.kw - 1 + g.sw - 1) / g.sw * g.sw
        let perPlane = channels * (g.h + g.kh - 1) * row * MemoryLayout<Float>.stride
        let inputPlanes = budgetBytes / max(1, perPlane)
        let planes = max(1, (inputPlanes - g.kd) / g.sd + 1)
        let slabs = (g.od + planes - 1) / planes
        return (g.od + slabs - 1) / slabs
    }

    /// Weights packed for the forward (`transposed` false) or the input-gradient conv.
    /// A Tensor, not an Array: large ones come from the buffer pool instead of fresh pages every step.
    /// With `outVectors`, in blocks of 32 output channels for c2f_conv_forward_outvec.
    static func packedWeights(_ wp: UnsafePointer<Float>, _ g: ConvGeometry, transposed: Bool,
                              outVectors: Bool = false) -> Tensor {
        let s = shape(g)
        let outs = transposed ? g.cin : g.cout, ins = transposed ? g.cout : g.cin
        let width = outVectors ? 32 : 8
        let blocks = (outs + width - 1) / width
        var out = Tensor(uninitialized: [blocks * width * ins * g.kernelVolume])
        // Blocks in parallel once there is enough to copy (a 256-channel 3x3x3 conv packs 1.8 M values,
        // serial 1.3 % of sliding-window inference; training packs every step, in a 2-thread step
        // while the other thread waits). 8 K values take about 10 µs, several fork/joins' worth.
        let jobs = blocks * width * ins * g.kernelVolume >= 1 << 13 ? blocks : 1
        out.withUnsafeMutablePointer { dst in
            Compute.parallelFor(jobs) { j in
                var s = s
                let b0 = Int32(blocks * j / jobs), b1 = Int32(blocks * (j + 1) / jobs)
                c2f_pack_weights(wp, dst, &s, transposed ? 1 : 0, Int32(width), b0, b1)
            }
        }
        return out
    }

    /// Whether a conv from `inputs` to `outputs` channels on g's extents runs with the vector along
    /// output channels (c2f_conv_forward_outvec) rather than along x: many output channels, and rows
    /// too short or too strided for x-vectors (see DECISIONS.md for the measurements).
    static func usesOutVectors(_ g: ConvGeometry, inputs: Int, outputs: Int) -> Bool {
        guard outVectorsAvailable, Conv3dEngine.useOutVectors, g.sw <= 2, outputs >= 32, outputs % 32 == 0 || outputs >= 96
        else { return false }
        return g.ow <= 8 || !g.isStride1
    }

    /// Calls `body(z0, planes)` for each slab of at most `per` output planes, after copying `src`
    /// (`channels` channels of one sample) into the padded slab buffer `buf`.
    private static func slabs(_ src: UnsafePointer<Float>, channels: Int, _ g: ConvGeometry, per: Int,
                              into buf: UnsafeMutablePointer<Float>, _ body: (Int, Int) -> Void) {
        var z0 = 0
        while z0 < g.od {
            let planes = min(per, g.od - z0)
            // Two items per thread, by channel ranges and, with fewer channels than items, by runs of
            // the slab's planes (one item per thread left a core waiting 5 % of the copy; a
            // 1-channel input was copied by one thread).
            let items = Compute.threads == 1 ? 1 : 2 * Compute.threads
            let parts = min(channels, items), runs = (items + parts - 1) / parts
            Compute.parallelFor(parts * runs) { i in
                var s = shape(g)
                let p = i / runs, c0 = channels * p / parts, c1 = channels * (p + 1) / parts
                c2f_pad_slab(src, buf, &s, Int32(channels), Int32(c0), Int32(c1), Int32(z0), Int32(planes),
                             Int32(i % runs), Int32(runs))
            }
            body(z0, planes)
            z0 += planes
        }
    }

    /// Whether the forward (and stride-1 dX) conv takes a plane's output positions in the padded
    /// row layout (c2f_conv_forward_flat): stride 1, and more of its vector lanes hold outputs than
    /// with one row per vector (short rows: 4³ fills 67 % instead of 25 %, 8³ 80 % instead of 50 %).
    static func usesFlatRows(_ g: ConvGeometry) -> Bool {
        // Rows of up to 8: at 10 and more (12³, 24³, 40³, every kernel shape) the row-by-row path
        // measured as fast or faster (DECISIONS.md 2026-12-07, fifteenth session).
        guard g.isStride1 && flatRows && g.ow <= 8 else { return false }
        let row = g.w + g.kw - 1
        let perRow = Double(g.ow) / Double(16 * ((g.ow + 15) / 16))
        let flat = Double(g.oh * g.ow) / Double(16 * ((g.oh * row + 15) / 16))
        return flat > perRow * 1.05
    }

    static func slabFloats(_ g: ConvGeometry, channels: Int, planes: Int) -> Int {
        var s = shape(g)
        return c2f_slab_floats(&s, Int32(channels), Int32(planes))
    }

    /// The geometry a conv's input slab is padded for: the out-vector kernel reads a slab padded
    /// without the x-phase split (sw = 1), every other kernel one padded for g itself.
    static func slabGeometry(_ g: ConvGeometry, inputs: Int, outputs: Int, outVectors: Bool) -> ConvGeometry {
        guard outVectors && g.sw > 1 else { return g }
        return ConvGeometry(input: [1, inputs, g.d, g.h, g.w], weight: [outputs, inputs, g.kd, g.kh, g.kw],
                            stride: Stride3D(d: g.sd, h: g.sh, w: 1))
    }

    /// conv of `src` (inputs channels, padded slab by slab) with packed weights into `dst` (outputs channels).
    /// With `outVectors` the weights are packed for, and the tiles computed by, c2f_conv_forward_outvec.
    static func convolve(_ src: UnsafePointer<Float>, inputs: Int, _ packed: Tensor, outputs: Int,
                         bias: UnsafePointer<Float>?, _ dst: UnsafeMutablePointer<Float>,
                         _ g: ConvGeometry, budgetBytes: Int, outVectors: Bool = false) {
        let padded = slabGeometry(g, inputs: inputs, outputs: outputs, outVectors: outVectors)
        if Conv3dEngine.usePrivateSlabs && Compute.threads > 1 && g.od >= 4 * Compute.threads {
            return convolveInPrivateSlabs(src, inputs: inputs, packed, outputs: outputs, bias: bias, dst, g,
                                          outVectors: outVectors)
        }
        packed.withUnsafeBufferPointer { pk in
            var per = slabPlanes(padded, channels: inputs, budgetBytes: budgetBytes)
            // Whole runs of planes per job (below): runs of unequal length, claimed dynamically,
            // left one core idle for up to a plane per slab.
            let jobs = 2 * Compute.threads
            if per > jobs && per < g.od { per = per / jobs * jobs }
            // Every thread gets an item even when a plane's input outgrows the budget and the
            // outputs fill one block: items are planes × output-channel blocks (below).
            let blocks = outVectors ? (outputs + 31) / 32 : (outputs + 7) / 8
            per = max(per, min(g.od, (Compute.threads + blocks - 1) / blocks))
            ColumnWorkspace.with(count: slabFloats(padded, channels: inputs, planes: per)) { buf in
                slabs(src, channels: inputs, padded, per: per, into: buf) { z0, planes in
                    let flat = usesFlatRows(g)
                    func run(_ za: Int, _ zb: Int, _ b0: Int, _ b1: Int) {
                        var s = shape(g)
                        if outVectors {
                            c2f_conv_forward_outvec(buf, pk.baseAddress!, bias, dst, &s, Int32(inputs), Int32(outputs),
                                                    Int32(z0), Int32(planes), Int32(za), Int32(zb), Int32(b0), Int32(b1))
                        } else if flat {
                            c2f_conv_forward_flat(buf, pk.baseAddress!, bias, dst, &s, Int32(inputs), Int32(outputs),
                                                  Int32(z0), Int32(planes), Int32(za), Int32(zb), Int32(b0), Int32(b1))
                        } else {
                            c2f_conv_forward(buf, pk.baseAddress!, bias, dst, &s, Int32(inputs), Int32(outputs),
                                             Int32(z0), Int32(planes), Int32(za), Int32(zb), Int32(b0), Int32(b1))
                        }
                    }
                    if planes >= jobs {
                        // Work items are runs of consecutive planes: plane z + 1 reads two of plane z's
                        // three input planes, which a run finds in its core's L2. Items of single
                        // planes alternated between the cores, and each re-read them from L3 (2
                        // threads gave 1.3-1.5x on 32³ convs in inference; 1.8-1.9x in `bench conv`).
                        // Guided runs: long first, single planes last, for the balance at the join.
                        let split = GuidedSplit(count: planes, threads: Compute.threads)
                        Compute.parallelFor(split.count) { r in
                            run(z0 + split[r].lowerBound, z0 + split[r].upperBound, 0, blocks)
                        }
                    } else {
                        // Fewer planes than items: planes split further by output-channel blocks.
                        let split = min(blocks, max(1, (jobs + planes - 1) / planes))
                        Compute.parallelFor(planes * split) { i in
                            let z = z0 + i / split, part = i % split
                            run(z, z + 1, blocks * part / split, blocks * (part + 1) / split)
                        }
                    }
                }
            }
        }
    }

    /// `convolve` on several threads without a shared slab: one fork/join for the whole conv, whose
    /// items are guided runs of output planes (at most one core's slab budget each). An item pads
    /// its input planes into its thread's own slab just before the first output plane that reads
    /// them, so a plane is written and read by one core while it sits in that core's L2. The shared
    /// slab took two fork/joins per slab (the copy by channel ranges, then the runs), and each core
    /// read the half of its planes the other core had copied: with the vCPUs far apart on the host
    /// (a 300-400 ns cache-line round trip instead of 80) the 16->8 3x3x3 forward at 64³ ran 11.4 ms
    /// at 2 threads against 9.3 at 1 (DECISIONS.md 2026-12-07). The halo planes of each run are
    /// padded twice (two per run for a 3-deep kernel). With `outVectors` the same for the out-vector
    /// kernel (weights packed for it, slab padded without the x-phase split): its convs are the deep
    /// levels' small ones, where far apart the shared slab's halves crossed between the cores in every
    /// call (a far-apart profile charged them 2 ms a step more than close; DECISIONS.md 2026-12-07).
    static func convolveInPrivateSlabs(_ src: UnsafePointer<Float>, inputs: Int, _ packed: Tensor,
                                       outputs: Int, bias: UnsafePointer<Float>?,
                                       _ dst: UnsafeMutablePointer<Float>, _ g: ConvGeometry,
                                       budgetBytes: Int = Conv3dEngine.slabBudgetBytes, outVectors: Bool = false) {
        let padded = slabGeometry(g, inputs: inputs, outputs: outputs, outVectors: outVectors)
        let longest = slabPlanes(padded, channels: inputs, budgetBytes: budgetBytes)
        let runs = GuidedSplit(count: g.od, threads: Compute.threads, maximum: longest)
        let blocks = outVectors ? (outputs + 31) / 32 : (outputs + 7) / 8
        let flat = !outVectors && usesFlatRows(g)
        let each = ColumnWorkspace.slotStride(slabFloats(padded, channels: inputs, planes: longest))
        packed.withUnsafeBufferPointer { pk in
            ColumnWorkspace.with(count: Compute.threads * each) { slabs in
                Compute.parallelFor(runs.count) { r, slot in
                    let buf = slabs + slot * each
                    let za = runs[r].lowerBound, planes = runs[r].count
                    let depth = (planes - 1) * g.sd + g.kd
                    var s = shape(g), ps = shape(padded)
                    var ready = 0   // slab planes padded so far
                    for z in runs[r] {
                        // Output plane z reads slab planes (z − za)·sd ..< (z − za)·sd + kd.
                        let need = min(depth, (z - za) * g.sd + g.kd)
                        while ready < need {
                            c2f_pad_slab(src, buf, &ps, Int32(inputs), 0, Int32(inputs), Int32(za), Int32(planes),
                                         Int32(ready), Int32(depth))
                            ready += 1
                        }
                        if outVectors {
                            c2f_conv_forward_outvec(buf, pk.baseAddress!, bias, dst, &s, Int32(inputs), Int32(outputs),
                                                    Int32(za), Int32(planes), Int32(z), Int32(z + 1), 0, Int32(blocks))
                        } else if flat {
                            c2f_conv_forward_flat(buf, pk.baseAddress!, bias, dst, &s, Int32(inputs), Int32(outputs),
                                                  Int32(za), Int32(planes), Int32(z), Int32(z + 1), 0, Int32(blocks))
                        } else {
                            c2f_conv_forward(buf, pk.baseAddress!, bias, dst, &s, Int32(inputs), Int32(outputs),
                                             Int32(za), Int32(planes), Int32(z), Int32(z + 1), 0, Int32(blocks))
                        }
                    }
                }
            }
        }
    }

    /// Packed weights come from the current PackedWeightCache when there is one.
    static func forward(_ xp: UnsafePointer<Float>, _ weight: Tensor, bias: UnsafePointer<Float>?,
                        _ yp: UnsafeMutablePointer<Float>, _ g: ConvGeometry, budgetBytes: Int) {
        if Conv3dWinogradKernel.applies(g, inputs: g.cin, outputs: g.cout) {
            let packed = PackedWeightCache.packed(weight, .winograd) {
                weight.withUnsafePointer { Conv3dWinogradKernel.packedWeights($0, g, transposed: false) }
            }
            for n in 0..<g.n {
                Conv3dWinogradKernel.convolve(xp + n * g.cin * g.inVoxels, inputs: g.cin, packed, outputs: g.cout,
                                              bias: bias, yp + n * g.cout * g.outVoxels, g)
            }
            return
        }
        let outVectors = usesOutVectors(g, inputs: g.cin, outputs: g.cout)
        let packed = PackedWeightCache.packed(weight, outVectors ? .outVectors : .direct) {
            weight.withUnsafePointer { packedWeights($0, g, transposed: false, outVectors: outVectors) }
        }
        for n in 0..<g.n {
            convolve(xp + n * g.cin * g.inVoxels, inputs: g.cin, packed, outputs: g.cout, bias: bias,
                     yp + n * g.cout * g.outVoxels, g, budgetBytes: budgetBytes, outVectors: outVectors)
        }
    }

    /// dX is overwritten, dW accumulated into.
    static func backward(_ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>, _ dyp: UnsafePointer<Float>,
                         _ g: ConvGeometry, dx dxp: UnsafeMutablePointer<Float>?, dw dwp: UnsafeMutablePointer<Float>?,
                         budgetBytes: Int) {
        let winograd = dxp != nil && Conv3dWinogradKernel.applies(g, inputs: g.cout, outputs: g.cin)
        let outVectors = !winograd && g.isStride1 && usesOutVectors(g, inputs: g.cout, outputs: g.cin)
        let packed = dxp == nil || !g.isStride1 ? Tensor.zeros([0])
            : winograd ? Conv3dWinogradKernel.packedWeights(wp, g, transposed: true)
            : packedWeights(wp, g, transposed: true, outVectors: outVectors)
        for n in 0..<g.n {
            let xs = xp + n * g.cin * g.inVoxels, dys = dyp + n * g.cout * g.outVoxels
            if let dwp { OpProfile.measure(.convWeightGrad) { weightGradient(xs, dys, dwp, g, budgetBytes: budgetBytes) } }
            if let dxp {
                if winograd {
                    Conv3dWinogradKernel.convolve(dys, inputs: g.cout, packed, outputs: g.cin, bias: nil,
                                                  dxp + n * g.cin * g.inVoxels, g)
                } else if g.isStride1 {
                    convolve(dys, inputs: g.cout, packed, outputs: g.cin, bias: nil,
                             dxp + n * g.cin * g.inVoxels, g, budgetBytes: budgetBytes, outVectors: outVectors)
                } else {
                    stridedInputGradient(dys, wp, g, dx: dxp + n * g.cin * g.inVoxels, budgetBytes: budgetBytes)
                }
            }
        }
    }

    /// dX of one sample of a strided conv. Input position z = sd·j + rz (per axis) receives
    /// Σ w[a]·dY[j + δ] over the taps a with (rz + pad − a) divisible by the stride, δ = (rz + pad − a)
    /// / stride: for each parity class (rz, ry, rx) a stride-1 correlation of dY with its own taps
    /// (c2f_conv_class_input_grad). Per slab of padded dY, a work item takes a run of dY planes j
    /// and a range of 8-channel blocks: every class of plane j into its thread's scratch (dY's plane
    /// extents per class and channel), then dX planes sd·j ..< sd·(j + 1) interleaved from it while it
    /// is in L2. (Classes over the whole volume into one buffer, interleaved after all slabs, wrote
    /// and re-read 8 MB for 8->16 at 64³ and scaled 1.4x on two threads; DECISIONS.md 2026-12-07.)
    /// Every dX value is written once, summed in a fixed order (output channel, tap), with no
    /// zero-inserted work.
    private static func stridedInputGradient(_ dys: UnsafePointer<Float>, _ wp: UnsafePointer<Float>, _ g: ConvGeometry,
                                             dx: UnsafeMutablePointer<Float>, budgetBytes: Int) {
        // dY as the input of a stride-1 "same" conv with the same kernel: its padded slab layout.
        let gy = ConvGeometry(input: [1, g.cout, g.od, g.oh, g.ow], weight: [g.cin, g.cout, g.kd, g.kh, g.kw], stride: .one)
        var s = shape(g), sy = shape(gy)
        let classes = g.sd * g.sh * g.sw, taps = g.kernelVolume
        let per = slabPlanes(gy, channels: g.cout, budgetBytes: budgetBytes)
        let outVectors = classOutVectors(g)
        let width = outVectors ? 32 : 8
        let classKernel = outVectors ? c2f_conv_class_input_grad_outvec : c2f_conv_class_input_grad
        let blocks = (g.cin + width - 1) / width, ohw = g.oh * g.ow
        // Per class: tap list and packed weights (both tiny next to the arithmetic).
        var tapCount = [Int](repeating: 0, count: classes)
        var offsets = [Int32](repeating: 0, count: classes * taps)
        var tapIndex = [Int32](repeating: 0, count: classes * taps)
        for c in 0..<classes {
            let rz = c / (g.sh * g.sw), ry = (c / g.sw) % g.sh, rx = c % g.sw
            var index = [Int32](repeating: 0, count: taps), off = [Int32](repeating: 0, count: taps)
            let n = Int(c2f_strided_class_taps(&s, &sy, Int32(rz), Int32(ry), Int32(rx), &index, &off))
            tapCount[c] = n
            for t in 0..<n { offsets[c * taps + t] = off[t]; tapIndex[c * taps + t] = index[t] }
        }
        // The classes' weights in one buffer, packed on the pool when there are many (64->128:
        // 221 K values, packed serially while the other core waited).
        var packStart = [Int](repeating: 0, count: classes + 1)
        for c in 0..<classes { packStart[c + 1] = packStart[c] + blocks * width * g.cout * tapCount[c] }
        var packs = Tensor(uninitialized: [max(1, packStart[classes])])
        packs.withUnsafeMutablePointer { pk in
            tapIndex.withUnsafeBufferPointer { ti in
                func pack(_ c: Int) {
                    guard tapCount[c] > 0 else { return }
                    var s = shape(g)
                    c2f_pack_class_weights(wp, pk + packStart[c], &s, ti.baseAddress! + c * taps, Int32(tapCount[c]),
                                           Int32(width))
                }
                if packStart[classes] >= 1 << 15 {
                    Compute.parallelFor(classes) { pack($0) }
                } else {
                    for c in 0..<classes { pack(c) }
                }
            }
        }
        // Scratch per thread: [class][cin][oh·ow], one dY plane of every class.
        let scratch = ColumnWorkspace.slotStride(classes * g.cin * ohw)
        ColumnWorkspace.with(count: Compute.threads * scratch) { parts in
            ColumnWorkspace.with(count: slabFloats(gy, channels: g.cout, planes: per)) { buf in
                slabs(dys, channels: g.cout, gy, per: per, into: buf) { z0, planes in
                    // Runs of planes (guided) when there are enough; else single planes split by blocks.
                    let runs = GuidedSplit(count: planes, threads: Compute.threads)
                    let split = planes >= 2 * Compute.threads ? 1 : min(blocks, max(1, (2 * Compute.threads + planes - 1) / planes))
                    let items = split == 1 ? runs.count : planes * split
                    offsets.withUnsafeBufferPointer { op in packs.withUnsafePointer { packed in
                        Compute.parallelFor(items) { i, slot in
                            let zs = split == 1 ? runs[i] : (i / split)..<(i / split + 1)
                            let part = split == 1 ? 0 : i % split
                            let b0 = blocks * part / split, b1 = blocks * (part + 1) / split
                            let mine = parts + slot * scratch
                            var sy = shape(gy)
                            for j in zs {
                                for c in 0..<classes where tapCount[c] > 0 {
                                    classKernel(buf, packed + packStart[c], mine + c * g.cin * ohw, ohw, &sy,
                                                Int32(g.cout), Int32(g.cin), Int32(z0), Int32(planes), Int32(z0 + j),
                                                Int32(b0), Int32(b1), op.baseAddress! + c * taps, Int32(tapCount[c]))
                                }
                                interleave(UnsafePointer(mine), plane: z0 + j,
                                           channels: min(g.cin, width * b0)..<min(g.cin, width * b1),
                                           tapCount: tapCount, g, into: dx)
                            }
                        }
                    } }
                }
            }
        }
    }

    /// dX rows of dY plane j (dX planes sd·j + rz) for `channels`, from one plane of every class
    /// (`parts`: [class][cin][oh·ow]): row (ci, z, y) takes x = sw·l + rx from class (rz, y % sh, rx).
    private static func interleave(_ parts: UnsafePointer<Float>, plane j: Int, channels: Range<Int>,
                                   tapCount: [Int], _ g: ConvGeometry, into dx: UnsafeMutablePointer<Float>) {
        let ohw = g.oh * g.ow
        for ci in channels {
            for rz in 0..<g.sd {
                let z = g.sd * j + rz
                if z >= g.d { break }
                for y in 0..<g.h {
                    let ry = y % g.sh, k = y / g.sh
                    let row = dx + (ci * g.d + z) * g.h * g.w + y * g.w
                    func source(_ rx: Int) -> UnsafePointer<Float>? {
                        let c = (rz * g.sh + ry) * g.sw + rx
                        return tapCount[c] == 0 ? nil : parts + (c * g.cin + ci) * ohw + k * g.ow
                    }
                    if g.sw == 2, let even = source(0), let odd = source(1) {
                        c2f_interleave_pair(even, odd, row, g.w)
                        continue
                    }
                    for rx in 0..<g.sw {
                        guard let src = source(rx) else {
                            for x in Swift.stride(from: rx, to: g.w, by: g.sw) { row[x] = 0 }
                            continue
                        }
                        var l = 0
                        for x in Swift.stride(from: rx, to: g.w, by: g.sw) { row[x] = src[l]; l += 1 }
                    }
                }
            }
        }
    }

    /// Stride-1 weight gradients of ≤ 16 output channels take the padded-row dY layout
    /// (C2FNAS_DW_FLAT=0 keeps the row-by-row dot kernel, for A/B runs).
    /// C2FNAS_CONV_FLAT=0: forward and stride-1 dX always one row per vector (A/B runs).
    static let flatRows = ProcessInfo.processInfo.environment["C2FNAS_CONV_FLAT"] != "0"
    static let flatWeightGradient = ProcessInfo.processInfo.environment["C2FNAS_DW_FLAT"] != "0"

    /// dw += dW of one sample: per slab, dY is transposed to [voxel][cout rounded to 16] and the
    /// (input channel, tap) pairs are spread over the pool in chunks of whole micro-tiles.
    private static func weightGradient(_ xs: UnsafePointer<Float>, _ dys: UnsafePointer<Float>,
                                       _ dwp: UnsafeMutablePointer<Float>, _ g: ConvGeometry, budgetBytes callBudget: Int) {
        // Slabs of one core's budget, not the call's (which grows with the thread count): the
        // kernels round their sums into dw once per slab, so the slab sizes must not depend on the
        // thread count for the gradient to be the same on any (every pair reads the whole slab
        // anyway, so a slab over one core's L2 did not fit either core's).
        let budgetBytes = min(callBudget, Conv3dEngine.slabBudgetBytes)
        let taps = g.kernelVolume, pairs = g.cin * taps
        let cp = (g.cout + 15) / 16 * 16, hw = g.oh * g.ow
        // Chunks of whole micro-tiles (6 pairs for the dot kernels, 24 / channel vectors for the
        // transposed one), two per thread and of near-equal size: every chunk reads all of the slab's
        // dY again, so fewer are faster (8->16 s2 at 64³: dW 1.9-2.1 ms in 5 chunks, 2.7-2.8 in 8),
        // while ceil-sized chunks left 48, 48, 48, 48, 24 pairs for an 8-channel input on 2 threads
        // and ran the stem's 27 pairs as 24 + 3.
        let tile = g.cout <= 16 ? 6 : 24 / min(4, cp / 16)
        let chunks = max(1, min((pairs + tile - 1) / tile, Compute.threads == 1 ? 1 : 2 * Compute.threads))
        func bounds(_ c: Int) -> (Int32, Int32) {
            func edge(_ k: Int) -> Int { k == chunks ? pairs : min(pairs, (pairs * k / chunks + tile / 2) / tile * tile) }
            return (Int32(edge(c)), Int32(edge(c + 1)))
        }
        if g.cout <= 16 && g.isStride1 && flatWeightGradient && zChunks(g) > 1 {
            return zChunkedWeightGradient(xs, dys, dwp, g, budgetBytes: budgetBytes)
        }
        if g.cout <= 16 && g.isStride1 && flatWeightGradient {
            // Stride 1: dY copied per slab into the x slab's padded-row layout, each plane one flat
            // run (c2f_conv_weight_grad_dot_flat); the budget holds both slabs.
            let per = slabPlanes(g, channels: g.cin + g.cout, budgetBytes: budgetBytes)
            var s = shape(g)
            let slabCount = slabFloats(g, channels: g.cin, planes: per)
            let gradCount = c2f_grad_rows_floats(&s, Int32(per))
            ColumnWorkspace.with(count: slabCount + gradCount + 16) { buf in
                // dY rows start on a cache line: its loads are then never split.
                let raw = buf + slabCount
                let dyp = raw + (16 - (Int(bitPattern: raw) / 4) % 16) % 16
                slabs(xs, channels: g.cin, g, per: per, into: buf) { z0, planes in
                    let parts = min(g.cout, Compute.threads)
                    Compute.parallelFor(parts) { p in
                        var s = shape(g)
                        c2f_pad_grad_rows(dys, dyp, &s, Int32(z0), Int32(planes),
                                          Int32(g.cout * p / parts), Int32(g.cout * (p + 1) / parts))
                    }
                    Compute.parallelFor(chunks) { c in
                        var s = shape(g)
                        let (q0, q1) = bounds(c)
                        if q0 < q1 { c2f_conv_weight_grad_dot_flat(buf, dyp, dwp, &s, Int32(planes), q0, q1) }
                    }
                }
            }
            return
        }
        if g.cout <= 16 {
            // Few output channels: dot products along x, straight into dw. Up to 8 a channel vector
            // would be half empty; at 16 the dot kernel measured 7-35 % faster as well (it loads 10
            // values per 24 FMAs, the channel-vector kernel 25: one broadcast per FMA).
            let per = slabPlanes(g, channels: g.cin, budgetBytes: budgetBytes)
            ColumnWorkspace.with(count: slabFloats(g, channels: g.cin, planes: per)) { buf in
                slabs(xs, channels: g.cin, g, per: per, into: buf) { z0, planes in
                    Compute.parallelFor(chunks) { c in
                        var s = shape(g)
                        let (q0, q1) = bounds(c)
                        if q0 < q1 { c2f_conv_weight_grad_dot(buf, dys, dwp, &s, Int32(z0), Int32(planes), q0, q1) }
                    }
                }
            }
            return
        }
        // The budget holds the padded x slab and the transposed dY slab.
        let per = slabPlanes(g, channels: g.cin + cp, budgetBytes: budgetBytes)
        // Zeroed by each chunk's first slab, on the pool: a Tensor.zeros of up to 1.7 MB and the
        // scatter below ran serially while the other threads waited.
        var dwt = Tensor(uninitialized: [pairs * cp])
        dwt.withUnsafeMutableBufferPointer { dwtb in
            let dwtp = dwtb.baseAddress!
            // One workspace holds both, so the free list keeps a single buffer within the budget.
            let slabCount = slabFloats(g, channels: g.cin, planes: per)
            ColumnWorkspace.with(count: slabCount + cp * per * hw) { buf in
                let dyt = buf + slabCount
                slabs(xs, channels: g.cin, g, per: per, into: buf) { z0, planes in
                    Compute.parallelFor(planes) { i in
                        var s = shape(g)
                        c2f_transpose_grad(dys, dyt, &s, Int32(z0), Int32(z0 + i), Int32(z0 + i + 1))
                    }
                    Compute.parallelFor(chunks) { c in
                        var s = shape(g)
                        let (q0, q1) = bounds(c)
                        if z0 == 0 { (dwtp + Int(q0) * cp).update(repeating: 0, count: Int(q1 - q0) * cp) }
                        if q0 < q1 { c2f_conv_weight_grad_t(buf, dyt, dwtp, &s, Int32(planes), q0, q1) }
                    }
                }
            }
            // dwt [ci·taps][cp] back to dw [cout][ci·taps], output channels split over the pool.
            let parts = min(g.cout, 2 * Compute.threads)
            Compute.parallelFor(parts) { p in
                for co in (g.cout * p / parts)..<(g.cout * (p + 1) / parts) {
                    let row = dwp + co * pairs
                    for q in 0..<pairs { row[q] += dwtp[q * cp + co] }
                }
            }
        }
    }

    /// Chunks along z of a stride-1 weight gradient of ≤ 16 output channels (`zChunkedWeightGradient`):
    /// one per 8 output planes, at most 8, from the depth only.
    static func zChunks(_ g: ConvGeometry) -> Int { zChunkedGradients ? max(1, min(8, g.od / 8)) : 1 }

    /// C2FNAS_DW_ZCHUNKS=0 keeps weight gradients in one sum split by (input channel, tap) (A/B runs).
    static let zChunkedGradients = ProcessInfo.processInfo.environment["C2FNAS_DW_ZCHUNKS"] != "0"

    /// dw += dW of one sample as a sum of partial gradients over `zChunks` runs of output planes, one
    /// pool item each, merged in run order. Each item pads its own x and dY slabs and runs all
    /// (input channel, tap) pairs over them, so a core reads the z-range it wrote in the ops before
    /// (the runs are listed along z and the pool claims them from both ends); split by pairs, both
    /// cores read the whole slab, half of it from the other core's cache, which crosses the host's
    /// fabric when the vCPUs are far apart. The run count depends only on the depth and the slabs
    /// inside a run on one core's budget (`weightGradient`), so the sums are the same on any thread
    /// count (one thread runs the items in order).
    /// `halves` forces the channel halving below (tests); by default it follows the thread count.
    static func zChunkedWeightGradient(_ xs: UnsafePointer<Float>, _ dys: UnsafePointer<Float>,
                                       _ dwp: UnsafeMutablePointer<Float>, _ g: ConvGeometry, budgetBytes: Int,
                                       halves forced: Int? = nil) {
        let chunks = zChunks(g), count = g.cout * g.cin * g.kernelVolume
        let per = slabPlanes(g, channels: g.cin + g.cout, budgetBytes: budgetBytes)
        var s = shape(g)
        let slabCount = slabFloats(g, channels: g.cin, planes: per)
        // dY rows start on a cache line (16 floats), and so does each thread's scratch.
        let each = ColumnWorkspace.slotStride((slabCount + Int(c2f_grad_rows_floats(&s, Int32(per))) + 31) / 16 * 16)
        let partials = (count + 15) / 16 * 16
        let taps = g.kernelVolume, pairs = g.cin * taps
        // Runs that do not split evenly over the threads (3 runs at 24³ on 2 threads left one core
        // idle a third of the call: 2.8 ms a step of join waits in the 48³ step) are halved by input
        // channels: each half pads only its channels' x and sums only its pairs (every pair's sum is
        // the same whatever range it is computed in), at the price of padding the run's dY twice.
        let halves = forced ?? (Compute.threads > 1 && chunks % Compute.threads != 0 && g.cin >= 2 ? 2 : 1)
        ColumnWorkspace.with(count: Compute.threads * each + chunks * partials + 16) { raw in
            let base = raw + (16 - (Int(bitPattern: raw) / 4) % 16) % 16
            let sums = base + Compute.threads * each
            Compute.parallelFor(chunks * halves) { item, slot in
                let k = item / halves, h = item % halves
                let c0 = g.cin * h / halves, c1 = g.cin * (h + 1) / halves
                let buf = base + slot * each, dyp = buf + (slabCount + 15) / 16 * 16
                // This item's pairs of the run's partial ([cout][pairs]; the other half zeroes its own).
                let part = sums + k * partials
                for co in 0..<g.cout { (part + co * pairs + c0 * taps).update(repeating: 0, count: (c1 - c0) * taps) }
                var s = shape(g)
                var z0 = g.od * k / chunks
                let end = g.od * (k + 1) / chunks
                while z0 < end {
                    let planes = min(per, end - z0)
                    c2f_pad_slab(xs, buf, &s, Int32(g.cin), Int32(c0), Int32(c1), Int32(z0), Int32(planes), 0, 1)
                    c2f_pad_grad_rows(dys, dyp, &s, Int32(z0), Int32(planes), 0, Int32(g.cout))
                    c2f_conv_weight_grad_dot_flat(buf, dyp, part, &s, Int32(planes), Int32(c0 * taps), Int32(c1 * taps))
                    z0 += planes
                }
            }
            addRunSums(sums, runs: chunks, stride: partials, count: count, into: dwp)
        }
    }
}
