// Direct conv3d kernels with AVX-512F intrinsics (compiled per function via the target attribute, so
// the package needs no global flags; callers check c2f_conv_direct_available()).
//
// Every pass reads a zero-padded copy of a z-slab of the input, so each kernel tap is a constant
// pointer offset and no edge tests remain in the inner loops. For an x stride of 2 the padded rows
// are stored even positions first, then odd ones, so a strided tap still reads contiguous values.
//   forward (and, for stride 1, the input gradient, which is the forward conv of the padded dY with
//   transposed, flipped weights): a micro-tile of 8 output channels × 3 vectors of 16 output voxels
//   along x keeps 24 accumulators in zmm registers; per (input channel, tap) it loads 3 input
//   vectors and broadcasts 8 weights. Partial last vectors of a row compute on neighbouring data and
//   are stored under a mask.
//   weight gradient: dY is transposed to voxel-major [v][cout] so that 16 output channels fill a
//   vector; a micro-tile of 1-4 such vectors × 24-6 (input channel, tap) pairs (24 accumulators)
//   broadcasts one padded-x value per pair and voxel, and adds into dW once per ~256 voxels.
//   With ≤ 16 output channels, dot products along x instead (c2f_conv_weight_grad_dot).

#include "CConvKernels.h"
#include "conv_slab.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

enum { OUT_BLOCK = 8, VECS = 3, CHUNK_VECS = 24, DW_ROW_VOXELS = 256, DW_OUT = 4, DW_PAIRS = 6,
       DW_ROW_BLOCK = 512, DW_KEEP_PAIRS = 96 };

int c2f_conv_direct_available(void) {
    // C2FNAS_CONV_DIRECT=0 turns the kernels off (A/B on a new CPU kind without rebuilding).
    const char *env = getenv("C2FNAS_CONV_DIRECT");
    if (env && strcmp(env, "0") == 0) return 0;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

// Reads past the last channel (partial last vectors) stay within one padded row plus 16 floats.
static inline long slack(const c2f_conv_shape *s) { return padded_row(s) + 64; }

long c2f_slab_floats(const c2f_conv_shape *s, int channels, int planes) {
    return (long)channels * slab_channel(s, planes) + slack(s);
}

// One padded row of an x stride of 2, phase by phase: phase p takes in[2i + p - pw] (zero outside
// 0..<w) at i < seg. 16 outputs come from two full loads of 32 input values and an even-lane
// permute; chunks that reach past either end of the row are copied one value at a time (masked
// loads there, whose masked lanes can cross a page, were slower than the scalar loop on Zen 5).
// The scalar loop alone (below) was a third of the time of the stride-2 convs on 64³ rows.
__attribute__((target("avx512f")))
static void pad_row_stride2(const float *in, float *r, int w, int pw, long seg) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    for (int p = 0; p < 2; p++) {
        float *ph = r + p * seg;
        long e = p - pw;
        for (long i = 0; i < seg; i += 16) {
            long base = 2 * i + e;
            if (base >= 0 && base + 32 <= w && i + 16 <= seg) {
                __m512 a = _mm512_loadu_ps(in + base), b = _mm512_loadu_ps(in + base + 16);
                _mm512_storeu_ps(ph + i, _mm512_permutex2var_ps(a, even, b));
            } else {
                // Kept scalar: vectorised by the compiler into gathers, it took 60 % of the pad.
#pragma clang loop vectorize(disable) unroll(disable)
                for (long k = i; k < i + 16 && k < seg; k++) {
                    long x = 2 * k + e;
                    ph[k] = x >= 0 && x < w ? in[x] : 0.f;
                }
            }
        }
    }
}

// Rows of w values at `in` (consecutive) into rows of `row` floats at `r`: `left` zeros, the w values,
// zeros up to `row`. Whole vectors inline: the memcpy per row it replaces (128-256 bytes at 32³-64³)
// spent most of its time in the call (perf of a 2-thread step: memmove 5 % of the samples, under the
// padding of the stride-1 slabs and the weight-gradient dY rows). Tails are scalar (masked loads at a
// row's end can cross a page; see pad_row_stride2).
__attribute__((target("avx512f")))
static void pad_rows(const float *in, float *r, int rows, int w, int left, long row) {
    const __m512 zero = _mm512_setzero_ps();
    long full = w / 16 * 16;
    for (int y = 0; y < rows; y++, r += row, in += w) {
        for (int i = 0; i < left; i++) r[i] = 0;
        float *o = r + left;
        long i = 0;
        for (; i < full; i += 16) _mm512_storeu_ps(o + i, _mm512_loadu_ps(in + i));
#pragma clang loop vectorize(disable) unroll(disable)
        for (; i < w; i++) o[i] = in[i];
        long k = left + w;
        for (; k + 16 <= row; k += 16) _mm512_storeu_ps(r + k, zero);
        for (; k < row; k++) r[k] = 0;
    }
}

