// The stride-1 3x3x3 conv by Winograd F(2x2x2, 3x3x3) (CConvKernels/winograd.c): 64 multiply-adds
// per 2x2x2 output tile and input channel instead of 216, plus the input and output transforms; the
// 3x3x1 (in-plane) conv by F(2x2, 3x3): 16 per 2x2 tile instead of 36.
// It runs the forward and the stride-1 input gradient (the forward conv of dY with transposed,
// flipped weights) of the direct path when tile vectors are mostly full (rows of 11-16 voxels,
// two tile rows per vector, or of at least 24) and there are enough channels that the transforms are
// small next to the products (see DECISIONS.md for the measurements). The weight gradient stays direct.
//
// The transform reads the input in place (masked loads stand for the zero padding); the tile
// vectors are split into runs over the pool, each run with its own scratch, and every output value
// is computed by one run in a fixed order.

import CConvKernels
import Foundation
import Tensor

enum Conv3dWinogradKernel {
    /// The CPU runs the kernels and C2FNAS_CONV_WINOGRAD is not "0".
    static let available = c2f_wino_available() != 0

    /// A stride-1 3x3x3 or 3x3x1 (in-plane) conv from `inputs` to `outputs` channels on g's extents.
    static func applies(_ g: ConvGeometry, inputs: Int, outputs: Int) -> Bool {
        guard available, Conv3dEngine.useWinograd, g.isStride1, g.kd == 3 || g.kd == 1, g.kh == 3, g.kw == 3 else { return false }
        // The transforms cost per input and per output channel, the products per pair, so small
        // channel counts lose. `bench conv --ab-winograd`, 1 thread, forward direct / Winograd, Zen 5,
        // since the transform prefetches its rows: 16->16 1.40 at 32³ and 1.03 at 64³, k3x3x1 1.21
        // and 1.03; 8->16 1.13 and 0.92, 16->8 1.06 and 0.83. (On the Xeon, before the prefetch,
        // 16->16 measured 0.82-1.11 and in-plane 16->16 lost, so both needed 32 channels.)
        let enough = min(inputs, outputs) >= 16
        return enough && laneFill(g) >= 0.75
    }

    /// The share of vector lanes that hold tiles: rows of up to 8 tiles go two to a vector.
    static func laneFill(_ g: ConvGeometry) -> Double {
        let tiles = (g.w + 1) / 2
        return tiles <= 8 ? Double(tiles) / 8 : Double(tiles) / Double(16 * ((tiles + 15) / 16))
    }

    static func shape(_ g: ConvGeometry) -> c2f_conv_shape { Conv3dDirectKernel.shape(g) }

    /// Transformed weights of the forward (`transposed` false) or the input-gradient conv.
    static func packedWeights(_ wp: UnsafePointer<Float>, _ g: ConvGeometry, transposed: Bool) -> Tensor {
        let outs = transposed ? g.cin : g.cout, ins = transposed ? g.cout : g.cin
        let blocks = (outs + 7) / 8, positions = g.kd == 3 ? 64 : 16
        var out = Tensor(uninitialized: [blocks * positions * ins * 8])
        // Blocks in parallel from 16 (block, input) pairs, about 8 µs of transforms (training packs
        // both directions every step).
        let jobs = blocks * ins >= 16 ? blocks : 1
        out.withUnsafeMutablePointer { dst in
            Compute.parallelFor(jobs) { j in
                var s = shape(g)
                c2f_wino_pack_weights(wp, dst, &s, transposed ? 1 : 0, Int32(blocks * j / jobs), Int32(blocks * (j + 1) / jobs))
            }
        }
        return out
    }

    /// Tile vectors per call. The transformed input of a group (64 · inputs · group · 16 floats) is
    /// written once and read by every block of 8 output channels; the smaller it is, the less its
    /// stores stall (`bench conv`, 1 thread: groups of 3-6 vectors ran 1.2-2x faster than 12-24).
    static func group(inputs: Int) -> Int {
        inputs <= 16 ? 6 : 3
    }

    /// C2FNAS_WINO_PRIVATE_WEIGHTS=0 has every thread read the shared packed weights (A/B).
    static let privateWeights = ProcessInfo.processInfo.environment["C2FNAS_WINO_PRIVATE_WEIGHTS"] != "0"

    /// conv of `src` (`inputs` channels of one sample) with the transformed weights into `dst`.
    /// It needs no column budget: the transform reads the input in place and each thread's scratch
    /// is fixed by the channel count. `runs` overrides the split of the tile vectors into that many
    /// equal runs (tests); by default the runs are guided (`GuidedSplit`).
    static func convolve(_ src: UnsafePointer<Float>, inputs: Int, _ packed: Tensor, outputs: Int,
                         bias: UnsafePointer<Float>?, _ dst: UnsafeMutablePointer<Float>, _ g: ConvGeometry,
                         runs split: Int? = nil) {
        var s = shape(g)
        let group = group(inputs: inputs)
        let scratch = Int(c2f_wino_scratch_floats(Int32(inputs), Int32(group)))
        let vectors = Int(c2f_wino_vectors(&s))
        // Runs of whole groups, consecutive along x, then y, then z: neighbouring tiles share input rows.
        let groups = (vectors + group - 1) / group
        let guided = GuidedSplit(count: groups, threads: Compute.threads)
        let runs = split.map { max(1, min(groups, $0)) } ?? guided.count
        func range(_ r: Int) -> Range<Int> { split == nil ? guided[r] : (groups * r / runs)..<(groups * (r + 1) / runs) }
        // Several threads: each reads the transformed weights from its own copy, made by its first
        // run. The weights are packed per call by both threads, and every tile reads all of them:
        // with the vCPUs far apart, each core then fetched the other's half line by line across the
        // host's fabric (16->16 3x3x3 at 32³, 2 threads, forward alone: 1.1 ms far apart against
        // 0.7 close, while the 3x3x1 conv with a quarter of the weights ran 0.3 in both; DECISIONS.md).
        // One sequential copy of 64 KB instead.
        let copies = Compute.threads > 1 && privateWeights
        let weights = copies ? (packed.count + 15) / 16 * 16 : 0
        let each = ColumnWorkspace.slotStride(scratch + weights + 16)   // + the slot's copy flag, a cache line of its own
        packed.withUnsafeBufferPointer { pk in
            ColumnWorkspace.with(count: Compute.threads * each) { buf in
                for slot in 0..<Compute.threads { buf[slot * each + scratch + weights] = 0 }
                Compute.parallelFor(runs) { r, slot in
                    var s = shape(g)
                    let part = range(r)
                    let v0 = part.lowerBound * group, v1 = min(vectors, part.upperBound * group)
                    let mine = buf + slot * each
                    var u = pk.baseAddress!
                    if copies {
                        let copy = mine + scratch, flag = copy + weights
                        if flag[0] == 0 { copy.update(from: u, count: packed.count); flag[0] = 1 }
                        u = UnsafePointer(copy)
                    }
                    c2f_wino_forward(src, u, bias, dst, &s, Int32(inputs), Int32(outputs),
                                     v0, v1, Int32(group), mine)
                }
            }
        }
    }
}
