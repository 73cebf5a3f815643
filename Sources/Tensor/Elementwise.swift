// Elementwise kernels and deterministic reductions on contiguous Float buffers.
//
// Loops index through hoisted base pointers with wrapping arithmetic so -O vectorises them.
// Large arrays are split into fixed chunks (independent of the thread count) and run on the pool.
// Reductions accumulate blocks in SIMD Float lanes, then combine blocks in Double, in index order:
// the result is bit-identical for any thread count and any scheduling.

import CPlaneKernels

/// Elements below which a loop stays on the calling thread (a fork/join costs ~10-100 µs).
public let parallelGrain = 1 << 16

public enum Kernels {
    /// The reductions (and NN's normalisation passes) run on the AVX-512 kernels of CPlaneKernels:
    /// the Swift loops below compile to SSE without global -m flags.
    public static let planeKernels = c2f_plane_kernels_available() != 0

    /// y[i] += x[i]
    public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count n: Int, planes: Int = 1) {
        Compute.parallelAlongZ(count: n, planes: planes, grain: parallelGrain) { r in
            let xs = x + r.lowerBound, ys = y + r.lowerBound
            for i in 0..<r.count { ys[i] += xs[i] }
        }
    }

    /// y[i] += a * x[i]
    public static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int, planes: Int = 1) {
        Compute.parallelAlongZ(count: n, planes: planes, grain: parallelGrain) { r in
            let xs = x + r.lowerBound, ys = y + r.lowerBound
            for i in 0..<r.count { ys[i] += a * xs[i] }
        }
    }

    /// y[i] *= a
    public static func scale(_ y: UnsafeMutablePointer<Float>, by a: Float, count n: Int, planes: Int = 1) {
        Compute.parallelAlongZ(count: n, planes: planes, grain: parallelGrain) { r in
            let ys = y + r.lowerBound
            for i in 0..<r.count { ys[i] *= a }
        }
    }

    /// out[i] = a[i] + b[i]
    public static func sum(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                           into out: UnsafeMutablePointer<Float>, count n: Int, planes: Int = 1) {
        Compute.parallelAlongZ(count: n, planes: planes, grain: parallelGrain) { r in
            let xs = a + r.lowerBound, ys = b + r.lowerBound, os = out + r.lowerBound
            for i in 0..<r.count { os[i] = xs[i] + ys[i] }
        }
    }

    /// out[i] = x[i] (parallel copy for large arrays).
    public static func copy(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count n: Int, planes: Int = 1) {
        Compute.parallelAlongZ(count: n, planes: planes, grain: 4 * parallelGrain) { r in
            (out + r.lowerBound).update(from: x + r.lowerBound, count: r.count)
        }
    }

    /// out[i] = Σ_k inputs[k][i], one pass over every input.
    public static func sum(_ inputs: [UnsafePointer<Float>], into out: UnsafeMutablePointer<Float>, count n: Int,
                           planes: Int = 1) {
        precondition(!inputs.isEmpty, "Kernels.sum: needs at least one input")
        inputs.withUnsafeBufferPointer { ins in
            let k = ins.count
            Compute.parallelAlongZ(count: n, planes: planes, grain: parallelGrain) { r in
                let os = out + r.lowerBound
                let a = ins[0] + r.lowerBound
                if k == 1 { os.update(from: a, count: r.count); return }
                let b = ins[1] + r.lowerBound
                for i in 0..<r.count { os[i] = a[i] + b[i] }
                for j in 2..<max(2, k) {
                    let c = ins[j] + r.lowerBound
                    for i in 0..<r.count { os[i] += c[i] }
                }
            }
        }
    }

    /// Σ x[i] over one block, serial, SIMD lanes then Double.
    public static func serialSum(_ x: UnsafePointer<Float>, count n: Int) -> Double {
        if planeKernels { return c2f_plane_sum(x, n) }
        var total = 0.0
        var start = 0
        let block = 4096
        while start < n {
            let m = min(block, n - start)
            let p = x + start
            var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
            var i = 0
            let raw = UnsafeRawPointer(p)
            while i + 16 <= m {
                acc0 += raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
                acc1 += raw.loadUnaligned(fromByteOffset: (i &+ 8) &* 4, as: SIMD8<Float>.self)
                i &+= 16
            }
            var s = Double((acc0 + acc1).sum())
            while i < m { s += Double(p[i]); i += 1 }
            total += s
            start += m
        }
        return total
    }

    /// Σ x[i]·y[i] over one block, serial.
    public static func serialDot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count n: Int) -> Double {
        if planeKernels { return c2f_plane_dot(x, y, n) }
        var total = 0.0
        var start = 0
        let block = 4096
        while start < n {
            let m = min(block, n - start)
            let rx = UnsafeRawPointer(x + start), ry = UnsafeRawPointer(y + start)
            var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
            var i = 0
            while i + 16 <= m {
                acc0 += rx.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
                    * ry.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
                acc1 += rx.loadUnaligned(fromByteOffset: (i &+ 8) &* 4, as: SIMD8<Float>.self)
                    * ry.loadUnaligned(fromByteOffset: (i &+ 8) &* 4, as: SIMD8<Float>.self)
                i &+= 16
            }
            var s = Double((acc0 + acc1).sum())
            while i < m { s += Double(x[start + i]) * Double(y[start + i]); i += 1 }
            total += s
            start += m
        }
        return total
    }

    /// Σ (x[i] - c)² over one block, serial.
    public static func serialSquaredDeviation(_ x: UnsafePointer<Float>, from c: Float, count n: Int) -> Double {
        if planeKernels { return c2f_plane_squared_deviation(x, c, n) }
        var total = 0.0
        var start = 0
        let block = 4096
        let cv = SIMD8<Float>(repeating: c)
        while start < n {
            let m = min(block, n - start)
            let raw = UnsafeRawPointer(x + start)
            var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
            var i = 0
            while i + 16 <= m {
                let a = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self) - cv
                let b = raw.loadUnaligned(fromByteOffset: (i &+ 8) &* 4, as: SIMD8<Float>.self) - cv
                acc0 += a * a
                acc1 += b * b
                i &+= 16
            }
            var s = Double((acc0 + acc1).sum())
            while i < m { let d = Double(x[start + i] - c); s += d * d; i += 1 }
            total += s
            start += m
        }
        return total
    }

    /// Deterministic parallel reduction: `partial` runs on fixed chunks, results are added in order.
    public static func reduce(count n: Int, grain: Int = parallelGrain,
                              _ partial: (Range<Int>) -> Double) -> Double {
        let chunks = Compute.chunkCount(count: n, grain: grain)
        if chunks <= 1 { return n > 0 ? partial(0..<n) : 0 }
        var parts = [Double](repeating: 0, count: chunks)
        parts.withUnsafeMutableBufferPointer { pp in
            let base = pp.baseAddress!
            Compute.parallelChunks(count: n, grain: grain) { i, r in base[i] = partial(r) }
        }
        return parts.reduce(0, +)
    }
}

