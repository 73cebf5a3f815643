import Foundation
import Testing
import Synchronization
@testable import Tensor

@Suite("Tensor")
struct TensorTests {
    @Test("shape, strides, indexing and copy-on-write")
    func basics() {
        var t = Tensor(shape: [2, 3, 4], generator: { Float($0) })
        #expect(t.count == 24 && t.rank == 3 && t.strides == [12, 4, 1])
        #expect(t[1, 2, 3] == 23 && t[0, 1, 0] == 4)
        let copy = t
        t[0, 0, 0] = 100
        #expect(copy[0, 0, 0] == 0 && t[0, 0, 0] == 100)
        let r = t.reshaped([6, 4])
        #expect(r.shape == [6, 4] && r[flat: 23] == 23)
        #expect(Tensor(scalar: 2.5).item == 2.5 && Tensor(scalar: 1).shape == [])
        #expect(Tensor.zeros([1, 2, 3, 4, 5]).spatialCount == 60)
    }

    @Test("elementwise kernels match scalar loops on large arrays (parallel chunks)")
    func elementwise() {
        var rng = RNG(seed: 1)
        let n = 300_001
        let a = Tensor.randomNormal([n], rng: &rng), b = Tensor.randomNormal([n], rng: &rng)
        let s = a + b
        var ax = a
        ax.add(b, scaledBy: 0.5)
        var sc = a
        sc.scale(by: -3)
        let d = a - b
        for i in stride(from: 0, to: n, by: 997) {
            #expect(s[flat: i] == a[flat: i] + b[flat: i])
            #expect(ax[flat: i] == a[flat: i] + 0.5 * b[flat: i])
            #expect(sc[flat: i] == -3 * a[flat: i])
            #expect(abs(d[flat: i] - (a[flat: i] - b[flat: i])) <= 1e-6)
        }
    }

    @Test("reductions agree with Double loops")
    func reductions() {
        var rng = RNG(seed: 2)
        let a = Tensor.randomNormal([200_003], rng: &rng), b = Tensor.randomNormal([200_003], rng: &rng)
        var s = 0.0, ss = 0.0, dot = 0.0
        for i in 0..<a.count {
            s += Double(a[flat: i]); ss += Double(a[flat: i]) * Double(a[flat: i]); dot += Double(a[flat: i]) * Double(b[flat: i])
        }
        #expect(abs(a.sum() - s) < 1e-3)
        #expect(abs(a.sumOfSquares() - ss) / ss < 1e-6)
        #expect(abs(a.dot(b) - dot) < 1e-2)
        #expect(abs(a.mean() - s / Double(a.count)) < 1e-8)
    }
}

@Suite("RNG")
struct RNGTests {
    @Test("same seed same stream; split streams differ; state round trips")
    func streams() throws {
        var a = RNG(seed: 42), b = RNG(seed: 42)
        #expect((0..<10).map { _ in a.next() } == (0..<10).map { _ in b.next() })
        var child = a.split()
        #expect(child.next() != a.next())
        let saved = a.stateTensor
        let expected = (0..<5).map { _ in a.next() }
        var restored = try RNG(stateTensor: saved)
        #expect((0..<5).map { _ in restored.next() } == expected)
        var fromWords = try RNG(stateWords: restored.stateWords)
        #expect(fromWords.next() == restored.next())
        #expect(throws: RNG.StateError.self) { try RNG(stateWords: [0, 0, 0, 0]) }
    }

    @Test("xoshiro256** reference output")
    func reference() throws {
        // State (1, 2, 3, 4): first outputs of the reference C implementation.
        var r = try RNG(stateWords: [1, 2, 3, 4])
        #expect(r.next() == 11520)
        #expect(r.next() == 0)
        #expect(r.next() == 1_509_978_240)
        #expect(r.next() == 1_215_971_899_390_074_240)
    }

    @Test("uniform and normal moments, He-normal spread")
    func moments() {
        var r = RNG(seed: 3)
        let n = 200_000
        let u = (0..<n).map { _ in Double(r.nextFloat()) }
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(abs(u.reduce(0, +) / Double(n) - 0.5) < 0.005)
        let g = Tensor.randomNormal([n], rng: &r)
        #expect(abs(g.mean()) < 0.01)
        #expect(abs(g.sumOfSquares() / Double(n) - 1) < 0.02)
        let w = Tensor.heNormal([64, 32, 3, 3, 3], rng: &r)
        #expect(abs((w.sumOfSquares() / Double(w.count)) - 2.0 / (32 * 27)) / (2.0 / (32 * 27)) < 0.03)
        #expect((0..<1000).allSatisfy { _ in (0..<7).contains(r.int(below: 7)) })
    }
}

