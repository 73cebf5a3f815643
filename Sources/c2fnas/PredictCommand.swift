import ArgumentParser
import Foundation
import CLI
import Engine
import Volume

/// `c2fnas predict MODEL_DIR IMAGES... --out DIR`: segment NIfTI images with an exported model;
/// labels are written on each image's own grid, with its header and affine.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict", abstract: "Segment NIfTI images with an exported model (RUN/export).",
        discussion: """
        IMAGES are files or folders (e.g. a dataset's imagesTs/). nnU-Net channel files CASE_0000.nii.gz, \\
        CASE_0001.nii.gz, ... form one case when the model takes that many channels (name the _0000 file or \\
        the folder); the label map is written as CASE.nii.gz, as nnU-Net names it. Progress (case, window, \\
        ETA) goes to stderr unless --quiet.
        """)

    @Argument(help: "Export folder: architecture.json, weights.safetensors, plan.json.")
    var model: String
    @Argument(help: "Images (.nii or .nii.gz) or folders of images.")
    var images: [String]
    @Option(help: "Output folder for the label maps.")
    var out: String
    @Option(help: "Sliding-window overlap.")
    var overlap: Double = 0.5
    @Flag(help: "Mirror test-time augmentation (8x slower).")
    var mirror = false
    @Flag(help: "No progress line on stderr.")
    var quiet = false

    func run() throws {
        // Per-window tensors (1–32 MB) come from the heap and stay mapped between windows instead of
        // being mmapped and unmapped per op (1.35 M minor faults on a 512×512×300 CT); volume-sized
        // buffers above 32 MB are still mmapped and returned when freed.
        MallocTuning.set(.mmapThreshold, 32 << 20)
        MallocTuning.set(.trimThreshold, 256 << 20)
        let folder = try ModelFolder(URL(fileURLWithPath: model))
        let outDir = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
        let cases = try PredictionInputs.cases(images.map { URL(fileURLWithPath: $0) }, channels: folder.plan.normalization.count)
        let progress = quiet ? nil : ProgressReporter()
        for (n, c) in cases.enumerated() {
            let label = "predict \(n + 1)/\(cases.count) \(c.id)"
            progress?.restart(label)
            var image = try NIfTI.readChannels(c.files)
            for w in image.header.warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
            try image.requireFinite(path: c.files[0].path)
            let header = image.header
            // Hand the voxels over: the prediction keeps no second copy of the source volume.
            let volume = image.volume
            image.volume = Volume(grid: header.grid, channels: 0, data: [])
            let labels = try folder.predictLabels(consume volume, overlap: overlap, mirror: mirror) { done, total in
                progress?.update(done: done, total: total, label: label, extra: "windows")
            }
            let dest = outDir.appendingPathComponent(c.id + ".nii.gz")
            try NIfTI.write(labels, like: header, to: dest)
            print("\(c.files[0].path) → \(dest.path)")
        }
    }
}

/// Turns the command line's files and folders into cases: one file per channel, named like nnU-Net.
enum PredictionInputs {
    struct Case { var id: String; var files: [URL] }

    static func stem(_ name: String) -> String? {
        for suffix in [".nii.gz", ".nii"] where name.hasSuffix(suffix) { return String(name.dropLast(suffix.count)) }
        return nil
    }

    /// CASE_0003 → (CASE, 3); other names → nil.
    static func channelSuffix(_ stem: String) -> (id: String, channel: Int)? {
        guard stem.count > 5, stem.dropLast(4).hasSuffix("_"), let ch = Int(stem.suffix(4)), stem.suffix(4).allSatisfy(\.isNumber) else { return nil }
        return (String(stem.dropLast(5)), ch)
    }

    static func cases(_ inputs: [URL], channels: Int) throws -> [Case] {
        var out = [Case]()
        let fm = FileManager.default
        for url in inputs {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: url.path, isDirectory: &isDir) else {
                throw VolumeError.fileNotFound(path: url.path, role: "image or folder of images to predict")
            }
            if isDir.boolValue {
                let names = try fm.contentsOfDirectory(atPath: url.path).filter { !$0.hasPrefix(".") && stem($0) != nil }.sorted()
                // In a folder, channel files beyond _0000 belong to their _0000 case.
                for name in names {
                    let s = stem(name)!
                    if let (_, ch) = channelSuffix(s), ch > 0, channels > 1 { continue }
                    out.append(try oneCase(url.appendingPathComponent(name), channels: channels))
                }
            } else {
                guard stem(url.lastPathComponent) != nil else {
                    throw VolumeError.invalidArgument("\(url.path): not a NIfTI file name (.nii or .nii.gz)")
                }
                out.append(try oneCase(url, channels: channels))
            }
        }
        guard !out.isEmpty else { throw VolumeError.invalidArgument("no .nii/.nii.gz images in \(inputs.map(\.path))") }
        return out
    }

    /// A file; for a multi-channel model, CASE_0000 brings its CASE_0001... siblings.
    static func oneCase(_ url: URL, channels: Int) throws -> Case {
        let name = url.lastPathComponent
        let s = stem(name)!
        let ending = String(name.dropFirst(s.count))
        guard let (id, ch) = channelSuffix(s) else { return Case(id: s, files: [url]) }
        guard channels > 1 else { return Case(id: id, files: [url]) }
        guard ch == 0 else {
            throw VolumeError.invalidArgument("\(url.path): the model takes \(channels) channels; name the case's _0000 file (its _0001... files are found next to it)")
        }
        let files = (0..<channels).map { url.deletingLastPathComponent().appendingPathComponent(String(format: "%@_%04d%@", id, $0, ending)) }
        for (i, f) in files.enumerated() where !FileManager.default.fileExists(atPath: f.path) {
            throw VolumeError.fileNotFound(path: f.path, role: "channel \(i) of case \(id) (the model takes \(channels) channels)")
        }
        return Case(id: id, files: files)
    }
}

/// glibc's mallopt (malloc.h is not in the Glibc module; looked up once by name).
enum MallocTuning {
    enum Parameter: Int32 { case trimThreshold = -1, mmapThreshold = -3 }   // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
    static func set(_ parameter: Parameter, _ value: Int32) {
        guard let symbol = dlsym(nil, "mallopt") else { return }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        _ = unsafeBitCast(symbol, to: Mallopt.self)(parameter.rawValue, value)
    }
}
