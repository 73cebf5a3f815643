import Foundation
import Testing
@testable import Volume
import Tensor

@Suite("patch sampling and augmentation")
struct SamplingTests {
    static func case1() -> (Volume, LabelVolume) {
        let g = Grid(shape: Shape3(20, 18, 12), spacing: SIMD3(1, 1, 1))
        let img = Volume(grid: g, channels: 2, data: (0..<(g.shape.count * 2)).map { Float($0) })
        var lab = LabelVolume(grid: g)
        lab[15, 3, 9] = 2                                                 // one voxel of class 2
        for k in 2...4 { for j in 10...13 { for i in 1...4 { lab[i, j, k] = 1 } } }
        return (img, lab)
    }

    @Test("extract copies the right voxels and pads outside the volume with 0")
    func extract() {
        let (img, lab) = SamplingTests.case1()
        let s = PatchSampler(patchSize: Shape3(6, 5, 4))
        let origin = [-2, 15, 10]
        let p = s.extract(image: img, labels: lab, origin: origin)
        for c in 0..<2 { for k in 0..<4 { for j in 0..<5 { for i in 0..<6 {
            let (x, y, z) = (i + origin[0], j + origin[1], k + origin[2])
            let inside = x >= 0 && y >= 0 && z >= 0 && x < 20 && y < 18 && z < 12
            #expect(p.image[c * 120 + p.size.index(i, j, k)] == (inside ? img[x, y, z, c] : 0))
            if c == 0 { #expect(p.labels[p.size.index(i, j, k)] == (inside ? lab[x, y, z] : 0)) }
        } } } }
    }

    @Test("same seed → same patches; foreground-centred patches contain their class at the centre")
    func deterministicAndCentred() {
        let (img, lab) = SamplingTests.case1()
        let index = ForegroundIndex(lab)
        #expect(index.presentClasses == [1, 2] && index.classes[2].count == 1 && index.classes[1].count == 48)
        let s = PatchSampler(patchSize: Shape3(8, 8, 8))
        var r1 = RNG(seed: 42), r2 = RNG(seed: 42)
        var centred = 0, sawClass2 = false
        let total = 600
        for _ in 0..<total {
            let a = s.sample(image: img, labels: lab, foreground: index, rng: &r1)
            let b = s.sample(image: img, labels: lab, foreground: index, rng: &r2)
            #expect(a == b)
            // The patch always lies inside the volume here (volume ≥ patch).
            #expect((0..<3).allSatisfy { a.origin[$0] >= 0 && a.origin[$0] + 8 <= img.shape[$0] })
            if a.centredOnForeground {
                centred += 1
                #expect(a.labels.contains { $0 > 0 })
                if a.labels.contains(2) { sawClass2 = true }
            }
        }
        // A third in expectation: 200 ± 4.5 sigma (sigma ≈ 11.5).
        #expect(abs(centred - total / 3) < 52)
        #expect(sawClass2, "the one-voxel class must be sampled as often as the big one")
    }

    @Test("a volume smaller than the patch is padded and fully contained")
    func smallVolume() {
        let g = Grid(shape: Shape3(3, 4, 2), spacing: SIMD3(1, 1, 1))
        let img = Volume(grid: g, data: (0..<24).map { Float($0 + 1) })
        var lab = LabelVolume(grid: g); lab[1, 1, 1] = 1
        var rng = RNG(seed: 1)
        let s = PatchSampler(patchSize: Shape3(6, 6, 6), foregroundFraction: 0.5)
        for _ in 0..<50 {
            let p = s.sample(image: img, labels: lab, foreground: ForegroundIndex(lab), rng: &rng)
            #expect(p.image.filter { $0 != 0 }.count == 24, "every voxel of the small volume is in the patch")
            #expect(p.labels.filter { $0 == 1 }.count == 1)
        }
    }

    static func patch(seed: UInt64, size: Shape3 = Shape3(4, 4, 3)) -> Patch {
        var rng = RNG(seed: seed)
        return Patch(size: size, channels: 2, image: (0..<(2 * size.count)).map { _ in rng.nextFloat() },
                     labels: (0..<size.count).map { _ in UInt8(rng.int(below: 4)) }, origin: [0, 0, 0], centredOnForeground: false)
    }

    @Test("flip twice and rotate four quarter turns are identities; labels move with the image")
    func spatialInverses() {
        let p = SamplingTests.patch(seed: 7)
        for axis in 0..<3 {
            var q = p; Augmenter.flip(&q, axis: axis)
            #expect(q != p)
            // Flipped voxel matches the mirrored source, image and label alike.
            let s = p.size
            let src = axis == 0 ? s.index(s.x - 1, 1, 2) : (axis == 1 ? s.index(0, s.y - 2, 2) : s.index(0, 1, 0))
            #expect(q.image[s.index(0, 1, 2)] == p.image[src] && q.labels[s.index(0, 1, 2)] == p.labels[src])
            Augmenter.flip(&q, axis: axis)
            #expect(q == p)
        }
        var r = p
        for _ in 0..<4 { Augmenter.rotateInPlane(&r, quarterTurns: 1) }
        #expect(r == p)
        var r2 = p; Augmenter.rotateInPlane(&r2, quarterTurns: 2)
        var f = p; Augmenter.flip(&f, axis: 0); Augmenter.flip(&f, axis: 1)
        #expect(r2 == f, "a half turn equals flipping x and y")
        // Quarter turn on a non-square patch swaps the in-plane sizes; voxel (i, j) ← (j, ny-1-i).
        let ns = SamplingTests.patch(seed: 8, size: Shape3(4, 3, 2))
        var q = ns; Augmenter.rotateInPlane(&q, quarterTurns: 1)
        #expect(q.size == Shape3(3, 4, 2))
        #expect(q.labels[q.size.index(2, 1, 1)] == ns.labels[ns.size.index(1, 0, 1)])
    }

    @Test("augmentation is deterministic under a seed, off when probabilities are zero, intensity-only on labels")
    func augmenter() {
        let p = SamplingTests.patch(seed: 11)
        var a = p, b = p
        var r1 = RNG(seed: 3), r2 = RNG(seed: 3)
        var everything = AugmentationConfig()
        everything.flipProbability = [1, 0, 0]; everything.rotateProbability = 0
        everything.scaleProbability = 1; everything.shiftProbability = 1; everything.gammaProbability = 1; everything.noiseProbability = 1
        Augmenter(config: everything).apply(&a, rng: &r1)
        Augmenter(config: everything).apply(&b, rng: &r2)
        #expect(a == b)
        var flippedOnly = p; Augmenter.flip(&flippedOnly, axis: 0)
        #expect(a.labels == flippedOnly.labels, "intensity augmentations never touch labels")
        #expect(a.image != flippedOnly.image)
        var c = p; var r3 = RNG(seed: 3)
        Augmenter(config: .none).apply(&c, rng: &r3)
        #expect(c == p)
    }

    @Test("gamma keeps the channel's range; scale and shift are exact")
    func intensity() {
        var d: [Float] = [0, 0.25, 0.5, 1, 2]
        Augmenter.gamma(&d, range: 0..<5, gamma: 2)
        #expect(d.first == 0 && d.last == 2)
        #expect(abs(d[2] - 0.125) < 1e-6)   // ((0.5/2)^2)·2
        var cfg = AugmentationConfig.none
        cfg.scaleProbability = 1; cfg.scaleRange = [2, 2]; cfg.shiftProbability = 1; cfg.shiftRange = [0.5, 0.5]
        let p = SamplingTests.patch(seed: 2)
        var q = p; var rng = RNG(seed: 0)
        Augmenter(config: cfg).apply(&q, rng: &rng)
        for i in p.image.indices { #expect(q.image[i] == p.image[i] * 2 + 0.5) }
    }
}
