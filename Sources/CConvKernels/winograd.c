// Winograd F(2x2x2, 3x3x3) for the stride-1 "same" 3x3x3 conv (Lavin & Gray 2016, in 3D), and
// F(2x2, 3x3) for the 3x3x1 one (kernel extent 1 in z: tiles of 2x2 outputs in one plane, 16
// positions instead of 64, 16 multiply-adds per tile instead of 36), with AVX-512F intrinsics. Each 2x2x2 output tile is A^T [(G g G^T) ⊙ (B^T d B)] A over its 4x4x4 input
// tile d: 64 multiply-adds per tile and input channel instead of 8 · 27 = 216, for the price of the
// input transform (about 190 additions per tile and input channel, shared by all output channels)
// and the output transform (about 110 per tile and output channel, shared by all input channels).
//   F(2,3), per axis: B^T d = (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
//                     G g   = (g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2)
//                     A^T m = (m0 + m1 + m2, m1 - m2 - m3)
// Vectors hold 16 tiles along x (32 output voxels of one row pair), or with rows of at most 16
// voxels the 8 tiles of two tile rows. The transform reads the input in place: each tile row takes
// four 16-lane loads per input row, masked to the volume (the zero padding), and even and odd
// positions are split with one permute each (a padded copy of the input was 4 % of inference). A group of tile vectors
// is transformed into V [64 (16) positions][inputs][group][16], then per block of 8 output channels
// the 64 products M_p = U_p · V_p run as the direct kernel's micro-tile (8 channels × 3 vectors,
// 24 accumulators), and the output transform writes y. Every output value is computed by one
// call in a fixed order, so results do not depend on the thread count.

#include "CConvKernels.h"
#include "conv_slab.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

enum { WB = 8, WV = 3 };

int c2f_wino_available(void) {
    const char *env = getenv("C2FNAS_CONV_WINOGRAD");
    if (env && strcmp(env, "0") == 0) return 0;
    return c2f_conv_direct_available();
}

// Tiling of a shape. `deep`: the kernel spans 3 planes (2-plane tiles, 4 input planes, 64
// positions); else 1 (1-plane tiles, 16 positions). `pairs`: a vector holds two tile rows of at
// most 8 tiles each.
typedef struct {
    int deep, pairs;
    int tz, ty, tx;          // tiles along z, y, x
    int rows_v, vpr;         // vector rows (tile rows, or tile-row pairs) and vectors per row
    int pos;                 // transform positions (64 or 16)
} tiling;

static tiling tiling_of(const c2f_conv_shape *s) {
    tiling t;
    t.deep = s->kd == 3;
    t.tz = t.deep ? (s->d + 1) / 2 : s->d;
    t.ty = (s->h + 1) / 2;
    t.tx = (s->w + 1) / 2;
    t.pairs = t.tx <= 8;
    t.rows_v = t.pairs ? (t.ty + 1) / 2 : t.ty;
    t.vpr = t.pairs ? 1 : (t.tx + 15) / 16;
    t.pos = t.deep ? 64 : 16;
    return t;
}

long c2f_wino_vectors(const c2f_conv_shape *s) {
    tiling t = tiling_of(s);
    return (long)t.tz * t.rows_v * t.vpr;
}

// Strides between the positions of V and M: one cache line more than the data, so the lines a
// transform touches fall into different L1 sets (with strides of a multiple of 4 KiB, all 64 shared
// one set of 12 ways, and the 16-channel convs ran slower than the direct kernel).
static inline long v_stride(int inputs, int group) { return (long)inputs * group * 16 + 16; }
static inline long m_stride(int group) { return (long)WB * group * 16 + 16; }

long c2f_wino_scratch_floats(int inputs, int group) {
    return 64 * v_stride(inputs, group) + 64 * m_stride(group);
}

// G g along one axis of a 3-tap line (stride `st` between taps) into 4 values (stride `so`).
static inline void kernel_line(const float *g, long st, float *u, long so) {
    float g0 = g[0], g1 = g[st], g2 = g[2 * st];
    u[0] = g0;
    u[so] = 0.5f * (g0 + g1 + g2);
    u[2 * so] = 0.5f * (g0 - g1 + g2);
    u[3 * so] = g2;
}

