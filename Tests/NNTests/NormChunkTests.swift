import Testing
@testable import NN
import Tensor

/// The instance norm on planes large enough to split into chunks (`PlaneChunks`): against a naive
/// Double reference, and the two schedules (whole planes per job, chunks in two fork/joins) bit for bit.
@Suite("instance norm on chunked planes")
struct NormChunkTests {
    /// 32 K values (2 chunks), 40 000 (2 chunks, edges off the 4096 blocks), 65 536 (4 chunks).
    static let shapes: [[Int]] = [[1, 3, 8, 64, 64], [2, 2, 10, 40, 100], [1, 2, 16, 64, 64]]

    @Test("chunk edges: whole vectors, covering the plane, count from the size only")
    func chunkEdges() {
        #expect(PlaneChunks(values: 32767).count == 1)
        #expect(PlaneChunks(values: 32768).count == 2)
        #expect(PlaneChunks(values: 64 * 64 * 64).count == 8)
        for v in [32768, 40000, 65536, 1 << 20, 99_999] {
            let c = PlaneChunks(values: v)
            let ranges = (0..<c.count).map { c[$0] }
            #expect(ranges.first!.lowerBound == 0 && ranges.last!.upperBound == v)
            #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound && $1.lowerBound % 16 == 0 })
            #expect(ranges.allSatisfy { $0.count >= 16 << 10 - 16 })
        }
    }

    @Test("forward and backward vs a naive Double reference", arguments: [false, true])
    func againstReference(rectify: Bool) {
        for (i, shape) in Self.shapes.enumerated() {
            var rng = RNG(seed: UInt64(70 + i))
            let c = shape[1], planes = shape[0] * c, v = shape.dropFirst(2).reduce(1, *)
            // An offset far from zero: a one-pass variance would lose digits here.
            let x = Tensor.randomNormal(shape, rng: &rng).map { 3 * $0 + 40 }
            let gamma = Tensor(shape: [c]) { 0.8 + 0.3 * Float($0) }, beta = Tensor(shape: [c]) { 0.2 - 0.25 * Float($0) }
            let seed = Tensor.randomNormal(shape, rng: &rng)
            let xv = Variable(x, requiresGrad: true), gv = Variable(gamma, requiresGrad: true), bv = Variable(beta, requiresGrad: true)
            let y = rectify ? instanceNormReLU(xv, weight: gv, bias: bv) : instanceNorm(xv, weight: gv, bias: bv)
            y.backward(seed: seed)
            let xs = x.scalars, ys = y.value.scalars, ds = seed.scalars, dx = xv.grad!.scalars
            var dGamma = [Double](repeating: 0, count: c), dBeta = dGamma
            var yErr = 0.0, dxErr = 0.0, dxScale = 0.0
            for p in 0..<planes {
                let ch = p % c, base = p * v
                let mean = (0..<v).reduce(0.0) { $0 + Double(xs[base + $1]) } / Double(v)
                let variance = (0..<v).reduce(0.0) { let d = Double(xs[base + $1]) - mean; return $0 + d * d } / Double(v)
                let inv = 1 / (variance + 1e-5).squareRoot()
                var g = [Double](repeating: 0, count: v), xhat = g
                for j in 0..<v {
                    xhat[j] = (Double(xs[base + j]) - mean) * inv
                    var want = Double(gamma.scalars[ch]) * xhat[j] + Double(beta.scalars[ch])
                    if rectify { want = max(0, want) }
                    yErr = max(yErr, abs(Double(ys[base + j]) - want))
                    g[j] = !rectify || want > 0 ? Double(ds[base + j]) : 0
                }
                let meanG = g.reduce(0, +) / Double(v)
                let meanGX = zip(g, xhat).reduce(0.0) { $0 + $1.0 * $1.1 } / Double(v)
                dBeta[ch] += meanG * Double(v)
                dGamma[ch] += meanGX * Double(v)
                for j in 0..<v {
                    let want = Double(gamma.scalars[ch]) * inv * (g[j] - meanG - xhat[j] * meanGX)
                    dxErr = max(dxErr, abs(Double(dx[base + j]) - want))
                    dxScale = max(dxScale, abs(want))
                }
            }
            #expect(yErr <= 2e-5 * 8, "shape \(shape): y off by \(yErr)")
            #expect(dxErr <= 1e-4 * max(1, dxScale), "shape \(shape): dx off by \(dxErr) (scale \(dxScale))")
            for ch in 0..<c {
                #expect(abs(Double(gv.grad!.scalars[ch]) - dGamma[ch]) <= 1e-4 * max(1, abs(dGamma[ch])), "shape \(shape) dγ \(ch)")
                #expect(abs(Double(bv.grad!.scalars[ch]) - dBeta[ch]) <= 1e-4 * max(1, abs(dBeta[ch])), "shape \(shape) dβ \(ch)")
            }
        }
    }

    @Test("both schedules give the same bits (any thread count merges the chunks alike)", arguments: [false, true])
    func schedulesAgree(rectify: Bool) {
        for (i, shape) in Self.shapes.enumerated() {
            var rng = RNG(seed: UInt64(80 + i))
            let c = shape[1]
            let x = Tensor.randomNormal(shape, rng: &rng).map { 2 * $0 - 1 }
            let gamma = Tensor(shape: [c]) { 1.1 - 0.2 * Float($0) }, beta = Tensor(shape: [c]) { 0.1 * Float($0) }
            let dy = Tensor.randomNormal(shape, rng: &rng)
            let whole = NormKernels.instanceForward(x, gamma: gamma, beta: beta, channels: c, eps: 1e-5, rectify: rectify,
                                                    wholePlanes: true)
            let split = NormKernels.instanceForward(x, gamma: gamma, beta: beta, channels: c, eps: 1e-5, rectify: rectify,
                                                    wholePlanes: false)
            #expect(whole.1 == split.1 && whole.0.mean == split.0.mean && whole.0.invStd == split.0.invStd,
                    "shape \(shape): forward differs")
            let bw = NormKernels.instanceBackward(x, output: rectify ? whole.1 : nil, gradOutput: dy, stats: whole.0,
                                                  gamma: gamma, channels: c, needInput: true, wholePlanes: true)
            let bs = NormKernels.instanceBackward(x, output: rectify ? whole.1 : nil, gradOutput: dy, stats: whole.0,
                                                  gamma: gamma, channels: c, needInput: true, wholePlanes: false)
            #expect(bw.dx! == bs.dx! && bw.sumDy == bs.sumDy && bw.sumDyXhat == bs.sumDyXhat, "shape \(shape): backward differs")
        }
    }
}
