import Foundation
import Tensor
import Files

/// The run's atomic writes (`AtomicWrite` in the Files module does the work), with errors that say what to do:
/// a full disk, a read-only folder, or the system's reason.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let code = AtomicWrite.write(data, toPath: url.path)
        if code != 0 { throw error(code, url.path) }
    }

    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    /// Encodes as pretty, key-sorted JSON and writes atomically.
    public static func writeJSON<T: Encodable>(_ value: T, to url: URL) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try write(try enc.encode(value), to: url)
    }

    /// fsyncs a folder so renames inside it are durable.
    public static func syncDirectory(_ url: URL) { AtomicWrite.syncDirectory(url.path) }

    static func error(_ code: Int32, _ path: String) -> RunFileError {
        switch code {
        case ENOSPC, EDQUOT, EFBIG: return .diskFull(path)
        case EROFS, EACCES, EPERM: return .readOnly(path)
        default: return .cannotWrite(path, reason: String(cString: strerror(code)))
        }
    }
}
