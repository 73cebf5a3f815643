import ArgumentParser
import Foundation
import Workbench
import Engine
import CLI
import Tensor

/// The terminal workbench. A synchronous root command, so the UI loop owns the main thread.
struct C2FNASTUI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "c2fnas-tui",
        abstract: "Search a 3D segmentation network with C2FNAS and watch and steer it from the terminal.",
        discussion: "With no arguments it searches the bundled sample (sample-data/Task00_Phantom) with the tiny preset.")

    @Argument(help: "Dataset folder in MSD layout (default: the bundled sample).")
    var dataset: String?

    @Option(help: "Scale preset: tiny, cpu or paper.")
    var preset: String = "tiny"

    @Option(name: .customLong("run"), help: "Run folder; an existing one is resumed.")
    var runFolder: String?

    @Option(help: "Follow a run that another process (c2fnas search) writes, read-only.")
    var attach: String?

    @Option(name: .customLong("dataset"), help: "With --attach: the run's dataset folder, when it has moved since the run started.")
    var datasetOption: String?

    @Option(help: "Theme name from themes/ (dark, light, high-contrast).")
    var theme: String?

    @Option(name: .customLong("set"), help: "Override a config field, e.g. --set finalSteps=500 (repeatable).")
    var overrides: [String] = []

    @Option(help: "Slice pictures: auto (detect), kitty, sixel, iterm, or cells (half blocks).")
    var graphics: String = "auto"

    @Flag(help: "No terminal UI: run like `c2fnas search` (for CI and runs without a terminal).")
    var headless = false

    func validate() throws {
        guard GraphicsChoice(rawValue: graphics) != nil else {
            throw ValidationError("--graphics must be one of \(GraphicsChoice.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let graphicsChoice = GraphicsChoice(rawValue: graphics) ?? .auto
        let folder = URL(fileURLWithPath: dataset ?? Self.bundledSample())
        let themes = Self.loadThemes(preferred: theme)
        if let attach {
            // The run's own config, plan and dataset; never the bundled sample.
            let explicit = (datasetOption ?? dataset).map { URL(fileURLWithPath: $0) }
            let target: AttachTarget
            do { target = try AttachTarget.resolve(run: URL(fileURLWithPath: attach), datasetOverride: explicit) } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode.failure
            }
            try MainActor.assumeIsolated {
                let session = WorkbenchSession(attach: target.directory, datasetFolder: target.datasetFolder,
                                               levels: target.config.levels, themes: themes)
                session.graphics = graphicsChoice
                _ = try session.run()
            }
            return
        }
        var cfg = try RunConfig.preset(preset)
        try cfg.apply(overrides: overrides)
        // The UI thread must stay responsive: compute runs on one thread next to it.
        let dir = runFolder.map { RunDirectory(url: URL(fileURLWithPath: $0)) }
            ?? RunDirectory.make(root: URL(fileURLWithPath: "runs"), dataset: folder.lastPathComponent)
        if headless || isatty(STDOUT_FILENO) == 0 || isatty(STDIN_FILENO) == 0 {
            if !headless { FileHandle.standardError.write(Data("no terminal: running headless (progress on stderr)\n".utf8)) }
            let outcome = CLIRun.execute(datasetFolder: folder, directory: dir, config: cfg)
            if case .failed = outcome { throw ExitCode.failure }
            return
        }
        let outcome = try MainActor.assumeIsolated {
            let session = WorkbenchSession(engineFor: folder, directory: dir, config: cfg, themes: themes)
            session.graphics = graphicsChoice
            return try session.run()
        }
        switch outcome {
        case .finished?: print("finished: \(dir.url.path) (export in \(dir.export.path))")
        case .stopped?: print("stopped and checkpointed; resume with: c2fnas-tui \(folder.path) --run \(dir.url.path)")
        case let .failed(message)?: print("failed: \(message)"); throw ExitCode.failure
        case nil: print("the engine did not stop within 2 minutes; its last checkpoint is in \(dir.checkpoints.path)")
        }
    }

    /// sample-data/Task00_Phantom from the working folder, else next to the installed binary.
    static func bundledSample() -> String {
        let local = "sample-data/Task00_Phantom"
        if FileManager.default.fileExists(atPath: local + "/dataset.json") { return local }
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent(local)
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("dataset.json").path) { return candidate.path }
            dir = dir.deletingLastPathComponent()
        }
        return local
    }

    /// Themes from themes/ (the preferred one first); the built-in theme when none load.
    static func loadThemes(preferred: String?) -> [Theme] {
        var folder = "themes"
        if !FileManager.default.fileExists(atPath: folder) {
            folder = URL(fileURLWithPath: bundledSample()).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("themes").path
        }
        var themes = Theme.loadAll(directory: folder).themes
        if let preferred, let i = themes.firstIndex(where: { $0.name == preferred }) {
            themes.insert(themes.remove(at: i), at: 0)
        } else if let i = themes.firstIndex(where: { $0.name == "dark" }) {
            themes.insert(themes.remove(at: i), at: 0)
        }
        return themes
    }
}
BLAS.reexecWithSupportedCoreIfNeeded()
C2FNASTUI.main()
