import Foundation
import NN
import Volume
import Tensor

/// A dataset made ready for search and training: every case preprocessed once (crop, resample,
/// normalise), split three ways with the run's seed (search-train / search-val / test, see
/// `DataSplit`), patch sampling and augmentation.
///
/// Every accessor of case data records which case ids it handed out under the reading stage
/// (`readerStage`, set by the engine), so a test can prove the search never saw a test case.
public final class TrainingData: @unchecked Sendable {
    public let dataset: MSDDataset
    public let fingerprint: Fingerprint
    public let plan: Plan
    /// How the cases were split, with the rule used (stated in the log, events and model card).
    public let split: DataSplit
    private let trainCases: [PreprocessedCase]
    private let validationStore: [PreprocessedCase]
    private let testStore: [PreprocessedCase]
    private let validationMSD: [MSDCase]
    private let testMSD: [MSDCase]
    let reads = CaseReadLog()
    /// The stage reads are attributed to (the engine sets it whenever a stage asks for the data).
    public var readerStage: String {
        get { reads.stage }
        set { reads.stage = newValue }
    }

    /// Search-train cases (weights of the supernets, the fine stage and the final network).
    public var train: [PreprocessedCase] { reads.record(trainCases.map(\.id)); return trainCases }
    /// Search-val cases: fitness, α, finalists, validation curves. Never the reported metrics.
    public var validation: [PreprocessedCase] { reads.record(validationStore.map(\.id)); return validationStore }
    /// The validation cases as MSD cases (to reload the originals).
    public var validationCases: [MSDCase] { reads.record(validationMSD.map(\.id)); return validationMSD }
    /// Held-out test cases (preprocessed grid): never used for a choice.
    public var test: [PreprocessedCase] { reads.record(testStore.map(\.id)); return testStore }
    /// The test cases as MSD cases: the reported metrics come from these, on the original grid.
    public var testCases: [MSDCase] { reads.record(testMSD.map(\.id)); return testMSD }
    /// Case ids each stage has read so far, by stage name.
    public var caseReads: [String: Set<String>] { reads.snapshot }
    let foreground: [ForegroundIndex]
    let validationForeground: [ForegroundIndex]
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
        let parts = DataSplit.indices(count: cases.count, valFraction: config.valFraction,
                                      testFraction: config.testFraction,
                                      seed: config.splitSeed >= 0 ? UInt64(config.splitSeed) : config.seed)
        trainCases = parts.train.map { cases[$0].1 }
        validationStore = parts.validation.map { cases[$0].1 }
        validationMSD = parts.validation.map { cases[$0].0 }
        testStore = parts.test.map { cases[$0].1 }
        testMSD = parts.test.map { cases[$0].0 }
        split = DataSplit(train: parts.train.map { cases[$0].0.id }, validation: validationMSD.map(\.id),
                          test: testMSD.map(\.id), testIsValidation: parts.testIsValidation)
        log(split.rule, parts.testIsValidation ? .warning : .info)
        foreground = trainCases.map { ForegroundIndex($0.labels!) }
        validationForeground = validationStore.map { ForegroundIndex($0.labels!) }
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
        let pool = subset ?? Array(trainCases.indices)
        return makeBatch(size: size, rng: &rng, augment: augment) { r in
            let i = pool[r.int(below: pool.count)]
            return (trainCases[i], foreground[i])
        }
    }

    /// Search-train then search-val cases (never a test case): the pool cross-validation splits.
    public var searchPoolCount: Int { trainCases.count + validationStore.count }

    /// The search-pool cases at `indices` (0..<searchPoolCount; train first, then val).
    public func searchPool(_ indices: [Int]) -> [PreprocessedCase] {
        let picked = indices.map { $0 < trainCases.count ? trainCases[$0] : validationStore[$0 - trainCases.count] }
        reads.record(picked.map(\.id))
        return picked
    }

    /// A batch like `batch`, drawn from search-pool cases (indices as in `searchPool`).
    public func searchPoolBatch(size: Int, rng: inout RNG, pool: [Int]) -> (input: Tensor, labels: Tensor) {
        makeBatch(size: size, rng: &rng, augment: true) { r in
            let i = pool[r.int(below: pool.count)]
            return i < trainCases.count ? (trainCases[i], foreground[i])
                : (validationStore[i - trainCases.count], validationForeground[i - trainCases.count])
        }
    }

    private func makeBatch(size: Int, rng: inout RNG, augment: Bool,
                           pick: (inout RNG) -> (PreprocessedCase, ForegroundIndex)) -> (input: Tensor, labels: Tensor) {
        let p = plan.patch, v = p.count, c = channels
        var input = Tensor.zeros([size, c, p.z, p.y, p.x])
        var labels = Tensor.zeros([size, p.z, p.y, p.x])
        var drawn: [String] = []
        drawn.reserveCapacity(size)
        for b in 0..<size {
            let (source, fg) = pick(&rng)
            drawn.append(source.id)
            var patch = sampler.sample(image: source.image, labels: source.labels!, foreground: fg, rng: &rng)
            if augment { augmenter.apply(&patch, rng: &rng) }
            input.withUnsafeMutablePointer { dst in
                patch.image.withUnsafeBufferPointer { src in (dst + b * c * v).update(from: src.baseAddress!, count: c * v) }
            }
            labels.withUnsafeMutablePointer { dst in
                for j in 0..<v { dst[b * v + j] = Float(patch.labels[j]) }
            }
        }
        reads.record(drawn)
        return (input, labels)
    }
}

