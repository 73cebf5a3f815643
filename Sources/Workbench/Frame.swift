/// A box with a title; widgets draw inside `inner`.
public struct Frame {
    public var title: String
    /// Extra text after the title, in its own style (e.g. a warning).
    public var badge: (text: String, role: Role)?
    public var focused: Bool

    public init(title: String, badge: (text: String, role: Role)? = nil, focused: Bool = false) {
        self.title = title
        self.badge = badge
        self.focused = focused
    }

    /// Draws the box and returns the inside (empty when the rect is too small for a box).
    @discardableResult
    public func draw<C: Canvas>(in rect: Rect, on canvas: inout C, theme: ResolvedTheme) -> Rect {
        guard rect.width >= 2, rect.height >= 2 else { return Rect(x: rect.x, y: rect.y, width: 0, height: 0) }
        let line = theme.style(focused ? .frameFocus : .frame)
        let (x0, y0, x1, y1) = (rect.x, rect.y, rect.maxX - 1, rect.maxY - 1)
        canvas.put("┌", y: y0, x: x0, style: line)
        canvas.put("┐", y: y0, x: x1, style: line)
        canvas.put("└", y: y1, x: x0, style: line)
        canvas.put("┘", y: y1, x: x1, style: line)
        for x in (x0 + 1)..<x1 {
            canvas.put("─", y: y0, x: x, style: line)
            canvas.put("─", y: y1, x: x, style: line)
        }
        for y in (y0 + 1)..<y1 {
            canvas.put("│", y: y, x: x0, style: line)
            canvas.put("│", y: y, x: x1, style: line)
        }
        // " title " after the corner, then the badge, both clipped before the right corner.
        let room = rect.width - 3
        if room > 2, !title.isEmpty {
            var x = x0 + 1
            let titleStyle = focused ? theme.style(.frameFocus) : theme.style(.title)
            x += canvas.write(" " + title.truncated(to: room - 2) + " ", y: y0, x: x, width: room, style: titleStyle)
            if let badge, x < x1 - 2 {
                canvas.write(badge.text + " ", y: y0, x: x, width: x1 - x, style: theme.style(badge.role))
            }
        }
        return rect.inset(1)
    }
}
