// Conv3d for stride 1 with a depth kernel kd > 1 (3x3x3 and 1x1x3 in this project): in-plane im2col
// plus kd shifted GEMMs, instead of a full Cin·kd·kh·kw column matrix.
//
// With stride 1 the output plane zo reads input planes zo - pd + a (a = 0..<kd). The column matrix of
// the in-plane taps (Cin·kh·kw rows, one column per input voxel, planes contiguous) therefore serves
// every depth tap: tap a is the same matrix shifted by (a - pd) planes, i.e. a pointer offset.
// Tiles are ranges of input planes; each tile's columns are built once and feed the kd output
// ranges they touch (so y starts from zero and every tap accumulates).
//   forward:  Y[:, zo]  = Σ_a W_a · cols[:, zo - pd + a]     (W_a = W[:, :, a] as Cout × Cin·kh·kw)
//   dW_a     += dY[:, zo] · cols[:, zo - pd + a]ᵀ
//   dcols[:, zi] = Σ_a W_aᵀ · dY[:, zi + pd - a], then in-plane col2im into dX
// The column matrix is kd times smaller than the classic one, so vol2col and col2vol move kd times
// less memory; a 1x1xk kernel (kh = kw = 1) needs no column matrix at all (the GEMMs read x and
// write dX directly).

import Tensor

enum Conv3dPlaneKernel {
    /// Stride 1 everywhere and a depth kernel: the case this path handles.
    static func applies(_ g: ConvGeometry) -> Bool {
        g.isStride1 && g.kd > 1
    }

    /// The in-plane (kd = 1) geometry whose columns this path uses.
    static func planeGeometry(_ g: ConvGeometry) -> ConvGeometry {
        ConvGeometry(input: [g.n, g.cin, g.d, g.h, g.w], weight: [g.cout, g.cin, 1, g.kh, g.kw], stride: .one)
    }

    /// Input planes per tile: their columns fit the budget; for a 1x1 in-plane kernel (no columns),
    /// the budget holds the planes of x and y a tile's GEMMs touch.
    static func tilePlanes(_ g: ConvGeometry, budgetBytes: Int) -> Int {
        let pointwise = g.kh == 1 && g.kw == 1
        let perPlane = (pointwise ? g.cin + g.cout : g.cin * g.kh * g.kw) * g.h * g.w * MemoryLayout<Float>.stride
        let planes = max(1, budgetBytes / max(1, perPlane))
        let tiles = (g.d + planes - 1) / planes
        return (g.d + tiles - 1) / tiles
    }

    /// W [Cout, Cin, kd, khw] regrouped as kd matrices W_a [Cout × Cin·khw].
    static func splitWeights(_ wp: UnsafePointer<Float>, _ g: ConvGeometry) -> [Float] {
        let khw = g.kh * g.kw, kp = g.cin * khw
        var out = [Float](repeating: 0, count: g.kd * g.cout * kp)
        out.withUnsafeMutableBufferPointer { o in
            for a in 0..<g.kd { for co in 0..<g.cout { for ci in 0..<g.cin {
                let src = wp + ((co * g.cin + ci) * g.kd + a) * khw
                let dst = o.baseAddress! + (a * g.cout + co) * kp + ci * khw
                dst.update(from: src, count: khw)
            } } }
        }
        return out
    }

    /// Valid range of `lo..<hi` planes p for which p + shift is a plane of a volume of depth d.
    @inline(__always)
    static func shiftedRange(_ lo: Int, _ hi: Int, shift: Int, depth d: Int) -> (Int, Int) {
        let a = max(lo, -shift), b = min(hi, d - shift)
        return (a, max(a, b))
    }

    /// Depth taps in GEMM order: the centre tap (valid for every plane) first, so it can overwrite.
    static func tapOrder(_ g: ConvGeometry) -> [Int] { [g.pd] + (0..<g.kd).filter { $0 != g.pd } }

    static func forward(_ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>, _ yp: UnsafeMutablePointer<Float>,
                        _ g: ConvGeometry, budgetBytes: Int) {
        let g2 = planeGeometry(g)
        let kp = g2.columnRows, hw = g.h * g.w, vox = g.inVoxels
        let wa = splitWeights(wp, g)
        let pointwise = g.kh == 1 && g.kw == 1
        let tile = tilePlanes(g, budgetBytes: budgetBytes)
        // Every output plane gets kd contributions from different column tiles: start from zero.
        yp.update(repeating: 0, count: g.n * g.cout * vox)
        wa.withUnsafeBufferPointer { wab in
        ColumnWorkspace.with(count: pointwise ? 1 : kp * tile * hw) { cols in
            for s in 0..<g.n {
                let xs = xp + s * g.cin * vox, ys = yp + s * g.cout * vox
                var q0 = 0
                while q0 < g.d {
                    // Input planes q0..<q1 feed output plane zo = zi - shift through tap a.
                    let q1 = min(g.d, q0 + tile)
                    let (base, ldb) = columns(xs, g, g2, q0, q1, cols, pointwise)
                    for a in 0..<g.kd {
                        let shift = a - g.pd
                        let (lo, hi) = shiftedRange(q0, q1, shift: -shift, depth: g.d)
                        if hi == lo { continue }
                        BLAS.sgemm(transA: false, transB: false, m: g.cout, n: (hi - lo) * hw, k: kp,
                                   a: wab.baseAddress! + a * g.cout * kp, lda: kp,
                                   b: base + (lo - q0) * hw, ldb: ldb,
                                   beta: 1, c: ys + (lo - shift) * hw, ldc: vox)
                    }
                    q0 = q1
                }
            }
        } }
    }

