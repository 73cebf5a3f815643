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

__attribute__((target("avx512f")))
double c2f_plane_sum(const float *x, long n) {
    double total = 0;
    for (long s = 0; s < n; s += BLOCK) {
        long e = n - s < BLOCK ? n : s + BLOCK, i = s;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (; i + 64 <= e; i += 64) {
            a0 = _mm512_add_ps(a0, _mm512_loadu_ps(x + i));
            a1 = _mm512_add_ps(a1, _mm512_loadu_ps(x + i + 16));
            a2 = _mm512_add_ps(a2, _mm512_loadu_ps(x + i + 32));
            a3 = _mm512_add_ps(a3, _mm512_loadu_ps(x + i + 48));
        }
        for (; i < e; i += 16) a0 = _mm512_add_ps(a0, _mm512_maskz_loadu_ps(tail_mask(e - i), x + i));
        total += (double)_mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    }
    return total;
}

__attribute__((target("avx512f")))
double c2f_plane_squared_deviation(const float *x, float c, long n) {
    const __m512 cv = _mm512_set1_ps(c);
    double total = 0;
    for (long s = 0; s < n; s += BLOCK) {
        long e = n - s < BLOCK ? n : s + BLOCK, i = s;
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
        total += (double)_mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    }
    return total;
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

__attribute__((target("avx512f")))
void c2f_plane_masked_sums(const float *dy, const float *x, const float *mask, long n,
                           double *sum_dy, double *sum_dy_x) {
    const __m512 zero = _mm512_setzero_ps();
    double tdy = 0, tdyx = 0;
    for (long s = 0; s < n; s += BLOCK) {
        long e = n - s < BLOCK ? n : s + BLOCK, i = s;
        __m512 g0 = zero, g1 = zero, p0 = zero, p1 = zero;
        for (; i + 32 <= e; i += 32) {
            // mask > 0 is false for NaN (ordered compare), as the scalar ReLU backward.
            __mmask16 on0 = _mm512_cmp_ps_mask(_mm512_loadu_ps(mask + i), zero, _CMP_GT_OQ);
            __mmask16 on1 = _mm512_cmp_ps_mask(_mm512_loadu_ps(mask + i + 16), zero, _CMP_GT_OQ);
            __m512 d0 = _mm512_maskz_mov_ps(on0, _mm512_loadu_ps(dy + i));
            __m512 d1 = _mm512_maskz_mov_ps(on1, _mm512_loadu_ps(dy + i + 16));
            g0 = _mm512_add_ps(g0, d0);
            g1 = _mm512_add_ps(g1, d1);
            p0 = _mm512_fmadd_ps(d0, _mm512_loadu_ps(x + i), p0);
            p1 = _mm512_fmadd_ps(d1, _mm512_loadu_ps(x + i + 16), p1);
        }
        for (; i < e; i += 16) {
            __mmask16 m = tail_mask(e - i);
            __mmask16 on = _mm512_mask_cmp_ps_mask(m, _mm512_maskz_loadu_ps(m, mask + i), zero, _CMP_GT_OQ);
            __m512 d = _mm512_maskz_loadu_ps(on, dy + i);
            g0 = _mm512_add_ps(g0, d);
            p0 = _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(m, x + i), p0);
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
static inline __m512 norm_input_grad_vec(const float *dy, const float *x, const float *mask, long i, __mmask16 m,
                                         __m512 kv, __m512 av, __m512 bv) {
    const __m512 zero = _mm512_setzero_ps();
    __mmask16 on = mask ? _mm512_mask_cmp_ps_mask(m, _mm512_maskz_loadu_ps(m, mask + i), zero, _CMP_GT_OQ) : m;
    __m512 g = _mm512_maskz_mul_ps(on, _mm512_maskz_loadu_ps(m, dy + i), kv);
    return _mm512_add_ps(g, _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, x + i), bv));
}

// Whole vectors load and store unmasked: masked loads and stores in the main loop streamed 15-20 %
// and 10 % slower from L2 and L3 on Zen 5 (a C loop over 256 KiB and 8 MiB), and a ReLU pass written
// that way ran 1.6x slower in the step than the Swift loop.
__attribute__((target("avx512f")))
void c2f_plane_norm_input_grad(const float *dy, const float *x, const float *mask, float *dx, long n,
                               float k, float a, float b) {
    const __m512 kv = _mm512_set1_ps(k), av = _mm512_set1_ps(a), bv = _mm512_set1_ps(b);
    long i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dx + i, norm_input_grad_vec(dy, x, mask, i, (__mmask16)0xFFFF, kv, av, bv));
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(dx + i, m, norm_input_grad_vec(dy, x, mask, i, m, kv, av, bv));
    }
}
