import Foundation
import Files

/// How one channel is normalised.
public struct ChannelNormalization: Sendable, Codable, Equatable {
    public enum Scheme: String, Sendable, Codable { case ct, zscoreNonzero = "zscore-nonzero" }
    public var scheme: Scheme
    /// CT only: clip window (foreground 0.5/99.5 percentiles) and z-score parameters.
    public var clipLower: Double?
    public var clipUpper: Double?
    public var mean: Double?
    public var std: Double?

    public static func ct(_ s: IntensityStats) -> ChannelNormalization {
        ChannelNormalization(scheme: .ct, clipLower: s.percentile00_5, clipUpper: s.percentile99_5,
                             mean: s.mean, std: Swift.max(s.std, 1e-8))
    }
    public static let zscoreNonzero = ChannelNormalization(scheme: .zscoreNonzero, clipLower: nil, clipUpper: nil, mean: nil, std: nil)
}

/// Rough memory figures for a plan (bytes).
public struct MemoryEstimate: Sendable, Codable, Equatable {
    /// All training cases after cropping and resampling, float32 images plus uint8 labels.
    public var preprocessedDataset: Int
    /// One batch of input patches (float32) plus its labels.
    public var inputBatch: Int
}

/// The part of a fingerprint a plan depends on (nnU-Net: fingerprint → plans → preprocessing): the
/// cases with their shapes, spacings and class sizes, the channels and the labels.
public struct FingerprintSummary: Sendable, Codable, Equatable {
    public struct Case: Sendable, Codable, Equatable {
        public var id: String
        public var shape: [Int]
        public var spacing: [Double]
        public var classVoxels: [Int]
        public init(id: String, shape: [Int], spacing: [Double], classVoxels: [Int]) {
            self.id = id; self.shape = shape; self.spacing = spacing; self.classVoxels = classVoxels
        }
    }
    public var datasetName: String
    public var modalities: [String]
    public var labels: [String: String]
    public var cases: [Case]

    public init(_ f: Fingerprint) {
        datasetName = f.datasetName; modalities = f.modalities; labels = f.labels
        cases = f.cases.map { Case(id: $0.id, shape: $0.shape, spacing: $0.spacing, classVoxels: $0.classVoxels) }
    }

    /// What differs in `now` from this (the plan's) summary, one phrase each; empty when nothing did.
    public func changes(to now: FingerprintSummary) -> [String] {
        var out: [String] = []
        func list(_ ids: [String]) -> String { ids.count <= 5 ? ids.joined(separator: ", ") : ids.prefix(5).joined(separator: ", ") + " and \(ids.count - 5) more" }
        if modalities != now.modalities { out.append("channels were \(modalities), now \(now.modalities)") }
        if labels != now.labels { out.append("labels were \(labels.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")), now \(now.labels.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))") }
        let old = Dictionary(cases.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let new = Dictionary(now.cases.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let removed = cases.map(\.id).filter { new[$0] == nil }, added = now.cases.map(\.id).filter { old[$0] == nil }
        if !removed.isEmpty { out.append("training case(s) \(list(removed)) no longer in the dataset") }
        if !added.isEmpty { out.append("training case(s) \(list(added)) added") }
        for c in cases {
            guard let n = new[c.id] else { continue }
            if c.shape != n.shape { out.append("case \(c.id): shape was \(c.shape), now \(n.shape)") }
            if c.spacing != n.spacing { out.append("case \(c.id): spacing was \(c.spacing) mm, now \(n.spacing) mm") }
            if c.classVoxels != n.classVoxels { out.append("case \(c.id): label voxel counts were \(c.classVoxels), now \(n.classVoxels)") }
        }
        return out
    }
}

/// The preprocessing and sampling plan derived from a fingerprint.
public struct Plan: Sendable, Codable, Equatable {
    public var datasetName: String
    public var modalities: [String]
    public var labels: [String: String]
    public var classCount: Int
    /// Canonical (RAS) axes x, y, z in mm: the median spacing of the training cases.
    public var targetSpacing: [Double]
    public var normalization: [ChannelNormalization]
    public var patchSize: [Int]
    public var batchSize: Int
    /// Median cropped shape after resampling to `targetSpacing`.
    public var medianResampledShape: [Int]
    public var memory: MemoryEstimate
    /// What the plan was made from. A run given this plan (`--plan`, or its own plan.json on resume)
    /// refuses a dataset whose fingerprint differs, naming what changed. nil in plans written before 2026-12-01.
    public var fingerprint: FingerprintSummary?

    public var targetSpacingVector: SIMD3<Double> { SIMD3(targetSpacing[0], targetSpacing[1], targetSpacing[2]) }
    public var patch: Shape3 { Shape3(patchSize) }

    /// Builds a plan. `patchSize` comes from the preset; an axis longer than the median resampled
    /// shape is shrunk to that shape rounded up to a multiple of `divisor` (the network's 2^levels).
    public static func make(fingerprint f: Fingerprint, patchSize: Shape3, divisor: Int = 16, batchSize: Int = 2) -> Plan {
        let target = f.medianSpacing
        let t = SIMD3(target[0], target[1], target[2])
        let resampled = f.cases.map { c in
            Resample.shape(Shape3(c.croppedShape), from: SIMD3(c.spacing[0], c.spacing[1], c.spacing[2]), to: t)
        }
        let median = (0..<3).map { a in Int(Stats.median(resampled.map { Double($0[a]) })) }
        var patch = patchSize
        for a in 0..<3 {
            let fit = Swift.max(divisor, (median[a] + divisor - 1) / divisor * divisor)
            patch[a] = Swift.min(patch[a], fit)
        }
        let norms = f.modalities.indices.map { c -> ChannelNormalization in
            f.modalities[c].uppercased().contains("CT") && c < f.foreground.count && f.foreground[c].samples > 0
                ? .ct(f.foreground[c]) : .zscoreNonzero
        }
        let channels = f.modalities.count
        let datasetBytes = resampled.reduce(0) { $0 + $1.count * (4 * channels + 1) }
        let classCount = (f.labels.keys.compactMap { Int($0) }.max() ?? 0) + 1
        var plan = Plan(datasetName: f.datasetName, modalities: f.modalities, labels: f.labels, classCount: classCount,
                    targetSpacing: target, normalization: norms, patchSize: patch.array, batchSize: batchSize,
                    medianResampledShape: median,
                    memory: MemoryEstimate(preprocessedDataset: datasetBytes, inputBatch: batchSize * patch.count * (4 * channels + 1)))
        plan.fingerprint = FingerprintSummary(f)
        return plan
    }

    /// Pretty JSON (sorted keys), written atomically.
    public func write(to url: URL) throws { try writeJSON(self, to: url) }
}

/// Encodes `value` as pretty JSON and writes it atomically (temp file + rename).
public func writeJSON<T: Encodable>(_ value: T, to url: URL) throws {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    let data: Data
    do { data = try enc.encode(value) } catch { throw VolumeError.writeFailed(path: url.path, detail: error.localizedDescription) }
    let code = AtomicWrite.write(data, toPath: url.path)
    if code != 0 { throw VolumeError.writeFailed(path: url.path, detail: String(cString: strerror(code))) }
}
