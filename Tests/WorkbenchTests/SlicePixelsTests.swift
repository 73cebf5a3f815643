import Foundation
import Testing
import Pictures
@testable import Workbench

/// The slice pane on a pixel terminal (kitty / sixel / iTerm2) and its fallbacks.
@Suite("slice pixels")
struct SlicePixelsTests {
    /// 20×12×3 volume: grey ramp, label classes 1 (square) and 2 (bar), prediction misses part
    /// of the square and adds class 3; every axial slice the same.
    static func volume() -> SliceVolume {
        let s = VolumeSize(x: 20, y: 12, z: 3)
        var image = [Float](repeating: 0, count: s.count), label = [UInt8](repeating: 0, count: s.count)
        var pred = [UInt8](repeating: 0, count: s.count)
        for z in 0..<3 { for y in 0..<12 { for x in 0..<20 {
            let i = (z * 12 + y) * 20 + x
            image[i] = Float(x * 10 + y)
            if (3..<9).contains(x) && (2..<8).contains(y) { label[i] = 1; if x < 7 { pred[i] = 1 } }
            if x == 14 { label[i] = 2; pred[i] = 2 }
            if (16..<19).contains(x) && y > 8 { pred[i] = 3 }
        } } }
        return SliceVolume(name: "t", size: s, image: image, label: label, prediction: pred, classCount: 4,
                           classNames: [0: "background", 1: "caudate", 2: "putamen", 3: "thalamus"])
    }

    static let theme = Theme.builtIn.resolved(for: .truecolor)

