import Pictures

/// Draws the whole screen from the view model and the UI state. Pure: the same inputs give the
/// same cells, so tests render into a `BufferCanvas`.
public enum WorkbenchApp {
    public static func render<C: Canvas>(_ model: WorkbenchModel, ui: UIState, theme: ResolvedTheme, into canvas: inout C) {
        canvas.clear()
        guard canvas.rows >= 6, canvas.cols >= 24 else {
            canvas.write("terminal too small", y: 0, x: 0, style: theme.style(.warning))
            canvas.write("(80×24 or more)", y: 1, x: 0, style: theme.style(.dim))
            return
        }
        let layout = ScreenLayout.compute(rows: canvas.rows, cols: canvas.cols, hidden: ui.hidden)
        HeaderBar(run: model.run, requestedPause: ui.requestedPause).draw(in: layout.header, on: &canvas, theme: theme)

        for panel in Panel.allCases {
            guard let rect = layout.panels[panel] else { continue }
            drawPanel(panel, in: rect, model: model, ui: ui, theme: theme, on: &canvas)
        }

        var status = ui.status
        if status == nil, let id = ui.shownCandidateID { status = "grid shows candidate \(id) (Esc: live)" }
        if status == nil, model.run.state == .paused { status = "search paused · Space resumes" }
        FooterBar(status: status).draw(in: layout.footer, on: &canvas, theme: theme)

        let screen = Rect(x: 0, y: 0, width: canvas.cols, height: canvas.rows)
        switch ui.overlay {
        case .help(let scroll)?: HelpOverlay(scroll: scroll).draw(in: screen, on: &canvas, theme: theme)
        case .confirm(let kind)?: ConfirmDialog(kind: kind).draw(in: screen, on: &canvas, theme: theme)
        case nil: break
        }
    }

    static func drawPanel<C: Canvas>(_ panel: Panel, in rect: Rect, model: WorkbenchModel, ui: UIState,
                                     theme: ResolvedTheme, on canvas: inout C) {
        let focused = ui.focus == panel
        switch panel {
        case .curves:
            let inner = Frame(title: "\(panel.rawValue) loss / Dice", badge: ui.logScaleLoss ? ("(log loss)", .dim) : nil,
                              focused: focused).draw(in: rect, on: &canvas, theme: theme)
            let plot = LinePlot(series: [
                PlotSeries(name: "train loss", points: model.curves.trainLoss, role: .curveTrain, side: .left, logScale: ui.logScaleLoss),
                PlotSeries(name: "val Dice", points: model.curves.valDice, role: .curveVal, side: .right),
            ], boundaries: model.curves.boundaries)
            plot.draw(in: inner, on: &canvas, theme: theme)

        case .topology:
            let shown = ui.shownCandidateID.flatMap { id in model.candidates.first { $0.id == id } }
            let title = shown.map { "\(panel.rawValue) topology · candidate \($0.id)" } ?? "\(panel.rawValue) topology (levels × cells)"
            let inner = Frame(title: title, focused: focused).draw(in: rect, on: &canvas, theme: theme)
            let t = model.topology
            var current = shown?.topology ?? t.current
            // In the fine stage the ops come from the architecture logits.
            if shown == nil, current?.ops == nil, let ops = model.ops, !ops.cells.isEmpty {
                current?.ops = ops.cells.map { p in p.indices.max { p[$0] < p[$1] }.map { ops.opNames[$0] } ?? "?" }
            }
            TopologyGrid(levels: max(t.levels, current?.cellLevels.max() ?? 0), current: current, best: t.best,
                         medoid: shown == nil ? t.medoid : nil, currentName: shown == nil ? "now" : "cand")
                .draw(in: inner, on: &canvas, theme: theme)

        case .ops:
            let bars = model.ops.map { OpBars(view: $0, scroll: ui.opsScroll) }
            let collapsed = !(bars?.collapsedCells.isEmpty ?? true)
            let inner = Frame(title: "\(panel.rawValue) ops", badge: collapsed ? ("⚠ collapse", .warning) : nil,
                              focused: focused).draw(in: rect, on: &canvas, theme: theme)
            if let bars {
                bars.draw(in: inner, on: &canvas, theme: theme)
            } else {
                canvas.write("no fine stage yet", y: inner.y, x: inner.x, width: inner.width, style: theme.style(.dim))
            }

        case .candidates:
            let selected = KeyHandler.selectedCandidateIndex(ui, model)
            let position = selected.map { " \($0 + 1)/\(model.candidates.count)" } ?? ""
            let inner = Frame(title: "\(panel.rawValue) candidates\(position) · by \(ui.candidateSort.title)\(model.candidates.contains(where: \.paretoOptimal) ? " · ◆ Pareto" : "")", focused: focused)
                .draw(in: rect, on: &canvas, theme: theme)
            CandidatesTable(rows: model.sortedCandidates(ui.candidateSort), selectedIndex: selected,
                            shownID: ui.shownCandidateID, evaluation: model.evaluation).draw(in: inner, on: &canvas, theme: theme)

        case .slices:
            let inner = Frame(title: "\(panel.rawValue) slices", focused: focused).draw(in: rect, on: &canvas, theme: theme)
            guard let volume = model.slices.volume else {
                canvas.write("no validation case loaded", y: inner.y, x: inner.x, width: inner.width, style: theme.style(.dim))
                return
            }
            let window = SliceViewer.window(auto: volume.autoWindow, scale: ui.windowScale, shift: ui.levelShift)
            let viewer = SliceViewer(volume: volume, axis: ui.axis, index: KeyHandler.sliceIndex(ui, model), overlay: ui.overlayMode,
                                     window: window, caseText: "case \(model.slices.caseIndex + 1)/\(max(1, model.slices.caseCount)) \(volume.size.x)×\(volume.size.y)×\(volume.size.z)")
            if ui.overlay != nil && canvas.pixelCell != nil {
                // A popup covers part of the screen: pixel images would sit on top of it, so the
                // slice falls back to cells until it closes (then the images are sent again).
                var cells = CellsOnlyCanvas(base: canvas)
                viewer.draw(in: inner, on: &cells, theme: theme)
                canvas = cells.base
            } else {
                viewer.draw(in: inner, on: &canvas, theme: theme)
            }

        case .log:
            let badge: (String, Role)? = ui.logMinimum == .debug ? nil : ("≥ \(ui.logMinimum.name)", .dim)
            let inner = Frame(title: "\(panel.rawValue) log", badge: badge, focused: focused).draw(in: rect, on: &canvas, theme: theme)
            LogPane(lines: model.log, minimum: ui.logMinimum, scroll: ui.logScroll).draw(in: inner, on: &canvas, theme: theme)
        }
    }
}

/// A canvas seen as character cells only (no pixel images), drawing into `base`.
struct CellsOnlyCanvas<Base: Canvas>: Canvas {
    var base: Base
    var rows: Int { base.rows }
    var cols: Int { base.cols }
    mutating func put(_ character: Character, y: Int, x: Int, style: Style) { base.put(character, y: y, x: x, style: style) }
    mutating func clear() { base.clear() }
    var pixelCell: (width: Int, height: Int)? { nil }
    mutating func placeImage(_ image: RGBImage, cells: Rect) {}
}