extension Tensor {
    /// The N·C planes of an N, C, spatial… tensor (1 below rank 3): maps over it split along z.
    public var planes: Int { Tensor.planes(of: shape) }

    /// self += other (same element count).
    public mutating func add(_ other: Tensor) {
        precondition(count == other.count, "Tensor.add: shapes \(shape) and \(other.shape) differ")
        let n = count, planes = planes
        other.withUnsafePointer { x in withUnsafeMutablePointer { y in Kernels.add(x, into: y, count: n, planes: planes) } }
    }

    /// self += a · other (same element count).
    public mutating func add(_ other: Tensor, scaledBy a: Float) {
        precondition(count == other.count, "Tensor.add(scaledBy:): shapes \(shape) and \(other.shape) differ")
        let n = count, planes = planes
        other.withUnsafePointer { x in withUnsafeMutablePointer { y in Kernels.axpy(a, x, y, count: n, planes: planes) } }
    }

    /// self *= a
    public mutating func scale(by a: Float) {
        let n = count, planes = planes
        withUnsafeMutablePointer { Kernels.scale($0, by: a, count: n, planes: planes) }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "Tensor +: shapes \(a.shape) and \(b.shape) differ")
        var out = Tensor(uninitialized: a.shape)
        a.withUnsafePointer { x in b.withUnsafePointer { y in
            out.withUnsafeMutablePointer { o in Kernels.sum(x, y, into: o, count: a.count, planes: a.planes) } } }
        return out
    }

    /// Σ of same-shape tensors in one pass (the shape of the first).
    public static func sum(_ ts: [Tensor]) -> Tensor {
        precondition(!ts.isEmpty, "Tensor.sum: needs at least one tensor")
        for t in ts { precondition(t.count == ts[0].count, "Tensor.sum: shapes \(ts[0].shape) and \(t.shape) differ") }
        if ts.count == 1 { return ts[0] }
        var out = Tensor(uninitialized: ts[0].shape)
        let n = out.count
        withExtendedLifetime(ts) {
            let ptrs = ts.map { t in t.withUnsafePointer { $0 } }  // storage kept alive by `ts`
            out.withUnsafeMutablePointer { o in Kernels.sum(ptrs, into: o, count: n, planes: ts[0].planes) }
        }
        return out
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        var out = b
        out.scale(by: -1)
        out.add(a)
        return out
    }

    public static func * (a: Float, t: Tensor) -> Tensor {
        var out = t
        out.scale(by: a)
        return out
    }

    /// Sets every element to `value`.
    public mutating func fill(_ value: Float) {
        withUnsafeMutableBufferPointer { $0.update(repeating: value) }
    }

    /// Applies `f` to every element (serial; for small tensors and tests).
    public func map(_ f: (Float) -> Float) -> Tensor {
        var out = Tensor(uninitialized: shape)
        withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { o in
            for i in 0..<x.count { o[i] = f(x[i]) } } }
        return out
    }

    /// Σ of all elements (Double, deterministic for any thread count).
    public func sum() -> Double {
        withUnsafePointer { p in Kernels.reduce(count: count) { r in Kernels.serialSum(p + r.lowerBound, count: r.count) } }
    }

    /// Σ of squares (Double, deterministic).
    public func sumOfSquares() -> Double {
        withUnsafePointer { p in Kernels.reduce(count: count) { r in
            Kernels.serialDot(p + r.lowerBound, p + r.lowerBound, count: r.count) } }
    }

    /// Σ self[i]·other[i] (Double, deterministic).
    public func dot(_ other: Tensor) -> Double {
        precondition(count == other.count, "Tensor.dot: shapes \(shape) and \(other.shape) differ")
        return withUnsafePointer { p in other.withUnsafePointer { q in Kernels.reduce(count: count) { r in
            Kernels.serialDot(p + r.lowerBound, q + r.lowerBound, count: r.count) } } }
    }

    /// Mean of all elements.
    public func mean() -> Double { count == 0 ? 0 : sum() / Double(count) }

    /// Largest absolute elementwise difference (for tests and checks).
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(count == other.count, "maxAbsDifference: shapes \(shape) and \(other.shape) differ")
        var m: Float = 0
        withUnsafeBufferPointer { a in other.withUnsafeBufferPointer { b in
            for i in 0..<a.count { m = max(m, abs(a[i] - b[i])) } } }
        return m
    }
}

