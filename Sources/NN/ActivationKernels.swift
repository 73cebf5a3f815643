// ReLU forward and backward as single vectorised passes over contiguous storage, split over the pool
// in fixed chunks. (A per-element closure through the pool was not inlined: ReLU then cost a quarter
// of the convolutions; see DECISIONS.)

import Tensor

enum Activation {
    /// max(x, 0); NaN passes through (x < 0 is false for NaN), so the loss check still sees it.
    static func relu(_ x: Tensor) -> Tensor {
        var y = Tensor(uninitialized: x.shape)
        x.withUnsafePointer { xp in y.withUnsafeMutablePointer { yp in rectify(xp, yp, count: x.count, planes: x.planes) } }
        return y
    }

    /// max(x, 0) over x itself (NaN passes through).
    static func reluInPlace(_ x: inout Tensor) {
        let n = x.count, planes = x.planes
        x.withUnsafeMutablePointer { p in rectify(UnsafePointer(p), p, count: n, planes: planes) }
    }

    /// y = max(x, 0), 16 lanes at a time, in parallel chunks; `y` may equal `x` (each value is read
    /// before it is written, at the same index).
    private static func rectify(_ xp: UnsafePointer<Float>, _ yp: UnsafeMutablePointer<Float>, count n: Int, planes: Int) {
        Compute.parallelAlongZ(count: n, planes: planes, grain: parallelGrain) { r in
            let xs = xp + r.lowerBound, ys = yp + r.lowerBound
            let m = r.count, vecEnd = m & ~15
            let zero = SIMD16<Float>(repeating: 0)
            var i = 0
            while i < vecEnd {
                let v = UnsafeRawPointer(xs + i).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(ys + i).storeBytes(of: v.replacing(with: zero, where: v .< zero),
                                                            as: SIMD16<Float>.self)
                i &+= 16
            }
            while i < m { let v = xs[i]; ys[i] = v < 0 ? 0 : v; i &+= 1 }
        }
    }

    /// dx = dy where the ReLU output is positive, else 0.
    static func reluBackward(_ dy: Tensor, output y: Tensor) -> Tensor {
        precondition(dy.count == y.count, "relu backward: gradient \(dy.shape) vs output \(y.shape)")
        var dx = Tensor(uninitialized: y.shape)
        let n = y.count, planes = y.planes
        dy.withUnsafePointer { gp in y.withUnsafePointer { yp in dx.withUnsafeMutablePointer { dp in
            Compute.parallelAlongZ(count: n, planes: planes, grain: parallelGrain) { r in
                let gs = gp + r.lowerBound, ys = yp + r.lowerBound, ds = dp + r.lowerBound
                let m = r.count, vecEnd = m & ~15
                let zero = SIMD16<Float>(repeating: 0)
                var i = 0
                while i < vecEnd {
                    let g = UnsafeRawPointer(gs + i).loadUnaligned(as: SIMD16<Float>.self)
                    let v = UnsafeRawPointer(ys + i).loadUnaligned(as: SIMD16<Float>.self)
                    UnsafeMutableRawPointer(ds + i).storeBytes(of: zero.replacing(with: g, where: v .> zero),
                                                                as: SIMD16<Float>.self)
                    i &+= 16
                }
                while i < m { ds[i] = ys[i] > 0 ? gs[i] : 0; i &+= 1 }
            }
        } } }
        return dx
    }
}
