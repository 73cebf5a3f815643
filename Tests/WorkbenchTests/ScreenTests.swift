import Foundation
import Testing
@testable import Workbench

@Suite("whole screen")
struct ScreenTests {
    static let theme = Theme.builtIn.resolved(for: .palette256)

    static func screen(rows: Int, cols: Int, ui: UIState = UIState(), model: WorkbenchModel = WorkbenchDemo.model(),
                       theme: ResolvedTheme = theme) -> BufferCanvas {
        var canvas = BufferCanvas(rows: rows, cols: cols)
        WorkbenchApp.render(model, ui: ui, theme: theme, into: &canvas)
        return canvas
    }

    @Test("demo screens show every panel", arguments: [(24, 80), (40, 120), (60, 200)])
    func demo(rows: Int, cols: Int) {
        let c = Self.screen(rows: rows, cols: cols)
        // For screenshots: WORKBENCH_SCREENS_DIR=/some/dir writes each screen as text.
        if let dir = ProcessInfo.processInfo.environment["WORKBENCH_SCREENS_DIR"] {
            try? c.text.write(toFile: "\(dir)/demo-\(cols)x\(rows).txt", atomically: true, encoding: .utf8)
        }
        let text = c.text
        for title in ["1 loss / Dice", "2 topology", "3 ops", "4 candidates 1/20", "5 slices", "6 log"] {
            #expect(text.contains(title), "\(title) at \(cols)x\(rows)")
        }
        #expect(c.line(0).hasPrefix(" c2fnas ─ Task09_Spleen ─ COARSE clusters 2/4 · gen 7/10"))
        #expect(c.line(0).hasSuffix("▶ running "))
        #expect(c.line(rows - 1).hasPrefix(" ? help · q quit · Space pause"))
        #expect(text.contains("●") && text.contains("▀") && text.contains("⚠"))
        #expect(text.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) })
    }

    @Test("panels toggled off disappear; Enter shows a candidate in the grid")
    func toggles() {
        var ui = UIState()
        ui.hidden = [.slices, .log]
        let c = Self.screen(rows: 24, cols: 80, ui: ui)
        #expect(!c.text.contains("5 slices") && !c.text.contains("6 log"))
        let model = WorkbenchDemo.model()
        let (shown, _) = KeyHandler.handle(.enter, state: UIState(), model: model)
        let s = Self.screen(rows: 24, cols: 80, ui: shown, model: model)
        let id = model.rankedCandidates[0].id
        #expect(s.text.contains("topology · candidate \(id)"))
        #expect(s.text.contains("grid shows candidate \(id)"))
        #expect(s.text.contains("▸"))
    }

    @Test("confirm dialog and empty model")
    func dialogs() {
        var ui = UIState()
        ui.overlay = .confirm(.quit)
        #expect(Self.screen(rows: 24, cols: 80, ui: ui).text.contains("Quit? The run is checkpointed first."))
        let empty = Self.screen(rows: 24, cols: 80, model: WorkbenchModel())
        for text in ["waiting for the first step", "no topology yet", "no fine stage yet", "no candidates yet", "no validation case loaded", "no log lines yet"] {
            #expect(empty.text.contains(text))
        }
    }

    @Test("any size renders without trapping, every theme and depth")
    func sizes() {
        let model = WorkbenchDemo.model(volumeSize: VolumeSize(x: 20, y: 20, z: 6))
        for depth in ColorDepth.allCases {
            let theme = Theme.builtIn.resolved(for: depth)
            for (rows, cols) in [(1, 1), (5, 10), (6, 24), (10, 40), (24, 80), (30, 100), (17, 213)] {
                var ui = UIState()
                ui.overlay = .help(scroll: 3)
                _ = Self.screen(rows: rows, cols: cols, model: model, theme: theme)
                _ = Self.screen(rows: rows, cols: cols, ui: ui, model: model, theme: theme)
            }
        }
        #expect(Self.screen(rows: 5, cols: 10).text.contains("terminal"))
    }

    @Test("monochrome screens use no colour at all")
    func monochrome() {
        let c = Self.screen(rows: 24, cols: 80, theme: Theme.builtIn.resolved(for: .monochrome))
        for y in 0..<24 { for x in 0..<80 {
            #expect(c.style(y: y, x: x).fg == .default && c.style(y: y, x: x).bg == .default)
        } }
        #expect(c.style(y: 0, x: 3).attributes.contains(.reverse))
    }
}

@Suite("render cost")
struct RenderCostTests {
    /// Counts the work a frame does instead of timing it (a shared machine makes times meaningless):
    /// a frame clears at most once and draws each cell a bounded number of times, so its cost grows
    /// with the screen, not with the run's history or the volume.
    struct CountingCanvas: Canvas {
        let rows: Int, cols: Int
        var puts = 0, clears = 0
        mutating func put(_ character: Character, y: Int, x: Int, style: Style) { puts += 1 }
        mutating func clear() { clears += 1 }
    }

    @Test("a 200×60 frame clears once and draws each cell at most a few times")
    func cost() {
        let theme = Theme.builtIn.resolved(for: .truecolor)
        var counts: [Int] = []
        for size in [VolumeSize(x: 32, y: 32, z: 16), VolumeSize(x: 96, y: 96, z: 48)] {
            let model = WorkbenchDemo.model(volumeSize: size)
            var canvas = CountingCanvas(rows: 60, cols: 200)
            WorkbenchApp.render(model, ui: UIState(), theme: theme, into: &canvas)
            print("render 200x60 of a \(size.x)x\(size.y)x\(size.z) volume: \(canvas.puts) cells drawn, \(canvas.clears) clear")
            #expect(canvas.clears <= 1)
            #expect(canvas.puts > 0 && canvas.puts <= 4 * 60 * 200, "\(canvas.puts) cell draws for 12,000 cells")
            counts.append(canvas.puts)
        }
        // A 27x larger volume costs the same frame: the slice is resampled to the pane, not drawn voxel by voxel.
        #expect(counts[1] <= counts[0] + 60 * 200 / 10, "\(counts)")
    }
}
