import Foundation

/// Checkpoints are folders that are complete or absent. A save writes every file into
/// `ckpt-<step>.tmp/` (each fsynced), adds `manifest.json` with the byte count of each file,
/// renames the folder to `ckpt-<step>`, then atomically points `LATEST` at it. A failure at any
/// point removes the temporary folder and leaves the previous checkpoint untouched.
public struct CheckpointStore: Sendable {
    public let root: URL
    /// How many complete checkpoints to keep (older ones are deleted after a successful save).
    public var keep: Int

    public init(root: URL, keep: Int = 2) { self.root = root; self.keep = keep }

    struct Manifest: Codable { var step: Int; var files: [String: Int] }

    @discardableResult
    public func save(step: Int, files: [String: Data]) throws -> URL {
        let fm = FileManager.default
        let name = String(format: "ckpt-%09d", step)
        let final = root.appendingPathComponent(name)
        let tmp = root.appendingPathComponent(name + ".tmp")
        try? fm.removeItem(at: tmp)
        do {
            try fm.createDirectory(at: tmp, withIntermediateDirectories: true)
        } catch { throw RunFileError.readOnly(root.path) }
        do {
            for (file, data) in files { try AtomicFile.write(data, to: tmp.appendingPathComponent(file)) }
            let manifest = Manifest(step: step, files: files.mapValues(\.count))
            try AtomicFile.writeJSON(manifest, to: tmp.appendingPathComponent("manifest.json"))
            try? fm.removeItem(at: final)
            guard rename(tmp.path, final.path) == 0 else { throw AtomicFile.error(errno, final.path) }
            AtomicFile.syncDirectory(root)
            try AtomicFile.write(name, to: root.appendingPathComponent("LATEST"))
        } catch {
            try? fm.removeItem(at: tmp)
            if case RunFileError.diskFull = error { throw RunFileError.diskFull(final.path) }
            throw error
        }
        prune(except: name)
        return final
    }

    /// The newest complete checkpoint: the one `LATEST` names if its manifest checks out,
    /// else the newest folder whose manifest does.
    public func latest() -> URL? { newest(where: isComplete) }

    /// The folder `LATEST` names if it passes `accept`, else the newest `ckpt-*` folder that does.
    func newest(where accept: (URL) -> Bool) -> URL? {
        if let name = try? String(contentsOf: root.appendingPathComponent("LATEST"), encoding: .utf8) {
            let url = root.appendingPathComponent(name.trimmingCharacters(in: .whitespacesAndNewlines))
            if accept(url) { return url }
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [])
            .filter { $0.hasPrefix("ckpt-") && !$0.hasSuffix(".tmp") }.sorted(by: >)
        return names.map { root.appendingPathComponent($0) }.first(where: accept)
    }

    /// Reads every file a checkpoint's manifest lists, checking sizes.
    public func load(_ url: URL) throws -> [String: Data] {
        let manifestURL = url.appendingPathComponent("manifest.json")
        guard let data = try? Data(contentsOf: manifestURL),
              let manifest = try? JSONDecoder().decode(Manifest.self, from: data) else {
            throw RunFileError.corrupt(manifestURL.path, reason: "missing or unreadable manifest")
        }
        var out: [String: Data] = [:]
        for (file, size) in manifest.files {
            let path = url.appendingPathComponent(file)
            guard let d = try? Data(contentsOf: path) else {
                throw RunFileError.corrupt(path.path, reason: "file missing")
            }
            guard d.count == size else {
                throw RunFileError.corrupt(path.path, reason: "\(d.count) bytes, manifest says \(size)")
            }
            out[file] = d
        }
        return out
    }

    func isComplete(_ url: URL) -> Bool { (try? load(url)) != nil }

    private func prune(except current: String) {
        let fm = FileManager.default
        let names = ((try? fm.contentsOfDirectory(atPath: root.path)) ?? [])
            .filter { $0.hasPrefix("ckpt-") && !$0.hasSuffix(".tmp") && $0 != current }.sorted(by: >)
        for old in names.dropFirst(max(0, keep - 1)) {
            try? fm.removeItem(at: root.appendingPathComponent(old))
        }
    }
}
