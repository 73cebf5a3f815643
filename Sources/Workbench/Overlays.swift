/// The help box, generated from `Keymap.table`, scrollable when the terminal is short.
public struct HelpOverlay: Sendable {
    public var scroll: Int
    public init(scroll: Int = 0) { self.scroll = scroll }

    /// One line per binding: keys, then the description.
    public static var lines: [(keys: String, text: String)] {
        Keymap.table.map { ($0.keysLabel, $0.description) }
    }

    public func draw<C: Canvas>(in screen: Rect, on canvas: inout C, theme: ResolvedTheme) {
        let entries = HelpOverlay.lines
        let keysWidth = entries.map(\.keys.count).max() ?? 0
        let textWidth = entries.map(\.text.count).max() ?? 0
        let box = screen.centered(width: min(screen.width - 2, keysWidth + textWidth + 6), height: min(screen.height - 2, entries.count + 4))
        guard box.width >= 10, box.height >= 4 else { return }
        let style = theme.style(.dialog)
        canvas.fill(box, style: style)
        let inner = Frame(title: "help · Esc closes", focused: true).draw(in: box, on: &canvas, theme: theme)
        let rows = inner.height - 1  // last row: scroll hint
        let first = max(0, min(scroll, entries.count - rows))
        for r in 0..<min(rows, entries.count - first) {
            let e = entries[first + r]
            canvas.write(" " + e.keys.padded(to: keysWidth) + "  ", y: inner.y + r, x: inner.x, width: inner.width,
                         style: style.adding(.bold))
            canvas.write(e.text, y: inner.y + r, x: inner.x + keysWidth + 3, width: inner.width - keysWidth - 3, style: style)
        }
        let more = entries.count > rows ? "↑↓ scroll · \(first + 1)-\(first + min(rows, entries.count - first))/\(entries.count)" : ""
        canvas.write(" " + more, y: inner.maxY - 1, x: inner.x, width: inner.width, style: style.adding(.dim))
    }
}

/// A yes/no question in a centred box.
public struct ConfirmDialog: Sendable {
    public var kind: ConfirmKind
    public init(kind: ConfirmKind) { self.kind = kind }

    public func draw<C: Canvas>(in screen: Rect, on canvas: inout C, theme: ResolvedTheme) {
        let question = kind.question
        let answers = "[y] yes    [n] no"
        let box = screen.centered(width: min(screen.width, max(question.count, answers.count) + 6), height: min(screen.height, 6))
        guard box.width >= 6, box.height >= 3 else { return }
        let style = theme.style(.dialog)
        canvas.fill(box, style: style)
        let inner = Frame(title: "confirm", focused: true).draw(in: box, on: &canvas, theme: theme)
        canvas.write(question.truncated(to: inner.width - 2), y: inner.y + (inner.height > 2 ? 1 : 0),
                     x: inner.x + max(0, (inner.width - question.count) / 2), width: inner.width, style: style.adding(.bold))
        if inner.height >= 2 {
            canvas.write(answers, y: inner.maxY - 1, x: inner.x + max(0, (inner.width - answers.count) / 2), width: inner.width, style: style)
        }
    }
}
