import Foundation
import Testing
@testable import Volume

@Suite("preprocessing")
struct PreprocessTests {
    static func plan(_ norms: [ChannelNormalization], spacing: [Double]) -> Plan {
        Plan(datasetName: "t", modalities: norms.map { $0.scheme == .ct ? "CT" : "MR" }, labels: ["0": "bg", "1": "fg"],
             classCount: 2, targetSpacing: spacing, normalization: norms, patchSize: [8, 8, 8], batchSize: 1,
             medianResampledShape: [8, 8, 8], memory: MemoryEstimate(preprocessedDataset: 0, inputBatch: 0))
    }

    @Test("CT: clip to the window, then z-score with the dataset mean/std")
    func ctNormalisation() {
        let n = ChannelNormalization(scheme: .ct, clipLower: -100, clipUpper: 200, mean: 50, std: 25)
        let p = Preprocessor(plan: PreprocessTests.plan([n], spacing: [1, 1, 1]))
        let raw: [Float] = [-1000, -100, 0, 50, 199, 3000, 75, 25]
        var v = Volume(grid: Grid(shape: Shape3(2, 2, 2), spacing: SIMD3(1, 1, 1)), data: raw)
        p.normalize(&v)
        for (i, x) in raw.enumerated() { #expect(abs(v.data[i] - (min(max(x, -100), 200) - 50) / 25) < 1e-6) }
    }

    @Test("MR: z-score over the non-zero voxels only; zeros stay zero")
    func mrNormalisation() {
        let p = Preprocessor(plan: PreprocessTests.plan([.zscoreNonzero], spacing: [1, 1, 1]))
        let raw: [Float] = [0, 2, 4, 0, 6, 0, 8, 0]
        var v = Volume(grid: Grid(shape: Shape3(2, 2, 2), spacing: SIMD3(1, 1, 1)), data: raw)
        p.normalize(&v)
        let nz = [2.0, 4, 6, 8], mean = 5.0, std = (nz.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4).squareRoot()
        for (i, x) in raw.enumerated() {
            #expect(abs(Double(v.data[i]) - (x == 0 ? 0 : (Double(x) - mean) / std)) < 1e-6)
        }
    }

    @Test("crop → normalise → resample; deterministic; restore maps probabilities back onto the original grid")
    func pipeline() throws {
        let g = Grid(shape: Shape3(16, 14, 6), spacing: SIMD3(0.5, 0.5, 2))
        var img = Volume(grid: g)
        var lab = LabelVolume(grid: g)
        for k in 1..<5 { for j in 2..<12 { for i in 3..<13 {
            img[i, j, k, 0] = Float(i + j + k)
            if i > 6 && i < 10 && j > 5 && j < 9 { lab[i, j, k] = 1 }
        } } }
        let pre = Preprocessor(plan: PreprocessTests.plan([.zscoreNonzero], spacing: [1, 1, 1]))
        let a = try pre.run(id: "c", image: img, labels: lab)
        let b = try pre.run(id: "c", image: img, labels: lab)
        #expect(a.image == b.image && a.labels == b.labels)
        #expect(a.record.crop == Box3(lower: Shape3(3, 2, 1), upper: Shape3(13, 12, 5)))
        #expect(a.image.shape == Shape3(5, 5, 8))      // 10·0.5, 10·0.5, 4·2 at 1 mm
        #expect(a.labels?.shape == a.image.shape)
        #expect(a.image.spacing == SIMD3(1, 1, 1))
        // The preprocessed grid sits where the crop was in world space.
        let cropCorner = g.affine.apply(SIMD3(3, 2, 1) + SIMD3(-0.5, -0.5, -0.5))
        let preCorner = a.image.affine.apply(SIMD3(-0.5, -0.5, -0.5))
        #expect(simd_distance(cropCorner, preCorner) < 1e-9)
        // Restore: a constant two-class map comes back on the full grid, background outside the crop.
        var probs = Volume(grid: a.image.grid, channels: 2, repeating: 0)
        for i in 0..<a.image.shape.count { probs.data[i] = 0.25; probs.data[a.image.shape.count + i] = 0.75 }
        let full = pre.restore(probabilities: probs, record: a.record)
        #expect(full.grid == g && full.channels == 2)
        let labels = argmax(full)
        for k in 0..<6 { for j in 0..<14 { for i in 0..<16 {
            let inside = (3..<13).contains(i) && (2..<12).contains(j) && (1..<5).contains(k)
            #expect(labels[i, j, k] == (inside ? 1 : 0))
        } } }
    }

    @Test("channel count must match the plan")
    func channelMismatch() {
        let pre = Preprocessor(plan: PreprocessTests.plan([.zscoreNonzero], spacing: [1, 1, 1]))
        let v = Volume(grid: Grid(shape: Shape3(2, 2, 2), spacing: SIMD3(1, 1, 1)), channels: 2)
        expectVolumeError(["2 channel", "lists 1"]) { _ = try pre.run(id: "c", image: v) }
    }
}
