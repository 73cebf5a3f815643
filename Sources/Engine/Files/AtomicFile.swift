import Foundation

/// Writes that are complete or absent: data goes to `name.tmp`, is fsynced, then renamed over
/// the target, and the folder is fsynced so the rename itself survives a crash.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let tmp = url.path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw error(errno, url.path) }
        var failure: Int32 = 0
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; failure = errno; return }
                offset += n
            }
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure != 0 { unlink(tmp); throw error(failure, url.path) }
        if rename(tmp, url.path) != 0 { let e = errno; unlink(tmp); throw error(e, url.path) }
        syncDirectory(url.deletingLastPathComponent())
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
    public static func syncDirectory(_ url: URL) {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
    }

    static func error(_ code: Int32, _ path: String) -> RunFileError {
        switch code {
        case ENOSPC, EDQUOT, EFBIG: return .diskFull(path)
        case EROFS, EACCES, EPERM: return .readOnly(path)
        default: return .cannotWrite(path, reason: String(cString: strerror(code)))
        }
    }
}
