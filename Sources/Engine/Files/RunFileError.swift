import Foundation

/// File errors of a run directory; each message names the file and what to do about it.
public enum RunFileError: Error, CustomStringConvertible, Equatable {
    case cannotWrite(String, reason: String)
    case cannotRead(String, reason: String)
    case diskFull(String)
    case readOnly(String)
    case corrupt(String, reason: String)

    public var description: String {
        switch self {
        case let .cannotWrite(path, reason):
            return "cannot write \(path): \(reason). Check that the folder exists and is writable; the previous version of the file, if any, is intact."
        case let .cannotRead(path, reason):
            return "cannot read \(path): \(reason). Check the path and its permissions."
        case let .diskFull(path):
            return "the disk is full while writing \(path). The previous checkpoint or export is intact; free some space (or choose another --run folder) and run the same command again to resume."
        case let .readOnly(path):
            return "\(path) is on a read-only file system or not writable. Choose a writable run folder with --run DIR."
        case let .corrupt(path, reason):
            return "\(path) is damaged (\(reason)). Delete it to fall back to the previous checkpoint, or start a new run folder."
        }
    }
}
