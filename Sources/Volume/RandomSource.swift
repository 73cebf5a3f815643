import Foundation

/// A small seedable generator (SplitMix64) so sampling, augmentation and the phantom generator
/// are reproducible bit for bit, independent of the standard library's algorithms.
public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable, Codable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// An independent stream for a numbered consumer (case, worker, ...).
    public func split(_ stream: UInt64) -> SplitMix64 {
        var g = SplitMix64(seed: state ^ (stream &* 0xD2B7_4407_B1CE_6E93 &+ 0x632B_E59B_D9B4_E019))
        _ = g.next()
        return g
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * uniform() }
    /// Uniform integer in 0..<n (n ≥ 1), by multiply-high (bias < 2^-64 · n, negligible here).
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0, "int(below:) needs n > 0")
        return Int(next().multipliedFullWidth(by: UInt64(n)).high)
    }
    public mutating func int(in r: ClosedRange<Int>) -> Int { r.lowerBound + int(below: r.count) }
    public mutating func bernoulli(_ p: Double) -> Bool { p > 0 && uniform() < p }
    /// Standard normal by Box–Muller (one value per call; simple and reproducible).
    public mutating func gaussian() -> Double {
        let u1 = max(uniform(), 0x1.0p-60), u2 = uniform()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }
}
