import ArgumentParser
import Foundation
import Engine
import Volume

/// `c2fnas predict MODEL_DIR IMAGES... --out DIR`: segment NIfTI images with an exported model;
/// labels are written on each image's own grid, with its header and affine.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict", abstract: "Segment NIfTI images with an exported model (RUN/export).")

    @Argument(help: "Export folder: architecture.json, weights.safetensors, plan.json.")
    var model: String
    @Argument(help: "Images (.nii or .nii.gz).")
    var images: [String]
    @Option(help: "Output folder for the label maps.")
    var out: String
    @Option(help: "Sliding-window overlap.")
    var overlap: Double = 0.5
    @Flag(help: "Mirror test-time augmentation (8x slower).")
    var mirror = false

    func run() throws {
        let folder = try ModelFolder(URL(fileURLWithPath: model))
        let outDir = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
        for path in images {
            let url = URL(fileURLWithPath: path)
            let image = try NIfTI.readImage(url)
            try image.requireFinite(path: url.path)
            let labels = try folder.predict(image, overlap: overlap, mirror: mirror)
            var name = url.lastPathComponent
            for suffix in [".nii.gz", ".nii"] where name.hasSuffix(suffix) { name = String(name.dropLast(suffix.count)); break }
            // MSD images carry a _0000 channel suffix; the label keeps the case id.
            if name.hasSuffix("_0000") { name = String(name.dropLast(5)) }
            let dest = outDir.appendingPathComponent(name + ".nii.gz")
            try NIfTI.write(labels, like: image.header, to: dest)
            print("\(path) → \(dest.path)")
        }
    }
}