@Suite("ThreadPool")
struct ThreadPoolTests {
    @Test("every index runs exactly once, for any pool size", arguments: [1, 2, 3])
    func coverage(threads: Int) {
        let pool = ThreadPool(threads: threads)
        defer { pool.shutdown() }
        for n in [0, 1, 7, 1000] {
            var hits = [Int](repeating: 0, count: n)
            hits.withUnsafeMutableBufferPointer { h in
                let p = h.baseAddress
                pool.run(n) { i in p![i] += 1 }
            }
            #expect(hits.allSatisfy { $0 == 1 })
        }
    }

    @Test("nested calls run inline instead of deadlocking")
    func nested() {
        let pool = ThreadPool(threads: 2)
        defer { pool.shutdown() }
        var total = [Int](repeating: 0, count: 8)
        total.withUnsafeMutableBufferPointer { t in
            let p = t.baseAddress!
            pool.run(8) { i in pool.run(4) { _ in p[i] += 1 } }
        }
        #expect(total == [Int](repeating: 4, count: 8))
    }

    /// Workers are pinned only when the process may use exactly as many CPUs as the pool has
    /// threads; with more CPUs (processes sharing a machine) the scheduler places them.
    @Test("workers are pinned only when the threads fill the allowed CPUs")
    func pinningPolicy() {
        let allowed = ThreadPool.allowedCPUs()
        #expect(!allowed.isEmpty)
        #expect(ThreadPool.workerCPUs(threads: 1) == nil)
        #expect(ThreadPool.workerCPUs(threads: allowed.count + 1) == nil)
        if allowed.count >= 2 {
            #expect(ThreadPool.workerCPUs(threads: allowed.count) == allowed)
            #expect(ThreadPool.workerCPUs(threads: allowed.count - 1) == nil)
        }
        // A pinned pool still runs every item once.
        let pool = ThreadPool(threads: max(2, allowed.count))
        defer { pool.shutdown() }
        var hits = [Int](repeating: 0, count: 100)
        hits.withUnsafeMutableBufferPointer { h in
            let p = h.baseAddress!
            pool.run(100) { i in p[i] += 1 }
        }
        #expect(hits.allSatisfy { $0 == 1 })
    }

    /// No two items run at once under one slot: each item marks its slot busy for a moment and
    /// checks that nobody else held it.
    @Test("slots name the running thread: below the thread count, never shared at once", arguments: [1, 2, 3])
    func slots(threads: Int) {
        let pool = ThreadPool(threads: threads)
        defer { pool.shutdown() }
        let busy = Mutex([Int](repeating: 0, count: threads))
        let clashes = Atomic<Int>(0), outOfRange = Atomic<Int>(0)
        var hits = [Int](repeating: 0, count: 500)
        hits.withUnsafeMutableBufferPointer { h in
            let p = h.baseAddress!
            pool.run(500, slotted: { i, slot in
                guard slot >= 0 && slot < threads else { outOfRange.add(1, ordering: .relaxed); return }
                busy.withLock { b in
                    if b[slot] != 0 { clashes.add(1, ordering: .relaxed) }
                    b[slot] += 1
                }
                var x = 0.0
                for k in 0..<200 { x += Double(k ^ i) }   // hold the slot for a while
                if x < 0 { print(x) }
                p[i] += 1
                busy.withLock { $0[slot] -= 1 }
            })
        }
        #expect(outOfRange.load(ordering: .relaxed) == 0)
        #expect(clashes.load(ordering: .relaxed) == 0)
        #expect(hits.allSatisfy { $0 == 1 })
    }

