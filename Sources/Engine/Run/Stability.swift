import Foundation
import Search

/// How much repeated searches agree (`c2fnas stability RUN RUN RUN`): Hamming distance between the
/// winning topologies, agreement on the op of each cell, spread of the test Dice. Read from the run
/// folders' files only (`export/architecture.json`, `export/evaluation.json`).
public struct StabilityReport: Sendable, Equatable {
    /// What one finished run contributes.
    public struct Run: Sendable, Equatable {
        public var name: String
        public var topology: Topology
        public var ops: [CellOp]
        public var seed: UInt64?
        /// Test Dice per foreground class of the searched network (nil when the run has no evaluation.json).
        public var testDicePerClass: [Double]?
        public var testIsValidation: Bool
        /// The test case ids (nil without evaluation.json).
        public var testCases: [String]?

        public init(name: String, topology: Topology, ops: [CellOp], seed: UInt64? = nil,
                    testDicePerClass: [Double]?, testIsValidation: Bool = false, testCases: [String]? = nil) {
            self.name = name; self.topology = topology; self.ops = ops; self.seed = seed
            self.testDicePerClass = testDicePerClass; self.testIsValidation = testIsValidation; self.testCases = testCases
        }

        /// Loads a run folder's export; errors name the missing file and what to do.
        public static func load(_ folder: URL) throws -> Run {
            let archURL = folder.appendingPathComponent("export/architecture.json")
            guard let archData = try? Data(contentsOf: archURL) else {
                throw RunFileError.cannotRead(archURL.path, reason: "missing; stability compares finished runs (resume this one with c2fnas search … --run \(folder.path))")
            }
            let arch = try Architecture.decode(from: archData, source: archURL.path)
            let evalURL = folder.appendingPathComponent("export/evaluation.json")
            var dice: [Double]?, biased = false, cases: [String]?
            if let d = try? Data(contentsOf: evalURL) {
                do {
                    let e = try JSONDecoder().decode(EvaluationSummary.self, from: d)
                    dice = e.testMetrics["searched"]?.dicePerClass
                    biased = e.split?.testIsValidation ?? false
                    cases = e.split?.test
                } catch {
                    throw RunFileError.corrupt(evalURL.path, reason: "\(error)")
                }
            }
            return Run(name: folder.lastPathComponent, topology: arch.topology, ops: arch.ops, seed: arch.provenance.seed,
                       testDicePerClass: dice, testIsValidation: biased, testCases: cases)
        }
    }

    /// Mean, sample standard deviation (n − 1), minimum and maximum.
    public struct Spread: Sendable, Equatable {
        public var mean: Double, sd: Double, min: Double, max: Double
        public init(_ v: [Double]) {
            mean = v.reduce(0, +) / Double(v.count)
            let m = mean
            sd = v.count > 1 ? (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot() : 0
            min = v.min()!; max = v.max()!
        }
    }

    public var runs: [Run]
    /// Hamming distance (cells at different levels) of every pair of runs, (i, j, distance), i < j.
    public var pairwiseHamming: [(i: Int, j: Int, distance: Int)]
    /// Per cell: the fraction of runs whose cell has the most common op (1 = all agree).
    public var opAgreement: [Double]
    /// Per cell: the fraction of runs whose cell is at the most common level.
    public var levelAgreement: [Double]
    /// Spread of the test Dice per class and of its mean over classes (nil without evaluation files).
    public var dicePerClass: [Spread]?
    public var meanDice: Spread?

    public init(runs: [Run]) throws {
        guard runs.count >= 2 else { throw StabilityError.tooFewRuns(runs.count) }
        let cells = runs[0].topology.cellCount
        if let odd = runs.first(where: { $0.topology.cellCount != cells }) {
            throw StabilityError.differentSpaces(odd.name, odd.topology.cellCount, runs[0].name, cells)
        }
        self.runs = runs
        var pairs: [(i: Int, j: Int, distance: Int)] = []
        for i in runs.indices { for j in runs.indices where j > i { pairs.append((i: i, j: j, distance: runs[i].topology.hamming(to: runs[j].topology))) } }
        pairwiseHamming = pairs
        func agreement<T: Hashable>(_ value: (Run, Int) -> T) -> [Double] {
            (0..<cells).map { c in
                var counts: [T: Int] = [:]
                for r in runs { counts[value(r, c), default: 0] += 1 }
                return Double(counts.values.max()!) / Double(runs.count)
            }
        }
        opAgreement = agreement { $0.ops[$1] }
        levelAgreement = agreement { $0.topology.levels[$1] }
        let dice = runs.compactMap(\.testDicePerClass)
        if dice.count == runs.count, let k = dice.first?.count, k > 0, dice.allSatisfy({ $0.count == k }) {
            dicePerClass = (0..<k).map { c in Spread(dice.map { $0[c] }) }
            meanDice = Spread(dice.map { $0.reduce(0, +) / Double(k) })
        }
    }