void c2f_pad_slab(const float *src, float *dst, const c2f_conv_shape *s, int channels,
                  int c0, int c1, int z0, int planes, int part, int parts) {
    // The slab is only built for the direct kernels, but the copy checks the CPU itself (no env).
    __builtin_cpu_init();
    int avx512 = __builtin_cpu_supports("avx512f");
    int pd = s->kd / 2, ph = s->kh / 2, pw = s->kw / 2, sw = s->sw;
    long seg = phase_length(s), row = padded_row(s), pp = padded_plane(s);
    long cs = slab_channel(s, planes), hw = (long)s->h * s->w;
    for (int c = c0; c < c1; c++) {
        float *o = dst + c * cs;
        const float *sc = src + (long)c * s->d * hw;
        int depth = slab_depth(s, planes);
        for (int k = depth * part / parts; k < depth * (part + 1) / parts; k++) {
            float *op = o + k * pp;
            int z = z0 * s->sd - pd + k;
            if (z < 0 || z >= s->d) { memset(op, 0, sizeof(float) * pp); continue; }
            memset(op, 0, sizeof(float) * ph * row);
            const float *sp = sc + z * hw;
            if (sw == 1 && avx512) {
                pad_rows(sp, op + ph * row, s->h, s->w, pw, row);
                memset(op + (ph + s->h) * row, 0, sizeof(float) * ph * row);
                continue;
            }
            for (int y = 0; y < s->h; y++) {
                float *r = op + (y + ph) * row;
                const float *in = sp + (long)y * s->w;
                if (sw == 1) {
                    for (int i = 0; i < pw; i++) { r[i] = 0; r[pw + s->w + i] = 0; }
                    memcpy(r + pw, in, sizeof(float) * s->w);
                } else if (sw == 2 && avx512) {
                    pad_row_stride2(in, r, s->w, pw, seg);
                } else {
                    // Phase p holds padded positions p, p + sw, ...: x = px - pw inside 0..<w, else 0.
                    for (int p = 0; p < sw; p++) {
                        float *ph_row = r + p * seg;
                        for (long i = 0; i < seg; i++) {
                            long x = i * sw + p - pw;
                            ph_row[i] = x >= 0 && x < s->w ? in[x] : 0.f;
                        }
                    }
                }
            }
            memset(op + (ph + s->h) * row, 0, sizeof(float) * ph * row);
        }
    }
    if (c1 == channels && part == parts - 1) memset(dst + channels * cs, 0, sizeof(float) * slack(s));
}

// The forward packing with gathers: per (block, input channel, tap) the block's values 16 at a time
// (rows of the weight cin · taps apart). The scalar loop read them one by one, 32 rows apart, and
// stalled on each load: 440-600 µs for the 128->128 3x3x3 pack in a training step, 275 with gathers.
// (The transposed packing reads rows only taps apart, nearly contiguous: gathers did not help it.)
__attribute__((target("avx512f")))
static void pack_forward_gather(const float *w, float *dst, const c2f_conv_shape *s, int block, int b0, int b1) {
    int taps = s->kd * s->kh * s->kw, ins = s->cin;
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i idx = _mm512_mullo_epi32(lane, _mm512_set1_epi32(s->cin * taps));
    for (int b = b0; b < b1; b++)
        for (int i = 0; i < ins; i++) {
            float *d = dst + ((long)b * ins + i) * taps * block;
            for (int g = 0; g < block; g += 16) {
                int o0 = b * block + g, n = s->cout - o0;
                n = n > 16 ? 16 : n < 0 ? 0 : n;
                __mmask16 valid = (__mmask16)((1u << n) - 1);
                const float *base = w + ((long)(n ? o0 : 0) * s->cin + i) * taps;
                for (int t = 0; t < taps; t++)
                    _mm512_storeu_ps(d + (long)t * block + g,
                                     _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid, idx, base + t, 4));
            }
        }
}

// The transposed packing by source rows: per (block, output channel of the conv) the block's rows
// of taps values lie one after another in w, read in order and written `block` apart into a tile that
// stays in L1 (the reference reads them a row apart for every value).
static void pack_transposed_rows(const float *w, float *dst, const c2f_conv_shape *s, int block, int b0, int b1) {
    int taps = s->kd * s->kh * s->kw, outs = s->cin, ins = s->cout;
    for (int b = b0; b < b1; b++)
        for (int i = 0; i < ins; i++) {
            float *d = dst + ((long)b * ins + i) * taps * block;
            for (int m = 0; m < block; m++) {
                int o = b * block + m;
                if (o < outs) {
                    const float *src = w + ((long)i * s->cin + o) * taps + (taps - 1);
                    for (int t = 0; t < taps; t++) d[(long)t * block + m] = src[-t];
                } else {
                    for (int t = 0; t < taps; t++) d[(long)t * block + m] = 0;
                }
            }
        }
}

