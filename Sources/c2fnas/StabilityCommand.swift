import ArgumentParser
import Foundation
import Engine
import Volume

/// `c2fnas stability RUN RUN RUN...`: how much repeated searches (e.g. seeds 0, 1, 2) agree.
struct StabilityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stability",
        abstract: "Compare finished runs: topology Hamming distance, op agreement per cell, spread of test Dice.")

    @Argument(help: "Two or more finished run folders (same search space, e.g. different seeds).")
    var runs: [String]

    func run() throws {
        let loaded = try runs.map { try StabilityReport.Run.load(URL(fileURLWithPath: $0)) }
        let report = try StabilityReport(runs: loaded)
        var names: [String] = []
        if let plan = try? JSONDecoder().decode(Plan.self, from: Data(contentsOf: URL(fileURLWithPath: runs[0]).appendingPathComponent("export/plan.json"))) {
            names = (1..<plan.classCount).map { plan.labels[String($0)] ?? "class \($0)" }
        }
        print(report.text(classNames: names), terminator: "")
    }
}