    public var meanHamming: Double { Double(pairwiseHamming.reduce(0) { $0 + $1.distance }) / Double(max(1, pairwiseHamming.count)) }
    public var maxHamming: Int { pairwiseHamming.map { $0.distance }.max() ?? 0 }

    public static func == (a: StabilityReport, b: StabilityReport) -> Bool {
        a.runs == b.runs && a.opAgreement == b.opAgreement && a.levelAgreement == b.levelAgreement
            && a.pairwiseHamming.map { [$0.i, $0.j, $0.distance] } == b.pairwiseHamming.map { [$0.i, $0.j, $0.distance] }
            && a.dicePerClass == b.dicePerClass && a.meanDice == b.meanDice
    }

    /// The report as printed by the command.
    public func text(classNames: [String] = []) -> String {
        var out = "stability of \(runs.count) runs\n"
        for r in runs {
            out += "  \(r.name)\(r.seed.map { " (seed \($0))" } ?? ""): \(r.topology.levels.map(String.init).joined()) \(r.ops.map(\.rawValue).joined(separator: " "))\n"
        }
        out += String(format: "topology Hamming distance: mean %.2f, max %d of %d cells\n", meanHamming, maxHamming, runs[0].topology.cellCount)
        for p in pairwiseHamming { out += "  \(runs[p.i].name) – \(runs[p.j].name): \(p.distance)\n" }
        func pct(_ v: [Double]) -> String { v.map { String(format: "%.0f", $0 * 100) }.joined(separator: " ") }
        out += "level agreement per cell (%): \(pct(levelAgreement))\n"
        out += "op agreement per cell (%):    \(pct(opAgreement))\n"
        out += String(format: "op agreement overall: %.0f %%\n", opAgreement.reduce(0, +) / Double(max(1, opAgreement.count)) * 100)
        if let meanDice, let dicePerClass {
            func f(_ s: Spread) -> String { String(format: "mean %.4f, sd %.4f, range %.4f–%.4f", s.mean, s.sd, s.min, s.max) }
            out += "test Dice (mean over classes): \(f(meanDice))\n"
            for (k, s) in dicePerClass.enumerated() {
                out += "  \(k < classNames.count ? classNames[k] : "class \(k + 1)"): \(f(s))\n"
            }
            if Set(runs.map { $0.testCases ?? [] }).count > 1 {
                out += "note: the runs held out different test cases (the split follows the seed), so this spread mixes search and split variation; fix --set splitSeed=N to compare on the same cases\n"
            }
            if runs.contains(where: \.testIsValidation) {
                out += "note: some runs had too few cases for a test split; their test Dice is the search-val Dice (biased upwards)\n"
            }
        } else {
            out += "test Dice: not available (a run has no export/evaluation.json)\n"
        }
        return out
    }
}

public enum StabilityError: Error, CustomStringConvertible, Equatable {
    case tooFewRuns(Int)
    /// (run, its cells, first run, its cells)
    case differentSpaces(String, Int, String, Int)

    public enum Kind: String, CaseIterable, Sendable { case tooFewRuns, differentSpaces }

    public var kind: Kind {
        switch self {
        case .tooFewRuns: .tooFewRuns
        case .differentSpaces: .differentSpaces
        }
    }

    public var description: String {
        switch self {
        case let .tooFewRuns(n):
            return "stability: \(n) run folder(s) given; give at least two finished runs of the same search (e.g. seeds 0, 1, 2)."
        case let .differentSpaces(a, ca, b, cb):
            return "stability: \(a) has \(ca) cells and \(b) \(cb): compare runs of the same search space (same cells and levels)."
        }
    }

    /// A sample of each kind with its usual cause (docs/TROUBLESHOOTING.md).
    public static func example(_ k: Kind) -> (StabilityError, String) {
        switch k {
        case .tooFewRuns:
            return (.tooFewRuns(1), "`c2fnas stability` was given one run folder; agreement needs at least two.")
        case .differentSpaces:
            return (.differentSpaces("runs/seed1", 12, "runs/seed0", 8),
                    "the runs used different presets or `cells` settings, so their topologies cannot be compared cell by cell.")
        }
    }
}
