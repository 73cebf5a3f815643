import Testing
@testable import NN
import Tensor

/// The C upsampling kernels (CConvKernels/upsample.c) against the Swift reference loops, on extents
/// that hit every edge of the vector code: rows of 1-3 values (both ends clamped), 16 and 17 (one
/// full vector and a one-lane tail), 33 (two vectors and a tail), odd plane counts.
@Suite("upsample kernels", .serialized)
struct UpsampleKernelTests {
    static let shapes: [[Int]] = [[1, 2, 1, 1, 1], [2, 1, 3, 2, 2], [1, 3, 2, 5, 3], [1, 2, 3, 4, 16],
                                  [1, 1, 2, 3, 17], [1, 2, 5, 2, 33], [2, 1, 1, 17, 9], [1, 1, 4, 8, 48]]

    func both<T>(_ body: () -> T) -> (kernel: T, reference: T) {
        Upsample2x.useKernels = true
        let k = body()
        Upsample2x.useKernels = false
        defer { Upsample2x.useKernels = true }
        return (k, body())
    }

    @Test("forward: C kernel equals the Swift loops to float rounding", arguments: shapes)
    func forwardMatches(shape: [Int]) throws {
        try #require(Conv3dDirectKernel.available, "needs AVX-512F")
        var rng = RNG(seed: UInt64(shape.reduce(7, *)))
        let x = Tensor.randomNormal(shape, rng: &rng)
        let (k, r) = both { upsampleTrilinear2x(Variable(x)).value }
        #expect(k.shape == r.shape)
        let worst = zip(k.scalars, r.scalars).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-6 * max(1, r.scalars.map(abs).max() ?? 0), "max |kernel - reference| = \(worst)")
    }

    @Test("backward: C kernel equals the Swift loops, and is the forward's transpose", arguments: shapes)
    func backwardMatches(shape: [Int]) throws {
        try #require(Conv3dDirectKernel.available, "needs AVX-512F")
        var rng = RNG(seed: UInt64(shape.reduce(11, *)))
        let x = Tensor.randomNormal(shape, rng: &rng)
        let out = [shape[0], shape[1], 2 * shape[2], 2 * shape[3], 2 * shape[4]]
        let g = Tensor.randomNormal(out, rng: &rng)
        let (k, r) = both { () -> Tensor in
            let v = Variable(x, requiresGrad: true)
            let y = upsampleTrilinear2x(v)
            y.backward(seed: g)
            return v.grad!
        }
        let worst = zip(k.scalars, r.scalars).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-5 * max(1, r.scalars.map(abs).max() ?? 0), "max |kernel - reference| = \(worst)")
        // <up(x), g> = <x, upᵀ(g)> in double precision.
        let up = upsampleTrilinear2x(Variable(x)).value
        let lhs = zip(up.scalars, g.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let rhs = zip(x.scalars, k.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(lhs - rhs) <= 1e-4 * max(1, abs(lhs)), "⟨up x, g⟩ = \(lhs), ⟨x, upᵀ g⟩ = \(rhs)")
    }
}
