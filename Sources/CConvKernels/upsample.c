// Trilinear ×2 upsampling (align_corners=false) along one output plane, and its transpose along one
// input plane, with AVX-512F intrinsics (NN/Upsample.swift holds the taps and the loops over planes).
// Along W the weights are the fixed pattern (1 | 0.75 0.25 | 0.25 0.75 | … | 1) with clamped ends:
// output 2k+1 = 0.75 s[k] + 0.25 s[k+1] and 2k+2 = 0.25 s[k] + 0.75 s[k+1], so 16 source pairs give
// two vectors that one pair of lane interleaves writes as 32 consecutive outputs. The transpose
// de-interleaves instead. In Swift this row pass ran scalar (strided stores) and was 4 % of inference.

#include "CConvKernels.h"
#include <immintrin.h>

static inline __mmask16 mask_n(long n) { return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? 0 : (__mmask16)((1u << n) - 1); }

// d[0..<2n] from s[0..<n] (n ≥ 1).
__attribute__((target("avx512f")))
static void up_row(const float *s, float *d, int n) {
    d[0] = s[0];
    d[2 * n - 1] = s[n - 1];
    const __m512 q = _mm512_set1_ps(0.25f), t = _mm512_set1_ps(0.75f);
    const __m512i lo_idx = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi_idx = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    // Pairs k = 0..<n-1: outputs 2k+1, 2k+2.
    for (int k = 0; k < n - 1; k += 16) {
        int m = n - 1 - k < 16 ? n - 1 - k : 16;
        __mmask16 mk = mask_n(m);
        __m512 a = _mm512_maskz_loadu_ps(mk, s + k), b = _mm512_maskz_loadu_ps(mk, s + k + 1);
        __m512 odd = _mm512_fmadd_ps(t, a, _mm512_mul_ps(q, b));    // 2k+1
        __m512 even = _mm512_fmadd_ps(q, a, _mm512_mul_ps(t, b));   // 2k+2
        __m512 v0 = _mm512_permutex2var_ps(odd, lo_idx, even), v1 = _mm512_permutex2var_ps(odd, hi_idx, even);
        float *o = d + 2 * k + 1;
        _mm512_mask_storeu_ps(o, mask_n(2 * m), v0);
        if (m > 8) _mm512_mask_storeu_ps(o + 16, mask_n(2 * m - 16), v1);
    }
}

__attribute__((target("avx512f")))
void c2f_upsample2x_plane(const float *p0, const float *p1, float a0, float a1, float *out, int h, int w,
                          const int *i0, const int *i1, const float *w0, const float *w1, float *scratch) {
    long hw = (long)h * w;
    float *plane = scratch, *row = scratch + hw;
    const __m512 va0 = _mm512_set1_ps(a0), va1 = _mm512_set1_ps(a1);
    for (long i = 0; i < hw; i += 16) {
        __mmask16 mk = mask_n(hw - i);
        __m512 v = _mm512_fmadd_ps(va0, _mm512_maskz_loadu_ps(mk, p0 + i), _mm512_mul_ps(va1, _mm512_maskz_loadu_ps(mk, p1 + i)));
        _mm512_mask_storeu_ps(plane + i, mk, v);
    }
    for (int yo = 0; yo < 2 * h; yo++) {
        const float *r0 = plane + (long)i0[yo] * w, *r1 = plane + (long)i1[yo] * w;
        const __m512 c0 = _mm512_set1_ps(w0[yo]), c1 = _mm512_set1_ps(w1[yo]);
        for (int i = 0; i < w; i += 16) {
            __mmask16 mk = mask_n(w - i);
            __m512 v = _mm512_fmadd_ps(c0, _mm512_maskz_loadu_ps(mk, r0 + i), _mm512_mul_ps(c1, _mm512_maskz_loadu_ps(mk, r1 + i)));
            _mm512_mask_storeu_ps(row + i, mk, v);
        }
        up_row(row, out + (long)yo * 2 * w, w);
    }
}

