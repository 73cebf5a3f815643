import Foundation
import NN
import Volume
import Tensor

/// A dataset made ready for search and training: every case preprocessed once (crop, resample,
/// normalise), split into train/validation with the run's seed, patch sampling and augmentation.
public final class TrainingData: @unchecked Sendable {
    public let dataset: MSDDataset
    public let fingerprint: Fingerprint
    public let plan: Plan
    public let train: [PreprocessedCase]
    public let validation: [PreprocessedCase]
    /// The validation cases as MSD cases (to reload the originals for evaluation).
    public let validationCases: [MSDCase]
    let foreground: [ForegroundIndex]
    let sampler: PatchSampler
    let augmenter: Augmenter

    public var classes: Int { plan.classCount }
    public var channels: Int { plan.modalities.count }
    /// Patch as (d, h, w) = (z, y, x).
    public var patchDHW: [Int] { [plan.patch.z, plan.patch.y, plan.patch.x] }

    /// With `plan`, that plan (read from `plan.path`) pins spacing, patch and normalisation instead
    /// of one made from the fingerprint; a dataset whose fingerprint changed since is refused.
    public init(folder: URL, config: RunConfig, plan supplied: (plan: Plan, path: String)? = nil,
                log: (String, LogLevel) -> Void = { _, _ in }) throws {
        dataset = try MSDDataset.load(folder)
        try dataset.checkFiles()
        log("fingerprinting \(dataset.training.count) cases of \(dataset.name)", .info)
        fingerprint = try Fingerprint.compute(dataset: dataset)
        // Config patch is (d, h, w); the Volume module counts (x, y, z).
        let divisor = 1 << config.levels
        if let supplied {
            try Self.check(supplied.plan, path: supplied.path, fingerprint: fingerprint, divisor: divisor)
            plan = supplied.plan
            log("plan \(supplied.path): spacing, patch and normalisation as it says", .info)
        } else {
            plan = Plan.make(fingerprint: fingerprint, patchSize: Shape3(config.patch[2], config.patch[1], config.patch[0]),
                             divisor: divisor, batchSize: config.batch)
        }
        for (c, fc) in zip(dataset.training, fingerprint.cases) where !fc.classVoxels.dropFirst().contains(where: { $0 > 0 }) {
            log(RunWarning.allBackgroundCase(caseID: c.id, path: c.label.path).description, .warning)
        }
        let used = [plan.patch.z, plan.patch.y, plan.patch.x]
        if used != config.patch && supplied == nil {
            let m = plan.medianResampledShape
            log(RunWarning.patchShrunk(requested: config.patch, used: used, medianShape: [m[2], m[1], m[0]]).description, .warning)
        }
        let pre = Preprocessor(plan: plan)
        var cases: [(MSDCase, PreprocessedCase)] = []
        for c in dataset.training {
            let (image, labels) = try dataset.loadCase(c)
            cases.append((c, try pre.run(id: c.id, image: image.volume, labels: labels)))
        }
        guard cases.count >= 2 else {
            throw VolumeError.invalidArgument("\(dataset.jsonPath) lists \(cases.count) training case(s); a search needs at least 2 (one to train, one to validate)")
        }
        // Seeded split: a fixed permutation of the case list, the last valFraction for validation.
        var rng = SeedDomain.dataSplit.rng(config.seed)
        var order = Array(cases.indices)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.int(below: i + 1)) }
        let nVal = max(1, min(cases.count - 1, Int((Double(cases.count) * config.valFraction).rounded())))
        let valIdx = Array(order.suffix(nVal)).sorted(), trainIdx = Array(order.prefix(cases.count - nVal)).sorted()
        train = trainIdx.map { cases[$0].1 }
        validation = valIdx.map { cases[$0].1 }
        validationCases = valIdx.map { cases[$0].0 }
        foreground = train.map { ForegroundIndex($0.labels!) }
        sampler = PatchSampler(patchSize: plan.patch, foregroundFraction: config.foregroundFraction)
        var aug = AugmentationConfig()
        aug.flipProbability = [config.augFlip, config.augFlip, config.augFlip]
        aug.rotateProbability = config.augRotate
        aug.scaleProbability = config.augScale
        aug.shiftProbability = config.augShift
        aug.gammaProbability = config.augGamma
        aug.noiseProbability = config.augNoise
        augmenter = Augmenter(config: aug)
    }

    /// A batch of `size` patches from the training cases listed in `subset` (all when nil):
    /// input (B, C, D, H, W) and labels (B, D, H, W) as class indices.
    public func batch(size: Int, rng: inout RNG, subset: [Int]? = nil, augment: Bool = true) -> (input: Tensor, labels: Tensor) {
        let pool = subset ?? Array(train.indices)
        let p = plan.patch, v = p.count, c = channels
        var input = Tensor.zeros([size, c, p.z, p.y, p.x])
        var labels = Tensor.zeros([size, p.z, p.y, p.x])
        for b in 0..<size {
            let i = pool[rng.int(below: pool.count)]
            var patch = sampler.sample(image: train[i].image, labels: train[i].labels!, foreground: foreground[i], rng: &rng)
            if augment { augmenter.apply(&patch, rng: &rng) }
            input.withUnsafeMutablePointer { dst in
                patch.image.withUnsafeBufferPointer { src in (dst + b * c * v).update(from: src.baseAddress!, count: c * v) }
            }
            labels.withUnsafeMutablePointer { dst in
                for j in 0..<v { dst[b * v + j] = Float(patch.labels[j]) }
            }
        }
        return (input, labels)
    }
}

extension TrainingData {
    /// Reads a plan file (`c2fnas plan`, or a run's own plan.json).
    public static func loadPlan(_ url: URL) throws -> Plan {
        guard let data = try? Data(contentsOf: url) else { throw EngineError.planUnreadable(path: url.path, reason: "the file cannot be read") }
        do { return try JSONDecoder().decode(Plan.self, from: data) } catch let DecodingError.keyNotFound(key, _) {
            throw EngineError.planUnreadable(path: url.path, reason: "field '\(key.stringValue)' is missing")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw EngineError.planUnreadable(path: url.path, reason: "field '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch {
            throw EngineError.planUnreadable(path: url.path, reason: "not a plan (\(error))")
        }
    }

    /// The plan a run would make for this dataset and config: what `c2fnas plan` writes.
    public static func makePlan(fingerprint: Fingerprint, config: RunConfig) -> Plan {
        Plan.make(fingerprint: fingerprint, patchSize: Shape3(config.patch[2], config.patch[1], config.patch[0]),
                  divisor: 1 << config.levels, batchSize: config.batch)
    }

    /// A supplied plan must fit the network (patch divisible by 2^levels) and the dataset as it is now.
    static func check(_ plan: Plan, path: String, fingerprint: Fingerprint, divisor: Int) throws {
        guard plan.patchSize.count == 3, plan.patchSize.allSatisfy({ $0 >= divisor && $0 % divisor == 0 }),
              plan.targetSpacing.count == 3, plan.targetSpacing.allSatisfy({ $0 > 0 && $0.isFinite }),
              plan.normalization.count == fingerprint.modalities.count else {
            throw EngineError.planUnreadable(path: path, reason: "patch \(plan.patchSize) must be three multiples of 2^levels = \(divisor), spacing three positive numbers, and one normalisation per channel (\(fingerprint.modalities.count))")
        }
        guard let made = plan.fingerprint else { return }
        let changes = made.changes(to: FingerprintSummary(fingerprint))
        if !changes.isEmpty { throw EngineError.planMismatch(path: path, changes: changes) }
    }
}
