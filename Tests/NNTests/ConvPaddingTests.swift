import Testing
import CConvKernels

/// The zero-padded layouts the direct kernels read, built by c2f_pad_slab (stride 1: rows of
/// w + 2·pw values) and c2f_pad_grad_rows (dY rows followed by zeros up to the padded row length,
/// each plane rounded up to whole vectors), against the layouts written out index by index. Row
/// lengths below, at and around the 16-float vector (the copies run by whole vectors with a scalar
/// tail); every float of the destination is checked, so a value written too far shows as well.
@Suite("padded slab and dY row layouts", .enabled(if: c2f_conv_direct_available() != 0))
struct ConvPaddingTests {
    static let widths = [1, 3, 7, 15, 16, 17, 19, 32, 33, 64]

    @Test("c2f_pad_slab at stride 1 equals the zero-padded input, plane by plane")
    func padSlab() {
        for w in Self.widths {
            for (kd, kh, kw) in [(3, 3, 3), (3, 3, 1), (1, 1, 3)] {
                let c = 2, d = 4, h = 3, z0 = 1, planes = 2
                var s = c2f_conv_shape(cin: Int32(c), cout: 1, d: Int32(d), h: Int32(h), w: Int32(w),
                                       kd: Int32(kd), kh: Int32(kh), kw: Int32(kw), sd: 1, sh: 1, sw: 1)
                let x = (0..<(c * d * h * w)).map { Float($0 % 97) + 1 }
                let pd = kd / 2, ph = kh / 2, pw = kw / 2
                let row = w + 2 * pw, pp = (h + 2 * ph) * row, depth = planes - 1 + kd, cs = depth * pp
                let total = Int(c2f_slab_floats(&s, Int32(c), Int32(planes)))
                var slab = [Float](repeating: .nan, count: total)
                x.withUnsafeBufferPointer { xp in
                    slab.withUnsafeMutableBufferPointer { sp in
                        c2f_pad_slab(xp.baseAddress!, sp.baseAddress!, &s, Int32(c), 0, Int32(c), Int32(z0), Int32(planes), 0, 1)
                    }
                }
                var wrong = 0
                for ch in 0..<c {
                    for k in 0..<depth {
                        for yy in 0..<(h + 2 * ph) {
                            for xx in 0..<row {
                                let z = z0 - pd + k, y = yy - ph, xi = xx - pw
                                let inside = z >= 0 && z < d && y >= 0 && y < h && xi >= 0 && xi < w
                                let want: Float = inside ? x[((ch * d + z) * h + y) * w + xi] : 0
                                if slab[ch * cs + k * pp + yy * row + xx] != want { wrong += 1 }
                            }
                        }
                    }
                }
                // The slack after the last channel is zeros too (the kernels' partial vectors read it).
                let tail = slab[(c * cs)...].filter { $0 != 0 }.count
                #expect(wrong == 0 && tail == 0, "w \(w) kernel \(kd)x\(kh)x\(kw): \(wrong) values, \(tail) slack")
            }
        }
    }

    @Test("c2f_pad_grad_rows equals dY rows followed by zeros, planes rounded up to vectors")
    func padGradRows() {
        for w in Self.widths {
            let cout = 3, d = 4, h = 3, z0 = 1, planes = 2, c0 = 1, c1 = 3
            var s = c2f_conv_shape(cin: 1, cout: Int32(cout), d: Int32(d), h: Int32(h), w: Int32(w),
                                   kd: 3, kh: 3, kw: 3, sd: 1, sh: 1, sw: 1)
            let dy = (0..<(cout * d * h * w)).map { Float($0 % 89) + 1 }
            let row = w + 2, gp = (h * row + 15) / 16 * 16
            var out = [Float](repeating: .nan, count: Int(c2f_grad_rows_floats(&s, Int32(planes))))
            dy.withUnsafeBufferPointer { yp in
                out.withUnsafeMutableBufferPointer { op in
                    c2f_pad_grad_rows(yp.baseAddress!, op.baseAddress!, &s, Int32(z0), Int32(planes), Int32(c0), Int32(c1))
                }
            }
            var wrong = 0
            for co in 0..<cout {
                for p in 0..<planes {
                    for i in 0..<gp {
                        let got = out[(co * planes + p) * gp + i]
                        guard co >= c0 && co < c1 else { if !got.isNaN { wrong += 1 }; continue }   // left alone
                        let y = i / row, x = i % row
                        let want: Float = y < h && x < w ? dy[((co * d + z0 + p) * h + y) * w + x] : 0
                        if got != want { wrong += 1 }
                    }
                }
            }
            #expect(wrong == 0, "w \(w): \(wrong) values")
        }
    }
}
