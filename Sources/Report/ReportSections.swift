import Foundation
import Engine
import Pictures
import Volume

/// One section of the run report. `body` returns nil when the run has no data for it; the report
/// then says "not in this run" under the title. A new optional section is one more type in
/// `RunReport.sections` (see `EventTableSection` for sections fed by events this build may not know).
public protocol ReportSection: Sendable {
    var id: String { get }
    var title: String { get }
    func body(_ run: RunFiles, _ context: ReportContext) throws -> String?
}

/// What several sections share: the dataset and, per evaluated case, the figure and metrics.
public struct ReportContext {
    public struct CaseResult {
        public var id: String
        public var axisIndex: Int
        public var strip: RGBImage
        public var kinds: [TileKind]
        public var metrics: [ClassMetrics]
    }
    public var dataset: MSDDataset?
    public var datasetNote: String?
    public var cases: [CaseResult] = []
    public var caseProblems: [String] = []
}

func html(_ s: String) -> String { SVG.escape(s) }
func num(_ v: Double?, _ digits: Int = 3) -> String {
    guard let v else { return "–" }
    return v.isFinite ? String(format: "%.\(digits)f", v) : "∞"
}

struct SummarySection: ReportSection {
    let id = "summary", title = "Run"
    func body(_ run: RunFiles, _ c: ReportContext) -> String? {
        var rows: [(String, String)] = [("run folder", run.directory.url.path)]
        if let s = run.source { rows.append(("dataset folder", s.datasetFolder)) }
        if let d = c.dataset { rows.append(("dataset", "\(d.name) — \(d.training.count) training cases, classes " + d.sortedLabelValues.filter { $0 > 0 }.map { "\($0) \(d.labels[$0]!)" }.joined(separator: ", "))) }
        if let note = c.datasetNote { rows.append(("dataset note", note)) }
        let records = run.records
        let finished = records.compactMap { r -> Double?? in if case .finished(let d) = r.event { return .some(d) }; return nil }.last
        let failed = records.compactMap { r -> String? in if case .failed(let m) = r.event { return m }; return nil }.last
        rows.append(("state", failed.map { "failed: \($0)" } ?? (finished != nil ? "finished" : "not finished (stage \(records.last?.stage.rawValue ?? "?"))")))
        if let d = finished ?? nil { rows.append(("final mean foreground Dice", num(d, 4))) }
        for key in ["preset", "seed", "levels", "cells", "width", "finalWidth", "patch", "supernetSteps", "generations", "population", "fineSteps", "finalSteps"] {
            if let v = run.config[key] { rows.append((key, "\(v)".replacingOccurrences(of: "\n", with: " "))) }
        }
        if let first = run.events.first?.record?.wall, let last = run.events.last?.record?.wall {
            rows.append(("wall time", String(format: "%.0f s", last - first)))
        }
        if !run.problems.isEmpty { rows.append(("unreadable lines", run.problems.prefix(5).joined(separator: "; "))) }
        return "<table class=\"kv\">" + rows.map { "<tr><th>\(html($0.0))</th><td>\(html($0.1))</td></tr>" }.joined() + "</table>"
    }
}

struct CurvesSection: ReportSection {
    let id = "curves", title = "Training loss and validation Dice"
    func body(_ run: RunFiles, _ c: ReportContext) -> String? {
        var loss = run.metrics.compactMap { m in m.loss.map { (x: Double(m.step), y: $0) } }
        var dice = run.metrics.compactMap { m in m.dice.map { (x: Double(m.step), y: $0) } }
        if loss.isEmpty && dice.isEmpty {  // older runs: from the events
            for r in run.records {
                if case .trainLoss(let v) = r.event { loss.append((Double(r.step), v)) }
                if case .validation(let d, _) = r.event { dice.append((Double(r.step), d)) }
            }
        }
        guard !loss.isEmpty || !dice.isEmpty else { return nil }
        let markers = run.records.compactMap { r -> (x: Double, label: String)? in
            if case .stageStarted(let stage, _) = r.event { return (Double(r.step), stage.rawValue) }
            return nil
        }
        var out = "<div class=\"row\">"
        if !loss.isEmpty {
            out += SVG.lineChart([SVG.Series(name: "train loss", points: loss, colour: "#ff7f0e")], xLabel: "step", yLabel: "loss",
                                 logY: loss.allSatisfy { $0.y > 0 }, markers: markers)
        }
        if !dice.isEmpty {
            out += SVG.lineChart([SVG.Series(name: "validation Dice (mean foreground)", points: dice, colour: "#1f77b4")],
                                 xLabel: "step", yLabel: "Dice", yRange: 0...1, markers: markers)
        }
        return out + "</div><p class=\"note\">Dashed lines: stage starts. Loss from metrics.csv (every training step of every stage).</p>"
    }
}

