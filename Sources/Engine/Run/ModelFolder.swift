import Foundation
import NN
import Search
import Volume

/// An export folder loaded for inference: architecture, weights and plan. `predict` needs
/// nothing else (not the dataset, not the run).
public struct ModelFolder {
    public let architecture: Architecture
    public let plan: Plan
    public let network: GraphNetwork

    /// Windows per forward pass in `predictLabels` (see docs/DECISIONS.md, bench predict).
    public static let windowBatch = 4

    public init(_ folder: URL) throws {
        let archURL = folder.appendingPathComponent("architecture.json")
        let planURL = folder.appendingPathComponent("plan.json")
        let weightsURL = folder.appendingPathComponent("weights.safetensors")
        guard let archData = try? Data(contentsOf: archURL) else {
            throw RunFileError.cannotRead(archURL.path, reason: "missing; point predict at an export folder (RUN/export)")
        }
        architecture = try Architecture.decode(from: archData, source: archURL.path)
        guard let planData = try? Data(contentsOf: planURL) else {
            throw RunFileError.cannotRead(planURL.path, reason: "missing; the export folder is incomplete")
        }
        do { plan = try JSONDecoder().decode(Plan.self, from: planData) } catch {
            throw RunFileError.corrupt(planURL.path, reason: "\(error)")
        }
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            throw RunFileError.cannotRead(weightsURL.path, reason: "missing; candidate exports hold no weights, train them first (c2fnas train)")
        }
        let (tensors, _) = try SafeTensors.read(from: weightsURL)
        let store = ParameterStore(seed: 0)
        network = GraphNetwork(graph: try NetworkGraph(architecture), store: store)
        try network.loadStateDict(tensors)
    }

    /// Sliding-window prediction of one image on its own grid.
    public func predict(_ image: NIfTIImage, overlap: Double = 0.5, mirror: Bool = false) throws -> LabelVolume {
        try predictLabels(image.volume, overlap: overlap, mirror: mirror)
    }

    /// The same with bounded memory: pass the volume's last reference (`consume`) and it is not
    /// copied; `progress` gets (windows done, windows in this case).
    public func predictLabels(_ volume: consuming Volume, overlap: Double = 0.5, mirror: Bool = false, batch: Int = ModelFolder.windowBatch,
                              progress: ((Int, Int) -> Void)? = nil) throws -> LabelVolume {
        let window = SlidingWindow(patchSize: plan.patch, overlap: overlap, mirrorAxes: mirror ? [0, 1, 2] : [], output: .logits, batch: batch)
        return try predictCaseLabels(image: consume volume, preprocessor: Preprocessor(plan: plan), window: window,
                                     batchNetwork: Inference.patchBatchNetwork(network), progress: progress)
    }
}
