import ArgumentParser
import Workbench

/// The terminal workbench. A synchronous root command, so the UI loop owns the main thread.
struct C2FNASTUI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "c2fnas-tui",
        abstract: "Watch and steer a C2FNAS search from the terminal.")
    func run() throws {
        print("c2fnas-tui: OpenBLAS kernel \(BLAS.coreName)")
    }
}
C2FNASTUI.main()
