import Foundation
import Testing
@testable import Volume

/// A tiny phantom task in a temporary folder (small shapes keep the tests fast).
func makeSmallTask(_ tag: String, cases: Int = 3, tests: Int = 1) throws -> URL {
    let dir = try makeTempDir(tag)
    var cfg = PhantomConfig()
    cfg.minShape = Shape3(24, 24, 10); cfg.maxShape = Shape3(28, 26, 12)
    try Phantom.writeTask(to: dir, trainingCases: cases, testCases: tests, seed: 5, config: cfg)
    return dir
}

func writeText(_ s: String, to url: URL) throws { try Data(s.utf8).write(to: url) }

@Suite("MSD dataset")
struct DatasetTests {
    @Test("dataset.json is parsed: name, modality, labels, training pairs and test list resolve inside the folder")
    func parse() throws {
        let dir = try makeSmallTask("ds"); defer { try? FileManager.default.removeItem(at: dir) }
        let ds = try MSDDataset.load(dir)
        #expect(ds.name == "Phantom" && ds.modalities == ["CT"] && ds.isCT(channel: 0))
        #expect(ds.labels == Phantom.labels && ds.classCount == 4)
        #expect(ds.training.map(\.id) == ["phantom_001", "phantom_002", "phantom_003"])
        #expect(ds.training[0].image.path.hasSuffix("/imagesTr/phantom_001.nii.gz"))
        #expect(ds.training[0].label.path.hasSuffix("/labelsTr/phantom_001.nii.gz"))
        #expect(ds.test.map(\.id) == ["phantom_101"])
        try ds.checkFiles()
        try ds.validate()
        let (ih, lh) = try ds.checkCase(ds.training[1])
        #expect(ih.grid.matches(lh.grid))
        let (img, lab) = try ds.loadCase(ds.training[0])
        #expect(img.volume.shape == lab.shape && Set(lab.data).isSubset(of: [0, 1, 2, 3]))
    }

    @Test("missing dataset.json and malformed JSON name the file and the fix")
    func badJSON() throws {
        let dir = try makeTempDir("badjson"); defer { try? FileManager.default.removeItem(at: dir) }
        expectVolumeError([dir.lastPathComponent, "no dataset.json", "c2fnas sample"]) { _ = try MSDDataset.load(dir) }
        let json = dir.appendingPathComponent("dataset.json")
        try writeText("{\"name\": \"x\", ", to: json)
        expectVolumeError(["dataset.json", "not valid JSON"]) { _ = try MSDDataset.load(dir) }
        try writeText("{\"modality\": {\"0\": \"CT\"}, \"labels\": {\"0\": \"bg\", \"1\": \"a\"}}", to: json)
        expectVolumeError(["dataset.json", "\"training\""]) { _ = try MSDDataset.load(dir) }
        try writeText("{\"modality\": {\"1\": \"CT\"}, \"labels\": {\"0\": \"bg\"}, \"training\": []}", to: json)
        expectVolumeError(["\"modality\" must have keys"]) { _ = try MSDDataset.load(dir) }
        try writeText("{\"modality\": {\"0\": \"CT\"}, \"labels\": {\"zero\": \"bg\"}, \"training\": []}", to: json)
        expectVolumeError(["\"labels\" key \"zero\""]) { _ = try MSDDataset.load(dir) }
        try writeText("[1, 2]", to: json)
        expectVolumeError(["top level must be an object"]) { _ = try MSDDataset.load(dir) }
    }

    @Test("paths that leave the dataset folder are refused", arguments: ["../outside.nii.gz", "./imagesTr/../../x.nii.gz", "/etc/passwd"])
    func escape(entry: String) throws {
        let dir = try makeTempDir("escape"); defer { try? FileManager.default.removeItem(at: dir) }
        try writeText("""
        {"modality": {"0": "CT"}, "labels": {"0": "bg", "1": "a"},
         "training": [{"image": "\(entry)", "label": "./labelsTr/a.nii.gz"}]}
        """, to: dir.appendingPathComponent("dataset.json"))
        expectVolumeError([entry, "leaves the dataset folder"]) { _ = try MSDDataset.load(dir) }
    }

    @Test("a missing image or label names the case and the file")
    func missingFiles() throws {
        let dir = try makeSmallTask("missing"); defer { try? FileManager.default.removeItem(at: dir) }
        let ds = try MSDDataset.load(dir)
        try FileManager.default.removeItem(at: ds.training[1].label)
        expectVolumeError(["labelsTr/phantom_002.nii.gz", "label of case phantom_002"]) { try ds.checkFiles() }
        try FileManager.default.removeItem(at: ds.training[0].image)
        expectVolumeError(["imagesTr/phantom_001.nii.gz", "image of case phantom_001"]) { try ds.checkFiles() }
    }

    @Test("grid mismatch, unknown label values and channel count are caught per case")
    func caseChecks() throws {
        let dir = try makeSmallTask("cases"); defer { try? FileManager.default.removeItem(at: dir) }
        let ds = try MSDDataset.load(dir)
        // Label of case 2 replaced by case 1's (different shape).
        try FileManager.default.removeItem(at: ds.training[1].label)
        try FileManager.default.copyItem(at: ds.training[0].label, to: ds.training[1].label)
        expectVolumeError(["case phantom_002", "different grids", "Resample the label"]) { try ds.checkCase(ds.training[1]) }
        expectVolumeError(["case phantom_002", "different grids"]) { try ds.validate() }
        expectVolumeError(["case phantom_002", "different grids"]) { _ = try ds.loadCase(ds.training[1]) }
        // A label value 7 that dataset.json does not list.
        let (lab, header) = try NIfTI.readLabels(ds.training[2].label)
        var bad = lab; bad.data[bad.data.count / 2] = 7
        try NIfTI.write(bad, like: header, to: ds.training[2].label)
        expectVolumeError(["case phantom_003", "[7]", "Add them to \"labels\""]) { _ = try ds.loadCase(ds.training[2]) }
        // The modality map claims two channels.
        var two = ds; two.modalities = ["CT", "PET"]
        expectVolumeError(["case phantom_001", "1 channel(s)", "lists 2"]) { try two.checkCase(ds.training[0]) }
    }
}

