import Foundation

/// Short number texts for narrow columns.
public enum Format {
    /// 1234567 → "1.23M" (decimal SI: k, M, G, T), at most 5 characters for values below 1000T.
    public static func si(_ v: Double) -> String {
        let units = ["", "k", "M", "G", "T", "P"]
        var x = abs(v), u = 0
        while x >= 999.5, u < units.count - 1 { x /= 1000; u += 1 }
        let sign = v < 0 ? "-" : ""
        if u == 0 { return sign + String(format: "%.0f", x) }
        let digits = x >= 99.95 ? "%.0f" : (x >= 9.995 ? "%.1f" : "%.2f")
        return sign + String(format: digits, x) + units[u]
    }

    /// Bytes in binary units: "512B", "1.5K", "1.2G".
    public static func bytes(_ b: Int64) -> String {
        let units = ["B", "K", "M", "G", "T"]
        var x = Double(b), u = 0
        while x >= 1023.5, u < units.count - 1 { x /= 1024; u += 1 }
        if u == 0 { return "\(b)B" }
        return String(format: x >= 9.95 ? "%.0f" : "%.1f", x) + units[u]
    }

    /// Seconds as "0:41", "12:05" or "3:02:09".
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let s = Int(seconds.rounded())
        let h = s / 3600, m = (s / 60) % 60, sec = s % 60
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, sec) : String(format: "%d:%02d", m, sec)
    }
}
