// A fixed pool of worker Threads for coarse data-parallel loops, and the process-wide thread setting.
//
// Heavy numeric work must not run on the Swift cooperative pool (it would starve UI tasks), so the
// pool owns plain `Thread`s that sleep on a condition variable between jobs. A job is one
// fork/join: `run(n) { i in ... }` calls the body for every i in 0..<n exactly once; the caller
// thread takes part. Items are claimed dynamically (good on noisy cores), the caller's from the
// front and the workers' from the back (each core keeps one end of the volume); results stay
// deterministic as long as each item's work and the order in which callers combine per-item
// results do not depend on which thread ran it.
//
// `Compute.setThreads(n)` sets both this pool and OpenBLAS to n threads. Pool loops and BLAS calls
// never overlap (ops call one or the other), so the machine is never oversubscribed. With one
// thread every loop runs inline on the caller: no locks, no wake-ups.

import CThreadAffinity
import Foundation
import Synchronization

public final class ThreadPool: @unchecked Sendable {
    /// Threads that execute a job, counting the caller.
    public let threadCount: Int

    // Fork/join without a lock on the common path: the caller writes the job, then bumps
    // `publishedGeneration`; a polling worker sees it, reads the job and claims items; each worker
    // decrements `runningWorkers` when done and the caller polls it to zero. The mutex and condition
    // variable are only for sleeping (a thread that polled `spinNanos` in vain): whoever would wake
    // a sleeper checks a sleeping count or flag after its own store, both sequentially consistent,
    // so either the sleeper sees the store before it waits or the waker sees the sleeper. The
    // lock-based handshake it replaces passed the mutex's cache line between the cores about seven
    // times per fork/join: 0.4-0.5 µs with the vCPUs close, 1.5-1.6 µs far apart (DECISIONS.md).
    private let cond = NSCondition()        // sleeping and waking only
    private var job: ((Int, Int) -> Void)?  // (item, slot); written before a job is published, cleared after the join
    private var jobCount = 0
    private let nextItem = Atomic<Int>(0)
    private let callerLock = NSLock()       // one job at a time; a second caller runs inline
    /// Set by `shutdown` under `callerLock`: later calls run inline.
    private var closed = false
    private let publishedGeneration = Atomic<UInt64>(0)
    private let runningWorkers = Atomic<Int>(0)
    private let sleepingWorkers = Atomic<Int>(0)
    private let callerSleeping = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    /// How long an idle thread polls before it sleeps. The ops of a step follow each other within
    /// microseconds, and waking a sleeping vCPU (futex, IPI, the host's halt exit) costs more than
    /// the many small jobs of a step; 0 turns polling off.
    public static let spinNanos: UInt64 = {
        if let s = ProcessInfo.processInfo.environment["C2FNAS_POOL_SPIN_US"], let us = UInt64(s) { return us * 1000 }
        return 100_000
    }()
    /// Jobs handed to the workers since the start (all pools), for fork/join counts per step.
    static let dispatches = Atomic<Int>(0)

    /// `coresFarApart`'s last probe (uptime ns, 0 before the first) and its finding.
    private let lastProbeNanos = Atomic<UInt64>(0)
    private let farApart = Atomic<Bool>(false)

    /// The process's CPUs when the pool pins its workers (worker i on cpus[i], cpus[0] for callers).
    private let pinnedCPUs: [Int32]?

    public init(threads: Int) {
        threadCount = max(1, threads)
        finishNanos = .allocate(capacity: threadCount)
        finishNanos.initialize(repeating: 0, count: threadCount)
        let cpus = Self.workerCPUs(threads: threadCount)
        pinnedCPUs = cpus.map { $0.map(Int32.init) }
        for i in 1..<threadCount {
            let cpu = cpus.map { $0[i] }
            let t = Thread { [self] in
                if let cpu { Self.pinCurrentThread(to: cpu) }
                workerLoop(slot: i)
            }
            t.name = "c2fnas.compute.\(i)"
            t.stackSize = 1 << 20
            t.start()
        }
    }

