import ArgumentParser
import Foundation
import Engine
import Volume
import Search

/// `c2fnas export RUN_DIR [--candidate ID] --out DIR`: copy a run's final model, or write a scored
/// candidate's architecture (with the run's plan and a model card), to a folder of its own.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Export a run's final model or one of its candidates.")

    @Argument(help: "Run folder.")
    var runFolder: String
    @Option(help: "Candidate id (as listed in candidates.jsonl and the workbench); default: the final model.")
    var candidate: String?
    @Option(help: "Destination folder (written atomically).")
    var out: String

    func run() throws {
        let dir = RunDirectory(url: URL(fileURLWithPath: runFolder))
        let dest = URL(fileURLWithPath: out)
        if let candidate {
            // The same export the workbench's `e` writes (Engine's CandidateExport).
            try CandidateExport.write(candidate: candidate, run: dir, to: dest)
        } else {
            var files: [String: Data] = [:]
            for name in ["architecture.json", "weights.safetensors", "plan.json", "model-card.md"] {
                let src = dir.export.appendingPathComponent(name)
                guard let d = try? Data(contentsOf: src) else {
                    throw ValidationError("\(src.path) is missing: the run has not finished its export stage yet (resume it with c2fnas search … --run \(dir.url.path))")
                }
                files[name] = d
            }
            try ExportFolder.write(files: files, to: dest)
        }
        print("exported to \(dest.path)")
    }
}