struct TopologySection: ReportSection {
    let id = "topology", title = "Winning architecture"
    func body(_ run: RunFiles, _ c: ReportContext) -> String? {
        var final: (levels: [Int], ops: [String])?, best: (levels: [Int], ops: [String])?
        for r in run.records {
            if case let .topology(role, levels, ops) = r.event {
                if role == .final { final = (levels, ops) }
                if role == .best { best = (levels, ops) }
            }
        }
        guard let t = final ?? best else { return nil }
        let levelCount = max(run.config["levels"] as? Int ?? 0, t.levels.max() ?? 1)
        return SVG.topology(levels: t.levels, ops: t.ops, levelCount: levelCount)
            + "<p class=\"note\">\(final == nil ? "Best topology so far (no final architecture yet)" : "Final architecture"): levels "
            + html(t.levels.map(String.init).joined(separator: " ")) + (t.ops.isEmpty ? "" : "; ops " + html(t.ops.joined(separator: " ")))
            + ". Level 1 = full resolution; each level down halves it. Green 2D, blue 3D, pink P3D.</p>"
    }
}

/// Candidates that no other candidate beats on both axes (higher fitness at no more MACs).
func paretoFront(_ c: [CandidateRecord]) -> [CandidateRecord] {
    c.filter { a in !c.contains { b in b.macs <= a.macs && b.fitness >= a.fitness && (b.macs < a.macs || b.fitness > a.fitness) } }
        .sorted { ($0.macs, -$0.fitness) < ($1.macs, -$1.fitness) }
}

struct CandidatesSection: ReportSection {
    let id = "candidates", title = "Candidates: fitness vs MACs"
    func body(_ run: RunFiles, _ c: ReportContext) -> String? {
        guard !run.candidates.isEmpty else { return nil }
        let front = paretoFront(run.candidates)
        let onFront = Set(front.map(\.id))
        let colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#bcbd22", "#7f7f7f"]
        let points = run.candidates.map { k in
            SVG.Point(x: k.macs, y: k.fitness, colour: colours[k.cluster % colours.count], ring: onFront.contains(k.id),
                      title: "\(k.id): fitness \(num(k.fitness)), \(SVG.label(k.macs)) MACs, \(k.params) params")
        }
        var out = SVG.scatter(points, front: front.map { ($0.macs, $0.fitness) }, xLabel: "MACs per patch", yLabel: "fitness (validation Dice)")
        out += "<p class=\"note\">\(run.candidates.count) candidates, coloured by cluster; rings and the dashed line mark the Pareto front (no other candidate has higher fitness at no more MACs).</p>"
        out += "<table><tr><th>Pareto candidate</th><th>fitness</th><th>MACs</th><th>params</th><th>levels</th></tr>"
        for k in front { out += "<tr><td>\(html(k.id))</td><td>\(num(k.fitness))</td><td>\(SVG.label(k.macs))</td><td>\(k.params)</td><td>\(k.levels.map(String.init).joined())</td></tr>" }
        return out + "</table>"
    }
}

struct AlphaSection: ReportSection {
    let id = "alpha", title = "Fine stage: op probabilities (softmax α) per cell"
    func body(_ run: RunFiles, _ c: ReportContext) -> String? {
        var history: [(step: Double, p: [[Double]])] = []
        var names: [String] = []
        for r in run.records { if case let .alpha(p, n) = r.event { history.append((Double(r.step), p)); names = n } }
        guard let cells = history.last?.p.count, cells > 0 else { return nil }
        let colours = ["#2ca02c", "#1f77b4", "#e377c2", "#ff7f0e", "#9467bd"]
        var out = "<div class=\"grid\">"
        for cell in 0..<cells {
            let series = names.enumerated().map { j, name in
                SVG.Series(name: name, points: history.compactMap { h in cell < h.p.count && j < h.p[cell].count ? (h.step, h.p[cell][j]) : nil },
                           colour: colours[j % colours.count])
            }
            out += "<figure>" + SVG.lineChart(series, width: 280, height: 170, xLabel: "step", yLabel: "p", yRange: 0...1)
                + "<figcaption>cell \(cell + 1)</figcaption></figure>"
        }
        return out + "</div><p class=\"note\">\(history.count) snapshots of softmax(α).</p>"
    }
}