    deinit {
        // Safe: each worker's Thread closure holds `self` strongly, so this runs only after every worker left `workerLoop`.
        finishNanos.deinitialize(count: threadCount)
        finishNanos.deallocate()
    }

    /// CPUs for the workers: worker i gets the i-th CPU this process may run on, leaving the first
    /// to the caller. Without pinning, Linux often ran the caller and a worker on one CPU and left
    /// them there: `bench conv` at 2 threads then ran whole processes at the 1-thread speed (16->16
    /// 3x3x3 32³ forward, median of 30: 3.0 ms in four processes of six, 1.9 ms in the others; pinned
    /// workers alone still gave 3.0 in three of six; with the caller moved too, 1.93-2.03 in six of
    /// six). Pinning applies only when the process may run on exactly as many CPUs as the pool has
    /// threads (a 2-core VM, a Slurm task's cpuset): two processes that share a larger machine must
    /// not crowd onto its first CPUs. Nil when it does not apply or C2FNAS_POOL_PIN=0.
    static func workerCPUs(threads: Int) -> [Int]? {
        if ProcessInfo.processInfo.environment["C2FNAS_POOL_PIN"] == "0" || threads < 2 { return nil }
        let allowed = allowedCPUs()
        return allowed.count == threads ? allowed : nil
    }

    /// The CPUs the calling thread may run on (its affinity mask; a Slurm task's cpuset).
    static func allowedCPUs() -> [Int] {
        var cpus = [Int32](repeating: 0, count: 1024)
        let n = Int(c2f_allowed_cpus(&cpus, Int32(cpus.count)))
        return cpus.prefix(n).map(Int.init)
    }

    static func pinCurrentThread(to cpu: Int) { _ = c2f_pin_current_thread(Int32(cpu)) }

    /// Stops the workers once idle; the pool then runs everything inline. Waits for a job that is
    /// running to finish (no job is then in flight, so a worker that sees `stopping` may exit).
    /// Never call it from inside a body passed to `run` on this pool (nor `Compute.setThreads`,
    /// which shuts the replaced pool down): it waits for `callerLock`, which the job holds until
    /// all its items are done, and that lock is not recursive, so the call deadlocks.
    public func shutdown() {
        callerLock.lock()
        closed = true
        stopping.store(true, ordering: .sequentiallyConsistent)
        cond.lock()
        cond.broadcast()
        cond.unlock()
        callerLock.unlock()
    }

    /// Polls `condition` for up to `spinNanos` (the caller then takes the lock and checks again).
    @inline(__always)
    private static func poll(_ condition: () -> Bool) {
        if spinNanos == 0 { return }
        let start = DispatchTime.now().uptimeNanoseconds
        while true {
            for _ in 0..<64 { if condition() { return } }
            if DispatchTime.now().uptimeNanoseconds &- start > spinNanos { return }
        }
    }

    private func workerLoop(slot: Int) {
        var seen: UInt64 = 0
        while true {
            Self.poll { publishedGeneration.load(ordering: .acquiring) != seen || stopping.load(ordering: .relaxed) }
            var generation = publishedGeneration.load(ordering: .acquiring)
            if generation == seen {
                if stopping.load(ordering: .acquiring) { return }
                cond.lock()
                sleepingWorkers.add(1, ordering: .sequentiallyConsistent)
                while true {
                    generation = publishedGeneration.load(ordering: .sequentiallyConsistent)
                    if generation != seen || stopping.load(ordering: .sequentiallyConsistent) { break }
                    cond.wait()
                }
                sleepingWorkers.subtract(1, ordering: .sequentiallyConsistent)
                cond.unlock()
                if generation == seen { return }   // stopped, no job pending
            }
            seen = generation
            runCurrentJob(slot: slot)
            if runningWorkers.subtract(1, ordering: .sequentiallyConsistent).newValue == 0
                && callerSleeping.load(ordering: .sequentiallyConsistent) {
                cond.lock()
                cond.broadcast()
                cond.unlock()
            }
        }
    }

