// Conv3d forward and backward as vol2col + cblas_sgemm, tiled over output rows.
//
// The column matrix for a tile of output rows (z, y pairs, each `ow` voxels) has
// Cin·kD·kH·kW rows and T = rows·ow columns. Its size is bounded by `Conv3dEngine.columnBudgetBytes`
// and it lives in a reusable workspace (one per concurrent caller), so no step allocates it anew.
//   forward:  Y[:, tile]  = W[Cout × K] · cols[K × T]
//   dW       += dY[:, tile] · colsᵀ                    (tiles in fixed order: deterministic)
//   dcols     = Wᵀ · dY[:, tile], then col2im adds dcols into dX
// A 1x1x1 stride-1 conv skips the column matrix. vol2col runs on the pool over column rows, col2im
// over input channels (each channel's dX is written by one thread), GEMMs use OpenBLAS's threads.

import Foundation
import Synchronization
import Tensor

/// Process-wide conv settings.
public enum Conv3dEngine {
    private static let budget = Atomic<Int>(16 << 20)
    private static let slabBudget = Atomic<Int>(defaultSlabBudget())
    private static let planeShift = Atomic<Bool>(true)
    private static let directKernels = Atomic<Bool>(true)
    private static let winogradKernels = Atomic<Bool>(true)
    private static let outVectorKernels = Atomic<Bool>(true)
    private static let privateSlabs = Atomic<Bool>(ProcessInfo.processInfo.environment["C2FNAS_CONV_PRIVATE_SLABS"] != "0")

    /// Stride-1 convs use the direct AVX-512 kernels (Conv3dDirectKernel) when the CPU has AVX-512F;
    /// false forces the GEMM paths (for benchmarks).
    public static var useDirect: Bool {
        get { directKernels.load(ordering: .relaxed) }
        set { directKernels.store(newValue, ordering: .relaxed) }
    }

    /// The direct path runs stride-1 3x3x3 and 3x3x1 convs by Winograd (Conv3dWinogradKernel) where
    /// it applies; false keeps them on the direct kernels (for benchmarks).
    public static var useWinograd: Bool {
        get { winogradKernels.load(ordering: .relaxed) }
        set { winogradKernels.store(newValue, ordering: .relaxed) }
    }

    /// The direct path runs weight-heavy convs of short or strided rows with the vector along output
    /// channels (c2f_conv_forward_outvec) where it applies; false (or C2FNAS_CONV_OUTVEC=0) keeps them
    /// on the x-vector kernels (for benchmarks).
    public static var useOutVectors: Bool {
        get { outVectorKernels.load(ordering: .relaxed) }
        set { outVectorKernels.store(newValue, ordering: .relaxed) }
    }

    /// On several threads, the x-vector direct convs (forward, stride-1 dX) pad each run of output
    /// planes into the running thread's own slab instead of one shared slab per call; false (or
    /// C2FNAS_CONV_PRIVATE_SLABS=0) keeps the shared slab (for benchmarks). Same values either way.
    public static var usePrivateSlabs: Bool {
        get { privateSlabs.load(ordering: .relaxed) }
        set { privateSlabs.store(newValue, ordering: .relaxed) }
    }

    /// Whether this CPU can run the direct kernels at all.
    public static var directAvailable: Bool { Conv3dDirectKernel.available }

    /// Stride-1 convs with a depth kernel use in-plane columns plus shifted GEMMs
    /// (Conv3dPlaneKernel); false forces the classic full column matrix (for benchmarks).
    public static var usePlaneShift: Bool {
        get { planeShift.load(ordering: .relaxed) }
        set { planeShift.store(newValue, ordering: .relaxed) }
    }

    /// Upper bound in bytes of the padded input slab that the direct kernels read (at least one
    /// output plane is used): one core's L2 cache by default. A slab that stays in L2 while the
    /// kernel sweeps it, and while the pad copy writes it, beat the 16 MiB column budget the direct
    /// path used before (`bench step --profile`, 1 thread, C2FNAS-Panc at 64³, 2 MiB L2, two
    /// interleaved rounds: step 398 → 348 ms and 353 → 308 ms; 4 MiB and 1 MiB in between).
    public static var slabBudgetBytes: Int {
        get { slabBudget.load(ordering: .relaxed) }
        set { slabBudget.store(max(4096, newValue), ordering: .relaxed) }
    }

