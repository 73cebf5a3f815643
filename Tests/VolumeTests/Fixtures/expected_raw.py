#!/usr/bin/env python3
"""Prints, as Swift literals for NIfTIByteOrderTests.expected, what nibabel reads from the files
the test writes byte by byte (run the test once with C2FNAS_RAW_NIFTI_DUMP=DIR, then this with DIR)."""
import sys, os, glob
import numpy as np
import nibabel as nib

def lit(xs):
    return "[" + ", ".join(repr(float(x)) for x in xs) + "]"

for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.nii"))):
    img = nib.load(path)
    data = np.asarray(img.dataobj, dtype=np.float64)
    canon = nib.as_closest_canonical(img)
    s = data.shape
    picks = [(0, 0, 0), (s[0] - 1, s[1] - 1, s[2] - 1), (1, 2, 1), (s[0] - 1, 0, 1)]
    print(f'        "{os.path.basename(path)}": Expected(')
    print(f'            shape: {list(s[:3])}, zooms: {lit(img.header.get_zooms()[:3])},')
    print(f'            affine: {lit(img.affine.flatten())},')
    print(f'            canonicalAffine: {lit(canon.affine.flatten())},')
    print(f'            picks: [{", ".join(lit(list(p) + [data[p]]) for p in picks)}],')
    print(f'            sum: {float(data.sum())!r}),')
