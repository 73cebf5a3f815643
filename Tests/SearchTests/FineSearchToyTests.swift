import Testing
import Foundation
import NN
@testable import Search
import Tensor

/// The fine stage on a toy task that only through-plane context solves (issue 5, item 4).
///
/// Task ("which way does the intensity run along D?"): the in-plane area is cut into 2×2
/// blocks; in each block column the intensity along D is a sinusoid sin(ωd + φ) (period 16
/// slices, φ uniform per block) plus N(0, 1.5²) noise per voxel, and a voxel is class 1 where the
/// sinusoid rises along D (cos(ωd + φ) > 0). For a uniform phase, sin θ and the sign of cos θ are
/// independent, so a voxel's value, and any function of one slice, carries no information about
/// that slice's labels: only the D-profile does. The noise makes a 3-slice derivative (what the
/// stem's 3³ convs see) unreliable; averaging the slope over more slices is what helps.
///
/// Control: the same volumes with the D and H axes swapped, so the profile runs in-plane and D
/// carries nothing but the shared noise structure. It tells the D-task's outcome apart from a
/// bias of the search towards ops with more weights.
@Suite struct FineSearchToyTests {
    static let patch = [16, 8, 8]        // (D, H, W); the control uses (8, 16, 8)
    static let sigma: Float = 1.5
    static let period: Float = 16

    /// One volume of the through-plane task: values (D·H·W) and labels, row-major.
    static func throughPlaneVolume(rng: inout RNG) -> (x: [Float], y: [Float]) {
        let (d, h, w) = (patch[0], patch[1], patch[2])
        let blocks = (h / 2) * (w / 2)
        let phase = (0..<blocks).map { _ in rng.uniform(0, 2 * Float.pi) }
        let omega = 2 * Float.pi / period
        var x = [Float](repeating: 0, count: d * h * w), y = x
        for z in 0..<d {
            for r in 0..<h {
                for c in 0..<w {
                    let theta = omega * Float(z) + phase[(r / 2) * (w / 2) + c / 2]
                    let i = (z * h + r) * w + c
                    x[i] = sin(theta) + sigma * rng.normal()
                    y[i] = cos(theta) > 0 ? 1 : 0
                }
            }
        }
        return (x, y)
    }

    /// Swaps the first two axes of a (A, B, W) row-major volume.
    static func swapFirstAxes(_ v: [Float], _ a: Int, _ b: Int, _ w: Int) -> [Float] {
        var out = v
        for i in 0..<a { for j in 0..<b { for k in 0..<w { out[(j * a + i) * w + k] = v[(i * b + j) * w + k] } } }
        return out
    }

    /// A batch of fresh volumes from `rng` (inputs (n, 1, D, H, W), labels (n, D, H, W)).
    static func batch(_ n: Int, inPlane: Bool, rng: inout RNG) -> (Tensor, Tensor) {
        var xs: [Float] = [], ys: [Float] = []
        for _ in 0..<n {
            var (x, y) = throughPlaneVolume(rng: &rng)
            if inPlane {
                x = swapFirstAxes(x, patch[0], patch[1], patch[2])
                y = swapFirstAxes(y, patch[0], patch[1], patch[2])
            }
            xs += x
            ys += y
        }
        let shape = inPlane ? [patch[1], patch[0], patch[2]] : patch
        return (Tensor(shape: [n, 1] + shape, scalars: xs), Tensor(shape: [n] + shape, scalars: ys))
    }

