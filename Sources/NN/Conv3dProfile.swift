// Phase timing of the im2col conv path (for `c2fnas bench conv --phases`): where a conv's time goes.
// Runs the same tiles and GEMMs as Conv3dKernel, with a clock around each phase.

import Foundation
import Tensor

public enum Conv3dProfile {
    /// Milliseconds spent per phase of one forward + backward (dX and dW) on random data:
    /// "vol2col" (both passes), "gemm.fwd", "gemm.dW", "gemm.dX", "col2vol".
    public static func phases(input: [Int], outChannels: Int, kernel: Kernel3D, stride: Stride3D) -> [String: Double] {
        var rng = RNG(seed: 7)
        let x = Tensor.randomNormal(input, rng: &rng)
        let w = Tensor.randomNormal([outChannels, input[1], kernel.d, kernel.h, kernel.w], rng: &rng)
        let g = ConvGeometry(input: x.shape, weight: w.shape, stride: stride)
        let dy = Tensor.randomNormal(g.outputShape, rng: &rng)
        var y = Tensor(uninitialized: g.outputShape)
        var dx = Tensor.zeros(x.shape)
        var dw = Tensor.zeros(w.shape)
        var times: [String: Double] = [:]
        func timed(_ key: String, _ body: () -> Void) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            times[key, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
        }
        let k = g.columnRows, ov = g.outVoxels
        let rowsPerTile = Conv3dKernel.tileRows(g, budgetBytes: Conv3dEngine.columnBudgetBytes)
        x.withUnsafePointer { xp in w.withUnsafePointer { wp in dy.withUnsafePointer { dyp in
        y.withUnsafeMutablePointer { yp in dx.withUnsafeMutablePointer { dxp in dw.withUnsafeMutablePointer { dwp in
            ColumnWorkspace.with(count: k * rowsPerTile * g.ow) { cols in
                var r0 = 0
                while r0 < g.outRows {
                    let r1 = min(g.outRows, r0 + rowsPerTile), t = (r1 - r0) * g.ow
                    timed("vol2col") { Conv3dKernel.vol2col(xp, g, rows: r0, r1, cols) }
                    timed("gemm.fwd") {
                        BLAS.sgemm(transA: false, transB: false, m: g.cout, n: t, k: k,
                                   a: wp, lda: k, b: cols, ldb: t, c: yp + r0 * g.ow, ldc: ov)
                    }
                    timed("vol2col") { Conv3dKernel.vol2col(xp, g, rows: r0, r1, cols) }
                    timed("gemm.dW") {
                        BLAS.sgemm(transA: false, transB: true, m: g.cout, n: k, k: t,
                                   a: dyp + r0 * g.ow, lda: ov, b: cols, ldb: t, beta: 1, c: dwp, ldc: k)
                    }
                    timed("gemm.dX") {
                        BLAS.sgemm(transA: true, transB: false, m: k, n: t, k: g.cout,
                                   a: wp, lda: k, b: dyp + r0 * g.ow, ldb: ov, c: cols, ldc: t)
                    }
                    timed("col2vol") { Conv3dKernel.col2vol(cols, g, rows: r0, r1, dxp) }
                    r0 = r1
                }
            }
        } } } } } }
        return times
    }
}
