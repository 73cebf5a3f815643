import Testing
@testable import NN
import Tensor

/// Finite-difference gradient checking for ops.
///
/// For inputs x_i and an op f, the analytic gradient of L = Σ R·f(x) (R a fixed random tensor, or 1
/// for scalar outputs) comes from `backward(seed: R)`; the numeric one from central differences
/// (L(x + εe_j) - L(x - εe_j)) / 2ε with L summed in Double. Up to `samples` entries per input are
/// checked (all of them for small inputs).
struct GradientCheck {
    var eps: Float = 1e-2
    var absoluteTolerance = 2e-3
    var relativeTolerance = 1e-2
    var samples = 40

    static func randomInputs(_ shapes: [[Int]], seed: UInt64, awayFromZero: Float = 0) -> [Tensor] {
        var rng = RNG(seed: seed)
        return shapes.map { shape in
            Tensor.randomNormal(shape, rng: &rng).map { v in
                abs(v) < awayFromZero ? (v < 0 ? v - awayFromZero : v + awayFromZero) : v
            }
        }
    }

    /// Returns the worst mismatch description, or nil when every checked entry agrees.
    func check(_ inputs: [Tensor], seed: UInt64 = 99, sourceLocation: SourceLocation = #_sourceLocation,
               _ f: ([Variable]) -> Variable) {
        let vars = inputs.map { Variable($0, requiresGrad: true) }
        let out = f(vars)
        var rng = RNG(seed: seed)
        let weights = out.value.count == 1 ? Tensor(shape: out.shape, repeating: 1)
                                           : Tensor.randomNormal(out.shape, rng: &rng)
        out.backward(seed: weights)
        func loss(_ xs: [Tensor]) -> Double {
            noGrad {
                let y = f(xs.map { Variable($0) }).value
                var s = 0.0
                for i in 0..<y.count { s += Double(y[flat: i]) * Double(weights[flat: i]) }
                return s
            }
        }
        var checked = 0
        for (k, x) in inputs.enumerated() {
            guard let analytic = vars[k].grad else {
                Issue.record("input \(k): no gradient reached it", sourceLocation: sourceLocation)
                continue
            }
            #expect(analytic.shape == x.shape, "input \(k): grad shape", sourceLocation: sourceLocation)
            var pick = RNG(seed: UInt64(1000 + k))
            let indices = x.count <= samples ? Array(0..<x.count) : (0..<samples).map { _ in pick.int(below: x.count) }
            for j in indices {
                var plus = inputs, minus = inputs
                plus[k][flat: j] += eps
                minus[k][flat: j] -= eps
                let numeric = (loss(plus) - loss(minus)) / Double(2 * eps)
                let a = Double(analytic[flat: j])
                let ok = abs(a - numeric) <= absoluteTolerance + relativeTolerance * abs(numeric)
                #expect(ok, "input \(k) entry \(j): analytic \(a) vs numeric \(numeric)", sourceLocation: sourceLocation)
                checked += 1
            }
        }
        #expect(checked > 0, sourceLocation: sourceLocation)
    }
}