    /// First-order fine search as in C2FNAS.md "Fine search" (and `SearchEngine.stageFine`): the
    /// first half of the steps train weights only; then each step takes one weight step on a batch
    /// from split A and one α step on a batch from split B. Splits A and B are two disjoint seeded
    /// streams of fresh volumes. Weights: SGD momentum 0.9, weight decay 4e-5, clipping 5.
    /// α: Adam betas (0.5, 0.999), no weight decay. Learning rates are raised from the defaults
    /// (weights 0.025 → 0.05, α 1e-3 → 1e-2) because the whole search is 200 steps.
    ///
    /// Architecture: 2 cells on 1 level (topology 1,1), width 4, so both cells work at level 1
    /// where the volume still has 8 slices. Every path from the stem to the head goes through a
    /// cell (stem → cell 0 → head, stem → cell 1 via its two-back input → head, and both in
    /// series); outside the cells the only D-context is the stem's and the head's few slices. So
    /// both cells are where extra through-plane context can be gained: both are "cells that
    /// matter" and both are asserted on.
    static func search(inPlane: Bool, seed: UInt64 = 1, steps: Int = 200) -> (probabilities: [[Double]], seconds: Double) {
        let start = Date()
        let shape = inPlane ? [patch[1], patch[0], patch[2]] : patch
        let arch = NetworkSettings(baseWidth: 4, inputChannels: 1, classes: 2, patch: shape)
            .architecture(name: "toy", topology: Topology([1, 1]), ops: [.conv3D, .conv3D], levels: 1)
        let net = GraphNetwork(graph: try! NetworkGraph(arch), store: ParameterStore(seed: seed), mixedOps: true)
        let sgd = SGD(parameters: net.parameters, learningRate: 0.05, momentum: 0.9, weightDecay: 4e-5)
        let adam = Adam(parameters: net.alphas, learningRate: 0.01, beta1: 0.5, beta2: 0.999, weightDecay: 0)
        var splitA = RNG(seed: seed &+ 100), splitB = RNG(seed: seed &+ 200)
        for step in 0..<steps {
            let (xa, ya) = batch(2, inPlane: inPlane, rng: &splitA)
            let loss = diceCELoss(logits: net(Variable(xa)), labels: ya)
            loss.backward()
            _ = clipGradientNorm(net.parameters, maxNorm: 5)
            sgd.step()
            sgd.zeroGrad()
            for a in net.alphas { a.grad = nil }
            if step >= steps / 2 {
                let (xb, yb) = batch(2, inPlane: inPlane, rng: &splitB)
                diceCELoss(logits: net(Variable(xb)), labels: yb).backward()
                adam.step()
                adam.zeroGrad()
                net.zeroGrad()
            }
        }
        return (net.opProbabilities, Date().timeIntervalSince(start))
    }

    // Both searches run once per process, one after the other (a thread-safe lazy static). Run
    // concurrently in one process they took about 3x as long each (11.5 s vs 3.5-4 s here).
    static let results = (throughPlane: search(inPlane: false), inPlane: search(inPlane: true))

    static func describe(_ p: [[Double]]) -> String {
        p.map { $0.map { String(format: "%.3f", $0) }.joined(separator: "/") }.joined(separator: "  ")
    }

    /// After the search, 2D has lost weight in every cell and the derived op is 3D or P3D.
    /// Checked over seeds 1–10 while writing this test, with OpenBLAS on 2 threads and on 1: 2D
    /// was never the argmax and its probability was at most 0.313 in all 20 cells. Both thread
    /// counts matter here: the search is seeded and bit-reproducible for a given OpenBLAS thread
    /// count, but a GEMM's last bits depend on that count (200 steps amplify them), and another
    /// suite sets it to 1 process-wide during the full run (seed 1: 0.302/0.333/0.365
    /// 0.284/0.415/0.301 on 2 threads, 0.306/0.340/0.355 0.285/0.431/0.283 on 1).
    @Test func throughPlaneTaskFavoursThroughPlaneOps() {
        let (p, seconds) = Self.results.throughPlane
        print("fine search, through-plane task: 2D/3D/P3D per cell \(Self.describe(p)) (\(String(format: "%.1f", seconds)) s)")
        #expect(p.count == 2)
        for (cell, probs) in p.enumerated() {
            let derived = GraphNetwork.opSet[probs.indices.max { probs[$0] < probs[$1] }!]
            #expect(derived == .conv3D || derived == .p3D, "cell \(cell): derived \(derived), p = \(probs)")
            #expect(probs[0] < 1.0 / 3, "cell \(cell): 2D kept p = \(probs[0])")
        }
    }

    /// The same search on the axis-swapped control leaves 2D with more weight in every cell than
    /// the through-plane task does: the preference follows the task's axis, not the op's size.
    /// (Seeds 1–10, OpenBLAS on 2 threads and on 1: held in all 20 cells; 2D was the argmax in
    /// 16 of the control's 20 cells.)
    @Test func preferenceFollowsTheAxisOfTheTask() {
        let (c, seconds) = Self.results.inPlane
        let (d, _) = Self.results.throughPlane
        print("fine search, in-plane control: 2D/3D/P3D per cell \(Self.describe(c)) (\(String(format: "%.1f", seconds)) s)")
        for cell in 0..<2 {
            #expect(c[cell][0] > d[cell][0], "cell \(cell): 2D \(c[cell][0]) in-plane vs \(d[cell][0]) through-plane")
        }
    }
}
