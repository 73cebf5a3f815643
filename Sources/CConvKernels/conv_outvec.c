// Direct conv3d forward with the vector along output channels, for the weight-heavy convs of small
// extent (128-256 channels at 4³-8³, strided convs): the x-vector kernel (conv_direct.c) fills a
// 16-lane vector from one output row, and rows of 4-8 voxels leave most lanes idle, while here a
// micro-tile is 32 output channels (2 vectors) × up to 12 voxels (24 zmm accumulators), for any row
// length and any stride. Per (input channel, tap) it loads 2 weight vectors and broadcasts 12 input
// values from the same zero-padded slab as the x-vector kernel (c2f_pad_slab), so a voxel at tile
// position (r, j) reads base + r·(sh·row) + j·sw + tap offset: one pointer per tap. Broadcasts need no
// contiguous lanes, so the slab is padded without the x-phase split of the x-vector kernel even for
// an x stride of 2 (the caller pads with sw = 1: a row copy instead of a gather per value).
// Accumulators are transposed into y ([outputs][od][oh][ow]) through a small stack buffer at the
// end of each tile (one scalar store per output value, against inputs·taps FMAs per value).

#include "CConvKernels.h"
#include "conv_slab.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

enum { OV_BLOCK = 32, OV_MAX_TILE = 12 };

int c2f_outvec_available(void) {
    const char *env = getenv("C2FNAS_CONV_OUTVEC");
    if (env && strcmp(env, "0") == 0) return 0;
    return c2f_conv_direct_available();
}

// acc[r·X + j][k] = Σ_ci Σ_t w[ci][t][16k..16k+15] · src[ci][base + r·rs + j + off[t]], for a tile of
// R rows × X voxels; written to out[(r·X + j)·32 + 16k + lane].
__attribute__((target("avx512f"), always_inline))
static inline void outvec_tile(const float *src, const float *wb, long cs, const int *off, int taps, int inputs,
                               long base, long rs, int R, int X, int S, float *out) {
    __m512 acc[OV_MAX_TILE][2];
#pragma clang loop unroll(full)
    for (int v = 0; v < OV_MAX_TILE; v++) { acc[v][0] = _mm512_setzero_ps(); acc[v][1] = _mm512_setzero_ps(); }
    for (int ci = 0; ci < inputs; ci++) {
        const float *xc = src + ci * cs + base;
        const float *wc = wb + (long)ci * taps * OV_BLOCK;
        for (int t = 0; t < taps; t++) {
            const float *p = xc + off[t];
            __m512 w0 = _mm512_loadu_ps(wc + t * OV_BLOCK), w1 = _mm512_loadu_ps(wc + t * OV_BLOCK + 16);
#pragma clang loop unroll(full)
            for (int r = 0; r < R; r++)
#pragma clang loop unroll(full)
                for (int j = 0; j < X; j++) {
                    __m512 xv = _mm512_set1_ps(p[r * rs + j * S]);
                    acc[r * X + j][0] = _mm512_fmadd_ps(w0, xv, acc[r * X + j][0]);
                    acc[r * X + j][1] = _mm512_fmadd_ps(w1, xv, acc[r * X + j][1]);
                }
        }
    }
#pragma clang loop unroll(full)
    for (int v = 0; v < R * X; v++) {
        _mm512_storeu_ps(out + v * OV_BLOCK, acc[v][0]);
        _mm512_storeu_ps(out + v * OV_BLOCK + 16, acc[v][1]);
    }
}

#define OV_TILE(R, X, S)                                                                                \
__attribute__((target("avx512f"))) static void outvec_tile_##R##_##X##_##S(                             \
    const float *src, const float *wb, long cs, const int *off, int taps, int inputs, long base, long rs, \
    float *out) { outvec_tile(src, wb, cs, off, taps, inputs, base, rs, R, X, S, out); }
#define OV_TILES(S)                                                                                     \
OV_TILE(1, 1, S) OV_TILE(1, 2, S) OV_TILE(1, 3, S) OV_TILE(1, 4, S) OV_TILE(1, 5, S) OV_TILE(1, 6, S)     \
OV_TILE(1, 7, S) OV_TILE(1, 8, S) OV_TILE(1, 9, S) OV_TILE(1, 10, S) OV_TILE(1, 11, S) OV_TILE(1, 12, S)  \
OV_TILE(2, 1, S) OV_TILE(2, 2, S) OV_TILE(2, 3, S) OV_TILE(2, 4, S) OV_TILE(2, 5, S) OV_TILE(2, 6, S)     \
OV_TILE(3, 1, S) OV_TILE(3, 2, S) OV_TILE(3, 3, S) OV_TILE(3, 4, S)
OV_TILES(1)
OV_TILES(2)

typedef void (*outvec_tile_fn)(const float *, const float *, long, const int *, int, int, long, long, float *);

