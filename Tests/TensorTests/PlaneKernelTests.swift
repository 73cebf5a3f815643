import CPlaneKernels
import Testing
@testable import Tensor

/// The AVX-512 plane passes against plain Double loops, on lengths with every tail (partial
/// vectors, partial 4096-blocks), and the NaN rules of the ReLU mask. Skipped without AVX-512F.
@Suite("plane kernels", .enabled(if: c2f_plane_kernels_available() != 0))
struct PlaneKernelTests {
    static let lengths = [1, 15, 16, 17, 63, 64, 65, 4095, 4096, 4097, 10_000, 32_771]

    static func data(_ n: Int, seed: UInt64) -> [Float] {
        var rng = RNG(seed: seed)
        return Tensor.randomNormal([n], rng: &rng).scalars.map { $0 + 0.25 }
    }

    @Test("sum, dot and squared deviation agree with Double loops", arguments: lengths)
    func reductions(n: Int) {
        let x = Self.data(n, seed: 1), y = Self.data(n, seed: 2)
        let sum = x.reduce(0.0) { $0 + Double($1) }
        let dot = zip(x, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let c: Float = 0.3
        let dev = x.reduce(0.0) { $0 + Double($1 - c) * Double($1 - c) }
        let scale = x.reduce(0.0) { $0 + abs(Double($1)) } + 1
        #expect(abs(c2f_plane_sum(x, n) - sum) <= 1e-5 * scale)
        #expect(abs(c2f_plane_dot(x, y, n) - dot) <= 1e-5 * scale * 4)
        #expect(abs(c2f_plane_squared_deviation(x, c, n) - dev) <= 1e-5 * dev + 1e-6)
        // The Kernels entry points take these kernels on this CPU.
        #expect(Kernels.serialSum(x, count: n) == c2f_plane_sum(x, n))
    }

    @Test("moments: the mean and squared deviation of Double loops, read once", arguments: lengths)
    func moments(n: Int) {
        // A large offset: a one-pass Σx² − n·mean² would lose the variance here; block moments must not.
        let x = Self.data(n, seed: 10).map { $0 * 0.01 + 1000 }
        let mean = x.reduce(0.0) { $0 + Double($1) } / Double(n)
        let m2 = x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }
        var gotMean = 0.0, gotM2 = 0.0
        c2f_plane_moments(x, n, &gotMean, &gotM2)
        #expect(abs(gotMean - mean) <= 1e-6 * abs(mean))
        #expect(abs(gotM2 - m2) <= 1e-3 * m2 + 1e-9, "\(gotM2) vs \(m2)")
    }

    @Test("rectified sums count dy exactly where the forward's rectified output is positive", arguments: lengths)
    func rectifiedSums(n: Int) {
        let dy = Self.data(n, seed: 3)
        var x = Self.data(n, seed: 4)
        let scale: Float = 1.3, shift: Float = -0.2
        // Inputs at the ReLU's edge (x·scale + shift within an ulp or two of 0), where a mask
        // computed with other rounding than the forward's FMA would differ.
        let edge = 0.2 / Float(1.3)
        for i in Swift.stride(from: 0, to: n, by: 5) {
            x[i] = [edge, edge.nextUp, edge.nextDown, edge.nextUp.nextUp, edge.nextDown.nextDown][(i / 5) % 5]
        }
        // The mask is the forward's own output: y > 0 of c2f_plane_affine, bit for bit.
        var y = [Float](repeating: 0, count: n)
        c2f_plane_affine(x, &y, n, scale, shift, 1)
        var wantDy = 0.0, wantDyX = 0.0
        for i in 0..<n where y[i] > 0 { wantDy += Double(dy[i]); wantDyX += Double(dy[i]) * Double(x[i]) }
        var gotDy = 0.0, gotDyX = 0.0
        c2f_plane_rectified_sums(dy, x, n, scale, shift, &gotDy, &gotDyX)
        #expect(abs(gotDy - wantDy) <= 1e-5 * Double(n))
        #expect(abs(gotDyX - wantDyX) <= 1e-5 * Double(n))
        // dy = 1 counts the mask's on lanes, exactly: one lane off by an ulp would show.
        let ones = [Float](repeating: 1, count: n)
        c2f_plane_rectified_sums(ones, x, n, scale, shift, &gotDy, &gotDyX)
        #expect(gotDy == Double(y.filter { $0 > 0 }.count))
    }

    @Test("affine (rectified or not, in place or not) and the norm input gradient match scalar loops", arguments: lengths)
    func affineAndGradient(n: Int) {
        var x = Self.data(n, seed: 6)
        x[0] = .nan
        let scale: Float = 1.7, shift: Float = -0.4
        for rectify in [false, true] {
            var y = [Float](repeating: 9, count: n + 1)   // one guard value past the end
            c2f_plane_affine(x, &y, n, scale, shift, rectify ? 1 : 0)
            #expect(y[0].isNaN, "a NaN input stays NaN")
            for i in 1..<n {
                let v = x[i] * scale + shift
                let want = rectify && v < 0 ? 0 : v
                #expect(abs(y[i] - want) <= 1e-6 * (1 + abs(want)))
            }
            #expect(y[n] == 9, "nothing written past n")
            var inPlace = x
            inPlace.withUnsafeMutableBufferPointer { c2f_plane_affine($0.baseAddress!, $0.baseAddress!, n, scale, shift, rectify ? 1 : 0) }
            #expect(zip(inPlace.dropFirst(), y.dropFirst().prefix(n - 1)).allSatisfy { $0 == $1 })
        }
        let dy = Self.data(n, seed: 7), xs = Self.data(n, seed: 8)
        let k: Float = 0.8, a: Float = -0.3, b: Float = 0.05
        var y = [Float](repeating: 0, count: n)
        c2f_plane_affine(xs, &y, n, scale, shift, 1)
        // An infinite dy where the forward rectified to 0 contributes exactly 0, not NaN.
        var dyInf = dy
        if let off = y.firstIndex(where: { $0 <= 0 }) { dyInf[off] = .infinity }
        for rectified in [false, true] {
            var dx = [Float](repeating: 9, count: n + 1)
            let source = rectified ? dyInf : dy
            c2f_plane_norm_input_grad(source, xs, &dx, n, k, a, b, rectified ? 1 : 0, scale, shift)
            for i in 0..<n {
                let on = !rectified || y[i] > 0
                let want = (on ? k * source[i] : 0) + (a * xs[i] + b)
                #expect(abs(dx[i] - want) <= 1e-6 * (1 + abs(want)), "\(i) rectified \(rectified)")
            }
            #expect(dx[n] == 9)
        }
    }
}