@Suite("fingerprint and plan")
struct FingerprintPlanTests {
    @Test("fingerprint counts classes exactly, pools foreground intensities; plan uses the median spacing and CT window")
    func fingerprintAndPlan() throws {
        let dir = try makeSmallTask("fp", cases: 3, tests: 0); defer { try? FileManager.default.removeItem(at: dir) }
        let ds = try MSDDataset.load(dir)
        let f = try Fingerprint.compute(dataset: ds, samplesPerCase: 1_000_000)
        #expect(f.cases.count == 3)
        var allForeground = [Double]()
        for (c, fc) in zip(ds.training, f.cases) {
            let (img, lab) = try ds.loadCase(c)
            #expect(fc.shape == img.volume.shape.array)
            #expect(fc.classVoxels == lab.classCounts())
            for i in lab.data.indices where lab.data[i] > 0 { allForeground.append(Double(img.volume.data[i])) }
        }
        let s = f.foreground[0]
        #expect(s.samples == allForeground.count)
        #expect(abs(s.mean - Stats.mean(allForeground)) < 1e-9)
        #expect(abs(s.percentile99_5 - Stats.percentile(allForeground, 99.5)) < 1e-9)
        let plan = Plan.make(fingerprint: f, patchSize: Shape3(32, 32, 32), divisor: 8)
        for a in 0..<3 { #expect(plan.targetSpacing[a] == Stats.median(f.cases.map { $0.spacing[a] })) }
        #expect(plan.normalization == [.ct(s)])
        #expect(plan.classCount == 4)
        // Median resampled z is about 11 slices → the 32 patch side shrinks to 16 (multiple of 8).
        #expect(plan.patchSize[2] == max(8, (plan.medianResampledShape[2] + 7) / 8 * 8))
        #expect(plan.memory.inputBatch == 2 * plan.patch.count * 5)
        // JSON round trip.
        let url = dir.appendingPathComponent("plan.json")
        try plan.write(to: url)
        let back = try JSONDecoder().decode(Plan.self, from: Data(contentsOf: url))
        #expect(back == plan)
    }

    @Test("percentile matches numpy's linear rule")
    func percentile() {
        #expect(Stats.percentile([1, 2, 3, 4], 50) == 2.5)
        #expect(abs(Stats.percentile([10, 0, 5], 99.5) - 9.95) < 1e-12)
        #expect(Stats.percentile([3], 0.5) == 3)
    }
}

@Suite("phantom sample task")
struct PhantomTests {
    @Test("same seed → identical case; another seed → a different one")
    func deterministic() {
        var cfg = PhantomConfig(); cfg.minShape = Shape3(30, 30, 12); cfg.maxShape = Shape3(36, 34, 16)
        let a = Phantom.generate(index: 2, seed: 9, config: cfg), b = Phantom.generate(index: 2, seed: 9, config: cfg)
        #expect(a.image == b.image && a.labels == b.labels && a.header == b.header)
        let c = Phantom.generate(index: 2, seed: 10, config: cfg)
        #expect(c.image != a.image)
        let d = Phantom.generate(index: 3, seed: 9, config: cfg)
        #expect(d.labels != a.labels)
    }

    @Test("labels are the documented classes: liver and spleen ellipsoids, tumour inside the liver; HU as documented",
          arguments: [0, 1, 2, 3])
    func labelsMatchGeometry(index: Int) {
        let ph = Phantom.generate(index: index, seed: 1)
        let l = ph.labels, g = l.grid
        #expect(g.shape.x <= 96 && g.shape.y <= 96 && g.shape.z <= 48)
        #expect(Set(l.data).isSubset(of: Set(Phantom.labels.keys.map { UInt8($0) })))
        let counts = l.classCounts()
        #expect(counts.count == 4 && counts[1] > 0 && counts[2] > 0 && counts[3] > 0)
        var sums = [Double](repeating: 0, count: 4)
        for k in 0..<g.shape.z { for j in 0..<g.shape.y { for i in 0..<g.shape.x {
            let p = g.affine.apply(SIMD3(Double(i), Double(j), Double(k)))
            let v = l[i, j, k]
            switch v {
            case 1: #expect(ph.liver.contains(p) && !ph.tumour.contains(p) && !ph.spleen.contains(p))
            case 2: #expect(ph.spleen.contains(p))
            case 3: #expect(ph.tumour.contains(p) && ph.liver.contains(p))
            default: break
            }
            sums[Int(v)] += Double(ph.image[i, j, k, 0])
        } } }
        // Mean HU per class: documented mean ± bias amplitude (15) + a margin for noise.
        for (c, name) in [(1, "liver"), (2, "spleen"), (3, "tumour")] {
            #expect(abs(sums[c] / Double(counts[c]) - Phantom.hu[name]!) < 20, "\(name)")
        }
        // Stored LPS like a DICOM conversion; canonical processing grid is RAS.
        #expect(ph.header.orientation.flipped == [true, true, false])
        #expect(g.affine[0, 0] > 0 && g.affine[1, 1] > 0 && g.spacing.z >= 2)
    }
}