    /// Takes part in the current job. The closure reference is dropped on return, before the
    /// worker reports completion (the caller checks that the non-escaping body did not escape).
    @inline(never)
    private func runCurrentJob(slot: Int) {
        let body = job!   // written before the generation this worker acquired
        let n = jobCount
        if OpProfile.isEnabled {
            let t0 = DispatchTime.now().uptimeNanoseconds
            drain(body, n, slot: slot)
            let t1 = DispatchTime.now().uptimeNanoseconds
            Self.workerBusyNanos.add(t1 &- t0, ordering: .relaxed)
            finishNanos[slot] = t1
        } else {
            drain(body, n, slot: slot)
        }
    }

    /// Time the workers (not the caller) spent in items while profiling was on, summed over workers.
    static let workerBusyNanos = Atomic<UInt64>(0)
    /// When each worker (by slot) left the current job's items, while profiling. No lock orders it:
    /// a worker writes its slot before its sequentially consistent (so releasing) decrement of
    /// `runningWorkers`, and the caller reads the slots only after it loaded `runningWorkers == 0`
    /// with acquiring (or sequentially consistent) ordering at the join, so it sees every worker's
    /// write; a worker writes again only after acquiring the next job's generation, which the caller
    /// publishes after these reads. (Raw memory: workers write their own slots at once, which a
    /// Swift array's access checks forbid.) Freed in `deinit`.
    private let finishNanos: UnsafeMutablePointer<UInt64>

    /// Whether items are claimed from both ends (C2FNAS_POOL_TWO_ENDED=0 turns it off, for A/B runs).
    public static let claimsFromBothEnds = ProcessInfo.processInfo.environment["C2FNAS_POOL_TWO_ENDED"] != "0"

    /// Claims and runs items until none is left. The caller (slot 0) takes items from the front,
    /// the workers from the back: the loops list their items along z (runs of planes, voxel ranges,
    /// chunks of every plane), so each core keeps the same end of the volume from op to op and reads
    /// mostly what it wrote itself, while the meeting point still moves with the cores' speeds.
    /// With the vCPUs far apart on the host, data written by one core and read by the other crossed
    /// the host's fabric at 39-42 GB/s against 93-107 from the core's own cache (DECISIONS.md
    /// 2026-12-07). One word holds both counts (front in the low half, back in the high half): an
    /// item exists while front + back < n, so the two ends never hand out the same item.
    private func drain(_ body: (Int, Int) -> Void, _ n: Int, slot: Int) {
        if !Self.claimsFromBothEnds {
            while true {
                let i = nextItem.add(1, ordering: .relaxed).oldValue
                if i >= n { return }
                body(i, slot)
            }
        }
        let fromBack = slot != 0
        let step = fromBack ? 1 << 32 : 1
        while true {
            let old = nextItem.add(step, ordering: .relaxed).oldValue
            let front = old & 0xFFFF_FFFF, back = old >> 32
            if front + back >= n { return }
            body(fromBack ? n - 1 - back : front, slot)
        }
    }

    /// Calls `body(i)` for every i in 0..<n, spread over the pool; returns when all are done.
    /// Nested or concurrent calls run inline on the calling thread. `body` must not call `shutdown`
    /// on this pool nor `Compute.setThreads` (see `run(_:slotted:)`).
    public func run(_ n: Int, file: StaticString = #fileID, line: UInt = #line, _ body: (Int) -> Void) {
        run(n, file: file, line: line, slotted: { i, _ in body(i) })
    }