    /// The slab of one conv call: one core's budget per pool thread. A slab's work items are runs of
    /// output planes (forward, dX) or groups of (input channel, tap) pairs (dW), so each core reads
    /// only its part of the slab. With one core's budget for the whole slab, a 16-channel 64³ conv
    /// on a 1 MiB L2 (Zen 5) got one output plane per slab and, with 8 outputs, a single work item:
    /// its forward ran on one thread (10.0 ms at 2 threads against 9.5 at 1).
    static var callSlabBudgetBytes: Int { slabBudgetBytes * Compute.threads }

    /// L2 size per core (sysconf), at least 2 MiB and at most 16 MiB; 2 MiB when unknown.
    /// C2FNAS_SLAB_KIB overrides it (A/B runs without rebuilding).
    /// The floor: a job works on a run of planes, not the whole slab, and with a 1 MiB budget the
    /// 16-channel 64³ convs got one output plane per slab and copied every input plane three times
    /// (Zen 5, 1 MiB L2: `bench step --ab-slab-kib 1024,2048`, 1 thread, 20 steps each: 159.4 →
    /// 155.2 ms median; 2 and 4 MiB equal at 2 threads, as on the Xeon with its 2 MiB L2).
    static func defaultSlabBudget() -> Int {
        if let s = ProcessInfo.processInfo.environment["C2FNAS_SLAB_KIB"], let kib = Int(s), kib > 0 { return kib << 10 }
        let l2 = sysconf(Int32(_SC_LEVEL2_CACHE_SIZE))
        return min(16 << 20, max(2 << 20, l2))
    }

    /// Upper bound of the column buffer in bytes (default 16 MiB; at least one output row is used).
    public static var columnBudgetBytes: Int {
        get { budget.load(ordering: .relaxed) }
        set { budget.store(max(4096, newValue), ordering: .relaxed) }
    }
}

/// dw[i] += Σ_r partials[r · stride + i] for i in 0..<count, the runs summed in order from r = 0:
/// the merge of weight gradients summed over fixed runs of planes or voxels, the same bits on any
/// thread count. 16 values at a time (each lane adds its runs in the same order as the scalar loop,
/// so the bits are unchanged), over the pool from 32 K values: the scalar loop ran serially on the
/// caller, 0.1-0.2 ms a step while the other core waited.
func addRunSums(_ partials: UnsafePointer<Float>, runs: Int, stride: Int, count: Int, into dw: UnsafeMutablePointer<Float>) {
    func add(_ range: Range<Int>) {
        var i = range.lowerBound
        while i + 16 <= range.upperBound {
            var total = SIMD16<Float>()
            for r in 0..<runs { total += UnsafeRawPointer(partials + r * stride + i).loadUnaligned(as: SIMD16<Float>.self) }
            let d = UnsafeMutableRawPointer(dw + i)
            d.storeBytes(of: d.loadUnaligned(as: SIMD16<Float>.self) + total, as: SIMD16<Float>.self)
            i += 16
        }
        while i < range.upperBound {
            var total: Float = 0
            for r in 0..<runs { total += partials[r * stride + i] }
            dw[i] += total
            i += 1
        }
    }
    if count >= 1 << 15 {
        Compute.parallelChunks(count: count, grain: 1 << 14) { _, r in add(r) }
    } else {
        add(0..<count)
    }
}

/// A reusable column buffer; taken from and returned to a small free list.
final class ColumnWorkspace: @unchecked Sendable {
    /// Floats from one pool slot's scratch region to the next in a workspace split by slot: the same
    /// 4 MiB for every call (regions up to that size), so a thread writes the same addresses call
    /// after call, whatever the conv. Regions sized per call moved by each call's size, and a core then
    /// wrote lines the other core held from the previous call. Pages beyond a region are never touched.
    static func slotStride(_ each: Int) -> Int {
        fixedSlots ? max((each + 15) / 16 * 16, 1 << 20) : each
    }

    /// C2FNAS_FIXED_SLOTS=0: slot regions packed by each call's size (A/B).
    static let fixedSlots = ProcessInfo.processInfo.environment["C2FNAS_FIXED_SLOTS"] != "0"

    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity: Int

    init() {
        capacity = 0
        pointer = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    }

    deinit { Self.release(pointer, capacity) }

    func reserve(_ n: Int) {
        if n <= capacity { return }
        Self.release(pointer, capacity)
        pointer = LargePages.allocateBuffer(bytes: n * MemoryLayout<Float>.stride, alignment: MemoryLayout<Float>.alignment)
            .bindMemory(to: Float.self, capacity: n)
        capacity = n
    }

