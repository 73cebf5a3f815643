// Direct conv3d kernels for CPUs with AVX-512F (see conv_direct.c).
#ifndef C_CONV_KERNELS_H
#define C_CONV_KERNELS_H

/// One "same"-padded conv3d: channels, input extent, odd kernel sizes, strides. The output extent
/// per axis is (n - 1) / stride + 1; "output planes" below are output z indices.
typedef struct {
    int cin, cout;
    int d, h, w;
    int kd, kh, kw;
    int sd, sh, sw;
} c2f_conv_shape;

/// 1 when this CPU runs AVX-512F code (the kernels below need it) and the environment variable
/// C2FNAS_CONV_DIRECT is not "0", else 0.
int c2f_conv_direct_available(void);

/// Floats of a zero-padded slab buffer: `channels` × ((planes - 1) · sd + kd) padded input planes, plus
/// read slack.
long c2f_slab_floats(const c2f_conv_shape *s, int channels, int planes);

/// Copies channels c0..<c1 of `src` ([channels][d][h][w]) that output planes z0..<z0+planes read into
/// the padded slab `dst` (zero borders; out-of-volume planes are zero): of the slab's input planes,
/// the `part`-th of `parts` equal runs. With c1 == channels and the last part it also zeroes the
/// slack after the last channel.
void c2f_pad_slab(const float *src, float *dst, const c2f_conv_shape *s, int channels,
                  int c0, int c1, int z0, int planes, int part, int parts);

/// Packs weights [cout][cin][kd][kh][kw] into blocks of `block` output channels, [block][in][tap][block]
/// (zero past the last output): 8 for the x-vector kernels, 32 for c2f_conv_forward_outvec.
/// `transposed` packs the input-gradient conv instead: outputs = cin, inputs = cout, taps reversed.
/// `dst` holds ceil(outputs / block) · block · inputs · taps floats; this call fills blocks b0..<b1.
void c2f_pack_weights(const float *w, float *dst, const c2f_conv_shape *s, int transposed, int block,
                      int b0, int b1);
/// The same with scalar loops (the reference the gathering forward packing is tested against: same bits).
void c2f_pack_weights_reference(const float *w, float *dst, const c2f_conv_shape *s, int transposed, int block,
                                int b0, int b1);

/// y[o][z] for output planes za..<zb (inside the slab that starts at z0 and has `planes` planes) and the
/// output channels of 8-channel blocks b0..<b1, of the conv of the padded slab `src` (`inputs`
/// channels) with packed weights; `bias` (outputs values) may be NULL. y is [outputs][od][oh][ow].
void c2f_conv_forward(const float *src, const float *packed, const float *bias, float *y,
                      const c2f_conv_shape *s, int inputs, int outputs, int z0, int planes, int za, int zb,
                      int b0, int b1);

/// c2f_conv_forward for stride 1 with the output positions of a plane taken in the padded row layout
/// (vectors span rows): faster when rows are short (below 16 voxels).
void c2f_conv_forward_flat(const float *src, const float *packed, const float *bias, float *y,
                           const c2f_conv_shape *s, int inputs, int outputs, int z0, int planes, int za, int zb,
                           int b0, int b1);

/// The input gradient of a strided conv, by parity class (rz, ry, rx) of the input position
/// (z = sd·j + rz, …): the class's taps (indices into the kernel, offsets in the padded slab of dY
/// laid out by `sy`, the stride-1 "same" shape of the same kernel on dY's extents); returns their
/// count (0: no tap reaches the class, its dX is zero).
int c2f_strided_class_taps(const c2f_conv_shape *s, const c2f_conv_shape *sy, int rz, int ry, int rx,
                           int *tapIndex, int *offsets);

/// Weights of the listed taps packed in blocks of `block` input-gradient outputs (cin):
/// [ceil(cin / block)][cout][n][block]; 8 for c2f_conv_class_input_grad, 32 for
/// c2f_conv_class_input_grad_outvec.
void c2f_pack_class_weights(const float *w, float *dst, const c2f_conv_shape *s, const int *tapIndex, int n,
                            int block);

