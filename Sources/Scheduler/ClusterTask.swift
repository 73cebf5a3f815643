import Foundation
import Engine

/// The command lines of a split run, the same for a local child process and a Slurm task:
/// `c2fnas search DATASET --run DIR --stage coarse --cluster K` for each cluster, then
/// `c2fnas search DATASET --run DIR --stage finish`. Both read everything else from the run folder.
public struct ClusterTask: Sendable {
    /// The `c2fnas` executable (an absolute path every node can run).
    public var binary: URL
    public var dataset: URL
    public var run: RunDirectory

    public init(binary: URL, dataset: URL, run: RunDirectory) {
        self.binary = binary
        self.dataset = dataset.absoluteURL.standardizedFileURL
        self.run = run
    }

    public func clusterArguments(_ k: Int) -> [String] {
        ["search", dataset.path, "--run", run.url.path, "--stage", "coarse", "--cluster", String(k)]
    }

    public var finishArguments: [String] { ["search", dataset.path, "--run", run.url.path, "--stage", "finish"] }

    /// Logs of the split run's processes: `logs/cluster-<k>.log` and `logs/finish.log`.
    public var logs: URL { run.url.appendingPathComponent("logs") }
    public func clusterLog(_ k: Int) -> URL { logs.appendingPathComponent("cluster-\(k).log") }
    public var finishLog: URL { logs.appendingPathComponent("finish.log") }

    /// The running executable, resolved through /proc so a relative or PATH invocation still gives
    /// an absolute path for job scripts.
    public static func currentBinary() -> URL {
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: p.replacingOccurrences(of: " (deleted)", with: ""))
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).absoluteURL
    }
}

/// Quotes a word for a POSIX shell script.
func shellQuoted(_ s: String) -> String {
    if !s.isEmpty, s.allSatisfy({ $0.isLetter || $0.isNumber || "/._-=:,+@%".contains($0) }) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
