import ArgumentParser
import Foundation
import Volume

/// `c2fnas sample OUT`: writes the synthetic CT-like task in MSD layout.
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Write a synthetic CT-like segmentation task (MSD layout) for trying c2fnas.",
        discussion: "Labels: 0 background, 1 liver, 2 spleen, 3 tumour (inside the liver). Images are int16 HU, LPS-stored, anisotropic spacing.")

    @Argument(help: "Task folder to create, e.g. sample-data/Task00_Phantom.")
    var output: String
    @Option(help: "Number of training cases (imagesTr + labelsTr).")
    var cases: Int = 12
    @Option(name: .customLong("test-cases"), help: "Number of test images (imagesTs).")
    var testCases: Int = 3
    @Option(help: "Random seed; the same seed writes the same task.")
    var seed: UInt64 = 0

    func validate() throws {
        guard cases >= 1, testCases >= 0 else { throw ValidationError("--cases must be ≥ 1 and --test-cases ≥ 0") }
    }

    func run() throws {
        let url = URL(fileURLWithPath: output)
        let start = Date()
        let ids = try Phantom.writeTask(to: url, trainingCases: cases, testCases: testCases, seed: seed) { id in
            print("  wrote \(id)")
        }
        print("\(ids.count) cases in \(url.path) (\(String(format: "%.1f", Date().timeIntervalSince(start))) s); inspect with `c2fnas inspect \(output)`")
    }
}
