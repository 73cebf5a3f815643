// Tensor: dense, contiguous Float32 storage with a shape (row-major, last axis fastest).
//
// Layout convention for volumes: N, C, D, H, W with W fastest. D is the slice axis z, H is y,
// W is x (NIfTI's data order). Lower ranks (vectors, matrices, rank-0 scalars) use the same type.
//
// Value semantics with copy-on-write: copying a Tensor shares storage until one copy is mutated
// through `withUnsafeMutableBufferPointer` / `withUnsafeMutablePointer` / a subscript setter.
// Storage is 64-byte aligned so vector loads in kernels stay aligned at row starts.

import Foundation

/// Owns one aligned Float buffer. Immutable after creation except through a uniquely held Tensor.
@usableFromInline
final class TensorStorage: @unchecked Sendable {
    @usableFromInline let pointer: UnsafeMutablePointer<Float>
    @usableFromInline let count: Int
    /// Planes of the tensor the buffer was made for (`Tensor.planes(of:)`): the buffer pool hands
    /// it preferably to a tensor of the same planes (`BufferPool.allocate`).
    let planes: Int

    @usableFromInline
    init(count: Int, planes: Int = 0) {
        self.count = count
        self.planes = planes
        let raw = BufferPool.allocate(bytes: max(count, 1) * MemoryLayout<Float>.stride, planes: planes)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit {
        BufferPool.release(UnsafeMutableRawPointer(pointer), bytes: max(count, 1) * MemoryLayout<Float>.stride, planes: planes)
    }

    @usableFromInline
    func copy() -> TensorStorage {
        let s = TensorStorage(count: count, planes: planes)
        s.pointer.update(from: pointer, count: count)
        return s
    }
}

public struct Tensor: Sendable {
    /// Extent of each axis; `[]` is a scalar holding one value.
    public private(set) var shape: [Int]
    @usableFromInline var storage: TensorStorage

    /// Number of elements (product of the shape; 1 for a scalar).
    @inlinable public var count: Int { storage.count }
    @inlinable public var rank: Int { shape.count }

    /// Row-major strides in elements (the last axis has stride 1).
    public var strides: [Int] { Tensor.contiguousStrides(shape) }

    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }

    static func elementCount(_ shape: [Int]) -> Int {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative extent in shape \(shape)")
        return shape.reduce(1, *)
    }

    /// A tensor whose contents are unspecified; the caller must overwrite every element.
    public init(uninitialized shape: [Int]) {
        self.shape = shape
        storage = TensorStorage(count: Tensor.elementCount(shape), planes: Tensor.planes(of: shape))
    }

    /// The N·C planes of an N, C, spatial… shape (1 below rank 3): maps over a tensor split along z
    /// by them, and tensors of the same plane count and size have each core's half at the same offsets.
    static func planes(of shape: [Int]) -> Int { shape.count >= 3 ? shape[0] * shape[1] : 1 }

