import Foundation
import Engine

/// One line of events.jsonl, kept both typed (when this build knows the event) and raw (its kind
/// and JSON fields), so events added by newer builds still reach the report's generic sections.
public struct RawEvent: @unchecked Sendable {
    public var kind: String
    public var step: Int
    public var stage: String
    /// The event's own fields (JSON values from JSONSerialization).
    public var fields: [String: Any]
    public var record: EventRecord?
}

/// One row of metrics.csv.
public struct MetricRow: Sendable, Equatable {
    public var step: Int
    public var stage: String
    public var loss: Double?
    public var dice: Double?
}

/// Everything a report reads from a run folder, read defensively: every file is optional, bad
/// lines are skipped and listed in `problems` (the report shows them) instead of failing.
public struct RunFiles: @unchecked Sendable {
    public var directory: RunDirectory
    public var config: [String: Any]
    public var source: RunSource?
    public var events: [RawEvent] = []
    public var metrics: [MetricRow] = []
    public var candidates: [CandidateRecord] = []
    public var problems: [String] = []

    public init(directory: RunDirectory) {
        self.directory = directory
        config = (try? Data(contentsOf: directory.config)).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
        source = RunSource.load(directory)
        readEvents()
        readMetrics()
        readCandidates()
    }

    static func lines(_ url: URL) -> [Substring]? {
        guard let data = try? Data(contentsOf: url) else { return nil }
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
    }

    mutating func readEvents() {
        guard let lines = Self.lines(directory.events) else { problems.append("no events.jsonl"); return }
        let decoder = JSONDecoder()
        for (n, line) in lines.enumerated() {
            let data = Data(line.utf8)
            guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let event = obj["event"] as? [String: Any], let kind = event.keys.first else {
                problems.append("events.jsonl line \(n + 1) is not an event (a write cut short?)")
                continue
            }
            events.append(RawEvent(kind: kind, step: obj["step"] as? Int ?? 0, stage: obj["stage"] as? String ?? "",
                                   fields: event[kind] as? [String: Any] ?? [:], record: try? decoder.decode(EventRecord.self, from: data)))
        }
    }

    mutating func readMetrics() {
        guard let lines = Self.lines(directory.metrics) else { return }
        for (n, line) in lines.enumerated() where n > 0 {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 4, let step = Int(f[0]) else { problems.append("metrics.csv line \(n + 1) unreadable"); continue }
            metrics.append(MetricRow(step: step, stage: f[1], loss: Double(f[2]), dice: Double(f[3])))
        }
    }

    mutating func readCandidates() {
        guard let lines = Self.lines(directory.candidates) else { return }
        let decoder = JSONDecoder()
        for (n, line) in lines.enumerated() {
            if let c = try? decoder.decode(CandidateRecord.self, from: Data(line.utf8)) { candidates.append(c) } else {
                problems.append("candidates.jsonl line \(n + 1) unreadable")
            }
        }
    }

    /// Typed events of this build, in order.
    public var records: [EventRecord] { events.compactMap(\.record) }

    /// Raw events whose kind contains any of `words` (case-insensitive), for optional sections.
    public func events(matching words: [String]) -> [RawEvent] {
        events.filter { e in words.contains { e.kind.lowercased().contains($0) } }
    }
}
