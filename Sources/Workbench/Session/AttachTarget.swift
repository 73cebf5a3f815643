import Foundation
import Engine
import Volume

/// Why `c2fnas-tui --attach RUN` cannot show the run's own data; each message ends with the fix.
public enum AttachError: Error, CustomStringConvertible, Equatable {
    case notARun(String)
    case datasetMoved(run: String, folder: String)
    case datasetUnknown(run: String)
    case otherDataset(run: String, folder: String, found: String, planned: String)

    public var description: String {
        switch self {
        case .notARun(let path):
            return "\(path) is not a run folder (no config.json); give the folder `c2fnas search --run` or the workbench wrote"
        case let .datasetMoved(run, folder):
            return "the dataset of run \(run) was at \(folder), which has no dataset.json any more (moved or deleted); pass its new place with --dataset FOLDER"
        case .datasetUnknown(let run):
            return "run \(run) does not record its dataset folder (written before source.json existed); pass it with --dataset FOLDER"
        case let .otherDataset(run, folder, found, planned):
            return "\(folder) holds dataset \"\(found)\", but run \(run) was planned on \"\(planned)\"; pass the run's own dataset with --dataset FOLDER"
        }
    }
}

/// What an attached workbench shows, taken from the run folder itself: its config (levels), its
/// plan (the dataset name it was planned on) and its dataset folder (slices, classes, cases).
public struct AttachTarget: Sendable {
    public var directory: RunDirectory
    public var config: RunConfig
    public var datasetFolder: URL
    /// The dataset name in plan.json, once the plan stage has run.
    public var plannedDataset: String?

    /// Resolves the run's dataset: `override` (from `--dataset`) first, else the folder recorded in
    /// `source.json`. A planned run whose dataset.json names another dataset is refused, since its
    /// slices would silently be another task's.
    public static func resolve(run: URL, datasetOverride: URL?) throws -> AttachTarget {
        let dir = RunDirectory(url: run)
        guard dir.exists else { throw AttachError.notARun(run.path) }
        let config = try RunConfig.load(dir.config)
        // Only the name is needed; reading just that field keeps older and newer plans readable.
        struct PlannedName: Decodable { var datasetName: String }
        let planned = (try? Data(contentsOf: dir.plan)).flatMap { try? JSONDecoder().decode(PlannedName.self, from: $0) }?.datasetName
        let folder: URL
        if let datasetOverride {
            folder = datasetOverride
        } else if let source = RunSource.load(dir) {
            folder = URL(fileURLWithPath: source.datasetFolder)
        } else {
            throw AttachError.datasetUnknown(run: dir.url.path)
        }
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("dataset.json").path) else {
            if datasetOverride != nil { throw VolumeError.fileNotFound(path: folder.appendingPathComponent("dataset.json").path, role: "dataset.json of --dataset") }
            throw AttachError.datasetMoved(run: dir.url.path, folder: folder.path)
        }
        if let planned {
            let found = try MSDDataset.load(folder).name
            if found != planned {
                throw AttachError.otherDataset(run: dir.url.path, folder: folder.path, found: found, planned: planned)
            }
        }
        return AttachTarget(directory: dir, config: config, datasetFolder: folder, plannedDataset: planned)
    }
}
