import ArgumentParser
import Engine

/// Headless command line: the same engine as the workbench, for scripts and clusters.
struct C2FNAS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "c2fnas",
        abstract: "Coarse-to-fine neural architecture search for 3D medical image segmentation.",
        subcommands: [BenchCommand.self])
    func run() throws {
        print("c2fnas: OpenBLAS kernel \(BLAS.coreName), \(BLAS.threads) threads")
    }
}
C2FNAS.main()
