import ArgumentParser
import Engine
import Foundation
import Report

/// `c2fnas report RUN [--out DIR]`: one self-contained HTML file about a run.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write report.html for a run: curves, winning topology, candidates and Pareto front, α history, per-class metrics, case figures.",
        discussion: "Works on unfinished runs too: sections without data say \"not in this run\". Case figures and metrics need the dataset (recorded in the run's source.json, or --dataset).")

    @Argument(help: "Run folder (holds config.json and events.jsonl).")
    var runFolder: String
    @Option(help: "Folder for report.html (default: the run folder).")
    var out: String?
    @Option(help: "Dataset folder, when it moved since the run.")
    var dataset: String?

    func run() throws {
        let dir = RunDirectory(url: URL(fileURLWithPath: runFolder))
        guard FileManager.default.fileExists(atPath: dir.events.path) || dir.exists else {
            throw ValidationError("\(runFolder) is not a run folder (no config.json or events.jsonl)")
        }
        let file = try RunReport.write(run: dir, to: URL(fileURLWithPath: out ?? runFolder), dataset: dataset.map { URL(fileURLWithPath: $0) })
        print("wrote \(file.path)")
    }
}
