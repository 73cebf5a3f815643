// libFuzzer target: arbitrary bytes as a .nii file through the header path (our raw parse, then
// libnifti) and, when the header is accepted, the data path with a small voxel limit.
import Foundation
import Volume

let niftiPath = "/dev/shm/c2fnas-fuzz-nifti-\(getpid()).nii"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNIfTI(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard FileManager.default.createFile(atPath: niftiPath, contents: Data(bytes: data, count: size)) else { return 0 }
    let url = URL(fileURLWithPath: niftiPath)
    let options = NIfTIReadOptions(maxVoxels: 1 << 16)
    if let header = try? NIfTI.readHeader(url, options: options) {
        _ = header.grid
        if let image = try? NIfTI.readImage(url, options: options) {
            _ = try? image.requireFinite(path: niftiPath)
            _ = try? NIfTI.readLabels(url, options: options)
        }
        _ = try? NIfTI.readScaledFileOrder(url, options: options)
    }
    return 0
}
