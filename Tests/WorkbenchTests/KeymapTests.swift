import Testing
@preconcurrency import CNCurses
@testable import Workbench

@Suite("keymap and key handling")
struct KeymapTests {
    let model = WorkbenchDemo.model(volumeSize: VolumeSize(x: 16, y: 16, z: 10))

    func press(_ keys: [Key], _ state: UIState = UIState(), model m: WorkbenchModel? = nil) -> (UIState, [Command]) {
        var s = state, all = [Command]()
        for k in keys {
            let (next, commands) = KeyHandler.handle(k, state: s, model: m ?? model)
            s = next
            all += commands
        }
        return (s, all)
    }

    @Test("the issue's keys are all bound, and no key is bound twice")
    func table() {
        let keys = Keymap.table.flatMap(\.keys)
        #expect(Set(keys).count == keys.count)
        let required: [Key: Action] = [
            .character("q"): .quit, .character("?"): .help, .function(1): .help, .escape: .closeOverlay,
            .character(" "): .togglePause, .character("p"): .togglePause, .character("n"): .nextStage,
            .tab: .nextPane, .backTab: .previousPane, .character("a"): .axis(.axial), .character("c"): .axis(.coronal),
            .character("s"): .axis(.sagittal), .character("["): .previousCase, .character("]"): .nextCase,
            .character("o"): .cycleOverlay, .character("t"): .cycleTheme, .character("e"): .exportCandidate,
            .enter: .showCandidate, .control("l"): .redraw, .up: .moveUp, .down: .moveDown, .left: .moveLeft,
            .right: .moveRight, .pageUp: .pageUp, .pageDown: .pageDown,
        ]
        for (k, a) in required { #expect(Keymap.action(for: k) == a, "\(k.label)") }
        for p in Panel.allCases { #expect(Keymap.action(for: .character(Character("\(p.rawValue)"))) == .togglePanel(p)) }
    }

    @Test("help overlay lists every binding (scrolling through it on a small screen)")
    func help() {
        let theme = Theme.builtIn.resolved(for: .palette256)
        var seen = ""
        for scroll in stride(from: 0, to: Keymap.table.count, by: 5) {
            var ui = UIState()
            ui.overlay = .help(scroll: scroll)
            var c = BufferCanvas(rows: 24, cols: 80)
            WorkbenchApp.render(model, ui: ui, theme: theme, into: &c)
            seen += c.text
        }
        for b in Keymap.table {
            #expect(seen.contains(b.keysLabel), "keys \(b.keysLabel)")
            #expect(seen.contains(b.description), "description of \(b.keysLabel)")
        }
        // On a tall screen it all fits at once.
        var ui = UIState()
        ui.overlay = .help(scroll: 0)
        var c = BufferCanvas(rows: Keymap.table.count + 8, cols: 100)
        WorkbenchApp.render(model, ui: ui, theme: theme, into: &c)
        for b in Keymap.table { #expect(c.text.contains(b.description)) }
    }

    @Test("pause asks the engine; the banner waits for its acknowledgement")
    func pause() {
        let (s, commands) = press([.character(" ")])
        #expect(commands == [.pause])
        #expect(s.requestedPause == true)
        let theme = Theme.builtIn.resolved(for: .palette256)
        var c = BufferCanvas(rows: 24, cols: 100)
        WorkbenchApp.render(model, ui: s, theme: theme, into: &c)
        #expect(!c.line(0).contains("PAUSED"))
        #expect(c.line(0).contains("pausing"))
        var paused = model
        paused.run.state = .paused
        WorkbenchApp.render(paused, ui: s, theme: theme, into: &c)
        #expect(c.line(0).contains("PAUSED"))
        #expect(press([.character("p")], s, model: paused).1 == [.resume])
        var finished = model
        finished.run.state = .finished
        #expect(press([.character("p")], model: finished).1.isEmpty)
    }

    @Test("quit and next stage ask first")
    func confirm() {
        let (asking, none) = press([.character("q")])
        #expect(none.isEmpty && asking.overlay == .confirm(.quit))
        let (quitting, commands) = press([.character("y")], asking)
        #expect(commands == [.quit] && quitting.quitRequested && quitting.overlay == nil)
        let (kept, nothing) = press([.character("n")], asking)
        #expect(nothing.isEmpty && !kept.quitRequested && kept.overlay == nil)
        #expect(press([.character("q"), .escape]).1.isEmpty)
        #expect(press([.character("n"), .enter]).1 == [.nextStage])
        #expect(press([.character("n"), .character("n")]).1.isEmpty)
    }

    @Test("selection, export and showing a candidate")
    func candidates() {
        let ranked = model.rankedCandidates
        let (s, commands) = press([.down, .down, .up, .down, .character("e")])
        #expect(commands == [.export(candidateID: ranked[2].id)])
        let (shown, _) = press([.enter], s)
        #expect(shown.shownCandidateID == ranked[2].id)
        #expect(press([.escape], shown).0.shownCandidateID == nil)
        #expect(press([.end]).0.selectedCandidateID == ranked.last!.id)
        #expect(press([.end, .home]).0.selectedCandidateID == ranked.first!.id)
        #expect(press([.character("e")], model: WorkbenchModel()).1.isEmpty)
    }

    @Test("panes, panels, slices, cases, overlay, theme, redraw")
    func navigation() {
        #expect(press([.tab]).0.focus == .slices)
        #expect(press([.backTab]).0.focus == .ops)
        var s = press([.character("5"), .tab]).0
        #expect(s.hidden == [.slices] && s.focus == .log)
        s = press([.character("4")]).0
        #expect(s.hidden == [.candidates] && s.focus == .curves)  // focus leaves a hidden panel
        // Slices: the middle of 10 is index 5; → +1, ↓ −1, PgUp +10 clamps at 9, Home 0.
        var focusSlices = UIState()
        focusSlices.focus = .slices
        #expect(KeyHandler.sliceIndex(focusSlices, model) == 5)
        #expect(KeyHandler.sliceIndex(press([.right, .right], focusSlices).0, model) == 7)
        #expect(KeyHandler.sliceIndex(press([.down], focusSlices).0, model) == 4)
        #expect(KeyHandler.sliceIndex(press([.pageUp], focusSlices).0, model) == 9)
        #expect(KeyHandler.sliceIndex(press([.home], focusSlices).0, model) == 0)
        #expect(press([.character("c")]).0.axis == .coronal)
        // The demo shows case 3 of 12 (index 2); the first case has no previous one.
        #expect(press([.character("[")]).1 == [.selectCase(1)])
        #expect(press([.character("]")]).1 == [.selectCase(3)])
        var first = model
        first.slices.caseIndex = 0
        #expect(press([.character("[")], model: first).1.isEmpty)
        #expect(press([.character("o")]).0.overlayMode == .label)
        #expect(press([.character("t"), .character("t")]).0.themeIndex == 2)
        #expect(press([.control("l")]).1 == [.redraw])
        #expect(press([.character("?")]).0.overlay == .help(scroll: 0))
        #expect(press([.function(1), .escape]).0.overlay == nil)
        #expect(press([.character("f")]).0.logMinimum == .info)
        #expect(abs(press([.character("w"), .character("W")]).0.windowScale - 1) < 1e-12)
    }

    @Test("ncurses key codes decode to keys")
    func decode() {
        let yes = Int32(KEY_CODE_YES)
        #expect(TerminalDriver.decode(status: yes, code: UInt32(KEY_UP)) == .up)
        #expect(TerminalDriver.decode(status: yes, code: UInt32(KEY_NPAGE)) == .pageDown)
        #expect(TerminalDriver.decode(status: yes, code: UInt32(KEY_BTAB)) == .backTab)
        #expect(TerminalDriver.decode(status: yes, code: UInt32(KEY_RESIZE)) == .resize)
        #expect(TerminalDriver.decode(status: yes, code: UInt32(cn_key_f(1))) == .function(1))
        #expect(TerminalDriver.decode(status: OK, code: 113) == .character("q"))
        #expect(TerminalDriver.decode(status: OK, code: 0xE9) == .character("é"))
        #expect(TerminalDriver.decode(status: OK, code: 9) == .tab)
        #expect(TerminalDriver.decode(status: OK, code: 13) == .enter)
        #expect(TerminalDriver.decode(status: OK, code: 27) == .escape)
        #expect(TerminalDriver.decode(status: OK, code: 12) == .control("l"))
        #expect(TerminalDriver.decode(status: ERR, code: 0) == nil)
    }
}
