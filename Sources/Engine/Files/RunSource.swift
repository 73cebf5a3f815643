import Foundation

/// Where a run's data came from, so another process (`c2fnas-tui --attach`, `c2fnas report`) can
/// find the run's own dataset instead of guessing: `source.json` in the run folder.
public struct RunSource: Codable, Sendable, Equatable {
    /// Absolute path of the dataset folder as the run saw it.
    public var datasetFolder: String
    /// The dataset's name (its folder's last component), to tell a moved folder from another dataset.
    public var datasetName: String

    public init(datasetFolder: URL) {
        self.datasetFolder = datasetFolder.absoluteURL.standardizedFileURL.path
        datasetName = datasetFolder.absoluteURL.standardizedFileURL.lastPathComponent
    }

    /// The run's source, or nil when the run predates `source.json` or the file is unreadable.
    public static func load(_ directory: RunDirectory) -> RunSource? {
        guard let data = try? Data(contentsOf: directory.source) else { return nil }
        return try? JSONDecoder().decode(RunSource.self, from: data)
    }
}

extension RunDirectory {
    /// `source.json`: the dataset folder the run was started on (see `RunSource`).
    public var source: URL { url.appendingPathComponent("source.json") }
}
