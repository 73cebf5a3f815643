import Testing
@testable import NN
import Tensor

/// The C upsampling kernels (CConvKernels/upsample.c) against the Swift reference loops, on extents
/// that hit every edge of the vector code: rows of 1-3 values (both ends clamped), 16 and 17 (one
/// full vector and a one-lane tail), 33 (two vectors and a tail), odd plane counts.
@Suite("upsample kernels")
struct UpsampleKernelTests {
    static let shapes: [[Int]] = [[1, 2, 1, 1, 1], [2, 1, 3, 2, 2], [1, 3, 2, 5, 3], [1, 2, 3, 4, 16],
                                  [1, 1, 2, 3, 17], [1, 2, 5, 2, 33], [2, 1, 1, 17, 9], [1, 1, 4, 8, 48],
                                  [1, 2, 3, 4, 32], [1, 1, 2, 3, 64], [1, 1, 1, 1, 31]]

    /// (planes, d, h, w, taps along H and D, output shape) of an N,C,D,H,W input.
    static func geometry(_ s: [Int]) -> (planes: Int, th: LinearTaps, td: LinearTaps, out: [Int]) {
        (s[0] * s[1], LinearTaps(inputLength: s[3]), LinearTaps(inputLength: s[2]), [s[0], s[1], 2 * s[2], 2 * s[3], 2 * s[4]])
    }

    @Test("forward: C kernel equals the Swift loops to float rounding", arguments: shapes)
    func forwardMatches(shape: [Int]) throws {
        try #require(Conv3dDirectKernel.available, "needs AVX-512F")
        var rng = RNG(seed: UInt64(shape.reduce(7, *)))
        let x = Tensor.randomNormal(shape, rng: &rng)
        let (planes, th, td, out) = Self.geometry(shape)
        func run(_ kernels: Bool) -> Tensor {
            Upsample2x.forward(x, planes: planes, d: shape[2], h: shape[3], w: shape[4], th: th, td: td,
                               outShape: out, kernels: kernels)
        }
        let k = run(true), r = run(false)
        #expect(k.shape == r.shape)
        let worst = zip(k.scalars, r.scalars).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-6 * max(1, r.scalars.map(abs).max() ?? 0), "max |kernel - reference| = \(worst)")
    }

    @Test("backward: C kernel equals the Swift loops, and is the forward's transpose", arguments: shapes)
    func backwardMatches(shape: [Int]) throws {
        try #require(Conv3dDirectKernel.available, "needs AVX-512F")
        var rng = RNG(seed: UInt64(shape.reduce(11, *)))
        let x = Tensor.randomNormal(shape, rng: &rng)
        let (planes, th, td, out) = Self.geometry(shape)
        let g = Tensor.randomNormal(out, rng: &rng)
        func run(_ kernels: Bool) -> Tensor {
            Upsample2x.backward(g, planes: planes, d: shape[2], h: shape[3], w: shape[4], th: th, td: td,
                                inShape: shape, kernels: kernels)
        }
        let k = run(true), r = run(false)
        let worst = zip(k.scalars, r.scalars).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-5 * max(1, r.scalars.map(abs).max() ?? 0), "max |kernel - reference| = \(worst)")
        // <up(x), g> = <x, upᵀ(g)> in double precision.
        let up = Upsample2x.forward(x, planes: planes, d: shape[2], h: shape[3], w: shape[4], th: th, td: td,
                                    outShape: out, kernels: true)
        let lhs = zip(up.scalars, g.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let rhs = zip(x.scalars, k.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(lhs - rhs) <= 1e-4 * max(1, abs(lhs)), "⟨up x, g⟩ = \(lhs), ⟨x, upᵀ g⟩ = \(rhs)")
    }
}
