/// A small seedable generator for the search: xoshiro256** seeded through SplitMix64.
///
/// It is a value type whose whole state is four words, so it is `Sendable` and `Codable`: an
/// evolution checkpoint stores it and a resumed run continues the exact same stream. The helpers
/// below (`int(below:)`, `double()`, `shuffle`) are written here rather than taken from the
/// standard library so the streams do not depend on the toolchain's `random(in:)` algorithms.
/// (Local to Search for now; the lead may unify RNGs later.)
public struct SearchRNG: RandomNumberGenerator, Sendable, Codable, Hashable {
    private var s0, s1, s2, s3: UInt64

    /// The four state words (what a checkpoint stores).
    public var state: [UInt64] { [s0, s1, s2, s3] }

    /// Seeds the four state words from SplitMix64, as the xoshiro authors recommend.
    public init(seed: UInt64) {
        var sm = seed
        s0 = SearchRNG.splitMix64(&sm)
        s1 = SearchRNG.splitMix64(&sm)
        s2 = SearchRNG.splitMix64(&sm)
        s3 = SearchRNG.splitMix64(&sm)
    }

    /// A generator for a named sub-stream of `seed` (e.g. one per cluster), independent of the parent.
    public init(seed: UInt64, stream: UInt64) {
        var sm = seed ^ (stream &* 0xD1B5_4A32_D192_ED03)
        _ = SearchRNG.splitMix64(&sm)
        self.init(seed: SearchRNG.splitMix64(&sm))
    }

    private enum CodingKeys: String, CodingKey { case state }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let s = try c.decode([UInt64].self, forKey: .state)
        guard s.count == 4, s.contains(where: { $0 != 0 }) else {
            throw DecodingError.dataCorruptedError(forKey: .state, in: c,
                debugDescription: "RNG state must be 4 words, not all zero")
        }
        (s0, s1, s2, s3) = (s[0], s[1], s[2], s[3])
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(state, forKey: .state)
    }

    static func splitMix64(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always) static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = SearchRNG.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = SearchRNG.rotl(s3, 45)
        return result
    }

    /// Uniform integer in 0..<bound (Lemire's multiply-and-reject, unbiased).
    public mutating func int(below bound: Int) -> Int {
        precondition(bound > 0, "SearchRNG.int(below:) needs a positive bound")
        let b = UInt64(bound)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// Uniform double in [0, 1) with 53 random bits.
    public mutating func double() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A uniformly chosen element, or nil for an empty collection.
    public mutating func element<T>(of array: [T]) -> T? {
        array.isEmpty ? nil : array[int(below: array.count)]
    }

    /// Fisher-Yates shuffle.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, int(below: i + 1))
        }
    }

    /// `k` distinct indices from 0..<n in random order (partial Fisher-Yates).
    public mutating func sample(_ k: Int, from n: Int) -> [Int] {
        var idx = Array(0..<n)
        let k = min(k, n)
        for i in 0..<k { idx.swapAt(i, i + int(below: n - i)) }
        return Array(idx.prefix(k))
    }
}
