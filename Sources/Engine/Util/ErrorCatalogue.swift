import Foundation
import NN
import Search
import Volume

/// One error (or warning) a user can meet: a stable id, a sample message produced by the error
/// type itself, and the usual cause. Messages already end with the fix.
public struct TroubleshootingEntry: Sendable, Equatable {
    public var id: String
    public var message: String
    public var cause: String
    public init(id: String, message: String, cause: String) { self.id = id; self.message = message; self.cause = cause }
}

/// The catalogue behind docs/TROUBLESHOOTING.md. Each enum error type has an exhaustive `kind`
/// and an `example(_:)` per kind, so a new case cannot compile without a documented entry; a
/// test renders this catalogue and fails when the committed file differs.
public enum ErrorCatalogue {
    public struct Section: Sendable {
        public var title: String
        public var entries: [TroubleshootingEntry]
        public init(title: String, entries: [TroubleshootingEntry]) { self.title = title; self.entries = entries }
    }

    /// The stable id of an error the engine, CLI or libraries throw; nil for unknown types.
    public static func id(of error: any Error) -> String? {
        switch error {
        case let e as VolumeError: "volume.\(e.kind.rawValue)"
        case let e as ConfigError: "config.\(e.kind.rawValue)"
        case let e as RunFileError: "run-file.\(e.kind.rawValue)"
        case let e as EngineError: "engine.\(e.kind.rawValue)"
        case let e as StabilityError: "stability.\(e.kind.rawValue)"
        case is ArchitectureError: "architecture.invalid"
        case is SafeTensorsError: "weights.unreadable"
        case let e as NNError: "weights.\(e.kind)"
        default: nil
        }
    }

    public static var sections: [Section] {
        [
            Section(title: "Datasets and images", entries: VolumeError.Kind.allCases.map { k in
                let (e, cause) = VolumeError.example(k)
                return TroubleshootingEntry(id: id(of: e)!, message: e.description, cause: cause)
            }),
            Section(title: "Configuration", entries: ConfigError.Kind.allCases.map { k in
                let (e, cause) = ConfigError.example(k)
                return TroubleshootingEntry(id: id(of: e)!, message: e.description, cause: cause)
            }),
            Section(title: "Run folder, checkpoints and exports", entries: RunFileError.Kind.allCases.map { k in
                let (e, cause) = RunFileError.example(k)
                return TroubleshootingEntry(id: id(of: e)!, message: e.description, cause: cause)
            }),
            Section(title: "Training", entries: EngineError.Kind.allCases.map { k in
                let (e, cause) = EngineError.example(k)
                return TroubleshootingEntry(id: id(of: e)!, message: e.description, cause: cause)
            }),
            Section(title: "Architectures and weights", entries: modelEntries),
            Section(title: "Comparing runs (c2fnas stability)", entries: StabilityError.Kind.allCases.map { k in
                let (e, cause) = StabilityError.example(k)
                return TroubleshootingEntry(id: id(of: e)!, message: e.description, cause: cause)
            }),
            Section(title: "Warnings (the run continues)", entries: RunWarning.Kind.allCases.map { k in
                let (w, cause) = RunWarning.example(k)
                return TroubleshootingEntry(id: "warning.\(k.rawValue)", message: w.description, cause: cause)
            }),
        ]
    }

