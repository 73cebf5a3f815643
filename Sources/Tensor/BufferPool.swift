// Reuse of large tensor buffers between training steps.
//
// A training step allocates the same buffers (activations, gradients, workspaces) in the same sizes
// every step. From the allocator each large buffer comes back as fresh pages: a page fault and a
// cleared page per 4 KiB, several percent of a step (measured with perf on the Zen 5 host: page
// faults, clearing and scheduling 8 %). The pool keeps released buffers of at least `minimumBytes`
// by exact element count and hands them out again.
//
// Bound: pooled buffers live plus idle stay within `slack` × the largest amount of pooled memory
// that was ever live at once (plus one buffer). A miss evicts idle buffers, least recently released
// first, until the new buffer fits under that bound. Without slack (1.0) a step's exact-size
// requests kept missing (a buffer of one size was evicted to pay for another that a later op of the
// same step asked for: 12 000 page faults per step at 48³, 2 threads); 1.5 lets the pool hold one
// step's mix of sizes. When the sizes change (another network in a search) the old buffers are
// evicted as the new ones are asked for.
//
// glibc's malloc raises its mmap threshold each time a large mmapped block is freed (up to 32 MiB),
// after which large blocks come from the heap, where freed memory stays resident unless it is at the
// top: with the varying sizes of a search (a different network every supernet step) the RSS grew to
// several times the live memory. The threshold is therefore fixed at `minimumBytes`: every large
// buffer is its own mapping, returned to the system when evicted, and the pool is what keeps them.
//
// Buffers of 2 MiB and more are mapped by `LargePages` (2 MiB-aligned, advised as huge pages) instead
// of malloc; the pool keeps and evicts them the same way.
//
// The buffers below `minimumBytes` (packed weights, small gradients, per-call scratch) come from the
// heap, and glibc gave its top back to the system whenever 128 KiB of it were free (the trim threshold,
// no longer adjusted once the mmap threshold is set): the next step faulted the same pages back in,
// 500-800 minor faults per 2-thread step with no pool miss. The heap keeps up to `heapTrimBytes` free.

import COpenBLAS
import Foundation
import Synchronization

public enum BufferPool {
    /// Buffers smaller than this go straight to the allocator (its small bins do not fault).
    public static let minimumBytes = 256 << 10
    static let alignment = 64
    /// Free memory at the heap's top that glibc keeps instead of returning it (and faulting it back).
    public static let heapTrimBytes = 32 << 20

    private static let state: Mutex<BufferPoolState> = {
        _ = mallopt(M_MMAP_THRESHOLD, Int32(minimumBytes))   // also turns off the dynamic threshold
        _ = mallopt(M_TRIM_THRESHOLD, Int32(heapTrimBytes))
        return Mutex(BufferPoolState())
    }()

    /// A buffer of `bytes` bytes, 64-byte aligned, contents unspecified.
    static func allocate(bytes: Int, planes: Int = 0) -> UnsafeMutableRawPointer {
        if bytes < minimumBytes {
            return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: alignment)
        }
        return OpProfile.measure(.allocation) {
            let (reused, evicted) = state.withLock { $0.take(bytes: bytes, planes: planes) }
            for e in evicted { free(UnsafeMutableRawPointer(bitPattern: e.address)!, bytes: e.bytes) }
            if let reused { return UnsafeMutableRawPointer(bitPattern: reused)! }
            return LargePages.allocateBuffer(bytes: bytes, alignment: alignment)
        }
    }

    /// Gives a pooled-size buffer back to the system.
    private static func free(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        LargePages.freeBuffer(pointer, bytes: bytes)
    }

    /// Returns a buffer obtained from `allocate(bytes:)`.
    static func release(_ pointer: UnsafeMutableRawPointer, bytes: Int, planes: Int = 0) {
        if bytes < minimumBytes { pointer.deallocate(); return }
        let address = UInt(bitPattern: pointer)
        if !state.withLock({ $0.put(address: address, bytes: bytes, planes: planes) }) { free(pointer, bytes: bytes) }
    }

    /// Reuses that gave a buffer to a tensor of other planes than its last one (each core's z-half
    /// then lies at other addresses), since the start.
    public static var layoutChanges: Int { state.withLock { $0.layoutChanges } }

    /// Bytes held idle in the pool.
    public static var idleBytes: Int { state.withLock { $0.idleBytes } }

    /// (hits, misses) of large allocations since the start.
    public static var counts: (hits: Int, misses: Int) { state.withLock { ($0.hits, $0.misses) } }

    /// Frees every idle buffer (e.g. before a phase that needs a different memory shape).
    public static func drain() {
        for e in state.withLock({ $0.takeAll() }) { free(UnsafeMutableRawPointer(bitPattern: e.address)!, bytes: e.bytes) }
    }

    /// Turns pooling on or off (off: released buffers go back to the allocator; for A/B runs).
    public static func setEnabled(_ on: Bool) {
        state.withLock { $0.enabled = on }
        if !on { drain() }
    }
}

