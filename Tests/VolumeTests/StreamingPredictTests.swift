import Foundation
import Testing
@testable import Volume

/// The bounded-memory inference path against whole-volume references: the slab accumulator
/// against a naive full-volume accumulation, the slice-by-slice restore + argmax against
/// `restore` + `argmax`.
@Suite("streaming inference")
struct StreamingPredictTests {
    /// A position-dependent 3-class "network": every window votes differently for every voxel.
    static func net(_ patch: [Float], _ channels: Int, _ size: Shape3) -> [Float] {
        let n = size.count
        var out = [Float](repeating: 0, count: 3 * n)
        for v in 0..<n {
            let x = patch[v]
            out[v] = 0.3 * x
            out[n + v] = -0.2 * x + Float(v % 7) * 0.15
            out[2 * n + v] = sin(x) + Float(v % 5) * 0.1
        }
        return out
    }

    static func volume(_ s: Shape3, spacing: SIMD3<Double> = SIMD3(1, 1, 1)) -> Volume {
        var v = Volume(grid: Grid(shape: s, spacing: spacing), repeating: 0)
        for k in 0..<s.z { for j in 0..<s.y { for i in 0..<s.x { v[i, j, k, 0] = Float((i * 7 + j * 3 + k * 11) % 13) - 4 } } }
        return v
    }

    /// The pre-streaming algorithm: whole-volume sums and weights, one window at a time.
    static func naive(_ image: Volume, window: SlidingWindow, classes: Int) throws -> [Float] {
        let s = image.shape, p = window.patchSize, n = s.count, pn = p.count
        var sum = [Double](repeating: 0, count: n * classes), weight = [Double](repeating: 0, count: n)
        let g = window.importance()
        for z0 in SlidingWindow.starts(length: s.z, patch: p.z, overlap: window.overlap) {
            for y0 in SlidingWindow.starts(length: s.y, patch: p.y, overlap: window.overlap) {
                for x0 in SlidingWindow.starts(length: s.x, patch: p.x, overlap: window.overlap) {
                    var patch = [Float](repeating: 0, count: pn)
                    for k in 0..<p.z { for j in 0..<p.y { for i in 0..<p.x { patch[p.index(i, j, k)] = image[x0 + i, y0 + j, z0 + k, 0] } } }
                    let y = net(patch, 1, p)
                    for k in 0..<p.z { for j in 0..<p.y { for i in 0..<p.x {
                        let d = s.index(x0 + i, y0 + j, z0 + k), w = Double(g[p.index(i, j, k)])
                        weight[d] += w
                        for c in 0..<classes { sum[c * n + d] += Double(y[c * pn + p.index(i, j, k)]) * w }
                    } } }
                }
            }
        }
        var out = [Float](repeating: 0, count: n * classes)
        for i in 0..<n {
            let logits = (0..<classes).map { sum[$0 * n + i] / weight[i] }
            let m = logits.max()!, e = logits.map { exp($0 - m) }, t = e.reduce(0, +)
            for c in 0..<classes { out[c * n + i] = Float(e[c] / t) }
        }
        return out
    }

    @Test("slab accumulation equals whole-volume accumulation", arguments: [
        (Shape3(23, 19, 41), Shape3(8, 8, 8), 0.5), (Shape3(16, 12, 30), Shape3(8, 6, 5), 0.25), (Shape3(9, 9, 9), Shape3(4, 4, 4), 0.0),
    ])
    func slabEqualsWhole(shape: Shape3, patch: Shape3, overlap: Double) throws {
        let v = Self.volume(shape)
        let w = SlidingWindow(patchSize: patch, overlap: overlap)
        var progress = [Int]()
        let out = try w.predict(v, classes: 3, network: Self.net) { done, total in
            progress.append(done); #expect(total == w.windowCount(shape))
        }
        #expect(progress == Array(1...w.windowCount(shape)))
        let ref = try Self.naive(v, window: w, classes: 3)
        for i in ref.indices { #expect(abs(out.data[i] - ref[i]) < 2e-6, "voxel \(i): \(out.data[i]) vs \(ref[i])") }
    }

    @Test("windows run in batches give the same result as one at a time, mirrors included", arguments: [1, 3, 7])
    func batches(batch: Int) throws {
        let v = Self.volume(Shape3(19, 17, 21))
        for mirror in [[], [0, 2]] {
            let one = SlidingWindow(patchSize: Shape3(8, 8, 8), overlap: 0.5, mirrorAxes: mirror)
            var many = one
            many.batch = batch
            var calls = 0, short = 0
            let batched: PatchBatchNetwork = { patches, count, channels, size in
                calls += 1
                if count < batch { short += 1 }
                #expect(count >= 1 && count <= batch && patches.count == count * channels * size.count)
                return (0..<count).flatMap { w in
                    Self.net(Array(patches[(w * size.count)..<((w + 1) * size.count)]), channels, size)
                }
            }
            let a = try one.predict(v, classes: 3, network: Self.net)
            let b = try many.predict(v, classes: 3, batchNetwork: batched)
            #expect(a.data == b.data)
            let windows = one.windowCount(v.shape), mirrors = 1 << mirror.count
            #expect(calls >= windows * mirrors / batch && calls <= (windows / batch + 9) * mirrors)
            // A batch may take windows of two rows: at most one short batch per two rows of windows.
            let rows = SlidingWindow.starts(length: v.shape.z, patch: 8, overlap: 0.5).count
            #expect(short <= (rows + 1) / 2 * mirrors, "\(short) short batches for \(rows) rows")
        }
    }

    @Test("streamed restore + argmax gives exactly the labels of restore + argmax", arguments: [
        SIMD3(1.0, 1.0, 2.0), SIMD3(0.8, 0.8, 2.5), SIMD3(1.3, 0.7, 1.0),
    ])
    func streamedLabelsExact(spacing: SIMD3<Double>) throws {
        var img = Self.volume(Shape3(21, 18, 13), spacing: spacing)
        // A zero border so the crop box is a strict sub-box.
        for k in 0..<13 { for j in 0..<18 { for i in 0..<21 where i < 2 || j > 15 || k == 0 { img[i, j, k, 0] = 0 } } }
        var plan = PreprocessTests.plan([ChannelNormalization(scheme: .ct, clipLower: -5, clipUpper: 8, mean: 1, std: 3)], spacing: [1, 1, 1.5])
        plan.classCount = 3
        let pre = Preprocessor(plan: plan), window = SlidingWindow(patchSize: Shape3(8, 8, 8), overlap: 0.5)
        let (_, reference) = try predictCase(image: img, preprocessor: pre, window: window, network: Self.net)
        let streamed = try predictCaseLabels(image: img, preprocessor: pre, window: window, network: Self.net)
        #expect(streamed.grid == reference.grid)
        #expect(streamed.data == reference.data)
        #expect(Set(streamed.data).count >= 2, "the test network must produce more than one class")
    }
}
