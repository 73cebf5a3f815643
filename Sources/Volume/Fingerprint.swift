import Foundation
import Tensor

/// What one training case looks like (canonical orientation).
public struct CaseFingerprint: Sendable, Codable, Equatable {
    public var id: String
    public var shape: [Int]
    public var spacing: [Double]
    /// Shape after cropping to the non-zero bounding box.
    public var croppedShape: [Int]
    /// Voxel count per class value (index = class).
    public var classVoxels: [Int]
}

/// Foreground intensity statistics of one channel, pooled over all training cases.
public struct IntensityStats: Sendable, Codable, Equatable {
    public var mean: Double
    public var std: Double
    public var percentile00_5: Double
    public var percentile99_5: Double
    public var min: Double
    public var max: Double
    public var samples: Int

    public init(values: [Double]) {
        let s = values.sorted()
        mean = Stats.mean(s); std = Stats.std(s)
        percentile00_5 = Stats.percentile(sorted: s, 0.5); percentile99_5 = Stats.percentile(sorted: s, 99.5)
        min = s.first ?? .nan; max = s.last ?? .nan; samples = s.count
    }
}

/// The dataset fingerprint (nnU-Net's term): shapes, spacings, intensities and class sizes.
public struct Fingerprint: Sendable, Codable, Equatable {
    public var datasetName: String
    public var modalities: [String]
    /// Label value (as a string key, like dataset.json) → name.
    public var labels: [String: String]
    public var cases: [CaseFingerprint]
    /// Per channel, over foreground (label > 0) voxels.
    public var foreground: [IntensityStats]

    public var medianSpacing: [Double] { (0..<3).map { a in Stats.median(cases.map { $0.spacing[a] }) } }
    public var medianShape: [Int] { (0..<3).map { a in Int(Stats.median(cases.map { Double($0.shape[a]) })) } }
    public var totalClassVoxels: [Int] {
        let n = cases.map(\.classVoxels.count).max() ?? 0
        return (0..<n).map { c in cases.reduce(0) { $0 + (c < $1.classVoxels.count ? $1.classVoxels[c] : 0) } }
    }

    /// Reads every training case (one at a time) and pools the statistics. Up to
    /// `samplesPerCase` foreground voxels per case and channel are drawn (seeded, so reproducible).
    public static func compute(dataset: MSDDataset, samplesPerCase: Int = 10_000, seed: UInt64 = 0,
                               progress: ((Int, Int, String) -> Void)? = nil) throws -> Fingerprint {
        try dataset.checkFiles()
        var cases = [CaseFingerprint]()
        var pooled = [[Double]](repeating: [], count: dataset.modalities.count)
        for (n, c) in dataset.training.enumerated() {
            progress?(n, dataset.training.count, c.id)
            let (image, labels) = try dataset.loadCase(c)
            let v = image.volume
            let box = Crop.nonzeroBox(v)
            cases.append(CaseFingerprint(id: c.id, shape: v.shape.array, spacing: [v.spacing.x, v.spacing.y, v.spacing.z],
                                         croppedShape: box.size.array, classVoxels: labels.classCounts()))
            var fg = [Int]()
            for (i, l) in labels.data.enumerated() where l > 0 { fg.append(i) }
            var rng = RNG(seed: seed, stream: UInt64(n))
            let picks: [Int] = fg.count <= samplesPerCase ? fg : (0..<samplesPerCase).map { _ in fg[rng.int(below: fg.count)] }
            let nvox = v.shape.count
            for ch in 0..<v.channels {
                for i in picks {
                    let x = Double(v.data[ch * nvox + i])
                    if x.isFinite { pooled[ch].append(x) }
                }
            }
        }
        progress?(dataset.training.count, dataset.training.count, "")
        guard cases.contains(where: { $0.classVoxels.dropFirst().contains { $0 > 0 } }) else {
            throw VolumeError.noForeground(dataset: dataset.root.path, cases: cases.count)
        }
        return Fingerprint(datasetName: dataset.name, modalities: dataset.modalities,
                           labels: Dictionary(uniqueKeysWithValues: dataset.labels.map { (String($0.key), $0.value) }),
                           cases: cases, foreground: pooled.map { IntensityStats(values: $0) })
    }
}
