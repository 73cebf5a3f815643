// libFuzzer target: arbitrary bytes as dataset.json (MSD and nnU-Net v2 layouts) in a folder with
// empty imagesTr/, labelsTr/, imagesTs/.
import Foundation
import Volume

let datasetFolder = URL(fileURLWithPath: "/dev/shm/c2fnas-fuzz-dataset-\(getpid())")
nonisolated(unsafe) var datasetFolderMade = false

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDatasetJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if !datasetFolderMade {
        for sub in ["imagesTr", "labelsTr", "imagesTs"] {
            try? FileManager.default.createDirectory(at: datasetFolder.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        datasetFolderMade = true
    }
    try? Data(bytes: data, count: size).write(to: datasetFolder.appendingPathComponent("dataset.json"))
    if let ds = try? MSDDataset.load(datasetFolder) {
        _ = ds.classCount
        _ = try? ds.checkFiles()
    }
    return 0
}
