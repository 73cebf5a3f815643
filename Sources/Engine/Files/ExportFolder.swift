import Foundation

/// What goes into a model card: enough to know where a model came from and how good it is.
public struct ModelCardInfo: Sendable {
    public var name: String
    public var dataset: String
    public var classes: [String]
    public var architectureSummary: String
    public var params: Int
    public var macs: Double
    public var patch: [Int]
    public var spacing: [Double]
    public var dicePerClass: [Double]
    public var nsdPerClass: [Double]
    public var searchSeconds: Double
    public var seed: UInt64
    public var preset: String
    public var created: Date
    /// "Search evidence" bullets: ranking audit, per-cluster fitness spread vs noise, α entropy, budget.
    public var searchEvidence: [String] = []
    /// The case split and its rule; test metrics and comparisons by role (see `EvaluationSummary`).
    public var evaluation: EvaluationSummary

    public init(name: String, dataset: String, classes: [String], architectureSummary: String, params: Int,
                macs: Double, patch: [Int], spacing: [Double], dicePerClass: [Double], nsdPerClass: [Double],
                searchSeconds: Double, seed: UInt64, preset: String, created: Date = Date(), split: DataSplit? = nil,
                testMetrics: [String: TestMetrics] = [:], comparisons: [String: ModelComparison] = [:],
                folds: [CrossValidationFold] = []) {
        evaluation = EvaluationSummary(split: split, testMetrics: testMetrics, comparisons: comparisons,
                                       folds: folds.isEmpty ? nil : folds)
        self.name = name; self.dataset = dataset; self.classes = classes
        self.architectureSummary = architectureSummary; self.params = params; self.macs = macs
        self.patch = patch; self.spacing = spacing; self.dicePerClass = dicePerClass
        self.nsdPerClass = nsdPerClass; self.searchSeconds = searchSeconds; self.seed = seed
        self.preset = preset; self.created = created
    }

    public func markdown() -> String {
        let f = ISO8601DateFormatter()
        var rows = ""
        for (i, name) in classes.enumerated() {
            let d = i < dicePerClass.count ? String(format: "%.4f", dicePerClass[i]) : "–"
            let n = i < nsdPerClass.count ? String(format: "%.4f", nsdPerClass[i]) : "–"
            rows += "| \(name) | \(d) | \(n) |\n"
        }
        return """
        # Model card: \(name)

        - dataset: \(dataset)
        - created: \(f.string(from: created))
        - search preset: \(preset), seed \(seed), search wall time \(ProcessStats.format(seconds: searchSeconds))
        - architecture: \(architectureSummary)
        - parameters: \(params); multiply-adds per patch: \(String(format: "%.3g", macs))
        - patch (d, h, w): \(patch.map(String.init).joined(separator: "×")); spacing (x, y, z) mm: \(spacing.map { String(format: "%.3g", $0) }.joined(separator: " × "))

        \(searchEvidence.isEmpty ? "" : "## Search evidence\n" + searchEvidence.map { "- " + $0 }.joined(separator: "\n") + "\n\n")## \(evaluation.split == nil ? "Validation" : "Test") metrics (sliding-window inference)
        \(evaluation.split.map { "\($0.rule).\n" } ?? "")
        | class | Dice | NSD |
        |---|---|---|
        \(rows)
        \(evaluation.markdown(classes: classes))
        ## Files
        - `architecture.json`: the searched architecture (versioned JSON; `c2fnas train` and `python/c2fnas_torch.py` read it)
        - `weights.safetensors`: parameters by name (little-endian float32), loadable with Python's `safetensors`
        - `plan.json`: spacing, normalisation, patch size and classes used for preprocessing
        - `predict`: `c2fnas predict <this folder> IMAGE.nii.gz --out DIR`

        """
    }
}

/// Writes an export folder atomically: everything goes to `<out>.tmp/`, then the folder is
/// renamed into place, so an export is complete or absent (a previous export is replaced only
/// once the new one is whole).
public enum ExportFolder {
    public static func write(files: [String: Data], to out: URL) throws {
        let fm = FileManager.default
        let tmp = out.deletingLastPathComponent().appendingPathComponent(out.lastPathComponent + ".tmp")
        try? fm.removeItem(at: tmp)
        do { try fm.createDirectory(at: tmp, withIntermediateDirectories: true) } catch {
            throw RunFileError.readOnly(out.deletingLastPathComponent().path)
        }
        do {
            for (name, data) in files { try AtomicFile.write(data, to: tmp.appendingPathComponent(name)) }
            let old = out.deletingLastPathComponent().appendingPathComponent(out.lastPathComponent + ".old")
            try? fm.removeItem(at: old)
            if fm.fileExists(atPath: out.path) { _ = rename(out.path, old.path) }
            guard rename(tmp.path, out.path) == 0 else {
                let e = errno
                _ = rename(old.path, out.path)
                throw AtomicFile.error(e, out.path)
            }
            try? fm.removeItem(at: old)
            AtomicFile.syncDirectory(out.deletingLastPathComponent())
        } catch {
            try? fm.removeItem(at: tmp)
            if case RunFileError.diskFull = error { throw RunFileError.diskFull(out.path) }
            throw error
        }
    }
}

