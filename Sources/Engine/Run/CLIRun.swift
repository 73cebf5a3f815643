import Foundation

/// Runs an engine from a synchronous command-line context: progress on stderr, SIGINT/SIGTERM
/// turned into a checkpointed stop, and the calling thread waits for the outcome.
public enum CLIRun {
    public static func execute(datasetFolder: URL, directory: RunDirectory, config: RunConfig,
                               fixedArchitecture: Architecture? = nil, jsonEvents: Bool = false) -> RunOutcome {
        let reporter = ProgressReporter()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let engine = SearchEngine(datasetFolder: datasetFolder, directory: directory, config: config,
                                  fixedArchitecture: fixedArchitecture) { r in
            if jsonEvents, let line = try? encoder.encode(r) { FileHandle.standardOutput.write(line + Data([0x0A])) }
            switch r.event {
            case let .progress(done, total, label): reporter.update(done: done, total: total, label: label)
            case let .stageStarted(stage, detail): reporter.restart(stage.rawValue); reporter.line("[\(stage.rawValue)] \(detail)")
            case let .log(level, message): reporter.line(level >= .warning ? "\(level.rawValue): \(message)" : message)
            case let .validation(dice, _): reporter.line(String(format: "validation Dice %.4f", dice))
            case let .failed(message): reporter.line("error: \(message)")
            case let .exported(path): reporter.line("exported \(path)")
            default: break
            }
        }
        let trap = SignalTrap { sig in
            reporter.line("signal \(sig): checkpointing, then stopping (send again to exit at once)")
            engine.send(.stop)
        }
        let done = DispatchSemaphore(value: 0)
        let result = OutcomeBox()
        Task.detached {
            let outcome = await engine.run()
            result.set(outcome)
            done.signal()
        }
        done.wait()
        withExtendedLifetime(trap) {}
        return result.get()
    }
}

final class OutcomeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var outcome: RunOutcome = .stopped
    func set(_ o: RunOutcome) { lock.lock(); outcome = o; lock.unlock() }
    func get() -> RunOutcome { lock.lock(); defer { lock.unlock() }; return outcome }
}