    /// Calls `body(i, slot)` for every i in 0..<n. `slot` (0..<threadCount) names the thread that runs
    /// the item: no two items run at once with the same slot, so a slot can index per-thread scratch
    /// that stays in its core's cache from item to item. Inline runs (one thread, one item, a nested
    /// or concurrent call) use slot 0 throughout, so the scratch must belong to this call.
    ///
    /// `body` must not call `shutdown` on this pool, nor `Compute.setThreads` while this is the
    /// `Compute` pool (it shuts the replaced pool down): the job holds `callerLock` until every
    /// item is done, `shutdown` waits for it, and the lock is not recursive, so the call deadlocks
    /// (on the caller's thread as on a worker's, whose item then never finishes).
    public func run(_ n: Int, file: StaticString = #fileID, line: UInt = #line, slotted body: (Int, Int) -> Void) {
        if n <= 0 { return }
        precondition(n + threadCount < 1 << 31, "ThreadPool.run: \(n) items (fewer than 2³¹ − threads)")
        if threadCount == 1 || n == 1 || !callerLock.try() {
            // A single item on a multi-thread pool leaves the workers idle: profiled per site.
            if threadCount > 1 && n == 1 && OpProfile.isEnabled {
                let t0 = DispatchTime.now().uptimeNanoseconds
                body(0, 0)
                OpProfile.recordInline(file: file, line: line, nanos: DispatchTime.now().uptimeNanoseconds &- t0)
                return
            }
            for i in 0..<n { body(i, 0) }
            return
        }
        defer { callerLock.unlock() }
        if closed {   // shut down (a pool replaced by `Compute.setThreads`)
            for i in 0..<n { body(i, 0) }
            return
        }
        // A caller that runs on a worker's CPU would share it with that worker for the whole job:
        // it moves to the callers' CPU for the job (two syscalls, only in that case).
        var moved = false
        if let cpus = pinnedCPUs {
            let now = c2f_current_cpu()
            if now != cpus[0] && cpus.contains(now) { moved = c2f_pin_current_thread(cpus[0]) == 0 }
        }
        defer { if moved, let cpus = pinnedCPUs { _ = c2f_set_current_thread_cpus(cpus, Int32(cpus.count)) } }
        withoutActuallyEscaping(body) { escapable in
            job = escapable
            jobCount = n
            ThreadPool.dispatches.add(1, ordering: .relaxed)
            nextItem.store(0, ordering: .relaxed)
            runningWorkers.store(threadCount - 1, ordering: .relaxed)
            // Publishes the stores above (release) and orders it before the sleeper check.
            publishedGeneration.add(1, ordering: .sequentiallyConsistent)
            if sleepingWorkers.load(ordering: .sequentiallyConsistent) > 0 {
                cond.lock()
                cond.broadcast()
                cond.unlock()
            }
            let profiled = OpProfile.isEnabled
            let t0 = profiled ? DispatchTime.now().uptimeNanoseconds : 0
            drain(escapable, n, slot: 0)
            let t1 = profiled ? DispatchTime.now().uptimeNanoseconds : 0
            Self.poll { runningWorkers.load(ordering: .acquiring) == 0 }
            if runningWorkers.load(ordering: .acquiring) != 0 {
                cond.lock()
                callerSleeping.store(true, ordering: .sequentiallyConsistent)
                while runningWorkers.load(ordering: .sequentiallyConsistent) != 0 { cond.wait() }
                callerSleeping.store(false, ordering: .relaxed)
                cond.unlock()
            }
            if profiled {
                // Workers that left before the caller idled until it was done (the loop's tail).
                var tail: UInt64 = 0
                for w in 1..<threadCount where finishNanos[w] < t1 { tail &+= t1 &- finishNanos[w] }
                OpProfile.recordJoin(file: file, line: line, items: n, workNanos: t1 &- t0,
                                     waitNanos: DispatchTime.now().uptimeNanoseconds &- t1,
                                     tailNanos: tail / UInt64(max(1, threadCount - 1)))
            }
            job = nil
        }
    }
}

