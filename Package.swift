// swift-tools-version: 6.1
// c2fnas-tui: Coarse-to-Fine NAS for 3D medical segmentation, with a terminal workbench.
// Module map and dependency rule (arrows point down only): see ../shared/DESIGN.md and docs/DECISIONS.md.
// Each target lists exactly the modules its files import; tests/check-imports.sh (run by make test) fails on drift.
import PackageDescription

let package = Package(
    name: "c2fnas-tui",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "c2fnas-tui", targets: ["c2fnas-tui"]),
        .executable(name: "c2fnas", targets: ["c2fnas"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // System-library bindings.
        .systemLibrary(name: "CNCurses", path: "Sources/CNCurses",
                       providers: [.apt(["libncursesw5-dev"])]),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // Direct conv3d kernels (AVX-512 intrinsics, chosen at run time).
        .target(name: "CConvKernels", path: "Sources/CConvKernels"),
        // Reductions and affine passes over Float planes (AVX-512 intrinsics, chosen at run time).
        .target(name: "CPlaneKernels", path: "Sources/CPlaneKernels"),
        // CPU affinity of the compute pool's threads (glibc calls Swift's Glibc module lacks).
        .target(name: "CThreadAffinity", path: "Sources/CThreadAffinity"),
        .target(name: "CNIfTI", path: "Sources/CNIfTI",
                linkerSettings: [.linkedLibrary("nifti2"), .linkedLibrary("znz"),
                                 .linkedLibrary("z"), .linkedLibrary("m")]),

        // Engine layers, lowest first. Files (complete-or-absent writes) is beside Tensor, which
        // knows nothing of files; the modules that save something depend on it.
        .target(name: "Files"),
        .target(name: "Tensor", dependencies: ["COpenBLAS", "CThreadAffinity", "CPlaneKernels"]),
        .target(name: "NN", dependencies: ["Tensor", "Files", "CConvKernels", "CPlaneKernels"]),
        .target(name: "Volume", dependencies: ["Tensor", "Files", "CNIfTI"]),
        .target(name: "Search", dependencies: ["Tensor", "NN"]),
        .target(name: "Engine", dependencies: ["Tensor", "Files", "NN", "Volume", "Search"]),
        // Pictures: RGB images, PNG, slice rendering with class colours, kitty / sixel / iTerm2 encoders.
        .target(name: "Pictures", dependencies: ["CZlib"]),
        .target(name: "Workbench", dependencies: ["Engine", "Search", "Volume", "Tensor", "Pictures", "CNCurses"]),
        // Figures and the HTML run report (`c2fnas overlay`, `c2fnas report`).
        .target(name: "Report", dependencies: ["Engine", "Volume", "Pictures"]),
        // Command-line presentation: progress lines, signal handling, the troubleshooting guide.
        .target(name: "CLI", dependencies: ["Engine", "Search"]),
        // Scale-out of the coarse stage: clusters as local child processes or Slurm array tasks.
        .target(name: "Scheduler", dependencies: ["Engine"]),

        // Executables: argument parsing and wiring only.
        .executableTarget(name: "c2fnas-tui", dependencies: [
            "Workbench", "Engine", "CLI", "Tensor",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "c2fnas", dependencies: [
            "Engine", "CLI", "Scheduler", "Volume", "Search", "NN", "Tensor", "Pictures", "Report",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Tests mirror targets.
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "CPlaneKernels"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Tensor", "CConvKernels"]),
        .testTarget(name: "VolumeTests", dependencies: ["Volume", "Tensor", "CNIfTI"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "SearchTests", dependencies: ["Search", "NN", "Tensor"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Volume", "Search", "NN", "Tensor"]),
        .testTarget(name: "WorkbenchTests", dependencies: ["Workbench", "Engine", "CLI", "Pictures", "Volume", "CNCurses"]),
        .testTarget(name: "PicturesTests", dependencies: ["Pictures"]),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler", "Engine"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Pictures", "Engine", "Volume"]),
    ]
)
