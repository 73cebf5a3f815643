import Foundation
import NN
import Search
import Volume
import Tensor

/// Runs networks on whole cases: sliding-window inference on the preprocessed grid (for fitness
/// and validation curves) and full evaluation on the original grid (metrics + NIfTI predictions).
public enum Inference {
    /// The network as the Volume module's `PatchNetwork`: a channel-major patch in, K logits out.
    /// The closure packs each conv's weights once and reuses them for every later patch
    /// (PackedWeightCache; an optimiser step in between makes the packs stop matching, never stale).
    public static func patchNetwork(_ net: GraphNetwork) -> PatchNetwork {
        let cache = PackedWeightCache()
        return { patch, channels, size in
            let x = Variable(Tensor(shape: [1, channels, size.z, size.y, size.x], scalars: patch))
            return cache.using { noGrad { net(x) } }.value.scalars
        }
    }

    /// The same for a batch of patches: one forward pass of shape [count, C, D, H, W].
    public static func patchBatchNetwork(_ net: GraphNetwork) -> PatchBatchNetwork {
        let cache = PackedWeightCache()
        return { patches, count, channels, size in
            let x = Variable(Tensor(shape: [count, channels, size.z, size.y, size.x], scalars: patches))
            return cache.using { noGrad { net(x) } }.value.scalars
        }
    }

    /// Mean Dice per foreground class over `cases` (preprocessed grid, labels present).
    public static func validationDice(_ net: GraphNetwork, cases: [PreprocessedCase], classes: Int,
                                      patch: Shape3, overlap: Double) throws -> (mean: Double, perClass: [Double]) {
        let window = SlidingWindow(patchSize: patch, overlap: overlap, output: .logits)
        var sums = [Double](repeating: 0, count: max(0, classes - 1))
        let network = patchNetwork(net)
        for c in cases {
            let probs = try window.predict(c.image, classes: classes, network: network)
            let pred = argmax(probs)
            for k in 1..<classes {
                let a = pred.data.map { Int($0) == k }, b = c.labels!.data.map { Int($0) == k }
                sums[k - 1] += Metrics.dice(a, b)
            }
        }
        let per = sums.map { $0 / Double(max(1, cases.count)) }
        return (per.isEmpty ? 0 : per.reduce(0, +) / Double(per.count), per)
    }
}
