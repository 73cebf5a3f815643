import Foundation

/// Voxel counts along x, y and z. Memory order everywhere in this module is x fastest, then y,
/// then z (NIfTI order), which is a row-major (D, H, W) array with D = z, H = y, W = x.
public struct Shape3: Sendable, Hashable, Codable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var z: Int
    public init(_ x: Int, _ y: Int, _ z: Int) { self.x = x; self.y = y; self.z = z }
    public init(_ a: [Int]) { precondition(a.count == 3, "Shape3 needs 3 sides"); self.init(a[0], a[1], a[2]) }
    public var count: Int { x * y * z }
    public var array: [Int] { [x, y, z] }
    public subscript(axis: Int) -> Int {
        get { axis == 0 ? x : (axis == 1 ? y : z) }
        set { if axis == 0 { x = newValue } else if axis == 1 { y = newValue } else { z = newValue } }
    }
    /// Linear index of voxel (i, j, k).
    @inline(__always) public func index(_ i: Int, _ j: Int, _ k: Int) -> Int { (k &* y &+ j) &* x &+ i }
    public var description: String { "\(x)×\(y)×\(z)" }
}

/// A 4x4 voxel-to-world matrix (row-major), mapping voxel indices (i, j, k, 1) to millimetres.
public struct Affine: Sendable, Equatable, Codable {
    public var m: [Double]
    public init(rowMajor m: [Double]) { precondition(m.count == 16, "Affine needs 16 values"); self.m = m }
    public static let identity = Affine(rowMajor: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])
    /// A diagonal affine with the given spacing and origin.
    public static func scaling(_ s: SIMD3<Double>, origin: SIMD3<Double> = .zero) -> Affine {
        Affine(rowMajor: [s.x, 0, 0, origin.x, 0, s.y, 0, origin.y, 0, 0, s.z, origin.z, 0, 0, 0, 1])
    }
    public subscript(r: Int, c: Int) -> Double {
        get { m[r * 4 + c] }
        set { m[r * 4 + c] = newValue }
    }
    public static func * (a: Affine, b: Affine) -> Affine {
        var out = [Double](repeating: 0, count: 16)
        for r in 0..<4 { for c in 0..<4 { var s = 0.0; for k in 0..<4 { s += a[r, k] * b[k, c] }; out[r * 4 + c] = s } }
        return Affine(rowMajor: out)
    }
    /// World position of a (possibly fractional) voxel coordinate.
    public func apply(_ p: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3(self[0, 0] * p.x + self[0, 1] * p.y + self[0, 2] * p.z + self[0, 3],
              self[1, 0] * p.x + self[1, 1] * p.y + self[1, 2] * p.z + self[1, 3],
              self[2, 0] * p.x + self[2, 1] * p.y + self[2, 2] * p.z + self[2, 3])
    }
    /// Length of each voxel axis in millimetres (the column norms of the 3x3 part).
    public var columnNorms: SIMD3<Double> {
        func norm(_ c: Int) -> Double { (self[0, c] * self[0, c] + self[1, c] * self[1, c] + self[2, c] * self[2, c]).squareRoot() }
        return SIMD3(norm(0), norm(1), norm(2))
    }
    public func isClose(to o: Affine, tolerance: Double = 1e-5) -> Bool {
        zip(m, o.m).allSatisfy { abs($0 - $1) <= tolerance }
    }
}

/// The sampling grid of a volume: voxel counts, voxel size in mm and the voxel-to-world affine.
public struct Grid: Sendable, Equatable, Codable {
    public var shape: Shape3
    public var spacing: SIMD3<Double>
    public var affine: Affine
    public init(shape: Shape3, spacing: SIMD3<Double>, affine: Affine? = nil) {
        self.shape = shape; self.spacing = spacing
        self.affine = affine ?? .scaling(spacing)
    }
    /// Same shape, and spacing and affine equal up to `tolerance` (mm).
    public func matches(_ o: Grid, tolerance: Double = 1e-3) -> Bool {
        shape == o.shape && abs(spacing.x - o.spacing.x) <= tolerance && abs(spacing.y - o.spacing.y) <= tolerance
            && abs(spacing.z - o.spacing.z) <= tolerance && affine.isClose(to: o.affine, tolerance: tolerance)
    }
}

/// A multi-channel image: `data` holds channel 0's voxels (x fastest, then y, then z), then channel 1's, ...
public struct Volume: Sendable, Equatable {
    public var grid: Grid
    public var channels: Int
    public var data: [Float]
    public init(grid: Grid, channels: Int = 1, data: [Float]) {
        precondition(data.count == grid.shape.count * channels, "Volume data count does not match shape × channels")
        self.grid = grid; self.channels = channels; self.data = data
    }
    public init(grid: Grid, channels: Int = 1, repeating v: Float = 0) {
        self.init(grid: grid, channels: channels, data: [Float](repeating: v, count: grid.shape.count * channels))
    }
    public var shape: Shape3 { grid.shape }
    public var spacing: SIMD3<Double> { grid.spacing }
    public var affine: Affine { grid.affine }
    /// Voxels of one channel, copied out.
    public func channel(_ c: Int) -> [Float] {
        let n = shape.count
        return Array(data[(c * n)..<((c + 1) * n)])
    }
    public subscript(i: Int, j: Int, k: Int, c: Int) -> Float {
        get { data[c * shape.count + shape.index(i, j, k)] }
        set { data[c * shape.count + shape.index(i, j, k)] = newValue }
    }
}

/// A label map (class indices 0...255) on a grid.
public struct LabelVolume: Sendable, Equatable {
    public var grid: Grid
    public var data: [UInt8]
    public init(grid: Grid, data: [UInt8]) {
        precondition(data.count == grid.shape.count, "LabelVolume data count does not match shape")
        self.grid = grid; self.data = data
    }
    public init(grid: Grid, repeating v: UInt8 = 0) {
        self.init(grid: grid, data: [UInt8](repeating: v, count: grid.shape.count))
    }
    public var shape: Shape3 { grid.shape }
    public var spacing: SIMD3<Double> { grid.spacing }
    public subscript(i: Int, j: Int, k: Int) -> UInt8 {
        get { data[shape.index(i, j, k)] }
        set { data[shape.index(i, j, k)] = newValue }
    }
    /// Voxel count per class value (index = class).
    public func classCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: 256)
        for v in data { counts[Int(v)] += 1 }
        let last = counts.lastIndex(where: { $0 > 0 }) ?? 0
        return Array(counts[0...last])
    }
}

/// An axis-aligned box of voxels: `lower` inclusive, `upper` exclusive.
public struct Box3: Sendable, Equatable, Codable {
    public var lower: Shape3
    public var upper: Shape3
    public init(lower: Shape3, upper: Shape3) { self.lower = lower; self.upper = upper }
    public var size: Shape3 { Shape3(upper.x - lower.x, upper.y - lower.y, upper.z - lower.z) }
    public var isEmpty: Bool { size.x <= 0 || size.y <= 0 || size.z <= 0 }
}
