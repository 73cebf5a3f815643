import Pictures

/// Keeps the terminal's pixel images in step with the frames: decides which screen lines curses
/// must repaint (to wipe sixel / iTerm2 images that went away, since they have no delete) and
/// the bytes to write after `doupdate` (kitty deletes by id, then each image at its cell:
/// save cursor, CUP, image, restore cursor; wrapped for tmux passthrough when needed).
/// Pure, so tests can check the exact output.
struct ImageEmitter {
    let setup: GraphicsSetup
    /// Pane origin on the outer terminal (tmux passthrough images are placed by the outer terminal).
    var paneOrigin: (x: Int, y: Int) = (0, 0)
    private(set) var shown: [ImagePlacement] = []
    static let firstID: UInt32 = 4_242

    init(setup: GraphicsSetup, paneOrigin: (x: Int, y: Int) = (0, 0)) {
        self.setup = setup
        self.paneOrigin = paneOrigin
    }

    /// Lines (y, count) curses must redraw before this frame's `doupdate`; empty when nothing changes.
    func linesToRepaint(for now: [ImagePlacement], force: Bool) -> [(y: Int, count: Int)] {
        guard setup.mode == .sixel || setup.mode == .iterm, force || now != shown else { return [] }
        return shown.map { ($0.cells.y, $0.cells.height) }
    }

    /// The bytes to write after `doupdate` (nil: the images on screen are already right).
    /// `force` after a full repaint or a resize, which clear kitty images.
    mutating func output(for now: [ImagePlacement], force: Bool) -> String? {
        guard force || now != shown else { return nil }
        var out = ""
        if setup.mode == .kitty {
            for i in shown.indices { out += wrap(TerminalImage.kittyDelete(id: Self.firstID + UInt32(i))) }
        }
        for (i, p) in now.enumerated() {
            let image: String
            switch setup.mode {
            case .kitty: image = TerminalImage.kitty(p.image, id: Self.firstID + UInt32(i))
            case .sixel: image = TerminalImage.sixel(p.image)
            case .iterm: image = TerminalImage.iterm(p.image)
            case .cells: continue
            }
            let row = p.cells.y + 1 + (setup.tmuxWrap ? paneOrigin.y : 0)
            let col = p.cells.x + 1 + (setup.tmuxWrap ? paneOrigin.x : 0)
            out += wrap("\u{1B}7\u{1B}[\(row);\(col)H" + image + "\u{1B}8")
        }
        shown = now
        return out
    }

    /// Removes every image (at exit).
    mutating func clearAll() -> String {
        var out = ""
        if setup.mode == .kitty { for i in shown.indices { out += wrap(TerminalImage.kittyDelete(id: Self.firstID + UInt32(i))) } }
        shown = []
        return out
    }

    func wrap(_ s: String) -> String { setup.tmuxWrap ? TerminalImage.tmuxPassthrough(s) : s }
}
