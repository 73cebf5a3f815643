// `c2fnas bench forward EXPORT --input in.safetensors --output out.safetensors`: runs the exported
// network on a given input and writes the logits, so python/check_forward.py can compare our forward
// with the PyTorch twin (python/c2fnas_torch.py) on the same weights and input.

import ArgumentParser
import Foundation
import NN
import Search
import Tensor

struct BenchForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Run an exported network on an input tensor (for python/check_forward.py).",
        discussion: """
            EXPORT is a folder with architecture.json and weights.safetensors. The input file holds one \
            tensor "input" (N, C, D, H, W, float32); the output file gets "output" (N, K, D, H, W).
            """)

    @Argument(help: "Export folder (architecture.json + weights.safetensors).")
    var export: String

    @Option(help: "safetensors file with a tensor named \"input\".")
    var input: String

    @Option(help: "safetensors file to write the logits to (tensor \"output\").")
    var output: String

    @Option(help: "Threads (default: all cores).")
    var threads: Int?

    func run() throws {
        if let threads { Compute.setThreads(max(1, threads)) }
        let net = try ExportedNetwork.load(URL(fileURLWithPath: export))
        let (tensors, _) = try SafeTensors.read(from: URL(fileURLWithPath: input))
        guard let x = tensors["input"] else {
            throw ValidationError("\(input) has no tensor named \"input\" (found: \(tensors.keys.sorted()))")
        }
        let y = noGrad { net(Variable(x)) }.value
        try SafeTensors.write(["output": y], to: URL(fileURLWithPath: output))
    }
}

/// A stand-alone network with an export's weights.
enum ExportedNetwork {
    static func load(_ folder: URL) throws -> GraphNetwork {
        let archURL = folder.appendingPathComponent("architecture.json")
        let arch = try Architecture.decode(from: try Data(contentsOf: archURL), source: archURL.path)
        let weightsURL = folder.appendingPathComponent("weights.safetensors")
        let (weights, _) = try SafeTensors.read(from: weightsURL)
        let net = GraphNetwork(graph: try NetworkGraph(arch), store: ParameterStore(seed: 0))
        do { try net.loadStateDict(weights) } catch {
            throw ValidationError("\(weightsURL.path): \(error); export the weights of this architecture")
        }
        return net
    }
}