// kernel_line on 8 output channels at once, the same operations in the same order per lane.
__attribute__((target("avx2"), always_inline))
static inline void kernel_line8(const __m256 *g, long st, __m256 *u, long so) {
    const __m256 half = _mm256_set1_ps(0.5f);
    __m256 g0 = g[0], g1 = g[st], g2 = g[2 * st];
    u[0] = g0;
    u[so] = _mm256_mul_ps(half, _mm256_add_ps(_mm256_add_ps(g0, g1), g2));
    u[2 * so] = _mm256_mul_ps(half, _mm256_add_ps(_mm256_sub_ps(g0, g1), g2));
    u[3 * so] = g2;
}

// c2f_wino_pack_weights with the block's 8 output channels in the lanes of one vector: each tap
// gathered for the 8 channels at once (rows of the weight a fixed stride apart), the transform run
// on vectors, each position stored as the 8 contiguous values the layout keeps for it. The scalar
// loop below stays as the reference (c2f_wino_pack_weights_reference); the results are the same bits.
// Training packs every Winograd conv's weights in both directions every step: the scalar loop took
// 1.5 ms of a 125 ms C2FNAS-Panc step (perf).
__attribute__((target("avx2")))
static void wino_pack_vectors(const float *w, float *dst, const c2f_conv_shape *s, int transposed, int b0, int b1) {
    int outs = transposed ? s->cin : s->cout, ins = transposed ? s->cout : s->cin;
    int deep = s->kd == 3, taps = deep ? 27 : 9, pos = deep ? 64 : 16;
    int row = transposed ? taps : s->cin * taps;   // between the weights of channel o and o + 1
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i idx = _mm256_mullo_epi32(lane, _mm256_set1_epi32(row));
    for (int b = b0; b < b1; b++) {
        int o0 = b * WB, n = outs - o0 < WB ? outs - o0 : WB;
        __m256 valid = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane));
        for (int i = 0; i < ins; i++) {
            const float *base = transposed ? w + ((long)i * s->cin + o0) * taps + (taps - 1)
                                           : w + ((long)o0 * s->cin + i) * taps;
            __m256 g[27], a[4 * 3 * 3], bb[4 * 4 * 3], u[64];
            for (int t = 0; t < taps; t++)
                g[t] = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), transposed ? base - t : base + t, idx, valid, 4);
            int nz = deep ? 4 : 1;
            if (deep) {
                for (int y = 0; y < 3; y++)
                    for (int x = 0; x < 3; x++) kernel_line8(g + y * 3 + x, 9, a + y * 3 + x, 9);
            } else {
                for (int k = 0; k < 9; k++) a[k] = g[k];
            }
            for (int pz = 0; pz < nz; pz++)
                for (int x = 0; x < 3; x++) kernel_line8(a + pz * 9 + x, 3, bb + pz * 12 + x, 3);
            for (int pz = 0; pz < nz; pz++)
                for (int py = 0; py < 4; py++) kernel_line8(bb + pz * 12 + py * 3, 1, u + pz * 16 + py * 4, 1);
            for (int p = 0; p < pos; p++) _mm256_storeu_ps(dst + (((long)b * pos + p) * ins + i) * WB, u[p]);
        }
    }
}

void c2f_wino_pack_weights(const float *w, float *dst, const c2f_conv_shape *s, int transposed, int b0, int b1) {
    // The gathers need AVX2; the kernels that read the result need AVX-512, but the packing checks
    // the CPU itself, as c2f_pad_slab does.
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) wino_pack_vectors(w, dst, s, transposed, b0, b1);
    else c2f_wino_pack_weights_reference(w, dst, s, transposed, b0, b1);
}

