import Foundation
import Testing
import Engine
import Pictures
import Volume
@testable import Report

/// `c2fnas report` on a finished tiny run (3 phantom cases, a few steps per stage: ~5 s).
@Suite("run report", .serialized)
struct ReportTests {
    static let root = FileManager.default.temporaryDirectory.appendingPathComponent("c2fnas-report-\(UUID().uuidString)")

    static func finishedRun() async throws -> (run: RunDirectory, dataset: URL) {
        let dataset = root.appendingPathComponent("Task09_Tiny")
        _ = try Phantom.writeTask(to: dataset, trainingCases: 3, testCases: 0, seed: 5)
        var config = try RunConfig.preset("tiny")
        try config.apply(overrides: ["supernetSteps=5", "population=2", "tournament=2", "generations=1", "fineSteps=2",
                                     "finalSteps=2", "validateEvery=2", "clusters=1"])
        let dir = RunDirectory(url: root.appendingPathComponent("run"))
        let outcome = await SearchEngine(datasetFolder: dataset, directory: dir, config: config).run()
        #expect(outcome == .finished)
        return (dir, dataset)
    }

    /// Every `data:image/png;base64,…` in the page.
    static func pngs(_ html: String) -> [[UInt8]] {
        html.components(separatedBy: "data:image/png;base64,").dropFirst().compactMap { part in
            Data(base64Encoded: String(part.prefix { $0 != "\"" })).map { [UInt8]($0) }
        }
    }

    @Test("the HTML has every section, SVG paths, and PNG figures of the slice's size")
    func report() async throws {
        defer { try? FileManager.default.removeItem(at: Self.root) }
        let (run, dataset) = try await Self.finishedRun()
        let out = Self.root.appendingPathComponent("out")
        let file = try RunReport.write(run: run, to: out)
        let html = try String(contentsOf: file, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(!html.contains("src=\"http") && !html.contains("<script"))  // self-contained
        for id in ["summary", "curves", "topology", "candidates", "alpha", "metrics", "cases", "baseline", "audit", "test-split"] {
            #expect(html.contains("<section id=\"\(id)\">"), "section \(id)")
        }
        // The sections this run has data for are drawn; the optional ones it lacks say so.
        func section(_ id: String) -> String {
            let start = html.range(of: "<section id=\"\(id)\">")!.upperBound
            return String(html[start..<html.range(of: "</section>", range: start..<html.endIndex)!.lowerBound])
        }
        for id in ["curves", "topology", "alpha"] {
            #expect(section(id).contains("<path d=\"M"), "\(id) has an SVG path")
        }
        #expect(section("baseline").contains("not in this run"))
        #expect(section("metrics").contains("<td>1 liver</td>"))
        // Every candidate is a point; those on the Pareto front are ringed (joined by a path when ≥ 2).
        let candidates = RunFiles(directory: run).candidates
        let scatter = section("candidates")
        #expect(scatter.components(separatedBy: "<circle").count - 1 == candidates.count)
        #expect(scatter.components(separatedBy: "r=\"5\" fill=\"none\"").count - 1 == paretoFront(candidates).count)
        #expect(scatter.contains("<path d=\"M") == (paretoFront(candidates).count > 1))

        // One figure per evaluated case: 4 tiles (image | label | prediction | errors) 4 px apart,
        // each the axial slice zoomed by the same whole factor in both directions.
        let ds = try MSDDataset.load(dataset)
        let predicted = try FileManager.default.contentsOfDirectory(atPath: run.predictions.path).filter { $0.hasSuffix(".nii.gz") }
        let images = Self.pngs(section("cases"))
        #expect(images.count == predicted.count && !images.isEmpty)
        for (png, name) in zip(images, predicted.sorted()) {
            let img = try PNG.decode(png)
            let id = String(name.dropLast(7))
            let c = try #require(ds.training.first { $0.id == id })
            let shape = try NIfTI.readImage(c.image).volume.shape
            let tileWidth = (img.width - 3 * 4) / 4
            #expect(tileWidth * 4 + 12 == img.width)
            #expect(tileWidth % shape.x == 0 && img.height % shape.y == 0 && tileWidth / shape.x == img.height / shape.y,
                    "\(img.width)×\(img.height) for a \(shape) case")
            #expect(max(tileWidth, img.height) >= 384)
            // The gap between tiles is white, and the strip is what `c2fnas overlay --auto` draws.
            #expect(img[tileWidth + 1, img.height / 2] == RGB(255, 255, 255))
            let fig = try CaseFigure.read(image: c.image, label: c.label, prediction: run.predictions.appendingPathComponent(name))
            #expect(img == FigureStrip.render(try fig.plane(.axial, index: fig.autoSlice(.axial)), kinds: fig.kinds, window: fig.window))
        }
    }

