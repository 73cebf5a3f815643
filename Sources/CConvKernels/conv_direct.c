// Direct stride-1 conv3d kernels with AVX-512F intrinsics (compiled per function via the target
// attribute, so the package needs no global flags; callers check c2f_conv_direct_available()).
//
// Both passes read a zero-padded copy of a z-slab of the input, so every kernel tap is a constant
// pointer offset and no edge tests remain in the inner loops.
//   forward (and the input gradient, which is the forward conv of the padded dY with transposed,
//   flipped weights): a micro-tile of 8 output channels × 3 vectors of 16 voxels along x keeps
//   24 accumulators in zmm registers; per (input channel, tap) it loads 3 input vectors and
//   broadcasts 8 weights. Partial last vectors of a row compute on neighbouring data and are
//   stored under a mask.
//   weight gradient: a micro-tile of 4 output channels × 6 (input channel, tap) pairs; dot products
//   over blocks of ~2048 voxels, reduced horizontally once per block.

#include "CConvKernels.h"
#include <immintrin.h>
#include <string.h>

enum { OUT_BLOCK = 8, VECS = 3, DW_OUT = 4, DW_PAIRS = 6, DW_BLOCK_VOXELS = 2048 };

int c2f_conv_direct_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

static inline long padded_row(const c2f_conv_shape *s) { return s->w + 2 * (s->kw / 2); }
static inline long padded_plane(const c2f_conv_shape *s) { return (s->h + 2 * (s->kh / 2)) * padded_row(s); }
static inline long slab_channel(const c2f_conv_shape *s, int planes) {
    return (planes + s->kd - 1) * padded_plane(s);
}
// Reads past the last channel reach at most 13 floats (partial last vectors): 64 is ample.
static inline long slack(const c2f_conv_shape *s) { (void)s; return 64; }

long c2f_slab_floats(const c2f_conv_shape *s, int channels, int planes) {
    return (long)channels * slab_channel(s, planes) + slack(s);
}

void c2f_pad_slab(const float *src, float *dst, const c2f_conv_shape *s, int channels,
                  int c0, int c1, int z0, int planes) {
    int pd = s->kd / 2, ph = s->kh / 2, pw = s->kw / 2;
    long wp = padded_row(s), pp = padded_plane(s), cs = slab_channel(s, planes);
    long hw = (long)s->h * s->w;
    for (int c = c0; c < c1; c++) {
        float *o = dst + c * cs;
        const float *sc = src + (long)c * s->d * hw;
        for (int k = 0; k < planes + s->kd - 1; k++) {
            float *op = o + k * pp;
            int z = z0 - pd + k;
            if (z < 0 || z >= s->d) { memset(op, 0, sizeof(float) * pp); continue; }
            memset(op, 0, sizeof(float) * ph * wp);
            const float *sp = sc + z * hw;
            for (int y = 0; y < s->h; y++) {
                float *row = op + (y + ph) * wp;
                for (int i = 0; i < pw; i++) { row[i] = 0; row[pw + s->w + i] = 0; }
                memcpy(row + pw, sp + (long)y * s->w, sizeof(float) * s->w);
            }
            memset(op + (ph + s->h) * wp, 0, sizeof(float) * ph * wp);
        }
    }
    if (c1 == channels) memset(dst + channels * cs, 0, sizeof(float) * slack(s));
}

void c2f_pack_weights(const float *w, float *dst, const c2f_conv_shape *s, int transposed) {
    int taps = s->kd * s->kh * s->kw;
    int outs = transposed ? s->cin : s->cout, ins = transposed ? s->cout : s->cin;
    int blocks = (outs + OUT_BLOCK - 1) / OUT_BLOCK;
    for (int b = 0; b < blocks; b++)
        for (int i = 0; i < ins; i++)
            for (int t = 0; t < taps; t++) {
                float *d = dst + (((long)b * ins + i) * taps + t) * OUT_BLOCK;
                for (int m = 0; m < OUT_BLOCK; m++) {
                    int o = b * OUT_BLOCK + m;
                    float v = 0;
                    if (o < outs) {
                        v = transposed ? w[((long)i * s->cin + o) * taps + (taps - 1 - t)]
                                       : w[((long)o * s->cin + i) * taps + t];
                    }
                    d[m] = v;
                }
            }
}

static void tap_offsets(const c2f_conv_shape *s, int *off) {
    long wp = padded_row(s), pp = padded_plane(s);
    int t = 0;
    for (int a = 0; a < s->kd; a++)
        for (int b = 0; b < s->kh; b++)
            for (int c = 0; c < s->kw; c++) off[t++] = (int)(a * pp + b * wp + c);
}

static inline __mmask16 tail_mask(int w) {
    return (w % 16) ? (__mmask16)((1u << (w % 16)) - 1) : (__mmask16)0xFFFF;
}