void c2f_wino_pack_weights_reference(const float *w, float *dst, const c2f_conv_shape *s, int transposed, int b0, int b1) {
    int outs = transposed ? s->cin : s->cout, ins = transposed ? s->cout : s->cin;
    int deep = s->kd == 3, taps = deep ? 27 : 9, pos = deep ? 64 : 16;
    for (int b = b0; b < b1; b++)
        for (int i = 0; i < ins; i++)
            for (int m = 0; m < WB; m++) {
                int o = b * WB + m;
                float g[27], a[4 * 3 * 3], bb[4 * 4 * 3], u[64];
                for (int t = 0; t < taps; t++) {
                    float v = 0;
                    if (o < outs) {
                        v = transposed ? w[((long)i * s->cin + o) * taps + (taps - 1 - t)] : w[((long)o * s->cin + i) * taps + t];
                    }
                    g[t] = v;
                }
                // z, then y, then x: g[z][y][x] -> a[pz][y][x] -> bb[pz][py][x] -> u[pz][py][px].
                int nz = deep ? 4 : 1;
                if (deep) {
                    for (int y = 0; y < 3; y++)
                        for (int x = 0; x < 3; x++) kernel_line(g + y * 3 + x, 9, a + y * 3 + x, 9);
                } else {
                    memcpy(a, g, sizeof(float) * 9);
                }
                for (int pz = 0; pz < nz; pz++)
                    for (int x = 0; x < 3; x++) kernel_line(a + pz * 9 + x, 3, bb + pz * 12 + x, 3);
                for (int pz = 0; pz < nz; pz++)
                    for (int py = 0; py < 4; py++) kernel_line(bb + pz * 12 + py * 3, 1, u + pz * 16 + py * 4, 1);
                for (int p = 0; p < pos; p++) dst[(((long)b * pos + p) * ins + i) * WB + m] = u[p];
            }
}

// B^T d on four vectors, in place.
#define BT(d0, d1, d2, d3) do { __m512 t0_ = _mm512_sub_ps(d0, d2), t1_ = _mm512_add_ps(d1, d2); \
    __m512 t2_ = _mm512_sub_ps(d2, d1), t3_ = _mm512_sub_ps(d1, d3); d0 = t0_; d1 = t1_; d2 = t2_; d3 = t3_; } while (0)

// Vector v: tile plane, vector row, x vector.
static inline void vector_place(const tiling *t, long v, int *tz, int *vy, int *vx) {
    *vx = (int)(v % t->vpr);
    *vy = (int)((v / t->vpr) % t->rows_v);
    *tz = (int)(v / ((long)t->vpr * t->rows_v));
}

