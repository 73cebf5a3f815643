// The project's one random number generator: xoshiro256** (Blackman & Vigna) seeded through
// RNG, as its authors recommend.
//
// A Sendable value type whose whole state is four words, so each consumer owns its stream and a
// checkpoint can store it (`Codable` as {"state": [4 words]}, or `stateTensor` for safetensors).
// Streams are derived one way: `RNG(seed:stream:)` gives stream number `stream` of a seed (a run's
// stages name their streams through Engine's `SeedDomain`). Every helper below (bounded ints,
// floats, normals, shuffle, sampling) is written here rather than taken from the standard library,
// so results do not depend on the toolchain's `random(in:)` algorithms.

import Foundation

public struct RNG: RandomNumberGenerator, Sendable, Hashable, Codable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A stream fully determined by `seed`.
    public init(seed: UInt64) {
        var sm = seed
        s0 = RNG.splitMix64(&sm); s1 = RNG.splitMix64(&sm); s2 = RNG.splitMix64(&sm); s3 = RNG.splitMix64(&sm)
    }

    /// Stream number `stream` of `seed` (one per cluster, case, parameter name, stage ...),
    /// independent of the stream `RNG(seed:)` and of every other stream number.
    public init(seed: UInt64, stream: UInt64) {
        var sm = seed ^ (stream &* 0xD1B5_4A32_D192_ED03)
        _ = RNG.splitMix64(&sm)
        self.init(seed: RNG.splitMix64(&sm))
    }

    public struct StateError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Restores a state saved with `stateWords`.
    public init(stateWords w: [UInt64]) throws {
        guard w.count == 4, w.contains(where: { $0 != 0 }) else {
            throw StateError(description: "RNG state needs 4 words, not all zero (got \(w.count) words); "
                + "use the value saved by RNG.stateWords")
        }
        s0 = w[0]; s1 = w[1]; s2 = w[2]; s3 = w[3]
    }

    /// The full state (4 words).
    public var stateWords: [UInt64] { [s0, s1, s2, s3] }

    /// The state as 16 Floats, each an integer in 0..<65536 (exact in Float32), for checkpoints.
    public var stateTensor: Tensor {
        var v: [Float] = []
        for w in stateWords { for k in 0..<4 { v.append(Float((w >> (16 * UInt64(k))) & 0xFFFF)) } }
        return Tensor(shape: [16], scalars: v)
    }

    /// Restores a state saved with `stateTensor`.
    public init(stateTensor t: Tensor) throws {
        let v = t.scalars
        guard v.count == 16, v.allSatisfy({ $0 >= 0 && $0 < 65536 && $0 == $0.rounded() }) else {
            throw StateError(description: "RNG state tensor must hold 16 integers in 0..<65536 "
                + "(shape \(t.shape)); use the value saved by RNG.stateTensor")
        }
        var w = [UInt64](repeating: 0, count: 4)
        for i in 0..<4 { for k in 0..<4 { w[i] |= UInt64(v[i * 4 + k]) << (16 * UInt64(k)) } }
        try self.init(stateWords: w)
    }

    private enum CodingKeys: String, CodingKey { case state }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let words = try c.decode([UInt64].self, forKey: .state)
        do { try self.init(stateWords: words) } catch {
            throw DecodingError.dataCorruptedError(forKey: .state, in: c, debugDescription: "\(error)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(stateWords, forKey: .state)
    }

    static func splitMix64(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = RNG.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = RNG.rotl(s3, 45)
        return result
    }

    /// An independent child stream; the parent advances by one draw.
    public mutating func split() -> RNG { RNG(seed: next()) }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func nextFloat() -> Float { Float(next() >> 40) * 0x1.0p-24 }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [lo, hi).
    public mutating func uniform(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * nextFloat() }

    /// Uniform in [lo, hi).
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * nextDouble() }

    /// True with probability `p` (never for p ≤ 0; one draw only when p > 0).
    public mutating func bernoulli(_ p: Double) -> Bool { p > 0 && nextDouble() < p }

    /// Uniform integer in 0..<n, unbiased (Lemire's multiply-and-reject).
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0, "RNG.int(below:) needs n > 0")
        let b = UInt64(n)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// Uniform integer in the closed range.
    public mutating func int(in r: ClosedRange<Int>) -> Int { r.lowerBound + int(below: r.count) }

    /// Standard normal by Box–Muller in Double (one value per call, so the state stays 4 words).
    public mutating func gaussian() -> Double {
        let u1 = 1.0 - nextDouble()          // (0, 1]
        let u2 = nextDouble()
        return (-2.0 * Foundation.log(u1)).squareRoot() * Foundation.cos(2.0 * Double.pi * u2)
    }

    /// Standard normal in Float (the Double draw, rounded).
    public mutating func normal() -> Float { Float(gaussian()) }

    /// A uniformly chosen element, or nil for an empty array.
    public mutating func element<T>(of array: [T]) -> T? {
        array.isEmpty ? nil : array[int(below: array.count)]
    }

    /// Fisher–Yates shuffle in place.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) { array.swapAt(i, int(below: i + 1)) }
    }

    /// `k` distinct indices from 0..<n in random order (sampling without replacement, partial Fisher–Yates).
    public mutating func sample(_ k: Int, from n: Int) -> [Int] {
        var idx = Array(0..<n)
        let k = min(k, n)
        for i in 0..<k { idx.swapAt(i, i + int(below: n - i)) }
        return Array(idx.prefix(k))
    }
}

extension Tensor {
    /// Values drawn from N(0, std²).
    public static func randomNormal(_ shape: [Int], std: Float = 1, rng: inout RNG) -> Tensor {
        var t = Tensor(uninitialized: shape)
        t.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = std * rng.normal() } }
        return t
    }

    /// Values drawn uniformly from [lo, hi).
    public static func randomUniform(_ shape: [Int], _ lo: Float, _ hi: Float, rng: inout RNG) -> Tensor {
        var t = Tensor(uninitialized: shape)
        t.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = rng.uniform(lo, hi) } }
        return t
    }

    /// He-normal (Kaiming, fan-in, gain √2) init: N(0, 2 / fanIn). For a conv weight
    /// [Cout, Cin, kD, kH, kW] the fan-in is Cin·kD·kH·kW (the default when `fanIn` is nil).
    public static func heNormal(_ shape: [Int], fanIn: Int? = nil, rng: inout RNG) -> Tensor {
        let fan = fanIn ?? shape.dropFirst().reduce(1, *)
        precondition(fan > 0, "heNormal: fan-in must be positive for shape \(shape)")
        return randomNormal(shape, std: (2.0 / Float(fan)).squareRoot(), rng: &rng)
    }
}
