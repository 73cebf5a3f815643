// The project's one random number generator: xoshiro256** seeded through SplitMix64.
//
// A Sendable value type, so each consumer owns its stream. `split()` derives an independent child
// stream (and advances the parent), which is how one run seed fans out to init, sampling,
// augmentation and search without the consumers disturbing each other. The state (4 words) can be
// saved as `[UInt64]` or as a 16-element Float tensor (16-bit pieces, exact in Float32) for a
// safetensors checkpoint.

public struct RNG: RandomNumberGenerator, Sendable, Hashable, Codable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A stream fully determined by `seed`.
    public init(seed: UInt64) {
        var sm = seed
        func splitMix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
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
    public mutating func nextFloat() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextDouble() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }

    /// Uniform in [lo, hi).
    public mutating func uniform(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * nextFloat() }

    /// Uniform integer in 0..<n.
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0, "RNG.int(below:) needs n > 0")
        return Int(next(upperBound: UInt64(n)))
    }

    /// Standard normal (Box–Muller in Double; one draw per call, so the state stays 4 words).
    public mutating func normal() -> Float {
        let u1 = 1.0 - nextDouble()          // (0, 1]
        let u2 = nextDouble()
        return Float((-2.0 * _log(u1)).squareRoot() * _cos(2.0 * Double.pi * u2))
    }
}

import Foundation
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }

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