    /// In-plane columns of input planes q0..<q1 (kp rows) and their row stride; x itself for 1x1 in-plane.
    @inline(__always)
    static func columns(_ xs: UnsafePointer<Float>, _ g: ConvGeometry, _ g2: ConvGeometry, _ q0: Int, _ q1: Int,
                        _ cols: UnsafeMutablePointer<Float>, _ pointwise: Bool) -> (UnsafePointer<Float>, Int) {
        let hw = g.h * g.w
        if pointwise { return (xs + q0 * hw, g.inVoxels) }
        Conv3dKernel.vol2col(xs, g2, rows: q0 * g.h, q1 * g.h, cols)
        return (UnsafePointer(cols), (q1 - q0) * hw)
    }

    static func backward(_ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>, _ dyp: UnsafePointer<Float>,
                         _ g: ConvGeometry, dx dxp: UnsafeMutablePointer<Float>?, dw dwp: UnsafeMutablePointer<Float>?,
                         budgetBytes: Int) {
        let g2 = planeGeometry(g)
        let kp = g2.columnRows, hw = g.h * g.w, vox = g.inVoxels, khw = g.kh * g.kw
        let wa = splitWeights(wp, g)
        let order = tapOrder(g)
        let pointwise = g.kh == 1 && g.kw == 1
        let tile = tilePlanes(g, budgetBytes: budgetBytes)
        var dwa = [Float](repeating: 0, count: dwp == nil ? 0 : g.kd * g.cout * kp)
        wa.withUnsafeBufferPointer { wab in dwa.withUnsafeMutableBufferPointer { dwab in
        ColumnWorkspace.with(count: pointwise ? 1 : kp * tile * hw) { cols in
            for s in 0..<g.n {
                let xs = xp + s * g.cin * vox, dys = dyp + s * g.cout * vox
                var q0 = 0
                while q0 < g.d {
                    // Input planes q0..<q1: plane zi meets dY plane zi - shift through tap a.
                    let q1 = min(g.d, q0 + tile)
                    if dwp != nil {
                        let (base, ldb) = columns(xs, g, g2, q0, q1, cols, pointwise)
                        for a in 0..<g.kd {
                            let shift = a - g.pd
                            let (lo, hi) = shiftedRange(q0, q1, shift: -shift, depth: g.d)
                            if hi == lo { continue }
                            BLAS.sgemm(transA: false, transB: true, m: g.cout, n: kp, k: (hi - lo) * hw,
                                       a: dys + (lo - shift) * hw, lda: vox, b: base + (lo - q0) * hw, ldb: ldb,
                                       beta: 1, c: dwab.baseAddress! + a * g.cout * kp, ldc: kp)
                        }
                    }
                    if let dxp {
                        let dxs = dxp + s * g.cin * vox
                        let (dst, ldc): (UnsafeMutablePointer<Float>, Int) =
                            pointwise ? (dxs + q0 * hw, vox) : (cols, (q1 - q0) * hw)
                        for a in order {
                            let shift = a - g.pd
                            let (lo, hi) = shiftedRange(q0, q1, shift: -shift, depth: g.d)
                            if hi == lo { continue }
                            BLAS.sgemm(transA: true, transB: false, m: kp, n: (hi - lo) * hw, k: g.cout,
                                       a: wab.baseAddress! + a * g.cout * kp, lda: kp,
                                       b: dys + (lo - shift) * hw, ldb: vox,
                                       beta: a == g.pd && !pointwise ? 0 : 1,
                                       c: dst + (lo - q0) * hw, ldc: ldc)
                        }
                        if !pointwise { Conv3dKernel.col2vol(cols, g2, rows: q0 * g.h, q1 * g.h, dxs) }
                    }
                    q0 = q1
                }
            }
        } } }
        if let dwp {
            // dW_a [a][co][ci·khw] back to [co][ci][a][khw].
            dwa.withUnsafeBufferPointer { dwab in
                for a in 0..<g.kd { for co in 0..<g.cout { for ci in 0..<g.cin {
                    let src = dwab.baseAddress! + (a * g.cout + co) * kp + ci * khw
                    let dst = dwp + ((co * g.cin + ci) * g.kd + a) * khw
                    for t in 0..<khw { dst[t] += src[t] }
                } } }
            }
        }
    }
}
