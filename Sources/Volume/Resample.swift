/// Resampling between grids. Voxel centres are aligned the way image libraries do it for
/// "align_corners = false": output voxel i samples input coordinate (i + ½)·n_in/n_out − ½, so the
/// physical extent of the volume is kept and the affine stays exact.
public enum Resample {
    /// Voxel counts after changing spacing: round(n · s_in / s_out), at least 1.
    public static func shape(_ s: Shape3, from spacing: SIMD3<Double>, to target: SIMD3<Double>) -> Shape3 {
        Shape3(max(1, Int((Double(s.x) * spacing.x / target.x).rounded())),
               max(1, Int((Double(s.y) * spacing.y / target.y).rounded())),
               max(1, Int((Double(s.z) * spacing.z / target.z).rounded())))
    }

    /// The grid of a resampled volume: spacing scaled by n_in/n_out, affine shifted by half voxels.
    public static func grid(_ g: Grid, to shape: Shape3) -> Grid {
        var m = Affine.identity
        var spacing = g.spacing
        for a in 0..<3 {
            let r = Double(g.shape[a]) / Double(shape[a])
            m[a, a] = r
            m[a, 3] = 0.5 * r - 0.5
            spacing[a] *= r
        }
        return Grid(shape: shape, spacing: spacing, affine: g.affine * m)
    }

    /// Trilinear resampling of every channel (separable: three 1D linear passes).
    public static func trilinear(_ v: consuming Volume, to shape: Shape3) -> Volume {
        if shape == v.shape { return v }
        var out = [Float]()
        out.reserveCapacity(shape.count * v.channels)
        for c in 0..<v.channels {
            var data = v.channels == 1 ? v.data : v.channel(c)   // one channel: no copy
            var cur = v.shape
            for axis in 0..<3 where cur[axis] != shape[axis] {
                var next = cur; next[axis] = shape[axis]
                data = linearPass(data, shape: cur, axis: axis, to: shape[axis])
                cur = next
            }
            out.append(contentsOf: data)
        }
        return Volume(grid: grid(v.grid, to: shape), channels: v.channels, data: out)
    }

    /// Nearest-neighbour resampling of a label map.
    public static func nearest(_ l: LabelVolume, to shape: Shape3) -> LabelVolume {
        if shape == l.shape { return l }
        let ix = nearestIndices(l.shape.x, shape.x), iy = nearestIndices(l.shape.y, shape.y), iz = nearestIndices(l.shape.z, shape.z)
        var out = [UInt8](repeating: 0, count: shape.count)
        let s = l.shape
        l.data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                var o = 0
                for k in 0..<shape.z { for j in 0..<shape.y {
                    let row = (iz[k] * s.y + iy[j]) * s.x
                    for i in 0..<shape.x { dst[o] = src[row + ix[i]]; o += 1 }
                } }
            }
        }
        return LabelVolume(grid: grid(l.grid, to: shape), data: out)
    }

    /// Source coordinate of each output voxel, clamped to the input (edge voxels are replicated).
    static func coordinates(_ nIn: Int, _ nOut: Int) -> [Double] {
        let r = Double(nIn) / Double(nOut)
        return (0..<nOut).map { min(max((Double($0) + 0.5) * r - 0.5, 0), Double(nIn - 1)) }
    }
    static func nearestIndices(_ nIn: Int, _ nOut: Int) -> [Int] {
        coordinates(nIn, nOut).map { min(nIn - 1, Int(($0 + 0.5).rounded(.down))) }
    }

    /// Linear interpolation along one axis. Data is viewed as [outer][n][inner].
    static func linearPass(_ data: [Float], shape: Shape3, axis: Int, to nOut: Int) -> [Float] {
        let nIn = shape[axis]
        let inner = axis == 0 ? 1 : (axis == 1 ? shape.x : shape.x * shape.y)
        let outer = axis == 0 ? shape.y * shape.z : (axis == 1 ? shape.z : 1)
        let coords = coordinates(nIn, nOut)
        let i0 = coords.map { Int($0.rounded(.down)) }
        let i1 = i0.map { min($0 + 1, nIn - 1) }
        let w1 = zip(coords, i0).map { Float($0 - Double($1)) }
        var out = [Float](repeating: 0, count: outer * nOut * inner)
        data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for o in 0..<outer {
                    for i in 0..<nOut {
                        let a = src.baseAddress! + (o * nIn + i0[i]) * inner
                        let b = src.baseAddress! + (o * nIn + i1[i]) * inner
                        let d = dst.baseAddress! + (o * nOut + i) * inner
                        let w = w1[i], wa = 1 - w
                        for t in 0..<inner { d[t] = a[t] * wa + b[t] * w }
                    }
                }
            }
        }
        return out
    }
}
