// `c2fnas bench conv`: times conv3d forward and forward+backward on the engine's standard shapes.
// Build in release and run with OPENBLAS_CORETYPE=HASWELL (the Makefile exports it).

import ArgumentParser
import Foundation
import NN
import Tensor

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Micro-benchmarks of the compute engine.",
        subcommands: [BenchConvCommand.self, BenchForwardCommand.self, BenchStepCommand.self, BenchInferCommand.self, BenchPredictCommand.self])
}

struct BenchConvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv",
        abstract: "conv3d forward and forward+backward times (median and best) and GFLOP/s.",
        discussion: """
            Shapes: Cin->Cout 1->16, 16->16, 32->32, 64->64, 32->64 stride 2; kernels (x,y,z) 3x3x3, \
            3x3x1, 1x1x3; batch 1. fwd runs without a graph; fwd+bwd computes dX and dW. \
            GFLOP/s counts 2 FLOP per multiply-add, 3x the forward for fwd+bwd, from the best time.
            """)

    @Option(help: "Threads for the pool and OpenBLAS (default: all cores).")
    var threads: Int?

    @Flag(help: "Print one JSON object per shape instead of a table.")
    var json = false

    @Option(help: "Comma-separated cube sizes, e.g. 32 or 32,64.")
    var sizes = "32,64"

    @Option(help: "Only shapes whose label contains this text, e.g. \"32->32\" or \"k3x3x3\".")
    var filter: String?

    @Option(help: "Timed runs per measurement (at least 5).")
    var repeats = 5

    @Option(name: .customLong("tile-mib"), help: "Column buffer budget in MiB (default 16).")
    var tileMiB: Double?

    @Flag(name: .customLong("classic"), help: "Use the full column matrix for every conv (no plane-shift path).")
    var classic = false

    @Flag(name: .customLong("no-direct"), help: "Use the GEMM paths even where the direct AVX-512 kernels apply.")
    var noDirect = false

    @Flag(name: .customLong("ab"),
          help: "A/B: time the GEMM paths (A) and the default paths (B) alternately, 3 rounds per shape.")
    var abCompare = false

    @Flag(name: .customLong("ab-winograd"),
          help: "A/B: time the direct kernels without Winograd (A) and the default paths (B) alternately.")
    var abWinograd = false

    @Flag(name: .customLong("ab-outvec"),
          help: "A/B: time the direct kernels without output-channel vectors (A) and the default paths (B) alternately.")
    var abOutVectors = false

    @Option(help: "Comma-separated Cin->Cout pairs instead of the standard shapes, stride 1 unless an s2 suffix says otherwise, e.g. \"16->8,16->32s2\".")
    var channels: String?

    struct Case {
        let cin: Int, cout: Int, stride: Int, kernel: Kernel3D, size: Int
        var label: String {
            "\(cin)->\(cout)\(stride > 1 ? " s\(stride)" : "") k\(kernel) \(size)^3"
        }
    }

    struct Row: Codable {
        let shape: String
        let gflopForward: Double
        let forwardMedianMs: Double, forwardBestMs: Double, forwardGflops: Double
        let trainMedianMs: Double, trainBestMs: Double, trainGflops: Double
        let threads: Int
        let torchTrainAnchorMs: Double?
    }

    /// PyTorch 2.13 CPU, 1 thread, fwd+bwd, best ms (notes/perf-anchors.md).
    static let torchAnchors: [String: Double] = [
        "32->32 k3x3x3 32^3": 52.5, "64->64 k3x3x3 32^3": 202, "16->16 k3x3x3 64^3": 164, "16->16 k3x3x3 32^3": 153,
    ]

    func validate() throws {
        guard repeats >= 5 else { throw ValidationError("--repeats must be at least 5") }
        guard parsedSizes.count > 0 else { throw ValidationError("--sizes needs cube sizes like 32,64") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    var parsedSizes: [Int] {
        sizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
    }

    func run() throws {
        if let threads { Compute.setThreads(threads) }
        if classic { Conv3dEngine.usePlaneShift = false }
        if noDirect { Conv3dEngine.useDirect = false }
        if let tileMiB { Conv3dEngine.columnBudgetBytes = Int(tileMiB * 1_048_576) }
        var channelPairs = [(1, 16, 1), (16, 16, 1), (32, 32, 1), (64, 64, 1), (32, 64, 2)]
        if let channels {
            channelPairs = channels.split(separator: ",").compactMap { pair in
                let parts = pair.split(separator: "-").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "> ")) }
                guard parts.count == 2 else { return nil }
                let out = parts[1].split(separator: "s")
                guard let a = Int(parts[0]), let b = out.first.flatMap({ Int($0) }), a > 0, b > 0 else { return nil }
                let stride = out.count == 2 ? Int(out[1]) ?? 1 : 1
                return (a, b, max(1, stride))
            }
        }
        var cases: [Case] = []
        for size in parsedSizes {
            for (cin, cout, s) in channelPairs {
                for k in [Kernel3D.k333, .k331, .k113] {
                    cases.append(Case(cin: cin, cout: cout, stride: s, kernel: k, size: size))
                }
            }
        }
        if let filter { cases = cases.filter { $0.label.contains(filter) } }
        if abCompare || abWinograd || abOutVectors {
            runAB(cases)
            return
        }
        if !json {
            print("conv3d benchmark: \(Compute.threads) thread(s), OpenBLAS \(BLAS.coreName), "
                + "OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "unset"), "
                + "column budget \(Conv3dEngine.columnBudgetBytes >> 10) KiB, \(repeats) runs after warm-up")
            print("| shape | fwd GFLOP | fwd ms med / best | fwd GF/s | fwd+bwd ms med / best | f+b GF/s | torch 1T f+b ms |")
            print("|---|---|---|---|---|---|---|")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for c in cases {
            let row = measure(c)
            if json {
                print(String(decoding: try encoder.encode(row), as: UTF8.self))
            } else {
                let anchor = row.torchTrainAnchorMs.map { String(format: "%.1f", $0) } ?? "-"
                print(String(format: "| %@ | %.2f | %.1f / %.1f | %.0f | %.1f / %.1f | %.0f | %@ |",
                             c.label, row.gflopForward, row.forwardMedianMs, row.forwardBestMs, row.forwardGflops,
                             row.trainMedianMs, row.trainBestMs, row.trainGflops, anchor))
            }
            fflush(nil)
        }
    }

    func measure(_ c: Case) -> Row {
        var rng = RNG(seed: 42)
        let inShape = [1, c.cin, c.size, c.size, c.size]
        let stride = Stride3D(c.stride)
        let x = Variable(.randomNormal(inShape, rng: &rng), requiresGrad: true)
        let conv = Conv3d(name: "bench", inChannels: c.cin, outChannels: c.cout, kernel: c.kernel,
                          stride: stride, rng: &rng)
        let outShape = conv3dOutputShape(inputShape: inShape, outChannels: c.cout, kernel: c.kernel, stride: stride)
        let seed = Tensor.randomNormal(outShape, rng: &rng)
        let flops = 2.0 * Double(conv3dMACs(inputShape: inShape, outChannels: c.cout, kernel: c.kernel, stride: stride))

        let fwd = timings { _ = noGrad { conv(x) } }
        let train = timings {
            let y = conv(x)
            y.backward(seed: seed)
            x.grad = nil
            conv.weight.grad = nil
        }
        return Row(shape: c.label, gflopForward: flops / 1e9,
                   forwardMedianMs: fwd.median, forwardBestMs: fwd.best, forwardGflops: flops / fwd.best / 1e6,
                   trainMedianMs: train.median, trainBestMs: train.best, trainGflops: 3 * flops / train.best / 1e6,
                   threads: Compute.threads, torchTrainAnchorMs: Self.torchAnchors[c.label])
    }

    /// GEMM paths (A; with --ab-winograd the direct kernels without Winograd, with --ab-outvec without
    /// output-channel vectors) against the default (B),
    /// alternating per round: forward and fwd+bwd.
    func runAB(_ cases: [Case]) {
        let baseline = abWinograd ? "direct" : abOutVectors ? "x-vectors" : "gemm"
        print("conv3d A/B: \(Compute.threads) thread(s), OpenBLAS \(BLAS.coreName), direct kernels "
            + "\(Conv3dEngine.directAvailable ? "available" : "unavailable"), 3 rounds of \(repeats) runs, ms")
        print("| shape | A \(baseline) fwd med / best | B default fwd med / best | A \(baseline) f+b med / best "
            + "| B default f+b med / best | A/B fwd (median) | A/B f+b (median) |")
        print("|---|---|---|---|---|---|---|")
        func setA(_ on: Bool) {
            if abWinograd { Conv3dEngine.useWinograd = !on }
            else if abOutVectors { Conv3dEngine.useOutVectors = !on }
            else { Conv3dEngine.useDirect = !on }
        }
        for c in cases {
            var a: [Row] = [], b: [Row] = []
            for round in 0..<3 {
                for first in round % 2 == 0 ? [true, false] : [false, true] {
                    setA(first)
                    if first { a.append(measure(c)) } else { b.append(measure(c)) }
                }
            }
            setA(false)
            func summary(_ rows: [Row], _ key: KeyPath<Row, Double>, _ best: KeyPath<Row, Double>) -> (Double, Double) {
                (rows.map { $0[keyPath: key] }.sorted()[rows.count / 2], rows.map { $0[keyPath: best] }.min()!)
            }
            let (afm, afb) = summary(a, \.forwardMedianMs, \.forwardBestMs), (bfm, bfb) = summary(b, \.forwardMedianMs, \.forwardBestMs)
            let (atm, atb) = summary(a, \.trainMedianMs, \.trainBestMs), (btm, btb) = summary(b, \.trainMedianMs, \.trainBestMs)
            print(String(format: "| %@ | %.2f / %.2f | %.2f / %.2f | %.1f / %.1f | %.1f / %.1f | %.2f | %.2f |", c.label,
                         afm, afb, bfm, bfb, atm, atb, btm, btb, afm / bfm, atm / btm))
            fflush(nil)
        }
    }

    /// Median and best wall time in ms of `repeats` runs after one warm-up run.
    func timings(_ body: () -> Void) -> (median: Double, best: Double) {
        body()
        var ms: [Double] = []
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            ms.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        ms.sort()
        return (ms[ms.count / 2], ms[0])
    }
}