struct MetricsSection: ReportSection {
    let id = "metrics", title = "Per-class metrics on the evaluated cases"
    func body(_ run: RunFiles, _ c: ReportContext) -> String? {
        guard !c.cases.isEmpty, let labels = c.cases.first?.metrics.map(\.label), !labels.isEmpty else { return nil }
        let engine = run.records.compactMap { r -> [Double]? in if case let .validation(_, p) = r.event, r.stage == .evaluation { return p }; return nil }.last
        var out = "<table><tr><th>class</th><th>Dice</th><th>NSD</th><th>HD95 (mm)</th><th>reference voxels</th>"
            + (engine != nil ? "<th>engine's Dice</th>" : "") + "</tr>"
        for (j, l) in labels.enumerated() {
            let ms = c.cases.map { $0.metrics[j] }
            let n = Double(ms.count)
            let hd = ms.map(\.hd95)
            let name = c.dataset?.labels[l] ?? "class \(l)"
            out += "<tr><td>\(l) \(html(name))</td><td>\(num(ms.map(\.dice).reduce(0, +) / n))</td><td>\(num(ms.map(\.nsd).reduce(0, +) / n))</td>"
                + "<td>\(num(hd.allSatisfy(\.isFinite) ? hd.reduce(0, +) / n : .infinity, 2))</td><td>\(ms.map(\.referenceVoxels).reduce(0, +))</td>"
                + (engine.map { "<td>\(j < $0.count ? num($0[j]) : "–")</td>" } ?? "") + "</tr>"
        }
        out += "</table><p class=\"note\">Means over \(c.cases.count) case(s) (\(html(c.cases.map(\.id).joined(separator: ", ")))), recomputed from predictions/ against the dataset's labels (NSD tolerance \(num(c.cases.first?.metrics.first?.tolerance, 1)) mm). An empty class in both maps scores Dice 1.</p>"
        out += "<table><tr><th>case</th>" + labels.map { "<th>Dice \(html(c.dataset?.labels[$0] ?? "\($0)"))</th>" }.joined() + "</tr>"
        for k in c.cases { out += "<tr><td>\(html(k.id))</td>" + k.metrics.map { "<td>\(num($0.dice))</td>" }.joined() + "</tr>" }
        return out + "</table>"
    }
}

struct CasesSection: ReportSection {
    let id = "cases", title = "Evaluated cases"
    func body(_ run: RunFiles, _ c: ReportContext) -> String? {
        guard !c.cases.isEmpty || !c.caseProblems.isEmpty else { return nil }
        var out = ""
        for k in c.cases {
            let b64 = Data(PNG.encode(k.strip)).base64EncodedString()
            out += "<figure><img src=\"data:image/png;base64,\(b64)\" width=\"\(k.strip.width)\" height=\"\(k.strip.height)\" alt=\"\(html(k.id))\">"
                + "<figcaption>\(html(k.id)), axial slice \(k.axisIndex) (most foreground): " + k.kinds.map(\.rawValue).joined(separator: " | ") + "</figcaption></figure>"
        }
        if let d = c.dataset, !c.cases.isEmpty {
            let shown = Set(c.cases.flatMap { $0.metrics.map(\.label) })
            let pal = OverlayPalette()
            out += "<p class=\"legend\">" + d.sortedLabelValues.filter { shown.contains($0) }.map {
                "<span style=\"color:\(pal.color(forClass: $0).hex)\">■</span> \(html(d.labels[$0]!))"
            }.joined(separator: " ") + " · label filled, prediction outlined · errors: <span style=\"color:#ff0000\">■</span> false positive <span style=\"color:#0087ff\">■</span> missed</p>"
        }
        for p in c.caseProblems { out += "<p class=\"missing\">\(html(p))</p>" }
        return out
    }
}

/// A section fed by events this build may not know yet (added by other parts of the engine):
/// every event whose kind contains one of `words`, as a table of its fields.
struct EventTableSection: ReportSection {
    let id: String
    let title: String
    let words: [String]
    func body(_ run: RunFiles, _ c: ReportContext) -> String? {
        let events = run.events(matching: words)
        guard !events.isEmpty else { return nil }
        let keys = Array(Set(events.flatMap { $0.fields.keys })).sorted()
        var out = "<table><tr><th>event</th><th>stage</th><th>step</th>" + keys.map { "<th>\(html($0))</th>" }.joined() + "</tr>"
        for e in events {
            out += "<tr><td>\(html(e.kind))</td><td>\(html(e.stage))</td><td>\(e.step)</td>" + keys.map { k in
                "<td>\(html(e.fields[k].map(Self.text) ?? ""))</td>"
            }.joined() + "</tr>"
        }
        return out + "</table>"
    }

    static func text(_ v: Any) -> String {
        if let d = v as? Double { return num(d, 4) }
        if let s = v as? String { return s }
        if JSONSerialization.isValidJSONObject(v), let data = try? JSONSerialization.data(withJSONObject: v, options: [.sortedKeys]) {
            return String(decoding: data, as: UTF8.self)
        }
        return "\(v)"
    }
}
