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

    public init(name: String, dataset: String, classes: [String], architectureSummary: String, params: Int,
                macs: Double, patch: [Int], spacing: [Double], dicePerClass: [Double], nsdPerClass: [Double],
                searchSeconds: Double, seed: UInt64, preset: String, created: Date = Date()) {
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

        \(searchEvidence.isEmpty ? "" : "## Search evidence\n" + searchEvidence.map { "- " + $0 }.joined(separator: "\n") + "\n\n")## Validation metrics (sliding-window inference)
        | class | Dice | NSD |
        |---|---|---|
        \(rows)
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