extension ThreadPool {
    /// Round trip of a cache line between the caller's core and a worker's (ping-pong on one atomic,
    /// timed from the first exchange, so not counting the worker's wake-up; median of `runs` runs of
    /// `rounds`), in nanoseconds; nil with one thread or when no worker joined within `patienceNanos`.
    /// It tells how the host placed the vCPUs: on this machine kind it
    /// read 70-110 ns while a 2-thread step took 77 ms and about 300 ns while the same step took
    /// 105 ms (the cores then share no cache: every plane one core wrote and the other reads crosses
    /// the host's fabric).
    public func coreRoundTripNanos(rounds: Int = 20_000, runs count: Int = 5, patienceNanos: UInt64 = 50_000_000) -> Double? {
        guard threadCount > 1, rounds > 0 else { return nil }
        var runs: [Double] = []
        for _ in 0..<max(1, count) {
            let flag = Atomic<Int>(0), failed = Atomic<Bool>(false), elapsed = Atomic<UInt64>(0)
            run(2) { i in
                let start = DispatchTime.now().uptimeNanoseconds
                // Waits until `flag` is `value`; false after `patienceNanos` (the partner never came).
                func await(_ value: Int) -> Bool {
                    var spins = 0
                    while flag.load(ordering: .acquiring) != value {
                        spins &+= 1
                        if spins & 1023 == 0 && (failed.load(ordering: .relaxed)
                            || DispatchTime.now().uptimeNanoseconds &- start > patienceNanos) {
                            failed.store(true, ordering: .relaxed)
                            return false
                        }
                    }
                    return true
                }
                // Round 0 is the handshake (the partner may still be waking up); rounds 1...rounds are timed.
                if i == 0 {
                    flag.store(1, ordering: .releasing)
                    if !await(2) { return }
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    for r in 1...rounds {
                        flag.store(2 * r + 1, ordering: .releasing)
                        if !await(2 * r + 2) { return }
                    }
                    elapsed.store(DispatchTime.now().uptimeNanoseconds &- t0, ordering: .relaxed)
                } else {
                    for r in 0...rounds {
                        if !await(2 * r + 1) { return }
                        flag.store(2 * r + 2, ordering: .releasing)
                    }
                }
            }
            if failed.load(ordering: .relaxed) { return nil }
            runs.append(Double(elapsed.load(ordering: .relaxed)) / Double(rounds))
        }
        runs.sort()
        return runs[runs.count / 2]
    }

    /// Whether the host had placed the caller's core and a worker's far apart (a cache-line round
    /// trip over 200 ns; 58-120 close, 300-1071 far on this machine kind) at the last probe, re-probed
    /// at most every 2 s (3 × 256 round trips: about 0.1 ms close, 0.3-0.8 ms far; the placement
    /// changed every few minutes). For schedules that give the same values either way: far apart, a
    /// core should read what it wrote; close, re-reading from a shared L3 costs more than it saves.
    /// False with one thread and before the first probe, or by C2FNAS_PLACEMENT=close;
    /// C2FNAS_PLACEMENT=far forces true. While the pool is busy (the probe would run inline) it
    /// keeps the last finding and probes on a later call; one caller probes at a time.
    public func coresFarApart() -> Bool {
        guard threadCount > 1 else { return false }
        switch Self.placementOverride {
        case "far": return true
        case "close": return false
        default: break
        }
        let now = DispatchTime.now().uptimeNanoseconds
        let last = lastProbeNanos.load(ordering: .relaxed)
        if last == 0 || now &- last > 2_000_000_000 {
            // Only when no other caller holds the pool (an inline probe would wait for a partner),
            // and only the caller that claims this probe's time.
            if callerLock.try() {
                callerLock.unlock()
                if lastProbeNanos.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged,
                   let ns = coreRoundTripNanos(rounds: 256, runs: 3, patienceNanos: 1_000_000) {
                    farApart.store(ns > Self.farApartNanos, ordering: .relaxed)
                }
            }
        }
        return farApart.load(ordering: .relaxed)
    }

    static let placementOverride = ProcessInfo.processInfo.environment["C2FNAS_PLACEMENT"] ?? "probe"

