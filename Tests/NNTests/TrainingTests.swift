import Foundation
import Testing
@testable import NN
import Tensor

/// A small 3-D U-shaped net: conv-IN-ReLU blocks, a stride-2 level, upsampling, a skip, a head.
final class TinySegNet: Module {
    let c1, c2, c3, c4, c5, head: Conv3d
    let n1, n2, n3, n5: InstanceNorm3d

    init(rng: inout RNG) {
        c1 = Conv3d(name: "c1", inChannels: 1, outChannels: 8, kernel: .k333, rng: &rng)
        c2 = Conv3d(name: "c2", inChannels: 8, outChannels: 16, kernel: .k333, stride: .two, rng: &rng)
        c3 = Conv3d(name: "c3", inChannels: 16, outChannels: 16, kernel: .k331, rng: &rng)
        c4 = Conv3d(name: "c4", inChannels: 16, outChannels: 8, kernel: .k111, rng: &rng)
        c5 = Conv3d(name: "c5", inChannels: 8, outChannels: 8, kernel: .k113, rng: &rng)
        head = Conv3d(name: "head", inChannels: 8, outChannels: 2, kernel: .k111, bias: true, rng: &rng)
        n1 = InstanceNorm3d(name: "n1", channels: 8)
        n2 = InstanceNorm3d(name: "n2", channels: 16)
        n3 = InstanceNorm3d(name: "n3", channels: 16)
        n5 = InstanceNorm3d(name: "n5", channels: 8)
    }

    func callAsFunction(_ x: Variable) -> Variable {
        let a = relu(n1(c1(x)))
        let b = relu(n2(c2(a)))
        let c = relu(n3(c3(b)))
        let u = c4(upsampleTrilinear2x(c)) + a
        return head(relu(n5(c5(u))))
    }

    var parameters: [Parameter] {
        [c1, c2, c3, c4, c5, head].flatMap(\.parameters) + [n1, n2, n3, n5].flatMap(\.parameters)
    }
}

/// A sphere label in a noisy volume: image = label + N(0, 0.5²).
func sphereVolume(size: Int, radius: Double, rng: inout RNG) -> (image: Tensor, labels: Tensor) {
    let c = Double(size - 1) / 2 + 0.3
    var labels = Tensor.zeros([1, 1, size, size, size])
    for z in 0..<size { for y in 0..<size { for x in 0..<size {
        let r = ((Double(z) - c) * (Double(z) - c) + (Double(y) - c) * (Double(y) - c)
                 + (Double(x) - c) * (Double(x) - c)).squareRoot()
        if r <= radius { labels[0, 0, z, y, x] = 1 }
    } } }
    let noise = Tensor.randomNormal(labels.shape, std: 0.5, rng: &rng)
    return (labels + noise, labels)
}

/// Hard foreground Dice of argmax(logits) against the labels.
func hardDice(_ logits: Tensor, _ labels: Tensor) -> Double {
    let v = labels.count
    var inter = 0.0, pred = 0.0, truth = 0.0
    for i in 0..<v {
        let p = logits[flat: v + i] > logits[flat: i] ? 1.0 : 0.0
        let g = Double(labels[flat: i])
        inter += p * g; pred += p; truth += g
    }
    return 2 * inter / max(pred + truth, 1)
}

func train(seed: UInt64, steps: Int) -> (net: TinySegNet, losses: [Float], image: Tensor, labels: Tensor) {
    var rng = RNG(seed: seed)
    var dataRNG = rng.split()
    let (image, labels) = sphereVolume(size: 16, radius: 4.5, rng: &dataRNG)
    let net = TinySegNet(rng: &rng)
    let opt = Adam(parameters: net.parameters, learningRate: 0.01)
    var losses: [Float] = []
    for _ in 0..<steps {
        let loss = diceCELoss(logits: net(Variable(image)), labels: labels)
        losses.append(loss.item)
        loss.backward()
        clipGradientNorm(net.parameters, maxNorm: 12)
        opt.step()
        opt.zeroGrad()
    }
    return (net, losses, image, labels)
}

@Suite("training")
struct TrainingTests {
    @Test("a small 3-D net overfits one noisy sphere volume to foreground Dice > 0.95")
    func overfitsSphere() {
        let (net, losses, image, labels) = train(seed: 2024, steps: 60)
        let logits = noGrad { net(Variable(image)) }
        #expect(!logits.hasGraph && !logits.requiresGrad)
        let dice = hardDice(logits.value, labels)
        #expect(dice > 0.95, "hard Dice \(dice), losses \(losses.first!) -> \(losses.last!)")
        #expect(losses.last! < losses.first! * 0.5)
    }

    @Test("same seed, same thread count: bit-identical parameters and losses")
    func deterministic() {
        let a = train(seed: 7, steps: 4), b = train(seed: 7, steps: 4)
        #expect(a.losses == b.losses)
        for (p, q) in zip(a.net.parameters, b.net.parameters) { #expect(p.value == q.value, "\(p.name)") }
        let c = train(seed: 8, steps: 1)
        #expect(c.net.parameters[0].value != a.net.parameters[0].value)
    }

    @Test("gradients accumulate through shared uses; backward frees intermediates")
    func graphMechanics() {
        let x = Variable(Tensor(shape: [3], scalars: [1, -2, 3]), requiresGrad: true)
        let sq = multiply(x, x)
        let y = sum(add(sq, x))       // d/dx = 2x + 1
        #expect(sq.hasGraph)
        y.backward()
        #expect(x.grad!.scalars == [3, -3, 7])
        #expect(!sq.hasGraph && sq.grad == nil && !y.hasGraph)
        // A second graph accumulates into the same leaf grad.
        sum(scale(x, by: 2)).backward()
        #expect(x.grad!.scalars == [5, -1, 9])
        // noGrad records nothing; constants get no grad.
        let c = Variable(.ones([3]))
        let z = noGrad { add(x, c) }
        #expect(!z.requiresGrad && !z.hasGraph)
        sum(add(x, c)).backward()
        #expect(c.grad == nil)
    }
}