    static var modelEntries: [TroubleshootingEntry] {
        let arch = ArchitectureError(field: "ops[3]", message: "unknown cell op 'P4D'; expected one of 2D, 3D, P3D",
                                     source: "/models/panc/architecture.json")
        // The weights message comes from the real reader refusing a file that is too short.
        let weightsMessage: String
        do { _ = try SafeTensors.decode(Data("not".utf8), file: "/models/panc/weights.safetensors"); weightsMessage = "" }
        catch { weightsMessage = "\(error)" }
        return [
            TroubleshootingEntry(id: "architecture.invalid", message: arch.description,
                                 cause: "a hand-edited or foreign architecture.json: unknown op, topology that jumps levels, patch not divisible by 2^levels, newer schemaVersion. The field is named; `c2fnas inspect` shows valid examples."),
            TroubleshootingEntry(id: "weights.unreadable", message: weightsMessage,
                                 cause: "weights.safetensors is truncated, not a safetensors file, or holds an unsupported dtype."),
            TroubleshootingEntry(id: "weights.missingTensor",
                                 message: NNError.missingTensor("cell3.conv.weight is not in the checkpoint; it was written for a different model").description,
                                 cause: "the weights belong to another architecture than architecture.json; export both from the same run."),
            TroubleshootingEntry(id: "weights.shapeMismatch",
                                 message: NNError.shapeMismatch("parameter cell3.conv.weight: stored shape [16, 8, 3, 3, 3], model expects [32, 16, 3, 3, 3]").description,
                                 cause: "the weights were trained with another width, class count or modality count."),
            TroubleshootingEntry(id: "weights.invalidFile", message: NNError.invalidFile("/models/panc/weights.safetensors: not a weights file").description,
                                 cause: "a file that is not a weights file was given where weights are expected."),
        ]
    }
}

extension NNError {
    var kind: String {
        switch self {
        case .shapeMismatch: "shapeMismatch"
        case .missingTensor: "missingTensor"
        case .invalidFile: "invalidFile"
        }
    }
}

extension ConfigError {
    public enum Kind: String, CaseIterable, Sendable {
        case unknownPreset = "unknown-preset", malformedOverride = "malformed-override", unknownField = "unknown-field"
        case badValue = "bad-value", outOfRange = "out-of-range", unreadable, malformed
    }
    public var kind: Kind {
        switch self {
        case .unknownPreset: .unknownPreset
        case .malformedOverride: .malformedOverride
        case .unknownField: .unknownField
        case .badValue: .badValue
        case .outOfRange: .outOfRange
        case .unreadable: .unreadable
        case .malformed: .malformed
        }
    }
    public static func example(_ kind: Kind) -> (error: ConfigError, cause: String) {
        switch kind {
        case .unknownPreset: (.unknownPreset("huge"), "--preset names a preset that does not exist.")
        case .malformedOverride: (.malformedOverride("supernetSteps"), "--set without `=value`.")
        case .unknownField: (.unknownField("popluation", known: ["clusters", "generations", "population", "…"]),
                             "a typo in --set or in a config file; unknown fields are refused rather than silently ignored.")
        case .badValue: (.badValue("cells", "many", expected: "a whole number"), "a value of the wrong type for the field.")
        case .outOfRange: (.outOfRange("patch", "each side a multiple of 2^levels = 8, at most 512"),
                           "a value the search cannot use (e.g. a patch the network cannot halve `levels` times).")
        case .unreadable: (.unreadable("/home/me/search.json"), "--config points at a missing or unreadable file.")
        case .malformed: (.malformed("/home/me/search.json", reason: "field patch has the wrong type"),
                          "the config file is not a JSON object or a field has the wrong JSON type.")
        }
    }
}

extension RunFileError {
    public enum Kind: String, CaseIterable, Sendable {
        case cannotWrite = "cannot-write", cannotRead = "cannot-read", diskFull = "disk-full", readOnly = "read-only", corrupt
    }
    public var kind: Kind {
        switch self {
        case .cannotWrite: .cannotWrite
        case .cannotRead: .cannotRead
        case .diskFull: .diskFull
        case .readOnly: .readOnly
        case .corrupt: .corrupt
        }
    }
    public static func example(_ kind: Kind) -> (error: RunFileError, cause: String) {
        let run = "/home/me/runs/Task09_Spleen-20261127-101500"
        switch kind {
        case .cannotWrite: return (.cannotWrite(run + "/plan.json", reason: "Input/output error"), "an I/O error other than a full disk or a read-only location.")
        case .cannotRead: return (.cannotRead(run + "/export/architecture.json", reason: "missing; point predict at an export folder (RUN/export)"),
                                  "a file the command needs is missing or unreadable.")
        case .diskFull: return (.diskFull(run + "/checkpoints/ckpt-000001234"),
                                "no space left, a quota, or a file-size limit (`ulimit -f`) while checkpointing or exporting.")
        case .readOnly: return (.readOnly(run), "the run or export folder is on a read-only mount, or the user may not write there.")
        case .corrupt: return (.corrupt(run + "/checkpoints/ckpt-000001234/tensors.safetensors", reason: "1024 bytes, manifest says 4096"),
                               "a checkpoint damaged outside c2fnas (copy interrupted, disk error); resuming falls back to the previous complete one.")
        }
    }
}

