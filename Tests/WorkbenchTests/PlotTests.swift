import Testing
@testable import Workbench

@Suite("braille line plot")
struct PlotTests {
    let theme = Theme.builtIn.resolved(for: .palette256)

    @Test("braille bit layout follows Unicode dot numbering")
    func brailleBits() {
        // Dots 1-2-3 down the left column, 4-5-6 down the right, 7 and 8 on the bottom row.
        let expected: [(dx: Int, dy: Int, bit: UInt8)] = [(0, 0, 0x01), (0, 1, 0x02), (0, 2, 0x04), (1, 0, 0x08),
                                                          (1, 1, 0x10), (1, 2, 0x20), (0, 3, 0x40), (1, 3, 0x80)]
        for e in expected {
            var g = BrailleGrid(cols: 1, rows: 1)
            g.set(x: e.dx, y: e.dy)
            #expect(g.cell(col: 0, row: 0) == e.bit)
        }
        #expect(BrailleGrid.character(0xFF) == "⣿")
        #expect(BrailleGrid.character(0x00) == "⠀")
    }

    @Test("a diagonal series gives hand-computed braille cells and axis labels")
    func diagonal() {
        // 2 rows × 4 plot columns = 8×8 dots; steps 0…7 map to dot x 0…7, values 0…1 to dot y 7…0.
        let series = PlotSeries(name: "s", points: (0...7).map { CurvePoint(step: $0, value: Double($0) / 7) }, role: .curveTrain)
        var c = BufferCanvas(rows: 2, cols: 9)
        LinePlot(series: [series]).draw(in: Rect(x: 0, y: 0, width: 9, height: 2), on: &c, theme: theme)
        // Row 0 holds dots (4,3) (5,2) → 0x40|0x20 = ⡠ and (6,1) (7,0) → 0x02|0x08 = ⠊.
        #expect(c.line(0) == "1.00┤  ⡠⠊")
        #expect(c.line(1) == "   0┤⡠⠊  ")
        #expect(c.style(y: 0, x: 7) == theme.style(.curveTrain))
        #expect(c.style(y: 0, x: 0) == theme.style(.axis))
    }

    @Test("legend, step axis, right axis and a stage boundary marker")
    func fullPlot() {
        let loss = PlotSeries(name: "loss", points: [CurvePoint(step: 0, value: 1), CurvePoint(step: 100, value: 1)], role: .curveTrain)
        let dice = PlotSeries(name: "dice", points: [CurvePoint(step: 0, value: 0.5), CurvePoint(step: 100, value: 0.5)],
                              role: .curveVal, side: .right)
        var c = BufferCanvas(rows: 6, cols: 40)
        LinePlot(series: [loss, dice], boundaries: [StageBoundary(step: 50, label: "fine")])
            .draw(in: Rect(x: 0, y: 0, width: 40, height: 6), on: &c, theme: theme)
        #expect(c.line(0).hasPrefix("━ loss 1.000  ━ dice 0.500"))
        #expect(c.line(5).contains("└0"))
        #expect(c.line(5).contains("step 100┘"))
        // Flat series: the range is widened by ±0.5, so 1.0 sits mid-height, as does 0.5 on the right.
        #expect(c.line(1).hasPrefix("1.50┤"))
        #expect(c.line(1).hasSuffix("├1.00"))
        #expect(c.line(4).hasPrefix("0.50┤"))
        #expect(c.line(4).hasSuffix("├0   "))
        // The boundary column: ┊ where no data, label at the top.
        let plotX = 5, plotCols = 40 - 5 - 5
        let col = plotX + Int((0.5 * Double(plotCols * 2 - 1)).rounded()) / 2
        #expect(c.character(y: 1, x: col) == "┊")
        #expect(c.line(1).contains("┊fine"))
        #expect(c.style(y: 1, x: col) == theme.style(.grid))
        // Where the two flat lines share cells the later series (dice) owns the colour.
        // Both sit at dot row round(7.5) = 8 of 16: the top dots of plot row 2 (canvas row 3).
        let braille = (0..<40).filter { (0x2801...0x28FF).contains(c.character(y: 3, x: $0).unicodeScalars.first!.value) }
        #expect(braille.count == plotCols)  // the boundary marker never covers data
        #expect(braille.allSatisfy { c.style(y: 3, x: $0) == theme.style(.curveVal) })
    }

    @Test("log scale puts decades at equal heights")
    func logScale() {
        // Values 1, 10, 100 at steps 0, 1, 2: log10 gives 0, 1, 2 → dot rows 7, 3.5→4, 0 on 8 dot rows.
        let s = PlotSeries(name: "l", points: [CurvePoint(step: 0, value: 1), CurvePoint(step: 1, value: 10), CurvePoint(step: 2, value: 100)],
                           role: .curveTrain, logScale: true)
        var c = BufferCanvas(rows: 2, cols: 11)
        LinePlot(series: [s]).draw(in: Rect(x: 0, y: 0, width: 11, height: 2), on: &c, theme: theme)
        #expect(c.line(0).hasPrefix(" 100┤"))
        #expect(c.line(1).hasPrefix("1.00┤"))
        // Gutter 5, so 6 plot columns = 12 dots: step 1 → dot x round(5.5) = 6 → cell column 3 (left dot);
        // value 10 → dot row round(3.5) = 4 → the top dot of cell row 1.
        let scalar = c.character(y: 1, x: 5 + 3).unicodeScalars.first!.value
        #expect((0x2800...0x28FF).contains(scalar))
        #expect((scalar - 0x2800) & 0x01 != 0)
    }

    @Test("empty and tiny plots do not draw outside their rect")
    func tiny() {
        for (w, h) in [(0, 0), (1, 1), (4, 1), (5, 2), (6, 3), (12, 4)] {
            var c = BufferCanvas(rows: 10, cols: 30)
            let s = PlotSeries(name: "x", points: [CurvePoint(step: 0, value: 1), CurvePoint(step: 5, value: 2)], role: .curveTrain)
            LinePlot(series: [s]).draw(in: Rect(x: 3, y: 2, width: w, height: h), on: &c, theme: theme)
            for y in 0..<10 { for x in 0..<30 where !(x >= 3 && x < 3 + w && y >= 2 && y < 2 + h) {
                #expect(c.character(y: y, x: x) == " ")
            } }
        }
    }
}
