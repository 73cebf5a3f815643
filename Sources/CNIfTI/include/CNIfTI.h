// libnifti2 (reads NIfTI-1 and NIfTI-2). Never include nifti1_io.h next to this, and never
// link niftiio beside nifti2: both export the same symbols with different ABIs.
#ifndef CNIFTI_H
#define CNIFTI_H
#include <nifti/nifti2_io.h>

/// Copies a 4x4 matrix into 16 doubles, row-major (tuples of tuples are awkward in Swift).
static inline void cnifti_mat_get(nifti_dmat44 m, double out[16]) {
    for (int r = 0; r < 4; r++) for (int c = 0; c < 4; c++) out[r * 4 + c] = m.m[r][c];
}
/// Builds a matrix from 16 row-major doubles.
static inline nifti_dmat44 cnifti_mat_make(const double in[16]) {
    nifti_dmat44 m;
    for (int r = 0; r < 4; r++) for (int c = 0; c < 4; c++) m.m[r][c] = in[r * 4 + c];
    return m;
}
/// Sets the sform (and its inverse) and derives a matching qform, so every reader agrees.
void cnifti_set_affine(nifti_image *nim, const double m[16], int sform_code, int qform_code);
#endif
