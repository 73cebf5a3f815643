import Testing
@testable import Tensor

/// The tensor buffer pool's bookkeeping: exact-size reuse, and eviction that keeps idle + live
/// memory within the largest live amount seen (the pool adds no peak over plain malloc/free).
@Suite("buffer pool")
struct BufferPoolTests {
    @Test("a released buffer is handed out again for the same size only")
    func exactReuse() {
        var pool = BufferPoolState()
        let first = pool.take(bytes: 1000)
        #expect(first.reuse == nil && first.evict.isEmpty)
        let kept = pool.put(address: 0x1000, bytes: 1000)
        #expect(kept)
        let other = pool.take(bytes: 2000)                  // other size: a miss, and 0x1000 pays for it
        #expect(other.reuse == nil && other.evict == [0x1000])
        #expect(pool.idleBytes == 0)
        _ = pool.put(address: 0x2000, bytes: 1000)
        let again = pool.take(bytes: 1000)
        #expect(again.reuse == 0x2000)
        #expect(pool.hits == 1 && pool.misses == 2)
    }

    @Test("a miss evicts the least recently released buffers, at least its size")
    func evictionOrder() {
        var pool = BufferPoolState()
        _ = pool.put(address: 1, bytes: 300)
        _ = pool.put(address: 2, bytes: 500)
        _ = pool.put(address: 3, bytes: 700)
        let (reuse, evicted) = pool.take(bytes: 600)
        #expect(reuse == nil && evicted == [1, 2])
        #expect(pool.idleBytes == 700)
    }

    /// A random workload of allocations and frees of a few sizes: idle + live never exceeds the
    /// peak of live bytes, and every handed-out buffer has the requested size.
    @Test("idle plus live memory stays within the peak live memory")
    func boundedByPeakLive() {
        var pool = BufferPoolState()
        var rng = RNG(seed: 5)
        let sizes = [256, 1024, 4096, 10_000]
        var live: [(UInt, Int)] = [], sizeOf: [UInt: Int] = [:]
        var next: UInt = 1, liveBytes = 0, peakLive = 0
        for _ in 0..<5000 {
            if live.isEmpty || rng.int(below: 100) < 55 {
                let b = sizes[rng.int(below: sizes.count)]
                let (reuse, evicted) = pool.take(bytes: b)
                for a in evicted { sizeOf[a] = nil }
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
            // One buffer of slack: a miss is paid for with whole idle buffers.
            #expect(pool.idleBytes + liveBytes <= peakLive + sizes.max()!)
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
