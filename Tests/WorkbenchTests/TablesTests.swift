import Testing
@testable import Workbench

@Suite("tables, log, header and formats")
struct TablesTests {
    let theme = Theme.builtIn.resolved(for: .palette256)

    func rows(_ n: Int) -> [CandidateRow] {
        (0..<n).map { i in
            CandidateRow(id: n <= 3 ? ["a", "bb", "ccc"][i] : "t\(i)", rank: i + 1, dice: 0.781 - 0.01 * Double(i), params: 1_230_000,
                         macs: 25_400_000_000, memoryBytes: 1_610_612_736, topology: TopologyPath(cellLevels: [1, 1, 2, 2, 3, 4, 3, 3, 2, 1, 1, 1]))
        }
    }

    @Test("candidates: all columns when wide, dropped by priority when narrow, topology cut with …")
    func columns() {
        var c = BufferCanvas(rows: 4, cols: 60)
        CandidatesTable(rows: rows(3), selectedIndex: 1).draw(in: Rect(x: 0, y: 0, width: 60, height: 4), on: &c, theme: theme)
        #expect(c.line(0).hasPrefix("  # id   Dice params   MACs   mem topology"))
        #expect(c.line(1) == " #1 a   0.781  1.23M  25.4G  1.5G 112234332111".padded(to: 60))
        #expect(c.style(y: 2, x: 0) == theme.style(.selection))
        #expect(c.style(y: 2, x: 59) == theme.style(.selection))  // the whole row
        #expect(c.style(y: 1, x: 0) == theme.style(.text))

        var narrow = BufferCanvas(rows: 2, cols: 24)
        CandidatesTable(rows: rows(3), selectedIndex: 0).draw(in: Rect(x: 0, y: 0, width: 24, height: 2), on: &narrow, theme: theme)
        #expect(narrow.line(1) == " #1 0.781 112234332111  ")
        var tiny = BufferCanvas(rows: 2, cols: 20)
        CandidatesTable(rows: rows(3), selectedIndex: 0).draw(in: Rect(x: 0, y: 0, width: 20, height: 2), on: &tiny, theme: theme)
        #expect(tiny.line(1) == " #1 0.781 112234332…")
    }

    @Test("candidates: the selection stays in view; the shown candidate is marked")
    func scrolling() {
        let all = rows(30)
        var c = BufferCanvas(rows: 6, cols: 40)
        CandidatesTable(rows: all, selectedIndex: 12, shownID: all[9].id)
            .draw(in: Rect(x: 0, y: 0, width: 40, height: 6), on: &c, theme: theme)
        // 5 visible rows ending at the selected one: ranks 9…13 (rank column 3 wide for "#30").
        #expect(c.line(1).hasPrefix("  #9 t8 "))
        #expect(c.line(5).hasPrefix(" #13 t12 "))
        #expect(c.style(y: 5, x: 3) == theme.style(.selection))
        #expect(c.style(y: 4, x: 3) == theme.style(.text))
        #expect(c.line(2).hasPrefix("▸#10 t9 "))
        #expect(c.text.filter { $0 == "▸" }.count == 1)
    }

    @Test("candidates: Pareto mark and latency columns appear once known; evaluation lines take the foot")
    func paretoAndEvaluation() {
        var r = rows(3)
        r[0].paretoOptimal = true
        r[2].paretoOptimal = true
        r[1].latencyMs = 12.34
        var c = BufferCanvas(rows: 6, cols: 64)
        CandidatesTable(rows: r, selectedIndex: nil, evaluation: ["vs U-Net 0.700: Δ +0.081", "test Dice 0.781"])
            .draw(in: Rect(x: 0, y: 0, width: 64, height: 6), on: &c, theme: theme)
        #expect(c.line(0).hasPrefix("  # ◆ id   Dice params   MACs   mem    ms topology"))
        #expect(c.line(1).hasPrefix(" #1 ◆ a   0.781  1.23M  25.4G  1.5G     — 1122"))
        #expect(c.line(2).hasPrefix(" #2   bb  0.771  1.23M  25.4G  1.5G  12.3 1122"))
        #expect(c.line(3).hasPrefix(" #3 ◆ ccc"))
        #expect(c.line(4).hasPrefix("vs U-Net 0.700: Δ +0.081") && c.line(5).hasPrefix("test Dice 0.781"))
        #expect(c.style(y: 4, x: 0) == theme.style(.header))
    }

