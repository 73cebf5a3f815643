// Packed conv weights kept across forward passes with unchanged weights. Sliding-window inference
// runs the same network once per window, and every direct or Winograd conv packed (or transformed)
// its weights anew each time: 3.5 % of a 27-window inference (perf), more at 2 threads where the
// small packing jobs scale worst.
//
// A cache is made by whoever runs a network repeatedly on fixed weights (Inference.patchNetwork)
// and made current around each pass (`using`). An entry keeps a copy of the weight tensor: while it
// is held, a mutation of the parameter (an optimiser step) copies the storage first, so the values
// behind a cached identity never change and an entry can never be stale; it just stops matching.
// The cache dies with its owner; nothing is global.

import Synchronization
import Tensor

public final class PackedWeightCache: Sendable {
    /// How the weights were packed (the kernel that reads them).
    enum Layout: Hashable {
        case direct, outVectors, winograd
    }

    private struct Key: Hashable {
        let storage: ObjectIdentifier
        let shape: [Int]
        let layout: Layout
    }

    private struct Entry {
        let weight: Tensor   // keeps the storage alive and its values fixed (see above)
        let packed: Tensor
    }

    @TaskLocal static var current: PackedWeightCache?

    private let entries = Mutex<[Key: Entry]>([:])

    public init() {}

    /// Runs `body` with this cache current: the forward convs inside it reuse what earlier passes packed.
    public func using<R>(_ body: () throws -> R) rethrows -> R {
        try Self.$current.withValue(self, operation: body)
    }

    /// Packed values currently held (for tests and memory accounting).
    public var packedFloats: Int { entries.withLock { $0.values.reduce(0) { $0 + $1.packed.count } } }

    /// `pack()` of `weight` for `layout`, from the current cache when one is set (packing on a miss),
    /// else packed afresh.
    static func packed(_ weight: Tensor, _ layout: Layout, _ pack: () -> Tensor) -> Tensor {
        guard let cache = current else { return pack() }
        let key = Key(storage: weight.storageIdentity, shape: weight.shape, layout: layout)
        if let hit = cache.entries.withLock({ $0[key]?.packed }) { return hit }
        let packed = pack()
        cache.entries.withLock { $0[key] = Entry(weight: weight, packed: packed) }
        return packed
    }
}