    /// The fork/join's sleeping paths: workers that polled in vain and slept are woken by the next
    /// job; a caller that slept at the join is woken by the last worker; a lost wake-up would hang
    /// here (the time limit turns that into a failure).
    @Test("sleeping workers wake for the next job and a sleeping caller for the join", .timeLimit(.minutes(1)))
    func sleepingPaths() {
        let pool = ThreadPool(threads: 2)
        defer { pool.shutdown() }
        let spin = Double(ThreadPool.spinNanos) / 1e9
        var workerRan = 0
        for round in 0..<20 {
            usleep(useconds_t(max(1000, spin * 3e6)))   // longer than the polling: the worker sleeps
            let slots = Mutex<[Int]>([])
            var hits = [Int](repeating: 0, count: 64)
            hits.withUnsafeMutableBufferPointer { h in
                let p = h.baseAddress!
                pool.run(64, slotted: { i, slot in
                    var x = 0.0
                    for k in 0..<2000 { x += Double(k ^ i) }
                    p[i] += x < 0 ? 2 : 1
                    slots.withLock { $0.append(slot) }
                })
            }
            #expect(hits.allSatisfy { $0 == 1 }, "round \(round)")
            if slots.withLock({ $0.contains(1) }) { workerRan += 1 }
        }
        #expect(workerRan > 0, "the worker never took part after sleeping")
        // The worker's item outlasts the caller's polling: the caller sleeps at the join.
        for _ in 0..<5 {
            let workerIn = Atomic<Bool>(false), done = Atomic<Int>(0)
            pool.run(2, slotted: { _, slot in
                if slot == 0 {
                    while !workerIn.load(ordering: .acquiring) {}
                } else {
                    workerIn.store(true, ordering: .releasing)
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    while DispatchTime.now().uptimeNanoseconds - t0 < 3 * max(ThreadPool.spinNanos, 1_000_000) {}
                }
                done.add(1, ordering: .relaxed)
            })
            #expect(done.load(ordering: .relaxed) == 2)
        }
    }

    @Test("jobs with gaps around the polling time all complete, every item once", .timeLimit(.minutes(1)))
    func gapsAroundPolling() {
        let pool = ThreadPool(threads: 2)
        defer { pool.shutdown() }
        var rng = RNG(seed: 11)
        let spinMicros = Int(ThreadPool.spinNanos / 1000)
        var wrong = 0
        for _ in 0..<400 {
            let gap = rng.int(below: 2 * spinMicros + 50)
            let t0 = DispatchTime.now().uptimeNanoseconds
            while DispatchTime.now().uptimeNanoseconds - t0 < UInt64(gap) * 1000 {}
            let n = 1 + rng.int(below: 9)
            var hits = [Int](repeating: 0, count: n)
            hits.withUnsafeMutableBufferPointer { h in
                let p = h.baseAddress!
                pool.run(n) { i in p[i] += 1 }
            }
            if !hits.allSatisfy({ $0 == 1 }) { wrong += 1 }
        }
        #expect(wrong == 0)
    }

    @Test("after shutdown every call runs inline on the caller")
    func afterShutdown() {
        let pool = ThreadPool(threads: 2)
        pool.run(4) { _ in }
        pool.shutdown()
        let slots = Mutex<Set<Int>>([])
        var hits = [Int](repeating: 0, count: 100)
        hits.withUnsafeMutableBufferPointer { h in
            let p = h.baseAddress!
            pool.run(100, slotted: { i, slot in p[i] += 1; slots.withLock { _ = $0.insert(slot) } })
        }
        #expect(hits.allSatisfy { $0 == 1 })
        #expect(slots.withLock { $0 } == [0])
    }

    /// The caller's item runs 20 ms while the worker has nothing left: the profile must charge the
    /// worker's idle tail to this loop (the caller's join wait alone would show 0 here).
    @Test("the profile counts a worker's idle tail at the join")
    func tailIsProfiled() {
        let pool = ThreadPool(threads: 2)
        defer { pool.shutdown() }
        OpProfile.start()
        // The caller's item starts its 20 ms only once the worker holds the other item, so the
        // worker is surely in this job (and then done) while the caller works.
        let workerIn = Atomic<Bool>(false)
        let line: UInt = #line + 1
        pool.run(2, slotted: { _, slot in
            guard slot == 0 else { workerIn.store(true, ordering: .releasing); return }
            while !workerIn.load(ordering: .acquiring) {}
            let t0 = DispatchTime.now().uptimeNanoseconds
            while DispatchTime.now().uptimeNanoseconds - t0 < 20_000_000 {}
        })
        OpProfile.stop()
        let site = OpProfile.poolSites().first { $0.site.hasSuffix(":\(line)") }
        #expect(site?.joins == 1)
        #expect((site?.tailMs ?? 0) >= 5, "tail \(site?.tailMs ?? -1) ms")
    }

