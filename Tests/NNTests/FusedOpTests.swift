import Testing
@testable import NN
import Tensor

/// The fused and vectorised memory-bound ops against the plain ops and naive loops.
@Suite("fused and vectorised ops")
struct FusedOpTests {
    /// Gradients of relu(instanceNorm(x)) as one op against central differences. Step 1e-3 keeps the
    /// perturbation from crossing the ReLU's kink at all but the nearest entries (tolerances as for
    /// the other ops).
    @Test("instance norm + ReLU fused: gradients vs finite differences")
    func fusedGradients() {
        var inputs = GradientCheck.randomInputs([[2, 3, 4, 3, 5], [3], [3]], seed: 41)
        inputs[1] = inputs[1].map { 1 + 0.5 * $0 }
        GradientCheck(eps: 1e-3, absoluteTolerance: 3e-3, relativeTolerance: 2e-2)
            .check(inputs) { v in instanceNormReLU(v[0], weight: v[1], bias: v[2]) }
    }

    /// Values and gradients equal the two ops run apart, on planes long enough for the pool and the
    /// SIMD loops (4099 voxels: not a multiple of the vector width or block).
    @Test("instance norm + ReLU fused: same values and gradients as instanceNorm then relu")
    func fusedMatchesUnfused() {
        let inputs = GradientCheck.randomInputs([[2, 5, 1, 1, 4099], [5], [5]], seed: 42)
        var rng = RNG(seed: 43)
        let seed = Tensor.randomNormal([2, 5, 1, 1, 4099], rng: &rng)
        func run(_ fused: Bool) -> [Tensor] {
            let vars = inputs.map { Variable($0.map { $0 * 0.7 + 0.1 }, requiresGrad: true) }
            let y = fused ? instanceNormReLU(vars[0], weight: vars[1], bias: vars[2])
                          : relu(instanceNorm(vars[0], weight: vars[1], bias: vars[2]))
            let value = y.value
            y.backward(seed: seed)
            return [value] + vars.map { $0.grad! }
        }
        let a = run(true), b = run(false)
        #expect(a[0] == b[0], "forward values differ: \(a[0].maxAbsDifference(b[0]))")
        for k in 1..<4 {
            let scale = max(1, b[k].scalars.map(abs).max()!)
            #expect(a[k].maxAbsDifference(b[k]) <= 2e-5 * scale, "gradient \(k): \(a[k].maxAbsDifference(b[k]))")
        }
    }

    /// The inference op that overwrites its input: bit-identical to the out-of-place ops, rectified or
    /// not, on planes split over the pool; the input is handed over (left empty).
    @Test("instance norm in place (inference): same values as instanceNorm and instanceNormReLU")
    func inPlaceMatches() {
        let inputs = GradientCheck.randomInputs([[2, 5, 1, 3, 1367], [5], [5]], seed: 44)
        for rectify in [false, true] {
            let vars = inputs.map { Variable($0) }
            let want = rectify ? instanceNormReLU(vars[0], weight: vars[1], bias: vars[2])
                               : instanceNorm(vars[0], weight: vars[1], bias: vars[2])
            let x = Variable(inputs[0].map { $0 })   // its own storage, handed over
            let got = noGrad { instanceNormInPlace(x, weight: vars[1], bias: vars[2], rectify: rectify) }
            #expect(got.value == want.value, "rectify \(rectify): \(got.value.maxAbsDifference(want.value))")
            #expect(x.value.count == 0)
            #expect(vars[0].value == inputs[0], "the out-of-place op left its input alone")
        }
    }

    /// The vectorised ReLU and its backward against a scalar loop, for lengths around the SIMD width
    /// and a length split over the pool; NaN passes through forward.
    @Test("ReLU forward and backward vs scalar loops", arguments: [1, 15, 16, 17, 100, 70_001])
    func reluMatchesLoop(_ n: Int) {
        var rng = RNG(seed: UInt64(n))
        var x = Tensor.randomNormal([n], rng: &rng)
        if n > 3 { x[flat: 3] = .nan; x[flat: 2] = 0 }
        let g = Tensor.randomNormal([n], rng: &rng)
        let y = Activation.relu(x)
        let dx = Activation.reluBackward(g, output: y)
        for i in 0..<n {
            let v = x[flat: i]
            if v.isNaN { #expect(y[flat: i].isNaN); continue }
            #expect(y[flat: i] == max(v, 0))
            #expect(dx[flat: i] == (v > 0 ? g[flat: i] : 0))
        }
    }

    @Test("ReLU in place equals the out-of-place op and takes its input's storage", arguments: [1, 17, 70_001])
    func reluInPlaceMatches(_ n: Int) {
        var rng = RNG(seed: UInt64(n + 5))
        var x = Tensor.randomNormal([n], rng: &rng)
        if n > 3 { x[flat: 3] = .nan; x[flat: 2] = -0.0 }
        let want = Activation.relu(x)
        let v = Variable(x.map { $0 })   // its own storage, handed over
        let got = noGrad { reluInPlace(v) }.value
        #expect(v.value.count == 0)
        for i in 0..<n {
            if want[flat: i].isNaN { #expect(got[flat: i].isNaN) } else { #expect(got[flat: i] == want[flat: i]) }
        }
    }

    @Test("sum of several tensors and parallel copy vs loops", arguments: [1, 2, 3, 5])
    func sumAndCopy(_ k: Int) {
        var rng = RNG(seed: UInt64(10 + k))
        let n = 300_007
        let ts = (0..<k).map { _ in Tensor.randomNormal([n], rng: &rng) }
        let s = Tensor.sum(ts)
        var copy = Tensor(uninitialized: [n])
        ts[0].withUnsafePointer { src in copy.withUnsafeMutablePointer { Kernels.copy(src, into: $0, count: n) } }
        #expect(copy == ts[0])
        for i in stride(from: 0, to: n, by: 997) {
            var want: Float = 0
            for t in ts { want += t[flat: i] }
            #expect(s[flat: i] == want)
        }
    }
}
