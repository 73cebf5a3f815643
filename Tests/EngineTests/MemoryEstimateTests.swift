import Testing
import Foundation
@testable import Engine

/// The cost model's calibrated memory estimate against the measured peak RSS of real training
/// steps (a separate `c2fnas bench step` process per size, so nothing else shares the figure).
@Suite("Memory estimate")
struct MemoryEstimateTests {
    struct Report: Decodable { let size: Int; let peakRSSMiB: Double; let estimateMiB: Double }

    @Test("estimate within ±25 % of measured peak RSS", arguments: [32, 48])
    func withinTolerance(size: Int) throws {
        let p = Process()
        p.executableURL = try c2fnasBinary()
        p.arguments = ["bench", "step", "--arch", "c2fnas-panc", "--width", "8", "--size", "\(size)",
                       "--steps", "1", "--warmup", "1", "--threads", "1"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let line = try #require(String(decoding: data, as: UTF8.self).split(separator: "\n").last)
        let r = try JSONDecoder().decode(Report.self, from: Data(line.utf8))
        let ratio = r.estimateMiB / r.peakRSSMiB
        #expect(ratio > 0.75 && ratio < 1.25, "estimate \(r.estimateMiB) MiB vs measured \(r.peakRSSMiB) MiB at \(size)³")
    }
}
