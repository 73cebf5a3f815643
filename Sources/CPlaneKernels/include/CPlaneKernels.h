// Memory-bound passes over contiguous Float planes (the reductions and affine passes of the
// normalisations), with AVX-512F intrinsics chosen at run time: callers check
// c2f_plane_kernels_available() and keep their portable Swift loops otherwise.
//
// Reductions sum each block of 4096 values in Float lanes and add the blocks in Double, in index
// order: the result depends only on the data, never on the thread count.
#ifndef C_PLANE_KERNELS_H
#define C_PLANE_KERNELS_H

/// 1 when the CPU has AVX-512F and C2FNAS_PLANE_AVX512 is not "0".
int c2f_plane_kernels_available(void);

/// Σ x[i].
double c2f_plane_sum(const float *x, long n);

/// Σ (x[i] − c)².
double c2f_plane_squared_deviation(const float *x, float c, long n);

/// Σ x[i]·y[i].
double c2f_plane_dot(const float *x, const float *y, long n);

/// The mean and Σ (x[i] − mean)² of a plane, read once: per block its sum and its deviations,
/// blocks merged in Double in index order.
void c2f_plane_moments(const float *x, long n, double *mean, double *m2);

/// Σ m·dy and Σ m·dy·x with m = (x[i]·scale + shift > 0), the ReLU mask of
/// c2f_plane_affine(x, scale, shift, rectify 1) recomputed bit for bit (NaN counts as 0).
void c2f_plane_rectified_sums(const float *dy, const float *x, long n, float scale, float shift,
                              double *sum_dy, double *sum_dy_x);

/// y[i] = x[i]·scale + shift, then max(·, 0) when `rectify` (a NaN stays NaN). y may equal x.
void c2f_plane_affine(const float *x, float *y, long n, float scale, float shift, int rectify);

/// dx[i] = k·m·dy[i] + (a·x[i] + b), m = (x[i]·scale + shift > 0) when `rectify` (as in
/// c2f_plane_rectified_sums), else 1.
void c2f_plane_norm_input_grad(const float *dy, const float *x, float *dx, long n, float k, float a, float b,
                               int rectify, float scale, float shift);

#endif
