// `c2fnas bench step`: times SGD training steps (Dice + CE) of a C2FNAS network on a random input,
// one JSON line per run, for bench/step.py, which interleaves it with the PyTorch peer (bench/peer.py).

import ArgumentParser
import Engine
import Foundation
import NN
import Search
import Tensor

struct BenchStepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "Time SGD training steps (Dice+CE) of a network; prints one JSON object.",
        discussion: """
            --arch is a built-in name (c2fnas-panc, unet) or an architecture.json path. Input 1 x C x S^3 \
            (normal noise), label a centred sphere of class 1 (and a smaller one of class 2 when K > 2). \
            SGD lr 0.01, momentum 0.9, weight decay 3e-5. Prints step times (ms) after the warm-up steps \
            and the peak RSS (VmHWM) in MiB.
            """)

    @Option(help: "Built-in architecture name or architecture.json path.")
    var arch = "c2fnas-panc"

    @Option(help: "Base width for a built-in architecture.")
    var width = 8

    @Option(help: "Cube side of the input.")
    var size = 64

    @Option(help: "Threads.")
    var threads = 1

    @Option(help: "Timed steps.")
    var steps = 5

    @Option(help: "Untimed warm-up steps.")
    var warmup = 1

    @Flag(name: .customLong("no-direct"), help: "Use the GEMM conv paths even where the direct AVX-512 kernels apply.")
    var noDirect = false

    @Flag(help: "Print the time per op kind over the timed steps (conv fwd / dX / dW, norm, ...) and its share of the step.")
    var profile = false

    @Option(name: .customLong("ab-slab-kib"), help: ArgumentHelp(
        "A/B inside one process: alternate the direct kernels' slab budget between two sizes step by step, e.g. 1024,2048 (KiB); prints both medians.",
        valueName: "a,b"))
    var abSlabKiB: String?

    @Option(name: .customLong("ab-threads"), help: ArgumentHelp(
        "Alternate the thread count between two values step by step, e.g. 1,2; prints both medians and the speedup (--threads is then ignored).",
        valueName: "a,b"))
    var abThreads: String?

    @Flag(name: .customLong("ab-guided"), help: ArgumentHelp(
        "Alternate the pool loops' work split step by step: equal ranges (first) and guided ranges (second, the default); prints both medians."))
    var abGuided = false

    @Option(name: .customLong("ab-block"), help: ArgumentHelp(
        "With an A/B option: steps per configuration before switching (default 1, step by step). From 2 the first step after each switch runs untimed, so the timed steps see the caches their own configuration leaves: after a 1-thread step all of a step's data sits in one core's caches, and the next 2-thread step moves half of it to the other core.",
        valueName: "n"))
    var abBlock = 1

    @Flag(name: .customLong("no-pool"), help: "Return freed tensor buffers to the allocator instead of reusing them (A/B).")
    var noPool = false

    struct Report: Codable {
        let side: String, arch: String, threads: Int, size: Int, params: Int
        let stepsMs: [Double], losses: [Double], peakRSSMiB: Double
        /// The cost model's estimate of this step's peak memory, for calibration.
        let estimateMiB: Double, estimateActivationsMiB: Double, startRSSMiB: Double
        /// Minor page faults of each timed step (near 0 once the buffer pool holds the step's buffers).
        let faultsPerStep: [Int]
        /// Large-buffer requests of each timed step that the buffer pool could not serve (each one new pages).
        let poolMissesPerStep: [Int]
        /// Reused buffers that last held a tensor of other planes (N · C) than the new one.
        let poolLayoutChangesPerStep: [Int]
        /// Thread-pool fork/joins of each timed step.
        let poolJobsPerStep: [Int]
        /// Cache-line round trip between the pool's first two cores after the steps (ns; nil with one
        /// thread): about 80 ns when the host placed the vCPUs close, about 300 when far apart, where
        /// a 2-thread step ran 1.35x slower (see `ThreadPool.coreRoundTripNanos`).
        let coreRoundTripNs: Double?
    }

    func run() throws {
        if noDirect { Conv3dEngine.useDirect = false }
        if noPool { BufferPool.setEnabled(false) }
        // VmHWM, not getrusage: a child started by posix_spawn (vfork) inherits its parent's peak in
        // ru_maxrss, so a test runner's own memory would be counted as this step's.
        let startRSS = Double(ProcessStats.peakResidentBytes) / 1_048_576
        Compute.setThreads(max(1, threads))
        let architecture = try loadArchitecture(arch, width: width, patch: [size, size, size])
        let net = GraphNetwork(graph: try NetworkGraph(architecture), store: ParameterStore(seed: 1))
        let opt = SGD(parameters: net.parameters, learningRate: 0.01, momentum: 0.9, weightDecay: 3e-5)
        var rng = RNG(seed: 3)
        let x = Tensor.randomNormal([1, architecture.inputChannels, size, size, size], rng: &rng)
        let labels = Self.sphereLabels(size: size, classes: architecture.classes)
        var times: [Double] = [], losses: [Double] = [], faults: [Int] = [], jobs: [Int] = [], misses: [Int] = [], layoutChanges: [Int] = []
        // Step by step alternation: the host's slow and fast phases last seconds to minutes, so two
        // processes run one after the other compare phases more than configurations.
        let slabs = try abSlabKiB.map { try Self.pair($0, option: "--ab-slab-kib", minimum: 4) }
        let threadPair = try abThreads.map { try Self.pair($0, option: "--ab-threads", minimum: 1) }
        var slabTimes: [[Double]] = [[], []]
        // --ab-threads: the core round trip probed after each pair's multi-thread step (untimed), so
        // each pair is filed under the placement it ran in (the host moves the vCPUs every few minutes).
        var pairRoundTrips: [Double?] = []
        var workerBusy0 = 0.0
        // With --ab-threads every configuration gets its own warm-up steps.
        let warmupSteps = threadPair == nil ? warmup : 2 * warmup
        // --ab-block n: configuration k = (i / n) % 2, the first step of each block untimed (n ≥ 2), and
        // enough blocks for `steps` timed steps. n = 1: every step, alternating.
        let isAB = slabs != nil || threadPair != nil || abGuided
        guard abBlock >= 1 && (abBlock == 1 || isAB) else {
            throw ValidationError("--ab-block takes a step count of at least 1, with --ab-threads, --ab-slab-kib or --ab-guided")
        }
        // The profile records every step from its start, and blocks leave steps untimed in between.
        guard abBlock == 1 || !profile else {
            throw ValidationError("--profile and --ab-block do not go together: profile the configurations one at a time")
        }
        let block = isAB ? abBlock : 1, timedPerBlock = max(1, block - 1)
        let timedBlocks = (steps + timedPerBlock - 1) / timedPerBlock
        let iterations = block == 1 ? warmupSteps + steps : (warmupSteps + timedBlocks) * block
        for i in 0..<iterations {
            let b = i / block, config = b % 2
            let timed = b >= warmupSteps && (block == 1 || i % block != 0)
            if let slabs { Conv3dEngine.slabBudgetBytes = slabs[config] << 10 }
            if let threadPair { Compute.setThreads(threadPair[config]) }
            if abGuided { GuidedSplit.isGuided = config == 1 }
            if timed && times.isEmpty && profile { OpProfile.start(); workerBusy0 = Compute.workerBusyMs }
            let f0 = PageFaults.minor, j0 = Compute.dispatchCount, m0 = BufferPool.counts.misses, l0 = BufferPool.layoutChanges
            let t0 = DispatchTime.now().uptimeNanoseconds
            opt.zeroGrad()
            let loss = diceCELoss(logits: net(Variable(x)), labels: labels)
            loss.backward()
            opt.step()
            let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            if timed {
                times.append(ms); losses.append(Double(loss.value.scalars[0]))
                slabTimes[config].append(ms)
                faults.append(PageFaults.minor - f0); jobs.append(Compute.dispatchCount - j0)
                misses.append(BufferPool.counts.misses - m0); layoutChanges.append(BufferPool.layoutChanges - l0)
                // After the second configuration's block: one probe for each of its timed steps.
                if let threadPair, config == 1, i % block == block - 1 {
                    Compute.setThreads(threadPair.max() ?? 1)
                    let probe = Compute.pool.coreRoundTripNanos(rounds: 2_000, runs: 3)
                    pairRoundTrips.append(contentsOf: Array(repeating: probe, count: timedPerBlock))
                }
            }
        }
        let medians = slabTimes.map { $0.isEmpty ? 0 : $0.sorted()[$0.count / 2] }
        for k in 0..<2 where !slabTimes[k].isEmpty && (slabs != nil || threadPair != nil || abGuided) {
            let t = slabTimes[k].sorted()
            let label = [slabs.map { "slab budget \($0[k]) KiB" }, threadPair.map { "\($0[k]) thread(s)" },
                         abGuided ? (k == 0 ? "equal ranges" : "guided ranges") : nil]
                .compactMap { $0 }.joined(separator: ", ")
            print(String(format: "%@: median %.1f ms, best %.1f ms over %d steps", label, medians[k], t[0], t.count))
        }
        if threadPair != nil || abGuided, medians[1] > 0, let a = slabTimes[0].min(), let b = slabTimes[1].min() {
            print(String(format: "speedup of the second over the first: %.2fx by medians, %.2fx by bests", medians[0] / medians[1], a / b))
        }
        if threadPair != nil {
            for line in Self.placementLines(first: slabTimes[0], second: slabTimes[1], roundTrips: pairRoundTrips) { print(line) }
        }
        if profile {
            let kinds = OpProfile.stop()
            print(StepProfileTable.render(kinds, stepsMs: times, faultsPerStep: faults, poolJobsPerStep: jobs,
                                          emptyForkJoinMicros: StepProfileTable.emptyForkJoinMicros()))
            let details = OpProfile.details()
            print(StepProfileTable.renderConvShapes(details, steps: times.count))
            print(StepProfileTable.renderOtherShapes(details, stepsMs: times))
            print(StepProfileTable.renderPoolSites(OpProfile.poolSites(), stepsMs: times,
                                                   workerBusyMs: Compute.workerBusyMs - workerBusy0))
        }
        if let threadPair { Compute.setThreads(threadPair.max() ?? 1) }
        let roundTrip = Compute.pool.coreRoundTripNanos()
        if profile, let roundTrip {
            print(String(format: "cache-line round trip between the first two cores %.0f ns (about 80 when the host placed the vCPUs close, 300 when far apart)", roundTrip))
        }
        let estimate = try net.graph.cost(input: [size, size, size], memory: .calibrated)
        let report = Report(side: "swift", arch: architecture.name, threads: Compute.threads, size: size,
                            params: net.parameterCount, stepsMs: times, losses: losses,
                            peakRSSMiB: Double(ProcessStats.peakResidentBytes) / 1_048_576,
                            estimateMiB: Double(estimate.memoryBytes) / 1_048_576,
                            estimateActivationsMiB: Double(estimate.activationBytes) / 1_048_576,
                            startRSSMiB: startRSS, faultsPerStep: faults, poolMissesPerStep: misses, poolLayoutChangesPerStep: layoutChanges, poolJobsPerStep: jobs,
                            coreRoundTripNs: roundTrip)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        print(String(decoding: try enc.encode(report), as: UTF8.self))
    }

    /// The speedup by host placement: pair k (element k of each list, the timed steps 2k and 2k + 1) goes to "close" or
    /// "far apart" by the core round trip probed right after it (`ThreadPool.farApartNanos`); pairs
    /// without a probe (one thread both ways) are left out. One line per placement that has pairs.
    static func placementLines(first: [Double], second: [Double], roundTrips: [Double?]) -> [String] {
        func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
        var lines: [String] = []
        for far in [false, true] {
            let pairs = (0..<min(first.count, second.count, roundTrips.count)).filter { k in
                roundTrips[k].map { ($0 > ThreadPool.farApartNanos) == far } ?? false
            }
            guard !pairs.isEmpty else { continue }
            let a = median(pairs.map { first[$0] }), b = median(pairs.map { second[$0] })
            let rt = median(pairs.map { roundTrips[$0]! })
            lines.append(String(format: "%@ (%d pairs, core round trip median %.0f ns): %.1f / %.1f ms, speedup %.2fx by medians",
                                far ? "far apart" : "close", pairs.count, rt, a, b, a / b))
        }
        return lines
    }

    /// Two comma-separated integers ≥ minimum for an A/B option.
    static func pair(_ text: String, option: String, minimum: Int) throws -> [Int] {
        let v = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard v.count == 2, v.allSatisfy({ $0 >= minimum }) else {
            throw ValidationError("\(option) takes two integers of at least \(minimum), e.g. \(minimum),\(2 * minimum); got \"\(text)\"")
        }
        return v
    }

    /// N=1 labels (1, S, S, S): class 1 inside a centred sphere of radius S/4, class 2 (if any) inside S/8.
    static func sphereLabels(size s: Int, classes: Int) -> Tensor {
        let c = Double(s - 1) / 2
        return Tensor(shape: [1, s, s, s]) { i in
            let z = i / (s * s), y = (i / s) % s, x = i % s
            let r = ((Double(z) - c) * (Double(z) - c) + (Double(y) - c) * (Double(y) - c)
                     + (Double(x) - c) * (Double(x) - c)).squareRoot()
            if classes > 2 && r < Double(s) / 8 { return 2 }
            return r < Double(s) / 4 ? 1 : 0
        }
    }
}