void c2f_pack_weights(const float *w, float *dst, const c2f_conv_shape *s, int transposed, int block,
                      int b0, int b1) {
    __builtin_cpu_init();   // the gathers need AVX-512F; the packing checks the CPU itself, as c2f_pad_slab
    if (!transposed && block % 16 == 0 && __builtin_cpu_supports("avx512f")) {
        pack_forward_gather(w, dst, s, block, b0, b1);
        return;
    }
    if (transposed) { pack_transposed_rows(w, dst, s, block, b0, b1); return; }
    c2f_pack_weights_reference(w, dst, s, transposed, block, b0, b1);
}

void c2f_pack_weights_reference(const float *w, float *dst, const c2f_conv_shape *s, int transposed, int block,
                                int b0, int b1) {
    int taps = s->kd * s->kh * s->kw;
    int outs = transposed ? s->cin : s->cout, ins = transposed ? s->cout : s->cin;
    for (int b = b0; b < b1; b++)
        for (int i = 0; i < ins; i++)
            for (int t = 0; t < taps; t++) {
                float *d = dst + (((long)b * ins + i) * taps + t) * block;
                for (int m = 0; m < block; m++) {
                    int o = b * block + m;
                    float v = 0;
                    if (o < outs) {
                        v = transposed ? w[((long)i * s->cin + o) * taps + (taps - 1 - t)]
                                       : w[((long)o * s->cin + i) * taps + t];
                    }
                    d[m] = v;
                }
            }
}

static inline __mmask16 tail_mask(int w) {
    return (w % 16) ? (__mmask16)((1u << (w % 16)) - 1) : (__mmask16)0xFFFF;
}

// One micro-tile of the forward: 8 output channels (block b) × 3 vectors at slab offsets xin,
// summed over every input channel and tap, bias-initialised.
__attribute__((target("avx512f"), always_inline))
static inline void forward_tile(const float *src, const float *wb, const float *bias, int b, int inputs,
                                int outputs, long cs, const int *off, int taps, const long *xin,
                                __m512 acc[OUT_BLOCK][VECS]) {
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
}

// The forward micro-kernel over an explicit list of tap offsets (the taps of `s` for a conv; a
// parity class's taps for a strided input gradient). Output o's plane z goes to
// y + o · ostride + (z − zbase) · oh · ow.
__attribute__((target("avx512f"), always_inline))
static inline void conv_forward_taps(const float *src, const float *packed, const float *bias, float *y,
                                     long ostride, int zbase,
                                     const c2f_conv_shape *s, int inputs, int outputs, int z0, int planes,
                                     int za, int zb, int b0, int b1, const int *off, int taps) {
    long row = padded_row(s), pp = padded_plane(s), cs = slab_channel(s, planes);
    int oh = out_extent(s->h, s->sh), ow = out_extent(s->w, s->sw);
    long ohw = (long)oh * ow;
    int nvx = (ow + 15) / 16, npos = oh * nvx;
    __mmask16 tail = tail_mask(ow);
    // Chunks of a plane's vectors keep the input rows they read in L2 across all output blocks.
    for (int z = za; z < zb; z++) {
        for (int pc = 0; pc < npos; pc += CHUNK_VECS) {
        int pe = pc + CHUNK_VECS < npos ? pc + CHUNK_VECS : npos;
        for (int b = b0; b < b1; b++) {
            const float *wb = packed + (long)b * inputs * taps * OUT_BLOCK;
            for (int p = pc; p < pe; p += VECS) {
                long xin[VECS], yo[VECS];
                __mmask16 mk[VECS];
                for (int j = 0; j < VECS; j++) {
                    int q = p + j < pe ? p + j : pe - 1;  // a short last tile repeats its last vector
                    int yy = q / nvx, xv = q % nvx;
                    xin[j] = (long)(z - z0) * s->sd * pp + (long)yy * s->sh * row + xv * 16;
                    yo[j] = (long)(z - zbase) * ohw + (long)yy * ow + xv * 16;
                    mk[j] = xv == nvx - 1 ? tail : (__mmask16)0xFFFF;
                }
                __m512 acc[OUT_BLOCK][VECS];
                forward_tile(src, wb, bias, b, inputs, outputs, cs, off, taps, xin, acc);
                for (int m = 0; m < OUT_BLOCK; m++) {
                    int o = b * OUT_BLOCK + m;
                    if (o >= outputs) break;
                    float *yc = y + o * ostride;
                    for (int j = 0; j < VECS; j++) _mm512_mask_storeu_ps(yc + yo[j], mk[j], acc[m][j]);
                }
            }
        }
        }
    }
}

