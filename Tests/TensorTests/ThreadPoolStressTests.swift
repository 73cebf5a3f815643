import Foundation
import Testing
import Synchronization
@testable import Tensor

/// The fork/join's harder paths: more threads than cores, workers asleep between jobs, two callers
/// at once, `shutdown` from another thread mid-loop, and `Compute.setThreads` between jobs. Every
/// test checks outcomes only (each item once, slots in range and exclusive), never timings; a lost
/// wake-up would hang, and the time limit turns that into a failure.
@Suite("ThreadPool stress")
struct ThreadPoolStressTests {
    /// A sleep longer than the workers' polling, so they are asleep when the next job comes.
    static let sleepMicros = max(200, 2 * Int(ThreadPool.spinNanos / 1000))

    @Test("3 and 4 threads, random sizes, some jobs after the workers fell asleep: every item once, slots below the thread count and never shared",
          .timeLimit(.minutes(1)), arguments: [3, 4])
    func randomJobs(threads: Int) {
        let pool = ThreadPool(threads: threads)
        defer { pool.shutdown() }
        let checker = JobChecker(threads: threads)
        var rng = RNG(seed: 0x5EED_0000 + UInt64(threads))
        var failures: [String] = []
        var slotsSeen = 0
        for job in 0..<300 {
            if rng.int(below: 4) == 0 { usleep(useconds_t(Self.sleepMicros + rng.int(below: 101))) }
            let n = rng.int(in: 1...JobChecker.maxItems)
            // Some jobs hold the caller's first item until a worker has run one of theirs: the
            // workers surely take part (after a sleep too), and a lost wake-up hangs.
            let waitForWorker = n >= 2 && rng.int(below: 5) == 0
            let outcome = checker.run(n, on: pool, waitForWorker: waitForWorker)
            if !outcome.ok { failures.append("job \(job), \(n) items: \(outcome)") }
            slotsSeen |= outcome.slotMask
        }
        #expect(failures.isEmpty, "\(failures.count) jobs wrong: \(failures.prefix(5))")
        #expect(slotsSeen & ~1 != 0, "no worker ever ran an item")
    }

    @Test("two threads call run on one pool at once: every item of every job once, no hang",
          .timeLimit(.minutes(1)))
    func twoCallers() {
        let pool = ThreadPool(threads: 2)
        defer { pool.shutdown() }
        let shared = SharedState()
        let finished = DispatchSemaphore(value: 0)
        for caller in 0..<2 {
            let t = Thread {
                let checker = JobChecker(threads: pool.threadCount)
                var rng = RNG(seed: 0xCA11 + UInt64(caller))
                // Both callers start together, so their loops overlap.
                shared.ready.add(1, ordering: .sequentiallyConsistent)
                while shared.ready.load(ordering: .sequentiallyConsistent) < 2 { sched_yield() }
                for job in 0..<200 {
                    if rng.int(below: 8) == 0 { usleep(useconds_t(Self.sleepMicros + rng.int(below: 101))) }
                    let n = rng.int(in: 1...JobChecker.maxItems)
                    let outcome = checker.run(n, on: pool)
                    if !outcome.ok { shared.failures.withLock { $0.append("caller \(caller) job \(job), \(n) items: \(outcome)") } }
                    shared.jobs.add(1, ordering: .relaxed)
                }
                finished.signal()
            }
            t.start()
        }
        for caller in 0..<2 {
            #expect(finished.wait(timeout: .now() + 30) == .success, "caller \(caller) of 2 finished")
        }
        #expect(shared.jobs.load(ordering: .relaxed) == 400)
        let failures = shared.failures.withLock { $0 }
        #expect(failures.isEmpty, "\(failures.count) jobs wrong: \(failures.prefix(5))")
    }