    private static func release(_ pointer: UnsafeMutablePointer<Float>, _ capacity: Int) {
        LargePages.freeBuffer(UnsafeMutableRawPointer(pointer), bytes: capacity * MemoryLayout<Float>.stride)
    }

    private static let free = Mutex<[ColumnWorkspace]>([])
    /// The thread that last used the buffer (pthread_self).
    private var owner: UInt = 0

    /// Which free buffer thread `me` takes (`owners` in release order): its own last one, else the
    /// last released; nil when none is free.
    static func pick<Owners: BidirectionalCollection>(owners: Owners, me: UInt) -> Owners.Index?
    where Owners.Element == UInt {
        owners.lastIndex(of: me) ?? (owners.isEmpty ? nil : owners.index(before: owners.endIndex))
    }

    /// Runs `body` with a buffer of at least `count` floats, reused across calls. A thread gets back
    /// the most recent buffer it used itself when there is one: with windows running concurrently
    /// (inference, fitness patches) the plain last-in-first-out list handed each thread the other's
    /// buffer as often as its own, whose lines then came from the other core's cache.
    static func with<R>(count: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        let me = UInt(pthread_self())
        let ws = free.withLock { list -> ColumnWorkspace? in
            pick(owners: list.lazy.map(\.owner), me: me).map { list.remove(at: $0) }
        } ?? ColumnWorkspace()
        ws.owner = me
        ws.reserve(count)
        defer { free.withLock { $0.append(ws) } }
        return body(ws.pointer)
    }
}

enum Conv3dKernel {
    /// Output rows per tile so that the column buffer stays within the budget.
    static func tileRows(_ g: ConvGeometry, budgetBytes: Int) -> Int {
        let perRow = g.columnRows * g.ow * MemoryLayout<Float>.stride
        let maxRows = max(1, budgetBytes / max(1, perRow))
        let tiles = (g.outRows + maxRows - 1) / maxRows
        return (g.outRows + tiles - 1) / tiles
    }

    /// Valid output x range for kernel column offset `shift` (= c - pw): input x = xo·sw + shift.
    @inline(__always)
    static func xRange(_ g: ConvGeometry, shift: Int) -> (Int, Int) {
        let lo = min(g.ow, max(0, ceilDiv(-shift, g.sw)))
        let hi = max(lo, min(g.ow, floorDiv(g.w - 1 - shift, g.sw) + 1))
        return (lo, hi)
    }

    /// Calls `body(zo, ya, yb, offset)` for each output z-plane segment of rows r0..<r1:
    /// output rows (zo, ya..<yb) start at column `offset` (in voxels) of the tile.
    @inline(__always)
    static func planeSegments(_ g: ConvGeometry, _ r0: Int, _ r1: Int, _ body: (Int, Int, Int, Int) -> Void) {
        var zo = r0 / g.oh
        while zo * g.oh < r1 {
            let ya = max(r0 - zo * g.oh, 0), yb = min(r1 - zo * g.oh, g.oh)
            body(zo, ya, yb, (zo * g.oh + ya - r0) * g.ow)
            zo += 1
        }
    }

