import ArgumentParser
import Engine
import Tensor

/// Headless command line: the same engine as the workbench, for scripts and clusters.
/// A synchronous root command, so no subcommand runs on the cooperative pool.
struct C2FNAS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "c2fnas",
        abstract: "Coarse-to-fine neural architecture search for 3D medical image segmentation.",
        subcommands: [SearchCommand.self, StatusCommand.self, TrainCommand.self, PlanCommand.self, PredictCommand.self, ExportCommand.self, SampleCommand.self, InspectCommand.self, EvaluateCommand.self, StabilityCommand.self, OverlayCommand.self, ReportCommand.self, BenchCommand.self])
}
BLAS.reexecWithSupportedCoreIfNeeded()
C2FNAS.main()
