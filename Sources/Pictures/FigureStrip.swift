/// Display windows and figure strips shared by the workbench, `c2fnas overlay` and the report.
public enum Windowing {
    /// 1st–99th percentile of a strided sample (at most ~65k values, so it stays cheap): the
    /// workbench's automatic window.
    public static func percentile(_ values: [Float]) -> ClosedRange<Float> {
        guard !values.isEmpty else { return 0...1 }
        let stride = max(1, values.count / 65_536)
        var sample = [Float]()
        sample.reserveCapacity(values.count / stride + 1)
        var i = 0
        while i < values.count {
            if values[i].isFinite { sample.append(values[i]) }
            i += stride
        }
        guard !sample.isEmpty else { return 0...1 }
        sample.sort()
        let lo = sample[Int(Double(sample.count - 1) * 0.01)]
        let hi = sample[Int(Double(sample.count - 1) * 0.99)]
        return hi > lo ? lo...hi : lo...(lo + 1)
    }
}

/// Tiles of one slice side by side (e.g. image | label | prediction | errors), each scaled
/// nearest-neighbour to the same physical size, `gap` white pixels apart (black would merge
/// with the air around the body).
public enum FigureStrip {
    /// The display size of one tile: the longest side reaches at least `minSide` pixels with an
    /// integer zoom of the finest voxel spacing, and the physical aspect ratio is kept.
    public static func tileSize(_ plane: SlicePlane, minSide: Int = 384) -> (width: Int, height: Int) {
        let finest = min(plane.spacingU, plane.spacingV)
        let pu = Double(plane.u) * plane.spacingU / finest, pv = Double(plane.v) * plane.spacingV / finest
        let zoom = max(1, Int((Double(minSide) / max(pu, pv)).rounded(.up)))
        return (max(1, Int((pu * Double(zoom)).rounded())), max(1, Int((pv * Double(zoom)).rounded())))
    }

    public static func render(_ plane: SlicePlane, kinds: [TileKind], window: ClosedRange<Float>,
                              palette: OverlayPalette = OverlayPalette(), minSide: Int = 384, gap: Int = 4) -> RGBImage {
        let (w, h) = tileSize(plane, minSide: minSide)
        var strip = RGBImage(width: kinds.count * w + max(0, kinds.count - 1) * gap, height: h, fill: RGB(255, 255, 255))
        for (i, kind) in kinds.enumerated() {
            let tile = SliceRenderer.render(plane, kind: kind, window: window, palette: palette).image.scaledNearest(width: w, height: h)
            strip.paste(tile, x: i * (w + gap), y: 0)
        }
        return strip
    }
}
