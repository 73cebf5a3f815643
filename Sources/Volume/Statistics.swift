/// Small statistics helpers (Double accumulation).
public enum Stats {
    /// numpy-style percentile with linear interpolation; `q` in 0...100. NaN for empty input.
    public static func percentile(_ values: [Double], _ q: Double) -> Double {
        percentile(sorted: values.sorted(), q)
    }
    public static func percentile(sorted s: [Double], _ q: Double) -> Double {
        guard !s.isEmpty else { return .nan }
        let pos = q / 100 * Double(s.count - 1)
        let lo = Int(pos.rounded(.down)), hi = min(lo + 1, s.count - 1)
        return s[lo] + (s[hi] - s[lo]) * (pos - Double(lo))
    }
    public static func median(_ values: [Double]) -> Double { percentile(values, 50) }
    public static func mean(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count) }
    /// Population standard deviation.
    public static func std(_ v: [Double]) -> Double {
        guard !v.isEmpty else { return .nan }
        let m = mean(v)
        return (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count)).squareRoot()
    }
}
