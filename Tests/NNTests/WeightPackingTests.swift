import Testing
import CConvKernels

/// The vectorised weight packings (gathers per tap, the Winograd transform on 8 channels at once)
/// against the scalar reference loops they replaced: the same bits for every float of the packed
/// buffer, forward and transposed, with output counts that fill the last block partly (its extra
/// lanes must be zeros) and that leave a whole 16-lane half of a 32-block empty. Every block range
/// is packed by two calls (b0..<b1 split), as the pool's jobs do.
@Suite("weight packing: vector packings equal the scalar reference", .enabled(if: c2f_conv_direct_available() != 0))
struct WeightPackingTests {
    static func weights(_ count: Int) -> [Float] {
        // Distinct, non-trivial values (a wrong index or lane shows as a wrong value).
        (0..<count).map { i in Float((i * 7919) % 1009) / 97 - 5 }
    }

    static func shape(_ cin: Int, _ cout: Int, _ k: (Int, Int, Int)) -> c2f_conv_shape {
        c2f_conv_shape(cin: Int32(cin), cout: Int32(cout), d: 8, h: 8, w: 8,
                       kd: Int32(k.0), kh: Int32(k.1), kw: Int32(k.2), sd: 1, sh: 1, sw: 1)
    }

    typealias Pack = (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int32, Int32) -> Void

    /// Floats of an n-float packed buffer whose bits differ between `fast`, called for blocks
    /// 0..<blocks/2 and then the rest, and `reference`, called once for all blocks (both start from NaN).
    static func differingFloats(_ n: Int, blocks: Int, weights w: [Float], fast: Pack, reference: Pack) -> Int {
        var f = [Float](repeating: .nan, count: n), r = [Float](repeating: .nan, count: n)
        let mid = Int32(blocks / 2)
        w.withUnsafeBufferPointer { wp in
            f.withUnsafeMutableBufferPointer {
                fast(wp.baseAddress!, $0.baseAddress!, 0, mid)
                fast(wp.baseAddress!, $0.baseAddress!, mid, Int32(blocks))
            }
            r.withUnsafeMutableBufferPointer { reference(wp.baseAddress!, $0.baseAddress!, 0, Int32(blocks)) }
        }
        return zip(f, r).filter { $0.0.bitPattern != $0.1.bitPattern }.count
    }

    @Test("c2f_pack_weights (blocks of 8 and 32) equals c2f_pack_weights_reference")
    func direct() {
        for (cin, cout) in [(8, 16), (16, 8), (3, 5), (16, 40), (32, 64), (7, 17)] {
            for k in [(3, 3, 3), (3, 3, 1), (1, 1, 3)] {
                for block in [8, 32] {
                    for transposed in [false, true] {
                        var s = Self.shape(cin, cout, k)
                        let taps = k.0 * k.1 * k.2
                        let w = Self.weights(cin * cout * taps)
                        let outs = transposed ? cin : cout, ins = transposed ? cout : cin
                        let blocks = (outs + block - 1) / block
                        let n = blocks * block * ins * taps
                        let differ = Self.differingFloats(n, blocks: blocks, weights: w,
                            fast: { wp, d, b0, b1 in c2f_pack_weights(wp, d, &s, transposed ? 1 : 0, Int32(block), b0, b1) },
                            reference: { wp, d, b0, b1 in c2f_pack_weights_reference(wp, d, &s, transposed ? 1 : 0, Int32(block), b0, b1) })
                        #expect(differ == 0, "\(cin)->\(cout) \(k) block \(block) transposed \(transposed): \(differ) of \(n)")
                    }
                }
            }
        }
    }

    @Test("c2f_wino_pack_weights equals c2f_wino_pack_weights_reference (3x3x3 and 3x3x1)")
    func winograd() {
        for (cin, cout) in [(16, 16), (32, 16), (5, 13), (8, 3), (24, 40)] {
            for k in [(3, 3, 3), (1, 3, 3)] {
                for transposed in [false, true] {
                    var s = Self.shape(cin, cout, k)
                    let taps = k.0 * k.1 * k.2, positions = k.0 == 3 ? 64 : 16
                    let w = Self.weights(cin * cout * taps)
                    let outs = transposed ? cin : cout, ins = transposed ? cout : cin
                    let blocks = (outs + 7) / 8
                    let n = blocks * positions * ins * 8
                    let differ = Self.differingFloats(n, blocks: blocks, weights: w,
                        fast: { wp, d, b0, b1 in c2f_wino_pack_weights(wp, d, &s, transposed ? 1 : 0, b0, b1) },
                        reference: { wp, d, b0, b1 in c2f_wino_pack_weights_reference(wp, d, &s, transposed ? 1 : 0, b0, b1) })
                    #expect(differ == 0, "\(cin)->\(cout) \(k) transposed \(transposed): \(differ) of \(n)")
                }
            }
        }
    }
}
