import ArgumentParser
import CLI
import Engine
import Foundation
import Volume

/// `c2fnas evaluate PRED --reference LABELS`: Dice, NSD and HD95 per case and class.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score predicted label maps against reference label maps (Dice, normalised surface Dice, HD95).",
        discussion: "Files are paired by name. Both empty: Dice 1, NSD 1, HD95 0; one empty: Dice 0, NSD 0, HD95 inf.")

    @Argument(help: "Folder of predicted label maps (.nii.gz).")
    var predictions: String
    @Option(help: "Folder of reference label maps with the same file names (e.g. a dataset's labelsTr).")
    var reference: String
    @Option(help: "Dataset folder whose dataset.json names the classes (default: classes found in the references).")
    var dataset: String?
    @Option(help: "NSD tolerance in mm.")
    var tolerance: Double = 1.0
    @Option(help: "Save per-case metrics as JSON here.")
    var output: String?
    @Flag(help: "No progress line on stderr.")
    var quiet = false

    struct CaseResult: Encodable { var id: String; var metrics: [ClassMetrics] }

    func run() throws {
        let fm = FileManager.default
        let predDir = URL(fileURLWithPath: predictions), refDir = URL(fileURLWithPath: reference)
        guard let names = try? fm.contentsOfDirectory(atPath: predDir.path).filter({ $0.hasSuffix(".nii.gz") || $0.hasSuffix(".nii") }).sorted(),
              !names.isEmpty else {
            throw VolumeError.fileNotFound(path: predDir.path, role: "folder of .nii.gz predictions")
        }
        var labelNames = [Int: String]()
        if let dataset { labelNames = try MSDDataset.load(URL(fileURLWithPath: dataset)).labels }
        var results = [CaseResult]()
        let progress = quiet ? nil : ProgressReporter()
        progress?.restart("evaluate")
        for (n, name) in names.enumerated() {
            progress?.update(done: n, total: names.count, label: "evaluate", extra: name)
            let refURL = refDir.appendingPathComponent(name)
            guard fm.fileExists(atPath: refURL.path) else { throw VolumeError.fileNotFound(path: refURL.path, role: "reference for prediction \(name)") }
            let (pred, _) = try NIfTI.readLabels(predDir.appendingPathComponent(name))
            let (ref, _) = try NIfTI.readLabels(refURL)
            guard pred.grid.matches(ref.grid) else {
                throw VolumeError.gridMismatch(caseID: name, image: predDir.appendingPathComponent(name).path, label: refURL.path,
                                               detail: "prediction \(pred.shape) vs reference \(ref.shape); predictions must be on the reference grid")
            }
            let classes = labelNames.isEmpty
                ? Set(ref.classCounts().indices.filter { $0 > 0 && ref.classCounts()[$0] > 0 }).sorted()
                : labelNames.keys.filter { $0 > 0 }.sorted()
            let m = try Metrics.evaluate(prediction: pred, reference: ref, labels: classes, defaultTolerance: tolerance)
            results.append(CaseResult(id: name, metrics: m))
            progress?.update(done: n + 1, total: names.count, label: "evaluate", extra: name)
            print(pad(name, 28) + m.map { "c\($0.label) Dice \(f3($0.dice)) NSD \(f3($0.nsd)) HD95 \(f2($0.hd95))" }.joined(separator: " │ "))
        }
        let labels = Set(results.flatMap { $0.metrics.map(\.label) }).sorted()
        print("\nmean over \(results.count) cases (NSD at \(tolerance) mm)")
        for l in labels {
            let ms = results.flatMap { $0.metrics.filter { $0.label == l } }
            let mean = { (f: (ClassMetrics) -> Double) in ms.map(f).reduce(0, +) / Double(ms.count) }
            print("  class \(l) \(labelNames[l] ?? ""): Dice \(f3(mean(\.dice)))  NSD \(f3(mean(\.nsd)))  HD95 \(f2(mean(\.hd95))) mm")
        }
        if let output { try writeJSON(results, to: URL(fileURLWithPath: output)); print("saved \(output)") }
    }

    func f3(_ x: Double) -> String { String(format: "%.3f", x) }
    func f2(_ x: Double) -> String { x.isFinite ? String(format: "%.2f", x) : "inf" }
}
