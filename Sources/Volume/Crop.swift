/// Bounding boxes, cropping and pasting back.
public enum Crop {
    /// The smallest box holding every voxel that is non-zero in any channel (whole volume if none).
    public static func nonzeroBox(_ v: Volume) -> Box3 {
        let s = v.shape, n = s.count
        var lo = [Int.max, Int.max, Int.max], hi = [-1, -1, -1]
        v.data.withUnsafeBufferPointer { d in
            for k in 0..<s.z { for j in 0..<s.y {
                let row = (k * s.y + j) * s.x
                var first = -1, last = -1
                for i in 0..<s.x {
                    var any = false
                    for c in 0..<v.channels where d[c * n + row + i] != 0 { any = true; break }
                    if any { if first < 0 { first = i }; last = i }
                }
                if first >= 0 {
                    lo[0] = min(lo[0], first); hi[0] = max(hi[0], last)
                    lo[1] = min(lo[1], j); hi[1] = max(hi[1], j)
                    lo[2] = min(lo[2], k); hi[2] = max(hi[2], k)
                }
            } }
        }
        if hi[0] < 0 { return Box3(lower: Shape3(0, 0, 0), upper: s) }
        return Box3(lower: Shape3(lo), upper: Shape3(hi[0] + 1, hi[1] + 1, hi[2] + 1))
    }

    /// Grid of a sub-box: same spacing, affine moved to the box's first voxel.
    public static func grid(_ g: Grid, box: Box3) -> Grid {
        var t = Affine.identity
        t[0, 3] = Double(box.lower.x); t[1, 3] = Double(box.lower.y); t[2, 3] = Double(box.lower.z)
        return Grid(shape: box.size, spacing: g.spacing, affine: g.affine * t)
    }

    public static func crop(_ v: Volume, to box: Box3) -> Volume {
        if box.lower == Shape3(0, 0, 0) && box.upper == v.shape { return v }
        var out = [Float](); out.reserveCapacity(box.size.count * v.channels)
        for c in 0..<v.channels { copyBox(v.data, offset: c * v.shape.count, shape: v.shape, box: box, into: &out) }
        return Volume(grid: grid(v.grid, box: box), channels: v.channels, data: out)
    }

    public static func crop(_ l: LabelVolume, to box: Box3) -> LabelVolume {
        if box.lower == Shape3(0, 0, 0) && box.upper == l.shape { return l }
        var out = [UInt8](); out.reserveCapacity(box.size.count)
        copyBox(l.data, offset: 0, shape: l.shape, box: box, into: &out)
        return LabelVolume(grid: grid(l.grid, box: box), data: out)
    }

    /// Writes `part` (box-sized, `channels` channels) into `full` (shape `shape`) at `box`.
    public static func paste<T>(_ part: [T], channels: Int, into full: inout [T], shape: Shape3, box: Box3) {
        let b = box.size
        var src = 0
        for c in 0..<channels {
            for k in 0..<b.z { for j in 0..<b.y {
                let dst = c * shape.count + shape.index(box.lower.x, box.lower.y + j, box.lower.z + k)
                for i in 0..<b.x { full[dst + i] = part[src]; src += 1 }
            } }
        }
    }

    static func copyBox<T>(_ data: [T], offset: Int, shape: Shape3, box: Box3, into out: inout [T]) {
        for k in box.lower.z..<box.upper.z { for j in box.lower.y..<box.upper.y {
            let row = offset + shape.index(box.lower.x, j, k)
            out.append(contentsOf: data[row..<(row + box.size.x)])
        } }
    }
}
