import Foundation

/// Append-only `events.jsonl`: one `EventRecord` a line. Each line is written with one `write`
/// call, so a `kill -9` can at worst leave a truncated last line, which the reader skips.
public final class EventLog: @unchecked Sendable {
    public let url: URL
    private let handle: FileHandle
    private let encoder: JSONEncoder
    private let lock = NSLock()

    public init(url: URL) throws {
        self.url = url
        let fm = FileManager.default
        if !fm.fileExists(atPath: url.path) {
            guard fm.createFile(atPath: url.path, contents: nil) else {
                throw RunFileError.cannotWrite(url.path, reason: "could not create the events log")
            }
        }
        do { handle = try FileHandle(forWritingTo: url) } catch {
            throw RunFileError.cannotWrite(url.path, reason: error.localizedDescription)
        }
        // A previous run killed mid-line leaves a fragment: end it so the next record starts clean.
        let end = try handle.seekToEnd()
        if end > 0 {
            let reader = try FileHandle(forReadingFrom: url)
            try reader.seek(toOffset: end - 1)
            let last = reader.readData(ofLength: 1)
            try reader.close()
            if last != Data([0x0A]) { handle.write(Data([0x0A])) }
        }
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    }

    deinit { try? handle.close() }

    public func append(_ record: EventRecord) throws {
        var line = try encoder.encode(record)
        line.append(0x0A)
        lock.lock(); defer { lock.unlock() }
        do { try handle.write(contentsOf: line) } catch {
            throw RunFileError.cannotWrite(url.path, reason: error.localizedDescription)
        }
    }

    /// Reads every complete record; undecodable lines (a truncated tail) are counted, not fatal.
    public static func read(_ url: URL) throws -> (records: [EventRecord], skippedLines: Int) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw RunFileError.cannotRead(url.path, reason: error.localizedDescription)
        }
        let decoder = JSONDecoder()
        var records: [EventRecord] = []
        var skipped = 0
        for line in data.split(separator: 0x0A, omittingEmptySubsequences: true) {
            if let r = try? decoder.decode(EventRecord.self, from: Data(line)) {
                records.append(r)
            } else {
                skipped += 1
            }
        }
        return (records, skipped)
    }
}
