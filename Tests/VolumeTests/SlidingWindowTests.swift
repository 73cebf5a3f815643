import Foundation
import Testing
@testable import Volume
import Tensor

@Suite("sliding window")
struct SlidingWindowTests {
    static func randomVolume(_ s: Shape3, channels: Int, seed: UInt64) -> Volume {
        var rng = RNG(seed: seed)
        return Volume(grid: Grid(shape: s, spacing: SIMD3(1, 1, 2)), channels: channels,
                      data: (0..<(s.count * channels)).map { _ in rng.uniform(Float(-3), 3) })
    }

    @Test("identity network reproduces its input exactly, borders included",
          arguments: [(Shape3(21, 17, 13), [Int]()), (Shape3(8, 8, 8), [Int]()), (Shape3(5, 19, 7), [0, 2]), (Shape3(16, 16, 16), [0, 1, 2])])
    func identity(shape: Shape3, mirror: [Int]) throws {
        let v = SlidingWindowTests.randomVolume(shape, channels: 2, seed: 3)
        let w = SlidingWindow(patchSize: Shape3(8, 8, 8), overlap: 0.5, mirrorAxes: mirror, output: .probabilities)
        var calls = 0
        let out = try w.predict(v, classes: 2) { patch, channels, size in
            #expect(channels == 2 && size == Shape3(8, 8, 8) && patch.count == 2 * 512)
            calls += 1
            return patch
        }
        #expect(out.shape == v.shape && out.channels == 2 && out.grid == v.grid)
        for i in v.data.indices { #expect(abs(out.data[i] - v.data[i]) <= 1e-5 * max(1, abs(v.data[i])), "voxel \(i)") }
        let windows = [shape.x, shape.y, shape.z].map { SlidingWindow.starts(length: max($0, 8), patch: 8, overlap: 0.5).count }.reduce(1, *)
        #expect(calls == windows * (1 << Set(mirror).count))
    }

    @Test("window starts cover the axis evenly with the requested overlap")
    func starts() {
        #expect(SlidingWindow.starts(length: 32, patch: 16, overlap: 0.5) == [0, 8, 16])
        #expect(SlidingWindow.starts(length: 16, patch: 16, overlap: 0.5) == [0])
        #expect(SlidingWindow.starts(length: 10, patch: 16, overlap: 0.5) == [0])
        let s = SlidingWindow.starts(length: 37, patch: 16, overlap: 0.5)
        #expect(s.first == 0 && s.last == 21)
        #expect(zip(s, s.dropFirst()).allSatisfy { $1 - $0 <= 8 && $1 > $0 })
    }

    @Test("importance map: Gaussian with sigma = patch/8, peak 1 at the centre")
    func gaussian() {
        let w = SlidingWindow(patchSize: Shape3(16, 16, 8)).importance()
        let p = Shape3(16, 16, 8)
        // Neighbouring centre voxels 7.5 and 8.5 along x: both at 0.5 from the centre.
        let c = w[p.index(8, 8, 4)]
        let edge = w[p.index(0, 8, 4)]
        // Ratio between x = 0 (7.5 from centre) and x = 8 (0.5 from centre) with sigma 2.
        let expected = exp(-(7.5 * 7.5 - 0.25) / (2 * 4.0))
        #expect(abs(Double(edge / c) - expected) < 1e-5)
        #expect(w.max()! <= 1 && w.min()! > 0)
    }

    @Test("logits are averaged then soft-maxed; a constant-logit net gives its softmax everywhere")
    func logits() throws {
        let v = SlidingWindowTests.randomVolume(Shape3(12, 10, 9), channels: 1, seed: 9)
        let w = SlidingWindow(patchSize: Shape3(8, 8, 8), mirrorAxes: [1])
        let out = try w.predict(v, classes: 3) { _, _, size in
            [Float](repeating: 0, count: size.count) + [Float](repeating: 1, count: size.count) + [Float](repeating: 2, count: size.count)
        }
        let z = exp(0.0) + exp(1.0) + exp(2.0)
        let n = v.shape.count
        for i in 0..<n {
            #expect(abs(Double(out.data[i]) - 1 / z) < 1e-6)
            #expect(abs(Double(out.data[2 * n + i]) - exp(2.0) / z) < 1e-6)
        }
    }

    @Test("a network returning the wrong size is a clear error")
    func wrongSize() {
        let v = SlidingWindowTests.randomVolume(Shape3(8, 8, 8), channels: 1, seed: 1)
        expectVolumeError(["network returned 5 values"]) {
            _ = try SlidingWindow(patchSize: Shape3(8, 8, 8)).predict(v, classes: 2) { _, _, _ in [Float](repeating: 0, count: 5) }
        }
    }
}

@Suite("whole-case inference")
struct PredictCaseTests {
    /// A bright box in a dark volume; the "network" calls voxels above 0 (after z-scoring) class 1.
    static func image(spacing: SIMD3<Double>) -> Volume {
        var v = Volume(grid: Grid(shape: Shape3(20, 18, 10), spacing: spacing), repeating: 0)
        for k in 0..<10 { for j in 0..<18 { for i in 0..<20 { v[i, j, k, 0] = 100 } } }
        for k in 3..<7 { for j in 5..<12 { for i in 6..<15 { v[i, j, k, 0] = 300 } } }
        return v
    }
    static func threshold(_ patch: [Float], _ channels: Int, _ size: Shape3) -> [Float] {
        patch.map { _ in Float(0) } + patch.map { $0 > 0 ? 10 : -10 }   // logits: background 0, class 1 ±10
    }

