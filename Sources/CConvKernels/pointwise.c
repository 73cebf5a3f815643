// 1x1x1 stride-1 conv3d (a per-voxel matrix product) with AVX-512F intrinsics, for the small channel
// counts of this project's cells (8-128), where a general GEMM spends its time packing.
//   forward / input gradient: y[o][v] = Σ_i w[o][i] · x[i][v] (+ bias[o]) over voxels v0..<v1; a
//   micro-tile of 4 outputs × 6 vectors of 16 voxels keeps 24 accumulators; per input channel it loads
//   6 vectors and broadcasts 4 weights. The input gradient is the same product with wᵀ (strides).
//   weight gradient: dw[o][i] += Σ_v dy[o][v] · x[i][v] over voxels v0..<v1; a micro-tile of 4 outputs
//   × 6 inputs keeps 24 vector accumulators, over blocks of 512 voxels in order, then reduces each one:
//   every entry of a call's range is summed by that call in a fixed order (deterministic; the caller
//   merges runs of voxels in a fixed order).

#include "CConvKernels.h"
#include <immintrin.h>

enum { PW_OUT = 4, PW_VECS = 6, PW_IN = 6, PW_BLOCK = 512 };

static inline __mmask16 mask_for(long n) {
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
}

__attribute__((target("avx512f")))
void c2f_pointwise_forward(const float *x, const float *w, long wo, long wi, const float *bias, float *y,
                           int inputs, int outputs, long voxels, long v0, long v1) {
    // Voxel tiles outside, output blocks inside: a tile's inputs (inputs × 96 floats) stay in L1
    // while every output block reads them.
    for (long v = v0; v < v1; v += 16 * PW_VECS) {
        long left = v1 - v;
        int full = left >= 16 * PW_VECS;
        int nv = full ? PW_VECS : (int)((left + 15) / 16);
        for (int ob = 0; ob < outputs; ob += PW_OUT) {
            int mo = outputs - ob < PW_OUT ? outputs - ob : PW_OUT;
            // Rows past the last output repeat the last one (computed, never stored).
            const float *wr[PW_OUT];
            __m512 acc[PW_OUT][PW_VECS];
            for (int m = 0; m < PW_OUT; m++) {
                int o = ob + (m < mo ? m : mo - 1);
                wr[m] = w + (long)o * wo;
                __m512 b = _mm512_set1_ps(bias ? bias[o] : 0.0f);
                for (int j = 0; j < PW_VECS; j++) acc[m][j] = b;
            }
            if (full) {
                for (int i = 0; i < inputs; i++) {
                    const float *xi = x + (long)i * voxels + v;
                    __m512 xv[PW_VECS];
                    for (int j = 0; j < PW_VECS; j++) xv[j] = _mm512_loadu_ps(xi + 16 * j);
                    for (int m = 0; m < PW_OUT; m++) {
                        __m512 wv = _mm512_set1_ps(wr[m][i * wi]);
                        for (int j = 0; j < PW_VECS; j++) acc[m][j] = _mm512_fmadd_ps(wv, xv[j], acc[m][j]);
                    }
                }
                for (int m = 0; m < mo; m++) {
                    float *yo = y + (long)(ob + m) * voxels + v;
                    for (int j = 0; j < PW_VECS; j++) _mm512_storeu_ps(yo + 16 * j, acc[m][j]);
                }
            } else {
                for (int i = 0; i < inputs; i++) {
                    const float *xi = x + (long)i * voxels + v;
                    __m512 xv[PW_VECS];
                    for (int j = 0; j < nv; j++) xv[j] = _mm512_maskz_loadu_ps(mask_for(left - 16 * j), xi + 16 * j);
                    for (int m = 0; m < PW_OUT; m++) {
                        __m512 wv = _mm512_set1_ps(wr[m][i * wi]);
                        for (int j = 0; j < nv; j++) acc[m][j] = _mm512_fmadd_ps(wv, xv[j], acc[m][j]);
                    }
                }
                for (int m = 0; m < mo; m++) {
                    float *yo = y + (long)(ob + m) * voxels + v;
                    for (int j = 0; j < nv; j++) _mm512_mask_storeu_ps(yo + 16 * j, mask_for(left - 16 * j), acc[m][j]);
                }
            }
        }
    }
}

__attribute__((target("avx512f")))
void c2f_pointwise_weight_grad(const float *x, const float *dy, float *dw, int inputs, int outputs,
                               long voxels, long v0, long v1, int o0, int o1, int i0, int i1) {
    // Voxel blocks outside, input tiles inside: a block of the 4 dY rows stays in L1 while every
    // input tile reads it. The vector accumulators of all (output, input) pairs of the block of
    // outputs live in `keep` between voxel blocks, so each pair still sums its voxels in order.
    int ni = i1 - i0;
    if (ni <= 0) return;
    for (int ob = o0; ob < o1; ob += PW_OUT) {
        int mo = o1 - ob < PW_OUT ? o1 - ob : PW_OUT;
        const float *dr[PW_OUT];
        for (int m = 0; m < PW_OUT; m++) dr[m] = dy + (long)(ob + (m < mo ? m : mo - 1)) * voxels;
        __m512 keep[PW_OUT * ni];
        for (int k = 0; k < PW_OUT * ni; k++) keep[k] = _mm512_setzero_ps();
        for (long vb = v0; vb < v1; vb += PW_BLOCK) {
            long ve = vb + PW_BLOCK < v1 ? vb + PW_BLOCK : v1;
            for (int ib = i0; ib < i1; ib += PW_IN) {
                int mi = i1 - ib < PW_IN ? i1 - ib : PW_IN;
                const float *xr[PW_IN];
                for (int j = 0; j < PW_IN; j++) xr[j] = x + (long)(ib + (j < mi ? j : mi - 1)) * voxels;
                __m512 acc[PW_OUT][PW_IN];
                for (int m = 0; m < PW_OUT; m++)
                    for (int j = 0; j < PW_IN; j++) acc[m][j] = j < mi ? keep[m * ni + ib - i0 + j] : _mm512_setzero_ps();
                for (long v = vb; v < ve; v += 16) {
                    __mmask16 k = mask_for(ve - v);
                    __m512 xv[PW_IN];
                    for (int j = 0; j < PW_IN; j++) xv[j] = _mm512_maskz_loadu_ps(k, xr[j] + v);
                    for (int m = 0; m < PW_OUT; m++) {
                        __m512 d = _mm512_maskz_loadu_ps(k, dr[m] + v);
                        for (int j = 0; j < PW_IN; j++) acc[m][j] = _mm512_fmadd_ps(d, xv[j], acc[m][j]);
                    }
                }
                for (int m = 0; m < PW_OUT; m++)
                    for (int j = 0; j < mi; j++) keep[m * ni + ib - i0 + j] = acc[m][j];
            }
        }
        for (int m = 0; m < mo; m++)
            for (int j = 0; j < ni; j++) dw[(long)(ob + m) * inputs + i0 + j] += _mm512_reduce_add_ps(keep[m * ni + j]);
    }
}