#define OV_TABLE(S)                                                                                          \
    {outvec_tile_1_1_##S, outvec_tile_1_2_##S, outvec_tile_1_3_##S, outvec_tile_1_4_##S, outvec_tile_1_5_##S,   \
     outvec_tile_1_6_##S, outvec_tile_1_7_##S, outvec_tile_1_8_##S, outvec_tile_1_9_##S, outvec_tile_1_10_##S,  \
     outvec_tile_1_11_##S, outvec_tile_1_12_##S, outvec_tile_2_1_##S, outvec_tile_2_2_##S, outvec_tile_2_3_##S, \
     outvec_tile_2_4_##S, outvec_tile_2_5_##S, outvec_tile_2_6_##S, outvec_tile_3_1_##S, outvec_tile_3_2_##S,   \
     outvec_tile_3_3_##S, outvec_tile_3_4_##S}

// The tile function for R rows of X voxels at x stride S (1 or 2).
static outvec_tile_fn tile_fn(int R, int X, int S) {
    static const outvec_tile_fn table[2][22] = {OV_TABLE(1), OV_TABLE(2)};
    int index = R == 1 ? X - 1 : R == 2 ? 12 + X - 1 : 18 + X - 1;
    return table[S - 1][index];
}

// One output plane of one block of 32 channels: tiles of R rows × up to X voxels from the slab plane
// at `plane` (rows rs apart, voxels S apart), out[m · ostride + y · ow + x] = tile + bias[m] (bias
// NULL: 0) for the block's `outs` channels.
__attribute__((target("avx512f"), always_inline))
static inline void outvec_plane(const float *src, const float *wb, long cs, const int *off, int taps, int inputs,
                                long plane, long rs, int S, int oh, int ow, int outs, const float *bias,
                                float *out, long ostride) {
    // Tile shape: X voxels of a row (at most 12), and as many rows as keep the tile within 12.
    int X = ow < OV_MAX_TILE ? ow : OV_MAX_TILE;
    int Rmax = OV_MAX_TILE / X > 3 ? 3 : OV_MAX_TILE / X;
    float tile[OV_MAX_TILE * OV_BLOCK] __attribute__((aligned(64)));
    for (int y0 = 0; y0 < oh;) {
        // Rows left split evenly into tiles of at most Rmax rows (4 rows of 4: 2 + 2, not 3 + 1).
        int left = oh - y0, tiles = (left + Rmax - 1) / Rmax, R = (left + tiles - 1) / tiles;
        for (int x0 = 0; x0 < ow; x0 += X) {
            int xs = ow - x0 < X ? ow - x0 : X;
            tile_fn(R, xs, S)(src, wb, cs, off, taps, inputs, plane + (long)y0 * rs + (long)x0 * S, rs, tile);
            for (int m = 0; m < outs; m++) {
                float bo = bias ? bias[m] : 0.f;
                float *oc = out + m * ostride + (long)y0 * ow + x0;
                for (int r = 0; r < R; r++)
                    for (int j = 0; j < xs; j++) oc[r * ow + j] = tile[(r * xs + j) * OV_BLOCK + m] + bo;
            }
        }
        y0 += R;
    }
}

__attribute__((target("avx512f")))
void c2f_conv_forward_outvec(const float *src, const float *packed, const float *bias, float *y,
                             const c2f_conv_shape *s, int inputs, int outputs, int z0, int planes, int za, int zb,
                             int b0, int b1) {
    int taps = s->kd * s->kh * s->kw;
    // The slab's layout: padded as for an x stride of 1 (see the top of the file).
    c2f_conv_shape layout = *s;
    layout.sw = 1;
    long row = padded_row(&layout), pp = padded_plane(&layout), cs = slab_channel(&layout, planes);
    long rs = (long)s->sh * row;
    int off[taps];
    tap_offsets(&layout, off);
    int od = out_extent(s->d, s->sd), oh = out_extent(s->h, s->sh), ow = out_extent(s->w, s->sw);
    long ohw = (long)oh * ow, vol = ohw * od;
    for (int z = za; z < zb; z++) {
        for (int b = b0; b < b1; b++) {
            const float *wb = packed + (long)b * inputs * taps * OV_BLOCK;
            int outs = outputs - b * OV_BLOCK < OV_BLOCK ? outputs - b * OV_BLOCK : OV_BLOCK;
            outvec_plane(src, wb, cs, off, taps, inputs, (long)(z - z0) * s->sd * pp, rs, s->sw, oh, ow, outs,
                         bias ? bias + b * OV_BLOCK : NULL, y + (long)b * OV_BLOCK * vol + z * ohw, vol);
        }
    }
}

// The parity-class input gradient of a strided conv (c2f_conv_class_input_grad) with out-vectors:
// the class's taps are a list of offsets into dY's padded slab (laid out by `sy`, stride 1), dY's
// channels are the inputs and dX's the outputs, one dY plane z; out[o · ostride + k · ow + l].
// The x-vector form fills 4-8 of 16 lanes when dY's rows have 4-8 voxels (64->128 at 8³, 32->64 at
// 16³), where this one fills them all; each output is one sum in (input, tap) order either way.
__attribute__((target("avx512f")))
void c2f_conv_class_input_grad_outvec(const float *src, const float *packed, float *out, long ostride,
                                      const c2f_conv_shape *sy, int inputs, int outputs, int z0, int planes, int z,
                                      int b0, int b1, const int *offsets, int n) {
    long row = padded_row(sy), pp = padded_plane(sy), cs = slab_channel(sy, planes);
    int oh = out_extent(sy->h, 1), ow = out_extent(sy->w, 1);
    for (int b = b0; b < b1; b++) {
        int outs = outputs - b * OV_BLOCK < OV_BLOCK ? outputs - b * OV_BLOCK : OV_BLOCK;
        outvec_plane(src, packed + (long)b * inputs * n * OV_BLOCK, cs, offsets, n, inputs, (long)(z - z0) * pp, row, 1,
                     oh, ow, outs, NULL, out + (long)b * OV_BLOCK * ostride, ostride);
    }
}