__attribute__((target("avx512f")))
void c2f_conv_forward(const float *src, const float *packed, const float *bias, float *y,
                      const c2f_conv_shape *s, int inputs, int outputs, int z0, int planes, int za, int zb,
                      int b0, int b1) {
    int taps = s->kd * s->kh * s->kw;
    int off[taps];
    tap_offsets(s, off);
    long vol = (long)out_extent(s->d, s->sd) * out_extent(s->h, s->sh) * out_extent(s->w, s->sw);
    conv_forward_taps(src, packed, bias, y, vol, 0, s, inputs, outputs, z0, planes, za, zb, b0, b1, off, taps);
}

// Input gradient of a strided conv, one parity class at a time. dx at z = s·j + r receives
// w[a] · dy[j + δ] for the taps a with (r + p - a) divisible by s, δ = (r + p - a) / s (per axis),
// so each class is a stride-1 correlation of dY with its own few taps and no wasted multiply
// (zero-inserting dY to reuse the stride-1 kernel would do 8× the work at stride 2).
// `classTaps` fills the tap list of class (rz, ry, rx): their indices into the kernel and their
// offsets in the padded slab of dY (padded as a stride-1 "same" conv with the same kernel on dY's
// extents, `sy`); returns the count.
int c2f_strided_class_taps(const c2f_conv_shape *s, const c2f_conv_shape *sy, int rz, int ry, int rx,
                           int *tapIndex, int *offsets) {
    long row = padded_row(sy), pp = padded_plane(sy);
    int pd = s->kd / 2, ph = s->kh / 2, pw = s->kw / 2, n = 0;
    for (int a = 0; a < s->kd; a++) {
        int qa = rz + pd - a;
        if (((qa % s->sd) + s->sd) % s->sd) continue;
        for (int b = 0; b < s->kh; b++) {
            int qb = ry + ph - b;
            if (((qb % s->sh) + s->sh) % s->sh) continue;
            for (int c = 0; c < s->kw; c++) {
                int qc = rx + pw - c;
                if (((qc % s->sw) + s->sw) % s->sw) continue;
                int dz = qa / s->sd, dyy = qb / s->sh, dx = qc / s->sw;   // exact: divisible
                tapIndex[n] = (a * s->kh + b) * s->kw + c;
                offsets[n] = (int)((dz + sy->kd / 2) * pp + (dyy + sy->kh / 2) * row + (dx + sy->kw / 2));
                n++;
            }
        }
    }
    return n;
}

/// Packs w [cout][cin][taps] for the input gradient over the listed taps: outputs = cin in blocks of
/// `block` (8 for c2f_conv_class_input_grad, 32 for its out-vector form), inputs = cout,
/// [block][co][t][block].
void c2f_pack_class_weights(const float *w, float *dst, const c2f_conv_shape *s, const int *tapIndex, int n,
                            int block) {
    int taps = s->kd * s->kh * s->kw;
    int blocks = (s->cin + block - 1) / block;
    for (int b = 0; b < blocks; b++)
        for (int i = 0; i < s->cout; i++)
            for (int t = 0; t < n; t++) {
                float *d = dst + (((long)b * s->cout + i) * n + t) * block;
                for (int m = 0; m < block; m++) {
                    int o = b * block + m;
                    d[m] = o < s->cin ? w[((long)i * s->cin + o) * taps + tapIndex[t]] : 0.f;
                }
            }
}

__attribute__((target("avx512f")))
void c2f_conv_class_input_grad(const float *src, const float *packed, float *out, long ostride,
                               const c2f_conv_shape *sy, int inputs, int outputs, int z0, int planes, int z,
                               int b0, int b1, const int *offsets, int n) {
    conv_forward_taps(src, packed, NULL, out, ostride, z, sy, inputs, outputs, z0, planes, z, z + 1, b0, b1, offsets, n);
}

// dst[2l] = even[l], dst[2l + 1] = odd[l] for 2l (+ 1) < n: the two x-parity classes of a
// stride-2 input gradient back into one dX row, 32 values per step by two-source permutes.
__attribute__((target("avx512f")))
void c2f_interleave_pair(const float *even, const float *odd, float *dst, long n) {
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    long l = 0;
    for (; 2 * l + 32 <= n; l += 16) {
        __m512 a = _mm512_loadu_ps(even + l), b = _mm512_loadu_ps(odd + l);
        _mm512_storeu_ps(dst + 2 * l, _mm512_permutex2var_ps(a, lo, b));
        _mm512_storeu_ps(dst + 2 * l + 16, _mm512_permutex2var_ps(a, hi, b));
    }
    for (long x = 2 * l; x < n; x++) dst[x] = (x & 1) ? odd[x >> 1] : even[x >> 1];
}

