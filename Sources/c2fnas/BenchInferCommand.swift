// `c2fnas bench infer`: times sliding-window inference of a network over a whole volume (Gaussian
// blending, the product's evaluation path), one JSON line per invocation, for bench/infer.py, which
// interleaves it with MONAI's sliding_window_inference on the same network (bench/infer_peer.py).

import ArgumentParser
import Engine
import Foundation
import NN
import Search
import Tensor
import Volume

struct BenchInferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Time sliding-window inference over a volume; prints one JSON object.",
        discussion: """
            Input 1 x S^3 normal noise; windows of R^3 at the given overlap with Gaussian importance \
            weights (sigma = R/8, as MONAI and nnU-Net), no test-time mirroring, softmax output. Prints \
            the wall time of each timed run (s), the window count and the peak RSS (VmHWM) in MiB. \
            With several threads the windows of a batch (one per thread) run concurrently, each on one \
            thread, as in every inference of the engine; with --profile they run as one batched pass \
            whose ops use all threads (the profile records one thread).
            """)

    @Option(help: "Built-in architecture name or architecture.json path.")
    var arch = "c2fnas-panc"

    @Option(help: "Base width for a built-in architecture.")
    var width = 16

    @Option(help: "Cube side of the volume.")
    var size = 128

    @Option(help: "Cube side of the window.")
    var roi = 64

    @Option(help: "Window overlap (0 ≤ overlap < 1).")
    var overlap = 0.25

    @Option(help: "Threads.")
    var threads = 1

    @Option(help: "Timed runs.")
    var runs = 3

    @Option(help: "Untimed warm-up runs.")
    var warmup = 1
    @Option(name: .customLong("ab-threads"), help: ArgumentHelp(
        "Alternate the thread count between two values run by run, e.g. 1,2; prints both medians and the speedup (--threads is then ignored).",
        valueName: "a,b"))
    var abThreads: String?

    @Flag(help: "Print time per op kind and per conv shape over the timed runs (as bench step --profile); the window loop's own work (cropping, Gaussian blending, softmax) is \"other\".")
    var profile = false

    struct Report: Codable {
        let side: String, arch: String, threads: Int, size: Int, roi: Int, overlap: Double, params: Int
        let windows: Int, runsS: [Double], peakRSSMiB: Double, checksum: Double
        /// Minor page faults of each timed run (the output volume's pages, plus buffers the pool missed).
        let faultsPerRun: [Int]
    }

    func validate() throws {
        guard size >= 1, roi >= 1, runs >= 1, warmup >= 0 else { throw ValidationError("size, roi and runs must be ≥ 1") }
        guard overlap >= 0 && overlap < 1 else { throw ValidationError("overlap must be in [0, 1)") }
    }

    func run() throws {
        Compute.setThreads(max(1, threads))
        let architecture = try loadArchitecture(arch, width: width, patch: [roi, roi, roi])
        let net = GraphNetwork(graph: try NetworkGraph(architecture), store: ParameterStore(seed: 1))
        var rng = RNG(seed: 3)
        let noise = Tensor.randomNormal([architecture.inputChannels, size, size, size], rng: &rng)
        let grid = Grid(shape: Shape3(size, size, size), spacing: SIMD3(1, 1, 1))
        let image = Volume(grid: grid, channels: architecture.inputChannels, data: noise.scalars)
        let threadPair = try abThreads.map { try BenchStepCommand.pair($0, option: "--ab-threads", minimum: 1) }
        // One window per thread: the batch follows the thread count of each run.
        func window() -> SlidingWindow {
            SlidingWindow(patchSize: Shape3(roi, roi, roi), overlap: overlap, output: .logits, batch: Inference.windowBatch)
        }
        let windows = [grid.shape.x, grid.shape.y, grid.shape.z]
            .map { SlidingWindow.starts(length: $0, patch: roi, overlap: overlap).count }.reduce(1, *)
        var times: [Double] = [], faults: [Int] = [], checksum = 0.0
        // One network closure for all runs, as an evaluation over several cases uses one: the
        // warm-up run packs the conv weights, the timed runs reuse them.
        let network = Inference.patchBatchNetwork(net)
        var pairTimes: [[Double]] = [[], []]
        let warmupRuns = threadPair == nil ? warmup : 2 * warmup
        for i in 0..<(warmupRuns + runs) {
            if let threadPair { Compute.setThreads(threadPair[i % 2]) }
            if i == warmupRuns && profile { OpProfile.start() }
            let w = window()
            let t0 = DispatchTime.now().uptimeNanoseconds, f0 = PageFaults.minor
            let out = try w.predict(image, classes: architecture.classes, batchNetwork: network)
            let s = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            if i >= warmupRuns { times.append(s); faults.append(PageFaults.minor - f0); pairTimes[i % 2].append(s) }
            checksum = out.data.withUnsafeBufferPointer { $0.reduce(0) { $0 + Double($1) } } / Double(out.data.count)
        }
        if let threadPair, !pairTimes[0].isEmpty, !pairTimes[1].isEmpty {
            let med = pairTimes.map { $0.sorted()[$0.count / 2] }
            for k in 0..<2 {
                print(String(format: "%d thread(s): median %.2f s, best %.2f s over %d runs", threadPair[k], med[k],
                             pairTimes[k].min()!, pairTimes[k].count))
            }
            print(String(format: "speedup of the second over the first: %.2fx by medians, %.2fx by bests",
                         med[0] / med[1], pairTimes[0].min()! / pairTimes[1].min()!))
        }
        if profile {
            let kinds = OpProfile.stop(), details = OpProfile.details()
            let ms = times.map { $0 * 1000 }
            print(StepProfileTable.render(kinds, stepsMs: ms, faultsPerStep: [], poolJobsPerStep: [],
                                          emptyForkJoinMicros: (0, 0)).replacingOccurrences(of: "step ", with: "run "))
            print(StepProfileTable.renderConvShapes(details, steps: times.count))
        }
        let report = Report(side: "swift", arch: architecture.name, threads: Compute.threads, size: size, roi: roi,
                            overlap: overlap, params: net.parameterCount, windows: windows, runsS: times,
                            peakRSSMiB: Double(ProcessStats.peakResidentBytes) / 1_048_576, checksum: checksum,
                            faultsPerRun: faults)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }
}
