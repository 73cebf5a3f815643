import Foundation
import Testing
@testable import Engine
@testable import Volume

/// An nnU-Net v2 raw copy of the bundled sample: dataset.json with `channel_names`, `labels`
/// name → id, `file_ending`, `numTraining`; imagesTr/CASE_0000.nii.gz; no `training` list.
func makeNNUNetCopy(_ dir: URL, channels: Int = 1) throws {
    let fm = FileManager.default
    for sub in ["imagesTr", "labelsTr", "imagesTs"] { try fm.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true) }
    let msd = try MSDDataset.load(sampleTask)
    for c in msd.training {
        for ch in 0..<channels {
            try fm.copyItem(at: c.image, to: dir.appendingPathComponent(String(format: "imagesTr/%@_%04d.nii.gz", c.id, ch)))
        }
        try fm.copyItem(at: c.label, to: dir.appendingPathComponent("labelsTr/\(c.id).nii.gz"))
    }
    for t in msd.test {
        for ch in 0..<channels { try fm.copyItem(at: t.image, to: dir.appendingPathComponent(String(format: "imagesTs/%@_%04d.nii.gz", t.id, ch))) }
    }
    let names = (0..<channels).map { "\"\($0)\": \"\($0 == 0 ? "CT" : "CT\($0)")\"" }.joined(separator: ", ")
    let json = """
    {"channel_names": {\(names)}, "labels": {"background": 0, "liver": 1, "spleen": 2, "tumour": 3},
     "numTraining": \(msd.training.count), "file_ending": ".nii.gz", "name": "Dataset900_Phantom"}
    """
    try Data(json.utf8).write(to: dir.appendingPathComponent("dataset.json"))
}

@Suite("nnU-Net v2 raw layout", .serialized)
struct NNUNetLayoutTests {
    @Test("the layout is detected; cases, channels and labels match the MSD original")
    func detected() throws {
        let dir = try temporaryFolder("nnunet"); defer { try? FileManager.default.removeItem(at: dir) }
        try makeNNUNetCopy(dir, channels: 2)
        let ds = try MSDDataset.load(dir)
        let msd = try MSDDataset.load(sampleTask)
        #expect(ds.layout == .nnUNetV2 && msd.layout == .msd)
        #expect(ds.training.map(\.id) == msd.training.map(\.id).sorted())
        #expect(ds.test.map(\.id) == msd.test.map(\.id).sorted())
        #expect(ds.labels == msd.labels)
        #expect(ds.modalities.count == 2)
        try ds.validate()
        // Two channel files → one two-channel image whose channels are the original image.
        let c = ds.training[0]
        let (image, labels) = try ds.loadCase(c)
        let (orig, origLabels) = try msd.loadCase(msd.training.first { $0.id == c.id }!)
        #expect(image.volume.channels == 2)
        #expect(Array(image.volume.data[0..<orig.volume.data.count]) == orig.volume.data)
        #expect(Array(image.volume.data[orig.volume.data.count...]) == orig.volume.data)
        #expect(labels.data == origLabels.data)
    }

