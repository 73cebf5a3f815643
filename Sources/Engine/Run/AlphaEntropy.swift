import Foundation
import NN
import Tensor

/// The entropy regulariser of the fine stage: H(softmax α) per cell, averaged over cells.
/// Its gradient is added to α.grad in closed form, ∂H/∂α_j = −p_j (log p_j + H), which is exact and
/// avoids building a graph for a three-element vector per cell.
public enum AlphaEntropy {
    /// Mean over cells of −Σ p log p (natural log).
    public static func mean(_ probabilities: [[Double]]) -> Double {
        guard !probabilities.isEmpty else { return 0 }
        return probabilities.map(entropy).reduce(0, +) / Double(probabilities.count)
    }

    public static func entropy(_ p: [Double]) -> Double {
        -p.reduce(0) { $0 + ($1 > 0 ? $1 * Foundation.log($1) : 0) }
    }

    /// Softmax of one α vector, in double precision.
    public static func softmax(_ a: [Float]) -> [Double] {
        let m = Double(a.max() ?? 0)
        let e = a.map { Foundation.exp(Double($0) - m) }
        let z = e.reduce(0, +)
        return e.map { $0 / z }
    }

    /// ∂/∂α of `weight` × mean-over-cells entropy, for one cell's α of `cells` cells.
    public static func gradient(_ a: [Float], weight: Double, cells: Int) -> [Float] {
        let p = softmax(a), h = entropy(p)
        return p.map { pj in Float(weight / Double(cells) * (-pj * ((pj > 0 ? Foundation.log(pj) : 0) + h))) }
    }

    /// Adds the regulariser's gradient to every α (which must already hold the loss gradient, or nil).
    public static func addGradient(to alphas: [Parameter], weight: Double) {
        guard weight > 0 else { return }
        for a in alphas {
            let g = gradient(a.value.scalars, weight: weight, cells: alphas.count)
            let t = Tensor(shape: a.value.shape, scalars: g)
            if let old = a.grad { a.grad = old + t } else { a.grad = t }
        }
    }
}
