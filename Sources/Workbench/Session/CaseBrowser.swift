import Foundation
import Volume

/// Loads cases of the dataset for the slice viewer: image (first channel), label, and the
/// run's prediction once one exists (read back from `predictions/<id>.nii.gz`).
struct CaseBrowser {
    let dataset: MSDDataset?
    var cache: [String: SliceVolume] = [:]

    init(datasetFolder: URL) {
        dataset = try? MSDDataset.load(datasetFolder)
    }

    var count: Int { dataset?.training.count ?? 0 }

    /// The case at `index`, with the prediction at `predictionPath` when given.
    mutating func load(_ index: Int, predictionPath: String?) -> SliceVolume? {
        guard let dataset, dataset.training.indices.contains(index) else { return nil }
        let c = dataset.training[index]
        let key = c.id + (predictionPath ?? "")
        if let v = cache[key] { return v }
        guard let (image, labels) = try? dataset.loadCase(c) else { return nil }
        let s = image.volume.shape
        let n = s.count
        let channel0 = Array(image.volume.data.prefix(n))
        var prediction: [UInt8]?
        if let predictionPath, let p = try? NIfTI.readLabels(URL(fileURLWithPath: predictionPath)), p.labels.shape == s {
            prediction = p.labels.data
        }
        let sp = image.volume.spacing
        let v = SliceVolume(name: c.id, size: VolumeSize(x: s.x, y: s.y, z: s.z), image: channel0, label: labels.data,
                            prediction: prediction, classCount: dataset.classCount, spacing: [sp.x, sp.y, sp.z],
                            classNames: dataset.labels)
        if cache.count > 8 { cache.removeAll() }
        cache[key] = v
        return v
    }

    func caseID(_ index: Int) -> String? {
        guard let dataset, dataset.training.indices.contains(index) else { return nil }
        return dataset.training[index].id
    }

    /// Index of the first case with a prediction, if any.
    func firstPredicted(_ predictions: [String: String]) -> Int? {
        dataset?.training.firstIndex { predictions[$0.id] != nil }
    }
}
