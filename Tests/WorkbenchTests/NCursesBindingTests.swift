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
        // Drain the terminal output so ncurses never blocks on a full pty buffer. The drain ends with
        // EIO once every slave descriptor is closed; only then is `master` closed, so the thread never
        // reads a reused descriptor number belonging to a concurrently running test.
        let drained = DispatchSemaphore(value: 0)
        defer { drained.wait(); close(master) }
        let drain = Thread { [master] in
            defer { drained.signal() }
            var buf = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(master, &buf, buf.count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
            }
        }
        drain.start()

        if setlocale(LC_ALL, "") == nil || cn_locale_is_utf8() == 0 {
            setlocale(LC_ALL, "C.UTF-8")
        }
        // On failure close what is open, or the drain (and the deferred wait for it) would never end.
        guard let out = fdopen(slave, "w") else { close(slave); throw POSIXError(.EBADF) }
        defer { fclose(out) }
        let inFD = dup(slave)
        guard let inp = fdopen(inFD, "r") else { close(inFD); throw POSIXError(.EBADF) }
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
