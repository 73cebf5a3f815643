import Foundation

/// Test-split metrics of one trained model (the searched network, the baseline or the ablation).
public struct TestMetrics: Codable, Sendable, Equatable {
    /// "searched", "baseline" or "ablation".
    public var role: String
    public var architecture: String
    public var params: Int
    public var macs: Double
    public var caseIDs: [String]
    /// Dice per test case (row) and foreground class (column), on the original grid.
    public var dicePerCase: [[Double]]
    public var dicePerClass: [Double]
    public var nsdPerClass: [Double]
    /// True when the test cases are the search-val cases (too few cases to hold any out).
    public var testIsValidation: Bool

    public init(role: String, architecture: String, params: Int, macs: Double, caseIDs: [String],
                dicePerCase: [[Double]], dicePerClass: [Double], nsdPerClass: [Double], testIsValidation: Bool) {
        self.role = role; self.architecture = architecture; self.params = params; self.macs = macs
        self.caseIDs = caseIDs; self.dicePerCase = dicePerCase; self.dicePerClass = dicePerClass
        self.nsdPerClass = nsdPerClass; self.testIsValidation = testIsValidation
    }

    /// Mean foreground Dice of each case.
    public var meanDicePerCase: [Double] { dicePerCase.map { $0.isEmpty ? 0 : $0.reduce(0, +) / Double($0.count) } }
    public var meanDice: Double { dicePerClass.isEmpty ? 0 : dicePerClass.reduce(0, +) / Double(dicePerClass.count) }
}

/// The searched network against a reference trained the same way, on the same test cases.
public struct ModelComparison: Codable, Sendable, Equatable {
    public var searched: TestMetrics
    public var reference: TestMetrics
    /// Searched − reference, per foreground class and for the mean over classes.
    public var differencePerClass: [Double]
    public var meanDifference: Double
    /// Paired per-case bootstrap interval of `meanDifference` (nil below 5 test cases).
    public var interval: BootstrapInterval?
    /// The same interval for each class (nil below 5 test cases).
    public var intervalPerClass: [BootstrapInterval]?
    /// How the reference was made (e.g. "U-Net w 9, 2 cells per stage, MACs 1.04× the searched net").
    public var note: String

    public init(searched: TestMetrics, reference: TestMetrics, note: String, resamples: Int, seed: UInt64) {
        self.searched = searched
        self.reference = reference
        self.note = note
        differencePerClass = zip(searched.dicePerClass, reference.dicePerClass).map { $0 - $1 }
        meanDifference = searched.meanDice - reference.meanDice
        let paired = searched.caseIDs == reference.caseIDs && searched.caseIDs.count >= PairedBootstrap.minimumCases
        if paired {
            let d = zip(searched.meanDicePerCase, reference.meanDicePerCase).map { $0 - $1 }
            interval = PairedBootstrap.interval(differences: d, resamples: resamples, seed: seed)
            intervalPerClass = differencePerClass.indices.compactMap { k in
                PairedBootstrap.interval(differences: zip(searched.dicePerCase, reference.dicePerCase).map { $0[k] - $1[k] },
                                         resamples: resamples, seed: seed &+ UInt64(k + 1))
            }
        }
    }

    /// One line for the log, the CLI and the workbench.
    public var summary: String {
        let ci = interval.map { String(format: " [%+.3f, %+.3f] 95%% CI, %d cases", $0.low, $0.high, searched.caseIDs.count) }
            ?? " (no interval below \(PairedBootstrap.minimumCases) test cases; \(searched.caseIDs.count) here)"
        return String(format: "searched %.3f vs %@ %.3f: Δ %+.3f", searched.meanDice, reference.role, reference.meanDice, meanDifference) + ci
    }
}
