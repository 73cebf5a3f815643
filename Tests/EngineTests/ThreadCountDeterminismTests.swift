import Testing
import Foundation
@testable import Engine

/// Every sum in a training step has an order fixed by the shapes, never by the thread count (z runs,
/// plane chunks, parity classes: see the kernels), so a step on two threads gives the one-thread
/// losses bit for bit. Each run is a separate `c2fnas bench step` process, as the thread count is
/// process-wide. At 32³ the network reaches the strided convs with dY rows of 2-8 voxels, whose dX
/// went through OpenBLAS (split by thread count) until 2026-12-08.
@Suite("Thread-count determinism")
struct ThreadCountDeterminismTests {
    struct Report: Decodable { let losses: [Float] }

    func losses(threads: Int) throws -> [Float] {
        let r = try runC2FNAS(["bench", "step", "--arch", "c2fnas-panc", "--width", "8", "--size", "32",
                               "--steps", "3", "--warmup", "1", "--threads", "\(threads)"])
        #expect(r.status == 0)
        return try JSONDecoder().decode(Report.self, from: jsonLine(r.output)).losses
    }

    @Test("a training step's losses on 2 threads equal those on 1, bit for bit")
    func twoThreadsEqualOne() throws {
        let one = try losses(threads: 1), two = try losses(threads: 2)
        #expect(one.count == 3 && one.allSatisfy { $0.isFinite })
        #expect(one.map(\.bitPattern) == two.map(\.bitPattern), "1 thread \(one), 2 threads \(two)")
    }
}

/// `bench step --ab-block n`: the thread count switches every n steps and the first step after each
/// switch is left untimed, so the timed steps see the caches their own thread count leaves.
@Suite("bench step --ab-block")
struct BenchStepBlockTests {
    struct Report: Decodable { let stepsMs: [Double]; let losses: [Float] }

    func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let r = try runC2FNAS(["bench", "step", "--size", "16", "--width", "4"] + arguments)
        return (r.status, r.output)
    }

    @Test("blocks of 3: the requested timed steps, both thread counts, the same losses as step by step")
    func blocks() throws {
        let blocked = try run(["--ab-threads", "1,2", "--ab-block", "3", "--steps", "4"])
        #expect(blocked.status == 0, "\(blocked.output)")
        let lines = blocked.output.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("1 thread(s): median") && $0.hasSuffix("over 2 steps") })
        #expect(lines.contains { $0.hasPrefix("2 thread(s): median") && $0.hasSuffix("over 2 steps") })
        let report = try JSONDecoder().decode(Report.self, from: jsonLine(blocked.output))
        #expect(report.stepsMs.count == 4 && report.losses.count == 4)
        // Untimed steps still train: the 4 timed losses are steps 7, 8, 10 and 11 of 12 (0-based),
        // the same whatever the thread count (see the determinism test above).
        let plain = try run(["--threads", "1", "--steps", "11", "--warmup", "1"])
        let all = try JSONDecoder().decode(Report.self, from: jsonLine(plain.output))
        #expect(report.losses.map(\.bitPattern) == [6, 7, 9, 10].map { all.losses[$0].bitPattern })
    }

    @Test("--ab-block without an A/B option, or with --profile, is refused with a message")
    func needsAB() throws {
        for arguments in [["--ab-block", "2"], ["--ab-threads", "1,2", "--ab-block", "2", "--profile"]] {
            let r = try run(arguments)
            #expect(r.status != 0, "\(arguments)")
            #expect(r.output.contains("--ab-block"), "\(arguments): \(r.output)")
        }
    }
}

/// The JSON report line of a `bench step` run's output (its last line starting with "{").
func jsonLine(_ output: String) throws -> Data {
    Data(try #require(output.split(separator: "\n").last { $0.hasPrefix("{") }).utf8)
}