    /// A core round trip above this (ns) means the host placed the two cores far apart (no shared
    /// cache): 58-138 close and 300-1071 far apart on this machine kind.
    public static let farApartNanos = 200.0
}

/// The process-wide compute setting: one pool sized to the cores, OpenBLAS at the same count.
public enum Compute {
    private static let shared = Mutex<ThreadPool>(Compute.makeInitialPool())

    private static func makeInitialPool() -> ThreadPool {
        let n = max(1, ProcessInfo.processInfo.activeProcessorCount)
        BLAS.setThreads(n)
        return ThreadPool(threads: n)
    }

    /// The current pool (sized by `setThreads`).
    public static var pool: ThreadPool { shared.withLock { $0 } }

    /// Threads used by pool loops and by OpenBLAS.
    public static var threads: Int { pool.threadCount }

    /// Milliseconds the pool's workers spent in items while `OpProfile` was recording, summed over
    /// the workers (their idle time is the rest: serial stretches of the caller and join waits).
    public static var workerBusyMs: Double { Double(ThreadPool.workerBusyNanos.load(ordering: .relaxed)) / 1e6 }

    /// Fork/joins that woke the workers since the process started (inline runs are not counted).
    public static var dispatchCount: Int { ThreadPool.dispatches.load(ordering: .relaxed) }

    /// Number of usable cores.
    public static var coreCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Sets the pool and OpenBLAS to `n` threads (1 = everything inline on the caller).
    /// Call between ops, not while another thread is computing. Never call it from inside a pool
    /// body (`parallelFor` and the like): shutting the old pool down waits for the running job's
    /// `callerLock`, which is not recursive, so it deadlocks.
    public static func setThreads(_ n: Int) {
        let n = max(1, n)
        let old: ThreadPool? = shared.withLock { pool in
            if pool.threadCount == n { return nil }
            let previous = pool
            pool = ThreadPool(threads: n)
            return previous
        }
        old?.shutdown()
        BLAS.setThreads(n)
    }

    /// Calls `body(i)` for i in 0..<n on the pool (one fork/join).
    @inlinable
    public static func parallelFor(_ n: Int, file: StaticString = #fileID, line: UInt = #line, _ body: (Int) -> Void) {
        pool.run(n, file: file, line: line, body)
    }

    /// Calls `body(i, slot)` for i in 0..<n on the pool; `slot` < `threads` is the running thread's
    /// index (see `ThreadPool.run`), for per-thread scratch.
    @inlinable
    public static func parallelFor(_ n: Int, file: StaticString = #fileID, line: UInt = #line,
                                   slotted body: (Int, Int) -> Void) {
        pool.run(n, file: file, line: line, slotted: body)
    }

    /// Splits 0..<count into fixed chunks of at least `grain` elements (the split depends only on
    /// `count` and `grain`, never on the thread count) and runs them on the pool.
    /// `body` gets (chunk index, range); the chunk count is `chunkCount(count:grain:)`.
    public static func parallelChunks(count: Int, grain: Int, file: StaticString = #fileID, line: UInt = #line,
                                      _ body: (Int, Range<Int>) -> Void) {
        let chunks = chunkCount(count: count, grain: grain)
        if chunks <= 1 {
            if count > 0 { body(0, 0..<count) }
            return
        }
        pool.run(chunks, file: file, line: line) { i in body(i, chunkRange(i, chunks: chunks, count: count)) }
    }