extension Kernels {
    /// e^x for 16 lanes: x = n·ln 2 + r with |r| ≤ ln 2 / 2, a degree-6 polynomial for e^r (Cephes
    /// coefficients), times 2^n built in the exponent bits. For -87.3 ≤ x ≤ 87.9 the relative error
    /// is a few 1e-7 (a test checks it against Foundation's exp); below, 0; above, e^87.9 (callers
    /// pass x − max ≤ 0); NaN stays NaN. The softmax of a step called libm's scalar expf per value:
    /// 786 K calls in the 64³ three-class loss, most of its 6 ms.
    @inlinable @inline(__always)
    public static func exp(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let hi = SIMD16<Float>(repeating: 87.9), lo = SIMD16<Float>(repeating: -87.3365)
        var v = x
        v.replace(with: hi, where: v .> hi)
        let under = v .< lo
        v.replace(with: lo, where: under)
        // n = round(v / ln 2) via the 1.5·2^23 trick (no SSE4.1 round needed).
        let magic = SIMD16<Float>(repeating: 12_582_912)
        let t = v * 1.442_695_04 + magic
        let n = t - magic
        let r = v - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p = SIMD16<Float>(repeating: 1.987_569_1e-4)
        p = p * r + 1.398_199_9e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 1.666_666_5e-1
        p = p * r + 5.000_000_1e-1
        p = p * (r * r) + r + 1
        // 2^n: n + 127 into the exponent field (n within [-126, 127] after the clamps).
        let bits = (t.bitPatternVector &- magic.bitPatternVector &+ 127) &<< 23
        var result = p * SIMD16<Float>(bitPattern: bits)
        result.replace(with: SIMD16<Float>(), where: under)
        result.replace(with: x, where: x .!= x)
        return result
    }
}

extension SIMD16 where Scalar == Float {
    @usableFromInline var bitPatternVector: SIMD16<UInt32> { unsafeBitCast(self, to: SIMD16<UInt32>.self) }
    @usableFromInline init(bitPattern bits: SIMD16<UInt32>) { self = unsafeBitCast(bits, to: SIMD16<Float>.self) }
}
