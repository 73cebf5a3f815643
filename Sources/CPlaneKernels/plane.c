// AVX-512F passes over Float planes (see CPlaneKernels.h). Four independent accumulators per
// reduction keep the adds' latency hidden, so a pass runs at the cache's bandwidth; the portable
// Swift loops compile to SSE (the package has no global -m flags) and ran 1.4x slower on a 16-channel
// 32³ instance-norm forward (DECISIONS.md 2026-12-07).

#include "CPlaneKernels.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

enum { BLOCK = 4096 };

int c2f_plane_kernels_available(void) {
    const char *env = getenv("C2FNAS_PLANE_AVX512");
    if (env && strcmp(env, "0") == 0) return 0;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

__attribute__((target("avx512f")))
static inline __mmask16 tail_mask(long left) {
    return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
}

// One block's Σ x and Σ (x − c)², Float lanes (four accumulators), reduced to Double.
__attribute__((target("avx512f"), always_inline))
static inline double block_sum(const float *x, long i, long e) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (; i + 64 <= e; i += 64) {
        a0 = _mm512_add_ps(a0, _mm512_loadu_ps(x + i));
        a1 = _mm512_add_ps(a1, _mm512_loadu_ps(x + i + 16));
        a2 = _mm512_add_ps(a2, _mm512_loadu_ps(x + i + 32));
        a3 = _mm512_add_ps(a3, _mm512_loadu_ps(x + i + 48));
    }
    for (; i < e; i += 16) a0 = _mm512_add_ps(a0, _mm512_maskz_loadu_ps(tail_mask(e - i), x + i));
    return (double)_mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

__attribute__((target("avx512f"), always_inline))
static inline double block_squared_deviation(const float *x, long i, long e, float c) {
    const __m512 cv = _mm512_set1_ps(c);
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (; i + 64 <= e; i += 64) {
        __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(x + i), cv), d1 = _mm512_sub_ps(_mm512_loadu_ps(x + i + 16), cv);
        __m512 d2 = _mm512_sub_ps(_mm512_loadu_ps(x + i + 32), cv), d3 = _mm512_sub_ps(_mm512_loadu_ps(x + i + 48), cv);
        a0 = _mm512_fmadd_ps(d0, d0, a0);
        a1 = _mm512_fmadd_ps(d1, d1, a1);
        a2 = _mm512_fmadd_ps(d2, d2, a2);
        a3 = _mm512_fmadd_ps(d3, d3, a3);
    }
    for (; i < e; i += 16) {
        __mmask16 m = tail_mask(e - i);
        __m512 d = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, x + i), cv);
        a0 = _mm512_fmadd_ps(d, d, a0);
    }
    return (double)_mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

__attribute__((target("avx512f")))
double c2f_plane_sum(const float *x, long n) {
    double total = 0;
    for (long s = 0; s < n; s += BLOCK) total += block_sum(x, s, n - s < BLOCK ? n : s + BLOCK);
    return total;
}

__attribute__((target("avx512f")))
double c2f_plane_squared_deviation(const float *x, float c, long n) {
    double total = 0;
    for (long s = 0; s < n; s += BLOCK) total += block_squared_deviation(x, s, n - s < BLOCK ? n : s + BLOCK, c);
    return total;
}

// Each block is summed, then its squared deviation from its own mean c (rounded to Float) taken
// while the block is still in L1: Σ (x − m_b)² = Σ (x − c)² − len·(m_b − c)². Blocks merge in
// Double in index order (Chan, Golub and LeVeque's pairwise update), so the plane is read from
// memory once instead of twice (the mean first, then the deviations).
__attribute__((target("avx512f")))
void c2f_plane_moments(const float *x, long n, double *mean, double *m2) {
    double count = 0, mu = 0, q = 0;
    for (long s = 0; s < n; s += BLOCK) {
        long e = n - s < BLOCK ? n : s + BLOCK, len = e - s;
        double mb = block_sum(x, s, e) / (double)len;
        float c = (float)mb;
        double qb = block_squared_deviation(x, s, e, c) - (double)len * (mb - c) * (mb - c);
        if (qb < 0) qb = 0;
        double total = count + (double)len, delta = mb - mu;
        mu += delta * (double)len / total;
        q += qb + delta * delta * count * (double)len / total;
        count = total;
    }
    *mean = mu;
    *m2 = q;
}

__attribute__((target("avx512f")))
double c2f_plane_dot(const float *x, const float *y, long n) {
    double total = 0;
    for (long s = 0; s < n; s += BLOCK) {
        long e = n - s < BLOCK ? n : s + BLOCK, i = s;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (; i + 64 <= e; i += 64) {
            a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), a0);
            a1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16), a1);
            a2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 32), _mm512_loadu_ps(y + i + 32), a2);
            a3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 48), _mm512_loadu_ps(y + i + 48), a3);
        }
        for (; i < e; i += 16) {
            __mmask16 m = tail_mask(e - i);
            a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i), a0);
        }
        total += (double)_mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    }
    return total;
}