__attribute__((target("avx512f")))
void c2f_conv_forward(const float *src, const float *packed, const float *bias, float *y,
                      const c2f_conv_shape *s, int inputs, int outputs, int z0, int planes, int za, int zb) {
    int taps = s->kd * s->kh * s->kw;
    int off[taps];
    tap_offsets(s, off);
    long wp = padded_row(s), pp = padded_plane(s), cs = slab_channel(s, planes);
    long hw = (long)s->h * s->w, vol = hw * s->d;
    int nvx = (s->w + 15) / 16, npos = s->h * nvx;
    __mmask16 tail = tail_mask(s->w);
    int blocks = (outputs + OUT_BLOCK - 1) / OUT_BLOCK;
    for (int z = za; z < zb; z++) {
        for (int b = 0; b < blocks; b++) {
            const float *wb = packed + (long)b * inputs * taps * OUT_BLOCK;
            for (int p = 0; p < npos; p += VECS) {
                long xin[VECS], yo[VECS];
                __mmask16 mk[VECS];
                for (int j = 0; j < VECS; j++) {
                    int q = p + j < npos ? p + j : npos - 1;  // a short last tile repeats its last vector
                    int yy = q / nvx, xv = q % nvx;
                    xin[j] = (z - z0) * pp + yy * wp + xv * 16;
                    yo[j] = z * hw + (long)yy * s->w + xv * 16;
                    mk[j] = xv == nvx - 1 ? tail : (__mmask16)0xFFFF;
                }
                __m512 acc[OUT_BLOCK][VECS];
                for (int m = 0; m < OUT_BLOCK; m++) {
                    int o = b * OUT_BLOCK + m;
                    __m512 init = _mm512_set1_ps(bias && o < outputs ? bias[o] : 0.f);
                    for (int j = 0; j < VECS; j++) acc[m][j] = init;
                }
                for (int ci = 0; ci < inputs; ci++) {
                    const float *xc = src + ci * cs;
                    const float *wc = wb + (long)ci * taps * OUT_BLOCK;
                    for (int t = 0; t < taps; t++) {
                        const float *sp = xc + off[t];
                        __m512 v0 = _mm512_loadu_ps(sp + xin[0]);
                        __m512 v1 = _mm512_loadu_ps(sp + xin[1]);
                        __m512 v2 = _mm512_loadu_ps(sp + xin[2]);
                        const float *wt = wc + t * OUT_BLOCK;
#pragma clang loop unroll(full)
                        for (int m = 0; m < OUT_BLOCK; m++) {
                            __m512 wv = _mm512_set1_ps(wt[m]);
                            acc[m][0] = _mm512_fmadd_ps(wv, v0, acc[m][0]);
                            acc[m][1] = _mm512_fmadd_ps(wv, v1, acc[m][1]);
                            acc[m][2] = _mm512_fmadd_ps(wv, v2, acc[m][2]);
                        }
                    }
                }
                for (int m = 0; m < OUT_BLOCK; m++) {
                    int o = b * OUT_BLOCK + m;
                    if (o >= outputs) break;
                    float *yc = y + o * vol;
                    for (int j = 0; j < VECS; j++) _mm512_mask_storeu_ps(yc + yo[j], mk[j], acc[m][j]);
                }
            }
        }
    }
}

__attribute__((target("avx512f")))
void c2f_conv_weight_grad(const float *src, const float *dy, float *dw, const c2f_conv_shape *s,
                          int z0, int planes, int q0, int q1) {
    int taps = s->kd * s->kh * s->kw;
    int off[taps];
    tap_offsets(s, off);
    long wp = padded_row(s), pp = padded_plane(s), cs = slab_channel(s, planes);
    long hw = (long)s->h * s->w, vol = hw * s->d;
    int nvx = (s->w + 15) / 16;
    __mmask16 tail = tail_mask(s->w);
    int block = (int)((DW_BLOCK_VOXELS + hw - 1) / hw);
    for (int za = z0; za < z0 + planes; za += block) {
        int zc = za + block < z0 + planes ? za + block : z0 + planes;
        for (int cb = 0; cb < s->cout; cb += DW_OUT) {
            const float *dyc[DW_OUT];
            for (int m = 0; m < DW_OUT; m++) dyc[m] = dy + (long)(cb + m < s->cout ? cb + m : s->cout - 1) * vol;
            for (int q = q0; q < q1; q += DW_PAIRS) {
                long xo[DW_PAIRS];
                for (int j = 0; j < DW_PAIRS; j++) {
                    int qq = q + j < q1 ? q + j : q1 - 1;
                    xo[j] = (long)(qq / taps) * cs + off[qq % taps];
                }
                __m512 acc[DW_OUT][DW_PAIRS];
                for (int m = 0; m < DW_OUT; m++)
                    for (int j = 0; j < DW_PAIRS; j++) acc[m][j] = _mm512_setzero_ps();
                for (int z = za; z < zc; z++) {
                    for (int yy = 0; yy < s->h; yy++) {
                        long yb = z * hw + (long)yy * s->w, xb = (z - z0) * pp + yy * wp;
                        for (int xv = 0; xv < nvx; xv++) {
                            // Masked dY lanes are zero, so x's lanes past the row end add nothing.
                            __mmask16 mk = xv == nvx - 1 ? tail : (__mmask16)0xFFFF;
                            __m512 d[DW_OUT];
#pragma clang loop unroll(full)
                            for (int m = 0; m < DW_OUT; m++) d[m] = _mm512_maskz_loadu_ps(mk, dyc[m] + yb + xv * 16);
#pragma clang loop unroll(full)
                            for (int j = 0; j < DW_PAIRS; j++) {
                                __m512 xv16 = _mm512_loadu_ps(src + xo[j] + xb + xv * 16);
#pragma clang loop unroll(full)
                                for (int m = 0; m < DW_OUT; m++) acc[m][j] = _mm512_fmadd_ps(d[m], xv16, acc[m][j]);
                            }
                        }
                    }
                }
                for (int m = 0; m < DW_OUT && cb + m < s->cout; m++)
                    for (int j = 0; j < DW_PAIRS && q + j < q1; j++) {
                        int qq = q + j;
                        dw[((long)(cb + m) * s->cin + qq / taps) * taps + qq % taps] += _mm512_reduce_add_ps(acc[m][j]);
                    }
            }
        }
    }
}
