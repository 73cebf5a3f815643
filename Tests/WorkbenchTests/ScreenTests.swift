import Testing
@testable import Workbench

@Suite("whole screen")
struct ScreenTests {
    static let theme = Theme.builtIn.resolved(for: .palette256)

    static func screen(rows: Int, cols: Int, ui: UIState = UIState(), model: WorkbenchModel = WorkbenchDemo.model()) -> BufferCanvas {
        var canvas = BufferCanvas(rows: rows, cols: cols)
        WorkbenchApp.render(model, ui: ui, theme: theme, into: &canvas)
        return canvas
    }

    @Test("demo screens", arguments: [(24, 80), (40, 120)])
    func demo(rows: Int, cols: Int) {
        let c = Self.screen(rows: rows, cols: cols)
        print("=== \(cols)x\(rows)\n" + c.text + "\n===")
    }
}