/// Which cases went where. Seeded: a fixed permutation of the case list; the last part is
/// search-val (as before the test split existed), the part before it the test split, the rest
/// search-train. With fewer than `minimumForTest` cases (or `testFraction` 0) there is no room
/// for a held-out part: the test cases are the validation cases, and `rule` says so.
public struct DataSplit: Codable, Sendable, Equatable {
    public var train: [String]
    public var validation: [String]
    public var test: [String]
    /// True when no case could be held out and the test cases are the validation cases.
    public var testIsValidation: Bool

    public init(train: [String], validation: [String], test: [String], testIsValidation: Bool) {
        self.train = train; self.validation = validation; self.test = test; self.testIsValidation = testIsValidation
    }

    /// Fewer cases than this leave no room for a held-out test part (at least 3 to train on).
    public static let minimumForTest = 5

    /// The sentence the log, the workbench and the model card show.
    public var rule: String {
        let counts = "\(train.count) search-train / \(validation.count) search-val / \(test.count) test cases"
        if testIsValidation {
            return "split: \(counts); fewer than \(DataSplit.minimumForTest) cases or testFraction 0, so the test cases are the search-val cases: the reported metrics also chose the topology and ops and are biased upwards"
        }
        return "split: \(counts) (seeded); the test cases are never used for a choice"
    }

    /// Indices (sorted) of the three parts of `count` cases.
    public static func indices(count n: Int, valFraction: Double, testFraction: Double, seed: UInt64)
        -> (train: [Int], validation: [Int], test: [Int], testIsValidation: Bool) {
        var rng = SeedDomain.dataSplit.rng(seed)
        var order = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, rng.int(below: i + 1)) }
        let nVal = max(1, min(n - 1, Int((Double(n) * valFraction).rounded())))
        let valIdx = Array(order.suffix(nVal)).sorted()
        if n < minimumForTest || testFraction <= 0 {
            return (Array(order.prefix(n - nVal)).sorted(), valIdx, valIdx, true)
        }
        // At least one test case, and at least one search-train case left.
        let nTest = max(1, min(n - nVal - 1, Int((Double(n) * testFraction).rounded())))
        let rest = order.prefix(n - nVal)
        return (Array(rest.prefix(rest.count - nTest)).sorted(), valIdx, Array(rest.suffix(nTest)).sorted(), false)
    }
}

/// Case ids handed out per stage (thread-safe; the engine thread writes, tests read).
final class CaseReadLog: @unchecked Sendable {
    private let lock = NSLock()
    private var byStage: [String: Set<String>] = [:]
    private var current = "plan"

    var stage: String {
        get { lock.lock(); defer { lock.unlock() }; return current }
        set { lock.lock(); current = newValue; lock.unlock() }
    }

    func record(_ ids: [String]) {
        lock.lock()
        byStage[current, default: []].formUnion(ids)
        lock.unlock()
    }

    var snapshot: [String: Set<String>] { lock.lock(); defer { lock.unlock() }; return byStage }
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
