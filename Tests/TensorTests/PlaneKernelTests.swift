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

    @Test("masked sums count dy where the mask is positive; a NaN mask counts as off", arguments: lengths)
    func maskedSums(n: Int) {
        let dy = Self.data(n, seed: 3), x = Self.data(n, seed: 4)
        var mask = Self.data(n, seed: 5)
        mask[n / 2] = .nan
        var wantDy = 0.0, wantDyX = 0.0
        for i in 0..<n where mask[i] > 0 { wantDy += Double(dy[i]); wantDyX += Double(dy[i]) * Double(x[i]) }
        var gotDy = 0.0, gotDyX = 0.0
        c2f_plane_masked_sums(dy, x, mask, n, &gotDy, &gotDyX)
        #expect(abs(gotDy - wantDy) <= 1e-5 * Double(n))
        #expect(abs(gotDyX - wantDyX) <= 1e-5 * Double(n))
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
        var mask = Self.data(n, seed: 9)
        mask[n - 1] = .nan
        var dyInf = dy
        dyInf[n - 1] = .infinity   // masked off: contributes exactly 0, not NaN
        let k: Float = 0.8, a: Float = -0.3, b: Float = 0.05
        for masked in [false, true] {
            var dx = [Float](repeating: 9, count: n + 1)
            let source = masked ? dyInf : dy
            if masked { c2f_plane_norm_input_grad(source, xs, mask, &dx, n, k, a, b) }
            else { c2f_plane_norm_input_grad(source, xs, nil, &dx, n, k, a, b) }
            for i in 0..<n {
                let on = !masked || mask[i] > 0
                let want = (on ? k * source[i] : 0) + (a * xs[i] + b)
                #expect(abs(dx[i] - want) <= 1e-6 * (1 + abs(want)), "\(i) masked \(masked)")
            }
            #expect(dx[n] == 9)
        }
    }
}