    /// Fills cols[K × T] for output rows r0..<r1 of one sample (`x` points at the sample).
    /// With stride 1 in y and x, output and input rows have the same length, so the valid rows of a
    /// plane are one contiguous copy shifted by the kernel's x offset; the few wrapped edge values
    /// are zeroed afterwards. Other strides gather row by row.
    static func vol2col(_ x: UnsafePointer<Float>, _ g: ConvGeometry, rows r0: Int, _ r1: Int,
                        _ cols: UnsafeMutablePointer<Float>) {
        let t = (r1 - r0) * g.ow
        let hw = g.h * g.w, ow = g.ow
        let kvol = g.kernelVolume
        let contiguousRows = g.sh == 1 && g.sw == 1
        Compute.parallelFor(g.columnRows) { kk in
            let ci = kk / kvol, rem = kk - ci * kvol
            let a = rem / (g.kh * g.kw), b = (rem / g.kw) % g.kh, c = rem % g.kw
            let xc = x + ci * g.d * hw
            let shift = c - g.pw
            let (xlo, xhi) = xRange(g, shift: shift)
            let colRow = cols + kk * t
            planeSegments(g, r0, r1) { zo, ya, yb, offset in
                let dst = colRow + offset
                let zi = zo * g.sd - g.pd + a
                if zi < 0 || zi >= g.d {
                    for i in 0..<((yb - ya) * ow) { dst[i] = 0 }
                    return
                }
                // Valid output rows: yi = yo·sh - ph + b in 0..<h.
                let yv0 = min(yb, max(ya, ceilDiv(g.ph - b, g.sh)))
                let yv1 = max(yv0, min(yb, floorDiv(g.h - 1 + g.ph - b, g.sh) + 1))
                for i in 0..<((yv0 - ya) * ow) { dst[i] = 0 }
                let tail = dst + (yv1 - ya) * ow
                for i in 0..<((yb - yv1) * ow) { tail[i] = 0 }
                if yv1 == yv0 { return }
                let block = dst + (yv0 - ya) * ow
                let rows = yv1 - yv0
                if contiguousRows {
                    let end = rows * ow - (ow - xhi)
                    if end > xlo {
                        let src = xc + (zi * hw + (yv0 - g.ph + b) * g.w + shift + xlo)
                        (block + xlo).update(from: src, count: end - xlo)
                    }
                    for r in 0..<rows {
                        let row = block + r * ow
                        for i in 0..<xlo { row[i] = 0 }
                        for i in xhi..<ow { row[i] = 0 }
                    }
                } else {
                    let sw = g.sw
                    for r in 0..<rows {
                        let yi = (yv0 + r) * g.sh - g.ph + b
                        let src = xc + (zi * hw + yi * g.w)
                        let row = block + r * ow
                        for i in 0..<xlo { row[i] = 0 }
                        for xo in xlo..<xhi { row[xo] = src[xo &* sw &+ shift] }
                        for i in xhi..<ow { row[i] = 0 }
                    }
                }
            }
        }
    }