extension EngineError {
    public enum Kind: String, CaseIterable, Sendable { case diverged, checkpointMismatch = "checkpoint-mismatch", olderCheckpoint = "older-checkpoint", planUnreadable = "plan-unreadable", planMismatch = "plan-mismatch", noCandidates = "no-candidates", busy, notPlanned = "not-planned", noSuchCluster = "no-such-cluster", clustersNotDone = "clusters-not-done" }
    public var kind: Kind {
        switch self {
        case .diverged: .diverged
        case .checkpointMismatch: .checkpointMismatch
        case .olderCheckpoint: .olderCheckpoint
        case .planUnreadable: .planUnreadable
        case .planMismatch: .planMismatch
        case .noCandidates: .noCandidates
        case .busy: .busy
        case .notPlanned: .notPlanned
        case .noSuchCluster: .noSuchCluster
        case .clustersNotDone: .clustersNotDone
        }
    }
    public static func example(_ kind: Kind) -> (error: EngineError, cause: String) {
        switch kind {
        case .diverged: (.diverged(step: 1204), "the learning rate is too high for this data; weights are never checkpointed while non-finite.")
        case .checkpointMismatch: (.checkpointMismatch("tensor weights.cell2.conv.weight missing"), "the run folder was written by another version or configuration.")
        case .olderCheckpoint: (.olderCheckpoint(path: "runs/spleen/checkpoints/ckpt-000001200/progress.json", found: 1, expected: RunProgress.currentFormatVersion),
                                "the run was started by an older c2fnas whose random streams or checkpoint layout differ, so resuming could not continue it bit for bit.")
        case .planUnreadable: (.planUnreadable(path: "plans/spleen.json", reason: "field 'patchSize' is missing"),
                               "a hand-edited plan that is not valid JSON, misses a field, or has a patch that is not a multiple of 2^levels.")
        case .planMismatch: (.planMismatch(path: "runs/spleen/plan.json", changes: ["training case(s) spleen_2 no longer in the dataset", "case spleen_8: spacing was [0.79, 0.79, 5.0] mm, now [0.79, 0.79, 2.5] mm"]),
                             "cases were added, removed or re-exported since the plan (or the run) was made; its spacing, patch and normalisation may no longer fit.")
        case .noCandidates: (.noCandidates, "a configuration with no generations or an empty population.")
        case .busy: (.busy(path: "/scratch/me/runs/spleen/clusters/2", holder: "c2fnas (cluster 3), pid 41207 on node017"),
                     "the same run (or the same cluster) started twice: a command re-run while its Slurm tasks still run, or two terminals.")
        case .notPlanned: (.notPlanned("/scratch/me/runs/spleen"), "a cluster task started by hand (or by an old job script) on a run folder whose planning never finished.")
        case .noSuchCluster: (.noSuchCluster(6, clusters: 6), "a hand-written job script with a task index past the last cluster.")
        case .clustersNotDone: (.clustersNotDone([1, 4], run: "/scratch/me/runs/spleen", failures: ["cluster 1 on node017: stopped by a signal (scancel, a time limit or Ctrl-C) at step 812; its checkpoint is kept"]),
                                "a cluster task failed, was cancelled or hit its time limit, so the dependent job (or `--stage finish`) found it without a result.")
        }
    }
}