// The first min(n, 16) lanes (n >= 1).
static inline __mmask16 first_lanes(long n) {
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
}

// dst[0..<n] = src[0..<n], 16 values per masked load and store.
__attribute__((target("avx512f"), always_inline))
static inline void copy_run(float *dst, const float *src, long n) {
    for (long i = 0; i < n; i += 16) {
        __mmask16 k = first_lanes(n - i);
        _mm512_mask_storeu_ps(dst + i, k, _mm512_maskz_loadu_ps(k, src + i));
    }
}

// Forward for short rows (stride 1): the output positions of a plane are taken in the padded
// layout, p = y · row + x for x < row (row = the padded width), so a 16-lane vector spans rows
// instead of holding one short row plus masked lanes: at 4³ a row of 4 filled 4 of 16 lanes, the
// padded plane fills 16 of 24; at 8³ 8 of 16 against 64 of 80. Every tap is still one offset
// (a·plane + b·row + c). Lanes on padding columns are computed and dropped when the tile is copied
// out to y.
__attribute__((target("avx512f")))
void c2f_conv_forward_flat(const float *src, const float *packed, const float *bias, float *y,
                           const c2f_conv_shape *s, int inputs, int outputs, int z0, int planes, int za, int zb,
                           int b0, int b1) {
    int taps = s->kd * s->kh * s->kw;
    int off[taps];
    tap_offsets(s, off);
    long row = padded_row(s), pp = padded_plane(s), cs = slab_channel(s, planes);
    int od = out_extent(s->d, s->sd), oh = out_extent(s->h, s->sh), ow = out_extent(s->w, s->sw);
    long ohw = (long)oh * ow, vol = ohw * od;
    long positions = (long)oh * row;
    int npos = (int)((positions + 15) / 16);
    for (int z = za; z < zb; z++) {
        for (int b = b0; b < b1; b++) {
            const float *wb = packed + (long)b * inputs * taps * OUT_BLOCK;
            for (int p = 0; p < npos; p += VECS) {
                long xin[VECS];
                for (int j = 0; j < VECS; j++) {
                    int q = p + j < npos ? p + j : npos - 1;  // a short last tile repeats its last vector
                    xin[j] = (long)(z - z0) * pp + (long)q * 16;
                }
                __m512 acc[OUT_BLOCK][VECS];
                forward_tile(src, wb, bias, b, inputs, outputs, cs, off, taps, xin, acc);
                int nv = npos - p < VECS ? npos - p : VECS;
                long first = (long)p * 16, last = first + 16L * nv;
                if (last > positions) last = positions;
                long y0 = first / row;
                for (int m = 0; m < OUT_BLOCK; m++) {
                    int o = b * OUT_BLOCK + m;
                    if (o >= outputs) break;
                    float *yc = y + o * vol + z * ohw;
                    if (row == ow) {
                        // No padding columns (kernel width 1): positions are output indices.
                        for (int j = 0; j < nv; j++) {
                            long q = first + 16L * j;
                            _mm512_mask_storeu_ps(yc + q, first_lanes(last - q), acc[m][j]);
                        }
                        continue;
                    }
                    float lanes[VECS * 16];
                    for (int j = 0; j < VECS; j++) _mm512_storeu_ps(lanes + 16 * j, acc[m][j]);
                    // Each padded row's first ow positions are outputs: copied as one run per row (a
                    // division and a scalar store per value took 4/5 of a 1x1x3 conv at 24³).
                    for (long yy = y0, start = y0 * row; start < last; yy++, start += row) {
                        long a = start > first ? start : first, e = start + ow < last ? start + ow : last;
                        if (e > a) copy_run(yc + yy * ow + (a - start), lanes + (a - first), e - a);
                    }
                }
            }
        }
    }
}

void c2f_transpose_grad(const float *dy, float *dyt, const c2f_conv_shape *s, int z0, int za, int zb) {
    long hw = (long)out_extent(s->h, s->sh) * out_extent(s->w, s->sw), vol = hw * out_extent(s->d, s->sd);
    int cp = (s->cout + 15) / 16 * 16;
    for (long v = za * hw; v < zb * hw; v++) {
        float *row = dyt + (v - z0 * hw) * cp;
        for (int co = 0; co < s->cout; co++) row[co] = dy[co * vol + v];
        for (int co = s->cout; co < cp; co++) row[co] = 0;
    }
}

