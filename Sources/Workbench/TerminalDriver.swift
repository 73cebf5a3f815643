import Foundation
@preconcurrency import CNCurses
import Pictures

/// Why the terminal UI could not start, and what to do instead.
public enum TerminalError: Error, CustomStringConvertible, Equatable {
    case notATerminal
    case cannotInitialize(term: String)

    public var description: String {
        switch self {
        case .notATerminal: return "standard input/output is not a terminal; run in a terminal, or use the headless CLI (c2fnas)"
        case .cannotInitialize(let term):
            return "ncurses cannot use terminal type \"\(term)\"; set TERM to one your system knows (e.g. xterm-256color)"
        }
    }
}

/// What the command handler wants the loop to do next.
public enum DriverControl: Sendable { case keepRunning, exit }

/// Runs the workbench on a terminal. Everything happens on the main thread: each tick it applies
/// model updates, redraws if anything changed, waits up to one tick for a key, maps it and hands
/// the resulting commands to the caller.
@MainActor
public enum TerminalDriver {
    public struct Options: Sendable {
        /// Themes cycled by `t` (the first is used at start); the built-in theme when empty.
        public var themes: [Theme]
        public var environment: [String: String]
        public var tickMilliseconds: Int32
        /// File descriptors of the terminal (a pty in tests); standard input and output by default.
        public var inputFD: Int32
        public var outputFD: Int32
        /// Terminal type; nil = $TERM.
        public var terminalName: String?
        /// How slices are drawn: detected (`auto`), a pixel protocol, or half-block cells.
        public var graphics: GraphicsChoice

        public init(themes: [Theme] = [], environment: [String: String] = ProcessInfo.processInfo.environment,
                    tickMilliseconds: Int32 = 50, inputFD: Int32 = STDIN_FILENO, outputFD: Int32 = STDOUT_FILENO,
                    terminalName: String? = nil, graphics: GraphicsChoice = .cells) {
            self.graphics = graphics
            self.themes = themes
            self.environment = environment
            self.tickMilliseconds = tickMilliseconds
            self.inputFD = inputFD
            self.outputFD = outputFD
            self.terminalName = terminalName
        }
    }

    /// Decodes a `get_wch` result: `status` is its return value, `code` the character or key code.
    public nonisolated static func decode(status: Int32, code: UInt32) -> Key? {
        if status == KEY_CODE_YES {
            switch Int32(code) {
            case KEY_UP: return .up
            case KEY_DOWN: return .down
            case KEY_LEFT: return .left
            case KEY_RIGHT: return .right
            case KEY_PPAGE: return .pageUp
            case KEY_NPAGE: return .pageDown
            case KEY_HOME: return .home
            case KEY_END: return .end
            case KEY_ENTER: return .enter
            case KEY_BTAB: return .backTab
            case KEY_BACKSPACE: return .backspace
            case KEY_RESIZE: return .resize
            default:
                for n in 1...24 where Int32(code) == cn_key_f(Int32(n)) { return .function(n) }
                return nil
            }
        }
        guard status == OK else { return nil }
        switch code {
        case 9: return .tab
        case 10, 13: return .enter
        case 27: return .escape
        case 8, 127: return .backspace
        case 1...26: return .control(Character(Unicode.Scalar(code + 96)!))
        default: return Unicode.Scalar(code).map { .character(Character($0)) }
        }
    }

