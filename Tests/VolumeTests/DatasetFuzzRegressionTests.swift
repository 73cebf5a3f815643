import Foundation
import Testing
@testable import Volume

/// dataset.json inputs libFuzzer (tests/fuzz/run.sh, dataset target) crashed the loader with.
@Suite("dataset.json libFuzzer regressions")
struct DatasetFuzzRegressionTests {
    /// crash-70129d14 (dataset target, 2026-12-07): a training image "./ims.Tr/phantogz///////////?////…"
    /// trapped inside swift-corelibs-foundation's NSString.lastPathComponent (String._startOfLastPathComponent),
    /// called for the case ID; the smallest such path is "///?//".
    static let fuzzerInput = """
        {
          "name": "@Phantom",
          "modality": { "0": "CT" },
          "labels": { "0": "backgroundpleen", "3": "tumour" },
          "training": [ {"image": "./ims.Tr/phantogz///////////?////////////////////////////////////////////////////////////////", "label": "./labelgz"} ],
          "test": [ "./imagesTs//ph", {"channel_naUes": {"0": "CT", "1": "T2"}, "labels": {"": 0, "on": 1}, "file_ending": ".i.gz"} ]
        }
        """

    @Test("the fuzzer's dataset.json loads or is refused with a VolumeError, not a trap")
    func fuzzerInput() throws {
        let dir = try makeTempDir("ds-fuzz-regression"); defer { try? FileManager.default.removeItem(at: dir) }
        try Data(Self.fuzzerInput.utf8).write(to: dir.appendingPathComponent("dataset.json"))
        do {
            let ds = try MSDDataset.load(dir)
            #expect(ds.training.map(\.id) == ["?"])
        } catch is VolumeError {
        }
    }

    @Test("case IDs: the last non-empty path component without .nii.gz / .nii, as NSString gives where it does not trap")
    func caseIDs() {
        #expect(MSDDataset.caseID("./imagesTr/la_003.nii.gz") == "la_003")
        #expect(MSDDataset.caseID("imagesTr/la_003.nii") == "la_003")
        #expect(MSDDataset.caseID("x///a//") == "a")
        #expect(MSDDataset.caseID("///?//") == "?")
        #expect(MSDDataset.caseID("./imagesTr///case_7.nii.gz//") == "case_7")
        // Paths NSString handles: the same answer (an independent reference for the rule).
        for entry in ["./imagesTr/la_003.nii.gz", "a/b//", "a//", "//a/", "/a//", "./a//b//", "x?//", "é//c.nii",
                      "plain", "./imagesTs/p.nii.gz.nii", "dir/.nii.gz"] {
            var reference = (entry as NSString).lastPathComponent
            for ext in [".nii.gz", ".nii"] where reference.hasSuffix(ext) { reference.removeLast(ext.count); break }
            #expect(MSDDataset.caseID(entry) == reference, "\(entry)")
        }
    }
}
