#!/usr/bin/env python3
"""Writes the small NIfTI fixtures for VolumeTests with nibabel (an independent implementation)
and `expected.json` with what nibabel reads back: shape, zooms, affine, the closest-canonical
(RAS) affine and chosen canonical voxel values. Run once: `pip install nibabel`, then
`python3 make_fixtures.py` in this folder. The tests need no Python."""
import json, os, struct, gzip
import numpy as np
import nibabel as nib

HERE = os.path.dirname(os.path.abspath(__file__))
expected = {}

def ramp(shape, dtype):
    i, j, k = np.meshgrid(*[np.arange(s) for s in shape[:3]], indexing="ij")
    return (i + 10 * j + 100 * k).astype(dtype)

def record(name, img, picks):
    """Store nibabel's view of the written file (re-loaded from disk)."""
    back = nib.load(os.path.join(HERE, name))
    canon = nib.as_closest_canonical(back)
    data = np.asarray(canon.dataobj, dtype=np.float64)   # scaling applied, like get_fdata
    if data.ndim == 3:
        data = data[..., None]
    expected[name] = {
        "shape": list(back.shape[:3]),
        "channels": int(np.prod(back.shape[3:])) if len(back.shape) > 3 else 1,
        "zooms": [float(z) for z in back.header.get_zooms()[:3]],
        "affine": back.affine.flatten().tolist(),
        "canonical_shape": list(canon.shape[:3]),
        "canonical_affine": canon.affine.flatten().tolist(),
        "canonical_zooms": [float(z) for z in canon.header.get_zooms()[:3]],
        "picks": [[int(a) for a in p] + [float(data[tuple(p)])] for p in picks],
        "sum": float(data.sum()),
    }

def save(img, name, picks):
    nib.save(img, os.path.join(HERE, name))
    record(name, img, picks)

# int16 with scl_slope / scl_inter, RAS, sform.
aff = np.array([[1.5, 0, 0, -10], [0, 2.0, 0, 20], [0, 0, 3.0, 5], [0, 0, 0, 1]])
img = nib.Nifti1Image(ramp((5, 4, 3), np.int16) - 50, aff)
img.header.set_data_dtype(np.int16)
img.header.set_slope_inter(0.5, -10)
save(img, "int16_scaled.nii.gz", [(0, 0, 0, 0), (4, 3, 2, 0), (1, 2, 1, 0)])

# uint8, uncompressed .nii.
img = nib.Nifti1Image((ramp((4, 3, 3), np.int64) % 251).astype(np.uint8), np.diag([1.0, 1.0, 1.0, 1]))
save(img, "uint8.nii", [(0, 0, 0, 0), (3, 2, 2, 0), (2, 1, 1, 0)])

# float32 with a qform only (sform code 0), oblique-free but shifted.
aff = np.array([[0.7, 0, 0, 1], [0, 0.8, 0, 2], [0, 0, 1.9, 3], [0, 0, 0, 1]])
img = nib.Nifti1Image(ramp((3, 4, 5), np.float32) * np.float32(0.25) + np.float32(0.125), None)
img.set_qform(aff, code=1)
img.set_sform(None, code=0)
save(img, "float32_qform.nii.gz", [(0, 0, 0, 0), (2, 3, 4, 0), (1, 1, 3, 0)])

# NIfTI-2, int32.
aff = np.array([[0.5, 0, 0, -1], [0, 0.5, 0, -2], [0, 0, 1.25, -3], [0, 0, 0, 1]])
img = nib.Nifti2Image(ramp((4, 4, 3), np.int32) * 3 - 7, aff)
save(img, "nifti2_int32.nii.gz", [(0, 0, 0, 0), (3, 3, 2, 0), (2, 0, 1, 0)])

# 4D two-channel float32 (e.g. T2 and ADC in MSD Prostate).
base = ramp((4, 3, 3), np.float32)
img = nib.Nifti1Image(np.stack([base, -2 * base + 1], axis=3), np.diag([1.1, 1.2, 1.3, 1]))
save(img, "two_channel.nii.gz", [(0, 0, 0, 0), (3, 2, 2, 0), (3, 2, 2, 1), (1, 1, 1, 1)])

# LPS-stored (as converted from DICOM): x and y axes point Left and Posterior.
aff = np.array([[-0.8, 0, 0, 30], [0, -0.9, 0, 40], [0, 0, 2.5, -50], [0, 0, 0, 1]])
img = nib.Nifti1Image(ramp((5, 4, 3), np.int16), aff)
save(img, "lps_int16.nii.gz", [(0, 0, 0, 0), (4, 3, 2, 0), (1, 2, 0, 0), (0, 3, 1, 0)])

# Permuted axes (voxel axis 0 runs along world z, 1 along -x, 2 along y).
aff = np.array([[0, -1.2, 0, 5], [0, 0, 0.9, -5], [2.0, 0, 0, 7], [0, 0, 0, 1]])
img = nib.Nifti1Image(ramp((3, 5, 4), np.uint16), aff)
save(img, "permuted_uint16.nii.gz", [(0, 0, 0, 0), (4, 3, 2, 0), (1, 2, 0, 0), (2, 0, 1, 0)])

