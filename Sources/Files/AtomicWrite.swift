import Foundation

/// Writes that are complete or absent, for every module that saves files: data goes to `name.tmp`, is
/// fsynced, then renamed over the target, and the folder is fsynced so the rename itself survives a
/// crash. Returns 0 or the errno of the failed call; callers turn it into their own error type.
public enum AtomicWrite {
    public static func write(_ data: Data, toPath path: String) -> Int32 {
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return errno }
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
        if failure != 0 { unlink(tmp); return failure }
        if rename(tmp, path) != 0 { let e = errno; unlink(tmp); return e }
        syncDirectory((path as NSString).deletingLastPathComponent)
        return 0
    }

    /// fsyncs a folder so renames inside it are durable.
    public static func syncDirectory(_ path: String) {
        let fd = open(path.isEmpty ? "." : path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
    }
}