// d[0..<n] from s[0..<2n]: the transpose of up_row.
__attribute__((target("avx512f")))
static void down_row(const float *s, float *d, int n) {
    if (n == 1) { d[0] = s[0] + s[1]; return; }
    d[0] = s[0] + 0.75f * s[1] + 0.25f * s[2];
    d[n - 1] = 0.25f * s[2 * n - 3] + 0.75f * s[2 * n - 2] + s[2 * n - 1];
    const __m512 q = _mm512_set1_ps(0.25f), t = _mm512_set1_ps(0.75f);
    const __m512i even_idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd_idx = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    // k = 1..<n-1: d[k] = 0.25 s[2k-1] + 0.75 s[2k] + 0.75 s[2k+1] + 0.25 s[2k+2]. From base 2k-1 the
    // even lanes are s[2k-1+2j] and the odd ones s[2k+2j]; from base 2k+1, s[2k+1+2j] and s[2k+2+2j].
    // The last value read is s[2(k+m)] ≤ s[2n-2].
    for (int k = 1; k < n - 1; k += 16) {
        int m = n - 1 - k < 16 ? n - 1 - k : 16;
        __mmask16 m0 = mask_n(2 * m), m1 = mask_n(2 * m - 16);
        const float *b = s + 2 * k - 1;
        __m512 x0 = _mm512_maskz_loadu_ps(m0, b), x1 = _mm512_maskz_loadu_ps(m1, b + 16);
        __m512 y0 = _mm512_maskz_loadu_ps(m0, b + 2), y1 = _mm512_maskz_loadu_ps(m1, b + 18);
        __m512 v = _mm512_mul_ps(q, _mm512_permutex2var_ps(x0, even_idx, x1));
        v = _mm512_fmadd_ps(t, _mm512_permutex2var_ps(x0, odd_idx, x1), v);
        v = _mm512_fmadd_ps(t, _mm512_permutex2var_ps(y0, even_idx, y1), v);
        v = _mm512_fmadd_ps(q, _mm512_permutex2var_ps(y0, odd_idx, y1), v);
        _mm512_mask_storeu_ps(d + k, mask_n(m), v);
    }
}

__attribute__((target("avx512f")))
void c2f_upsample2x_backward_plane(const float *g, long ohw, const int *zo, const float *za, int nz, float *acc,
                                   int h, int w, const int *i0, const int *i1, const float *w0, const float *w1,
                                   float *row) {
    long hw = (long)h * w;
    for (long i = 0; i < hw; i += 16) _mm512_mask_storeu_ps(acc + i, mask_n(hw - i), _mm512_setzero_ps());
    for (int p = 0; p < nz; p++) {
        const float *src = g + (long)zo[p] * ohw;
        for (int yo = 0; yo < 2 * h; yo++) {
            down_row(src + (long)yo * 2 * w, row, w);
            float *r0 = acc + (long)i0[yo] * w, *r1 = acc + (long)i1[yo] * w;
            const __m512 c0 = _mm512_set1_ps(za[p] * w0[yo]), c1 = _mm512_set1_ps(za[p] * w1[yo]);
            for (int i = 0; i < w; i += 16) {
                __mmask16 mk = mask_n(w - i);
                __m512 rv = _mm512_maskz_loadu_ps(mk, row + i);
                _mm512_mask_storeu_ps(r0 + i, mk, _mm512_fmadd_ps(c0, rv, _mm512_maskz_loadu_ps(mk, r0 + i)));
            }
            for (int i = 0; i < w; i += 16) {
                __mmask16 mk = mask_n(w - i);
                __m512 rv = _mm512_maskz_loadu_ps(mk, row + i);
                _mm512_mask_storeu_ps(r1 + i, mk, _mm512_fmadd_ps(c1, rv, _mm512_maskz_loadu_ps(mk, r1 + i)));
            }
        }
    }
}
