import Testing
import Foundation
import Volume
import NN
import Search
import Tensor
@testable import Engine

@Suite("Inference")
struct InferenceTests {
    /// A deterministic "network": class = the label whose mean normalised intensity is nearest.
    /// Scoring it on the preprocessed grid and, through predictCase, on the original grid must
    /// agree closely (the two differ only by resampling), which pins down restore/orientation.
    @Test("Dice on the original grid matches Dice on the preprocessed grid")
    func originalGridAgrees() throws {
        var cfg = try RunConfig.preset("tiny")
        try cfg.apply(overrides: ["patch=16,32,32"])
        let data = try TrainingData(folder: sampleTask, config: cfg)
        let c = data.validation[0]
        // Class means from the training cases (normalised intensities).
        var sums = [Double](repeating: 0, count: data.classes), counts = sums
        for t in data.train { for (v, l) in zip(t.image.data, t.labels!.data) { sums[Int(l)] += Double(v); counts[Int(l)] += 1 } }
        let means = zip(sums, counts).map { $0 / max(1, $1) }
        let net: PatchNetwork = { patch, _, size in
            var out = [Float](repeating: 0, count: data.classes * size.count)
            for i in 0..<size.count {
                let v = Double(patch[i])
                let k = means.indices.min { abs(means[$0] - v) < abs(means[$1] - v) }!
                out[k * size.count + i] = 10
            }
            return out
        }
        let window = SlidingWindow(patchSize: data.plan.patch, overlap: 0.5, output: .logits)
        let pred = argmax(try window.predict(c.image, classes: data.classes, network: net))
        let pre = Metrics.dice(pred.data.map { $0 == 1 }, c.labels!.data.map { $0 == 1 })
        let (image, reference) = try data.dataset.loadCase(data.validationCases[0])
        let (_, full) = try predictCase(image: image.volume, preprocessor: Preprocessor(plan: data.plan), window: window, network: net)
        let orig = Metrics.dice(full.data.map { $0 == 1 }, reference.data.map { $0 == 1 })
        #expect(pre > 0.3, "the intensity classifier finds the liver on the preprocessed grid (Dice \(pre))")
        #expect(abs(orig - pre) < 0.05, "original-grid Dice \(orig) vs preprocessed \(pre)")
    }

    /// The batch network gives, bit for bit, what one pass per patch and one batched pass give,
    /// whether the patches of the batch run concurrently on the pool (several threads: the default
    /// here on a multi-core machine) or as one pass; and again on a second call (packed weights reused).
    @Test("the batch network equals one pass per patch and one batched pass, concurrent or not")
    func batchNetworkMatches() throws {
        let arch = try Architecture.builtin("c2fnas-panc", baseWidth: 2, classes: 3, patch: [16, 16, 16])
        let net = GraphNetwork(graph: try NetworkGraph(arch), store: ParameterStore(seed: 5))
        let size = Shape3(16, 16, 16), count = 3, n = size.count
        var rng = RNG(seed: 6)
        let patches = Tensor.randomNormal([count * n], rng: &rng).scalars
        let single = Inference.patchNetwork(net)
        var want: [Float] = []
        for i in 0..<count { want += try single(Array(patches[(i * n)..<((i + 1) * n)]), 1, size) }
        let batched = noGrad { net(Variable(Tensor(shape: [count, 1, 16, 16, 16], scalars: patches))) }.value.scalars
        #expect(batched == want)
        let network = Inference.patchBatchNetwork(net)
        let got = try network(patches, count, 1, size)
        #expect(got == want, "windows in parallel: \(Inference.windowsInParallel)")
        #expect(try network(patches, count, 1, size) == want)
    }

    @Test("a kept result never changes: the closures reuse their output array only once it is released")
    func keptResultsStayPut() throws {
        let arch = try Architecture.builtin("c2fnas-panc", baseWidth: 2, classes: 3, patch: [16, 16, 16])
        let net = GraphNetwork(graph: try NetworkGraph(arch), store: ParameterStore(seed: 7))
        let size = Shape3(16, 16, 16), n = size.count
        var rng = RNG(seed: 8)
        let a = Tensor.randomNormal([2 * n], rng: &rng).scalars, b = Tensor.randomNormal([2 * n], rng: &rng).scalars
        let single = Inference.patchNetwork(net), batch = Inference.patchBatchNetwork(net)
        let kept = try single(Array(a[0..<n]), 1, size), keptCopy = kept.map { $0 }
        let next = try single(Array(b[0..<n]), 1, size)
        #expect(kept == keptCopy && next != kept)
        // Kept across calls of every size: a batch of 2, then 1 (a row's last), then 2 again.
        let two = try batch(a, 2, 1, size), twoCopy = two.map { $0 }
        let one = try batch(Array(b[0..<n]), 1, 1, size), oneCopy = one.map { $0 }
        let again = try batch(b, 2, 1, size)
        #expect(two == twoCopy && one == oneCopy)
        #expect(Array(again[0..<(3 * n)]) == one, "the first window of b alone equals its pass in a batch")
        let fresh = Inference.patchBatchNetwork(net)
        #expect(try fresh(b, 2, 1, size) == again)
    }

    /// Fitness scoring with the patches' passes on the pool gives the serial scores exactly.
    @Test("fitness scores are the same with the patches run concurrently")
    func concurrentFitness() throws {
        var cfg = try RunConfig.preset("tiny")
        try cfg.apply(overrides: ["patch=16,16,16"])
        let data = try TrainingData(folder: sampleTask, config: cfg)
        let patches = FitnessPatches(cases: data.validation, count: 5, patch: data.plan.patch, classes: data.classes, seed: 3)
        let arch = try Architecture.builtin("c2fnas-panc", baseWidth: 2, classes: data.classes, patch: [16, 16, 16])
        let net = GraphNetwork(graph: try NetworkGraph(arch), store: ParameterStore(seed: 4))
        for metric in [FitnessMetric.softDice, .dice] {
            let serial = patches.score(net, metric: metric, concurrent: false)
            let concurrent = patches.score(net, metric: metric, concurrent: true)
            #expect(serial.softDice == concurrent.softDice && serial.dice == concurrent.dice && serial.halves == concurrent.halves)
        }
    }
}