    /// `shutdown` waits for the running job; jobs that start after it returned run inline on the
    /// caller (slot 0 only). The sleeps between some jobs give the shutdown thread the lock.
    @Test("shutdown from another thread mid-loop: every job before and after runs each item once, after it inline",
          .timeLimit(.minutes(1)))
    func shutdownDuringLoop() {
        let pool = ThreadPool(threads: 2)
        let checker = JobChecker(threads: 2)
        let shared = SharedState()
        let shutDown = DispatchSemaphore(value: 0)
        var rng = RNG(seed: 0x5407)
        var failures: [String] = []
        var inlineChecked = 0
        func job(_ index: Int) {
            let after = shared.shutDown.load(ordering: .sequentiallyConsistent)   // shutdown had returned
            if rng.int(below: 8) == 0 { usleep(useconds_t(Self.sleepMicros + rng.int(below: 101))) }
            let n = rng.int(in: 1...JobChecker.maxItems)
            let outcome = checker.run(n, on: pool)
            if !outcome.ok { failures.append("job \(index), \(n) items: \(outcome)") }
            if after {
                inlineChecked += 1
                if outcome.slotMask != 1 { failures.append("job \(index) after shutdown ran off the caller: slot mask \(outcome.slotMask)") }
            }
        }
        for index in 0..<400 {
            if index == 50 {
                let t = Thread {
                    pool.shutdown()
                    shared.shutDown.store(true, ordering: .sequentiallyConsistent)
                    shutDown.signal()
                }
                t.start()
            }
            job(index)
        }
        #expect(shutDown.wait(timeout: .now() + 30) == .success, "shutdown returned")
        for index in 400..<500 { job(index) }
        #expect(inlineChecked >= 100)
        #expect(failures.isEmpty, "\(failures.count) jobs wrong: \(failures.prefix(5))")
    }

