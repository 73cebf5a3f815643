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