    @Test("on the plan's own spacing the labels come back exactly on the original grid")
    func sameSpacing() throws {
        let img = PredictCaseTests.image(spacing: SIMD3(1, 1, 2))
        let plan = PreprocessTests.plan([ChannelNormalization(scheme: .ct, clipLower: 0, clipUpper: 1000, mean: 200, std: 100)],
                                        spacing: [1, 1, 2])
        let (probs, labels) = try predictCase(image: img, preprocessor: Preprocessor(plan: plan),
                                              window: SlidingWindow(patchSize: Shape3(8, 8, 8)), network: PredictCaseTests.threshold)
        #expect(probs.grid == img.grid && labels.grid == img.grid && probs.channels == 2)
        for k in 0..<10 { for j in 0..<18 { for i in 0..<20 {
            let inside = (6..<15).contains(i) && (5..<12).contains(j) && (3..<7).contains(k)
            #expect(labels[i, j, k] == (inside ? 1 : 0), "voxel \(i),\(j),\(k)")
        } } }
    }

    @Test("with resampling the result is still on the original grid and the box is found")
    func resampled() throws {
        let img = PredictCaseTests.image(spacing: SIMD3(0.8, 0.8, 2.5))
        let plan = PreprocessTests.plan([ChannelNormalization(scheme: .ct, clipLower: 0, clipUpper: 1000, mean: 200, std: 100)],
                                        spacing: [1.0, 1.0, 1.5])
        let (probs, labels) = try predictCase(image: img, preprocessor: Preprocessor(plan: plan),
                                              window: SlidingWindow(patchSize: Shape3(8, 8, 8), mirrorAxes: [0]), network: PredictCaseTests.threshold)
        #expect(probs.grid == img.grid && labels.shape == img.shape)
        // Interior of the box and far background are certain; only the boundary may blur.
        #expect(labels[10, 8, 5] == 1 && labels[0, 0, 0] == 0 && labels[19, 17, 9] == 0)
        let found = labels.data.filter { $0 == 1 }.count
        #expect(abs(found - 9 * 7 * 4) <= 9 * 7 * 4 / 2)
        for i in 0..<img.shape.count { #expect(abs(probs.data[i] + probs.data[img.shape.count + i] - 1) < 1e-5) }
    }
}
