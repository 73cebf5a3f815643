// A fixed pool of worker Threads for coarse data-parallel loops, and the process-wide thread setting.
//
// Heavy numeric work must not run on the Swift cooperative pool (it would starve UI tasks), so the
// pool owns plain `Thread`s that sleep on a condition variable between jobs. A job is one
// fork/join: `run(n) { i in ... }` calls the body for every i in 0..<n exactly once; the caller
// thread takes part. Items are claimed dynamically (good on noisy cores); results stay
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

    private let cond = NSCondition()
    private var generation: UInt64 = 0      // bumped per job; workers wait for a change
    private var activeWorkers = 0           // workers still inside the current job
    private var stopping = false
    private var job: ((Int) -> Void)?       // valid only while a job runs (non-escaping in reality)
    private var jobCount = 0
    private let nextItem = Atomic<Int>(0)
    private let callerLock = NSLock()       // one job at a time; a second caller runs inline
    /// `generation` and `activeWorkers` mirrored for lock-free polling: a worker (or the caller at
    /// the join) first watches these for `spinNanos` before it sleeps on the condition variable.
    private let publishedGeneration = Atomic<UInt64>(0)
    private let runningWorkers = Atomic<Int>(0)
    /// How long an idle thread polls before it sleeps. The ops of a step follow each other within
    /// microseconds, and waking a sleeping vCPU (futex, IPI, the host's halt exit) costs more than
    /// the many small jobs of a step; 0 turns polling off.
    public static let spinNanos: UInt64 = {
        if let s = ProcessInfo.processInfo.environment["C2FNAS_POOL_SPIN_US"], let us = UInt64(s) { return us * 1000 }
        return 100_000
    }()
    /// Jobs handed to the workers since the start (all pools), for fork/join counts per step.
    static let dispatches = Atomic<Int>(0)

    /// The process's CPUs when the pool pins its workers (worker i on cpus[i], cpus[0] for callers).
    private let pinnedCPUs: [Int32]?

    public init(threads: Int) {
        threadCount = max(1, threads)
        let cpus = Self.workerCPUs(threads: threadCount)
        pinnedCPUs = cpus.map { $0.map(Int32.init) }
        for i in 1..<threadCount {
            let cpu = cpus.map { $0[i] }
            let t = Thread { [self] in
                if let cpu { Self.pinCurrentThread(to: cpu) }
                workerLoop()
            }
            t.name = "c2fnas.compute.\(i)"
            t.stackSize = 1 << 20
            t.start()
        }
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

    /// Stops the workers once idle; the pool then runs everything inline.
    public func shutdown() {
        cond.lock()
        stopping = true
        cond.broadcast()
        cond.unlock()
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

    private func workerLoop() {
        var seen: UInt64 = 0
        while true {
            Self.poll { publishedGeneration.load(ordering: .acquiring) != seen }
            cond.lock()
            while generation == seen && !stopping { cond.wait() }
            // A job dispatched before the stop is still run: its caller waits for every worker.
            if generation == seen { cond.unlock(); return }
            seen = generation
            cond.unlock()
            runCurrentJob()
            cond.lock()
            activeWorkers -= 1
            runningWorkers.store(activeWorkers, ordering: .releasing)
            if activeWorkers == 0 { cond.broadcast() }
            cond.unlock()
        }
    }

    /// Takes part in the current job. The closure reference is dropped on return, before the
    /// worker reports completion (the caller checks that the non-escaping body did not escape).
    @inline(never)
    private func runCurrentJob() {
        cond.lock()
        let body = job!
        let n = jobCount
        cond.unlock()
        drain(body, n)
    }

    private func drain(_ body: (Int) -> Void, _ n: Int) {
        while true {
            let i = nextItem.add(1, ordering: .relaxed).oldValue
            if i >= n { return }
            body(i)
        }
    }

    /// Calls `body(i)` for every i in 0..<n, spread over the pool; returns when all are done.
    /// Nested or concurrent calls run inline on the calling thread.
    public func run(_ n: Int, _ body: (Int) -> Void) {
        if n <= 0 { return }
        if threadCount == 1 || n == 1 || !callerLock.try() {
            for i in 0..<n { body(i) }
            return
        }
        defer { callerLock.unlock() }
        // A caller that runs on a worker's CPU would share it with that worker for the whole job:
        // it moves to the callers' CPU for the job (two syscalls, only in that case).
        var moved = false
        if let cpus = pinnedCPUs {
            let now = c2f_current_cpu()
            if now != cpus[0] && cpus.contains(now) { moved = c2f_pin_current_thread(cpus[0]) == 0 }
        }
        defer { if moved, let cpus = pinnedCPUs { _ = c2f_set_current_thread_cpus(cpus, Int32(cpus.count)) } }
        withoutActuallyEscaping(body) { escapable in
            cond.lock()
            // Checked under the same lock as the dispatch: no worker has left before this point,
            // so all of them will see the job (a pool replaced by setThreads runs inline instead).
            if stopping {
                cond.unlock()
                for i in 0..<n { escapable(i) }
                return
            }
            job = escapable
            jobCount = n
            ThreadPool.dispatches.add(1, ordering: .relaxed)
            nextItem.store(0, ordering: .relaxed)
            activeWorkers = threadCount - 1
            runningWorkers.store(activeWorkers, ordering: .releasing)
            generation &+= 1
            publishedGeneration.store(generation, ordering: .releasing)
            cond.broadcast()
            cond.unlock()
            drain(escapable, n)
            Self.poll { runningWorkers.load(ordering: .acquiring) == 0 }
            cond.lock()
            while activeWorkers > 0 { cond.wait() }
            job = nil
            cond.unlock()
        }
    }
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

    /// Fork/joins that woke the workers since the process started (inline runs are not counted).
    public static var dispatchCount: Int { ThreadPool.dispatches.load(ordering: .relaxed) }

    /// Number of usable cores.
    public static var coreCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Sets the pool and OpenBLAS to `n` threads (1 = everything inline on the caller).
    /// Call between ops, not while another thread is computing.
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
    public static func parallelFor(_ n: Int, _ body: (Int) -> Void) {
        pool.run(n, body)
    }

    /// Splits 0..<count into fixed chunks of at least `grain` elements (the split depends only on
    /// `count` and `grain`, never on the thread count) and runs them on the pool.
    /// `body` gets (chunk index, range); the chunk count is `chunkCount(count:grain:)`.
    public static func parallelChunks(count: Int, grain: Int, _ body: (Int, Range<Int>) -> Void) {
        let chunks = chunkCount(count: count, grain: grain)
        if chunks <= 1 {
            if count > 0 { body(0, 0..<count) }
            return
        }
        pool.run(chunks) { i in body(i, chunkRange(i, chunks: chunks, count: count)) }
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
