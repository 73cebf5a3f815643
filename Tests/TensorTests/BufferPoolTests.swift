import Testing
@testable import Tensor

/// The tensor buffer pool's bookkeeping: exact-size reuse, and eviction that keeps idle + live
/// memory within `slack` × the largest live amount seen.
@Suite("buffer pool")
struct BufferPoolTests {
    @Test("a released buffer is handed out again for the same size only")
    func exactReuse() {
        var pool = BufferPoolState()
        pool.slack = 1
        let first = pool.take(bytes: 1000)
        #expect(first.reuse == nil && first.evict.isEmpty)
        let kept = pool.put(address: 0x1000, bytes: 1000)
        #expect(kept)
        let other = pool.take(bytes: 2000)                  // other size: a miss, and 0x1000 pays for it
        #expect(other.reuse == nil && other.evict.map(\.address) == [0x1000])
        #expect(pool.idleBytes == 0)
        _ = pool.put(address: 0x2000, bytes: 1000)
        let again = pool.take(bytes: 1000)
        #expect(again.reuse == 0x2000)
        #expect(pool.hits == 1 && pool.misses == 2)
    }

    @Test("of several idle buffers of a size, one last used by a tensor of the same planes is reused first")
    func samePlanesFirst() {
        guard BufferPoolState.byLayout else { return }
        var pool = BufferPoolState()
        pool.slack = 10
        for _ in 0..<3 { _ = pool.take(bytes: 4096) }
        _ = pool.put(address: 0xA, bytes: 4096, planes: 16)
        _ = pool.put(address: 0xB, bytes: 4096, planes: 8)
        _ = pool.put(address: 0xC, bytes: 4096, planes: 16)
        #expect(pool.take(bytes: 4096, planes: 8).reuse == 0xB)    // not the last released (0xC)
        #expect(pool.take(bytes: 4096, planes: 16).reuse == 0xC)   // the last released of those planes
        #expect(pool.layoutChanges == 0)
        #expect(pool.take(bytes: 4096, planes: 2).reuse == 0xA)    // none of those planes: any, counted
        #expect(pool.layoutChanges == 1)
    }

    @Test("a miss evicts the least recently released buffers until the new one fits the bound")
    func evictionOrder() {
        var pool = BufferPoolState()
        pool.slack = 10
        for (a, b) in [(UInt(1), 300), (2, 500), (3, 700)] { _ = pool.take(bytes: b); _ = pool.put(address: a, bytes: b) }
        pool.slack = 1
        // Live peak 700 (one at a time): a 600-byte miss may keep 100 idle bytes, so all three go.
        let (reuse, evicted) = pool.take(bytes: 600)
        #expect(reuse == nil && evicted.map(\.address) == [1, 2, 3])
        #expect(pool.idleBytes == 0)
        _ = pool.put(address: 4, bytes: 600)
        pool.slack = 2
        _ = pool.take(bytes: 700)   // peak stays 700; bound 1400 keeps the idle 600
        #expect(pool.idleBytes == 600)
    }

    /// A random workload of allocations and frees of a few sizes: idle + live never exceeds the
    /// peak of live bytes, and every handed-out buffer has the requested size.
    @Test("idle plus live memory stays within slack × the peak live memory", arguments: [1.0, 1.5])
    func boundedByPeakLive(_ slack: Double) {
        var pool = BufferPoolState()
        pool.slack = slack
        var rng = RNG(seed: 5)
        let sizes = [256, 1024, 4096, 10_000]
        var live: [(UInt, Int)] = [], sizeOf: [UInt: Int] = [:]
        var next: UInt = 1, liveBytes = 0, peakLive = 0
        for _ in 0..<5000 {
            if live.isEmpty || rng.int(below: 100) < 55 {
                let b = sizes[rng.int(below: sizes.count)]
                let (reuse, evicted) = pool.take(bytes: b)
                for e in evicted { sizeOf[e.address] = nil }
                let a: UInt
                if let reuse { a = reuse; let size = sizeOf[a]; #expect(size == b) } else { a = next; next += 1; sizeOf[a] = b }
                live.append((a, b))
                liveBytes += b
                peakLive = max(peakLive, liveBytes)
            } else {
                let (a, b) = live.remove(at: rng.int(below: live.count))
                liveBytes -= b
                _ = pool.put(address: a, bytes: b)
            }
            #expect(pool.liveBytes == liveBytes && pool.peakLiveBytes == peakLive)
            #expect(Double(pool.idleBytes + liveBytes) <= slack * Double(peakLive))
        }
    }

    @Test("tensors of a pooled size round-trip their values through reused storage")
    func tensorsThroughThePool() {
        let n = BufferPool.minimumBytes / 4 + 3
        for k in 0..<3 {
            let t = Tensor(shape: [n], generator: { Float($0 + k) })
            #expect(t[flat: n - 1] == Float(n - 1 + k) && t[flat: 0] == Float(k))
        }
    }
}