/// The honest-evaluation part of a run's results, as `export/evaluation.json` and in the model
/// card: the split, the test metrics of every trained model, and the comparisons.
public struct EvaluationSummary: Codable, Sendable, Equatable {
    public var split: DataSplit?
    public var testMetrics: [String: TestMetrics]
    public var comparisons: [String: ModelComparison]
    /// The k folds of the optional cross-validation (nil when it did not run).
    public var folds: [CrossValidationFold]?

    public init(split: DataSplit?, testMetrics: [String: TestMetrics], comparisons: [String: ModelComparison],
                folds: [CrossValidationFold]? = nil) {
        self.split = split; self.testMetrics = testMetrics; self.comparisons = comparisons; self.folds = folds
    }

    /// The comparison sections of the model card (empty when there are none).
    public func markdown(classes: [String]) -> String {
        var out = ""
        func f(_ v: Double) -> String { String(format: "%.4f", v) }
        func ci(_ i: BootstrapInterval?) -> String { i.map { String(format: "[%+.4f, %+.4f]", $0.low, $0.high) } ?? "–" }
        let titles = ["baseline": "Searched vs baseline U-Net (same training, same test cases)",
                      "ablation": "Ablation: did the fine stage help?"]
        for role in ["baseline", "ablation"] {
            guard let c = comparisons[role] else { continue }
            out += "## \(titles[role]!)\nReference: \(c.note); \(c.reference.params) parameters.\n\n"
            out += "| class | searched | \(role) | difference | 95 % CI (paired bootstrap) |\n|---|---|---|---|---|\n"
            for (k, name) in classes.enumerated() where k < c.differencePerClass.count {
                out += "| \(name) | \(f(c.searched.dicePerClass[k])) | \(f(c.reference.dicePerClass[k])) | \(String(format: "%+.4f", c.differencePerClass[k])) | \(ci(c.intervalPerClass?[k])) |\n"
            }
            out += "| **mean** | \(f(c.searched.meanDice)) | \(f(c.reference.meanDice)) | \(String(format: "%+.4f", c.meanDifference)) | \(ci(c.interval)) |\n\n"
            let n = c.searched.caseIDs.count
            if let i = c.interval {
                let verdict = i.excludesZero ? (i.low > 0 ? "better than" : "worse than") : "not distinguishable from"
                let subject = role == "ablation" ? "With the fine stage the network is \(verdict) without it"
                                                 : "The searched network is \(verdict) the U-Net"
                out += "\(subject) on these \(n) test cases (\(i.resamples) resamples, percentile interval). "
                    + "The interval covers the choice of test cases, not the randomness of training (one seed each); "
                    + "`c2fnas stability` over runs with other seeds measures that.\n\n"
            } else {
                out += "No interval: \(n) test case(s), fewer than \(PairedBootstrap.minimumCases); the difference alone says little.\n\n"
            }
        }
        if let folds, !folds.isEmpty {
            out += "## Cross-validation (\(folds.count) folds over the search cases, preprocessed grid)\n"
            out += "Each fold trained from scratch like the final network on the other folds; the test cases take no part.\n\n"
            out += "| fold | cases | " + classes.joined(separator: " | ") + " | mean |\n|---|---|" + String(repeating: "---|", count: classes.count + 1) + "\n"
            for fold in folds {
                out += "| \(fold.fold + 1) | \(fold.caseIDs.count) | " + fold.dicePerClass.map(f).joined(separator: " | ") + " | \(f(fold.meanDice)) |\n"
            }
            let spreads = (0..<classes.count).map { k in StabilityReport.Spread(folds.map { $0.dicePerClass[k] }) } + [StabilityReport.Spread(folds.map(\.meanDice))]
            out += "| mean ± sd | | " + spreads.map { String(format: "%.4f ± %.4f", $0.mean, $0.sd) }.joined(separator: " | ") + " |\n\n"
        }
        return out
    }
}
