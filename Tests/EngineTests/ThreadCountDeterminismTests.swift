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
        let p = Process()
        p.executableURL = try c2fnasBinary()
        p.arguments = ["bench", "step", "--arch", "c2fnas-panc", "--width", "8", "--size", "32",
                       "--steps", "3", "--warmup", "1", "--threads", "\(threads)"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let line = try #require(String(decoding: data, as: UTF8.self).split(separator: "\n").last)
        return try JSONDecoder().decode(Report.self, from: Data(line.utf8)).losses
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

    func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = try c2fnasBinary()
        p.arguments = ["bench", "step", "--size", "16", "--width", "4"] + arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    @Test("blocks of 3: the requested timed steps, both thread counts, the same losses as step by step")
    func blocks() throws {
        let blocked = try run(["--ab-threads", "1,2", "--ab-block", "3", "--steps", "4"])
        #expect(blocked.status == 0, "\(blocked.stderr)")
        let lines = blocked.stdout.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("1 thread(s): median") && $0.hasSuffix("over 2 steps") })
        #expect(lines.contains { $0.hasPrefix("2 thread(s): median") && $0.hasSuffix("over 2 steps") })
        let report = try JSONDecoder().decode(Report.self, from: Data(try #require(lines.last).utf8))
        #expect(report.stepsMs.count == 4 && report.losses.count == 4)
        // Untimed steps still train: the 4 timed losses are steps 7, 8, 10 and 11 of 12 (0-based),
        // the same whatever the thread count (see the determinism test above).
        let plain = try run(["--threads", "1", "--steps", "11", "--warmup", "1"])
        let all = try JSONDecoder().decode(Report.self, from: Data(try #require(plain.stdout.split(separator: "\n").last).utf8))
        #expect(report.losses.map(\.bitPattern) == [6, 7, 9, 10].map { all.losses[$0].bitPattern })
    }

    @Test("--ab-block without an A/B option, or with --profile, is refused with a message")
    func needsAB() throws {
        for arguments in [["--ab-block", "2"], ["--ab-threads", "1,2", "--ab-block", "2", "--profile"]] {
            let r = try run(arguments)
            #expect(r.status != 0, "\(arguments)")
            #expect(r.stderr.contains("--ab-block"), "\(arguments): \(r.stderr)")
        }
    }
}
