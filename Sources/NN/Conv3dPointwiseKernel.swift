// The 1x1x1 stride-1 conv (a per-voxel matrix product) as AVX-512 kernels (CConvKernels/pointwise.c),
// on CPUs that run the direct kernels. With 8-128 channels a GEMM call spends most of its time packing
// a tiny matrix, and OpenBLAS does not thread these shapes (measured in `bench step --profile`: 24-48
// GFLOP/s and no 2-thread gain). Forward and dX split the voxels over the pool; dW splits blocks of
// 4 outputs (and groups of inputs), each entry summed over all voxels by one call in voxel order, so
// the result does not depend on the thread count.

import CConvKernels
import Tensor

enum Conv3dPointwiseKernel {
    static func applies(_ g: ConvGeometry) -> Bool { Conv3dDirectKernel.available && g.isPointwise }

    /// Whether the voxels are split over the pool: only when the conv has at least two ranges of
    /// about 256 K multiply-adds (a 64-channel 16³ conv splits, a 16-channel 8³ one does not).
    private static func splitsVoxels(_ voxels: Int, macsPerVoxel: Int) -> Bool {
        Compute.threads > 1 && voxels / 96 >= 2 && voxels * macsPerVoxel / (256 << 10) >= 2
    }

    private static func product(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, wo: Int, wi: Int,
                                bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>,
                                inputs: Int, outputs: Int, voxels: Int) {
        let tiles = (voxels + 95) / 96
        // Guided ranges of whole 96-voxel tiles (equal ranges, four per thread, left the caller
        // waiting 5 % of a 16->16 32³ call at the join), none under 64 K multiply-adds.
        let least = max(1, (64 << 10) / (96 * max(1, inputs * outputs)))
        let threads = splitsVoxels(voxels, macsPerVoxel: inputs * outputs) ? Compute.threads : 1
        let split = GuidedSplit(count: tiles, threads: threads, minimum: least)
        Compute.parallelFor(split.count) { c in
            let v0 = min(voxels, split[c].lowerBound * 96), v1 = min(voxels, split[c].upperBound * 96)
            if v0 < v1 {
                c2f_pointwise_forward(x, w, wo, wi, bias, y, Int32(inputs), Int32(outputs), voxels, v0, v1)
            }
        }
    }

    static func forward(_ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                        _ yp: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        for n in 0..<g.n {
            product(xp + n * g.cin * g.inVoxels, wp, wo: g.cin, wi: 1, bias: bias, yp + n * g.cout * g.outVoxels,
                    inputs: g.cin, outputs: g.cout, voxels: g.outVoxels)
        }
    }

    /// dX is overwritten, dW accumulated into.
    static func backward(_ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>, _ dyp: UnsafePointer<Float>,
                         _ g: ConvGeometry, dx dxp: UnsafeMutablePointer<Float>?, dw dwp: UnsafeMutablePointer<Float>?) {
        // Jobs: blocks of 4 outputs, each over a group of inputs (whole 6-input tiles); inputs are
        // split only when there are too few output blocks to occupy the pool.
        let ob = (g.cout + 3) / 4, tiles = (g.cin + 5) / 6
        let groups = min(tiles, max(1, (2 * Compute.threads + ob - 1) / ob))
        for n in 0..<g.n {
            let xs = xp + n * g.cin * g.inVoxels, dys = dyp + n * g.cout * g.outVoxels
            if let dwp {
                OpProfile.measure(.convWeightGrad) {
                    Compute.parallelFor(ob * groups) { t in
                        let o0 = t / groups * 4, part = t % groups
                        let i0 = min(g.cin, tiles * part / groups * 6), i1 = min(g.cin, tiles * (part + 1) / groups * 6)
                        c2f_pointwise_weight_grad(xs, dys, dwp, Int32(g.cin), Int32(g.cout), g.outVoxels,
                                                  Int32(o0), Int32(min(g.cout, o0 + 4)), Int32(i0), Int32(i1))
                    }
                }
            }
            if let dxp {
                product(dys, wp, wo: 1, wi: g.cin, bias: nil, dxp + n * g.cin * g.inVoxels,
                        inputs: g.cout, outputs: g.cin, voxels: g.outVoxels)
            }
        }
    }
}