// V[p][ci][j] for the group's vectors, all input channels, read from x [inputs][d][h][w]. `deep`
// and `pairs` are constants after inlining. Row pairs: lanes 0-7 are tile row 2·vy, lanes 8-15
// tile row 2·vy + 1, so the second half of each permute reads two input rows further on instead
// of 16 values further on. Rows and planes outside the volume are zero vectors.
__attribute__((target("avx512f"), always_inline))
static inline void input_transform_t(const float *x, float *V, const c2f_conv_shape *s, const tiling *t, int inputs,
                                     long v0, int nv, int group, int deep, int pairs) {
    long hw = (long)s->h * s->w, vol = hw * s->d;
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    const __m512 zero = _mm512_setzero_ps();
    long pstride = v_stride(inputs, group);
    int span = deep ? 4 : 1;
    for (int j = 0; j < nv; j++) {
        int tz, vy, vx;
        vector_place(t, v0 + j, &tz, &vy, &vx);
        int z0 = deep ? 2 * tz - 1 : tz;
        int y0 = pairs ? 4 * vy - 1 : 2 * vy - 1;
        int xa = pairs ? -1 : 32 * vx - 1;            // x of lane 0 of the first load
        int xb = pairs ? xa : xa + 16;                 // of the second (pairs: two rows down)
        int rb = pairs ? 2 : 0;                        // row offset of the second load
        __mmask16 ma = lanes_inside(xa, s->w), mb = lanes_inside(xb, s->w);
        __mmask16 mc = lanes_inside(xa + 2, s->w), md = lanes_inside(xb + 2, s->w);
        // At the first vector of a vector row, the rows that the next vector row reads and this one
        // does not are requested from memory: the input is read in place, one tile at a time across
        // all channels, a pattern the hardware prefetchers do not follow, and at 64³ the transform
        // waited on its loads (32->16 at 64³: the masked loads were the hottest instructions).
        if (vx == 0) {
            // Two vector rows ahead measured the same as one.
            int step = pairs ? 4 : 2, rows_next = step, ynext = y0 + 4 + rb;
            for (int ci = 0; ci < inputs; ci++)
                for (int dz = 0; dz < span; dz++) {
                    int z = z0 + dz;
                    if (z < 0 || z >= s->d) continue;
                    for (int k = 0; k < rows_next; k++) {
                        int yy = ynext + k;
                        if (yy >= s->h) break;
                        const char *rp = (const char *)(x + ci * vol + z * hw + (long)yy * s->w);
                        for (long off = 0; off < (long)s->w * 4; off += 64) _mm_prefetch(rp + off, _MM_HINT_T0);
                    }
                }
        }
        for (int ci = 0; ci < inputs; ci++) {
            const float *xc = x + ci * vol;
            __m512 tr[4][16];
            for (int dz = 0; dz < span; dz++) {
                int z = z0 + dz;
                int zin = z >= 0 && z < s->d;
                __m512 r[4][4];
                for (int dy = 0; dy < 4; dy++) {
                    int ya = y0 + dy, yb = ya + rb;
                    __m512 a = zero, b = zero, c = zero, d = zero;
                    if (zin && ya >= 0 && ya < s->h) {
                        const float *rp = xc + z * hw + (long)ya * s->w;
                        a = _mm512_maskz_loadu_ps(ma, rp + xa);
                        c = _mm512_maskz_loadu_ps(mc, rp + xa + 2);
                    }
                    if (zin && yb >= 0 && yb < s->h) {
                        const float *rp = xc + z * hw + (long)yb * s->w;
                        b = _mm512_maskz_loadu_ps(mb, rp + xb);
                        d = _mm512_maskz_loadu_ps(md, rp + xb + 2);
                    }
                    __m512 d0 = _mm512_permutex2var_ps(a, even, b), d1 = _mm512_permutex2var_ps(a, odd, b);
                    __m512 d2 = _mm512_permutex2var_ps(c, even, d), d3 = _mm512_permutex2var_ps(c, odd, d);
                    BT(d0, d1, d2, d3);
                    r[dy][0] = d0; r[dy][1] = d1; r[dy][2] = d2; r[dy][3] = d3;
                }
                for (int px = 0; px < 4; px++) {
                    __m512 a = r[0][px], b = r[1][px], c = r[2][px], d = r[3][px];
                    BT(a, b, c, d);
                    tr[dz][0 * 4 + px] = a; tr[dz][1 * 4 + px] = b; tr[dz][2 * 4 + px] = c; tr[dz][3 * 4 + px] = d;
                }
            }
            float *vo = V + ((long)ci * group + j) * 16;
            for (int q = 0; q < 16; q++) {
                if (deep) {
                    __m512 a = tr[0][q], b = tr[1][q], c = tr[2][q], d = tr[3][q];
                    BT(a, b, c, d);
                    _mm512_storeu_ps(vo + (0 * 16 + q) * pstride, a);
                    _mm512_storeu_ps(vo + (1 * 16 + q) * pstride, b);
                    _mm512_storeu_ps(vo + (2 * 16 + q) * pstride, c);
                    _mm512_storeu_ps(vo + (3 * 16 + q) * pstride, d);
                } else {
                    _mm512_storeu_ps(vo + q * pstride, tr[0][q]);
                }
            }
        }
    }
}

