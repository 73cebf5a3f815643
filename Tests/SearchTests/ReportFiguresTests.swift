import Testing
@testable import Search

/// Figures quoted in reports and docs; the assertions pin the claims made about them.
@Suite struct ReportFiguresTests {
    @Test func builtinCostsAtCPUPreset() throws {
        let panc = try Architecture.builtin("c2fnas-panc", baseWidth: 8, patch: [48, 48, 48]).cost()
        let unet = try Architecture.builtin("unet", baseWidth: 8, patch: [48, 48, 48]).cost()
        print("c2fnas-panc w=8 48³: params \(panc.parameters), MACs \(panc.macs), memory \(panc.memoryBytes) B")
        print("unet        w=8 48³: params \(unet.parameters), MACs \(unet.macs), memory \(unet.memoryBytes) B")
        let paper = try Architecture.builtin("c2fnas-panc", baseWidth: 32, patch: [96, 96, 96]).cost()
        print("c2fnas-panc w=32 96³: params \(paper.parameters), MACs \(paper.macs), memory \(paper.memoryBytes) B")
        // "Comparable multiply-adds": within 15 %.
        let ratio = Double(unet.macs) / Double(panc.macs)
        print("unet / c2fnas-panc MACs: \(ratio)")
        #expect(abs(ratio - 1) < 0.15)
    }
}
