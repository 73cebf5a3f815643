// Trilinear ×2 upsampling (align_corners=false) along one output plane, and its transpose along one
// input plane, with AVX-512F intrinsics (NN/Upsample.swift holds the taps and the loops over planes).
// Along W the weights are the fixed pattern (1 | 0.75 0.25 | 0.25 0.75 | … | 1) with clamped ends:
// output 2k = 0.25 s[k-1] + 0.75 s[k] and 2k+1 = 0.75 s[k] + 0.25 s[k+1], ends copied, so 16 source
// values give an even and an odd vector that a pair of lane interleaves writes as 32 outputs.
// The transpose: d[k] = 0.25 g[2k-1] + 0.75 g[2k] + 0.75 g[2k+1] + 0.25 g[2k+2], ends clamped.
//
// Every value stays in registers from the loads of the source rows to the stores of the results: the
// neighbours s[k-1] and s[k+1] are lane permutes of the current and adjacent 16-value chunks. An
// earlier version blended each row into a scratch row and reloaded it one value off, and added each
// output row's transpose into the input rows in memory: the loads waited on just-stored data (store
// forwarding fails for misaligned or masked stores), and the passes ran at 5-11 GB/s, 6 % of a
// training step.

#include "CConvKernels.h"
#include <immintrin.h>

static inline __mmask16 mask_n(long n) { return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? 0 : (__mmask16)((1u << n) - 1); }

// Lane j of permutex2var(a, IDX_BACK, b) is a[15] for j = 0, else b[j - 1]; of permutex2var(a,
// IDX_NEXT, b) a[j + 1], and b[0] for j = 15.
#define IDX_BACK _mm512_setr_epi32(15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30)
#define IDX_NEXT _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)

// Source values 16c..16c+15 of the output row's source row: the two input planes blended along D at
// input rows i0 and i1, those blended along H (the arithmetic of the Swift reference, in its order).
__attribute__((target("avx512f"), always_inline))
static inline __m512 source_chunk(const float *r00, const float *r10, const float *r01, const float *r11,
                                  __m512 a0, __m512 a1, __m512 c0, __m512 c1, long k, __mmask16 mk) {
    __m512 p0 = _mm512_fmadd_ps(a0, _mm512_maskz_loadu_ps(mk, r00 + k), _mm512_mul_ps(a1, _mm512_maskz_loadu_ps(mk, r10 + k)));
    __m512 p1 = _mm512_fmadd_ps(a0, _mm512_maskz_loadu_ps(mk, r01 + k), _mm512_mul_ps(a1, _mm512_maskz_loadu_ps(mk, r11 + k)));
    return _mm512_fmadd_ps(c0, p0, _mm512_mul_ps(c1, p1));
}

__attribute__((target("avx512f")))
void c2f_upsample2x_plane(const float *p0, const float *p1, float a0, float a1, float *out, int h, int w,
                          const int *i0, const int *i1, const float *w0, const float *w1) {
    const __m512 va0 = _mm512_set1_ps(a0), va1 = _mm512_set1_ps(a1);
    const __m512 q = _mm512_set1_ps(0.25f), t = _mm512_set1_ps(0.75f);
    const __m512i lo_idx = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi_idx = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512i back = IDX_BACK, next = IDX_NEXT;
    int chunks = (w + 15) / 16;
    for (int yo = 0; yo < 2 * h; yo++) {
        const float *r00 = p0 + (long)i0[yo] * w, *r10 = p1 + (long)i0[yo] * w;
        const float *r01 = p0 + (long)i1[yo] * w, *r11 = p1 + (long)i1[yo] * w;
        const __m512 c0 = _mm512_set1_ps(w0[yo]), c1 = _mm512_set1_ps(w1[yo]);
        float *o = out + (long)yo * 2 * w;
        __m512 cur = source_chunk(r00, r10, r01, r11, va0, va1, c0, c1, 0, mask_n(w)), prev = cur;
        for (int c = 0; c < chunks; c++) {
            int m = w - 16 * c < 16 ? w - 16 * c : 16;
            int last = c == chunks - 1;
            __m512 nxt = last ? cur
                : source_chunk(r00, r10, r01, r11, va0, va1, c0, c1, 16L * (c + 1), mask_n(w - 16L * (c + 1)));
            __m512 before = _mm512_permutex2var_ps(prev, back, cur);   // s[k-1]
            __m512 after = _mm512_permutex2var_ps(cur, next, nxt);     // s[k+1]
            __m512 even = _mm512_fmadd_ps(q, before, _mm512_mul_ps(t, cur));   // output 2k
            __m512 odd = _mm512_fmadd_ps(t, cur, _mm512_mul_ps(q, after));     // output 2k+1
            // Clamped ends: output 0 is s[0], output 2w-1 is s[w-1].
            if (c == 0) even = _mm512_mask_blend_ps(1, even, cur);
            if (last) odd = _mm512_mask_blend_ps((__mmask16)(1u << (m - 1)), odd, cur);
            __m512 v0 = _mm512_permutex2var_ps(even, lo_idx, odd), v1 = _mm512_permutex2var_ps(even, hi_idx, odd);
            _mm512_mask_storeu_ps(o + 32 * c, mask_n(2 * m), v0);
            if (m > 8) _mm512_mask_storeu_ps(o + 32 * c + 16, mask_n(2 * m - 16), v1);
            prev = cur;
            cur = nxt;
        }
    }
}