__attribute__((target("avx512f")))
static void input_transform(const float *x, float *V, const c2f_conv_shape *s, const tiling *t, int inputs,
                            long v0, int nv, int group) {
    if (t->deep && !t->pairs) input_transform_t(x, V, s, t, inputs, v0, nv, group, 1, 0);
    else if (t->deep) input_transform_t(x, V, s, t, inputs, v0, nv, group, 1, 1);
    else if (!t->pairs) input_transform_t(x, V, s, t, inputs, v0, nv, group, 0, 0);
    else input_transform_t(x, V, s, t, inputs, v0, nv, group, 0, 1);
}

// M[p][m][j0 + k] = Σ_ci U[p][ci][m] · V[p][ci][j0 + k] for k < n (n = 1..3, a constant after inlining).
__attribute__((target("avx512f"), always_inline))
static inline void product_tile(const float *Vp, const float *Up, float *Mp, int inputs, int group, int j0, int n) {
    __m512 acc[WB][WV];
    for (int m = 0; m < WB; m++)
        for (int k = 0; k < WV; k++) acc[m][k] = _mm512_setzero_ps();
    for (int ci = 0; ci < inputs; ci++) {
        const float *vp = Vp + ((long)ci * group + j0) * 16;
        __m512 v0 = _mm512_loadu_ps(vp);
        __m512 v1 = n > 1 ? _mm512_loadu_ps(vp + 16) : v0;
        __m512 v2 = n > 2 ? _mm512_loadu_ps(vp + 32) : v0;
        const float *wt = Up + ci * WB;
#pragma clang loop unroll(full)
        for (int m = 0; m < WB; m++) {
            __m512 wv = _mm512_set1_ps(wt[m]);
            acc[m][0] = _mm512_fmadd_ps(wv, v0, acc[m][0]);
            if (n > 1) acc[m][1] = _mm512_fmadd_ps(wv, v1, acc[m][1]);
            if (n > 2) acc[m][2] = _mm512_fmadd_ps(wv, v2, acc[m][2]);
        }
    }
    for (int m = 0; m < WB; m++)
        for (int k = 0; k < n; k++) _mm512_storeu_ps(Mp + ((long)m * group + j0 + k) * 16, acc[m][k]);
}

// A^T m on four vectors into two.
#define AT(m0, m1, m2, m3, y0, y1) do { y0 = _mm512_add_ps(_mm512_add_ps(m0, m1), m2); \
    y1 = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3); } while (0)


