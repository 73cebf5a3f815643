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
import Tensor

enum Conv3dDirectKernel {
    /// The CPU runs the AVX-512 kernels.
    static let available = c2f_conv_direct_available() != 0

    /// Forward and weight gradient, on an AVX-512 CPU: any conv but the 1x1x1 stride-1 one (a plain
    /// GEMM) and those with a stride along an axis of kernel extent 1 in y or x (the padded copy would
    /// hold rows or columns no tap reads; im2col gathers only what it needs and measured faster).
    static func applies(_ g: ConvGeometry) -> Bool {
        available && !g.isPointwise && (g.sw == 1 || g.kw > 1) && (g.sh == 1 || g.kh > 1)
    }

    /// The input gradient runs here for stride 1 (a forward conv with transposed weights).
    static func handlesInputGradient(_ g: ConvGeometry) -> Bool { g.sd == 1 && g.sh == 1 && g.sw == 1 }

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
    static func packedWeights(_ wp: UnsafePointer<Float>, _ g: ConvGeometry, transposed: Bool) -> Tensor {
        var s = shape(g)
        let outs = transposed ? g.cin : g.cout, ins = transposed ? g.cout : g.cin
        var out = Tensor.zeros([(outs + 7) / 8 * 8 * ins * g.kernelVolume])
        out.withUnsafeMutableBufferPointer { c2f_pack_weights(wp, $0.baseAddress!, &s, transposed ? 1 : 0) }
        return out
    }

    /// Calls `body(z0, planes)` for each slab of at most `per` output planes, after copying `src`
    /// (`channels` channels of one sample) into the padded slab buffer `buf`.
    private static func slabs(_ src: UnsafePointer<Float>, channels: Int, _ g: ConvGeometry, per: Int,
                              into buf: UnsafeMutablePointer<Float>, _ body: (Int, Int) -> Void) {
        var z0 = 0
        while z0 < g.od {
            let planes = min(per, g.od - z0)
            let parts = min(channels, Compute.threads)
            Compute.parallelFor(parts) { p in
                var s = shape(g)
                let c0 = channels * p / parts, c1 = channels * (p + 1) / parts
                c2f_pad_slab(src, buf, &s, Int32(channels), Int32(c0), Int32(c1), Int32(z0), Int32(planes))
            }
            body(z0, planes)
            z0 += planes
        }
    }

    /// Whether the forward (and stride-1 dX) conv takes a plane's output positions in the padded
    /// row layout (c2f_conv_forward_flat): stride 1, and more of its vector lanes hold outputs than
    /// with one row per vector (short rows: 4³ fills 67 % instead of 25 %, 8³ 80 % instead of 50 %).
    static func usesFlatRows(_ g: ConvGeometry) -> Bool {
        guard g.sd == 1 && g.sh == 1 && g.sw == 1 else { return false }
        let row = g.w + g.kw - 1
        let perRow = Double(g.ow) / Double(16 * ((g.ow + 15) / 16))
        let flat = Double(g.oh * g.ow) / Double(16 * ((g.oh * row + 15) / 16))
        return flat > perRow * 1.05
    }

    static func slabFloats(_ g: ConvGeometry, channels: Int, planes: Int) -> Int {
        var s = shape(g)
        return c2f_slab_floats(&s, Int32(channels), Int32(planes))
    }

    /// conv of `src` (inputs channels, padded slab by slab) with packed weights into `dst` (outputs channels).
    private static func convolve(_ src: UnsafePointer<Float>, inputs: Int, _ packed: Tensor, outputs: Int,
                                 bias: UnsafePointer<Float>?, _ dst: UnsafeMutablePointer<Float>,
                                 _ g: ConvGeometry, budgetBytes: Int) {
        packed.withUnsafeBufferPointer { pk in
            let per = slabPlanes(g, channels: inputs, budgetBytes: budgetBytes)
            ColumnWorkspace.with(count: slabFloats(g, channels: inputs, planes: per)) { buf in
                slabs(src, channels: inputs, g, per: per, into: buf) { z0, planes in
                    // Work items are planes, split further by output-channel blocks when a slab has
                    // fewer than two planes per thread.
                    let blocks = (outputs + 7) / 8
                    let split = min(blocks, max(1, (2 * Compute.threads + planes - 1) / planes))
                    let flat = usesFlatRows(g)
                    Compute.parallelFor(planes * split) { i in
                        var s = shape(g)
                        let z = Int32(z0 + i / split), part = i % split
                        let b0 = Int32(blocks * part / split), b1 = Int32(blocks * (part + 1) / split)
                        if flat {
                            c2f_conv_forward_flat(buf, pk.baseAddress!, bias, dst, &s, Int32(inputs), Int32(outputs),
                                                  Int32(z0), Int32(planes), z, z + 1, b0, b1)
                        } else {
                            c2f_conv_forward(buf, pk.baseAddress!, bias, dst, &s, Int32(inputs), Int32(outputs),
                                             Int32(z0), Int32(planes), z, z + 1, b0, b1)
                        }
                    }
                }
            }
        }
    }

