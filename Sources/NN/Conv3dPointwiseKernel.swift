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
        // Weight-gradient jobs, one run of voxels: blocks of 4 outputs, each over a group of inputs
        // (whole 6-input tiles); inputs are split only when there are too few output blocks to occupy
        // the pool. Several runs: see `zRunWeightGradient`.
        let ob = (g.cout + 3) / 4, tiles = (g.cin + 5) / 6
        let groups = min(tiles, max(1, (2 * Compute.threads + ob - 1) / ob))
        for n in 0..<g.n {
            let xs = xp + n * g.cin * g.inVoxels, dys = dyp + n * g.cout * g.outVoxels
            if let dwp {
                OpProfile.measure(.convWeightGrad) {
                    let runs = zRuns(voxels: g.outVoxels)
                    if runs == 1 {
                        Compute.parallelFor(ob * groups) { t in
                            let o0 = t / groups * 4, part = t % groups
                            let i0 = min(g.cin, tiles * part / groups * 6), i1 = min(g.cin, tiles * (part + 1) / groups * 6)
                            c2f_pointwise_weight_grad(xs, dys, dwp, Int32(g.cin), Int32(g.cout), g.outVoxels, 0, g.outVoxels,
                                                      Int32(o0), Int32(min(g.cout, o0 + 4)), Int32(i0), Int32(i1))
                        }
                    } else {
                        zRunWeightGradient(xs, dys, dwp, g, runs: runs)
                    }
                }
            }
            if let dxp {
                product(dys, wp, wo: 1, wi: g.cin, bias: nil, dxp + n * g.cin * g.inVoxels,
                        inputs: g.cout, outputs: g.cin, voxels: g.outVoxels)
            }
        }
    }

    /// Runs of voxels (along z) a weight gradient sums separately: one per 6 K voxels, at most 4,
    /// from the voxel count only. At 24³ (the `cpu` preset's second level) that is two runs, so on two
    /// threads each core sums over the z-half it holds; one run there (the rule was one per 16 K) had
    /// both cores read all of x, half of it from the other core's cache (in-process A/B, 48³ step, 2
    /// threads: 1.00-1.02x, four runs; 1 thread and 64³ alike, DECISIONS.md 2026-12-08).
    static func zRuns(voxels: Int) -> Int {
        Conv3dDirectKernel.zChunkedGradients ? max(1, min(4, voxels / (6 << 10))) : 1
    }

    /// dw += Σ over runs of voxels of each run's partial gradient, merged in run order. Items are
    /// (run, block of outputs) listed run by run, so with the pool's claims from both ends each core
    /// reads the voxels of its end of the volume, which the ops before left in its cache; split by
    /// outputs alone, both cores read all of x and dY, half of it from the other core's cache (see
    /// `Conv3dDirectKernel.zChunkedWeightGradient`). Same sums on any thread count.
    private static func zRunWeightGradient(_ xs: UnsafePointer<Float>, _ dys: UnsafePointer<Float>,
                                           _ dwp: UnsafeMutablePointer<Float>, _ g: ConvGeometry, runs: Int) {
        let count = g.cout * g.cin, stride = (count + 15) / 16 * 16
        let blocks = (g.cout + 3) / 4, voxels = g.outVoxels
        ColumnWorkspace.with(count: runs * stride) { part in
            Compute.parallelFor(runs * blocks) { t in
                let r = t / blocks, o0 = t % blocks * 4, o1 = min(g.cout, o0 + 4)
                let v0 = voxels * r / runs / 16 * 16, v1 = r == runs - 1 ? voxels : voxels * (r + 1) / runs / 16 * 16
                let rows = part + r * stride + o0 * g.cin
                rows.update(repeating: 0, count: (o1 - o0) * g.cin)
                c2f_pointwise_weight_grad(xs, dys, part + r * stride, Int32(g.cin), Int32(g.cout), voxels, v0, v1,
                                          Int32(o0), Int32(o1), 0, Int32(g.cin))
            }
            addRunSums(part, runs: runs, stride: stride, count: count, into: dwp)
        }
    }
}