    @Test("pixel canvas: one image a tile, at full resolution, the voxels scaled nearest-neighbour")
    func placements() throws {
        var canvas = BufferCanvas(rows: 12, cols: 100, cellPixels: (10, 20))
        let viewer = SliceViewer(volume: Self.volume(), axis: .axial, index: 1, overlay: .labelAndPrediction, window: 0...255)
        viewer.draw(in: Rect(x: 0, y: 0, width: 100, height: 12), on: &canvas, theme: Self.theme)
        #expect(canvas.placements.count == 3)
        let plane = viewer.plane
        let expected = SliceRenderer.render(plane, kind: .label, window: 0...255, palette: Self.theme.overlayPalette).image
        let label = canvas.placements[1]
        // 3 tiles of 32 cells × 10 rows → at most 320×200 px each; the 20×12 slice fits as 320×192 (×16).
        #expect(label.image.width == 320 && label.image.height == 192)
        #expect(label.image == expected.scaledNearest(width: 320, height: 192))
        // Placed inside its tile (columns 33…64), with the cells under it blank.
        #expect(label.cells.x >= 33 && label.cells.maxX <= 65)
        for y in label.cells.y..<label.cells.maxY { for x in label.cells.x..<label.cells.maxX { #expect(canvas.character(y: y, x: x) == " ") } }
        // Plane pixel (5, 4) is voxel x 5, y 7 (the top row is y 11): grey 57 under class 1's colour.
        #expect(label.image[5 * 16, 4 * 16] == RGB(grey: 57).mixed(with: OverlayPalette.standardClasses[0], 0.5))
        // The prediction tile outlines class 3 (x 16…18, y 9…11) in its own colour: (16, 1) is on its left edge.
        #expect(canvas.placements[2].image[16 * 16, 1 * 16] == OverlayPalette.standardClasses[2])
    }

    @Test("half-block fallback on a cell canvas: the same rendering, two pixels a cell")
    func halfBlocks() {
        var canvas = BufferCanvas(rows: 8, cols: 20)
        let viewer = SliceViewer(volume: Self.volume(), axis: .axial, index: 1, overlay: .label, window: 0...255)
        viewer.draw(in: Rect(x: 0, y: 0, width: 20, height: 8), on: &canvas, theme: Self.theme)
        #expect(canvas.placements.isEmpty)
        // One tile (label) 20 px wide, 12 px high = 6 cell rows under the status line.
        let img = SliceRenderer.render(viewer.plane, kind: .label, window: 0...255, palette: Self.theme.overlayPalette).image
        for row in 0..<6 { for x in 0..<20 {
            #expect(canvas.character(y: row + 1, x: x) == "▀")
            let top = img[x, 2 * row], bottom = img[x, 2 * row + 1]
            #expect(canvas.style(y: row + 1, x: x) == Style(fg: .rgb(top.r, top.g, top.b), bg: .rgb(bottom.r, bottom.g, bottom.b)))
        } }
    }

    @Test("legend names the classes of the slice in their colours; fill vs outline is explained")
    func legend() {
        var canvas = BufferCanvas(rows: 12, cols: 80)
        let viewer = SliceViewer(volume: Self.volume(), axis: .axial, index: 1, overlay: .labelAndPrediction, window: 0...255)
        viewer.draw(in: Rect(x: 0, y: 0, width: 80, height: 12), on: &canvas, theme: Self.theme)
        let legend = canvas.line(11)
        #expect(legend.hasPrefix("■ caudate ■ putamen ■ thalamus"))
        #expect(canvas.style(y: 11, x: 0).fg == .rgb(0xe6, 0x19, 0x4b))
        #expect(canvas.style(y: 11, x: 10).fg == .rgb(0x3c, 0xb4, 0x4b))
        let errors = SliceViewer(volume: Self.volume(), axis: .axial, index: 1, overlay: .errors, window: 0...255)
        var c2 = BufferCanvas(rows: 12, cols: 80)
        errors.draw(in: Rect(x: 0, y: 0, width: 80, height: 12), on: &c2, theme: Self.theme)
        #expect(c2.line(11).contains("missed") && c2.line(11).contains("false"))
    }

    @Test("16 colours: each class keeps its own ANSI colour; 256 colours: nearest palette entries")
    func degradation() {
        let t16 = Theme.builtIn.resolved(for: .ansi16)
        let colours = (1...12).map { t16.classColor($0) }
        #expect(Set(colours).count == 12)
        var canvas = BufferCanvas(rows: 8, cols: 20)
        SliceViewer(volume: Self.volume(), axis: .axial, index: 1, overlay: .label, window: 0...255)
            .draw(in: Rect(x: 0, y: 0, width: 20, height: 8), on: &canvas, theme: t16)
        // Square of class 1 at x 3…8, rows y 2…7 → top rows show y 11…0; y 7 is pixel row 4 → cell row 2.
        #expect(canvas.style(y: 3, x: 4).fg == .palette(9))
        #expect(canvas.style(y: 3, x: 14).fg == .palette(10))
        let t256 = Theme.builtIn.resolved(for: .palette256)
        if case .palette = t256.classColor(1) {} else { Issue.record("256-colour class colour is not a palette entry") }
    }

    @Test("a popup makes the slice fall back to cells, so no image covers it")
    func popup() {
        var canvas = BufferCanvas(rows: 30, cols: 100, cellPixels: (10, 20))
        var model = WorkbenchModel()
        model.slices = SlicesView(caseIndex: 0, caseCount: 1, volume: Self.volume())
        var ui = UIState()
        WorkbenchApp.render(model, ui: ui, theme: Self.theme, into: &canvas)
        #expect(!canvas.placements.isEmpty)
        ui.overlay = .help(scroll: 0)
        WorkbenchApp.render(model, ui: ui, theme: Self.theme, into: &canvas)
        #expect(canvas.placements.isEmpty)
    }
}

@Suite("graphics detection")
struct GraphicsDetectionTests {
    func decide(_ choice: GraphicsChoice, _ env: [String: String], cell: (Int, Int) = (10, 20), passthrough: Bool = false,
                reply: String? = nil) -> GraphicsSetup {
        GraphicsDetection.decide(choice, environment: env, cellPixels: cell, passthrough: { passthrough },
                                 probe: { reply.map { Array($0.utf8) } })
    }

    @Test("environment: kitty, iTerm2 (LC_TERMINAL survives SSH), sixel terminals")
    func environment() {
        #expect(decide(.auto, ["TERM": "xterm-kitty"]).mode == .kitty)
        #expect(decide(.auto, ["TERM": "xterm-256color", "LC_TERMINAL": "iTerm2"]).mode == .iterm)
        #expect(decide(.auto, ["TERM": "foot"]).mode == .sixel)
        #expect(decide(.auto, ["TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"]).mode == .sixel)
    }

    @Test("probe: a kitty reply before DA1 means kitty; DA1 with attribute 4 means sixel; else cells")
    func probe() {
        let env = ["TERM": "xterm-256color"]
        #expect(decide(.auto, env, reply: "\u{1B}_Gi=31;OK\u{1B}\\\u{1B}[?62;c").mode == .kitty)
        #expect(decide(.auto, env, reply: "\u{1B}[?63;1;2;4;6;9;15;16;22;28;29c").mode == .sixel)
        #expect(decide(.auto, env, reply: "\u{1B}[?64;1;2;6;9;15;16;17;18;21;22;28c").mode == .cells)
        #expect(decide(.auto, env, reply: "").mode == .cells)
        #expect(decide(.auto, env, reply: nil).mode == .cells)
        // xterm -ti vt340 without numColorRegisters has 16 registers: our 256-entry palette would be wrong.
        let few = decide(.auto, env, reply: "\u{1B}[?1;0;16S\u{1B}[?63;1;2;4;6c")
        #expect(few.mode == .cells && few.fixable && few.reason.contains("16 sixel colour registers"))
        #expect(decide(.auto, env, reply: "\u{1B}[?1;0;256S\u{1B}[?63;1;2;4;6c").mode == .sixel)
        #expect(decide(.sixel, env, reply: "\u{1B}[?1;0;16S\u{1B}[?63;4c").mode == .sixel)  // forced: as asked
        // xterm's DA1 attribute 42 contains a "4" but is not attribute 4.
        #expect(decide(.auto, env, reply: "\u{1B}[?65;1;42c").mode == .cells)
    }

    @Test("tmux: pixel modes only with passthrough, then wrapped; no probe inside tmux")
    func tmux() {
        let env = ["TERM": "tmux-256color", "TMUX": "/tmp/tmux-0/default,1,0", "LC_TERMINAL": "iTerm2"]
        #expect(decide(.auto, env, passthrough: false).mode == .cells && decide(.auto, env, passthrough: false).fixable)
        let on = decide(.auto, env, passthrough: true)
        #expect(on.mode == .iterm && on.tmuxWrap)
        #expect(decide(.auto, ["TERM": "tmux-256color", "TMUX": "x"], passthrough: true, reply: "\u{1B}[?63;4c").mode == .cells)
        #expect(decide(.sixel, ["TERM": "tmux-256color", "TMUX": "x"], passthrough: false).mode == .cells)
        #expect(decide(.sixel, ["TERM": "tmux-256color", "TMUX": "x"], passthrough: true).tmuxWrap)
    }

    @Test("--graphics forces a mode; auto without a pixel size stays in cells")
    func forced() {
        #expect(decide(.cells, ["TERM": "xterm-kitty"]).mode == .cells)
        #expect(decide(.sixel, ["TERM": "xterm"]).mode == .sixel)
        #expect(decide(.auto, ["TERM": "xterm-kitty"], cell: (0, 0)).mode == .cells)
        let forced = decide(.kitty, ["TERM": "xterm"], cell: (0, 0))
        #expect(forced.mode == .kitty && forced.cellPixels == (10, 20))
    }
}

@Suite("image emitter")
struct ImageEmitterTests {
    static func placement(_ x: Int, _ w: Int = 4) -> ImagePlacement {
        ImagePlacement(cells: Rect(x: x, y: 3, width: 2, height: 1), image: RGBImage(width: w, height: 6, fill: RGB(9, 9, 9)))
    }

    @Test("kitty: sent once at its cell, deleted by id when it changes, re-sent when forced")
    func kitty() throws {
        var e = ImageEmitter(setup: GraphicsSetup(mode: .kitty, tmuxWrap: false, cellPixels: (2, 6), reason: ""))
        let firstOut = e.output(for: [Self.placement(5)], force: false)
        let first = try #require(firstOut)
        #expect(first.hasPrefix("\u{1B}7\u{1B}[4;6H\u{1B}_Ga=T,"))
        #expect(first.hasSuffix("\u{1B}8"))
        let again = e.output(for: [Self.placement(5)], force: false)
        #expect(again == nil)
        let movedOut = e.output(for: [Self.placement(7)], force: false)
        let moved = try #require(movedOut)
        #expect(moved.hasPrefix(TerminalImage.kittyDelete(id: ImageEmitter.firstID)))
        #expect(moved.contains("\u{1B}[4;8H"))
        let forced = e.output(for: [Self.placement(7)], force: true)
        #expect(forced != nil)
        let cleared = e.clearAll()
        #expect(cleared == TerminalImage.kittyDelete(id: ImageEmitter.firstID))
    }

    @Test("sixel: the lines of a changed image are repainted by curses first")
    func sixel() {
        var e = ImageEmitter(setup: GraphicsSetup(mode: .sixel, tmuxWrap: false, cellPixels: (2, 6), reason: ""))
        _ = e.output(for: [Self.placement(5)], force: false)
        #expect(e.linesToRepaint(for: [Self.placement(5)], force: false).isEmpty)
        let lines = e.linesToRepaint(for: [Self.placement(5, 2)], force: false)
        #expect(lines.count == 1 && lines[0].y == 3 && lines[0].count == 1)
    }

    @Test("tmux: every sequence wrapped, placed at the pane's origin on the outer terminal")
    func tmux() throws {
        var e = ImageEmitter(setup: GraphicsSetup(mode: .sixel, tmuxWrap: true, cellPixels: (2, 6), reason: ""), paneOrigin: (10, 2))
        let output = e.output(for: [Self.placement(5)], force: false)
        let out = try #require(output)
        #expect(out.hasPrefix("\u{1B}Ptmux;\u{1B}\u{1B}7\u{1B}\u{1B}[6;16H\u{1B}\u{1B}P"))
        #expect(out.hasSuffix("\u{1B}\\"))
    }
}