/// The pool's bookkeeping, apart from the memory itself (addresses are integers, so it is Sendable
/// and testable on its own).
struct BufferPoolState: Sendable {
    /// A buffer to give back to the system.
    struct Block: Equatable, Sendable {
        var address: UInt
        var bytes: Int
    }

    struct Entry: Sendable {
        var address: UInt
        var bytes: Int
        var released: UInt64
        var planes = 0
    }

    private(set) var free: [Int: [Entry]] = [:]     // by byte count
    private(set) var idleBytes = 0
    private var clock: UInt64 = 0
    private(set) var hits = 0, misses = 0, layoutChanges = 0
    /// Prefer an idle buffer last used by a tensor of the same planes (C2FNAS_POOL_BY_LAYOUT=0: the
    /// last released of the size, for A/B runs).
    static let byLayout = ProcessInfo.processInfo.environment["C2FNAS_POOL_BY_LAYOUT"] != "0"
    /// Bytes of pooled-size buffers handed out and not yet released, and the most there ever were.
    private(set) var liveBytes = 0, peakLiveBytes = 0
    var enabled = true
    /// Idle + live may reach this multiple of the live peak before a miss evicts.
    var slack = Double(ProcessInfo.processInfo.environment["C2FNAS_POOL_SLACK"] ?? "") ?? 1.5

    /// An idle buffer of exactly `bytes`, or nil and the idle buffers to free (least recently
    /// released first, at least `bytes` of them when there are) to pay for a new one.
    mutating func take(bytes: Int, planes: Int = 0) -> (reuse: UInt?, evict: [Block]) {
        liveBytes += bytes
        peakLiveBytes = max(peakLiveBytes, liveBytes)
        if var list = free[bytes], !list.isEmpty {
            let i = (Self.byLayout ? list.lastIndex(where: { $0.planes == planes }) : nil) ?? list.count - 1
            let e = list.remove(at: i)
            free[bytes] = list.isEmpty ? nil : list
            idleBytes -= bytes
            hits += 1
            if e.planes != planes { layoutChanges += 1 }
            return (e.address, [])
        }
        misses += 1
        var evicted: [Block] = []
        let bound = Int(slack * Double(peakLiveBytes))
        while idleBytes + liveBytes > bound, let (key, index) = oldest() {
            let e = free[key]!.remove(at: index)
            if free[key]!.isEmpty { free[key] = nil }
            idleBytes -= e.bytes
            evicted.append(Block(address: e.address, bytes: e.bytes))
        }
        return (nil, evicted)
    }

    /// Keeps a released buffer; false when pooling is off (the caller frees it).
    mutating func put(address: UInt, bytes: Int, planes: Int = 0) -> Bool {
        liveBytes -= bytes
        guard enabled else { return false }
        clock &+= 1
        free[bytes, default: []].append(Entry(address: address, bytes: bytes, released: clock, planes: planes))
        idleBytes += bytes
        return true
    }

    /// Empties the pool; returns the buffers to free.
    mutating func takeAll() -> [Block] {
        let all = free.values.flatMap { $0.map { Block(address: $0.address, bytes: $0.bytes) } }
        free = [:]
        idleBytes = 0
        return all
    }

    private func oldest() -> (Int, Int)? {
        var best: (Int, Int)?
        var stamp = UInt64.max
        for (key, list) in free {
            for (i, e) in list.enumerated() where e.released < stamp { stamp = e.released; best = (key, i) }
        }
        return best
    }
}
