import Foundation
import Engine
import Pictures
import Volume

/// `c2fnas report RUN`: one self-contained HTML file (inline SVG charts, PNG figures as base64,
/// no scripts, no external files) describing a run, for a paper's supplement or a lab meeting.
public enum RunReport {
    /// The sections in order. Optional ones say "not in this run" when the run lacks their data.
    static let sections: [any ReportSection] = [
        SummarySection(), CurvesSection(), TopologySection(), CandidatesSection(), AlphaSection(),
        MetricsSection(),
        EventTableSection(id: "baseline", title: "Baseline comparison", words: ["baseline"]),
        EventTableSection(id: "audit", title: "Ranking audit", words: ["audit", "ranking"]),
        EventTableSection(id: "test-split", title: "Test split", words: ["testmetric", "testsplit", "test_"]),
        CasesSection(),
    ]

    /// Reads the run (and its dataset: `dataset`, else source.json) and returns the HTML text.
    public static func html(run directory: RunDirectory, dataset override: URL? = nil, nsdTolerance: Double = 1.0) -> String {
        let run = RunFiles(directory: directory)
        var context = ReportContext()
        let folder = override ?? run.source.map { URL(fileURLWithPath: $0.datasetFolder) }
        if let folder {
            do { context.dataset = try MSDDataset.load(folder) } catch {
                context.datasetNote = "dataset not readable (\(error)); pass --dataset FOLDER for case figures and metrics"
            }
        } else {
            context.datasetNote = "the run does not record its dataset folder; pass --dataset FOLDER for case figures and metrics"
        }
        if let d = context.dataset { evaluateCases(run, dataset: d, tolerance: nsdTolerance, into: &context) }
        return document(run, context)
    }

    /// Each case with a prediction: figure (image | label | prediction | errors, axial slice with
    /// the most labelled foreground) and metrics against the dataset's label.
    static func evaluateCases(_ run: RunFiles, dataset: MSDDataset, tolerance: Double, into context: inout ReportContext) {
        var predicted: [(id: String, path: String)] = []
        for r in run.records {
            if case let .prediction(id, path) = r.event {
                predicted.removeAll { $0.id == id }
                predicted.append((id, path))
            }
        }
        let labels = dataset.sortedLabelValues.filter { $0 > 0 }
        for (id, recorded) in predicted {
            guard let c = dataset.training.first(where: { $0.id == id }) else {
                context.caseProblems.append("case \(id) has a prediction but is not in \(dataset.jsonPath)")
                continue
            }
            // The recorded path is absolute on the machine that ran; the run folder may have moved.
            let local = run.directory.predictions.appendingPathComponent("\(id).nii.gz")
            let path = FileManager.default.fileExists(atPath: local.path) ? local : URL(fileURLWithPath: recorded)
            do {
                let figure = try CaseFigure.read(image: c.image, label: c.label, prediction: path)
                let index = figure.autoSlice(.axial)
                let strip = FigureStrip.render(try figure.plane(.axial, index: index), kinds: figure.kinds, window: figure.window)
                let (pred, _) = try NIfTI.readLabels(path)
                let (_, ref) = try dataset.loadCase(c)
                let metrics = try Metrics.evaluate(prediction: pred, reference: ref, labels: labels, defaultTolerance: tolerance)
                context.cases.append(.init(id: id, axisIndex: index, strip: strip, kinds: figure.kinds, metrics: metrics))
            } catch {
                context.caseProblems.append("case \(id): \(error)")
            }
        }
    }

    static let style = """
        body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;max-width:1180px;margin:24px auto;padding:0 16px;color:#222}
        h1{font-size:22px}h2{font-size:17px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
        table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
        table.kv th{background:#f6f6f6;font-weight:normal;color:#555}.note,.legend{font-size:12px;color:#555}
        .missing{color:#999;font-style:italic}.row,.grid{display:flex;flex-wrap:wrap;gap:12px}figure{margin:8px 0}
        figcaption{font-size:12px;color:#555}img{image-rendering:pixelated;max-width:100%;height:auto}nav a{margin-right:10px;font-size:13px}
        """

    static func document(_ run: RunFiles, _ context: ReportContext) -> String {
        let name = run.directory.url.lastPathComponent
        var body = ""
        var nav = ""
        for s in sections {
            let content: String?
            do { content = try s.body(run, context) } catch { content = "<p class=\"missing\">could not be made: \(SVG.escape("\(error)"))</p>" }
            nav += "<a href=\"#\(s.id)\">\(SVG.escape(s.title))</a>"
            body += "<section id=\"\(s.id)\"><h2>\(SVG.escape(s.title))</h2>"
                + (content ?? "<p class=\"missing\">not in this run</p>") + "</section>\n"
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>c2fnas run \(SVG.escape(name))</title>
            <style>\(style)</style></head><body>
            <h1>c2fnas run report: \(SVG.escape(name))</h1>
            <nav>\(nav)</nav>
            \(body)<p class="note">Written by c2fnas report. Self-contained: charts are inline SVG, figures inline PNG.</p>
            </body></html>

            """
    }

    /// Writes `report.html` into `folder` (atomically) and returns its path.
    @discardableResult
    public static func write(run directory: RunDirectory, to folder: URL, dataset: URL? = nil) throws -> URL {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let out = folder.appendingPathComponent("report.html")
        try AtomicFile.write(html(run: directory, dataset: dataset), to: out)
        return out
    }
}
