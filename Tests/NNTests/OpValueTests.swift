import Foundation
import Testing
@testable import NN
import Tensor

/// Forward values against hand-computed references.
@Suite("op values")
struct OpValueTests {
    @Test("ReLU values; NaN passes through (so a diverged step is still caught by the loss check)")
    func reluValues() {
        let x = Variable(Tensor(shape: [1, 1, 1, 1, 5], scalars: [-1, 0, 2.5, .nan, -0.0]))
        let y = relu(x).value.scalars
        #expect(Array(y[0..<3]) == [0, 0, 2.5] && y[3].isNaN && y[4] == 0)
    }

    @Test("trilinear x2 follows align_corners=false (1-D rows, hand-computed as in PyTorch)")
    func upsampleValues() {
        // Along W, [1, 2, 4] -> [1, 1.25, 1.75, 2.5, 3.5, 4]: out(o) samples s = (o + 0.5)/2 - 0.5 clamped.
        let x = Variable(Tensor(shape: [1, 1, 1, 1, 3], scalars: [1, 2, 4]))
        let y = upsampleTrilinear2x(x).value
        #expect(y.shape == [1, 1, 2, 2, 6])
        let row: [Float] = [1, 1.25, 1.75, 2.5, 3.5, 4]
        #expect(y.scalars == row + row + row + row)
        // A 2x2x2 cube: separable product of 1-D weights; compare against a direct 8-corner formula.
        var rng = RNG(seed: 1)
        let c = Tensor.randomNormal([1, 2, 2, 3, 2], rng: &rng)
        let u = upsampleTrilinear2x(Variable(c)).value
        func taps(_ o: Int, _ n: Int) -> (Int, Int, Double) {
            let s = max(0, (Double(o) + 0.5) / 2 - 0.5)
            let i0 = Int(s.rounded(.down))
            return (i0, min(i0 + 1, n - 1), s - Double(i0))
        }
        var worst: Float = 0
        for ch in 0..<2 { for z in 0..<4 { for yy in 0..<6 { for xx in 0..<4 {
            let (z0, z1, lz) = taps(z, 2), (y0, y1, ly) = taps(yy, 3), (x0, x1, lx) = taps(xx, 2)
            var v = 0.0
            for (zi, wz) in [(z0, 1 - lz), (z1, lz)] { for (yi, wy) in [(y0, 1 - ly), (y1, ly)] {
                for (xi, wx) in [(x0, 1 - lx), (x1, lx)] { v += wz * wy * wx * Double(c[0, ch, zi, yi, xi]) } } }
            worst = max(worst, abs(Float(v) - u[0, ch, z, yy, xx]))
        } } } }
        #expect(worst < 1e-5)
    }

    @Test("instance norm output has zero mean and unit variance per plane, then affine")
    func instanceNormStats() {
        var rng = RNG(seed: 2)
        let x = Variable(Tensor.randomNormal([2, 3, 4, 4, 4], std: 3, rng: &rng).map { $0 + 5 })
        let g = Variable(Tensor(shape: [3], scalars: [1, 2, 0.5])), b = Variable(Tensor(shape: [3], scalars: [0, 1, -1]))
        let y = instanceNorm(x, weight: g, bias: b).value
        for s in 0..<2 { for c in 0..<3 {
            let plane = (0..<64).map { Double(y[flat: (s * 3 + c) * 64 + $0]) }
            let mean = plane.reduce(0, +) / 64
            let sd = (plane.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 64).squareRoot()
            #expect(abs(mean - Double(b.value[c])) < 1e-4)
            #expect(abs(sd - Double(g.value[c])) < 1e-3)
        } }
    }

    @Test("batch norm running statistics follow PyTorch (momentum 0.1, unbiased variance)")
    func batchNormRunning() {
        let x = Tensor(shape: [2, 1, 1, 1, 2], scalars: [1, 2, 3, 6])
        let state = BatchNormState(name: "bn", channels: 1)
        let y = batchNorm(Variable(x), weight: Variable(.ones([1])), bias: Variable(.zeros([1])),
                          state: state, training: true).value
        // mean 3, biased var 3.5, unbiased 14/3
        #expect(abs(state.runningMean.value[0] - 0.3) < 1e-6)
        #expect(abs(state.runningVar.value[0] - (0.9 + 0.1 * 14.0 / 3.0)) < 1e-6)
        #expect(abs(y[flat: 0] - Float(-2 / (3.5 + 1e-5).squareRoot())) < 1e-5)
        let e = batchNorm(Variable(x), weight: Variable(.ones([1])), bias: Variable(.zeros([1])),
                          state: state, training: false).value
        let rv = state.runningVar.value[0], rm = state.runningMean.value[0]
        #expect(abs(e[flat: 3] - (6 - rm) / (rv + 1e-5).squareRoot()) < 1e-5)
    }

    @Test("softmax over channels sums to one per voxel; Dice and CE by hand")
    func lossValues() {
        // Two classes, two voxels: logits [[0, 0], [ln 3, 0]] (class-major), labels [1, 0].
        let logits = Variable(Tensor(shape: [1, 2, 2], scalars: [0, 0, Float(log(3.0)), 0]))
        let labels = Tensor(shape: [1, 1, 2], scalars: [1, 0])
        let p = softmaxChannels(logits).value
        #expect(abs(p[flat: 0] - 0.25) < 1e-6 && abs(p[flat: 2] - 0.75) < 1e-6)
        #expect(abs(p[flat: 1] - 0.5) < 1e-6 && abs(p[flat: 3] - 0.5) < 1e-6)
        // CE = -(log 0.75 + log 0.5) / 2
        let ce = crossEntropyLoss(logits: logits, labels: labels).item
        #expect(abs(Double(ce) - -(log(0.75) + log(0.5)) / 2) < 1e-6)
        // Foreground Dice: p1 = [0.75, 0.5], g1 = [1, 0]: (2·0.75 + s) / (1.25 + 1 + s)
        let s = 1e-5
        let dice = softDiceLoss(probabilities: Variable(p), labels: labels, smooth: Float(s)).item
        #expect(abs(Double(dice) - (1 - (1.5 + s) / (2.25 + s))) < 1e-6)
        let both = softDiceLoss(probabilities: Variable(p), labels: labels, includeBackground: true, smooth: Float(s)).item
        let bg = (2 * 0.5 + s) / (0.75 + 1 + s)
        #expect(abs(Double(both) - (1 - ((1.5 + s) / (2.25 + s) + bg) / 2)) < 1e-6)
        let total = diceCELoss(logits: logits, labels: labels, smooth: Float(s)).item
        #expect(abs(total - (dice + ce)) < 1e-6)
    }

    @Test("weighted sum and concat by hand")
    func combineValues() {
        let a = Variable(Tensor(shape: [1, 1, 2], scalars: [1, 2])), b = Variable(Tensor(shape: [1, 1, 2], scalars: [10, 20]))
        #expect(weightedSum([a, b], weights: Variable(Tensor(shape: [2], scalars: [0.25, 0.5]))).value.scalars == [5.25, 10.5])
        let c = concatChannels([Variable(Tensor(shape: [2, 1, 1], scalars: [1, 2])),
                                Variable(Tensor(shape: [2, 2, 1], scalars: [3, 4, 5, 6]))]).value
        #expect(c.shape == [2, 3, 1] && c.scalars == [1, 3, 4, 2, 5, 6])
    }
}