/// out[ci · ostride + k · ow + l] = Σ_co Σ_t packed · slab(dY)[co][(z, k, l) + offset t] for one
/// plane z of the slab and the 8-channel blocks b0..<b1 of the cin outputs (k, l over dY's rows
/// and columns, `sy`).
void c2f_conv_class_input_grad(const float *src, const float *packed, float *out, long ostride,
                               const c2f_conv_shape *sy, int inputs, int outputs, int z0, int planes, int z,
                               int b0, int b1, const int *offsets, int n);

/// c2f_conv_class_input_grad with the vector along the cin outputs (conv_outvec.c): b0..<b1 are
/// blocks of 32 channels, weights from c2f_pack_class_weights with a block of 32. For dY rows too
/// short to fill x-vectors (strided convs of many channels at the deep levels).
void c2f_conv_class_input_grad_outvec(const float *src, const float *packed, float *out, long ostride,
                                      const c2f_conv_shape *sy, int inputs, int outputs, int z0, int planes, int z,
                                      int b0, int b1, const int *offsets, int n);

/// dst[2l] = even[l] and dst[2l + 1] = odd[l] for the n values of dst.
void c2f_interleave_pair(const float *even, const float *odd, float *dst, long n);

/// dY planes za..<zb ([cout][od][oh][ow]) into `dyt` as [voxel - z0·oh·ow][cp], cp = cout rounded up to 16
/// (zero padded): the layout of c2f_conv_weight_grad_t.
void c2f_transpose_grad(const float *dy, float *dyt, const c2f_conv_shape *s, int z0, int za, int zb);

/// dwt[q][co] += Σ over the slab's voxels of dyt[v][co] · (x shifted by tap), for (ci, tap) pairs
/// q0..<q1 (q = ci · taps + tap); `src` is the padded slab of x (`planes` planes), `dyt` the
/// transposed dY of the same planes, dwt is [cin · taps][cp].
void c2f_conv_weight_grad_t(const float *src, const float *dyt, float *dwt, const c2f_conv_shape *s,
                            int planes, int q0, int q1);

/// dw[co][ci][tap] += Σ over output planes z0..<z0+planes of dy[co] · (x shifted by tap), for the
/// (ci, tap) pairs q0..<q1; `src` is the padded slab of x, dy is [cout][od][oh][ow] (used for cout ≤ 16).
void c2f_conv_weight_grad_dot(const float *src, const float *dy, float *dw, const c2f_conv_shape *s,
                              int z0, int planes, int q0, int q1);

/// Floats of dY in the padded-row layout for `planes` output planes of a stride-1 conv (all cout
/// channels): [cout][planes][round16(h · padded row)].
long c2f_grad_rows_floats(const c2f_conv_shape *s, int planes);

/// Copies channels c0..<c1 of dY planes z0..<z0+planes ([cout][d][h][w], stride 1) into `dyp` in that
/// layout: each row followed by kw - 1 zeros (the x slab's padding columns), zeros after the last row.
void c2f_pad_grad_rows(const float *dy, float *dyp, const c2f_conv_shape *s, int z0, int planes, int c0, int c1);

/// c2f_conv_weight_grad_dot for stride 1 with dY from c2f_pad_grad_rows (the same `planes`): each
/// plane is one run of whole vectors.
void c2f_conv_weight_grad_dot_flat(const float *src, const float *dyp, float *dw, const c2f_conv_shape *s,
                                   int planes, int q0, int q1);

/// 1x1x1 stride-1 conv of one sample (pointwise.c): y[o][v] = Σ_i w[o·wo + i·wi] · x[i][v] (+ bias[o];
/// bias may be NULL) for voxels v0..<v1; x is [inputs][voxels], y [outputs][voxels]. The forward
/// passes w [outputs][inputs] as (wo, wi) = (inputs, 1); the input gradient passes the same w as
/// (1, cin) with inputs = cout and outputs = cin (wᵀ).
void c2f_pointwise_forward(const float *x, const float *w, long wo, long wi, const float *bias, float *y,
                           int inputs, int outputs, long voxels, long v0, long v1);

