// The zero-padded slab layout that the direct kernels read (conv_direct.c, conv_outvec.c): output
// extents, padded rows, planes and channels, and the slab offset of each kernel tap.
// A padded x row of wp values is stored phase by phase for the x stride sw (all even positions, then
// all odd ones for sw = 2), so a strided tap still reads contiguous values.

#ifndef C2F_CONV_SLAB_H
#define C2F_CONV_SLAB_H

#include "CConvKernels.h"
#include <immintrin.h>

static inline int out_extent(int n, int stride) { return (n - 1) / stride + 1; }
static inline long padded_width(const c2f_conv_shape *s) { return s->w + 2 * (s->kw / 2); }
static inline long phase_length(const c2f_conv_shape *s) { return (padded_width(s) + s->sw - 1) / s->sw; }
static inline long padded_row(const c2f_conv_shape *s) { return phase_length(s) * s->sw; }
static inline long padded_plane(const c2f_conv_shape *s) { return (s->h + 2 * (s->kh / 2)) * padded_row(s); }
static inline int slab_depth(const c2f_conv_shape *s, int planes) { return (planes - 1) * s->sd + s->kd; }
static inline long slab_channel(const c2f_conv_shape *s, int planes) {
    return slab_depth(s, planes) * padded_plane(s);
}

// off[t] = the slab offset of tap t (a·plane + b·row + the phase position of c).
static inline void tap_offsets(const c2f_conv_shape *s, int *off) {
    long row = padded_row(s), pp = padded_plane(s), seg = phase_length(s);
    int t = 0;
    for (int a = 0; a < s->kd; a++)
        for (int b = 0; b < s->kh; b++)
            for (int c = 0; c < s->kw; c++) off[t++] = (int)(a * pp + b * row + (c % s->sw) * seg + c / s->sw);
}

// Lanes i of a 16-lane load starting at x0 with 0 <= x0 + i < w (masked loads of a row's edges).
static inline __mmask16 lanes_inside(long x0, long w) {
    long lo = x0 < 0 ? -x0 : 0, hi = w - x0 < 16 ? w - x0 : 16;
    if (hi <= lo) return 0;
    return (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));
}

#endif
