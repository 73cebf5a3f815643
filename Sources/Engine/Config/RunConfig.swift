import Foundation
import Search

/// Every knob of a run. Presets fill it (C2FNAS.md "Scale presets"); every field can be
/// overridden from the command line with `--set key=value`. The effective config is printed at
/// start and saved as `config.json` in the run directory.
public struct RunConfig: Codable, Sendable, Equatable {
    public var preset = Preset.tiny
    public var seed: UInt64 = 0
    /// Compute threads (pool and OpenBLAS share this count, never both at once).
    public var threads = 1

    // Network skeleton and search space.
    public var width = 4
    public var levels = 3
    public var cells = 8
    /// Topology rule: ushape or lattice.
    public var rule = TopologyRule.ushape
    /// Training patch (d, h, w) in voxels; d is the slice axis.
    public var patch = [32, 32, 32]
    /// Op used by every cell during the coarse stage.
    public var coarseOp = CellOp.coarseDefault

    // Coarse stage.
    public var clusters = 4
    public var population = 8
    public var generations = 10
    public var tournament = 5
    /// Single-path training steps per cluster supernet before its evolution starts.
    public var supernetSteps = 60
    /// Supernet SGD learning rate (poly decay over `supernetSteps`); the fine stage uses `weightLR`.
    public var supernetLR = 0.025
    /// Validation cases used to score a topology (0 = all of the validation split).
    public var fitnessCases = 0
    /// What scores a topology: soft Dice (continuous, informative before the argmax finds a small
    /// class) or hard Dice, both on fixed foreground-centred validation patches.
    public var fitnessMetric = FitnessMetric.softDice
    /// Fixed validation patches a topology is scored on (foreground-centred, every class in turn).
    public var fitnessPatches = 12
    /// Fraction of the supernet steps with a linear learning-rate warm-up before the poly decay.
    public var supernetWarmup = 0.05
    /// Noise guard: when a cluster's fitness spread is below its measured noise, train its supernet
    /// this fraction of `supernetSteps` more and re-score, at most `noiseGuardRounds` times; then warn.
    public var noiseGuardSteps = 0.5
    public var noiseGuardRounds = 2
    /// Finalists are compared by fitness (supernet Dice) or train (short training from scratch).
    public var finalistSelection = FinalistSelection.fitness
    /// Steps of the short from-scratch training of finalists and audited topologies.
    public var finalistSteps = 0

    // Ranking audit: sampled topologies trained stand-alone, Kendall τ against supernet fitness.
    public var audit = false
    public var auditTopologies = 8

    // Fine stage.
    public var fineSteps = 80
    public var fineWarmup = 0.5
    public var weightLR = 0.025
    public var weightMomentum = 0.9
    public var weightDecay = 4e-5
    public var gradClip = 5.0
    public var alphaLR = 1e-3
    public var alphaBetas = [0.5, 0.999]
    /// Weight of the entropy of softmax(α) added to the α loss, ramped in linearly after warm-up.
    public var entropyWeight = 0.0

    // Final training from scratch.
    public var finalSteps = 300
    public var finalLR = 0.01
    /// sgd (Nesterov momentum, nnU-Net style) or adam (converges faster on short budgets).
    public var finalOptimizer = FinalOptimizer.sgd
    public var nesterov = true
    /// Decoupled weight decay of the final training (nnU-Net uses 3e-5).
    public var finalWeightDecay = 3e-5
    /// Global gradient-norm clip of the final training (nnU-Net clips at 12).
    public var finalGradClip = 12.0
    public var batch = 2

    // Data.
    public var valFraction = 0.2
    /// Held-out test part of the cases (never used for a choice); with fewer than 5 cases or 0 the
    /// test cases are the validation cases (the log and the model card say so).
    public var testFraction = 0.2
    /// Seed of the case split; -1 = the run's `seed`. Fix it to compare searches with different
    /// seeds on the same test cases (`c2fnas stability`).
    public var splitSeed = -1
    public var foregroundFraction = 1.0 / 3.0
    /// Dice over the whole batch per class (nnU-Net's batch Dice) instead of per patch. Off by default:
    /// on the sample both reach the same Dice (0.948 vs 0.957 at width 8, one run each).
    public var batchDice = false
    public var augFlip = 0.5
    public var augRotate = 0.5
    public var augScale = 0.3
    public var augShift = 0.3
    public var augGamma = 0.3
    public var augNoise = 0.15

    // Inference and evaluation.
    public var overlap = 0.5
    public var mirrorTTA = false
    /// Window overlap when scoring topologies (coarser than final inference, for speed).
    public var fitnessOverlap = 0.25
    /// Final training: validation Dice is computed every this many steps (0 = only at the end).
    public var validateEvery = 50
    public var nsdToleranceMM = 2.0