// Output values 32c..32c+31 of the rows that reach one input row, weighted and summed, split into the
// even (g[2k]) and odd (g[2k+1]) positions of the 16 input values 16c..16c+15.
__attribute__((target("avx512f"), always_inline))
static inline void gather_chunk(const float *const *rows, const float *wt, int n, long c, int w2,
                                __m512 *even, __m512 *odd) {
    const __m512i even_idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd_idx = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    __mmask16 m0 = mask_n(w2 - 32 * c), m1 = mask_n(w2 - 32 * c - 16);
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    for (int r = 0; r < n; r++) {
        __m512 k = _mm512_set1_ps(wt[r]);
        s0 = _mm512_fmadd_ps(k, _mm512_maskz_loadu_ps(m0, rows[r] + 32 * c), s0);
        s1 = _mm512_fmadd_ps(k, _mm512_maskz_loadu_ps(m1, rows[r] + 32 * c + 16), s1);
    }
    *even = _mm512_permutex2var_ps(s0, even_idx, s1);
    *odd = _mm512_permutex2var_ps(s0, odd_idx, s1);
}

__attribute__((target("avx512f")))
void c2f_upsample2x_backward_plane(const float *g, long ohw, const int *zo, const float *za, int nz, float *out,
                                   int h, int w, const int *yo, const float *yw, const int *ny, float *scratch) {
    const __m512 q = _mm512_set1_ps(0.25f), t = _mm512_set1_ps(0.75f);
    const __m512i back = IDX_BACK, next = IDX_NEXT;
    int chunks = (w + 15) / 16, w2 = 2 * w;
    // The output planes that read this input plane, weighted and summed first (each output value is
    // then loaded twice in all, once per input plane that it reaches, instead of four times).
    for (long i = 0; i < ohw; i += 16) {
        __mmask16 mk = mask_n(ohw - i);
        __m512 v = _mm512_setzero_ps();
        for (int p = 0; p < nz; p++)
            v = _mm512_fmadd_ps(_mm512_set1_ps(za[p]), _mm512_maskz_loadu_ps(mk, g + (long)zo[p] * ohw + i), v);
        _mm512_mask_storeu_ps(scratch + i, mk, v);
    }
    for (int y = 0; y < h; y++) {
        // The rows of that sum (output rows yo[4y + r], weights yw) that read input row y.
        const float *rows[4];
        for (int r = 0; r < ny[y]; r++) rows[r] = scratch + (long)yo[4 * y + r] * w2;
        const float *wt = yw + 4 * y;
        int n = ny[y];
        float *d = out + (long)y * w;
        __m512 ev, od, ev_next, od_next, od_prev;
        gather_chunk(rows, wt, n, 0, w2, &ev, &od);
        od_prev = od;
        for (int c = 0; c < chunks; c++) {
            int m = w - 16 * c < 16 ? w - 16 * c : 16;
            int last = c == chunks - 1;
            if (last) { ev_next = ev; od_next = od; }
            else gather_chunk(rows, wt, n, c + 1, w2, &ev_next, &od_next);
            __m512 before = _mm512_permutex2var_ps(od_prev, back, od);   // g[2k-1]
            __m512 after = _mm512_permutex2var_ps(ev, next, ev_next);    // g[2k+2]
            // Clamped ends: g[-1] reads as g[0], g[2w] as g[2w-1].
            if (c == 0) before = _mm512_mask_blend_ps(1, before, ev);
            if (last) after = _mm512_mask_blend_ps((__mmask16)(1u << (m - 1)), after, od);
            __m512 v = _mm512_mul_ps(t, _mm512_add_ps(ev, od));
            v = _mm512_fmadd_ps(q, _mm512_add_ps(before, after), v);
            _mm512_mask_storeu_ps(d + 16 * c, mask_n(m), v);
            od_prev = od;
            ev = ev_next;
            od = od_next;
        }
    }
}
