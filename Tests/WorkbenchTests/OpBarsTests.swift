import Foundation
import Testing
@testable import Workbench

@Suite("op probability bars")
struct OpBarsTests {
    let theme = Theme.builtIn.resolved(for: .palette256)

    @Test("eighth blocks from probabilities")
    func bars() {
        #expect(OpBars.bar(0) == " ")
        #expect(OpBars.bar(0.05) == " ")
        #expect(OpBars.bar(0.125) == "▁")
        #expect(OpBars.bar(0.25) == "▂")
        #expect(OpBars.bar(0.5) == "▄")
        #expect(OpBars.bar(0.874) == "▇")
        #expect(OpBars.bar(1) == "█")
        #expect(OpBars.bar(1.7) == "█")
    }

    @Test("lines per cell with leading op and an early-collapse warning")
    func lines() {
        let view = OpProbabilitiesView(opNames: ["2D", "3D", "P3D"], cells: [[0.5, 0.25, 0.25], [1, 0, 0]], progress: 0.1)
        // Entropy by hand: [.5,.25,.25] → 1.0397 nats / ln 3 = 0.946; one-hot → 0.
        #expect(abs(view.normalizedEntropy(cell: 0) - (-(0.5 * log(0.5) + 0.5 * log(0.25))) / log(3.0)) < 1e-12)
        #expect(view.normalizedEntropy(cell: 1) == 0)
        var c = BufferCanvas(rows: 3, cols: 30)
        OpBars(view: view).draw(in: Rect(x: 0, y: 0, width: 30, height: 3), on: &c, theme: theme)
        #expect(c.line(0).hasPrefix("   23P "))
        #expect(c.line(1).hasPrefix("c1 ▄▂▂ 2D  0.50 "))
        #expect(c.line(2).hasPrefix("c2 █   2D  1.00⚠"))
        #expect(c.style(y: 2, x: 15) == theme.style(.warning))
        #expect(c.style(y: 1, x: 4) == theme.style(.op3D))
        #expect(OpBars(view: view).collapsedCells == [1])
        // Late in the stage a confident cell is fine.
        var late = view
        late.progress = 0.9
        #expect(OpBars(view: late).collapsedCells.isEmpty)
    }

    @Test("twelve cells in eight rows use two compact columns")
    func columns() {
        let view = OpProbabilitiesView(cells: (0..<12).map { _ in [0.4, 0.3, 0.3] }, progress: 0.5)
        var c = BufferCanvas(rows: 7, cols: 18)
        OpBars(view: view).draw(in: Rect(x: 0, y: 0, width: 18, height: 7), on: &c, theme: theme)
        #expect(c.line(1).hasPrefix("c1  ▃▂▂  c7  ▃▂▂"))
        #expect(c.line(6).hasPrefix("c6  ▃▂▂  c12 ▃▂▂"))
    }
}
