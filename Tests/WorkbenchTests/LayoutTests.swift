import Testing
@testable import Workbench

@Suite("layout")
struct LayoutTests {
    /// Every rect inside the screen, none overlapping, and header + panels + footer tile the screen.
    func checkTiling(_ l: ScreenLayout, rows: Int, cols: Int) {
        let screen = Rect(x: 0, y: 0, width: cols, height: rows)
        let rects = [l.header, l.footer] + l.panels.values
        for r in rects { #expect(screen.contains(r), "\(r) outside \(cols)x\(rows)") }
        for i in rects.indices { for j in rects.indices where i < j {
            #expect(!rects[i].intersects(rects[j]), "\(rects[i]) overlaps \(rects[j]) at \(cols)x\(rows)")
        } }
        #expect(rects.reduce(0) { $0 + $1.width * $1.height } == rows * cols)
    }

    @Test("80×24: every panel visible and usable")
    func standard() {
        let l = ScreenLayout.compute(rows: 24, cols: 80)
        checkTiling(l, rows: 24, cols: 80)
        #expect(Set(l.panels.keys) == Set(Panel.allCases))
        #expect(l.header == Rect(x: 0, y: 0, width: 80, height: 1))
        #expect(l.footer == Rect(x: 0, y: 23, width: 80, height: 1))
        // Inside the frames: the topology fits 12 cells at spacing 3 (3 + 33 + 1 columns) and 4 levels + ops + legend.
        let topo = l.panels[.topology]!.inset(1)
        #expect(topo.width >= 37 && topo.height >= 6)
        #expect(l.panels[.curves]!.inset(1).height >= 5)
        #expect(l.panels[.slices]!.inset(1).height >= 7)
        #expect(l.panels[.ops]!.inset(1).height >= 7 && l.panels[.ops]!.inset(1).width >= 17)  // 12 cells: two compact columns + header
        #expect(l.panels[.candidates]!.inset(1).width >= 23)  // rank, Dice and a whole 12-cell topology
        #expect(l.panels[.candidates]!.inset(1).height >= 5)
        #expect(l.panels[.log]!.inset(1).height >= 2)
    }

    @Test("200×60: larger terminals give every panel more room")
    func large() {
        let small = ScreenLayout.compute(rows: 24, cols: 80), big = ScreenLayout.compute(rows: 60, cols: 200)
        checkTiling(big, rows: 60, cols: 200)
        for p in Panel.allCases {
            #expect(big.panels[p]!.width >= small.panels[p]!.width)
            #expect(big.panels[p]!.height >= small.panels[p]!.height)
        }
        #expect(big.panels[.log]!.height <= 14)
    }

    @Test("hidden panels give their room to the rest", arguments: Panel.allCases)
    func hidden(panel: Panel) {
        let l = ScreenLayout.compute(rows: 24, cols: 80, hidden: [panel])
        checkTiling(l, rows: 24, cols: 80)
        #expect(l.panels[panel] == nil)
        #expect(l.panels.count == 5)
    }

    @Test("only the log: it takes the whole body")
    func onlyLog() {
        let l = ScreenLayout.compute(rows: 30, cols: 100, hidden: Set(Panel.allCases).subtracting([.log]))
        #expect(l.panels[.log] == Rect(x: 0, y: 1, width: 100, height: 28))
    }

    @Test("many sizes tile the screen without overlap")
    func sweep() {
        for rows in stride(from: 2, through: 80, by: 7) {
            for cols in stride(from: 10, through: 260, by: 23) {
                checkTiling(ScreenLayout.compute(rows: rows, cols: cols), rows: rows, cols: cols)
                checkTiling(ScreenLayout.compute(rows: rows, cols: cols, hidden: [.ops, .curves]), rows: rows, cols: cols)
            }
        }
    }

    @Test("distribute honours weights, minimums and maximums")
    func distribute() {
        #expect(ScreenLayout.distribute(10, weights: [1, 1], minimums: [0, 0], maximums: [.max, .max]) == [5, 5])
        #expect(ScreenLayout.distribute(22, weights: [0.35, 0.45, 0.2], minimums: [6, 6, 3], maximums: [.max, .max, 14]) == [8, 10, 4])
        #expect(ScreenLayout.distribute(100, weights: [0.5, 0.5], minimums: [0, 0], maximums: [.max, 10]) == [90, 10])
        #expect(ScreenLayout.distribute(10, weights: [0.9, 0.1], minimums: [0, 4], maximums: [.max, .max]) == [6, 4])
        #expect(ScreenLayout.distribute(5, weights: [1, 0, 1], minimums: [0, 9, 0], maximums: [.max, .max, .max]) == [3, 0, 2])
    }
}
