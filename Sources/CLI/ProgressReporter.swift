import Foundation
import Engine

/// Progress of long headless work on stderr: a redrawn bar with ETA on a terminal, plain
/// periodic lines otherwise (logs, CI, nohup).
public final class ProgressReporter: @unchecked Sendable {
    private let isTerminal: Bool
    private let interval: Double
    private var lastPrint = 0.0
    private var started = Date().timeIntervalSince1970
    private var lastLabel = ""
    private let lock = NSLock()

    public init(interval: Double? = nil) {
        isTerminal = isatty(STDERR_FILENO) != 0
        self.interval = interval ?? (isTerminal ? 0.2 : 10)
    }

    /// Restarts the ETA clock (call when a new stage begins).
    public func restart(_ label: String) {
        lock.lock(); defer { lock.unlock() }
        started = Date().timeIntervalSince1970
        lastLabel = label
        lastPrint = 0
    }

    public func update(done: Int, total: Int, label: String, extra: String = "") {
        lock.lock(); defer { lock.unlock() }
        let now = Date().timeIntervalSince1970
        guard now - lastPrint >= interval || done == total else { return }
        lastPrint = now
        let frac = total > 0 ? Double(done) / Double(total) : 0
        let elapsed = now - started
        let eta = frac > 0 ? elapsed * (1 - frac) / frac : .nan
        let etaText = ProcessStats.format(seconds: eta)
        if isTerminal {
            let width = 24
            let filled = Int((frac * Double(width)).rounded())
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let line = "\r\u{1B}[2K\(label) \(bar) \(done)/\(total) ETA \(etaText) \(extra)"
            FileHandle.standardError.write(Data(line.utf8))
            if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
        } else {
            let line = "\(label): \(done)/\(total) (\(Int(frac * 100))%) ETA \(etaText) \(extra)\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    /// A full line that does not disturb the bar.
    public func line(_ text: String) {
        lock.lock(); defer { lock.unlock() }
        let prefix = isTerminal ? "\r\u{1B}[2K" : ""
        FileHandle.standardError.write(Data((prefix + text + "\n").utf8))
    }
}
