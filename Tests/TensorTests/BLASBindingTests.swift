import Testing
@testable import Tensor

@Suite("OpenBLAS binding")
struct BLASBindingTests {
    /// Deterministic pseudo-random values in [-1, 1) (RNG), so the test needs no seeding API.
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var s = seed
        return (0..<count).map { _ in
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return Float(Double(z >> 40) / Double(1 << 24)) * 2 - 1
        }
    }

    @Test("cblas_sgemm matches a naive loop on 37x53x29, all transpose variants",
          arguments: [(false, false), (true, false), (false, true), (true, true)])
    func sgemmMatchesNaive(transA: Bool, transB: Bool) {
        let m = 37, n = 53, k = 29
        let a = Self.values(m * k, seed: 1), b = Self.values(k * n, seed: 2)
        var c = Self.values(m * n, seed: 3)
        let c0 = c
        let lda = transA ? m : k, ldb = transB ? k : n
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5,
                               a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                               beta: 2, c: pc.baseAddress!, ldc: n)
                }
            }
        }
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(av) * Double(bv)
                }
                let want = 0.5 * s + 2 * Double(c0[i * n + j])
                #expect(abs(Double(c[i * n + j]) - want) < 1e-4, "C[\(i),\(j)]")
            }
        }
    }

    @Test("thread count is settable", .computeSettings)  // Compute.setThreads sets BLAS too
    func threadControl() {
        let before = BLAS.threads
        defer { BLAS.setThreads(before) }  // the suites share one process
        BLAS.setThreads(1)
        #expect(BLAS.threads == 1)
        #expect(!BLAS.coreName.isEmpty)
    }
}
