import Foundation
import Testing
@testable import Volume
import Tensor

@Suite("metrics")
struct MetricsTests {
    /// Two 4×4×4 cubes in a 10³ volume, B shifted by one voxel along x.
    static func cubes(spacing: SIMD3<Double>) -> (LabelVolume, LabelVolume) {
        let g = Grid(shape: Shape3(10, 10, 10), spacing: spacing)
        var a = LabelVolume(grid: g), b = LabelVolume(grid: g)
        for k in 2...5 { for j in 2...5 { for i in 2...5 { a[i, j, k] = 1; b[i + 1, j, k] = 1 } } }
        return (a, b)
    }

    @Test("cubes offset by one voxel, isotropic: Dice 0.75, HD95 1, NSD 72/112 at 0.5 mm and 1 at 1 mm")
    func offsetCubes() throws {
        // Hand count: each cube has 56 surface voxels; 36 of A's touch B's surface (distance 0), the
        // 16 on A's x=2 face and the 4 inner ones of its x=5 face are 1 voxel away. Same for B.
        let (a, b) = MetricsTests.cubes(spacing: SIMD3(1, 1, 1))
        let m = try #require(try Metrics.evaluate(prediction: a, reference: b, labels: [1], defaultTolerance: 0.5).first)
        #expect(m.dice == 0.75)
        #expect(abs(m.nsd - 72.0 / 112.0) < 1e-12)
        #expect(m.hd95 == 1)
        #expect(m.referenceVoxels == 64 && m.predictionVoxels == 64)
        let m1 = try Metrics.evaluate(prediction: a, reference: b, labels: [1], defaultTolerance: 1.0)[0]
        #expect(m1.nsd == 1)
    }

    @Test("anisotropic spacing 2×1×1 mm: face voxels 2 mm away, inner face voxels 1 mm (along y)")
    func anisotropic() throws {
        let (a, b) = MetricsTests.cubes(spacing: SIMD3(2, 1, 1))
        let (ab, ba) = Metrics.surfaceDistances(a.data.map { $0 == 1 }, b.data.map { $0 == 1 }, shape: a.shape, spacing: a.spacing)
        #expect(ab.sorted() == [Double](repeating: 0, count: 36) + [Double](repeating: 1, count: 4) + [Double](repeating: 2, count: 16))
        #expect(ba.sorted() == ab.sorted())
        let m = try Metrics.evaluate(prediction: a, reference: b, labels: [1], defaultTolerance: 1.5)[0]
        #expect(abs(m.nsd - 80.0 / 112.0) < 1e-12)
        #expect(m.hd95 == 2)
        #expect(m.dice == 0.75)
    }

    @Test("empty conventions: both empty → 1/1/0; one empty → 0/0/inf")
    func emptyCases() throws {
        let g = Grid(shape: Shape3(4, 4, 4), spacing: SIMD3(1, 1, 1))
        let empty = LabelVolume(grid: g)
        var one = LabelVolume(grid: g); one[1, 1, 1] = 2
        let both = try Metrics.evaluate(prediction: empty, reference: empty, labels: [2])[0]
        #expect(both.dice == 1 && both.nsd == 1 && both.hd95 == 0)
        let missed = try Metrics.evaluate(prediction: empty, reference: one, labels: [2])[0]
        #expect(missed.dice == 0 && missed.nsd == 0 && missed.hd95 == .infinity && missed.referenceVoxels == 1)
        let spurious = try Metrics.evaluate(prediction: one, reference: empty, labels: [2])[0]
        #expect(spurious.dice == 0 && spurious.nsd == 0 && spurious.hd95 == .infinity)
        let perfect = try Metrics.evaluate(prediction: one, reference: one, labels: [2])[0]
        #expect(perfect.dice == 1 && perfect.nsd == 1 && perfect.hd95 == 0)
    }

    @Test("distance transform equals brute force on random masks with anisotropic spacing")
    func distanceTransformBruteForce() {
        var rng = RNG(seed: 5)
        let s = Shape3(7, 6, 5), sp = SIMD3(0.7, 1.3, 2.1)
        for _ in 0..<5 {
            let f = (0..<s.count).map { _ in rng.nextDouble() < 0.05 }
            let d = Metrics.distanceTransform(features: f, shape: s, spacing: sp)
            let feats = f.indices.filter { f[$0] }
            for k in 0..<s.z { for j in 0..<s.y { for i in 0..<s.x {
                var best = Double.infinity
                for q in feats {
                    let dx = Double(i - q % s.x) * sp.x, dy = Double(j - (q / s.x) % s.y) * sp.y, dz = Double(k - q / (s.x * s.y)) * sp.z
                    best = min(best, dx * dx + dy * dy + dz * dz)
                }
                let got = d[s.index(i, j, k)]
                #expect(got == best || abs(got - best) < 1e-9)
            } } }
        }
    }

    @Test("mismatched shapes are refused")
    func mismatch() {
        let a = LabelVolume(grid: Grid(shape: Shape3(2, 2, 2), spacing: SIMD3(1, 1, 1)))
        let b = LabelVolume(grid: Grid(shape: Shape3(2, 2, 3), spacing: SIMD3(1, 1, 1)))
        expectVolumeError(["different shapes"]) { _ = try Metrics.evaluate(prediction: a, reference: b, labels: [1]) }
    }
}