    @Test("the cores' round trip: none on one thread; positive when both threads met")
    func roundTrip() {
        let one = ThreadPool(threads: 1)
        #expect(one.coreRoundTripNanos() == nil)
        let pool = ThreadPool(threads: 2)
        defer { pool.shutdown() }
        // nil only if the host kept the worker off a CPU for 50 ms (a loaded test machine).
        if let ns = pool.coreRoundTripNanos(rounds: 200) { #expect(ns > 0 && ns.isFinite) }
    }

    @Test("guided ranges cover the count in order, shrink toward the middle, respect the minimum, one range on one thread")
    func guidedSplit() {
        #expect(GuidedSplit(count: 0, threads: 2).count == 0)
        #expect(GuidedSplit(count: 43, threads: 1).count == 1)
        #expect(GuidedSplit(count: 43, threads: 1)[0] == 0..<43)
        // With claims from both ends the split is the front half's guided ranges, then the back
        // half's mirrored; otherwise one guided sequence.
        let twoEnded = ThreadPool.claimsFromBothEnds
        for (count, threads, minimum) in [(43, 2, 1), (342, 2, 5), (7, 2, 1), (1000, 3, 10), (3, 4, 1), (12, 2, 4)] {
            let split = GuidedSplit(count: count, threads: threads, minimum: minimum)
            let ranges = (0..<split.count).map { split[$0] }
            #expect(ranges.first!.lowerBound == 0 && ranges.last!.upperBound == count)
            #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
            let half = twoEnded ? (count + 1) / 2 : count
            let front = ranges.filter { $0.upperBound <= half }, back = ranges.filter { $0.lowerBound >= half }
            #expect(front.count + back.count == ranges.count, "a range straddles the middle: \(ranges)")
            #expect(zip(front, front.dropFirst()).allSatisfy { $0.count >= $1.count })
            #expect(zip(back, back.dropFirst()).allSatisfy { $0.count <= $1.count })
            #expect(front.dropLast().allSatisfy { $0.count >= min(minimum, half) })
            #expect(back.dropFirst().allSatisfy { $0.count >= min(minimum, count - half) })
            // The first range is a 1/(2·threads) share of its half (or the minimum), the last of the other.
            #expect(ranges[0].count == min(half, max(minimum, (half + 2 * threads - 1) / (2 * threads))))
            if twoEnded && count - half > 0 {
                let rest = count - half
                #expect(ranges.last!.count == min(rest, max(minimum, (rest + 2 * threads - 1) / (2 * threads))))
            }
        }
        // 43 groups on two threads: long at the ends, single groups in the middle.
        let split = GuidedSplit(count: 43, threads: 2)
        let ranges = (0..<split.count).map { split[$0].count }
        #expect(ranges.first == (twoEnded ? 6 : 11) && ranges.last == (twoEnded ? 6 : 1) && ranges.min() == 1)
        // A maximum caps every range, on any thread count; the cover and the order stay.
        for (count, threads, maximum) in [(64, 2, 5), (64, 1, 5), (9, 2, 1), (20, 3, 100)] {
            let split = GuidedSplit(count: count, threads: threads, maximum: maximum)
            let capped = (0..<split.count).map { split[$0] }
            #expect(capped.first!.lowerBound == 0 && capped.last!.upperBound == count)
            #expect(zip(capped, capped.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
            #expect(capped.allSatisfy { $0.count <= maximum })
        }
        #expect(GuidedSplit(count: 64, threads: 2, maximum: 5)[0].count == 5)
    }

    /// The caller claims from the front and the workers from the back: every item runs once, the
    /// caller's items are a prefix taken in order, the worker's (two threads) the rest, from the end.
    @Test("items are claimed from both ends: each once, the caller a prefix, the worker the suffix", arguments: [2, 3])
    func twoEndedClaims(threads: Int) {
        let pool = ThreadPool(threads: threads)
        defer { pool.shutdown() }
        let n = 3000
        let order = Mutex<[[Int]]>(Array(repeating: [], count: threads))
        for _ in 0..<5 {
            order.withLock { $0 = Array(repeating: [], count: threads) }
            pool.run(n, slotted: { i, slot in
                var x = 0.0
                for k in 0..<300 { x += Double(k ^ i) }   // long enough for both threads to take part
                order.withLock { $0[slot].append(i + (x < 0 ? 1 : 0)) }
            })
            let got = order.withLock { $0 }
            #expect(got.flatMap { $0 }.sorted() == Array(0..<n), "every item exactly once")
            guard ThreadPool.claimsFromBothEnds else { continue }
            #expect(got[0] == Array(0..<got[0].count), "the caller takes a prefix in order")
            if threads == 2 {
                #expect(got[1] == Array((got[0].count..<n).reversed()), "the worker takes the rest from the end")
            }
        }
    }

    /// The placement probe: never with one thread; outside a job it probes and returns; inside a
    /// job (the pool busy) it does not probe, which would run inline and wait for a partner, and
    /// keeps the last finding.
    @Test("the placement probe: false on one thread, probes when idle, keeps its finding while busy")
    func placementProbe() {
        #expect(!ThreadPool(threads: 1).coresFarApart())
        let pool = ThreadPool(threads: 2)
        defer { pool.shutdown() }
        let idle = pool.coresFarApart()
        let answers = Mutex<[Bool]>([])
        pool.run(2) { _ in
            let far = pool.coresFarApart()
            answers.withLock { $0.append(far) }
        }
        #expect(answers.withLock { $0 } == [idle, idle])
    }

    @Test("maps along z cover every value once, each range inside one plane", .computeSettings)  // reads Compute.threads
    func alongZ() {
        for (count, planes, grain) in [(16 * 32768, 16, 1 << 16), (3 * 5000, 3, 1000), (7 * 1030, 7, 100), (1 << 17, 1, 1 << 12),
                                       (100, 4, 10), (10 * 4099, 10, 1 << 12)] {
            let seen = Mutex<[Int]>(Array(repeating: 0, count: count))
            let straddles = Atomic<Int>(0)
            Compute.parallelAlongZ(count: count, planes: planes, grain: grain) { r in
                let v = count / planes
                if planes > 1 && !r.isEmpty && r.lowerBound / v != (r.upperBound - 1) / v { straddles.add(1, ordering: .relaxed) }
                seen.withLock { for i in r { $0[i] += 1 } }
            }
            #expect(seen.withLock { $0.allSatisfy { $0 == 1 } }, "count \(count) planes \(planes)")
            if Compute.threads > 1 && count >= 2 * grain && count / planes >= 1024 {
                #expect(straddles.load(ordering: .relaxed) == 0)
            }
        }
    }

    @Test("chunking depends only on the size, so chunked sums are bit-identical")
    func chunking() {
        #expect(Compute.chunkCount(count: 10, grain: 100) == 1)
        #expect(Compute.chunkCount(count: 1 << 20, grain: 1 << 16) == 16)
        let ranges = (0..<16).map { Compute.chunkRange($0, chunks: 16, count: 1_000_003) }
        #expect(ranges.first!.lowerBound == 0 && ranges.last!.upperBound == 1_000_003)
        #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        var rng = RNG(seed: 5)
        let t = Tensor.randomNormal([1_000_003], rng: &rng)
        #expect(t.sum().bitPattern == t.sum().bitPattern)
    }
}

@Suite("vector exp")
struct VectorExpTests {
    @Test("Kernels.exp matches Foundation's exp to 4e-7 relative over -87..87.9, 0 below, NaN kept")
    func matchesFoundation() {
        var worst = 0.0
        var x: Float = -87
        while x <= 87.9 {
            let lanes = SIMD16<Float>((0..<16).map { x + Float($0) * 0.0037 })
            let got = Kernels.exp(lanes)
            for i in 0..<16 where lanes[i] <= 87.9 {
                let want = Foundation.exp(Double(lanes[i]))
                worst = max(worst, abs(Double(got[i]) - want) / want)
            }
            x += 0.0593
        }
        #expect(worst < 4e-7, "worst relative error \(worst)")
        let edges = Kernels.exp(SIMD16<Float>([-100, -88, 0, .nan, -0.0, 1, -1, 10, 20, 30, 40, 50, 60, 70, 80, 87]))
        #expect(edges[0] == 0 && edges[1] == 0 && edges[2] == 1 && edges[3].isNaN && edges[4] == 1)
    }
}
