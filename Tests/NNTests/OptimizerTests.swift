import Foundation
import Testing
@testable import NN
import Tensor

@Suite("optimizers")
struct OptimizerTests {
    /// A one-element parameter with a given gradient.
    static func param(_ v: Float, grad: Float) -> Parameter {
        let p = Parameter(name: "p", value: Tensor(shape: [1], scalars: [v]))
        p.grad = Tensor(shape: [1], scalars: [grad])
        return p
    }

    @Test("SGD with momentum and weight decay, by hand over three steps (PyTorch rule)")
    func sgdMomentum() {
        let p = Self.param(1, grad: 0.5)
        let opt = SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        var w = 1.0, v = 0.0
        for _ in 0..<3 {
            p.grad = Tensor(shape: [1], scalars: [0.5])
            opt.step()
            let g = 0.5 + 0.01 * w
            v = 0.9 * v + g
            w -= 0.1 * v
            #expect(abs(Double(p.value[0]) - w) < 1e-6)
        }
    }

    @Test("SGD Nesterov by hand")
    func sgdNesterov() {
        let p = Self.param(2, grad: -1)
        let opt = SGD(parameters: [p], learningRate: 0.5, momentum: 0.5, nesterov: true)
        var w = 2.0, v = 0.0
        for _ in 0..<3 {
            p.grad = Tensor(shape: [1], scalars: [-1])
            opt.step()
            v = 0.5 * v - 1
            w -= 0.5 * (-1 + 0.5 * v)
            #expect(abs(Double(p.value[0]) - w) < 1e-6)
        }
    }

    @Test("Adam and AdamW by hand", arguments: [false, true])
    func adam(decoupled: Bool) {
        let p = Self.param(1, grad: 0.3)
        let opt = Adam(parameters: [p], learningRate: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8,
                       weightDecay: 0.1, decoupledWeightDecay: decoupled)
        var w = 1.0, m = 0.0, v = 0.0
        for t in 1...4 {
            let raw = 0.3 * Double(t)
            p.grad = Tensor(shape: [1], scalars: [Float(raw)])
            opt.step()
            var g = raw
            if decoupled { w -= 0.01 * 0.1 * w } else { g += 0.1 * w }
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            let mh = m / (1 - pow(0.9, Double(t))), vh = v / (1 - pow(0.999, Double(t)))
            w -= 0.01 * mh / (vh.squareRoot() + 1e-8)
            #expect(abs(Double(p.value[0]) - w) < 1e-5)
        }
    }

    @Test("poly learning rate")
    func poly() {
        let s = PolyLRSchedule(baseLearningRate: 0.01, totalSteps: 100, power: 0.9)
        #expect(s.learningRate(atStep: 0) == 0.01)
        #expect(abs(Double(s.learningRate(atStep: 50)) - 0.01 * pow(0.5, 0.9)) < 1e-9)
        #expect(s.learningRate(atStep: 100) == 0)
        #expect(s.learningRate(atStep: 150) == 0)
    }

    @Test("gradient clipping by global norm")
    func clipping() {
        let a = Parameter(name: "a", value: .zeros([2])), b = Parameter(name: "b", value: .zeros([1]))
        a.grad = Tensor(shape: [2], scalars: [3, 0])
        b.grad = Tensor(shape: [1], scalars: [4])
        let norm = clipGradientNorm([a, b], maxNorm: 1)
        #expect(abs(norm - 5) < 1e-6)
        #expect(abs(a.grad![0] - 0.6) < 1e-5 && abs(b.grad![0] - 0.8) < 1e-5)
        let again = clipGradientNorm([a, b], maxNorm: 10)   // below the limit: unchanged
        #expect(abs(again - 1) < 1e-5 && abs(b.grad![0] - 0.8) < 1e-5)
    }

    @Test("optimizer state export/import continues bit-identically", arguments: ["sgd", "adam"])
    func stateRoundTrip(kind: String) throws {
        func make(_ params: [Parameter]) -> any Optimizer {
            kind == "sgd" ? SGD(parameters: params, learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3)
                          : Adam.adamW(parameters: params, learningRate: 0.05)
        }
        var rng = RNG(seed: 4)
        let start = Tensor.randomNormal([3, 2], rng: &rng)
        let grads = (0..<6).map { _ in Tensor.randomNormal([3, 2], rng: &rng) }
        let p1 = Parameter(name: "layer.weight", value: start)
        let o1 = make([p1])
        for g in grads.prefix(3) { p1.grad = g; o1.step() }
        // Save through safetensors bytes, restore into a fresh optimizer and parameter.
        let saved = try SafeTensors.decode(SafeTensors.encode(o1.stateTensors().merging(["layer.weight": p1.value]) { a, _ in a }))
        let p2 = Parameter(name: "layer.weight", value: .zeros([3, 2]))
        try p2.load(saved.tensors["layer.weight"]!)
        let o2 = make([p2])
        try o2.loadState(saved.tensors)
        for g in grads.suffix(3) { p1.grad = g; o1.step(); p2.grad = g; o2.step() }
        #expect(p1.value == p2.value)
    }
}
