import Foundation
import NN
import Synchronization
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
        let cache = PackedWeightCache(), result = OutputBuffer()
        return { patch, channels, size in
            let x = Variable(Tensor(shape: [1, channels, size.z, size.y, size.x], scalars: patch))
            let y = cache.using { noGrad { net(x) } }.value
            return result.fill(count: y.count) { o in y.withUnsafePointer { o.update(from: $0, count: y.count) } }
        }
    }

    /// The same for a batch of patches: one forward pass of shape [count, C, D, H, W], or, with
    /// several pool threads (`windowsInParallel`), one pass per patch with the patches spread over
    /// the threads, each pass on one thread. Every window then runs the 1-thread code on its own
    /// core: no fork/join per op and no op split over cores that share the data, where a pass
    /// split op by op scaled 1.44-1.7x on two cores (bench/infer.py; FMA throughput scales 1.96x).
    /// The values are the same either way (every op sums in a fixed order for any thread count).
    public static func patchBatchNetwork(_ net: GraphNetwork) -> PatchBatchNetwork {
        let cache = PackedWeightCache(), result = OutputBuffer()
        return { patches, count, channels, size in
            let shape = [channels, size.z, size.y, size.x], n = size.count * channels
            if count > 1 && windowsInParallel {
                var outputs = [Tensor?](repeating: nil, count: count)
                outputs.withUnsafeMutableBufferPointer { ob in
                    let o = ob.baseAddress!
                    patches.withUnsafeBufferPointer { pb in
                        let p = pb.baseAddress!
                        Compute.parallelFor(count) { i in
                            // Task-locals do not follow the job onto a pool thread: bind them here.
                            var patch = Tensor(uninitialized: [1] + shape)
                            patch.withUnsafeMutablePointer { $0.update(from: p + i * n, count: n) }
                            o[i] = cache.using { noGrad { net(Variable(patch)) } }.value
                        }
                    }
                }
                let ys = outputs.map { $0! }
                let per = ys[0].count
                return result.fill(count: count * per) { o in
                    for (i, y) in ys.enumerated() { y.withUnsafePointer { (o + i * per).update(from: $0, count: per) } }
                }
            }
            let x = Variable(Tensor(shape: [count] + shape, scalars: patches))
            let y = cache.using { noGrad { net(x) } }.value
            return result.fill(count: y.count) { o in y.withUnsafePointer { o.update(from: $0, count: y.count) } }
        }
    }

    /// The array a network closure returns, reused from call to call. A fresh array of a window's
    /// logits is a new mapping (BufferPool fixes malloc's mmap threshold at 256 KiB): 768 page faults
    /// per 64³ window with 3 classes, and the copies into it ran on cold pages. The closure keeps a
    /// reference to the array it returned; once the caller has dropped its own, the next call finds
    /// it unique and writes in place. A caller that keeps the result gets a copy-on-write copy instead,
    /// so a returned array never changes under it.
    final class OutputBuffer: Sendable {
        private let buffer = Mutex<[Float]>([])

        func fill(count: Int, _ write: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
            var b = buffer.withLock { b in
                let taken = b
                b = []
                return taken
            }
            // A row's last batch can be smaller: the count changes within the capacity.
            if b.count > count { b.removeLast(b.count - count) }
            if b.count < count { b.append(contentsOf: repeatElement(0, count: count - b.count)) }
            b.withUnsafeMutableBufferPointer { write($0.baseAddress!) }
            buffer.withLock { $0 = b }
            return b
        }
    }

    /// Whether `patchBatchNetwork` runs the patches of a batch concurrently: several pool threads,
    /// the direct conv kernels (the GEMM paths would run OpenBLAS from two threads at once), and no
    /// op profile (it records the calling thread only).
    static var windowsInParallel: Bool {
        Compute.threads > 1 && Conv3dEngine.useDirect && Conv3dEngine.directAvailable && !OpProfile.isEnabled
    }

    /// Windows per batch for a sliding window run through `patchBatchNetwork`: one per pool thread.
    public static var windowBatch: Int { max(1, Compute.threads) }

    /// Mean Dice per foreground class over `cases` (preprocessed grid, labels present).
    public static func validationDice(_ net: GraphNetwork, cases: [PreprocessedCase], classes: Int,
                                      patch: Shape3, overlap: Double) throws -> (mean: Double, perClass: [Double]) {
        let window = SlidingWindow(patchSize: patch, overlap: overlap, output: .logits, batch: windowBatch)
        var sums = [Double](repeating: 0, count: max(0, classes - 1))
        let network = patchBatchNetwork(net)
        for c in cases {
            let probs = try window.predict(c.image, classes: classes, batchNetwork: network)
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
