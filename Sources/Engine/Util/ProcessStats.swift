import Foundation

/// Memory figures of this process, read from /proc (Linux).
public enum ProcessStats {
    /// Resident set size now, in bytes.
    public static var residentBytes: Int { statusField("VmRSS:") }
    /// Peak resident set size since start, in bytes.
    public static var peakResidentBytes: Int { statusField("VmHWM:") }

    static func statusField(_ name: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            // "VmRSS:\t  123456 kB": a tab, then padding spaces.
            let kb = line.dropFirst(name.count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) } ?? 0
            return kb * 1024
        }
        return 0
    }

    /// "1.2G", "340M", "12K".
    public static func format(bytes: Double) -> String {
        let units = ["B", "K", "M", "G", "T"]
        var v = bytes, i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? "\(Int(v))B" : String(format: v < 10 ? "%.1f%@" : "%.0f%@", v, units[i])
    }

    /// "0:41", "1:02:03".
    public static func format(seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                         : String(format: "%d:%02d", s / 60, s % 60)
    }
}
