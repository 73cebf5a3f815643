import COpenBLAS
import Foundation

/// OpenBLAS thread control and the one GEMM entry point the engine uses.
/// Row-major throughout: C[m×n] = alpha · op(A) · op(B) + beta · C.
public enum BLAS {
    /// Sets the number of threads OpenBLAS may use (the engine keeps it at its pool size, or 1 with the UI).
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
    /// Threads OpenBLAS currently uses.
    public static var threads: Int { Int(openblas_get_num_threads()) }
    /// The kernel OpenBLAS picked at load time (e.g. "Haswell", "Cooperlake").
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// OpenBLAS picks its kernels when it loads, from a table of CPU models that predates newer
    /// CPUs: on an unknown model it falls back to "Prescott" (SSE3), measured on an Intel Xeon of
    /// family 6 model 207 with Debian's 0.3.21. Then this re-executes the process once with
    /// OPENBLAS_CORETYPE set to the best kernel the CPU supports (AVX-512 → SkylakeX, AVX2 →
    /// Haswell), so a user who runs the binary directly gets the same GEMM speed as `make`'s
    /// environment. An explicit OPENBLAS_CORETYPE is always respected. Call first thing in main.
    public static func reexecWithSupportedCoreIfNeeded() {
        let env = ProcessInfo.processInfo.environment
        guard env["OPENBLAS_CORETYPE"] == nil, env["C2FNAS_BLAS_REEXEC"] == nil, coreName == "Prescott",
              let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        let core: String
        if flags.contains("avx512f") && flags.contains("avx512bw") && flags.contains("avx512vl") { core = preferredAVX512Core }
        else if flags.contains("avx2") && flags.contains("fma") { core = "HASWELL" }
        else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv("C2FNAS_BLAS_REEXEC", "1", 1)  // never loop, whatever OpenBLAS then reports
        var argv = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &argv)
        // execv returned: keep running with the fallback kernels.
        for p in argv { free(p) }
    }

    /// The kernel chosen for AVX-512 CPUs that OpenBLAS does not know (DECISIONS 2026-12-01).
    public static let preferredAVX512Core = "HASWELL"

    @inlinable
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