    @Test("a run folder with only a cut-off events.jsonl still gives a report")
    func partial() throws {
        // Its own folder, not under `root`, which `report()` may already have removed.
        let dir = RunDirectory(url: FileManager.default.temporaryDirectory.appendingPathComponent("c2fnas-report-partial-\(UUID().uuidString)"))
        try FileManager.default.createDirectory(at: dir.url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir.url) }
        try Data((#"{"event":{"trainLoss":{"value":1.5}},"seq":0,"stage":"coarse","step":1,"wall":1}"# + "\n{\"event\":{\"trai").utf8)
            .write(to: dir.events)
        let html = RunReport.html(run: dir)
        #expect(html.contains("events.jsonl line 2 is not an event"))
        #expect(html.contains("<section id=\"cases\"><h2>Evaluated cases</h2><p class=\"missing\">not in this run</p>"))
        #expect(html.contains("<circle"))  // one loss point
    }

    @Test("events this build does not know reach the optional sections")
    func unknownEvents() throws {
        // Its own folder, not under `root`, which `report()` may already have removed.
        let dir = RunDirectory(url: FileManager.default.temporaryDirectory.appendingPathComponent("c2fnas-report-future-\(UUID().uuidString)"))
        try FileManager.default.createDirectory(at: dir.url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir.url) }
        try Data((#"{"event":{"baselineResult":{"dice":0.81,"name":"U-Net"}},"seq":0,"stage":"evaluation","step":9,"wall":1}"# + "\n").utf8)
            .write(to: dir.events)
        let html = RunReport.html(run: dir)
        #expect(html.contains("<td>baselineResult</td><td>evaluation</td><td>9</td><td>0.8100</td><td>U-Net</td>"))
    }

    @Test("Pareto front: higher fitness at no more MACs")
    func pareto() {
        func c(_ id: String, _ f: Double, _ m: Double) -> CandidateRecord {
            CandidateRecord(id: id, cluster: 0, generation: 0, levels: [1], ops: [], fitness: f, params: 1, macs: m, memoryBytes: 1)
        }
        let front = paretoFront([c("a", 0.5, 10), c("b", 0.6, 20), c("c", 0.55, 30), c("d", 0.7, 40), c("e", 0.7, 50)])
        #expect(front.map(\.id) == ["a", "b", "d"])
    }
}

/// The files behind `c2fnas overlay`.
@Suite("case figure")
struct CaseFigureTests {
    @Test("label of another grid is refused with both shapes; --auto takes the slice with most label; out-of-range slices are named")
    func figure() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("c2fnas-figure-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        _ = try Phantom.writeTask(to: root, trainingCases: 3, testCases: 0, seed: 5)
        let ds = try MSDDataset.load(root)
        let a = ds.training[0], b = ds.training[1]
        let shapeA = try NIfTI.readHeader(a.image).grid.shape, shapeB = try NIfTI.readHeader(b.label).grid.shape
        try #require(shapeA != shapeB)
        #expect(throws: FigureError.shapeMismatch(image: a.image.path, other: b.label.path, imageShape: shapeA.description, otherShape: shapeB.description)) {
            try CaseFigure.read(image: a.image, label: b.label, prediction: nil)
        }
        let fig = try CaseFigure.read(image: a.image, label: a.label, prediction: nil)
        #expect(fig.kinds == [.image, .label])
        // Count labelled voxels per axial slice independently of SlicePlane.
        let label = try NIfTI.readLabels(a.label).labels
        let s = label.shape
        var counts = [Int](repeating: 0, count: s.z)
        for z in 0..<s.z { for i in 0..<(s.x * s.y) where label.data[z * s.x * s.y + i] != 0 { counts[z] += 1 } }
        #expect(counts[fig.autoSlice(.axial)] == counts.max())
        #expect(throws: FigureError.sliceOutOfRange(index: s.z, count: s.z, axis: "axial")) { try fig.plane(.axial, index: s.z) }
        #expect(FigureError.sliceOutOfRange(index: 99, count: 10, axis: "axial").description.contains("0…9"))
    }
}
