import Foundation

/// The folder that holds everything about one run, so a run can be resumed, replayed or
/// attached to by another process:
/// `config.json`, `plan.json`, `events.jsonl`, `metrics.csv`, `candidates.jsonl`,
/// `checkpoints/`, `predictions/`, `export/`.
public struct RunDirectory: Sendable {
    public let url: URL

    public init(url: URL) { self.url = url.standardizedFileURL }

    /// `runs/<dataset>-<yyyyMMdd-HHmmss>` under `root`.
    public static func make(root: URL, dataset: String, date: Date = Date()) -> RunDirectory {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd-HHmmss"
        return RunDirectory(url: root.appendingPathComponent("\(dataset)-\(f.string(from: date))"))
    }

    public var config: URL { url.appendingPathComponent("config.json") }
    public var plan: URL { url.appendingPathComponent("plan.json") }
    public var events: URL { url.appendingPathComponent("events.jsonl") }
    public var metrics: URL { url.appendingPathComponent("metrics.csv") }
    public var candidates: URL { url.appendingPathComponent("candidates.jsonl") }
    public var checkpoints: URL { url.appendingPathComponent("checkpoints") }
    public var predictions: URL { url.appendingPathComponent("predictions") }
    public var export: URL { url.appendingPathComponent("export") }

    /// Creates the folder tree; a read-only or unwritable location gets a clear error.
    public func create() throws {
        let fm = FileManager.default
        for dir in [url, checkpoints, predictions, export] {
            do { try fm.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
                throw RunFileError.readOnly(dir.path)
            }
        }
        guard access(url.path, W_OK) == 0 else { throw RunFileError.readOnly(url.path) }
    }

    public var exists: Bool { FileManager.default.fileExists(atPath: config.path) }
}
