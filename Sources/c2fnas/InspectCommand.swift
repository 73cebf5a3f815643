import ArgumentParser
import Foundation
import Volume

/// `c2fnas inspect DATASET`: fingerprint and plan of a dataset (MSD or nnU-Net v2 layout).
/// `c2fnas inspect FILE.nii[.gz]`: one file's header, geometry and values (see NIfTIFileReport).
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Check a dataset (MSD or nnU-Net v2), print its fingerprint and preprocessing plan, save both as JSON; or describe one NIfTI file.",
        discussion: """
        With a .nii/.nii.gz file: shape, datatype, byte order, spacing, qform/sform codes, the file affine \
        (voxel indices → world, what nibabel's img.affine gives) and the RAS affine c2fnas processes on, \
        scaling and the value range. --voxels "i,j,k;i,j,k" prints the scaled values at those file-order \
        indices (a 4th index picks the channel); --json prints one JSON object instead.
        """)

    @Argument(help: "Dataset folder holding dataset.json, imagesTr/, labelsTr/ — or one .nii/.nii.gz file.")
    var dataset: String
    @Flag(help: "FILE only: print one JSON object (shape, datatype, spacing, affine, values, sum, ...).")
    var json = false
    @Option(help: "FILE only: file-order voxel indices \"i,j,k[,c];...\" whose scaled values to print.")
    var voxels: String?
    @Option(help: "Preset whose patch size the plan uses: tiny (32³), cpu (48³) or paper (96³).")
    var preset: String = "tiny"
    @Option(help: "Patch size x,y,z overriding the preset, e.g. 64,64,32.")
    var patch: String?
    @Option(help: "Where to save the JSON (default: <dataset name>_plan.json in the current folder).")
    var output: String?

    var isFile: Bool { dataset.hasSuffix(".nii") || dataset.hasSuffix(".nii.gz") }

    func validate() throws {
        _ = try presetPatch()
        if !isFile && (json || voxels != nil) { throw ValidationError("--json and --voxels describe one NIfTI file; pass FILE.nii or FILE.nii.gz") }
        if let voxels { _ = try NIfTIFileReport.parseVoxels(voxels) }
    }

    func run() throws {
        if isFile {
            let report = try NIfTIFileReport(url: URL(fileURLWithPath: dataset), voxels: try NIfTIFileReport.parseVoxels(voxels ?? ""))
            for w in report.warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
            print(json ? try report.json() : report.text)
            return
        }
        let (patchSize, divisor) = try presetPatch()
        let ds = try MSDDataset.load(URL(fileURLWithPath: dataset))
        print("\(ds.name) (\(ds.layout.rawValue) layout): \(ds.training.count) training cases, \(ds.test.count) test; modalities \(ds.modalities); labels \(ds.sortedLabelValues.map { "\($0) \(ds.labels[$0]!)" }.joined(separator: ", "))")
        let f = try Fingerprint.compute(dataset: ds) { n, total, id in
            if !id.isEmpty { FileHandle.standardError.write(Data("\r  reading \(n + 1)/\(total) \(id)    ".utf8)) }
        }
        FileHandle.standardError.write(Data("\r".utf8))
        let plan = Plan.make(fingerprint: f, patchSize: patchSize, divisor: divisor)
        print(table(f))
        print(plan.summary)
        let out = URL(fileURLWithPath: output ?? "\(ds.name)_plan.json")
        try writeJSON(PlanFile(fingerprint: f, plan: plan), to: out)
        print("saved \(out.path)")
    }

    struct PlanFile: Encodable { var fingerprint: Fingerprint; var plan: Plan }

    func presetPatch() throws -> (Shape3, Int) {
        let (side, divisor): (Int, Int)
        switch preset {
        case "tiny": (side, divisor) = (32, 8)
        case "cpu": (side, divisor) = (48, 16)
        case "paper": (side, divisor) = (96, 16)
        default: throw ValidationError("unknown preset \(preset); use tiny, cpu or paper")
        }
        guard let patch else { return (Shape3(side, side, side), divisor) }
        let parts = patch.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 3, parts.allSatisfy({ $0 > 0 }) else { throw ValidationError("--patch needs three positive integers, e.g. 64,64,32") }
        return (Shape3(parts), divisor)
    }

    func table(_ f: Fingerprint) -> String {
        let classes = f.totalClassVoxels.count
        var lines = [pad("case", 16) + pad("shape", 14) + pad("spacing mm", 20) + pad("cropped", 14)
                     + (1..<max(1, classes)).map { pad("class \($0)", 10) }.joined()]
        for c in f.cases {
            lines.append(pad(c.id, 16) + pad(c.shape.map(String.init).joined(separator: "×"), 14)
                         + pad(c.spacing.map { String(format: "%.2f", $0) }.joined(separator: "×"), 20)
                         + pad(c.croppedShape.map(String.init).joined(separator: "×"), 14)
                         + (1..<max(1, classes)).map { pad(String($0 < c.classVoxels.count ? c.classVoxels[$0] : 0), 10) }.joined())
        }
        lines.append("")
        lines.append(pad("channel", 16) + pad("mean", 10) + pad("std", 10) + pad("p0.5", 10) + pad("p99.5", 10) + "foreground samples")
        for (i, s) in f.foreground.enumerated() {
            lines.append(pad("\(i) \(f.modalities[i])", 16) + [s.mean, s.std, s.percentile00_5, s.percentile99_5]
                .map { pad(String(format: "%.1f", $0), 10) }.joined() + String(s.samples))
        }
        return lines.joined(separator: "\n")
    }
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }

extension Plan {
    /// A short human-readable summary for the terminal.
    var summary: String {
        func mb(_ b: Int) -> String { String(format: "%.1f MB", Double(b) / 1_048_576) }
        let norms = normalization.enumerated().map { i, n in
            n.scheme == .ct
                ? "\(modalities[i]): clip [\(String(format: "%.1f", n.clipLower ?? 0)), \(String(format: "%.1f", n.clipUpper ?? 0))] then z-score (mean \(String(format: "%.1f", n.mean ?? 0)), std \(String(format: "%.1f", n.std ?? 0)))"
                : "\(modalities[i]): per-volume z-score over non-zero voxels"
        }
        return """

        plan
          target spacing   \(targetSpacing.map { String(format: "%.3f", $0) }.joined(separator: " × ")) mm (median)
          median shape     \(medianResampledShape.map(String.init).joined(separator: " × ")) after crop and resampling
          patch            \(patchSize.map(String.init).joined(separator: " × ")), batch \(batchSize)
          classes          \(classCount)
          normalisation    \(norms.joined(separator: "\n                   "))
          memory           preprocessed dataset \(mb(memory.preprocessedDataset)), one input batch \(mb(memory.inputBatch))
        """
    }
}