// One micro-tile of the weight gradient: NCV vectors of 16 output channels × P (ci, tap) pairs,
// summed over rows r0..<r1 of the slab (row r = plane r / h, y = r % h).
#define DW_TILE(NCV, P)                                                                              \
__attribute__((target("avx512f"), always_inline)) static inline void                                 \
dw_tile_##NCV(const float *src, const float *dyt, float *dwt, const c2f_conv_shape *s, int cp,       \
              const long *xo, int q, int n, int c0, int r0, int r1) {                                \
    long row = padded_row(s), pp = padded_plane(s);                                                  \
    int oh = out_extent(s->h, s->sh), ow = out_extent(s->w, s->sw);                                  \
    __m512 acc[NCV][P];                                                                              \
    for (int k = 0; k < NCV; k++) for (int j = 0; j < P; j++) acc[k][j] = _mm512_setzero_ps();       \
    for (int r = r0; r < r1; r++) {                                                                  \
        int z = r / oh, yy = r % oh;                                                                 \
        const float *d = dyt + (long)r * ow * cp + c0;                                               \
        long xb = (long)z * s->sd * pp + (long)yy * s->sh * row;                                     \
        for (int x = 0; x < ow; x++, d += cp) {                                                      \
            __m512 dv[NCV];                                                                          \
            _Pragma("clang loop unroll(full)")                                                       \
            for (int k = 0; k < NCV; k++) dv[k] = _mm512_loadu_ps(d + 16 * k);                       \
            _Pragma("clang loop unroll(full)")                                                       \
            for (int j = 0; j < P; j++) {                                                            \
                __m512 xv = _mm512_set1_ps(src[xo[j] + xb + x]);                                     \
                _Pragma("clang loop unroll(full)")                                                   \
                for (int k = 0; k < NCV; k++) acc[k][j] = _mm512_fmadd_ps(dv[k], xv, acc[k][j]);     \
            }                                                                                        \
        }                                                                                            \
    }                                                                                                \
    for (int j = 0; j < n; j++)                                                                      \
        for (int k = 0; k < NCV; k++) {                                                              \
            float *o = dwt + (long)(q + j) * cp + c0 + 16 * k;                                       \
            _mm512_storeu_ps(o, _mm512_add_ps(_mm512_loadu_ps(o), acc[k][j]));                       \
        }                                                                                            \
}
DW_TILE(1, 24)
DW_TILE(2, 12)
DW_TILE(3, 8)
DW_TILE(4, 6)

__attribute__((target("avx512f")))
void c2f_conv_weight_grad_t(const float *src, const float *dyt, float *dwt, const c2f_conv_shape *s,
                            int planes, int q0, int q1) {
    int taps = s->kd * s->kh * s->kw;
    int off[taps];
    tap_offsets(s, off);
    long cs = slab_channel(s, planes);
    int cp = (s->cout + 15) / 16 * 16;
    int oh = out_extent(s->h, s->sh), ow = out_extent(s->w, s->sw);
    int rows = planes * oh, block = ow >= DW_ROW_VOXELS ? 1 : DW_ROW_VOXELS / ow;
    // Slab offset of each pair, computed once (two divisions per pair and row block cost about a
    // third of the FMA time of 16-channel convs). Padded by 24 so a short last tile reads valid entries.
    long qoff[q1 - q0 + 24];
    for (int j = 0; j < q1 - q0 + 24; j++) {
        int qq = q0 + j < q1 ? q0 + j : q1 - 1;
        qoff[j] = (long)(qq / taps) * cs + off[qq % taps];
    }
    for (int r0 = 0; r0 < rows; r0 += block) {
        int r1 = r0 + block < rows ? r0 + block : rows;
        for (int c0 = 0; c0 < cp; c0 += 64) {
            int ncv = (cp - c0) / 16 < 4 ? (cp - c0) / 16 : 4;
            int pairs = 24 / ncv;
            for (int q = q0; q < q1; q += pairs) {
                const long *xo = qoff + (q - q0);
                int n = q1 - q < pairs ? q1 - q : pairs;
                switch (ncv) {
                case 1: dw_tile_1(src, dyt, dwt, s, cp, xo, q, n, c0, r0, r1); break;
                case 2: dw_tile_2(src, dyt, dwt, s, cp, xo, q, n, c0, r0, r1); break;
                case 3: dw_tile_3(src, dyt, dwt, s, cp, xo, q, n, c0, r0, r1); break;
                default: dw_tile_4(src, dyt, dwt, s, cp, xo, q, n, c0, r0, r1); break;
                }
            }
        }
    }
}

// The dot kernels' group of pairs qs..<qe: the slab offset of each pair (its input channel's
// plane plus the tap; padded to nq with the last pair), computed once per group, since the
// divisions cost as much as the FMAs when redone per row block.
static inline void dot_pair_offsets(const int *off, int taps, long cs, int qs, int qe, int nq, long *qoff) {
    for (int j = 0; j < nq; j++) {
        int qq = qs + j < qe ? qs + j : qe - 1;
        qoff[j] = (long)(qq / taps) * cs + off[qq % taps];
    }
}