    /// `parallelChunks` for a map over `count` values laid out as `planes` equal planes (the N·C
    /// planes of an N, C, D, H, W tensor): with several threads, items take the same share of a run
    /// of planes, the first share of every plane listed before the second, so with the pool's
    /// claims from both ends each core maps the end of the volume the convs and norms around it
    /// leave in its cache (see `ThreadPool.drain`). Ranges are whole vectors of 16 except at a
    /// plane's end; maps only (the split depends on the thread count).
    public static func parallelAlongZ(count: Int, planes: Int, grain: Int, file: StaticString = #fileID,
                                      line: UInt = #line, _ body: (Range<Int>) -> Void) {
        let threads = Compute.threads
        let v = planes > 0 ? count / planes : 0
        guard threads > 1, planes > 1, v * planes == count, v >= 1024, count >= 2 * grain else {
            return parallelChunks(count: count, grain: grain, file: file, line: line) { _, r in body(r) }
        }
        let shares = threads
        let groups = max(1, min(planes, min(256, count / grain) / shares))
        pool.run(shares * groups, file: file, line: line) { i in
            let k = i / groups, gi = i % groups
            let lo = v * k / shares / 16 * 16, hi = k == shares - 1 ? v : v * (k + 1) / shares / 16 * 16
            for p in (planes * gi / groups)..<(planes * (gi + 1) / groups) { body((p * v + lo)..<(p * v + hi)) }
        }
    }

    /// How many chunks `parallelChunks` uses for `count` elements.
    public static func chunkCount(count: Int, grain: Int) -> Int {
        count <= 0 ? 0 : max(1, min(count / max(1, grain), 256))
    }

    /// The i-th of `chunks` near-equal ranges covering 0..<count.
    public static func chunkRange(_ i: Int, chunks: Int, count: Int) -> Range<Int> {
        (i * count / chunks)..<((i + 1) * count / chunks)
    }
}

/// Consecutive ranges covering 0..<count for a pool loop whose items are claimed in order (guided
/// self-scheduling): each range is a 1/(2·threads) share of what is left, at least `minimum`, so the
/// first ranges are long (few claims, neighbouring work on one core) and the last short, and a
/// thread that finishes early, or a core the host slows, leaves at most a short range behind
/// (from both ends toward the middle when the pool claims from both ends).
/// Equal splits into 2·threads items left one thread waiting 50 µs per 16->16 32³ Winograd call
/// (9 % of the call; DECISIONS.md 2026-12-07). With one thread: one range. The ranges depend only
/// on `count`, `threads`, `minimum`, `maximum` and `ThreadPool.claimsFromBothEnds`.
public struct GuidedSplit: Sendable {
    private let bounds: [Int]

    private static let guidedRanges = Atomic<Bool>(true)

    /// False splits into 2·threads equal ranges instead (the split before; for `bench step --ab-guided`).
    public static var isGuided: Bool {
        get { guidedRanges.load(ordering: .relaxed) }
        set { guidedRanges.store(newValue, ordering: .relaxed) }
    }

    /// `maximum` caps every range (a slab that must fit a core's cache); the ranges then start
    /// at `maximum` until the guided share falls below it. When the pool claims items from both
    /// ends (`ThreadPool.claimsFromBothEnds`, several threads), the split is symmetric: the front
    /// half's guided ranges, then the back half's mirrored, so both ends start long and the short
    /// ranges meet in the middle.
    public init(count: Int, threads: Int, minimum: Int = 1, maximum: Int = .max) {
        var b = [0]
        if count > 0 && threads > 1 && !Self.isGuided {
            let items = min(count, 2 * threads)
            for i in 1...items { b.append(count * i / items) }
        } else if count > 0 {
            func sizes(_ count: Int) -> [Int] {
                let share = 2 * max(1, threads), least = max(1, minimum)
                var out: [Int] = [], start = 0
                while start < count {
                    let left = count - start
                    let size = min(max(1, maximum), threads <= 1 ? left : min(left, max(least, (left + share - 1) / share)))
                    start += size
                    out.append(size)
                }
                return out
            }
            let front = threads > 1 && ThreadPool.claimsFromBothEnds ? (count + 1) / 2 : count
            for size in sizes(front) + sizes(count - front).reversed() { b.append(b.last! + size) }
        }
        bounds = b
    }

    /// Number of ranges.
    public var count: Int { bounds.count - 1 }

    public subscript(i: Int) -> Range<Int> { bounds[i]..<bounds[i + 1] }
}