    /// Runs until the command handler returns `.exit`, or a confirmed quit sees the run reach a
    /// terminal state. `update` applies pending model changes and returns whether any arrived.
    /// Returns the final model and UI state.
    @discardableResult
    public static func run(model initial: WorkbenchModel, ui initialUI: UIState = UIState(), options: Options = Options(),
                           update: (inout WorkbenchModel) -> Bool,
                           onCommand: (Command) -> DriverControl) throws(TerminalError) -> (WorkbenchModel, UIState) {
        guard isatty(options.inputFD) == 1, isatty(options.outputFD) == 1 else { throw .notATerminal }
        // Without a UTF-8 locale ncursesw draws nothing for box, braille and block characters.
        if setlocale(LC_ALL, "") == nil || cn_locale_is_utf8() == 0 { setlocale(LC_ALL, "C.UTF-8") }
        // Before curses: replies to the probe would otherwise arrive as keys.
        let graphics = detectGraphics(options)
        guard let out = fdopen(dup(options.outputFD), "w") else { throw .notATerminal }
        guard let inp = fdopen(dup(options.inputFD), "r") else { fclose(out); throw .notATerminal }
        let term = options.terminalName ?? options.environment["TERM"] ?? "xterm-256color"
        guard let screen = newterm(term, out, inp) else {
            fclose(out); fclose(inp)
            throw .cannotInitialize(term: term)
        }
        var emitter = ImageEmitter(setup: graphics, paneOrigin: graphics.tmuxWrap ? tmuxPaneOrigin(options.environment) : (0, 0))
        defer {
            writeAll(options.outputFD, emitter.clearAll())
            endwin()
            delscreen(screen)
            fclose(out)
            fclose(inp)
        }
        set_term(screen)
        let window = cn_stdscr()!
        cbreak()
        noecho()
        nonl()
        keypad(window, true)
        wtimeout(window, options.tickMilliseconds)
        set_escdelay(25)
        curs_set(0)
        var colors = 0, colorPairs = 0, canChange = false
        if has_colors() {
            start_color()
            use_default_colors()
            colors = Int(COLORS)
            colorPairs = Int(COLOR_PAIRS)
            canChange = can_change_color()
        }
        let depth = ColorDepth.detect(colors: colors, canChangeColor: canChange, environment: options.environment)
        var canvas = NCursesCanvas(window: window, depth: depth, colorCount: colors, colorPairs: colorPairs, canChangeColor: canChange)
        canvas.cellPixels = graphics.mode == .cells ? nil : graphics.cellPixels
        // Images are re-sent after a full repaint (ESC[2J clears kitty images) and a resize.
        var forceImages = true
        let themes = options.themes.isEmpty ? [Theme.builtIn] : options.themes
        var resolved = [Int: ResolvedTheme]()

        var model = initial, ui = initialUI
        if graphics.mode != .cells || graphics.fixable, ui.status == nil { ui.status = graphics.reason }
        var dirty = true
        while true {
            if update(&model) { dirty = true }
            if ui.quitRequested && model.run.state.isTerminal { break }
            if dirty {
                let index = ((ui.themeIndex % themes.count) + themes.count) % themes.count
                let theme = resolved[index] ?? themes[index].resolved(for: depth)
                resolved[index] = theme
                canvas.beginFrame()
                WorkbenchApp.render(model, ui: ui, theme: theme, into: &canvas)
                let images = canvas.placements
                for lines in emitter.linesToRepaint(for: images, force: forceImages) {
                    wredrawln(window, Int32(lines.y), Int32(lines.count))
                }
                wnoutrefresh(window)
                doupdate()
                // Image bytes go to the same terminal after curses has written the frame.
                if let bytes = emitter.output(for: images, force: forceImages) {
                    fflush(out)
                    writeAll(options.outputFD, bytes)
                }
                forceImages = false
                dirty = false
            }
            var code: wint_t = 0
            let status = wget_wch(window, &code)
            guard let key = decode(status: status, code: code) else { continue }
            dirty = true
            if key == .resize {
                canvas.refreshSize()
                if graphics.mode != .cells, let cell = cellPixelSize(options.outputFD) { canvas.cellPixels = cell }
                forceImages = true
                continue
            }
            let (next, commands) = KeyHandler.handle(key, state: ui, model: model)
            ui = next
            for command in commands {
                if command == .redraw {
                    clearok(curscr, true)
                    forceImages = true
                } else if onCommand(command) == .exit {
                    return (model, ui)
                }
            }
        }
        return (model, ui)
    }

    /// One cell's size in pixels from TIOCGWINSZ, nil when the terminal does not report pixels.
    nonisolated static func cellPixelSize(_ fd: Int32) -> (width: Int, height: Int)? {
        var rows: Int32 = 0, cols: Int32 = 0, xp: Int32 = 0, yp: Int32 = 0
        guard cn_window_size(fd, &rows, &cols, &xp, &yp) == 0, rows > 0, cols > 0, xp > 0, yp > 0 else { return nil }
        return (Int(xp / cols), Int(yp / rows))
    }

    /// `--graphics` resolved against this terminal (probing only for `auto`).
    static func detectGraphics(_ options: Options) -> GraphicsSetup {
        guard options.graphics != .cells else { return .cells }
        let env = options.environment
        return GraphicsDetection.decide(options.graphics, environment: env, cellPixels: cellPixelSize(options.outputFD) ?? (0, 0),
                                        passthrough: { GraphicsDetection.tmuxPassthroughEnabled(env) },
                                        probe: {
            let query = Array(GraphicsDetection.probeQuery.utf8)
            var reply = [CChar](repeating: 0, count: 512)
            let n = query.withUnsafeBufferPointer { q in
                q.withMemoryRebound(to: CChar.self) { cq in
                    cn_probe(options.inputFD, options.outputFD, cq.baseAddress, Int32(cq.count), &reply, Int32(reply.count), 400)
                }
            }
            return n < 0 ? nil : reply.prefix(Int(n)).map { UInt8(bitPattern: $0) }
        })
    }

    /// The pane's top-left cell on the outer terminal (tmux passthrough images are placed there).
    static func tmuxPaneOrigin(_ env: [String: String]) -> (x: Int, y: Int) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var args = ["tmux", "display-message", "-p"]
        if let pane = env["TMUX_PANE"] { args += ["-t", pane] }
        p.arguments = args + ["#{pane_left} #{pane_top}"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return (0, 0) }
        p.waitUntilExit()
        let parts = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int($0) }
        return parts.count == 2 ? (parts[0], parts[1]) : (0, 0)
    }

    /// Writes all of `text` to `fd`, retrying short writes and EINTR.
    nonisolated static func writeAll(_ fd: Int32, _ text: String) {
        guard !text.isEmpty else { return }
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}
