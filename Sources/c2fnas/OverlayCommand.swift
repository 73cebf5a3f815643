import ArgumentParser
import Foundation
import Pictures
import Report
import Volume

/// `c2fnas overlay IMAGE [--label L] [--prediction P] --axis a|c|s --slice N|--auto --out FILE.png`
struct OverlayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overlay",
        abstract: "Write a PNG of one slice: image | label | prediction | errors, side by side.",
        discussion: """
            Labels are filled in their class colour, predictions outlined, errors red (false positive) and \
            blue (missed). Nearest-neighbour scaling (contours are never blurred) to at least --min-side pixels, \
            physical aspect kept; window = the 1st–99th intensity percentile (as in the workbench) unless --window.
            """)

    @Argument(help: "Image (.nii / .nii.gz); the first channel is shown.")
    var image: String
    @Option(help: "Label map on the image's grid.")
    var label: String?
    @Option(help: "Predicted label map on the image's grid.")
    var prediction: String?
    @Option(help: "Axis: a (axial), c (coronal) or s (sagittal).")
    var axis: String = "a"
    @Option(help: "Slice index along the axis (0-based).")
    var slice: Int?
    @Flag(help: "Pick the slice with the most foreground (label, else prediction).")
    var auto = false
    @Option(help: "Display window lo,hi in image units (default: 1st–99th percentile).")
    var window: String?
    @Option(name: .customLong("min-side"), help: "Each tile's longer side is at least this many pixels.")
    var minSide: Int = 384
    @Option(help: "Output PNG file.")
    var out: String

    func validate() throws {
        guard PlaneAxis(letter: axis) != nil else { throw ValidationError(FigureError.badAxis(axis).description) }
        guard (slice != nil) != auto else { throw ValidationError("give exactly one of --slice N and --auto") }
        if let window, parseWindow(window) == nil { throw ValidationError("--window must be lo,hi with lo < hi, e.g. -160,240") }
        guard (1...8192).contains(minSide) else { throw ValidationError("--min-side must be 1…8192") }
    }

    func parseWindow(_ s: String) -> ClosedRange<Float>? {
        let parts = s.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
        return parts.count == 2 && parts[0] < parts[1] ? parts[0]...parts[1] : nil
    }

    func run() throws {
        let plane = PlaneAxis(letter: axis)!
        let figure = try CaseFigure.read(image: URL(fileURLWithPath: image), label: label.map { URL(fileURLWithPath: $0) },
                                         prediction: prediction.map { URL(fileURLWithPath: $0) })
        let index = auto ? figure.autoSlice(plane) : slice!
        let strip = FigureStrip.render(try figure.plane(plane, index: index), kinds: figure.kinds,
                                       window: window.flatMap(parseWindow) ?? figure.window, minSide: minSide)
        try Figures.writePNG(strip, to: URL(fileURLWithPath: out))
        print("\(out): \(figure.kinds.map(\.rawValue).joined(separator: " | ")), \(plane.rawValue) slice \(index), \(strip.width)×\(strip.height) px")
    }
}
