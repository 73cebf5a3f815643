// `c2fnas bench predict`: the whole `c2fnas predict` path (read, preprocess, sliding window,
// restore, write) on a synthetic full-size CT, measured from outside the predicting process
// (wait4 rusage: wall, user, sys, peak RSS, faults, context switches). Several --binary values are
// interleaved run by run, so an old and a new build compare under the same machine load.

import ArgumentParser
import Engine
import Foundation
import NN
import Search
import Tensor
import Volume

struct BenchPredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Time `c2fnas predict` on a synthetic int16 CT with a tiny random model; prints one line per run.",
        discussion: """
            Writes a CT-like int16 volume (air -1000, body, organs, bone; LPS-stored, 0.8 x 0.8 x 1.5 mm) and an \
            export folder (c2fnas-panc topology, random weights, plan at the image's own spacing, so the \
            resampled volume is the image itself) into --work, then runs each --binary's `predict` on it. \
            Peak RSS is the child's ru_maxrss (= its VmHWM).
            """)

    @Option(help: "Volume shape x,y,z.")
    var shape = "512,512,300"
    @Option(help: "c2fnas binaries to run (repeat to compare; default: this one).")
    var binary: [String] = []
    @Option(help: "Runs per binary (interleaved).")
    var runs = 1
    @Option(help: "Work folder (default: a temporary folder, removed afterwards).")
    var work: String?
    @Option(help: "Base width of the model.")
    var width = 4
    @Option(help: "Classes, background included.")
    var classes = 4
    @Option(help: "Patch side.")
    var patch = 32
    @Option(help: "Sliding-window overlap.")
    var overlap = 0.5

    func run() throws {
        let dims = shape.split(separator: ",").compactMap { Int($0) }
        guard dims.count == 3, dims.allSatisfy({ $0 >= patch }) else { throw ValidationError("--shape needs x,y,z, each ≥ the patch side") }
        let s = Shape3(dims)
        let dir = URL(fileURLWithPath: work ?? NSTemporaryDirectory() + "c2fnas-bench-predict-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { if work == nil { try? FileManager.default.removeItem(at: dir) } }
        let image = dir.appendingPathComponent("ct_0000.nii.gz"), model = dir.appendingPathComponent("model")
        let spacing = SIMD3(0.8, 0.8, 1.5)
        if !FileManager.default.fileExists(atPath: image.path) {
            FileHandle.standardError.write(Data("writing \(image.path) (\(s.array.map(String.init).joined(separator: "×")) int16)\n".utf8))
            try writeCT(s, spacing: spacing, to: image)
        }
        try writeModel(to: model, spacing: spacing)
        let binaries = binary.isEmpty ? [CommandLine.arguments[0]] : binary
        let floatMiB = Double(s.count * 4) / 1_048_576
        print(String(format: "volume %@, float32 %.0f MiB; model c2fnas-panc width %d, %d classes, patch %d³, overlap %.2f",
                     s.array.map(String.init).joined(separator: "×"), floatMiB, width, classes, patch, overlap))
        for r in 0..<runs {
            for b in binaries {
                let out = dir.appendingPathComponent("out-\(r)")
                let m = try measure(b, ["predict", model.path, image.path, "--out", out.path, "--overlap", String(overlap)])
                print(String(format: "run %d %@: exit %d, wall %.1f s, user %.1f s, sys %.1f s (sys/user %.1f %%), peak RSS %.0f MiB (%.2f× the float volume), minor faults %d, voluntary ctx switches %d",
                             r, b, m.status, m.wall, m.user, m.sys, 100 * m.sys / max(m.user, 1e-9), m.peakMiB, m.peakMiB / floatMiB, m.minorFaults, m.voluntarySwitches))
                try? FileManager.default.removeItem(at: out)
            }
        }
    }

    /// A CT-like body: air outside an elliptic cylinder of soft tissue, a bright bone ring, two organs.
    func writeCT(_ s: Shape3, spacing: SIMD3<Double>, to url: URL) throws {
        var data = [Float](repeating: -1000, count: s.count)
        var rng = RNG(seed: 11)
        let cx = Double(s.x) / 2, cy = Double(s.y) / 2
        for k in 0..<s.z { for j in 0..<s.y { for i in 0..<s.x {
            let dx = (Double(i) - cx) / (0.42 * Double(s.x)), dy = (Double(j) - cy) / (0.34 * Double(s.y))
            let r = dx * dx + dy * dy
            guard r < 1 else { continue }
            var v = r > 0.85 ? 700.0 : 40.0
            let ox = (Double(i) - 0.6 * Double(s.x)) / (0.12 * Double(s.x)), oy = dy / 0.6, oz = (Double(k) - 0.5 * Double(s.z)) / (0.3 * Double(s.z))
            if ox * ox + oy * oy + oz * oz < 1 { v = 90 }
            v += 20 * (rng.nextDouble() - 0.5)
            data[s.index(i, j, k)] = Float(v.rounded())
        } } }
        // Stored LPS, as DICOM converters write it (the reader reorients it to RAS).
        let affine = Affine(rowMajor: [-spacing.x, 0, 0, 0, 0, -spacing.y, 0, 0, 0, 0, spacing.z, 0, 0, 0, 0, 1])
        let header = NIfTIHeader(fileShape: s, fileAffine: affine, descrip: "c2fnas bench predict CT")
        let canonical = Volume(grid: header.grid, channels: 1, data: header.orientation.toCanonical(data))
        try NIfTI.write(canonical, storage: .int16, like: header, to: url)
    }

    func writeModel(to dir: URL, spacing: SIMD3<Double>) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let arch = try Architecture.builtin("c2fnas-panc", baseWidth: width, inputChannels: 1, classes: classes, patch: [patch, patch, patch])
        let net = GraphNetwork(graph: try NetworkGraph(arch), store: ParameterStore(seed: 1))
        try SafeTensors.write(net.stateDict(), to: dir.appendingPathComponent("weights.safetensors"))
        try arch.jsonData().write(to: dir.appendingPathComponent("architecture.json"))
        // plan.json as `c2fnas inspect` writes it (Plan has no public memberwise initialiser).
        let labels = Dictionary(uniqueKeysWithValues: (0..<classes).map { (String($0), $0 == 0 ? "background" : "class \($0)") })
        let plan: [String: Any] = [
            "datasetName": "bench", "modalities": ["CT"], "labels": labels, "classCount": classes,
            "targetSpacing": [spacing.x, spacing.y, spacing.z],
            "normalization": [["scheme": "ct", "clipLower": -1000, "clipUpper": 1000, "mean": 0, "std": 300]],
            "patchSize": [patch, patch, patch], "batchSize": 2, "medianResampledShape": [patch, patch, patch],
            "memory": ["preprocessedDataset": 0, "inputBatch": 0],
        ]
        let data = try JSONSerialization.data(withJSONObject: plan, options: [.prettyPrinted, .sortedKeys])
        _ = try JSONDecoder().decode(Plan.self, from: data)   // what predict will read
        try data.write(to: dir.appendingPathComponent("plan.json"))
    }

    struct Measurement { var status: Int32, wall: Double, user: Double, sys: Double, peakMiB: Double, minorFaults: Int, voluntarySwitches: Int }

    /// Spawns `binary arguments` (stdout/stderr to /dev/null) and reads its rusage with wait4.
    func measure(_ binary: String, _ arguments: [String]) throws -> Measurement {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([binary] + arguments).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let t0 = DispatchTime.now().uptimeNanoseconds
        let rc = posix_spawn(&pid, binary, &actions, nil, argv, environ)
        guard rc == 0 else { throw ValidationError("cannot run \(binary): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let wall = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Measurement(status: exit, wall: wall, user: seconds(usage.ru_utime), sys: seconds(usage.ru_stime),
                           peakMiB: Double(usage.ru_maxrss) / 1024, minorFaults: usage.ru_minflt, voluntarySwitches: usage.ru_nvcsw)
    }
}