    /// Replaces the process-wide pool (and the OpenBLAS thread count) between jobs; the gate keeps
    /// the other tests that set or read the thread settings out meanwhile.
    @Test("Compute.setThreads between jobs (1, 2, 3 threads): parallelFor sums are right each time, the setting is restored",
          .computeSettings, .timeLimit(.minutes(1)))
    func switchingThreadCounts() {
        let original = Compute.threads
        defer { Compute.setThreads(original) }
        var rng = RNG(seed: 0x7E4D)
        var failures: [String] = []
        for threads in [1, 2, 3, 2, 1, 3, 1, 2, 3, 3, 2, 1, 2] {
            Compute.setThreads(threads)
            #expect(Compute.threads == threads)
            for _ in 0..<5 {
                let count = rng.int(in: 1...2000)
                let sum = Atomic<Int>(0), badSlots = Atomic<Int>(0)
                Compute.parallelFor(count, slotted: { i, slot in
                    if slot < 0 || slot >= threads { badSlots.add(1, ordering: .relaxed) }
                    sum.add(i + 1, ordering: .relaxed)
                })
                let got = sum.load(ordering: .relaxed), want = count * (count + 1) / 2
                if got != want || badSlots.load(ordering: .relaxed) != 0 {
                    failures.append("\(threads) threads, \(count) items: sum \(got) (want \(want)), \(badSlots.load(ordering: .relaxed)) bad slots")
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        Compute.setThreads(original)
        #expect(Compute.threads == original)
    }
}

/// What one checked job saw.
private struct JobOutcome: CustomStringConvertible {
    /// Items that did not run exactly once (or indices outside 0..<n).
    var wrongItems = 0
    /// Items that found their slot held by another item at that moment.
    var clashes = 0
    /// Items given a slot outside 0..<threadCount.
    var badSlots = 0
    /// Bit s set when some item ran with slot s.
    var slotMask = 0
    var ok: Bool { wrongItems == 0 && clashes == 0 && badSlots == 0 }
    var description: String { "\(wrongItems) items not once, \(clashes) slot clashes, \(badSlots) bad slots, slot mask \(slotMask)" }
}

/// Runs jobs whose items count themselves (an atomic per item) and hold their slot for a moment
/// (an atomic per slot: incremented on entry, where it must have been 0, decremented on exit).
/// One caller at a time per checker; slots are exclusive per call (inline runs use slot 0 too).
private final class JobChecker: @unchecked Sendable {
    static let maxItems = 40
    let threads: Int
    private let hits = AtomicCounters(JobChecker.maxItems)
    private let busy: AtomicCounters
    private let outOfRange = Atomic<Int>(0), clashes = Atomic<Int>(0), badSlots = Atomic<Int>(0), slotMask = Atomic<Int>(0)

    init(threads: Int) {
        self.threads = threads
        busy = AtomicCounters(threads)
    }

    /// One job of `n` (1...maxItems) items on `pool`. With `waitForWorker` the items on slot 0 wait
    /// until some item ran on another slot (only for a multi-thread pool that is not shut down,
    /// with no other caller, and n >= 2: then a worker always has an item left to claim).
    func run(_ n: Int, on pool: ThreadPool, waitForWorker: Bool = false) -> JobOutcome {
        hits.reset()
        outOfRange.store(0, ordering: .relaxed)
        clashes.store(0, ordering: .relaxed)
        badSlots.store(0, ordering: .relaxed)
        slotMask.store(0, ordering: .relaxed)
        pool.run(n, slotted: { i, slot in
            guard slot >= 0 && slot < threads else { badSlots.add(1, ordering: .relaxed); return }
            guard i >= 0 && i < n else { outOfRange.add(1, ordering: .relaxed); return }
            slotMask.bitwiseOr(1 << slot, ordering: .sequentiallyConsistent)
            if busy.add(slot, 1) != 0 { clashes.add(1, ordering: .relaxed) }
            if waitForWorker && slot == 0 {
                while slotMask.load(ordering: .sequentiallyConsistent) & ~1 == 0 { sched_yield() }
            }
            var x = 0.0
            for k in 0..<150 { x += Double(k ^ i) }   // hold the slot for a moment
            hits.add(i, x < 0 ? 2 : 1)
            busy.add(slot, -1)
        })
        var outcome = JobOutcome()
        outcome.wrongItems = (0..<n).filter { hits.load($0) != 1 }.count + outOfRange.load(ordering: .relaxed)
        outcome.clashes = clashes.load(ordering: .relaxed)
        outcome.badSlots = badSlots.load(ordering: .relaxed)
        outcome.slotMask = slotMask.load(ordering: .relaxed)
        return outcome
    }
}

/// Atomic counters by index, in raw memory (atomics cannot live in an array).
private final class AtomicCounters: @unchecked Sendable {
    let count: Int
    private let base: UnsafeMutablePointer<Atomic<Int>>

    init(_ count: Int) {
        self.count = count
        base = .allocate(capacity: count)
        for i in 0..<count { (base + i).initialize(to: Atomic<Int>(0)) }
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    /// Adds `delta` to counter `i`; returns its value before.
    @discardableResult
    func add(_ i: Int, _ delta: Int) -> Int { base[i].add(delta, ordering: .sequentiallyConsistent).oldValue }

    func load(_ i: Int) -> Int { base[i].load(ordering: .sequentiallyConsistent) }

    func reset() { for i in 0..<count { base[i].store(0, ordering: .relaxed) } }
}

/// State shared with the threads a test starts.
private final class SharedState: Sendable {
    let ready = Atomic<Int>(0)
    let jobs = Atomic<Int>(0)
    let shutDown = Atomic<Bool>(false)
    let failures = Mutex<[String]>([])
}

/// Keeps the tests that set or read the process-wide thread settings (`Compute.setThreads`,
/// `Compute.threads`, `BLAS.setThreads`) from running at the same time. The suites of one test
/// process run in parallel and `.serialized` orders only a suite's own tests, so each such test,
/// in any suite, takes this gate (`.computeSettings`); waiting suspends, it blocks no thread.
struct ComputeSettingsGate: TestTrait, TestScoping {
    private static let state = Mutex<(held: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func provideScope(for test: Test, testCase: Test.Case?,
                      performing function: @Sendable () async throws -> Void) async throws {
        await Self.acquire()
        defer { Self.release() }
        try await function()
    }

    private static func acquire() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if !s.held { s.held = true; return true }
                s.waiters.append(waiter)
                return false
            }
            if now { waiter.resume() }
        }
    }

    /// Hands the gate to the first waiter, or opens it.
    private static func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty { s.held = false; return nil }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}

extension Trait where Self == ComputeSettingsGate {
    /// Runs the test alone among the tests that set or read the process-wide thread settings.
    static var computeSettings: Self { Self() }
}
