import Testing
import Foundation
@preconcurrency import CNCurses

/// Proves the ncursesw binding: wide characters (box drawing, braille, half blocks) drawn into a
/// terminal made with newterm on a pseudo-terminal read back from the window unchanged.
@Suite("ncursesw binding")
@MainActor  // ncurses is process-global: serialise with the driver test on the main actor
struct NCursesBindingTests {
    @Test("draw and read back wide characters on a pty")
    func wideCharacters() throws {
        var master: Int32 = -1, slave: Int32 = -1
        try #require(cn_openpty(&master, &slave) == 0)
        defer { close(master) }
        // Drain the terminal output so ncurses never blocks on a full pty buffer.
        let drain = Thread { [master] in
            var buf = [UInt8](repeating: 0, count: 4096)
            while read(master, &buf, buf.count) > 0 {}
        }
        drain.start()

        if setlocale(LC_ALL, "") == nil || cn_locale_is_utf8() == 0 {
            setlocale(LC_ALL, "C.UTF-8")
        }
        let out = try #require(fdopen(slave, "w"))
        defer { fclose(out) }
        let inp = try #require(fdopen(dup(slave), "r"))
        defer { fclose(inp) }
        let screen = try #require(newterm("xterm-256color", out, inp))
        defer { endwin(); delscreen(screen) }
        let win = try #require(cn_stdscr())
        let text = "┌─┐ ⣿⠁ ▀▄█ é"
        var wide = text.unicodeScalars.map { wchar_t(bitPattern: $0.value) }
        wide.append(0)
        #expect(mvwaddnwstr(win, 2, 3, wide, Int32(wide.count - 1)) == OK)
        wrefresh(win)
        var readBack = ""
        for (i, _) in text.unicodeScalars.enumerated() {
            let wc = cn_wide_char_at(win, 2, Int32(3 + i))
            readBack.unicodeScalars.append(Unicode.Scalar(UInt32(bitPattern: wc))!)
        }
        #expect(readBack == text)
    }
}