    // Honest evaluation (after the final stage, on the test cases).
    /// "on": train the built-in U-Net scaled to the searched net's multiply-adds (±10 %) the same way
    /// and compare on the test cases. On in the cpu and paper presets.
    public var baseline = Switch.off
    /// "on": train the coarse winner with the coarse op in every cell the same way (did the fine stage help?).
    public var ablation = Switch.off
    /// Resamples of the paired bootstrap interval of the mean test Dice difference (from 5 test cases).
    public var bootstrapResamples = 10_000
    /// k-fold cross-validation of the final architecture over the search cases (0 = off, else 2...10).
    public var folds = 0
    /// Candidate budget: candidates above it are excluded before they are scored (0 = no limit).
    public var maxMemoryMB = 0.0
    public var maxMACs = 0.0

    // Run control.
    public var checkpointEverySeconds = 60.0
    /// Wall-time budget of the whole run in minutes (0 = none). When set, step counts of every stage
    /// are derived from step times measured at the start (`BudgetPlanner`), overriding the preset's.
    public var budgetMinutes = 0.0

    public init() {}

    public static let presetNames = Preset.allowedValues

    /// The preset's defaults (C2FNAS.md table): tiny runs the sample in minutes, cpu one machine
    /// in hours, paper the published scale.
    public static func preset(_ name: String) throws -> RunConfig {
        guard let p = Preset(rawValue: name) else { throw ConfigError.unknownPreset(name) }
        return preset(p)
    }

    public static func preset(_ p: Preset) -> RunConfig {
        var c = RunConfig()
        c.preset = p
        switch p {
        case .tiny:
            // No proxy: the tiny preset searches at the width it deploys. Width 4 never learns the
            // sample's small tumour class (Dice 0.00 after 800 steps, DECISIONS 2026-11-27), so every
            // stage runs at width 8.
            c.width = 8
            // Short budgets need a larger step than nnU-Net's 0.01 (measured on the sample:
            // 600 steps reach mean Dice 0.55 at 0.05, 0.28 with Adam at 3e-3).
            c.finalLR = 0.05; c.finalSteps = 800; c.validateEvery = 100
            // 60 supernet steps at lr 0.025 leave every path predicting background (fitness 0 for every
            // topology of 3 of 4 clusters, so evolution chose at random); 200 at 0.05 find the organs.
            c.supernetSteps = 200; c.supernetLR = 0.05
            // α must commit within a short fine stage (DECISIONS 2026-12-01, measured on the abdomen task):
            // Adam at the spec's 1e-3 leaves softmax(α) at 0.34/0.33/0.33; 0.1 with the entropy term
            // ramped to 0.2 brings the mean entropy from ln 3 to 0.15 in 96 α steps.
            c.fineSteps = 160; c.fineWarmup = 0.4; c.alphaLR = 0.1; c.entropyWeight = 0.2
            c.fitnessPatches = 8
        case .cpu:
            c.width = 8; c.patch = [48, 48, 48]; c.cells = 12; c.levels = 4
            c.clusters = 4; c.population = 8; c.generations = 10
            c.supernetSteps = 400; c.supernetLR = 0.05; c.fineSteps = 600; c.finalSteps = 4000; c.threads = 2
            c.finalLR = 0.03
            c.fineWarmup = 0.4; c.alphaLR = 0.1; c.entropyWeight = 0.2
            c.finalistSelection = .train; c.finalistSteps = 300
            c.audit = true
            c.baseline = .on
        case .paper:
            c.width = 32; c.patch = [96, 96, 96]; c.cells = 12; c.levels = 4
            c.clusters = 8; c.population = 20; c.generations = 20
            c.supernetSteps = 20000; c.fineSteps = 40000; c.finalSteps = 250_000
            c.finalistSelection = .train; c.finalistSteps = 5000
            c.audit = true; c.fitnessPatches = 32
            c.baseline = .on
        }
        return c
    }

