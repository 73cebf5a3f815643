import Foundation
import Testing
@testable import Engine

/// Runs the c2fnas binary; returns (exit status, stdout, stderr).
func runC2FNASCapturing(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = try c2fnasBinary()
    p.arguments = arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out; p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// `c2fnas inspect FILE --json --voxels` against nibabel 5.3.2 on the same fixture files
/// (`nib.load(f)`; `img.shape`, `img.affine`, `img.get_fdata()[i, j, k]`, `.sum()`), values stored here.
@Suite("inspect FILE against nibabel")
struct InspectFileTests {
    struct Case: Sendable {
        var file: String
        var shape: [Int]
        var zooms: [Double]
        var affine: [Double]
        var values: [Double]
        var sum: Double
        var orientation: String
    }
    static let voxels = "0,0,0;4,3,2;1,2,0;3,0,1"
    static let cases = [
        Case(file: "lps_int16.nii.gz", shape: [5, 4, 3], zooms: [0.800000011920929, 0.8999999761581421, 2.5],
             affine: [-0.800000011920929, 0, 0, 30, 0, -0.8999999761581421, 0, 40, 0, 0, 2.5, -50, 0, 0, 0, 1],
             values: [0, 234, 21, 103], sum: 7020, orientation: "LPS"),
        Case(file: "oblique_int16.nii.gz", shape: [6, 5, 4], zooms: [0.8999999761581421, 1.100000023841858, 2.200000047683716],
             affine: [0.8457233309745789, -0.37050649523735046, 0.13066057860851288, -12.5,
                      0.30781811475753784, 1.0179582834243774, -0.3589870035648346, 30.25,
                      0, 0.19101299345493317, 2.166577100753784, 7, 0, 0, 0, 1],
             values: [-47, 11.5, -41.75, -21.25], sum: -465, orientation: "RAS"),
    ]

    @Test("--json --voxels gives nibabel's shape, affine, file-order values and sum", arguments: cases)
    func matchesNibabel(c: Case) throws {
        let path = repositoryRoot.appendingPathComponent("Tests/VolumeTests/Fixtures/\(c.file)").path
        let r = try runC2FNASCapturing(["inspect", path, "--json", "--voxels", Self.voxels])
        #expect(r.status == 0, "\(r.err)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        #expect(obj["shape"] as? [Int] == c.shape)
        #expect(obj["datatype"] as? String == "INT16")
        #expect(obj["orientation"] as? String == c.orientation)
        let spacing = try #require(obj["spacing"] as? [Double])
        for a in 0..<3 { #expect(abs(spacing[a] - c.zooms[a]) < 1e-6) }
        let affine = try #require(obj["affine"] as? [[Double]]).flatMap { $0 }
        #expect(affine.count == 16)
        for i in 0..<16 { #expect(abs(affine[i] - c.affine[i]) < 1e-6, "affine[\(i)] \(affine[i]) vs \(c.affine[i])") }
        #expect(obj["values"] as? [Double] == c.values)
        #expect(obj["sum"] as? Double == c.sum)
        // The RAS affine maps the RAS grid onto the same world as the file affine: same determinant magnitude.
        let ras = try #require(obj["ras_affine"] as? [[Double]])
        #expect(ras[0][0] >= 0 && ras[1][1] >= 0 && ras[2][2] >= 0)
    }

    @Test("the text report names the file and the voxel values; bad voxels fail with a non-zero status")
    func textAndErrors() throws {
        let path = repositoryRoot.appendingPathComponent("Tests/VolumeTests/Fixtures/lps_int16.nii.gz").path
        let r = try runC2FNASCapturing(["inspect", path, "--voxels", "4,3,2"])
        #expect(r.status == 0)
        #expect(r.out.contains(path) && r.out.contains("LPS") && r.out.contains("voxel 4,3,2 = 234"))
        let outside = try runC2FNASCapturing(["inspect", path, "--json", "--voxels", "5,0,0"])
        #expect(outside.status != 0)
        #expect(outside.err.contains("outside the file's shape"))
        let missing = try runC2FNASCapturing(["inspect", "/nonexistent/x.nii.gz", "--json"])
        #expect(missing.status != 0)
        #expect(missing.err.contains("/nonexistent/x.nii.gz"))
    }
}
