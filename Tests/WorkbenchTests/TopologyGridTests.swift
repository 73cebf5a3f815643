import Testing
@testable import Workbench

@Suite("topology grid")
struct TopologyGridTests {
    let theme = Theme.builtIn.resolved(for: .palette256)
    func spaces(_ n: Int) -> String { String(repeating: " ", count: n) }

    @Test("C2FNAS-Panc: levels 1,1,2,2,3,4,3,3,2,1,1,1 with its ops")
    func pancreas() {
        var c = BufferCanvas(rows: 6, cols: 38)
        TopologyGrid(levels: 4, current: WorkbenchDemo.pancreas).draw(in: Rect(x: 0, y: 0, width: 38, height: 6), on: &c, theme: theme)
        // Cells every 3 columns from x = 3; down: ╮ then ╰ below it; up: ╯ then ╭ above it.
        #expect(c.line(0) == "L1 ●━━●╮" + spaces(21) + "╭●━━●━━●" + spaces(1))
        #expect(c.line(1) == "L2 " + spaces(4) + "╰━●━━●╮" + spaces(12) + "╭●━╯" + spaces(8))
        #expect(c.line(2) == "L3 " + spaces(10) + "╰━●╮" + spaces(3) + "╭●━━●━╯" + spaces(11))
        #expect(c.line(3) == "L4 " + spaces(13) + "╰━●━╯" + spaces(17))
        #expect(c.line(4) == "op 2  P  3  3  3  3  2  3  P  3  2  3" + spaces(1))
        #expect(c.line(5).hasPrefix("● now"))
        // Nodes take their level's colour, op letters their op's colour.
        #expect(c.style(y: 3, x: 18) == theme.style(.level4))
        #expect(c.style(y: 0, x: 3) == theme.style(.level1))
        #expect(c.style(y: 4, x: 6) == theme.style(.opP3D))
        #expect(c.style(y: 4, x: 3) == theme.style(.op2D))
    }

    @Test("current, best and medoid are drawn in layers with their own glyphs and colours")
    func layers() {
        var c = BufferCanvas(rows: 4, cols: 12)
        TopologyGrid(levels: 2, current: TopologyPath(cellLevels: [1, 1, 1]), best: TopologyPath(cellLevels: [1, 2, 1]),
                     medoid: TopologyPath(cellLevels: [1, 1, 2])).draw(in: Rect(x: 0, y: 0, width: 12, height: 4), on: &c, theme: theme)
        // Spacing (12 − 4) / 2 = 4. Current on top covers row 1; best shows on row 2; the medoid's last node peeks out.
        #expect(c.line(0) == "L1 ●━━━●━━━●")
        #expect(c.line(1) == "L2  ╚══◆══╝○")
        #expect(c.style(y: 1, x: 7) == theme.style(.topologyBest))
        #expect(c.style(y: 1, x: 11) == theme.style(.topologyMedoid))
        #expect(c.line(2).hasPrefix("● now"))  // the legend keeps what fits in 12 columns
    }

    @Test("narrow rects drop labels, then tighten spacing; nothing is drawn outside")
    func narrow() {
        var c = BufferCanvas(rows: 5, cols: 40)
        TopologyGrid(levels: 4, current: WorkbenchDemo.pancreas).draw(in: Rect(x: 2, y: 1, width: 24, height: 3), on: &c, theme: theme)
        #expect(c.line(1).hasPrefix("  ●━●╮"))  // no labels, spacing 2
        #expect(c.line(0).allSatisfy { $0 == " " })
        #expect(c.line(4).allSatisfy { $0 == " " })
        for y in 0..<5 { #expect(c.line(y).dropFirst(26).allSatisfy { $0 == " " }) }
    }
}