// dw[co][pair] += the sum of the group's vector accumulator keep[cb][pair][m] (co = 4·cb + m).
__attribute__((target("avx512f")))
static void dot_reduce_group(const __m512 *keep, float *dw, const c2f_conv_shape *s, int taps, int cbs,
                             int qs, int qe, int nq) {
    for (int cb = 0; cb < cbs; cb++)
        for (int m = 0; m < DW_OUT && cb * DW_OUT + m < s->cout; m++)
            for (int q = qs; q < qe; q++) {
                int co = cb * DW_OUT + m;
                __m512 v = keep[((long)cb * nq + (q - qs)) * DW_OUT + m];
                dw[((long)co * s->cin + q / taps) * taps + q % taps] += _mm512_reduce_add_ps(v);
            }
}

// Weight gradient for few output channels (≤ 16; ≤ 8 would leave a 16-lane channel vector half empty):
// dot products along x, 4 output channels × 6 pairs per micro-tile. Rows are taken in blocks of about
// DW_ROW_BLOCK voxels and every (channel block, pair group) sweeps the block before the next one, so
// the block's dY rows and the current input channel's padded rows stay in L1 (a sweep of whole planes
// streamed both from L2 and ran at half the FMA rate). The vector accumulators persist in `keep`
// between blocks; each entry sums its voxels in plane, row, x order and is reduced once at the end.
__attribute__((target("avx512f")))
void c2f_conv_weight_grad_dot(const float *src, const float *dy, float *dw, const c2f_conv_shape *s,
                          int z0, int planes, int q0, int q1) {
    int taps = s->kd * s->kh * s->kw;
    int off[taps];
    tap_offsets(s, off);
    long row = padded_row(s), pp = padded_plane(s), cs = slab_channel(s, planes);
    int od = out_extent(s->d, s->sd), oh = out_extent(s->h, s->sh), ow = out_extent(s->w, s->sw);
    long hw = (long)oh * ow, vol = hw * od;
    int nvx = (ow + 15) / 16;
    __mmask16 tail = tail_mask(ow);
    int rb = ow >= DW_ROW_BLOCK ? 1 : DW_ROW_BLOCK / ow;
    int cbs = (s->cout + DW_OUT - 1) / DW_OUT;
    for (int qs = q0; qs < q1; qs += DW_KEEP_PAIRS) {
        int qe = qs + DW_KEEP_PAIRS < q1 ? qs + DW_KEEP_PAIRS : q1;
        int nq = (qe - qs + DW_PAIRS - 1) / DW_PAIRS * DW_PAIRS;
        __m512 keep[cbs * DW_OUT * nq];
        for (int k = 0; k < cbs * DW_OUT * nq; k++) keep[k] = _mm512_setzero_ps();
        long qoff[nq];
        dot_pair_offsets(off, taps, cs, qs, qe, nq, qoff);
        for (int z = z0; z < z0 + planes; z++) {
            for (int ya = 0; ya < oh; ya += rb) {
                int yc = ya + rb < oh ? ya + rb : oh;
                for (int cb = 0; cb < cbs; cb++) {
                    const float *dyc[DW_OUT];
                    for (int m = 0; m < DW_OUT; m++) {
                        int co = cb * DW_OUT + m;
                        dyc[m] = dy + (long)(co < s->cout ? co : s->cout - 1) * vol;
                    }
                    for (int q = qs; q < qe; q += DW_PAIRS) {
                        const long *xo = qoff + (q - qs);
                        __m512 *kp = keep + ((long)cb * nq + (q - qs)) * DW_OUT;
                        __m512 acc[DW_OUT][DW_PAIRS];
                        for (int m = 0; m < DW_OUT; m++)
                            for (int j = 0; j < DW_PAIRS; j++) acc[m][j] = kp[j * DW_OUT + m];
                        for (int yy = ya; yy < yc; yy++) {
                            long yb = z * hw + (long)yy * ow, xb = (long)(z - z0) * s->sd * pp + (long)yy * s->sh * row;
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
                        for (int m = 0; m < DW_OUT; m++)
                            for (int j = 0; j < DW_PAIRS; j++) kp[j * DW_OUT + m] = acc[m][j];
                    }
                }
            }
        }
        dot_reduce_group(keep, dw, s, taps, cbs, qs, qe, nq);
    }
}

// Floats of one plane of dY in the padded-row layout of a stride-1 conv's x slab: oh rows of
// padded_row values (dY, then zeros), rounded up to whole vectors.
static inline long grad_plane(const c2f_conv_shape *s) { return ((long)s->h * padded_row(s) + 15) / 16 * 16; }

long c2f_grad_rows_floats(const c2f_conv_shape *s, int planes) { return (long)s->cout * planes * grad_plane(s); }

void c2f_pad_grad_rows(const float *dy, float *dyp, const c2f_conv_shape *s, int z0, int planes, int c0, int c1) {
    __builtin_cpu_init();
    int avx512 = __builtin_cpu_supports("avx512f");
    long row = padded_row(s), gp = grad_plane(s), hw = (long)s->h * s->w, vol = hw * s->d;
    for (int co = c0; co < c1; co++)
        for (int p = 0; p < planes; p++) {
            float *o = dyp + ((long)co * planes + p) * gp;
            const float *in = dy + co * vol + (long)(z0 + p) * hw;
            if (avx512) pad_rows(in, o, s->h, s->w, 0, row);
            else
                for (int y = 0; y < s->h; y++) {
                    memcpy(o + y * row, in + (long)y * s->w, sizeof(float) * s->w);
                    memset(o + y * row + s->w, 0, sizeof(float) * (row - s->w));
                }
            memset(o + s->h * row, 0, sizeof(float) * (gp - s->h * row));
        }
}

// c2f_conv_weight_grad_dot for stride 1 over the padded-row layout: dY rows carry zeros where the x
// slab has its padding columns, so output position v of a plane and x position v + tap offset line
// up along the whole plane. One flat run of whole vectors per plane replaces a loop per row with a
// masked tail (rows of 32 and 64 voxels: two or four vectors between pointer updates, and 40 % of
// the samples in that loop's bookkeeping), at the cost of (kw - 1) / w more multiplies.
__attribute__((target("avx512f")))
void c2f_conv_weight_grad_dot_flat(const float *src, const float *dyp, float *dw, const c2f_conv_shape *s,
                                   int planes, int q0, int q1) {
    int taps = s->kd * s->kh * s->kw;
    int off[taps];
    tap_offsets(s, off);
    long pp = padded_plane(s), cs = slab_channel(s, planes), gp = grad_plane(s);
    long nv = gp / 16, block = DW_ROW_BLOCK / 16;
    int cbs = (s->cout + DW_OUT - 1) / DW_OUT;
    for (int qs = q0; qs < q1; qs += DW_KEEP_PAIRS) {
        int qe = qs + DW_KEEP_PAIRS < q1 ? qs + DW_KEEP_PAIRS : q1;
        int nq = (qe - qs + DW_PAIRS - 1) / DW_PAIRS * DW_PAIRS;
        __m512 keep[cbs * DW_OUT * nq];
        for (int k = 0; k < cbs * DW_OUT * nq; k++) keep[k] = _mm512_setzero_ps();
        long qoff[nq];
        dot_pair_offsets(off, taps, cs, qs, qe, nq, qoff);
        for (int p = 0; p < planes; p++) {
            const float *xp = src + (long)p * pp;
            for (long va = 0; va < nv; va += block) {
                long vn = va + block < nv ? block : nv - va;
                for (int cb = 0; cb < cbs; cb++) {
                    const float *dyc[DW_OUT];
                    for (int m = 0; m < DW_OUT; m++) {
                        int co = cb * DW_OUT + m;
                        dyc[m] = dyp + ((long)(co < s->cout ? co : s->cout - 1) * planes + p) * gp + va * 16;
                    }
                    for (int q = qs; q < qe; q += DW_PAIRS) {
                        const float *xq[DW_PAIRS];
                        for (int j = 0; j < DW_PAIRS; j++) xq[j] = xp + qoff[q - qs + j] + va * 16;
                        __m512 *kp = keep + ((long)cb * nq + (q - qs)) * DW_OUT;
                        __m512 acc[DW_OUT][DW_PAIRS];
                        for (int m = 0; m < DW_OUT; m++)
                            for (int j = 0; j < DW_PAIRS; j++) acc[m][j] = kp[j * DW_OUT + m];
                        for (long v = 0; v < vn * 16; v += 16) {
                            __m512 d[DW_OUT];
#pragma clang loop unroll(full)
                            for (int m = 0; m < DW_OUT; m++) d[m] = _mm512_loadu_ps(dyc[m] + v);
#pragma clang loop unroll(full)
                            for (int j = 0; j < DW_PAIRS; j++) {
                                __m512 x16 = _mm512_loadu_ps(xq[j] + v);
#pragma clang loop unroll(full)
                                for (int m = 0; m < DW_OUT; m++) acc[m][j] = _mm512_fmadd_ps(d[m], x16, acc[m][j]);
                            }
                        }
                        for (int m = 0; m < DW_OUT; m++)
                            for (int j = 0; j < DW_PAIRS; j++) kp[j * DW_OUT + m] = acc[m][j];
                    }
                }
            }
        }
        dot_reduce_group(keep, dw, s, taps, cbs, qs, qe, nq);
    }
}