    @Test("a missing channel file and a wrong numTraining are refused by name")
    func refused() throws {
        let dir = try temporaryFolder("nnunet-bad"); defer { try? FileManager.default.removeItem(at: dir) }
        try makeNNUNetCopy(dir, channels: 2)
        let gone = dir.appendingPathComponent("imagesTr/phantom_003_0001.nii.gz")
        try FileManager.default.removeItem(at: gone)
        #expect(throws: VolumeError.self) { try MSDDataset.load(dir) }
        do { _ = try MSDDataset.load(dir) } catch { #expect("\(error)".contains(gone.path)) }
        try FileManager.default.copyItem(at: dir.appendingPathComponent("imagesTr/phantom_003_0000.nii.gz"), to: gone)
        var json = try String(contentsOf: dir.appendingPathComponent("dataset.json"), encoding: .utf8)
        json = json.replacingOccurrences(of: "\"numTraining\": 12", with: "\"numTraining\": 13")
        try Data(json.utf8).write(to: dir.appendingPathComponent("dataset.json"))
        do { _ = try MSDDataset.load(dir); Issue.record("numTraining 13 accepted") } catch { #expect("\(error)".contains("numTraining")) }
    }

    @Test("an nnU-Net copy of the sample searches (tiny preset, reduced) and predicts with nnU-Net naming")
    func searchAndPredict() throws {
        let dir = try temporaryFolder("nnunet-run"); defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("Dataset900_Phantom"), run = dir.appendingPathComponent("run")
        try makeNNUNetCopy(data)
        let search = try runC2FNASCapturing(["search", data.path, "--run", run.path] + reducedOverrides.flatMap { ["--set", $0] })
        #expect(search.status == 0, "\(search.err)")
        let out = dir.appendingPathComponent("pred")
        let test = data.appendingPathComponent("imagesTs/phantom_101_0000.nii.gz")
        let predict = try runC2FNASCapturing(["predict", run.appendingPathComponent("export").path, test.path, "--out", out.path, "--quiet"])
        #expect(predict.status == 0, "\(predict.err)")
        let written = out.appendingPathComponent("phantom_101.nii.gz")
        let (labels, _) = try NIfTI.readLabels(written)
        let header = try NIfTI.readHeader(test)
        #expect(labels.shape == header.grid.shape)
        #expect(!predict.err.contains("window"), "--quiet prints no progress")
        // A folder of nnU-Net test images predicts every case.
        let all = try runC2FNASCapturing(["predict", run.appendingPathComponent("export").path, data.appendingPathComponent("imagesTs").path,
                                 "--out", out.path, "--quiet"])
        #expect(all.status == 0, "\(all.err)")
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(names == ["phantom_101.nii.gz", "phantom_102.nii.gz", "phantom_103.nii.gz"])
    }
}

@Suite("nnU-Net layout, two channels")
struct NNUNetTwoChannelTests {
    @Test("a two-channel task searches, exports a 2-channel model and predicts each case from its two channel files")
    func twoChannels() throws {
        let dir = try temporaryFolder("nnunet-2ch"); defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("Dataset901_Phantom2"), run = dir.appendingPathComponent("run")
        try makeNNUNetCopy(data, channels: 2)
        let search = try runC2FNASCapturing(["search", data.path, "--run", run.path] + reducedOverrides.flatMap { ["--set", $0] })
        #expect(search.status == 0, "\(search.err)")
        let model = try ModelFolder(run.appendingPathComponent("export"))
        #expect(model.architecture.inputChannels == 2)
        let out = dir.appendingPathComponent("pred")
        let all = try runC2FNASCapturing(["predict", run.appendingPathComponent("export").path, data.appendingPathComponent("imagesTs").path,
                                          "--out", out.path, "--quiet"])
        #expect(all.status == 0, "\(all.err)")
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(names == ["phantom_101.nii.gz", "phantom_102.nii.gz", "phantom_103.nii.gz"])
        let header = try NIfTI.readHeader(data.appendingPathComponent("imagesTs/phantom_101_0000.nii.gz"))
        #expect(try NIfTI.readLabels(out.appendingPathComponent("phantom_101.nii.gz")).0.shape == header.grid.shape)
        // Naming CASE_0000 brings its _0001 sibling (nnU-Net's convention); naming _0001 is refused, and
        // so is a case whose second channel file is missing, naming that file.
        let first = try runC2FNASCapturing(["predict", run.appendingPathComponent("export").path,
                                            data.appendingPathComponent("imagesTs/phantom_101_0000.nii.gz").path, "--out", out.path, "--quiet"])
        #expect(first.status == 0, "\(first.err)")
        let second = try runC2FNASCapturing(["predict", run.appendingPathComponent("export").path,
                                             data.appendingPathComponent("imagesTs/phantom_101_0001.nii.gz").path, "--out", out.path, "--quiet"])
        #expect(second.status != 0 && second.err.contains("_0000"), "\(second.err)")
        try FileManager.default.removeItem(at: data.appendingPathComponent("imagesTs/phantom_102_0001.nii.gz"))
        let missing = try runC2FNASCapturing(["predict", run.appendingPathComponent("export").path,
                                              data.appendingPathComponent("imagesTs/phantom_102_0000.nii.gz").path, "--out", out.path, "--quiet"])
        #expect(missing.status != 0 && missing.err.contains("phantom_102_0001.nii.gz") && missing.err.contains("channel 1"), "\(missing.err)")
    }
}
