import Foundation
import NN
import Search
import Volume

/// One fold of the cross-validation of the final architecture.
public struct CrossValidationFold: Codable, Sendable, Equatable {
    /// 0-based fold index, of `folds`.
    public var fold: Int
    public var folds: Int
    /// The held-out search cases the fold was validated on.
    public var caseIDs: [String]
    /// Mean Dice per foreground class over the held-out cases (preprocessed grid).
    public var dicePerClass: [Double]

    public init(fold: Int, folds: Int, caseIDs: [String], dicePerClass: [Double]) {
        self.fold = fold; self.folds = folds; self.caseIDs = caseIDs; self.dicePerClass = dicePerClass
    }
    public var meanDice: Double { dicePerClass.isEmpty ? 0 : dicePerClass.reduce(0, +) / Double(dicePerClass.count) }
}

extension SearchEngine {
    /// Optional k-fold cross-validation of the final architecture (`folds` ≥ 2, nnU-Net style):
    /// the search cases (search-train + search-val, never a test case) are dealt into k seeded
    /// folds; for each fold the architecture is trained from scratch like the final network on the
    /// other folds and validated on it. Per-fold and mean metrics go to the events and the card.
    func stageCrossValidation() throws {
        let k = config.folds
        if k >= 2 {
            let data = try trainingData()
            let n = data.searchPoolCount
            if n < k {
                log("cross-validation: \(n) search cases cannot fill \(k) folds; skipped (set folds to at most \(n))", .warning)
            } else {
                let arch = try finalArchitecture(data)
                let assignment = Self.foldAssignment(count: n, folds: k, seed: config.seed)
                while progress.fold < k {
                    let f = progress.fold
                    let held = assignment.indices.filter { assignment[$0] == f }
                    let rest = assignment.indices.filter { assignment[$0] != f }
                    emit(.stageStarted(stage: .crossValidation, detail: "fold \(f + 1)/\(k): train on \(rest.count), validate on \(held.count) search cases"))
                    let net = try trainLikeFinal(arch, label: "fold \(f + 1)/\(k) training", prefix: "fold.", step: \.foldStep) { rng in
                        data.searchPoolBatch(size: config.batch, rng: &rng, pool: rest)
                    }
                    let cases = data.searchPool(held)
                    let v = try Inference.validationDice(net, cases: cases, classes: data.classes, patch: data.plan.patch,
                                                         overlap: config.overlap)
                    let result = CrossValidationFold(fold: f, folds: k, caseIDs: cases.map(\.id), dicePerClass: v.perClass)
                    progress.folds.append(result)
                    emit(.crossValidation(result))
                    log(String(format: "fold %d/%d: mean Dice %.4f on %d held-out search cases", f + 1, k, result.meanDice, cases.count))
                    progress.fold += 1
                    progress.foldStep = 0
                    try checkpoint(pendingTensors ?? [:])
                }
                emit(.stageFinished(stage: .crossValidation))
            }
        }
        progress.stage = .export
        try checkpoint(pendingTensors ?? [:])
    }

    /// Fold of each of `count` cases: a seeded permutation dealt round-robin, so fold sizes differ by at most one.
    static func foldAssignment(count n: Int, folds k: Int, seed: UInt64) -> [Int] {
        var rng = SeedDomain.dataSplit.rng(seed, 1)
        var order = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, rng.int(below: i + 1)) }
        var fold = [Int](repeating: 0, count: n)
        for (position, i) in order.enumerated() { fold[i] = position % k }
        return fold
    }
}
