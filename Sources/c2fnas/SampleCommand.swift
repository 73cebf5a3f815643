import ArgumentParser
import Foundation
import Synchronization
import Volume

/// `c2fnas sample OUT`: writes a synthetic segmentation task in MSD layout — the small phantom
/// that `make run` searches, or the harder abdomen benchmark.
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Write a synthetic segmentation task (MSD layout) for trying or benchmarking c2fnas.",
        discussion: """
        --kind phantom (default): 0 background, 1 liver, 2 spleen, 3 tumour (inside the liver); int16 HU, LPS-stored, 12 cases.
        --kind abdomen: 0 background, 1 liver, 2 spleen, 3 kidney, 4 pancreas, 5 stomach, 6 tumour; warped organs, thin pancreas, \
        vertebrae and aorta unlabelled, partial volume, bias field and noise, about 128×128×(48–96) voxels at 0.7–1.0 × 2.5–5 mm, \
        RAS and LPS storage mixed, CT (int16 HU) or MR (--modality mr), 24 cases.
        """)

    enum Kind: String, ExpressibleByArgument, CaseIterable { case phantom, abdomen }
    enum Modality: String, ExpressibleByArgument, CaseIterable { case ct, mr }

    @Argument(help: "Task folder to create, e.g. sample-data/Task00_Phantom.")
    var output: String
    @Option(help: "Which task: phantom (small, what `make run` uses) or abdomen (harder benchmark).")
    var kind: Kind = .phantom
    @Option(help: "Abdomen only: ct or mr intensities.")
    var modality: Modality?
    @Option(help: "Number of training cases (imagesTr + labelsTr); default 12 (phantom) or 24 (abdomen).")
    var cases: Int?
    @Option(name: .customLong("test-cases"), help: "Number of test images (imagesTs).")
    var testCases: Int = 3
    @Option(help: "Random seed; the same seed writes the same task.")
    var seed: UInt64 = 0

    func validate() throws {
        guard (cases ?? 1) >= 1, testCases >= 0 else { throw ValidationError("--cases must be ≥ 1 and --test-cases ≥ 0") }
        if modality != nil && kind != .abdomen { throw ValidationError("--modality applies to --kind abdomen only") }
    }

    func run() throws {
        let url = URL(fileURLWithPath: output)
        let start = Date()
        let ids: [String]
        switch kind {
        case .phantom:
            ids = try Phantom.writeTask(to: url, trainingCases: cases ?? 12, testCases: testCases, seed: seed) { id in
                print("  wrote \(id)")
            }
        case .abdomen:
            let config = AbdomenConfig(modality: modality == .mr ? .mr : .ct)
            let printLock = Mutex(())
            ids = try AbdomenPhantom.writeTask(to: url, trainingCases: cases ?? 24, testCases: testCases, seed: seed, config: config) { id in
                printLock.withLock { _ in print("  wrote \(id)") }
            }
        }
        print("\(ids.count) cases in \(url.path) (\(String(format: "%.1f", Date().timeIntervalSince(start))) s); inspect with `c2fnas inspect \(output)`")
    }
}