// The ReLU mask of a rectified affine output, recomputed from its input with the forward's own
// arithmetic (one FMA, as c2f_plane_affine), so it equals (y > 0) bit for bit without reading y:
// the backward of a 64³ instance norm + ReLU then streams x and dy, not y as well.
__attribute__((target("avx512f"), always_inline))
static inline __mmask16 rectified_on(__mmask16 m, __m512 x, __m512 s, __m512 t) {
    return _mm512_mask_cmp_ps_mask(m, _mm512_fmadd_ps(x, s, t), _mm512_setzero_ps(), _CMP_GT_OQ);
}

__attribute__((target("avx512f")))
void c2f_plane_rectified_sums(const float *dy, const float *x, long n, float scale, float shift,
                              double *sum_dy, double *sum_dy_x) {
    const __m512 zero = _mm512_setzero_ps(), s = _mm512_set1_ps(scale), t = _mm512_set1_ps(shift);
    double tdy = 0, tdyx = 0;
    for (long b = 0; b < n; b += BLOCK) {
        long e = n - b < BLOCK ? n : b + BLOCK, i = b;
        __m512 g0 = zero, g1 = zero, p0 = zero, p1 = zero;
        for (; i + 32 <= e; i += 32) {
            __m512 x0 = _mm512_loadu_ps(x + i), x1 = _mm512_loadu_ps(x + i + 16);
            __m512 d0 = _mm512_maskz_mov_ps(rectified_on(0xFFFF, x0, s, t), _mm512_loadu_ps(dy + i));
            __m512 d1 = _mm512_maskz_mov_ps(rectified_on(0xFFFF, x1, s, t), _mm512_loadu_ps(dy + i + 16));
            g0 = _mm512_add_ps(g0, d0);
            g1 = _mm512_add_ps(g1, d1);
            p0 = _mm512_fmadd_ps(d0, x0, p0);
            p1 = _mm512_fmadd_ps(d1, x1, p1);
        }
        for (; i < e; i += 16) {
            __mmask16 m = tail_mask(e - i);
            __m512 xv = _mm512_maskz_loadu_ps(m, x + i);
            __m512 d = _mm512_maskz_loadu_ps(rectified_on(m, xv, s, t), dy + i);
            g0 = _mm512_add_ps(g0, d);
            p0 = _mm512_fmadd_ps(d, xv, p0);
        }
        tdy += (double)_mm512_reduce_add_ps(_mm512_add_ps(g0, g1));
        tdyx += (double)_mm512_reduce_add_ps(_mm512_add_ps(p0, p1));
    }
    *sum_dy = tdy;
    *sum_dy_x = tdyx;
}

__attribute__((target("avx512f")))
void c2f_plane_affine(const float *x, float *y, long n, float scale, float shift, int rectify) {
    const __m512 s = _mm512_set1_ps(scale), t = _mm512_set1_ps(shift), zero = _mm512_setzero_ps();
    long i = 0;
    if (rectify) {
        // max(v, 0) with v first keeps a NaN (vmaxps returns the second operand on NaN).
        for (; i + 16 <= n; i += 16) {
            __m512 v = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), s, t);
            _mm512_storeu_ps(y + i, _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ), zero));
        }
        if (i < n) {
            __mmask16 m = tail_mask(n - i);
            __m512 v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), s, t);
            _mm512_mask_storeu_ps(y + i, m, _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ), zero));
        }
    } else {
        for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_fmadd_ps(_mm512_loadu_ps(x + i), s, t));
        if (i < n) {
            __mmask16 m = tail_mask(n - i);
            _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), s, t));
        }
    }
}

__attribute__((target("avx512f"), always_inline))
static inline __m512 norm_input_grad_vec(const float *dy, const float *x, long i, __mmask16 m, int rectify,
                                         __m512 kv, __m512 av, __m512 bv, __m512 s, __m512 t) {
    __m512 xv = _mm512_maskz_loadu_ps(m, x + i);
    __mmask16 on = rectify ? rectified_on(m, xv, s, t) : m;
    __m512 g = _mm512_maskz_mul_ps(on, _mm512_maskz_loadu_ps(m, dy + i), kv);
    return _mm512_add_ps(g, _mm512_fmadd_ps(av, xv, bv));
}

// Whole vectors load and store unmasked: masked loads and stores in the main loop streamed 15-20 %
// and 10 % slower from L2 and L3 on Zen 5 (a C loop over 256 KiB and 8 MiB), and a ReLU pass written
// that way ran 1.6x slower in the step than the Swift loop.
__attribute__((target("avx512f")))
void c2f_plane_norm_input_grad(const float *dy, const float *x, float *dx, long n, float k, float a, float b,
                               int rectify, float scale, float shift) {
    const __m512 kv = _mm512_set1_ps(k), av = _mm512_set1_ps(a), bv = _mm512_set1_ps(b);
    const __m512 s = _mm512_set1_ps(scale), t = _mm512_set1_ps(shift);
    long i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dx + i, norm_input_grad_vec(dy, x, i, (__mmask16)0xFFFF, rectify, kv, av, bv, s, t));
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(dx + i, m, norm_input_grad_vec(dy, x, i, m, rectify, kv, av, bv, s, t));
    }
}