    @Test("candidates: each sort key orders best first, ties by rank, unknown latency last")
    func sorting() {
        var r = rows(3)
        r[0].macs = 30; r[1].macs = 10; r[2].macs = 10
        r[0].memoryBytes = 1; r[1].memoryBytes = 3; r[2].memoryBytes = 2
        r[0].latencyMs = 5; r[2].latencyMs = 1
        let m = WorkbenchModel(candidates: r.reversed())
        #expect(m.sortedCandidates(.fitness).map(\.id) == ["a", "bb", "ccc"])
        #expect(m.sortedCandidates(.macs).map(\.id) == ["bb", "ccc", "a"])
        #expect(m.sortedCandidates(.memory).map(\.id) == ["a", "ccc", "bb"])
        #expect(m.sortedCandidates(.latency).map(\.id) == ["ccc", "a", "bb"])
        // k cycles the key; selection and export follow the shown order.
        var s = UIState()
        (s, _) = KeyHandler.handle(.character("k"), state: s, model: m)
        #expect(s.candidateSort == .macs)
        #expect(KeyHandler.selectedCandidate(s, m)?.id == "bb")
        (s, _) = KeyHandler.handle(.down, state: s, model: m)
        #expect(KeyHandler.selectedCandidate(s, m)?.id == "ccc")
        for _ in 0..<4 { (s, _) = KeyHandler.handle(.character("k"), state: s, model: m) }
        #expect(s.candidateSort == .fitness)
    }

    @Test("log: level filter and scrolling back")
    func log() {
        let lines = [LogLine(.debug, "a"), LogLine(.info, "b"), LogLine(.warning, "c"), LogLine(.error, "d")]
        var c = BufferCanvas(rows: 3, cols: 10)
        LogPane(lines: lines, minimum: .warning).draw(in: Rect(x: 0, y: 0, width: 10, height: 3), on: &c, theme: theme)
        #expect(c.line(0) == "W c       " && c.line(1) == "E d       " && c.line(2) == String(repeating: " ", count: 10))
        #expect(c.style(y: 1, x: 0) == theme.style(.logError))
        var one = BufferCanvas(rows: 1, cols: 10)
        LogPane(lines: lines, scroll: 2).draw(in: Rect(x: 0, y: 0, width: 10, height: 1), on: &one, theme: theme)
        #expect(one.line(0).hasPrefix("I b"))
    }

    @Test("header drops the least important fields first and shows the acknowledged state")
    func header() {
        let run = RunView(dataset: "Task07_Pancreas", stage: "FINE", counters: [ProgressCounter("epoch", 3, of: 40)],
                          etaSeconds: 3729, secondsPerStep: 1.5, ramBytes: 2 << 30, state: .running)
        func draw(_ width: Int, _ r: RunView = run, requested: Bool? = nil) -> String {
            var c = BufferCanvas(rows: 1, cols: width)
            HeaderBar(run: r, requestedPause: requested).draw(in: Rect(x: 0, y: 0, width: width, height: 1), on: &c, theme: theme)
            return c.line(0)
        }
        #expect(draw(100).hasPrefix(" c2fnas ─ Task07_Pancreas ─ FINE epoch 3/40 ─ ETA 1:02:09 ─ 1.50 s/step ─ RAM 2.0G "))
        #expect(draw(80).hasPrefix(" c2fnas ─ Task07_Pancreas ─ FINE epoch 3/40 ─ ETA 1:02:09 ─ RAM 2.0G "))
        #expect(draw(70).hasPrefix(" c2fnas ─ Task07_Pancreas ─ FINE epoch 3/40 ─ ETA 1:02:09  "))
        #expect(draw(60).hasPrefix(" c2fnas ─ Task07_Pancreas ─ FINE epoch 3/40  "))
        #expect(draw(60).hasSuffix(" ▶ running "))
        #expect(draw(60, requested: true).hasSuffix(" ▶ pausing… "))
        var paused = run
        paused.state = .paused
        #expect(draw(60, paused).hasSuffix(" ⏸ PAUSED "))
        #expect(draw(60, paused, requested: false).hasSuffix(" ⏸ resuming… "))
    }

    @Test("number formats")
    func formats() {
        #expect(Format.si(999) == "999")
        #expect(Format.si(1000) == "1.00k")
        #expect(Format.si(1_234_567) == "1.23M")
        #expect(Format.si(99_950) == "100k")
        #expect(Format.si(25_400_000_000) == "25.4G")
        #expect(Format.bytes(512) == "512B")
        #expect(Format.bytes(1536) == "1.5K")
        #expect(Format.bytes(10 << 30) == "10G")
        #expect(Format.duration(41) == "0:41")
        #expect(Format.duration(3729) == "1:02:09")
        #expect(Format.duration(.nan) == "?")
    }
}