    /// Applies `key=value` overrides; unknown keys and values of the wrong type are errors
    /// that name the key.
    public mutating func apply(overrides: [String]) throws {
        guard !overrides.isEmpty else { return }
        let data = try JSONEncoder().encode(self)
        guard var dict = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { return }
        for item in overrides {
            guard let eq = item.firstIndex(of: "=") else { throw ConfigError.malformedOverride(item) }
            let key = String(item[..<eq]).trimmingCharacters(in: .whitespaces)
            let raw = String(item[item.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
            guard let current = Mirror(reflecting: self).children.first(where: { $0.label == key })?.value,
                  dict[key] != nil else { throw ConfigError.unknownField(key, known: dict.keys.sorted()) }
            dict[key] = try Self.parse(raw, like: current, key: key)
        }
        let merged = try JSONSerialization.data(withJSONObject: dict)
        self = try JSONDecoder().decode(RunConfig.self, from: merged)
        try validate()
    }

    static func parse(_ raw: String, like current: Any, key: String) throws -> Any {
        switch current {
        case let choice as any ConfigChoice:
            guard type(of: choice).allowedValues.contains(raw) else {
                throw ConfigError.badValue(key, raw, expected: type(of: choice).allowedPhrase)
            }
            return raw
        case is String: return raw
        case is Bool:
            guard let b = Bool(raw.lowercased()) else { throw ConfigError.badValue(key, raw, expected: "true or false") }
            return b
        case is Int, is UInt64:
            guard let i = Int(raw), i >= 0 || current is Int else {
                throw ConfigError.badValue(key, raw, expected: "a whole number")
            }
            return i
        case is Double:
            guard let d = Double(raw), d.isFinite else { throw ConfigError.badValue(key, raw, expected: "a finite number") }
            return d
        case is [Any]:
            let parts = raw.split(whereSeparator: { $0 == "," || $0 == "x" })
                .map { String($0).trimmingCharacters(in: .whitespaces) }
            if current is [Int] {
                let ints = parts.compactMap { Int($0) }
                guard !ints.isEmpty, ints.count == parts.count else {
                    throw ConfigError.badValue(key, raw, expected: "whole numbers separated by commas, e.g. 32,32,32")
                }
                return ints
            }
            let ds = parts.compactMap { Double($0) }.filter(\.isFinite)
            guard !ds.isEmpty, ds.count == parts.count else {
                throw ConfigError.badValue(key, raw, expected: "numbers separated by commas, e.g. 0.5,0.999")
            }
            return ds
        default:
            return raw
        }
    }

    /// Range checks with messages that name the field and the allowed values.
    public func validate() throws {
        func check(_ ok: Bool, _ key: String, _ why: String) throws {
            if !ok { throw ConfigError.outOfRange(key, why) }
        }
        try check((1...256).contains(threads), "threads", "between 1 and 256")
        try check((1...256).contains(width), "width", "between 1 and 256")
        try check((2...6).contains(levels), "levels", "between 2 and 6")
        try check((2...32).contains(cells), "cells", "between 2 and 32")
        try check(patch.count == 3, "patch", "three sizes d,h,w")
        let unit = 1 << levels
        try check(patch.allSatisfy { $0 >= unit && $0 % unit == 0 && $0 <= 512 }, "patch",
                  "each side a multiple of 2^levels = \(unit), at most 512")
        try check(clusters >= 1 && clusters <= 64, "clusters", "between 1 and 64")
        try check(population >= 2, "population", "at least 2")
        try check(generations >= 0, "generations", "0 or more")
        try check(tournament >= 1 && tournament <= population, "tournament", "between 1 and population")
        try check(supernetSteps >= 0 && fineSteps >= 0 && finalSteps >= 0, "steps", "0 or more")
        try check(fineWarmup >= 0 && fineWarmup <= 1, "fineWarmup", "a fraction between 0 and 1")
        for (k, v) in [("weightLR", weightLR), ("supernetLR", supernetLR), ("alphaLR", alphaLR), ("finalLR", finalLR)] {
            try check(v > 0 && v < 10 && v.isFinite, k, "a positive learning rate below 10")
        }
        try check(alphaBetas.count == 2 && alphaBetas.allSatisfy { $0 >= 0 && $0 < 1 }, "alphaBetas", "two values in [0, 1)")
        try check(batch >= 1 && batch <= 64, "batch", "between 1 and 64")
        try check(valFraction > 0 && valFraction < 1, "valFraction", "a fraction between 0 and 1")
        try check(testFraction >= 0 && testFraction < 1 && valFraction + testFraction < 1, "testFraction",
                  "a fraction between 0 and 1 with valFraction + testFraction below 1")
        try check(splitSeed >= -1, "splitSeed", "-1 (the run's seed) or a seed of 0 or more")
        try check(folds == 0 || (2...10).contains(folds), "folds", "0 (off) or 2 to 10")
        try check(bootstrapResamples >= 100 && bootstrapResamples <= 1_000_000, "bootstrapResamples", "between 100 and 1000000")
        try check(maxMemoryMB >= 0, "maxMemoryMB", "0 (no limit) or a positive number of MiB")
        try check(maxMACs >= 0, "maxMACs", "0 (no limit) or a positive number of multiply-adds")
        try check(foregroundFraction >= 0 && foregroundFraction <= 1, "foregroundFraction", "between 0 and 1")
        for (k, v) in [("augFlip", augFlip), ("augRotate", augRotate), ("augScale", augScale),
                       ("augShift", augShift), ("augGamma", augGamma), ("augNoise", augNoise)] {
            try check(v >= 0 && v <= 1, k, "a probability between 0 and 1")
        }
        try check(overlap >= 0 && overlap < 1, "overlap", "between 0 and 1 (exclusive)")
        try check(fitnessOverlap >= 0 && fitnessOverlap < 1, "fitnessOverlap", "between 0 and 1 (exclusive)")
        try check(validateEvery >= 0, "validateEvery", "0 or more steps")
        try check((1...4096).contains(fitnessPatches), "fitnessPatches", "between 1 and 4096")
        try check(supernetWarmup >= 0 && supernetWarmup < 1, "supernetWarmup", "a fraction in [0, 1)")
        try check(noiseGuardSteps >= 0 && noiseGuardSteps <= 10, "noiseGuardSteps", "a fraction of supernetSteps between 0 and 10")
        try check((0...10).contains(noiseGuardRounds), "noiseGuardRounds", "between 0 and 10")
        try check(finalistSteps >= 0, "finalistSteps", "0 or more")
        try check((2...256).contains(auditTopologies), "auditTopologies", "between 2 and 256")
        try check(entropyWeight >= 0 && entropyWeight <= 10, "entropyWeight", "between 0 and 10")
        try check(budgetMinutes >= 0 && budgetMinutes <= 60 * 24 * 60, "budgetMinutes", "0 (no budget) or a positive number of minutes")
        try check(nsdToleranceMM >= 0, "nsdToleranceMM", "0 or more millimetres")
        try check(finalWeightDecay >= 0 && finalWeightDecay < 1, "finalWeightDecay", "between 0 and 1")
        try check(finalGradClip > 0, "finalGradClip", "positive (a gradient-norm limit)")
        try check(checkpointEverySeconds > 0, "checkpointEverySeconds", "positive")
    }

    /// Pretty JSON, sorted keys: what is printed at start and saved in the run folder.
    public func json() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? enc.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// Loads a config file, rejecting unknown fields (a typo would otherwise be silently ignored).
    public static func load(_ url: URL) throws -> RunConfig {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw ConfigError.unreadable(url.path) }
        guard let dict = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConfigError.malformed(url.path, reason: "not a JSON object")
        }
        let known = Set((try? JSONSerialization.jsonObject(with: JSONEncoder().encode(RunConfig())) as? [String: Any])?.keys.map { $0 } ?? [])
        if let bad = dict.keys.sorted().first(where: { !known.contains($0) }) {
            throw ConfigError.unknownField(bad, known: known.sorted())
        }
        let base = try preset((dict["preset"] as? String) ?? "tiny")
        for field in Mirror(reflecting: base).children {
            guard let key = field.label, let choice = field.value as? any ConfigChoice, let value = dict[key] else { continue }
            let allowed = type(of: choice).allowedValues
            if let text = value as? String, allowed.contains(text) { continue }
            throw ConfigError.malformed(url.path, reason: "field '\(key)' is \(value is String ? "'\(value)'" : "not a string"); it must be \(type(of: choice).allowedPhrase)")
        }
        var merged = (try JSONSerialization.jsonObject(with: JSONEncoder().encode(base)) as? [String: Any]) ?? [:]
        for (k, v) in dict { merged[k] = v }
        do {
            let c = try JSONDecoder().decode(RunConfig.self, from: JSONSerialization.data(withJSONObject: merged))
            try c.validate()
            return c
        } catch let e as ConfigError { throw e } catch let DecodingError.typeMismatch(_, ctx) {
            throw ConfigError.malformed(url.path, reason: "field \(ctx.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type")
        } catch {
            throw ConfigError.malformed(url.path, reason: "\(error)")
        }
    }
}

public enum ConfigError: Error, CustomStringConvertible, Equatable {
    case unknownPreset(String)
    case malformedOverride(String)
    case unknownField(String, known: [String])
    case badValue(String, String, expected: String)
    case outOfRange(String, String)
    case unreadable(String)
    case malformed(String, reason: String)

    public var description: String {
        switch self {
        case let .unknownPreset(p):
            return "unknown preset '\(p)'. Use one of: \(RunConfig.presetNames.joined(separator: ", "))."
        case let .malformedOverride(s):
            return "cannot read the override '\(s)'. Write it as key=value, e.g. --set supernetSteps=100."
        case let .unknownField(k, known):
            return "unknown config field '\(k)'. Known fields: \(known.joined(separator: ", "))."
        case let .badValue(k, v, expected):
            return "config field '\(k)' cannot be '\(v)': expected \(expected)."
        case let .outOfRange(k, why):
            return "config field '\(k)' is out of range: it must be \(why)."
        case let .unreadable(p):
            return "cannot read the config file \(p). Check the path."
        case let .malformed(p, reason):
            return "the config file \(p) is not valid: \(reason). Fix it or start from `c2fnas search --print-config`."
        }
    }
}
