import Foundation
import Synchronization
import Testing
@preconcurrency import CNCurses
@testable import Workbench

/// The real ncurses loop on a pseudo-terminal: keys typed into the pty reach the command handler,
/// the screen is drawn, and a confirmed quit ends the loop once the (simulated) engine stops.
@Suite("terminal driver")
@MainActor
struct DriverTests {
    /// Runs the driver on a fresh 80×24 pty, typing `keys` one at a time. Each key waits until the previous
    /// one has visibly been answered: its `until` text is on screen, or (without one) the screen changed and
    /// went quiet. Quiet time alone is not enough: on a loaded machine the loop may not run for a while, and
    /// two keys handled in one pass never draw the frame between them.
    static func runOnPty(environment: [String: String], keys: [(key: String, until: String?)], graphics: GraphicsChoice = .cells,
                         pixels: (x: UInt16, y: UInt16) = (0, 0)) throws
        -> (text: String, commands: [Command], model: WorkbenchModel, ui: UIState) {
        var master: Int32 = -1, slave: Int32 = -1
        var size = winsize(ws_row: 24, ws_col: 80, ws_xpixel: pixels.x, ws_ypixel: pixels.y)
        try #require(openpty(&master, &slave, nil, nil, &size) == 0)
        let output = Mutex<[UInt8]>([])
        let finished = Mutex(false)
        let readerDone = DispatchSemaphore(value: 0), typistDone = DispatchSemaphore(value: 0)
        // The helper threads must be gone before `master` is closed: tests run concurrently, and a
        // thread still holding a closed descriptor number would read (steal) another pty's output.
        defer {
            finished.withLock { $0 = true }
            typistDone.wait()
            close(slave)  // the last slave descriptor: the reader's read() now ends with EIO
            readerDone.wait()
            close(master)
        }
        let reader = Thread { [master] in
            defer { readerDone.signal() }
            var buf = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(master, &buf, buf.count)
                // Other suites spawn processes; their SIGCHLD can interrupt this read (EINTR).
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                output.withLock { $0 += buf[0..<n] }
            }
        }
        reader.start()
        // Waits (at most 20 s) until `text` was drawn, or, without text, until output grew past `from`
        // and then stayed quiet for 0.2 s.
        @Sendable func waitForAnswer(text: String?, from: Int) {
            let deadline = Date().addingTimeInterval(20)
            var last = -1, quietSince = Date()
            while Date() < deadline && !finished.withLock({ $0 }) {
                let (n, seen) = output.withLock { bytes in
                    (bytes.count, text.map { String(decoding: bytes, as: UTF8.self).contains($0) } ?? false)
                }
                if seen { return }
                if n != last { last = n; quietSince = Date() }
                else if text == nil && n > from && Date().timeIntervalSince(quietSince) > 0.2 { return }
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        let typist = Thread { [master] in
            defer { typistDone.signal() }
            waitForAnswer(text: "candidates", from: 0)  // the first full frame
            for (key, until) in keys where !finished.withLock({ $0 }) {
                let before = output.withLock { $0.count }
                _ = key.utf8CString.withUnsafeBufferPointer { write(master, $0.baseAddress, strlen($0.baseAddress!)) }
                waitForAnswer(text: until, from: before)
            }
            // Watchdog: a hang becomes a clear failure, but only while this test is still running.
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline {
                if finished.withLock({ $0 }) { return }
                Thread.sleep(forTimeInterval: 0.1)
            }
            fatalError("driver test: the loop did not end within 120 s of the last key")
        }
        typist.start()

        var received = [Command]()
        var pauseAt: Date?, quitAt: Date?
        let (model, ui) = try TerminalDriver.run(
            model: WorkbenchDemo.model(volumeSize: VolumeSize(x: 24, y: 24, z: 8)),
            options: .init(environment: environment, inputFD: slave, outputFD: slave, graphics: graphics),
            update: { model in
                // The "engine" acknowledges a pause 0.2 s later and stops 0.2 s after a quit.
                if let t = pauseAt, Date().timeIntervalSince(t) > 0.2 { model.run.state = .paused; pauseAt = nil; return true }
                if let t = quitAt, Date().timeIntervalSince(t) > 0.2 { model.run.state = .stopped; quitAt = nil; return true }
                return false
            },
            onCommand: { command in
                received.append(command)
                if command == .pause { pauseAt = Date() }
                if command == .quit { quitAt = Date() }
                return .keepRunning
            })
        // Let the reader drain what ncurses wrote last (quiet for 0.3 s, at most 5 s).
        var last = -1, quietSince = Date()
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            let n = output.withLock { $0.count }
            if n != last { last = n; quietSince = Date() } else if Date().timeIntervalSince(quietSince) > 0.3 { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return (String(decoding: output.withLock { $0 }, as: UTF8.self), received, model, ui)
    }

    @Test("keys on a pty drive the loop: help, pause (acknowledged later), quit")
    func ptyLoop() throws {
        let run = try Self.runOnPty(environment: ["TERM": "xterm-256color"], keys: [("?", "show this help"), ("\u{1b}", nil), (" ", "PAUSED"), ("q", "Quit?"), ("y", nil)])
        #expect(run.commands == [.pause, .quit])
        #expect(run.model.run.state == .stopped)
        #expect(run.ui.quitRequested && run.ui.overlay == nil)
        for s in ["Task09_Spleen", "show this help", "PAUSED", "Quit? The run is checkpointed first.", "candidates"] {
            #expect(run.text.contains(s), "\(s) was not drawn")
        }
        #expect(run.text.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) })
        #expect(run.text.contains("\u{1b}[38;5;"))  // 256-colour foreground escapes
        #expect(run.text.contains("\u{1b}[?1049l"))  // endwin left the alternate screen
    }

    @Test("colour modes on a real terminal: palette redefinition for COLORTERM=truecolor, none for NO_COLOR")
    func colourModes() throws {
        // xterm-256color can redefine colours (ccc, initc = OSC 4), so truecolor is emulated with palette slots.
        let truecolor = try Self.runOnPty(environment: ["TERM": "xterm-256color", "COLORTERM": "truecolor"], keys: [("q", "Quit?"), ("y", nil)])
        #expect(truecolor.commands == [.quit])
        #expect(truecolor.text.contains("\u{1b}]4;16;rgb:"))
        #expect(truecolor.text.contains("\u{1b}]104"))  // and ncurses restores the palette at exit (oc)
        let mono = try Self.runOnPty(environment: ["TERM": "xterm-256color", "NO_COLOR": "1"], keys: [("q", "Quit?"), ("y", nil)])
        #expect(mono.commands == [.quit])
        #expect(!mono.text.contains("\u{1b}[38;5;") && !mono.text.contains("\u{1b}[48;5;") && !mono.text.contains("\u{1b}]4;"))
        #expect(mono.text.contains("Task09_Spleen"))
    }

    @Test("sixel on a pty: images after the frame at their cells, none under the help popup, sent again after it")
    func sixelImages() throws {
        // 800×480 px for 80×24 cells: 10×20 px cells.
        let run = try Self.runOnPty(environment: ["TERM": "xterm-256color"], keys: [("?", "show this help"), ("\u{1b}", nil), ("q", "Quit?"), ("y", nil)],
                                    graphics: .sixel, pixels: (800, 480))
        #expect(run.commands == [.quit])
        let text = run.text
        let images = text.components(separatedBy: "\u{1b}P0;1;0q").count - 1
        // Shown at start, replaced by cells under the popup, shown again when it closes (the quit
        // dialog is a popup too).
        #expect(images >= 2, "\(images) sixel images")
        // Each image: save cursor, CUP to its cell, the sixel, restore cursor.
        let placed = text.components(separatedBy: "\u{1b}7\u{1b}[").dropFirst().filter { $0.contains("H\u{1b}P0;1;0q") }
        #expect(placed.count == images)
        for p in placed {
            let cup = p.prefix { $0 != "H" }.split(separator: ";").compactMap { Int($0) }
            #expect(cup.count == 2 && (2...23).contains(cup[0]) && (1...80).contains(cup[1]), "CUP \(cup)")
        }
        // No full-screen erase after the first image (it would wipe it without a re-send).
        let first = text.range(of: "\u{1b}P0;1;0q")!.lowerBound
        #expect(!text[first...].contains("\u{1b}[2J"))
        #expect(text.contains("sixel graphics from --graphics sixel, cells 10×20 px"))
    }

    @Test("no terminal: a clear error instead of ncurses exiting the process")
    func notATerminal() {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        #expect(throws: TerminalError.notATerminal) {
            try TerminalDriver.run(model: WorkbenchModel(), options: .init(inputFD: fds[0], outputFD: fds[1]),
                                   update: { _ in false }, onCommand: { _ in .exit })
        }
        #expect(TerminalError.notATerminal.description.contains("headless"))
    }
}

/// Manual check only: with WORKBENCH_TMUX_DEMO=1 the workbench runs on the real terminal with the
/// demo model and a pretend engine (acknowledges pause/resume after 0.3 s, stops 0.5 s after quit).
/// Skipped otherwise, so CI never needs a terminal.
@Suite("interactive demo")
@MainActor
struct InteractiveDemo {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["WORKBENCH_TMUX_DEMO"] != nil))
    func runOnTerminal() throws {
        let themes = Theme.loadAll(directory: ThemeTests.themesDirectory).themes
        // The test runner owns stdout; draw on the controlling terminal instead.
        let tty = open("/dev/tty", O_RDWR)
        try #require(tty >= 0)
        defer { close(tty) }
        var pending: (Date, RunActivity)?
        var logs = [LogLine]()
        var caseRequest: Int?
        try TerminalDriver.run(
            model: WorkbenchDemo.model(volumeSize: VolumeSize(x: 64, y: 64, z: 40)),
            options: .init(themes: themes, inputFD: tty, outputFD: tty),
            update: { model in
                var changed = false
                if let (t, state) = pending, Date().timeIntervalSince(t) > (state == .stopped ? 0.5 : 0.3) {
                    model.run.state = state
                    pending = nil
                    changed = true
                }
                if !logs.isEmpty { model.log += logs; logs.removeAll(); changed = true }
                if let c = caseRequest { model.slices.caseIndex = c; caseRequest = nil; changed = true }
                return changed
            },
            onCommand: { command in
                switch command {
                case .pause: pending = (Date(), .paused)
                case .resume: pending = (Date(), .running)
                case .quit: pending = (Date(), .stopped)
                case .nextStage: logs.append(LogLine(.info, "next stage requested"))
                case .export(let id): logs.append(LogLine(.info, "exported \(id) to export/\(id).json"))
                case .selectCase(let i): caseRequest = i
                case .redraw: break
                }
                return .keepRunning
            })
    }
}
