import Engine
import Foundation
import Search

/// Runs an engine from a synchronous command-line context: progress on stderr, SIGINT/SIGTERM
/// turned into a checkpointed stop, and the calling thread waits for the outcome.
public enum CLIRun {
    public static func execute(datasetFolder: URL, directory: RunDirectory, config: RunConfig,
                               fixedArchitecture: Architecture? = nil, planFile: URL? = nil, role: EngineRole = .whole,
                               jsonEvents: Bool = false) -> RunOutcome {
        let reporter = ProgressReporter()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let engine = SearchEngine(datasetFolder: datasetFolder, directory: directory, config: config,
                                  fixedArchitecture: fixedArchitecture, planFile: planFile, role: role) { r in
            if jsonEvents, let line = try? encoder.encode(r) { FileHandle.standardOutput.write(line + Data([0x0A])) }
            switch r.event {
            case let .progress(done, total, label): reporter.update(done: done, total: total, label: label)
            case let .stageStarted(stage, detail): reporter.restart(stage.rawValue); reporter.line("[\(stage.rawValue)] \(detail)")
            case let .log(level, message): reporter.line(level >= .warning ? "\(level.rawValue): \(message)" : message)
            case let .validation(dice, _): reporter.line(String(format: "validation Dice %.4f", dice))
            case let .failed(message): reporter.line("error: \(message)")
            case let .exported(path): reporter.line("exported \(path)")
            case let .comparison(c): reporter.line("\(c.reference.role): \(c.summary)")
            default: break
            }
        }
        let trap = SignalTrap { sig in
            reporter.line("signal \(sig): checkpointing, then stopping (send again to exit at once)")
            engine.send(.stop)
        }
        let result = OutcomeCell()
        Task.detached { result.set(await engine.run()) }
        let outcome = result.wait(seconds: 1e9)  // until the engine returns
        withExtendedLifetime(trap) {}
        return outcome ?? .stopped
    }
}