    static func forward(_ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                        _ yp: UnsafeMutablePointer<Float>, _ g: ConvGeometry, budgetBytes: Int) {
        let packed = packedWeights(wp, g, transposed: false)
        for n in 0..<g.n {
            convolve(xp + n * g.cin * g.inVoxels, inputs: g.cin, packed, outputs: g.cout, bias: bias,
                     yp + n * g.cout * g.outVoxels, g, budgetBytes: budgetBytes)
        }
    }

    /// dX is overwritten, dW accumulated into.
    static func backward(_ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>, _ dyp: UnsafePointer<Float>,
                         _ g: ConvGeometry, dx dxp: UnsafeMutablePointer<Float>?, dw dwp: UnsafeMutablePointer<Float>?,
                         budgetBytes: Int) {
        let packed = dxp == nil ? Tensor.zeros([0]) : packedWeights(wp, g, transposed: true)
        for n in 0..<g.n {
            let xs = xp + n * g.cin * g.inVoxels, dys = dyp + n * g.cout * g.outVoxels
            if let dwp { OpProfile.measure(.convWeightGrad) { weightGradient(xs, dys, dwp, g, budgetBytes: budgetBytes) } }
            if let dxp {
                convolve(dys, inputs: g.cout, packed, outputs: g.cin, bias: nil,
                         dxp + n * g.cin * g.inVoxels, g, budgetBytes: budgetBytes)
            }
        }
    }

    /// dw += dW of one sample: per slab, dY is transposed to [voxel][cout rounded to 16] and the
    /// (input channel, tap) pairs are spread over the pool in chunks of whole micro-tiles (24 pairs).
    private static func weightGradient(_ xs: UnsafePointer<Float>, _ dys: UnsafePointer<Float>,
                                       _ dwp: UnsafeMutablePointer<Float>, _ g: ConvGeometry, budgetBytes: Int) {
        let taps = g.kernelVolume, pairs = g.cin * taps
        let cp = (g.cout + 15) / 16 * 16, hw = g.oh * g.ow
        let chunk = max(24, (pairs / (4 * Compute.threads) + 23) / 24 * 24)
        let chunks = (pairs + chunk - 1) / chunk
        if g.cout <= 8 {
            // Half-empty channel vectors: dot products along x instead, straight into dw.
            let per = slabPlanes(g, channels: g.cin, budgetBytes: budgetBytes)
            ColumnWorkspace.with(count: slabFloats(g, channels: g.cin, planes: per)) { buf in
                slabs(xs, channels: g.cin, g, per: per, into: buf) { z0, planes in
                    Compute.parallelFor(chunks) { c in
                        var s = shape(g)
                        c2f_conv_weight_grad_dot(buf, dys, dwp, &s, Int32(z0), Int32(planes),
                                                 Int32(c * chunk), Int32(min(pairs, (c + 1) * chunk)))
                    }
                }
            }
            return
        }
        // The budget holds the padded x slab and the transposed dY slab.
        let per = slabPlanes(g, channels: g.cin + cp, budgetBytes: budgetBytes)
        var dwt = Tensor.zeros([pairs * cp])
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
                        c2f_conv_weight_grad_t(buf, dyt, dwtp, &s, Int32(planes),
                                               Int32(c * chunk), Int32(min(pairs, (c + 1) * chunk)))
                    }
                }
            }
            // dwt [ci·taps][cp] back to dw [cout][ci·taps].
            for co in 0..<g.cout {
                let row = dwp + co * pairs
                for q in 0..<pairs { row[q] += dwtp[q * cp + co] }
            }
        }
    }
}
