import Testing
@testable import Workbench

@Suite("slice viewer")
struct SliceViewerTests {
    /// 8×8×8 zeros with a bright box x 2…5, y 3…5, z 2…5 (also its label).
    static func cube() -> SliceVolume {
        let s = VolumeSize(x: 8, y: 8, z: 8)
        var image = [Float](repeating: 0, count: s.count), label = [UInt8](repeating: 0, count: s.count)
        for z in 2...5 { for y in 3...5 { for x in 2...5 { image[(z * 8 + y) * 8 + x] = 1; label[(z * 8 + y) * 8 + x] = 1 } } }
        return SliceVolume(size: s, image: image, label: label)
    }

    func render(_ v: SliceViewer, depth: ColorDepth, width: Int = 8, height: Int = 5) -> BufferCanvas {
        var c = BufferCanvas(rows: height, cols: width)
        v.draw(in: Rect(x: 0, y: 0, width: width, height: height), on: &c, theme: Theme.builtIn.resolved(for: depth))
        return c
    }

    @Test("bright cube: half-block cells with grey fg/bg at 256 colours and truecolor")
    func cubeCells() {
        // 8×4 cells = 8×8 pixels at scale 1. Top row shows the highest y, so y 3…5 are pixel rows 2…4:
        // cell row 1 is bright top and bottom, cell row 2 bright on top only.
        let viewer = SliceViewer(volume: Self.cube(), axis: .axial, index: 4, overlay: .none, window: 0...1)
        for (depth, white, black) in [(ColorDepth.palette256, Color.palette(231), Color.palette(16)),
                                      (.truecolor, Color.rgb(255, 255, 255), Color.rgb(0, 0, 0))] {
            let c = render(viewer, depth: depth)
            #expect(c.line(0) == "axial 5/")  // the status line, cut to the 8 columns
            for row in 0..<4 {
                #expect(c.line(row + 1) == "▀▀▀▀▀▀▀▀")
                for x in 0..<8 {
                    let inside = (2...5).contains(x)
                    let top = inside && (row == 1 || row == 2), bottom = inside && row == 1
                    #expect(c.style(y: row + 1, x: x) == Style(fg: top ? white : black, bg: bottom ? white : black),
                            "row \(row) x \(x) at \(depth)")
                }
            }
        }
    }

    @Test("monochrome: ASCII ramp by the mean of the two pixels")
    func monochrome() {
        let viewer = SliceViewer(volume: Self.cube(), axis: .axial, index: 4, overlay: .none, window: 0...1)
        let c = render(viewer, depth: .monochrome)
        #expect(c.line(1) == "        ")
        #expect(c.line(2) == "  @@@@  ")
        #expect(c.line(3) == "  ++++  ")  // half bright: ramp index 5 of " .:-=+*#%@"
        #expect(c.line(4) == "        ")
    }

    @Test("label overlay tints by 50 % in the class colour")
    func labelTint() {
        let viewer = SliceViewer(volume: Self.cube(), axis: .axial, index: 4, overlay: .label, window: 0...1)
        let c = render(viewer, depth: .truecolor)
        // class-1 is #e6194b; halfway to white (255) is (243, 140, 165).
        #expect(c.style(y: 2, x: 3).fg == .rgb(243, 140, 165))
        #expect(c.style(y: 2, x: 1).fg == .rgb(0, 0, 0))
    }

    @Test("error view marks false positives and false negatives")
    func errors() {
        var v = Self.cube()
        // Prediction: the label moved one voxel in +x, so x = 2 is a miss (FN) and x = 6 a false alarm (FP).
        var pred = [UInt8](repeating: 0, count: v.size.count)
        for z in 2...5 { for y in 3...5 { for x in 3...6 { pred[(z * 8 + y) * 8 + x] = 1 } } }
        v.prediction = pred
        let viewer = SliceViewer(volume: v, axis: .axial, index: 4, overlay: .errors, window: 0...1)
        let theme = Theme.builtIn.resolved(for: .truecolor)
        let c = render(viewer, depth: .truecolor)
        #expect(c.style(y: 2, x: 2).fg == theme.tint(grey: 1, with: .errorFN, alpha: 0.7))
        #expect(c.style(y: 2, x: 6).fg == theme.tint(grey: 0, with: .errorFP, alpha: 0.7))
        #expect(c.style(y: 2, x: 4).fg == .rgb(255, 255, 255))
        let mono = render(viewer, depth: .monochrome)
        #expect(mono.line(2) == "  -@@@+ ")
        #expect(mono.style(y: 2, x: 2).attributes.contains(.reverse))
    }

    @Test("coronal and sagittal pick the right voxels; the top row is the highest index")
    func axes() {
        // Size 4×6×8 with one bright voxel at x 1, y 2, z 6.
        let s = VolumeSize(x: 4, y: 6, z: 8)
        var image = [Float](repeating: 0, count: s.count)
        image[(6 * 6 + 2) * 4 + 1] = 1
        let v = SliceVolume(size: s, image: image)
        func bright(_ c: BufferCanvas) -> [(y: Int, x: Int, top: Bool)] {
            var r = [(y: Int, x: Int, top: Bool)]()
            for y in 1..<c.rows { for x in 0..<c.cols {
                let st = c.style(y: y, x: x)
                if st.fg == .palette(231) { r.append((y - 1, x, true)) }
                if st.bg == .palette(231) { r.append((y - 1, x, false)) }
            } }
            return r
        }
        // Coronal y = 2: u = x, rows z 7…0 → z 6 is pixel row 1 → cell row 0, bottom half.
        let coronal = bright(render(SliceViewer(volume: v, axis: .coronal, index: 2, overlay: .none, window: 0...1),
                                    depth: .palette256, width: 4, height: 5))
        #expect(coronal.count == 1 && coronal[0] == (0, 1, false))
        // Sagittal x = 1: u = y → column 2.
        let sagittal = bright(render(SliceViewer(volume: v, axis: .sagittal, index: 1, overlay: .none, window: 0...1),
                                     depth: .palette256, width: 6, height: 5))
        #expect(sagittal.count == 1 && sagittal[0] == (0, 2, false))
        // Axial z = 6: rows y 5…0 → y 2 is pixel row 3 → cell row 1, bottom half.
        let axial = bright(render(SliceViewer(volume: v, axis: .axial, index: 6, overlay: .none, window: 0...1),
                                  depth: .palette256, width: 4, height: 4))
        #expect(axial.count == 1 && axial[0] == (1, 1, false))
        // Another slice has nothing bright.
        #expect(bright(render(SliceViewer(volume: v, axis: .axial, index: 5, overlay: .none, window: 0...1),
                              depth: .palette256, width: 4, height: 4)).isEmpty)
    }

    @Test("window and level")
    func window() {
        let w = SliceViewer.window(auto: 0...100, scale: 0.5, shift: 0.1)
        #expect(w == 35...85)
        #expect(SliceVolume.percentileWindow((0..<1001).map(Float.init)) == 10...990)
    }

    @Test("wide panels show image and overlays side by side")
    func tiles() {
        let viewer = SliceViewer(volume: WorkbenchDemo.volume(size: VolumeSize(x: 16, y: 16, z: 8)), axis: .axial, index: 4,
                                 overlay: .labelAndPrediction)
        #expect(viewer.tiles(fitting: 3) == [.image, .label, .prediction])
        #expect(viewer.tiles(fitting: 2) == [.image, .combined])
        #expect(viewer.tiles(fitting: 1) == [.combined])
        let c = render(viewer, depth: .palette256, width: 52, height: 9)
        #expect(c.line(0).hasPrefix("axial 5/8 img|label|pred"))
        var labelOnly = viewer
        labelOnly.overlay = .label
        #expect(render(labelOnly, depth: .palette256, width: 52, height: 9).line(0).hasPrefix("axial 5/8 img|label "))
    }
}
