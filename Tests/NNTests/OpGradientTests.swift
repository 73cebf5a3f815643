import Testing
@testable import NN
import Tensor

/// Every op's backward against central finite differences on small random inputs.
@Suite("op gradients")
struct OpGradientTests {
    let check = GradientCheck()

    @Test("trilinear x2 upsampling") func upsample() {
        check.check(GradientCheck.randomInputs([[2, 2, 3, 2, 4]], seed: 1)) { upsampleTrilinear2x($0[0]) }
        check.check(GradientCheck.randomInputs([[1, 1, 1, 3, 1]], seed: 2)) { upsampleTrilinear2x($0[0]) }
    }

    @Test("instance norm (input, weight, bias)") func instance() {
        var inputs = GradientCheck.randomInputs([[2, 3, 4, 4, 3], [3], [3]], seed: 2)
        inputs[1] = inputs[1].map { 1 + 0.5 * $0 }
        check.check(inputs) { v in instanceNorm(v[0], weight: v[1], bias: v[2]) }
    }

    @Test("batch norm, training mode") func batchTrain() {
        var inputs = GradientCheck.randomInputs([[2, 3, 3, 4, 3], [3], [3]], seed: 3)
        inputs[1] = inputs[1].map { 1 + 0.5 * $0 }
        check.check(inputs) { v in
            batchNorm(v[0], weight: v[1], bias: v[2], state: BatchNormState(name: "bn", channels: 3), training: true)
        }
    }

    @Test("batch norm, evaluation mode") func batchEval() {
        let inputs = GradientCheck.randomInputs([[2, 3, 3, 2, 3], [3], [3]], seed: 4)
        let state = BatchNormState(name: "bn", channels: 3)
        state.runningMean.value = Tensor(shape: [3], scalars: [0.1, -0.2, 0.3])
        state.runningVar.value = Tensor(shape: [3], scalars: [0.5, 2, 1.5])
        check.check(inputs) { v in batchNorm(v[0], weight: v[1], bias: v[2], state: state, training: false) }
    }

    @Test("ReLU and LeakyReLU (inputs kept away from the kink)") func relus() {
        let inputs = GradientCheck.randomInputs([[2, 3, 4]], seed: 5, awayFromZero: 0.05)
        check.check(inputs) { relu($0[0]) }
        check.check(inputs) { leakyRelu($0[0], slope: 0.1) }
    }

    @Test("add, scale, multiply, sum, mean") func arithmetic() {
        let inputs = GradientCheck.randomInputs([[2, 3, 4], [2, 3, 4]], seed: 6)
        check.check(inputs) { v in add(v[0], v[1]) }
        check.check(inputs) { v in multiply(scale(v[0], by: 1.5), v[1]) }
        check.check(inputs) { v in sum(add(multiply(v[0], v[0]), v[1])) }
        check.check(inputs) { v in mean(addAll([v[0], v[1], v[0]])) }
    }

    @Test("channel concat") func concat() {
        let inputs = GradientCheck.randomInputs([[2, 1, 3, 2, 2], [2, 3, 3, 2, 2]], seed: 7)
        check.check(inputs) { v in concatChannels([v[0], v[1], v[0]]) }
    }

    @Test("weighted sum, gradients to inputs and to softmax-ed weights") func weighted() {
        let inputs = GradientCheck.randomInputs([[2, 2, 3, 3], [2, 2, 3, 3], [2, 2, 3, 3], [3]], seed: 8)
        check.check(inputs) { v in weightedSum([v[0], v[1], v[2]], weights: softmax(v[3])) }
        check.check(inputs) { v in weightedSum([v[0], v[1], v[2]], weights: v[3]) }
    }

    @Test("softmax over channels and over a vector") func softmaxes() {
        check.check(GradientCheck.randomInputs([[2, 4, 3, 2, 2]], seed: 9)) { softmaxChannels($0[0]) }
        check.check(GradientCheck.randomInputs([[5]], seed: 10)) { softmax($0[0]) }
    }

    static func labels(_ shape: [Int], classes: Int, seed: UInt64) -> Tensor {
        var rng = RNG(seed: seed)
        return Tensor(shape: shape) { _ in Float(rng.int(below: classes)) }
    }

    @Test("soft Dice on probabilities, with and without background, per sample and batch",
          arguments: [(false, false), (true, false), (false, true), (true, true)])
    func dice(includeBackground: Bool, batchDice: Bool) {
        let labels = Self.labels([2, 1, 3, 3, 2], classes: 3, seed: 11)
        let inputs = GradientCheck.randomInputs([[2, 3, 3, 3, 2]], seed: 12)
        check.check(inputs) { v in
            softDiceLoss(probabilities: softmaxChannels(v[0]), labels: labels, includeBackground: includeBackground,
                         smooth: 1, batchDice: batchDice)
        }
        // Dice directly on positive "probabilities", small smoothing.
        let p = inputs.map { t in t.map { 0.2 + abs($0) } }
        check.check(p) { v in
            softDiceLoss(probabilities: v[0], labels: labels, includeBackground: includeBackground,
                         smooth: 1e-5, batchDice: batchDice)
        }
    }

    @Test("cross-entropy and Dice + CE on logits") func crossEntropy() {
        let labels = Self.labels([2, 3, 3, 2], classes: 3, seed: 13)
        let inputs = GradientCheck.randomInputs([[2, 3, 3, 3, 2]], seed: 14)
        check.check(inputs) { v in crossEntropyLoss(logits: v[0], labels: labels) }
        check.check(inputs) { v in diceCELoss(logits: v[0], labels: labels, diceWeight: 0.7, ceWeight: 1.3) }
        for (background, batch) in [(true, false), (false, true), (true, true)] {
            check.check(inputs) { v in
                diceCELoss(logits: v[0], labels: labels, includeBackground: background, batchDice: batch,
                           diceWeight: 0.7, ceWeight: 1.3)
            }
        }
    }

    /// The fused Dice + CE op against the composition of its three parts, over enough voxels for
    /// several sum chunks (2 × 9 000 voxels, 4 classes).
    @Test("fused Dice + CE equals softDice(softmax) + CE in value and gradient",
          arguments: [(false, false), (true, false), (false, true), (true, true)])
    func fusedDiceCE(includeBackground: Bool, batchDice: Bool) {
        let labels = Self.labels([2, 1, 10, 30, 30], classes: 4, seed: 15)
        let logits = GradientCheck.randomInputs([[2, 4, 10, 30, 30]], seed: 16)[0]
        let a = Variable(logits, requiresGrad: true), b = Variable(logits, requiresGrad: true)
        let fused = diceCELoss(logits: a, labels: labels, includeBackground: includeBackground, batchDice: batchDice,
                               diceWeight: 0.7, ceWeight: 1.3)
        let dice = softDiceLoss(probabilities: softmaxChannels(b), labels: labels, includeBackground: includeBackground,
                                batchDice: batchDice)
        let composed = add(scale(dice, by: 0.7), scale(crossEntropyLoss(logits: b, labels: labels), by: 1.3))
        #expect(abs(fused.item - composed.item) < 1e-5)
        fused.backward()
        composed.backward()
        let ga = a.grad!, gb = b.grad!
        let scaleOfGrad = gb.scalars.map(abs).max()!
        #expect(ga.maxAbsDifference(gb) < 1e-4 * scaleOfGrad)
    }
}
