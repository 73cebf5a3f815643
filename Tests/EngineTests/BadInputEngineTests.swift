import Foundation
import Testing
@testable import Engine
@testable import Search
@testable import Volume
import Tensor

/// Bad-input rows that surface in the engine (warnings, config, architecture, the CLI).
@Suite("Bad input reaching the engine")
struct BadInputEngineTests {
    /// A copy of the sample task with its first `count` cases kept.
    func sampleCopy(_ tag: String) throws -> URL {
        let dir = try temporaryFolder(tag)
        for item in try FileManager.default.contentsOfDirectory(atPath: sampleTask.path) {
            try FileManager.default.copyItem(at: sampleTask.appendingPathComponent(item), to: dir.appendingPathComponent(item))
        }
        return dir
    }

    @Test("an all-background case is kept with a warning; a patch larger than every case shrinks with a warning")
    func warnings() throws {
        let dir = try sampleCopy("warn"); defer { try? FileManager.default.removeItem(at: dir) }
        let ds = try MSDDataset.load(dir)
        let c = ds.training[0]
        let (labels, header) = try NIfTI.readLabels(c.label)
        try NIfTI.write(LabelVolume(grid: labels.grid, repeating: 0), like: header, to: c.label)
        var cfg = try reducedConfig()
        try cfg.apply(overrides: ["patch=512,512,512"])
        var messages: [(String, LogLevel)] = []
        let data = try TrainingData(folder: dir, config: cfg) { messages.append(($0, $1)) }
        let warnings = messages.filter { $0.1 == .warning }.map(\.0)
        #expect(warnings.contains(RunWarning.allBackgroundCase(caseID: c.id, path: c.label.path).description))
        let shrink = try #require(warnings.first { $0.hasPrefix("patch (d, h, w) [512, 512, 512] is larger than the median case") })
        #expect(data.patchDHW != [512, 512, 512] && shrink.contains("using \(data.patchDHW)"))
        // The shrunk patch still samples (small cases are padded).
        var rng = RNG(seed: 1)
        let batch = data.batch(size: 1, rng: &rng)
        #expect(batch.input.shape == [1, 1] + data.patchDHW)
    }

    @Test("config: unknown, mistyped and out-of-range fields in files and --set name the field")
    func config() throws {
        let dir = try temporaryFolder("badcfg"); defer { try? FileManager.default.removeItem(at: dir) }
        let cases: [(String, [String])] = [
            (#"{"preset":"tiny","popluation":3}"#, ["unknown config field 'popluation'", "population"]),
            (#"{"preset":"tiny","threads":0}"#, ["'threads' is out of range", "between 1 and 256"]),
            (#"{"preset":"tiny","patch":"big"}"#, ["config.json is not valid", "patch"]),
            (#"{"preset":"tiny","overlap":1.5}"#, ["'overlap' is out of range"]),
            (#"{"preset":"mega"}"#, ["unknown preset 'mega'"]),
            (#"["preset"]"#, ["not a JSON object"]),
        ]
        let url = dir.appendingPathComponent("config.json")
        for (text, fragments) in cases {
            try Data(text.utf8).write(to: url)
            let e = #expect(throws: ConfigError.self) { try RunConfig.load(url) }
            for f in fragments { #expect(e?.description.contains(f) == true, "\(e?.description ?? "") ∌ \(f)") }
            #expect(e.flatMap { ErrorCatalogue.id(of: $0) } != nil)
        }
        var c = try RunConfig.preset("tiny")
        for (set, fragment) in [("weightLR=nan", "a finite number"), ("valFraction=1", "'valFraction' is out of range"),
                                ("levels=9", "'levels' is out of range"), ("seed=-3", "a whole number"), ("supernetSteps", "key=value")] {
            let e = #expect(throws: ConfigError.self) { try c.apply(overrides: [set]) }
            #expect(e?.description.contains(fragment) == true, "\(set): \(e?.description ?? "")")
        }
    }

    @Test("an architecture JSON that fails validation names the file and the field, and is catalogued")
    func architecture() throws {
        var o = try JSONSerialization.jsonObject(with: Architecture.builtin("unet").jsonData()) as! [String: Any]
        o["topology"] = [1, 2, 4, 2, 1, 1, 1, 1, 1, 1, 1, 1]
        let e = #expect(throws: ArchitectureError.self) {
            try Architecture.decode(from: JSONSerialization.data(withJSONObject: o), source: "/models/x/architecture.json")
        }
        #expect(e?.description.hasPrefix("/models/x/architecture.json: invalid architecture: field 'topology[2]'") == true, "\(e?.description ?? "")")
        #expect(e.flatMap { ErrorCatalogue.id(of: $0) } == "architecture.invalid")
    }

    @Test("the CLI reports bad input with the catalogued message and exit status 1, never a crash")
    func cliBadInput() throws {
        let dir = try temporaryFolder("clibad"); defer { try? FileManager.default.removeItem(at: dir) }
        let arch = dir.appendingPathComponent("arch.json")
        try Data(#"{"schemaVersion": 1, "name": "x"}"#.utf8).write(to: arch)
        let runs: [([String], String)] = [
            (["search", dir.path, "--run", dir.appendingPathComponent("run").path], VolumeError.datasetJSONMissing(folder: dir.path).description),
            (["search", sampleTask.path, "--set", "levels=1"], "config field 'levels' is out of range"),
            (["train", arch.path, sampleTask.path, "--run", dir.appendingPathComponent("run2").path], "arch.json: invalid architecture: field 'ops': is missing"),
        ]
        for (args, message) in runs {
            let r = try runC2FNAS(args)
            #expect(r.reason == .exit && r.status == 1, "\(args): \(r.status)")
            #expect(r.output.contains(message), "\(args): \(r.output)")
        }
    }
}

/// Runs the built `c2fnas` (optionally through `/bin/sh -c prefix`), returning status and stdout+stderr.
func runC2FNAS(_ args: [String], shellPrefix: String? = nil, via launcher: [String] = []) throws -> (reason: Process.TerminationReason, status: Int32, output: String) {
    let binary = try c2fnasBinary()
    let p = Process()
    let out = Pipe()
    if let shellPrefix {
        p.executableURL = URL(fileURLWithPath: launcher.first ?? "/bin/sh")
        p.arguments = Array(launcher.dropFirst()) + (launcher.isEmpty ? [] : ["/bin/sh"]) + ["-c", shellPrefix + "; exec \"$0\" \"$@\"", binary.path] + args
    } else {
        p.executableURL = binary
        p.arguments = args
    }
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationReason, p.terminationStatus, String(decoding: data, as: UTF8.self))
}
