import Foundation
import Testing
@testable import Volume

/// Every bad file gives a VolumeError naming the file and the problem, never a crash.
@Suite("NIfTI bad input")
struct NIfTIErrorTests {
    @Test("refused files name the file and the problem", arguments: [
        ("bad_magic.nii", "magic"),
        ("bad_text.nii", "sizeof_hdr"),
        ("bad_short_data.nii.gz", "truncated"),
        ("bad_truncated.nii.gz", "truncated"),
        ("bad_complex64.nii.gz", "COMPLEX64"),
        ("bad_huge_dims.nii", "above the limit"),
        ("bad_2d.nii.gz", "2D"),
        ("bad_zero_spacing.nii", "spacing"),
        ("bad_nan_spacing.nii", "spacing"),
        ("does_not_exist.nii.gz", "not found"),
    ])
    func refused(name: String, fragment: String) {
        expectVolumeError([name, fragment]) { _ = try NIfTI.readImage(Fixtures.url(name)) }
    }

    @Test("absurd dimensions are refused from the header alone")
    func hugeHeaderOnly() {
        expectVolumeError(["bad_huge_dims.nii", "27000000000000"]) { _ = try NIfTI.readHeader(Fixtures.url("bad_huge_dims.nii")) }
    }

    @Test("a lower voxel limit refuses a valid file")
    func voxelLimit() {
        expectVolumeError(["uint8.nii", "limit of 10"]) {
            _ = try NIfTI.readImage(Fixtures.url("uint8.nii"), options: NIfTIReadOptions(maxVoxels: 10))
        }
    }

    @Test("fractional values are not labels")
    func fractionalLabels() {
        expectVolumeError(["bad_label_fraction.nii.gz", "1.5"]) { _ = try NIfTI.readLabels(Fixtures.url("bad_label_fraction.nii.gz")) }
    }

    @Test("a multi-channel file is not a label map")
    func multiChannelLabels() {
        expectVolumeError(["two_channel.nii.gz", "2 channels"]) { _ = try NIfTI.readLabels(Fixtures.url("two_channel.nii.gz")) }
    }
}