__attribute__((target("avx512f"), always_inline))
static inline void output_transform_t(const float *M, const float *bias, float *y, const c2f_conv_shape *s,
                                      const tiling *t, int outputs, int b, long v0, int nv, int group,
                                      int deep, int pairs) {
    long hw = (long)s->h * s->w, vol = hw * s->d;
    long pstride = m_stride(group);
    const __m512i lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i hi = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    int nz = deep ? 4 : 1;
    for (int j = 0; j < nv; j++) {
        int tz, vy, vx;
        vector_place(t, v0 + j, &tz, &vy, &vx);
        // The interleaved halves: lanes 0-15 and 16-31 of a row (x0 = 32·vx), or row pairs'
        // first and second tile row (both from x = 0).
        int x0 = pairs ? 0 : 32 * vx;
        int ty = pairs ? 2 * vy : vy;
        __mmask16 mlo = lanes_inside(x0, s->w), mhi = pairs ? mlo : lanes_inside(x0 + 16, s->w);
        for (int m = 0; m < WB; m++) {
            int o = b * WB + m;
            if (o >= outputs) break;
            const float *mp = M + ((long)m * group + j) * 16;
            __m512 w[4][4];  // [pz][oy * 2 + ox]
            for (int pz = 0; pz < nz; pz++) {
                __m512 xr[4][2];
                for (int py = 0; py < 4; py++) {
                    const float *q = mp + (pz * 16 + py * 4) * pstride;
                    __m512 m0 = _mm512_loadu_ps(q), m1 = _mm512_loadu_ps(q + pstride);
                    __m512 m2 = _mm512_loadu_ps(q + 2 * pstride), m3 = _mm512_loadu_ps(q + 3 * pstride);
                    AT(m0, m1, m2, m3, xr[py][0], xr[py][1]);
                }
                for (int ox = 0; ox < 2; ox++)
                    AT(xr[0][ox], xr[1][ox], xr[2][ox], xr[3][ox], w[pz][ox], w[pz][2 + ox]);
            }
            __m512 bv = _mm512_set1_ps(bias ? bias[o] : 0.f);
            float *yc = y + (long)o * vol;
            // w[oz][q] after the z transform (deep) or w[0][q] as it is, plus the bias.
            for (int q = 0; q < 4; q++) {
                if (deep) {
                    __m512 r0, r1;
                    AT(w[0][q], w[1][q], w[2][q], w[3][q], r0, r1);
                    w[0][q] = _mm512_add_ps(r0, bv);
                    w[1][q] = _mm512_add_ps(r1, bv);
                } else {
                    w[0][q] = _mm512_add_ps(w[0][q], bv);
                }
            }
            for (int oz = 0; oz < (deep ? 2 : 1); oz++) {
                int z = deep ? 2 * tz + oz : tz;
                if (z >= s->d) break;
                for (int oy = 0; oy < 2; oy++) {
                    int yy = 2 * ty + oy;
                    if (yy >= s->h) break;
                    __m512 e = w[oz][oy * 2], f = w[oz][oy * 2 + 1];
                    float *dst = yc + z * hw + (long)yy * s->w + x0;
                    _mm512_mask_storeu_ps(dst, mlo, _mm512_permutex2var_ps(e, lo, f));
                    if (pairs) {
                        if (yy + 2 < s->h) _mm512_mask_storeu_ps(dst + 2 * s->w, mhi, _mm512_permutex2var_ps(e, hi, f));
                    } else if (mhi) {
                        _mm512_mask_storeu_ps(dst + 16, mhi, _mm512_permutex2var_ps(e, hi, f));
                    }
                }
            }
        }
    }
}

__attribute__((target("avx512f")))
static void output_transform(const float *M, const float *bias, float *y, const c2f_conv_shape *s, const tiling *t,
                             int outputs, int b, long v0, int nv, int group) {
    if (t->deep && !t->pairs) output_transform_t(M, bias, y, s, t, outputs, b, v0, nv, group, 1, 0);
    else if (t->deep) output_transform_t(M, bias, y, s, t, outputs, b, v0, nv, group, 1, 1);
    else if (!t->pairs) output_transform_t(M, bias, y, s, t, outputs, b, v0, nv, group, 0, 0);
    else output_transform_t(M, bias, y, s, t, outputs, b, v0, nv, group, 0, 1);
}

__attribute__((target("avx512f")))
void c2f_wino_forward(const float *x, const float *U, const float *bias, float *y, const c2f_conv_shape *s,
                      int inputs, int outputs, long v0, long v1, int group, float *scratch) {
    tiling t = tiling_of(s);
    float *V = scratch, *M = scratch + 64 * v_stride(inputs, group);
    int blocks = (outputs + WB - 1) / WB;
    for (long g0 = v0; g0 < v1; g0 += group) {
        int nv = (int)(v1 - g0 < group ? v1 - g0 : group);
        input_transform(x, V, s, &t, inputs, g0, nv, group);
        for (int b = 0; b < blocks; b++) {
            const float *Ub = U + (long)b * t.pos * inputs * WB;
            for (int p = 0; p < t.pos; p++) {
                const float *Vp = V + p * v_stride(inputs, group), *Up = Ub + (long)p * inputs * WB;
                float *Mp = M + p * m_stride(group);
                int j0 = 0;
                for (; j0 + WV <= nv; j0 += WV) product_tile(Vp, Up, Mp, inputs, group, j0, 3);
                if (nv - j0 == 2) product_tile(Vp, Up, Mp, inputs, group, j0, 2);
                else if (nv - j0 == 1) product_tile(Vp, Up, Mp, inputs, group, j0, 1);
            }
            output_transform(M, bias, y, s, &t, outputs, b, g0, nv, group);
        }
    }
}