/// dw[o][i] += Σ over voxels v0..<v1 of dy[o][v] · x[i][v] for outputs o0..<o1 and inputs i0..<i1
/// (dw is [outputs][inputs], rows of x and dy `voxels` long); each entry is summed in voxel order by
/// this call alone.
void c2f_pointwise_weight_grad(const float *x, const float *dy, float *dw, int inputs, int outputs,
                               long voxels, long v0, long v1, int o0, int o1, int i0, int i1);

/// Winograd F(2x2x2, 3x3x3) for stride-1 "same" 3x3x3 convs and F(2x2, 3x3) for 3x3x1 ones (kd = 1)
/// (winograd.c). 1 when the direct kernels
/// run and C2FNAS_CONV_WINOGRAD is not "0".
int c2f_wino_available(void);

/// Tile vectors of the shape (16 tiles along x, or 8 of two tile rows; tile planes of 2 output planes
/// for a 3x3x3 kernel, 1 for 3x3x1).
long c2f_wino_vectors(const c2f_conv_shape *s);

/// Floats of one call's scratch (transformed input and products) for `group` tile vectors.
long c2f_wino_scratch_floats(int inputs, int group);

/// Transformed weights [ceil(outputs / 8)][64][inputs][8] of blocks b0..<b1; `transposed` as in
/// c2f_pack_weights (the input-gradient conv: outputs = cin, inputs = cout, taps reversed).
void c2f_wino_pack_weights(const float *w, float *dst, const c2f_conv_shape *s, int transposed, int b0, int b1);
/// The same with scalar loops (the reference the vector packing is tested against: same bits).
void c2f_wino_pack_weights_reference(const float *w, float *dst, const c2f_conv_shape *s, int transposed, int b0, int b1);

/// y (all `outputs` channels, [outputs][d][h][w]; bias may be NULL) at the tiles of tile vectors
/// v0..<v1 of the conv of x ([inputs][d][h][w], one sample), `group` vectors at a time, with `scratch`
/// of c2f_wino_scratch_floats(inputs, group) floats.
void c2f_wino_forward(const float *x, const float *U, const float *bias, float *y, const c2f_conv_shape *s,
                      int inputs, int outputs, long v0, long v1, int group, float *scratch);

/// 1 when the direct kernels run and C2FNAS_CONV_OUTVEC is not "0" (conv_outvec.c).
int c2f_outvec_available(void);

/// c2f_conv_forward with the vector along output channels (conv_outvec.c): the same arguments, but
/// `src` is the slab padded for the shape with an x stride of 1 (no phase split; c2f_pad_slab and
/// c2f_slab_floats of that shape), b0..<b1 are blocks of 32 output channels and the weights come from
/// c2f_pack_weights with a block of 32. x strides 1 and 2; faster than the x-vector kernel when rows are short
/// and channels many.
void c2f_conv_forward_outvec(const float *src, const float *packed, const float *bias, float *y,
                             const c2f_conv_shape *s, int inputs, int outputs, int z0, int planes, int za, int zb,
                             int b0, int b1);

/// Trilinear ×2 upsampling, align_corners=false (upsample.c). One output plane (2h × 2w) from the two
/// input planes p0, p1 (h × w) blended a0·p0 + a1·p1; output row yo blends that plane's rows i0[yo] and
/// i1[yo] with w0[yo], w1[yo], and the row is resampled along W.
void c2f_upsample2x_plane(const float *p0, const float *p1, float a0, float a1, float *out, int h, int w,
                          const int *i0, const int *i1, const float *w0, const float *w1);

/// The transpose along one input plane: out (h × w, overwritten) = the sum over the output planes
/// zo[p] (weights za[p], p < nz; planes ohw floats apart in g) and the output rows yo[4y + r] (weights
/// yw[4y + r], r < ny[y]) that read input row y, taken back along W. scratch: ohw floats.
void c2f_upsample2x_backward_plane(const float *g, long ohw, const int *zo, const float *za, int nz, float *out,
                                   int h, int w, const int *yo, const float *yw, const int *ny, float *scratch);

#endif