    /// A tensor filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        self.init(uninitialized: shape)
        let p = storage.pointer, n = count
        // Zeros by memset (glibc's AVX-512 stores; the generic loop compiled to 128-bit ones), over the
        // pool from 256 K values: a step zeroes every conv's weight gradient (up to 1.7 MB each),
        // 0.4 ms of serial code a step at 2 threads (perf) while the other core waited.
        func fill(_ r: Range<Int>) {
            if value == 0 && value.sign == .plus { memset(p + r.lowerBound, 0, r.count * MemoryLayout<Float>.stride) }
            else { (p + r.lowerBound).initialize(repeating: value, count: r.count) }
        }
        if n >= 1 << 18 { Compute.parallelChunks(count: n, grain: 1 << 17) { _, r in fill(r) } } else { fill(0..<n) }
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }
    /// A tensor of ones.
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }
    /// A rank-0 tensor holding one value.
    public init(scalar: Float) { self.init(shape: [], repeating: scalar) }

    /// A tensor from row-major values; `scalars.count` must equal the product of `shape`.
    public init(shape: [Int], scalars: [Float]) {
        precondition(Tensor.elementCount(shape) == scalars.count,
                     "Tensor(shape: \(shape), scalars:) needs \(Tensor.elementCount(shape)) values, got \(scalars.count)")
        self.init(uninitialized: shape)
        scalars.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: $0.count) }
    }

    /// A tensor whose element at flat index i is `f(i)`.
    public init(shape: [Int], generator f: (Int) -> Float) {
        self.init(uninitialized: shape)
        let p = storage.pointer
        for i in 0..<count { p[i] = f(i) }
    }

    /// All values, row-major.
    public var scalars: [Float] {
        Array(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// The single value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "Tensor.item needs exactly one element, shape is \(shape)")
        return storage.pointer[0]
    }

    /// The same data seen with another shape of equal element count (shares storage).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(Tensor.elementCount(newShape) == count,
                     "Tensor.reshaped: cannot view \(shape) (\(count) elements) as \(newShape)")
        var t = self
        t.shape = newShape
        return t
    }

    /// Identifies the storage these values live in. While a copy of this tensor is held, the values
    /// behind the identity cannot change: a mutation through any other copy copies the storage first
    /// (copy-on-write), so a cache that keeps the copy may key derived data on the identity.
    public var storageIdentity: ObjectIdentifier { ObjectIdentifier(storage) }

    /// Makes the storage uniquely owned (copy-on-write) before a mutation.
    @inlinable
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) {
            try body(UnsafeBufferPointer(start: storage.pointer, count: storage.count))
        }
    }

    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        makeUnique()
        return try withExtendedLifetime(storage) {
            try body(UnsafeMutableBufferPointer(start: storage.pointer, count: storage.count))
        }
    }

    /// Base pointer for kernels (read only).
    @inlinable
    public func withUnsafePointer<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) { try body(UnsafePointer(storage.pointer)) }
    }

    /// Base pointer for kernels that write (storage made unique first).
    @inlinable
    public mutating func withUnsafeMutablePointer<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        makeUnique()
        return try withExtendedLifetime(storage) { try body(storage.pointer) }
    }

    /// Element at a flat (row-major) index.
    public subscript(flat i: Int) -> Float {
        get {
            precondition(i >= 0 && i < count, "Tensor[flat: \(i)] out of range for shape \(shape)")
            return storage.pointer[i]
        }
        set {
            precondition(i >= 0 && i < count, "Tensor[flat: \(i)] out of range for shape \(shape)")
            makeUnique()
            storage.pointer[i] = newValue
        }
    }

    /// Flat offset of a multi-index.
    public func offset(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "Tensor index \(index) has wrong rank for shape \(shape)")
        var off = 0
        for (i, (x, n)) in zip(index, shape).enumerated() {
            precondition(x >= 0 && x < n, "Tensor index \(index) out of range on axis \(i) for shape \(shape)")
            off = off * n + x
        }
        return off
    }

    /// Element at a multi-index, e.g. `t[0, c, z, y, x]`.
    public subscript(_ index: Int...) -> Float {
        get { self[flat: offset(index)] }
        set { self[flat: offset(index)] = newValue }
    }
}

extension Tensor: Equatable {
    /// Equal shape and bit-for-bit equal values (NaN never equals).
    public static func == (a: Tensor, b: Tensor) -> Bool {
        guard a.shape == b.shape else { return false }
        if a.storage === b.storage { return true }
        for i in 0..<a.count where a.storage.pointer[i] != b.storage.pointer[i] { return false }
        return true
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = scalars.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(head)\(count > 8 ? ", …" : "")])"
    }
}

// Named axes for 5-D volumes (N, C, D, H, W).
extension Tensor {
    /// Product of all axes after the first two (voxels per channel for N,C,D,H,W).
    public var spatialCount: Int {
        precondition(rank >= 2, "spatialCount needs rank >= 2, shape is \(shape)")
        return shape.dropFirst(2).reduce(1, *)
    }
}