    /// Adds cols[K × T] (rows r0..<r1) back into dx of one sample (`dx` points at the sample).
    /// Uses `cols` as scratch: entries that map outside the input are zeroed so the stride-1 case
    /// can add whole planes contiguously.
    static func col2vol(_ cols: UnsafeMutablePointer<Float>, _ g: ConvGeometry, rows r0: Int, _ r1: Int,
                        _ dx: UnsafeMutablePointer<Float>) {
        let t = (r1 - r0) * g.ow
        let hw = g.h * g.w, ow = g.ow
        let contiguousRows = g.sh == 1 && g.sw == 1
        Compute.parallelFor(g.cin) { ci in
            let dxc = dx + ci * g.d * hw
            for a in 0..<g.kd {
                for b in 0..<g.kh {
                    for c in 0..<g.kw {
                        let kk = ((ci * g.kd + a) * g.kh + b) * g.kw + c
                        let shift = c - g.pw
                        let (xlo, xhi) = xRange(g, shift: shift)
                        let colRow = cols + kk * t
                        planeSegments(g, r0, r1) { zo, ya, yb, offset in
                            let zi = zo * g.sd - g.pd + a
                            if zi < 0 || zi >= g.d { return }
                            let yv0 = min(yb, max(ya, ceilDiv(g.ph - b, g.sh)))
                            let yv1 = max(yv0, min(yb, floorDiv(g.h - 1 + g.ph - b, g.sh) + 1))
                            if yv1 == yv0 { return }
                            let block = colRow + offset + (yv0 - ya) * ow
                            let rows = yv1 - yv0
                            if contiguousRows {
                                for r in 0..<rows {
                                    let row = block + r * ow
                                    for i in 0..<xlo { row[i] = 0 }
                                    for i in xhi..<ow { row[i] = 0 }
                                }
                                let end = rows * ow - (ow - xhi)
                                if end > xlo {
                                    let d = dxc + (zi * hw + (yv0 - g.ph + b) * g.w + shift + xlo)
                                    let s = block + xlo
                                    for i in 0..<(end - xlo) { d[i] += s[i] }
                                }
                            } else {
                                let sw = g.sw
                                for r in 0..<rows {
                                    let yi = (yv0 + r) * g.sh - g.ph + b
                                    let row = dxc + (zi * hw + yi * g.w)
                                    let src = block + r * ow
                                    for xo in xlo..<xhi { row[xo &* sw &+ shift] += src[xo] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    static func forward(x: Tensor, weight: Tensor, bias: Tensor?, stride: Stride3D,
                        budgetBytes: Int = Conv3dEngine.columnBudgetBytes,
                        planeShift: Bool = Conv3dEngine.usePlaneShift,
                        direct: Bool = Conv3dEngine.useDirect) -> Tensor {
        let g = ConvGeometry(input: x.shape, weight: weight.shape, stride: stride)
        if let bias {
            precondition(bias.count == g.cout, "conv3d: bias has \(bias.count) values, weight \(weight.shape) has \(g.cout) outputs")
        }
        var y = Tensor(uninitialized: g.outputShape)
        let k = g.columnRows, ov = g.outVoxels
        let slabBytes = min(budgetBytes, Conv3dEngine.callSlabBudgetBytes)
        if direct && Conv3dDirectKernel.applies(g) {
            x.withUnsafePointer { xp in y.withUnsafeMutablePointer { yp in
                if let bias {
                    bias.withUnsafePointer { bp in Conv3dDirectKernel.forward(xp, weight, bias: bp, yp, g, budgetBytes: slabBytes) }
                } else {
                    Conv3dDirectKernel.forward(xp, weight, bias: nil, yp, g, budgetBytes: slabBytes)
                }
            } }
            return y
        }
        if direct && Conv3dPointwiseKernel.applies(g) {
            x.withUnsafePointer { xp in weight.withUnsafePointer { wp in y.withUnsafeMutablePointer { yp in
                if let bias {
                    bias.withUnsafePointer { bp in Conv3dPointwiseKernel.forward(xp, wp, bias: bp, yp, g) }
                } else {
                    Conv3dPointwiseKernel.forward(xp, wp, bias: nil, yp, g)
                }
            } } }
            return y
        }
        x.withUnsafePointer { xp in weight.withUnsafePointer { wp in y.withUnsafeMutablePointer { yp in
            if g.isPointwise {
                for s in 0..<g.n {
                    BLAS.sgemm(transA: false, transB: false, m: g.cout, n: ov, k: g.cin,
                               a: wp, lda: g.cin, b: xp + s * g.cin * g.inVoxels, ldb: ov,
                               c: yp + s * g.cout * ov, ldc: ov)
                }
            } else if planeShift && Conv3dPlaneKernel.applies(g) {
                Conv3dPlaneKernel.forward(xp, wp, yp, g, budgetBytes: budgetBytes)
            } else {
                let rowsPerTile = tileRows(g, budgetBytes: budgetBytes)
                ColumnWorkspace.with(count: k * rowsPerTile * g.ow) { cols in
                    for s in 0..<g.n {
                        let xs = xp + s * g.cin * g.inVoxels, ys = yp + s * g.cout * ov
                        var r0 = 0
                        while r0 < g.outRows {
                            let r1 = min(g.outRows, r0 + rowsPerTile)
                            let t = (r1 - r0) * g.ow
                            vol2col(xs, g, rows: r0, r1, cols)
                            BLAS.sgemm(transA: false, transB: false, m: g.cout, n: t, k: k,
                                       a: wp, lda: k, b: cols, ldb: t, c: ys + r0 * g.ow, ldc: ov)
                            r0 = r1
                        }
                    }
                }
            }
            if let bias {
                bias.withUnsafePointer { bp in
                    Compute.parallelFor(g.n * g.cout) { j in
                        let v = bp[j % g.cout], row = yp + j * ov
                        for i in 0..<ov { row[i] += v }
                    }
                }
            }
        } } }
        return y
    }

    struct Gradients {
        var input: Tensor?
        var weight: Tensor?
        var bias: Tensor?
    }

    static func backward(x: Tensor, weight: Tensor, gradOutput dy: Tensor, stride: Stride3D,
                         needInput: Bool, needWeight: Bool, needBias: Bool,
                         budgetBytes: Int = Conv3dEngine.columnBudgetBytes,
                         planeShift: Bool = Conv3dEngine.usePlaneShift,
                         direct: Bool = Conv3dEngine.useDirect) -> Gradients {
        let g = ConvGeometry(input: x.shape, weight: weight.shape, stride: stride)
        precondition(dy.shape == g.outputShape, "conv3d backward: gradient shape \(dy.shape) vs output \(g.outputShape)")
        var out = Gradients()
        let k = g.columnRows, ov = g.outVoxels
        let useDirect = direct && Conv3dDirectKernel.applies(g)
        let usePointwise = direct && Conv3dPointwiseKernel.applies(g)
        // The direct kernels compute dW for every stride and dX for stride 1, the pointwise kernels
        // both for the 1x1x1 conv; the GEMM paths do the rest.
        let directInput = needInput && (usePointwise || useDirect && Conv3dDirectKernel.handlesInputGradient(g))
        let directWeight = (useDirect || usePointwise) && needWeight
        let gemmInput = needInput && !directInput, gemmWeight = needWeight && !directWeight
        // The direct path writes every dX value; the others accumulate into it.
        var dx = needInput ? (directInput ? Tensor(uninitialized: x.shape) : Tensor.zeros(x.shape)) : Tensor(uninitialized: [0])
        var dw = needWeight ? Tensor.zeros(weight.shape) : Tensor(uninitialized: [0])
        x.withUnsafePointer { xp in weight.withUnsafePointer { wp in dy.withUnsafePointer { dyp in
        dx.withUnsafeMutablePointer { dxp in dw.withUnsafeMutablePointer { dwp in
            if usePointwise {
                Conv3dPointwiseKernel.backward(xp, wp, dyp, g, dx: directInput ? dxp : nil, dw: directWeight ? dwp : nil)
            } else if directInput || directWeight {
                Conv3dDirectKernel.backward(xp, wp, dyp, g, dx: directInput ? dxp : nil, dw: directWeight ? dwp : nil,
                                            budgetBytes: min(budgetBytes, Conv3dEngine.callSlabBudgetBytes))
            }
            let needInput = gemmInput, needWeight = gemmWeight
            if g.isPointwise {
                for s in 0..<g.n {
                    let xs = xp + s * g.cin * g.inVoxels, dys = dyp + s * g.cout * ov
                    if needWeight {
                        OpProfile.measure(.convWeightGrad) {
                            BLAS.sgemm(transA: false, transB: true, m: g.cout, n: g.cin, k: ov,
                                       a: dys, lda: ov, b: xs, ldb: ov, beta: 1, c: dwp, ldc: g.cin)
                        }
                    }
                    if needInput {
                        BLAS.sgemm(transA: true, transB: false, m: g.cin, n: ov, k: g.cout,
                                   a: wp, lda: g.cin, b: dys, ldb: ov, c: dxp + s * g.cin * g.inVoxels, ldc: ov)
                    }
                }
            } else if planeShift && Conv3dPlaneKernel.applies(g) && (needWeight || needInput) {
                Conv3dPlaneKernel.backward(xp, wp, dyp, g, dx: needInput ? dxp : nil, dw: needWeight ? dwp : nil,
                                           budgetBytes: budgetBytes)
            } else if needWeight || needInput {
                let rowsPerTile = tileRows(g, budgetBytes: budgetBytes)
                ColumnWorkspace.with(count: k * rowsPerTile * g.ow) { cols in
                    for s in 0..<g.n {
                        let xs = xp + s * g.cin * g.inVoxels, dys = dyp + s * g.cout * ov
                        var r0 = 0
                        while r0 < g.outRows {
                            let r1 = min(g.outRows, r0 + rowsPerTile)
                            let t = (r1 - r0) * g.ow
                            if needWeight {
                                OpProfile.measure(.convWeightGrad) {
                                    vol2col(xs, g, rows: r0, r1, cols)
                                    BLAS.sgemm(transA: false, transB: true, m: g.cout, n: k, k: t,
                                               a: dys + r0 * g.ow, lda: ov, b: cols, ldb: t, beta: 1, c: dwp, ldc: k)
                                }
                            }
                            if needInput {
                                BLAS.sgemm(transA: true, transB: false, m: k, n: t, k: g.cout,
                                           a: wp, lda: k, b: dys + r0 * g.ow, ldb: ov, c: cols, ldc: t)
                                col2vol(cols, g, rows: r0, r1, dxp + s * g.cin * g.inVoxels)
                            }
                            r0 = r1
                        }
                    }
                }
            }
        } } } } }
        if needInput { out.input = dx }
        if needWeight { out.weight = dw }
        if needBias { out.bias = OpProfile.measure(.convWeightGrad) { channelSums(dy, channels: g.cout) } }
        return out
    }

    /// Σ over batch and voxels per channel of an N,C,… tensor (Double accumulation, fixed order).
    static func channelSums(_ t: Tensor, channels c: Int) -> Tensor {
        let n = t.shape[0], v = t.count / (n * c)
        var sums = [Double](repeating: 0, count: n * c)
        t.withUnsafePointer { p in
            sums.withUnsafeMutableBufferPointer { sp in
                let base = sp.baseAddress!
                Compute.parallelFor(n * c) { j in base[j] = Kernels.serialSum(p + j * v, count: v) }
            }
        }
        return Tensor(shape: [c]) { ch in Float((0..<n).reduce(0.0) { $0 + sums[$1 * c + ch] }) }
    }
}
