import Foundation
import Pictures

/// What `--graphics` asks for: detect, a protocol, or character cells.
public enum GraphicsChoice: String, Sendable, CaseIterable {
    case auto, kitty, sixel, iterm, cells
}

/// How the slice viewer shows pictures on this terminal, and why.
public struct GraphicsSetup: Sendable, Equatable {
    public var mode: GraphicsMode
    /// Sequences go through tmux's passthrough (`DCS tmux; … ST`).
    public var tmuxWrap: Bool
    /// One cell in pixels (from TIOCGWINSZ); pixel modes need it.
    public var cellPixels: (width: Int, height: Int)
    /// One line for the log: what was chosen and from what.
    public var reason: String
    /// A pixel mode was possible but something the user can change stood in the way (tmux
    /// passthrough, sixel colour registers): the footer shows `reason` at start.
    public var fixable = false

    public static func == (a: GraphicsSetup, b: GraphicsSetup) -> Bool {
        a.mode == b.mode && a.tmuxWrap == b.tmuxWrap && a.cellPixels == b.cellPixels && a.reason == b.reason && a.fixable == b.fixable
    }

    public static let cells = GraphicsSetup(mode: .cells, tmuxWrap: false, cellPixels: (0, 0), reason: "cells")
}

/// Chooses the graphics mode at start-up, before curses owns the terminal. Order: `--graphics`
/// when not auto; the environment (TERM, LC_TERMINAL and, locally, TERM_PROGRAM /
/// KITTY_WINDOW_ID: over SSH only TERM and LC_* arrive); then a probe (kitty query plus DA1
/// with a short timeout). Inside tmux, pixel modes only with `allow-passthrough` on (the
/// sequences are then wrapped), since tmux swallows them otherwise; tmux answers DA1 itself, so
/// no probe there.
public enum GraphicsDetection {
    /// The kitty graphics query, the sixel colour-register count (XTSMGRAPHICS), then DA1 as the
    /// sentinel every terminal answers.
    public static let probeQuery = "\u{1B}_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\u{1B}\\\u{1B}[?1;1;0S\u{1B}[c"

    /// The sixel palette needs this many colour registers (`SixelPalette`).
    public static let sixelRegisters = 256

    /// Colour registers from an XTSMGRAPHICS reply (`ESC [ ? 1 ; 0 ; n S`), nil when absent.
    public static func colorRegisters(_ reply: [UInt8]) -> Int? {
        let text = String(decoding: reply, as: UTF8.self)
        guard let start = text.range(of: "\u{1B}[?1;0;"), let end = text[start.upperBound...].firstIndex(of: "S") else { return nil }
        return Int(text[start.upperBound..<end])
    }

    /// A pixel mode the environment names, or nil when it says nothing.
    public static func fromEnvironment(_ env: [String: String]) -> GraphicsMode? {
        let term = env["TERM"] ?? ""
        if term == "xterm-kitty" || env["KITTY_WINDOW_ID"] != nil { return .kitty }
        if env["LC_TERMINAL"] == "iTerm2" || env["TERM_PROGRAM"] == "iTerm.app" { return .iterm }
        if env["TERM_PROGRAM"] == "WezTerm" || term.hasPrefix("foot") || term == "mlterm" { return .sixel }
        if let k = env["KONSOLE_VERSION"].flatMap(Int.init), k >= 220_370 { return .sixel }
        return nil
    }

    /// The mode a probe reply shows: a kitty graphics answer (`ESC _G i=31 … ESC \`) before DA1
    /// means kitty; a DA1 answer (`ESC [ ? … c`) listing attribute 4 means sixel.
    public static func fromProbe(_ reply: [UInt8]) -> GraphicsMode? {
        let text = String(decoding: reply, as: UTF8.self)
        if text.contains("\u{1B}_Gi=31") { return .kitty }
        guard let start = text.range(of: "\u{1B}[?"), let end = text[start.upperBound...].firstIndex(of: "c") else { return nil }
        let attributes = text[start.upperBound..<end].split(separator: ";")
        return attributes.contains("4") ? .sixel : nil
    }

    public static func inTmux(_ env: [String: String]) -> Bool {
        env["TMUX"] != nil || (env["TERM"] ?? "").hasPrefix("tmux")
    }

    /// Decides. `probe` sends `probeQuery` and returns the reply (nil: could not probe);
    /// `passthrough` says whether tmux forwards wrapped sequences; `cellPixels` is TIOCGWINSZ's
    /// pixel size of one cell, (0, 0) when the terminal does not report it.
    public static func decide(_ choice: GraphicsChoice, environment env: [String: String], cellPixels: (width: Int, height: Int),
                              passthrough: () -> Bool, probe: () -> [UInt8]?) -> GraphicsSetup {
        func cells(_ why: String, fixable: Bool = false) -> GraphicsSetup {
            GraphicsSetup(mode: .cells, tmuxWrap: false, cellPixels: (0, 0), reason: "half-block cells: \(why)", fixable: fixable)
        }
        if choice == .cells { return cells("--graphics cells") }
        let tmux = inTmux(env)
        var mode: GraphicsMode?
        var source: String
        switch choice {
        case .kitty: mode = .kitty; source = "--graphics kitty"
        case .sixel: mode = .sixel; source = "--graphics sixel"
        case .iterm: mode = .iterm; source = "--graphics iterm"
        case .auto, .cells:
            mode = fromEnvironment(env)
            source = "the environment"
            if mode == nil && !tmux, let reply = probe() {
                mode = fromProbe(reply)
                source = "the terminal's reply to a kitty query and DA1"
                // Fewer registers than the palette would show wrong colours: cells, with the fix.
                if mode == .sixel, let n = colorRegisters(reply), n < sixelRegisters {
                    return cells("the terminal has \(n) sixel colour registers, \(sixelRegisters) are needed (xterm: -xrm 'XTerm*numColorRegisters: 256'; or --graphics sixel)", fixable: true)
                }
            }
        }
        guard let mode else { return cells(tmux ? "inside tmux and the environment names no pixel terminal" : "the terminal shows no pixel protocol") }
        if tmux && !passthrough() {
            return cells("\(mode.rawValue) needs tmux allow-passthrough on (tmux set -g allow-passthrough on)", fixable: true)
        }
        var cell = cellPixels
        var note = ""
        if cell.width <= 0 || cell.height <= 0 {
            guard choice != .auto else { return cells("the terminal does not report its pixel size (TIOCGWINSZ)") }
            cell = (10, 20)
            note = "; cell size unknown, assuming 10×20 px"
        }
        return GraphicsSetup(mode: mode, tmuxWrap: tmux, cellPixels: cell,
                             reason: "\(mode.rawValue) graphics from \(source)\(tmux ? " through tmux passthrough" : ""), cells \(cell.width)×\(cell.height) px\(note)")
    }

    /// Asks the tmux this process runs in whether its pane forwards passthrough sequences.
    public static func tmuxPassthroughEnabled(_ env: [String: String]) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var args = ["tmux", "display-message", "-p"]
        if let pane = env["TMUX_PANE"] { args += ["-t", pane] }
        p.arguments = args + ["#{allow-passthrough}"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return false }
        p.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return p.terminationStatus == 0 && (text == "1" || text == "on" || text == "all")
    }
}