# float64 with no qform or sform: pixdim only.
img = nib.Nifti1Image(ramp((3, 3, 3), np.float64) / 7, None)
img.set_qform(None, code=0); img.set_sform(None, code=0)
img.header.set_zooms((2.0, 3.0, 4.0))
save(img, "float64_pixdim.nii", [(0, 0, 0, 0), (2, 2, 2, 0), (1, 0, 2, 0)])

# Labels 0..3 (uint8) and a non-integer "label" map.
lab = np.zeros((6, 5, 4), np.uint8); lab[1:3, 1:4, 1:3] = 1; lab[4, 3, 2] = 3
img = nib.Nifti1Image(lab, np.diag([1.0, 1.0, 2.0, 1]))
save(img, "labels_uint8.nii.gz", [(1, 1, 1, 0), (4, 3, 2, 0), (0, 0, 0, 0)])
nib.save(nib.Nifti1Image(np.full((3, 3, 3), 1.5, np.float32), np.eye(4)), os.path.join(HERE, "bad_label_fraction.nii.gz"))

# Files that must be refused with a clear error.
nib.save(nib.Nifti1Image(np.zeros((5, 4), np.float32), np.eye(4)), os.path.join(HERE, "bad_2d.nii.gz"))
nib.save(nib.Nifti1Image(np.zeros((3, 3, 3), np.complex64), np.eye(4)), os.path.join(HERE, "bad_complex64.nii.gz"))
# Zero, NaN and negative spacing: nibabel rewrites pixdim from the affine on save, so patch the bytes
# (pixdim is float32[8] at offset 76; qform_code and sform_code are int16 at 252 and 254).
good = bytearray(open(os.path.join(HERE, "uint8.nii"), "rb").read())
for name, dy in (("bad_zero_spacing.nii", 0.0), ("bad_nan_spacing.nii", float("nan")), ("bad_negative_spacing.nii", -1.0)):
    b = bytearray(good)
    struct.pack_into("<3f", b, 80, 1.0, dy, 1.0)
    struct.pack_into("<2h", b, 252, 0, 0)
    open(os.path.join(HERE, name), "wb").write(bytes(b))
# Short data inside a valid gzip stream, and a gzip stream cut off (an interrupted download).
raw = open(os.path.join(HERE, "int16_scaled.nii.gz"), "rb").read()
full = gzip.decompress(raw)
open(os.path.join(HERE, "bad_short_data.nii.gz"), "wb").write(gzip.compress(full[: 352 + 20], mtime=0))
rng = np.random.default_rng(7)
nib.save(nib.Nifti1Image(rng.integers(-1000, 1000, (16, 16, 16)).astype(np.int16), np.eye(4)), os.path.join(HERE, "tmp_big.nii.gz"))
raw = open(os.path.join(HERE, "tmp_big.nii.gz"), "rb").read()
os.remove(os.path.join(HERE, "tmp_big.nii.gz"))
open(os.path.join(HERE, "bad_truncated.nii.gz"), "wb").write(raw[: len(raw) * 7 // 10])
# Wrong magic: a good header with its magic overwritten.
hdr = bytearray(open(os.path.join(HERE, "uint8.nii"), "rb").read())
hdr[344:348] = b"xyz\0"
open(os.path.join(HERE, "bad_magic.nii"), "wb").write(bytes(hdr))
# Absurd dimensions: 100000^3 voxels declared in an otherwise valid header (no data follows).
hdr = bytearray(open(os.path.join(HERE, "uint8.nii"), "rb").read()[:352])
struct.pack_into("<8h", hdr, 40, 3, 30000, 30000, 30000, 1, 1, 1, 1)
open(os.path.join(HERE, "bad_huge_dims.nii"), "wb").write(bytes(hdr))
# Not a NIfTI file at all.
open(os.path.join(HERE, "bad_text.nii"), "w").write("this is not a NIfTI file\n" * 30)

with open(os.path.join(HERE, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
print("wrote", len(expected), "fixtures")

# Oblique (rotated about z by 20° and about x by 10°), int16 with scaling: for `c2fnas inspect FILE`.
cz, sz, cx, sx = np.cos(np.radians(20)), np.sin(np.radians(20)), np.cos(np.radians(10)), np.sin(np.radians(10))
rot = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]]) @ np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
aff = np.eye(4); aff[:3, :3] = rot @ np.diag([0.9, 1.1, 2.2]); aff[:3, 3] = [-12.5, 30.25, 7]
img = nib.Nifti1Image(ramp((6, 5, 4), np.int16) - 200, aff)
img.header.set_data_dtype(np.int16); img.header.set_slope_inter(0.25, 3)
save(img, "oblique_int16.nii.gz", [(0, 0, 0, 0), (5, 4, 3, 0), (2, 1, 3, 0)])
