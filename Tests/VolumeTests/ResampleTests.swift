import Foundation
import Testing
@testable import Volume

@Suite("resampling and cropping")
struct ResampleTests {
    /// f(world) = 2x − 3y + 0.5z + 7, sampled at voxel centres of `grid`.
    static func ramp(_ g: Grid) -> Volume {
        var v = Volume(grid: g)
        for k in 0..<g.shape.z { for j in 0..<g.shape.y { for i in 0..<g.shape.x {
            let w = g.affine.apply(SIMD3(Double(i), Double(j), Double(k)))
            v[i, j, k, 0] = Float(2 * w.x - 3 * w.y + 0.5 * w.z + 7)
        } } }
        return v
    }

    @Test("trilinear reproduces a linear ramp exactly wherever it interpolates (all voxels when downsampling)",
          arguments: [Shape3(7, 9, 5), Shape3(20, 30, 12), Shape3(13, 11, 10)])
    func linearRamp(target: Shape3) {
        let g = Grid(shape: Shape3(13, 17, 8), spacing: SIMD3(0.8, 0.7, 2.5),
                     affine: Affine(rowMajor: [0.8, 0, 0, -4, 0, 0.7, 0, 3, 0, 0, 2.5, 10, 0, 0, 0, 1]))
        let out = Resample.trilinear(ResampleTests.ramp(g), to: target)
        #expect(out.shape == target)
        var checked = 0
        for k in 0..<target.z { for j in 0..<target.y { for i in 0..<target.x {
            // Source coordinate of this voxel; outside [0, n-1] the edge is replicated (not linear).
            let src = g.affine.inverseApply(out.affine.apply(SIMD3(Double(i), Double(j), Double(k))))
            guard (0..<3).allSatisfy({ src[$0] >= -1e-9 && src[$0] <= Double(g.shape[$0] - 1) + 1e-9 }) else { continue }
            let w = out.affine.apply(SIMD3(Double(i), Double(j), Double(k)))
            let expected = 2 * w.x - 3 * w.y + 0.5 * w.z + 7
            #expect(abs(Double(out[i, j, k, 0]) - expected) < 1e-4 * max(1, abs(expected)), "voxel \(i),\(j),\(k)")
            checked += 1
        } } }
        if target.x <= g.shape.x && target.y <= g.shape.y && target.z <= g.shape.z { #expect(checked == target.count) }
        #expect(checked > target.count / 3)
    }

    @Test("resampled grid keeps the physical extent and centre")
    func gridExtent() {
        let g = Grid(shape: Shape3(10, 10, 10), spacing: SIMD3(1, 1, 3))
        let r = Resample.grid(g, to: Shape3(5, 20, 15))
        #expect(r.spacing == SIMD3(2, 0.5, 2))
        let centreIn = g.affine.apply(SIMD3(4.5, 4.5, 4.5)), centreOut = r.affine.apply(SIMD3(2, 9.5, 7))
        #expect(simd_distance(centreIn, centreOut) < 1e-12)
        #expect(Resample.shape(Shape3(100, 100, 40), from: SIMD3(0.8, 0.8, 2.5), to: SIMD3(1, 1, 1)) == Shape3(80, 80, 100))
    }

    @Test("nearest keeps label values and doubles a label grid exactly")
    func nearestLabels() {
        let g = Grid(shape: Shape3(3, 2, 2), spacing: SIMD3(1, 1, 1))
        let l = LabelVolume(grid: g, data: (0..<12).map { UInt8($0) })
        let up = Resample.nearest(l, to: Shape3(6, 4, 4))
        for k in 0..<4 { for j in 0..<4 { for i in 0..<6 { #expect(up[i, j, k] == l[i / 2, j / 2, k / 2]) } } }
        let down = Resample.nearest(up, to: Shape3(3, 2, 2))
        #expect(down.data == l.data)
    }

    @Test("non-zero bounding box, crop and paste back")
    func cropBox() {
        var v = Volume(grid: Grid(shape: Shape3(6, 5, 4), spacing: SIMD3(1, 2, 3)), channels: 2)
        v[1, 2, 1, 0] = 5; v[4, 3, 2, 1] = -1
        let box = Crop.nonzeroBox(v)
        #expect(box == Box3(lower: Shape3(1, 2, 1), upper: Shape3(5, 4, 3)))
        let c = Crop.crop(v, to: box)
        #expect(c.shape == Shape3(4, 2, 2) && c[0, 0, 0, 0] == 5 && c[3, 1, 1, 1] == -1)
        #expect(simd_distance(c.affine.apply(.zero), v.affine.apply(SIMD3(1, 2, 1))) < 1e-12)
        var full = [Float](repeating: 0, count: v.data.count)
        Crop.paste(c.data, channels: 2, into: &full, shape: v.shape, box: box)
        #expect(full == v.data)
        #expect(Crop.nonzeroBox(Volume(grid: v.grid, channels: 1)) == Box3(lower: Shape3(0, 0, 0), upper: v.shape))
    }
}

extension Affine {
    /// Inverse map for diagonal-plus-translation affines (enough for these tests).
    func inverseApply(_ w: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3((w.x - self[0, 3]) / self[0, 0], (w.y - self[1, 3]) / self[1, 1], (w.z - self[2, 3]) / self[2, 2])
    }
}
