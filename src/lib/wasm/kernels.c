/*
 * Compute kernels for convolutional training on the WebAssembly backend:
 * 2-D convolutions (forward, input gradient, filter gradient), depthwise and
 * 3-D convolution gradients, max / average pooling and their gradients,
 * nearest-neighbour up-sampling by whole factors and its gradient, batch normalisation
 * statistics and gradients, and unsorted segment sums.
 *
 * Built by scripts/build-wasm.sh into kernels.wasm (committed beside this
 * file). The module imports the memory of the wasm backend (or of whoever
 * instantiates it) and works on addresses in it; it has no data segment and
 * uses no libc, so instantiating it writes nothing into that memory. Its
 * stack pointer is exported and set by the loader to a region it allocated.
 *
 * Layouts are tfjs's: images NHWC, convolution filters HWIO
 * ([kh, kw, in, out]), depthwise filters [kh, kw, in, multiplier].
 *
 * Convolutions are im2col + GEMM in chunks: the input patches of a few dozen
 * output pixels are gathered into a panel that stays in the L1/L2 cache,
 * which is multiplied by the filter (a [kh·kw·in, out] matrix) with SIMD
 * micro-kernels (4 rows × 8 columns of accumulators). The input gradient is
 * the same GEMM on panels gathered from the output gradient; the filter
 * gradient accumulates panelᵀ·dy. Products with fewer than 4 output columns
 * run as dot products along the reduction axis instead.
 *
 * Entry points that loop over images take a range [n0, n1), so that work can
 * be split between threads; filter gradients are added into the caller's
 * buffer (zero it first), so that each thread can own one.
 */
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))
#define INLINE static inline __attribute__((always_inline))

typedef float f32;
typedef v128_t v4;

/* Convolution geometry, as the int32 array the caller passes. */
typedef struct {
  int batch, inH, inW, inC;
  int outH, outW, outC;
  int kH, kW;
  int strideH, strideW, dilH, dilW;
  int padTop, padLeft;
  int unused;
} Conv;

/* Pooling geometry. */
typedef struct {
  int batch, inH, inW, channels;
  int outH, outW;
  int kH, kW;
  int strideH, strideW;
  int padTop, padLeft;
} Pool;

INLINE v4 ld(const f32* p) { return wasm_v128_load(p); }
INLINE void st(f32* p, v4 v) { wasm_v128_store(p, v); }
INLINE v4 splat(const f32* p) { return wasm_v128_load32_splat(p); }
INLINE v4 madd(v4 acc, v4 a, v4 b) { return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b)); }
/* [Σ lanes of s0, Σ of s1, Σ of s2, Σ of s3] */
INLINE v4 hsum4(v4 s0, v4 s1, v4 s2, v4 s3) {
  const v4 u01 = wasm_f32x4_add(wasm_i32x4_shuffle(s0, s1, 0, 4, 1, 5), wasm_i32x4_shuffle(s0, s1, 2, 6, 3, 7));
  const v4 u23 = wasm_f32x4_add(wasm_i32x4_shuffle(s2, s3, 0, 4, 1, 5), wasm_i32x4_shuffle(s2, s3, 2, 6, 3, 7));
  return wasm_f32x4_add(wasm_i32x4_shuffle(u01, u23, 0, 1, 4, 5), wasm_i32x4_shuffle(u01, u23, 2, 3, 6, 7));
}
INLINE f32 hsum(v4 v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) + (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

static void zero(f32* p, int n) {
  int i = 0;
  v4 z = wasm_f32x4_splat(0.0f);
  for (; i + 4 <= n; i += 4) st(p + i, z);
  for (; i < n; i++) p[i] = 0.0f;
}

static void copy(f32* dst, const f32* src, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) st(dst + i, ld(src + i));
  for (; i < n; i++) dst[i] = src[i];
}

/* p[0] += lane 0, p[stride] += lane 1, ... */
INLINE void add_lanes(f32* p, int stride, v4 c) {
  p[0] += wasm_f32x4_extract_lane(c, 0);
  p[stride] += wasm_f32x4_extract_lane(c, 1);
  p[2 * stride] += wasm_f32x4_extract_lane(c, 2);
  p[3 * stride] += wasm_f32x4_extract_lane(c, 3);
}

/* dst += src */
static void add_into(f32* dst, const f32* src, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) st(dst + i, wasm_f32x4_add(ld(dst + i), ld(src + i)));
  for (; i < n; i++) dst[i] += src[i];
}

/* ------------------------------------------------------------------------ */
/* GEMM micro-kernels                                                        */

/*
 * C[M, N] = A[M, K] · B[K, N] (+ bias[N]); A rows lda apart, C rows ldc apart.
 * Blocks of 4 rows × 8 columns, then 4 columns, then single columns.
 */
static void gemm_nn(const f32* A, int lda, int M, int K, const f32* B, int N, const f32* bias, f32* C, int ldc) {
  int j = 0;
  for (; j + 8 <= N; j += 8) {
    v4 b0 = bias ? ld(bias + j) : wasm_f32x4_splat(0.0f);
    v4 b1 = bias ? ld(bias + j + 4) : wasm_f32x4_splat(0.0f);
    int i = 0;
    for (; i + 4 <= M; i += 4) {
      const f32* a0 = A + (i + 0) * lda;
      const f32* a1 = A + (i + 1) * lda;
      const f32* a2 = A + (i + 2) * lda;
      const f32* a3 = A + (i + 3) * lda;
      v4 c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
      const f32* b = B + j;
      for (int k = 0; k < K; k++, b += N) {
        v4 w0 = ld(b), w1 = ld(b + 4);
        v4 x0 = splat(a0 + k), x1 = splat(a1 + k), x2 = splat(a2 + k), x3 = splat(a3 + k);
        c00 = madd(c00, x0, w0); c01 = madd(c01, x0, w1);
        c10 = madd(c10, x1, w0); c11 = madd(c11, x1, w1);
        c20 = madd(c20, x2, w0); c21 = madd(c21, x2, w1);
        c30 = madd(c30, x3, w0); c31 = madd(c31, x3, w1);
      }
      f32* c = C + i * ldc + j;
      st(c, c00); st(c + 4, c01); c += ldc;
      st(c, c10); st(c + 4, c11); c += ldc;
      st(c, c20); st(c + 4, c21); c += ldc;
      st(c, c30); st(c + 4, c31);
    }
    for (; i < M; i++) {
      const f32* a0 = A + i * lda;
      v4 c00 = b0, c01 = b1;
      const f32* b = B + j;
      for (int k = 0; k < K; k++, b += N) {
        v4 x0 = splat(a0 + k);
        c00 = madd(c00, x0, ld(b));
        c01 = madd(c01, x0, ld(b + 4));
      }
      st(C + i * ldc + j, c00);
      st(C + i * ldc + j + 4, c01);
    }
  }
  for (; j + 4 <= N; j += 4) {
    v4 b0 = bias ? ld(bias + j) : wasm_f32x4_splat(0.0f);
    int i = 0;
    for (; i + 4 <= M; i += 4) {
      const f32* a0 = A + (i + 0) * lda;
      const f32* a1 = A + (i + 1) * lda;
      const f32* a2 = A + (i + 2) * lda;
      const f32* a3 = A + (i + 3) * lda;
      v4 c0 = b0, c1 = b0, c2 = b0, c3 = b0;
      const f32* b = B + j;
      for (int k = 0; k < K; k++, b += N) {
        v4 w0 = ld(b);
        c0 = madd(c0, splat(a0 + k), w0);
        c1 = madd(c1, splat(a1 + k), w0);
        c2 = madd(c2, splat(a2 + k), w0);
        c3 = madd(c3, splat(a3 + k), w0);
      }
      st(C + (i + 0) * ldc + j, c0);
      st(C + (i + 1) * ldc + j, c1);
      st(C + (i + 2) * ldc + j, c2);
      st(C + (i + 3) * ldc + j, c3);
    }
    for (; i < M; i++) {
      const f32* a0 = A + i * lda;
      v4 c0 = b0;
      const f32* b = B + j;
      for (int k = 0; k < K; k++, b += N) c0 = madd(c0, splat(a0 + k), ld(b));
      st(C + i * ldc + j, c0);
    }
  }
  for (; j < N; j++) {
    /* One column: dot products along K, 4 rows at a time (Bt is column j of B, made contiguous by the caller when N < 4). */
    f32 bj = bias ? bias[j] : 0.0f;
    for (int i = 0; i < M; i++) {
      const f32* a0 = A + i * lda;
      f32 s = bj;
      for (int k = 0; k < K; k++) s += a0[k] * B[k * N + j];
      C[i * ldc + j] = s;
    }
  }
}

/*
 * C[M, N] = A[M, K] · B[K, N] (+ bias) for N < 4, with Bt = Bᵀ [N, K]
 * contiguous: each output is a dot product along K, in SIMD.
 */
static void gemm_narrow(const f32* A, int lda, int M, int K, const f32* Bt, int N, const f32* bias, f32* C, int ldc) {
  int K4 = K & ~3;
  for (int j = 0; j < N; j++) {
    const f32* w = Bt + j * K;
    f32 bj = bias ? bias[j] : 0.0f;
    int i = 0;
    for (; i + 4 <= M; i += 4) {
      const f32* a0 = A + (i + 0) * lda;
      const f32* a1 = A + (i + 1) * lda;
      const f32* a2 = A + (i + 2) * lda;
      const f32* a3 = A + (i + 3) * lda;
      v4 s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
      for (int k = 0; k < K4; k += 4) {
        v4 wk = ld(w + k);
        s0 = madd(s0, ld(a0 + k), wk);
        s1 = madd(s1, ld(a1 + k), wk);
        s2 = madd(s2, ld(a2 + k), wk);
        s3 = madd(s3, ld(a3 + k), wk);
      }
      f32 r0 = hsum(s0), r1 = hsum(s1), r2 = hsum(s2), r3 = hsum(s3);
      for (int k = K4; k < K; k++) {
        r0 += a0[k] * w[k];
        r1 += a1[k] * w[k];
        r2 += a2[k] * w[k];
        r3 += a3[k] * w[k];
      }
      C[(i + 0) * ldc + j] = r0 + bj;
      C[(i + 1) * ldc + j] = r1 + bj;
      C[(i + 2) * ldc + j] = r2 + bj;
      C[(i + 3) * ldc + j] = r3 + bj;
    }
    for (; i < M; i++) {
      const f32* a0 = A + i * lda;
      v4 s0 = wasm_f32x4_splat(0.0f);
      for (int k = 0; k < K4; k += 4) s0 = madd(s0, ld(a0 + k), ld(w + k));
      f32 r0 = hsum(s0);
      for (int k = K4; k < K; k++) r0 += a0[k] * w[k];
      C[i * ldc + j] = r0 + bj;
    }
  }
}

/* W[K, N] += A[M, K]ᵀ · D[M, N] (A rows lda apart). Blocks of 4 rows of W × 8 columns. */
static void gemm_tn_acc(const f32* A, int lda, int M, int K, const f32* D, int N, f32* W) {
  int j = 0;
  for (; j + 8 <= N; j += 8) {
    int k = 0;
    for (; k + 4 <= K; k += 4) {
      v4 c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      const f32* a = A + k;
      const f32* d = D + j;
      for (int m = 0; m < M; m++, a += lda, d += N) {
        v4 d0 = ld(d), d1 = ld(d + 4);
        v4 x0 = splat(a), x1 = splat(a + 1), x2 = splat(a + 2), x3 = splat(a + 3);
        c00 = madd(c00, x0, d0); c01 = madd(c01, x0, d1);
        c10 = madd(c10, x1, d0); c11 = madd(c11, x1, d1);
        c20 = madd(c20, x2, d0); c21 = madd(c21, x2, d1);
        c30 = madd(c30, x3, d0); c31 = madd(c31, x3, d1);
      }
      f32* w = W + k * N + j;
      st(w, wasm_f32x4_add(ld(w), c00)); st(w + 4, wasm_f32x4_add(ld(w + 4), c01)); w += N;
      st(w, wasm_f32x4_add(ld(w), c10)); st(w + 4, wasm_f32x4_add(ld(w + 4), c11)); w += N;
      st(w, wasm_f32x4_add(ld(w), c20)); st(w + 4, wasm_f32x4_add(ld(w + 4), c21)); w += N;
      st(w, wasm_f32x4_add(ld(w), c30)); st(w + 4, wasm_f32x4_add(ld(w + 4), c31));
    }
    for (; k < K; k++) {
      v4 c0 = wasm_f32x4_splat(0.0f), c1 = c0;
      const f32* a = A + k;
      const f32* d = D + j;
      for (int m = 0; m < M; m++, a += lda, d += N) {
        v4 x0 = splat(a);
        c0 = madd(c0, x0, ld(d));
        c1 = madd(c1, x0, ld(d + 4));
      }
      f32* w = W + k * N + j;
      st(w, wasm_f32x4_add(ld(w), c0));
      st(w + 4, wasm_f32x4_add(ld(w + 4), c1));
    }
  }
  for (; j + 4 <= N; j += 4) {
    int k = 0;
    for (; k + 4 <= K; k += 4) {
      v4 c0 = wasm_f32x4_splat(0.0f), c1 = c0, c2 = c0, c3 = c0;
      const f32* a = A + k;
      const f32* d = D + j;
      for (int m = 0; m < M; m++, a += lda, d += N) {
        v4 d0 = ld(d);
        c0 = madd(c0, splat(a), d0);
        c1 = madd(c1, splat(a + 1), d0);
        c2 = madd(c2, splat(a + 2), d0);
        c3 = madd(c3, splat(a + 3), d0);
      }
      f32* w = W + k * N + j;
      st(w, wasm_f32x4_add(ld(w), c0)); w += N;
      st(w, wasm_f32x4_add(ld(w), c1)); w += N;
      st(w, wasm_f32x4_add(ld(w), c2)); w += N;
      st(w, wasm_f32x4_add(ld(w), c3));
    }
    for (; k < K; k++) {
      v4 c0 = wasm_f32x4_splat(0.0f);
      const f32* a = A + k;
      const f32* d = D + j;
      for (int m = 0; m < M; m++, a += lda, d += N) c0 = madd(c0, splat(a), ld(d));
      f32* w = W + k * N + j;
      st(w, wasm_f32x4_add(ld(w), c0));
    }
  }
  for (; j < N; j++) {
    /* One column of W: along K in SIMD, 8 vectors at a time. */
    int k = 0;
    for (; k + 32 <= K; k += 32) {
      v4 c[8];
      for (int v = 0; v < 8; v++) c[v] = wasm_f32x4_splat(0.0f);
      const f32* a = A + k;
      for (int m = 0; m < M; m++, a += lda) {
        v4 dm = splat(D + m * N + j);
        for (int v = 0; v < 8; v++) c[v] = madd(c[v], ld(a + 4 * v), dm);
      }
      for (int v = 0; v < 8; v++) add_lanes(W + (k + 4 * v) * N + j, N, c[v]);
    }
    for (; k + 4 <= K; k += 4) {
      v4 c0 = wasm_f32x4_splat(0.0f);
      const f32* a = A + k;
      for (int m = 0; m < M; m++, a += lda) c0 = madd(c0, ld(a), splat(D + m * N + j));
      add_lanes(W + k * N + j, N, c0);
    }
    for (; k < K; k++) {
      f32 s = 0.0f;
      const f32* a = A + k;
      for (int m = 0; m < M; m++, a += lda) s += *a * D[m * N + j];
      W[k * N + j] += s;
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Convolutions                                                              */

/* Rows per panel: about 16 KB of panel, a multiple of 4, at least 8. */
static int chunk_rows(int K) {
  int c = 4096 / (K > 0 ? K : 1);
  if (c < 8) c = 8;
  if (c > 256) c = 256;
  return c & ~3;
}

/* dst[cols, rows] = src[rows, cols]ᵀ */
static void transpose(const f32* src, int rows, int cols, f32* dst) {
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
}

/* The input patches of output pixels [p0, p0 + cnt) of one image, one row of kH·kW·inC values each. */
static void im2col_fwd(const Conv* g, const f32* img, int p0, int cnt, f32* panel) {
  const int C = g->inC, kW = g->kW, K = g->kH * kW * C;
  const int rowStride = g->inW * C;
  for (int i = 0; i < cnt; i++) {
    const int p = p0 + i, oy = p / g->outW, ox = p - oy * g->outW;
    f32* row = panel + i * K;
    const int iy0 = oy * g->strideH - g->padTop, ix0 = ox * g->strideW - g->padLeft;
    const int contiguous = g->dilW == 1 && ix0 >= 0 && ix0 + kW <= g->inW;
    for (int ky = 0; ky < g->kH; ky++) {
      const int iy = iy0 + ky * g->dilH;
      f32* r = row + ky * kW * C;
      if ((unsigned)iy >= (unsigned)g->inH) {
        zero(r, kW * C);
        continue;
      }
      const f32* src = img + iy * rowStride;
      if (contiguous) {
        copy(r, src + ix0 * C, kW * C);
        continue;
      }
      for (int kx = 0; kx < kW; kx++) {
        const int ix = ix0 + kx * g->dilW;
        if ((unsigned)ix >= (unsigned)g->inW) {
          if (C == 1) r[kx] = 0.0f;
          else zero(r + kx * C, C);
        } else if (C == 1) {
          r[kx] = src[ix];
        } else {
          copy(r + kx * C, src + ix * C, C);
        }
      }
    }
  }
}

/*
 * The output-gradient patches of input pixels [q0, q0 + cnt) of one image:
 * for each tap, the dy row of the output pixel that tap connects it to (or
 * zeros), kH·kW·outC values per input pixel.
 */
static void im2col_bwd(const Conv* g, const f32* dimg, int q0, int cnt, f32* panel) {
  const int C = g->outC, kW = g->kW, K = g->kH * kW * C;
  for (int i = 0; i < cnt; i++) {
    const int q = q0 + i, iy = q / g->inW, ix = q - iy * g->inW;
    f32* row = panel + i * K;
    for (int ky = 0; ky < g->kH; ky++) {
      const int ty = iy + g->padTop - ky * g->dilH;
      const int oy = ty / g->strideH;
      f32* r = row + ky * kW * C;
      if (ty < 0 || oy * g->strideH != ty || oy >= g->outH) {
        zero(r, kW * C);
        continue;
      }
      for (int kx = 0; kx < kW; kx++) {
        const int tx = ix + g->padLeft - kx * g->dilW;
        const int ox = tx / g->strideW;
        if (tx < 0 || ox * g->strideW != tx || ox >= g->outW) {
          if (C == 1) r[kx] = 0.0f;
          else zero(r + kx * C, C);
        } else if (C == 1) {
          r[kx] = dimg[oy * g->outW + ox];
        } else {
          copy(r + kx * C, dimg + (oy * g->outW + ox) * C, C);
        }
      }
    }
  }
}

/* panel[cnt, K] · B[K, N] (+ bias) into out rows N apart; Bt = Bᵀ when N < 4. */
static void panel_product(const f32* panel, int lda, int cnt, int K, const f32* B, const f32* Bt, int N, const f32* bias, f32* out) {
  if (N < 4) gemm_narrow(panel, lda, cnt, K, Bt, N, bias, out, N);
  else gemm_nn(panel, lda, cnt, K, B, N, bias, out, N);
}

/*
 * Undilated convolutions without a panel: for each output row, the kH input
 * rows it reads are copied once into zero-padded rows, and the micro-kernels
 * read each pixel's taps straight from them (the kW·inC values under one
 * filter row are contiguous there). This saves the per-pixel gather of the
 * panel path, which costs as much as the products when a layer has few
 * output channels.
 */

/* Floats of one padded row. */
static int padded_row_floats(const Conv* g) {
  return ((g->outW - 1) * g->strideW + g->kW + 4) * g->inC;
}

/* rows[s] ← input row oy·sh − pt + s of img, zero-padded (pl zeros first); valid[s] = whether that row is inside the image. */
static void pad_rows(const Conv* g, const f32* img, int oy, f32* rows, int rowFloats, int* valid) {
  const int C = g->inC;
  const int width = rowFloats / C;
  for (int s = 0; s < g->kH; s++) {
    const int iy = oy * g->strideH - g->padTop + s;
    f32* r = rows + s * rowFloats;
    valid[s] = (unsigned)iy < (unsigned)g->inH;
    if (!valid[s]) continue;
    /* [0, pl) zeros, then the row, then zeros up to width. */
    int lead = g->padLeft > 0 ? g->padLeft : 0;
    int from = g->padLeft < 0 ? -g->padLeft : 0; /* a negative padding skips input columns */
    if (lead > width) lead = width;
    zero(r, lead * C);
    int count = g->inW - from;
    if (count > width - lead) count = width - lead;
    if (count < 0) count = 0;
    copy(r + lead * C, img + (iy * g->inW + from) * C, count * C);
    zero(r + (lead + count) * C, (width - lead - count) * C);
  }
}

/* One output row, N >= 4 columns in blocks of 8 / 4 (then single columns): out[ox, j] = bias[j] + Σ_s Σ_k rows[s][ox·step + k] · W[(s·L + k)·N + j]. */
static void row_product(const f32* rows, int rowFloats, const int* valid, int kH, int L, int step, int outW, const f32* W, int N, const f32* bias, f32* out) {
  int j = 0;
  for (; j + 8 <= N; j += 8) {
    const v4 b0 = bias ? ld(bias + j) : wasm_f32x4_splat(0.0f);
    const v4 b1 = bias ? ld(bias + j + 4) : wasm_f32x4_splat(0.0f);
    int ox = 0;
    for (; ox + 4 <= outW; ox += 4) {
      v4 c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
      for (int sIdx = 0; sIdx < kH; sIdx++) {
        if (!valid[sIdx]) continue;
        const f32* a0 = rows + sIdx * rowFloats + ox * step;
        const f32* a1 = a0 + step;
        const f32* a2 = a1 + step;
        const f32* a3 = a2 + step;
        const f32* w = W + sIdx * L * N + j;
        for (int k = 0; k < L; k++, w += N) {
          const v4 w0 = ld(w), w1 = ld(w + 4);
          const v4 x0 = splat(a0 + k), x1 = splat(a1 + k), x2 = splat(a2 + k), x3 = splat(a3 + k);
          c00 = madd(c00, x0, w0); c01 = madd(c01, x0, w1);
          c10 = madd(c10, x1, w0); c11 = madd(c11, x1, w1);
          c20 = madd(c20, x2, w0); c21 = madd(c21, x2, w1);
          c30 = madd(c30, x3, w0); c31 = madd(c31, x3, w1);
        }
      }
      f32* o = out + ox * N + j;
      st(o, c00); st(o + 4, c01); o += N;
      st(o, c10); st(o + 4, c11); o += N;
      st(o, c20); st(o + 4, c21); o += N;
      st(o, c30); st(o + 4, c31);
    }
    for (; ox < outW; ox++) {
      v4 c00 = b0, c01 = b1;
      for (int sIdx = 0; sIdx < kH; sIdx++) {
        if (!valid[sIdx]) continue;
        const f32* a0 = rows + sIdx * rowFloats + ox * step;
        const f32* w = W + sIdx * L * N + j;
        for (int k = 0; k < L; k++, w += N) {
          const v4 x0 = splat(a0 + k);
          c00 = madd(c00, x0, ld(w));
          c01 = madd(c01, x0, ld(w + 4));
        }
      }
      st(out + ox * N + j, c00);
      st(out + ox * N + j + 4, c01);
    }
  }
  for (; j + 4 <= N; j += 4) {
    const v4 b0 = bias ? ld(bias + j) : wasm_f32x4_splat(0.0f);
    int ox = 0;
    for (; ox + 4 <= outW; ox += 4) {
      v4 c0 = b0, c1 = b0, c2 = b0, c3 = b0;
      for (int sIdx = 0; sIdx < kH; sIdx++) {
        if (!valid[sIdx]) continue;
        const f32* a0 = rows + sIdx * rowFloats + ox * step;
        const f32* w = W + sIdx * L * N + j;
        for (int k = 0; k < L; k++, w += N) {
          const v4 w0 = ld(w);
          c0 = madd(c0, splat(a0 + k), w0);
          c1 = madd(c1, splat(a0 + step + k), w0);
          c2 = madd(c2, splat(a0 + 2 * step + k), w0);
          c3 = madd(c3, splat(a0 + 3 * step + k), w0);
        }
      }
      st(out + (ox + 0) * N + j, c0);
      st(out + (ox + 1) * N + j, c1);
      st(out + (ox + 2) * N + j, c2);
      st(out + (ox + 3) * N + j, c3);
    }
    for (; ox < outW; ox++) {
      v4 c0 = b0;
      for (int sIdx = 0; sIdx < kH; sIdx++) {
        if (!valid[sIdx]) continue;
        const f32* a0 = rows + sIdx * rowFloats + ox * step;
        const f32* w = W + sIdx * L * N + j;
        for (int k = 0; k < L; k++, w += N) c0 = madd(c0, splat(a0 + k), ld(w));
      }
      st(out + ox * N + j, c0);
    }
  }
  for (; j < N; j++) {
    for (int ox = 0; ox < outW; ox++) {
      f32 acc = bias ? bias[j] : 0.0f;
      for (int sIdx = 0; sIdx < kH; sIdx++) {
        if (!valid[sIdx]) continue;
        const f32* a0 = rows + sIdx * rowFloats + ox * step;
        for (int k = 0; k < L; k++) acc += a0[k] * W[(sIdx * L + k) * N + j];
      }
      out[ox * N + j] = acc;
    }
  }
}

/* One output row, N < 4 columns: dot products along each filter row, Wt = Wᵀ [N, kH·L]. */
static void row_dot(const f32* rows, int rowFloats, const int* valid, int kH, int L, int step, int outW, const f32* Wt, int N, const f32* bias, f32* out) {
  const int L4 = L & ~3, K = kH * L;
  for (int j = 0; j < N; j++) {
    const f32* wj = Wt + j * K;
    const f32 bj = bias ? bias[j] : 0.0f;
    int ox = 0;
    for (; ox + 4 <= outW; ox += 4) {
      v4 s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
      f32 r0 = bj, r1 = bj, r2 = bj, r3 = bj;
      for (int sIdx = 0; sIdx < kH; sIdx++) {
        if (!valid[sIdx]) continue;
        const f32* a0 = rows + sIdx * rowFloats + ox * step;
        const f32* w = wj + sIdx * L;
        for (int k = 0; k < L4; k += 4) {
          const v4 wk = ld(w + k);
          s0 = madd(s0, ld(a0 + k), wk);
          s1 = madd(s1, ld(a0 + step + k), wk);
          s2 = madd(s2, ld(a0 + 2 * step + k), wk);
          s3 = madd(s3, ld(a0 + 3 * step + k), wk);
        }
        for (int k = L4; k < L; k++) {
          r0 += a0[k] * w[k];
          r1 += a0[step + k] * w[k];
          r2 += a0[2 * step + k] * w[k];
          r3 += a0[3 * step + k] * w[k];
        }
      }
      const v4 sums = wasm_f32x4_add(hsum4(s0, s1, s2, s3), wasm_f32x4_make(r0, r1, r2, r3));
      if (N == 1) {
        st(out + ox, sums);
      } else {
        out[(ox + 0) * N + j] = wasm_f32x4_extract_lane(sums, 0);
        out[(ox + 1) * N + j] = wasm_f32x4_extract_lane(sums, 1);
        out[(ox + 2) * N + j] = wasm_f32x4_extract_lane(sums, 2);
        out[(ox + 3) * N + j] = wasm_f32x4_extract_lane(sums, 3);
      }
    }
    for (; ox < outW; ox++) {
      v4 s0 = wasm_f32x4_splat(0.0f);
      f32 r0 = bj;
      for (int sIdx = 0; sIdx < kH; sIdx++) {
        if (!valid[sIdx]) continue;
        const f32* a0 = rows + sIdx * rowFloats + ox * step;
        const f32* w = wj + sIdx * L;
        for (int k = 0; k < L4; k += 4) s0 = madd(s0, ld(a0 + k), ld(w + k));
        for (int k = L4; k < L; k++) r0 += a0[k] * w[k];
      }
      out[ox * N + j] = hsum(s0) + r0;
    }
  }
}

/* W[(s·L + k)·N + j] += Σ_ox rows[s][ox·step + k] · d[ox·N + j], for one output row (its dy row d). */
static void row_filter_grad(const f32* rows, int rowFloats, const int* valid, int kH, int L, int step, int outW, const f32* d, int N, f32* W) {
  for (int sIdx = 0; sIdx < kH; sIdx++) {
    if (!valid[sIdx]) continue;
    const f32* r = rows + sIdx * rowFloats;
    f32* Ws = W + sIdx * L * N;
    if (N >= 4) {
      int j = 0;
      for (; j + 8 <= N; j += 8) {
        int k = 0;
        for (; k + 4 <= L; k += 4) {
          v4 c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
          const f32* a = r + k;
          const f32* dd = d + j;
          for (int ox = 0; ox < outW; ox++, a += step, dd += N) {
            const v4 d0 = ld(dd), d1 = ld(dd + 4);
            const v4 x0 = splat(a), x1 = splat(a + 1), x2 = splat(a + 2), x3 = splat(a + 3);
            c00 = madd(c00, x0, d0); c01 = madd(c01, x0, d1);
            c10 = madd(c10, x1, d0); c11 = madd(c11, x1, d1);
            c20 = madd(c20, x2, d0); c21 = madd(c21, x2, d1);
            c30 = madd(c30, x3, d0); c31 = madd(c31, x3, d1);
          }
          f32* w = Ws + k * N + j;
          st(w, wasm_f32x4_add(ld(w), c00)); st(w + 4, wasm_f32x4_add(ld(w + 4), c01)); w += N;
          st(w, wasm_f32x4_add(ld(w), c10)); st(w + 4, wasm_f32x4_add(ld(w + 4), c11)); w += N;
          st(w, wasm_f32x4_add(ld(w), c20)); st(w + 4, wasm_f32x4_add(ld(w + 4), c21)); w += N;
          st(w, wasm_f32x4_add(ld(w), c30)); st(w + 4, wasm_f32x4_add(ld(w + 4), c31));
        }
        for (; k < L; k++) {
          v4 c0 = wasm_f32x4_splat(0.0f), c1 = c0;
          const f32* a = r + k;
          const f32* dd = d + j;
          for (int ox = 0; ox < outW; ox++, a += step, dd += N) {
            const v4 x0 = splat(a);
            c0 = madd(c0, x0, ld(dd));
            c1 = madd(c1, x0, ld(dd + 4));
          }
          f32* w = Ws + k * N + j;
          st(w, wasm_f32x4_add(ld(w), c0));
          st(w + 4, wasm_f32x4_add(ld(w + 4), c1));
        }
      }
      for (; j + 4 <= N; j += 4) {
        for (int k = 0; k < L; k++) {
          v4 c0 = wasm_f32x4_splat(0.0f);
          const f32* a = r + k;
          const f32* dd = d + j;
          for (int ox = 0; ox < outW; ox++, a += step, dd += N) c0 = madd(c0, splat(a), ld(dd));
          f32* w = Ws + k * N + j;
          st(w, wasm_f32x4_add(ld(w), c0));
        }
      }
      for (; j < N; j++)
        for (int k = 0; k < L; k++) {
          f32 acc = 0.0f;
          for (int ox = 0; ox < outW; ox++) acc += r[ox * step + k] * d[ox * N + j];
          Ws[k * N + j] += acc;
        }
    } else {
      /* Few columns: along k in SIMD, up to 12 vectors at a time. */
      for (int j = 0; j < N; j++) {
        int k = 0;
        for (; k + 48 <= L; k += 48) {
          v4 c0 = wasm_f32x4_splat(0.0f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
          const f32* a = r + k;
          for (int ox = 0; ox < outW; ox++, a += step) {
            const v4 dm = splat(d + ox * N + j);
            c0 = madd(c0, ld(a), dm); c1 = madd(c1, ld(a + 4), dm); c2 = madd(c2, ld(a + 8), dm); c3 = madd(c3, ld(a + 12), dm);
            c4 = madd(c4, ld(a + 16), dm); c5 = madd(c5, ld(a + 20), dm); c6 = madd(c6, ld(a + 24), dm); c7 = madd(c7, ld(a + 28), dm);
            c8 = madd(c8, ld(a + 32), dm); c9 = madd(c9, ld(a + 36), dm); c10 = madd(c10, ld(a + 40), dm); c11 = madd(c11, ld(a + 44), dm);
          }
          f32* w = Ws + k * N + j;
          if (N == 1) {
            st(w, wasm_f32x4_add(ld(w), c0)); st(w + 4, wasm_f32x4_add(ld(w + 4), c1)); st(w + 8, wasm_f32x4_add(ld(w + 8), c2));
            st(w + 12, wasm_f32x4_add(ld(w + 12), c3)); st(w + 16, wasm_f32x4_add(ld(w + 16), c4)); st(w + 20, wasm_f32x4_add(ld(w + 20), c5));
            st(w + 24, wasm_f32x4_add(ld(w + 24), c6)); st(w + 28, wasm_f32x4_add(ld(w + 28), c7)); st(w + 32, wasm_f32x4_add(ld(w + 32), c8));
            st(w + 36, wasm_f32x4_add(ld(w + 36), c9)); st(w + 40, wasm_f32x4_add(ld(w + 40), c10)); st(w + 44, wasm_f32x4_add(ld(w + 44), c11));
          } else {
            add_lanes(w, N, c0); add_lanes(w + 4 * N, N, c1); add_lanes(w + 8 * N, N, c2); add_lanes(w + 12 * N, N, c3);
            add_lanes(w + 16 * N, N, c4); add_lanes(w + 20 * N, N, c5); add_lanes(w + 24 * N, N, c6); add_lanes(w + 28 * N, N, c7);
            add_lanes(w + 32 * N, N, c8); add_lanes(w + 36 * N, N, c9); add_lanes(w + 40 * N, N, c10); add_lanes(w + 44 * N, N, c11);
          }
        }
        for (; k + 4 <= L; k += 4) {
          v4 c0 = wasm_f32x4_splat(0.0f);
          const f32* a = r + k;
          for (int ox = 0; ox < outW; ox++, a += step) c0 = madd(c0, ld(a), splat(d + ox * N + j));
          add_lanes(Ws + k * N + j, N, c0);
        }
        for (; k < L; k++) {
          f32 acc = 0.0f;
          for (int ox = 0; ox < outW; ox++) acc += r[ox * step + k] * d[ox * N + j];
          Ws[k * N + j] += acc;
        }
      }
    }
  }
}

/* Whether the row kernels apply: no dilation (each filter row reads kW·inC contiguous values). */
static int row_path(const Conv* g) {
  return g->dilH == 1 && g->dilW == 1;
}

/* The forward pass by rows, images [n0, n1); work: kH padded rows + 8 ints + (N < 4) Wᵀ. */
static void rows_forward(const Conv* g, const f32* x, const f32* w, const f32* bias, f32* y, f32* work, int n0, int n1) {
  const int C = g->inC, N = g->outC, L = g->kW * C, K = g->kH * L;
  const int rowFloats = padded_row_floats(g);
  f32* rows = work;
  int* valid = (int*)(rows + g->kH * rowFloats);
  f32* wt = (f32*)(valid + g->kH + 4);
  if (N < 4) transpose(w, K, N, wt);
  const int step = g->strideW * C;
  for (int n = n0; n < n1; n++) {
    const f32* img = x + n * g->inH * g->inW * C;
    f32* out = y + n * g->outH * g->outW * N;
    for (int oy = 0; oy < g->outH; oy++) {
      pad_rows(g, img, oy, rows, rowFloats, valid);
      f32* o = out + oy * g->outW * N;
      if (N < 4) row_dot(rows, rowFloats, valid, g->kH, L, step, g->outW, wt, N, bias, o);
      else row_product(rows, rowFloats, valid, g->kH, L, step, g->outW, w, N, bias, o);
    }
  }
}

static void rows_filter(const Conv* g, const f32* x, const f32* dy, f32* dw, f32* work, int n0, int n1) {
  const int C = g->inC, N = g->outC, L = g->kW * C;
  const int rowFloats = padded_row_floats(g);
  f32* rows = work;
  int* valid = (int*)(rows + g->kH * rowFloats);
  const int step = g->strideW * C;
  for (int n = n0; n < n1; n++) {
    const f32* img = x + n * g->inH * g->inW * C;
    const f32* d = dy + n * g->outH * g->outW * N;
    for (int oy = 0; oy < g->outH; oy++) {
      pad_rows(g, img, oy, rows, rowFloats, valid);
      row_filter_grad(rows, rowFloats, valid, g->kH, L, step, g->outW, d + oy * g->outW * N, N, dw);
    }
  }
}

/* Floats of `work` the convolution entry points need for this geometry. */
EXPORT(conv2d_work_floats)
int conv2d_work_floats(const int* geom) {
  const Conv* g = (const Conv*)geom;
  const int taps = g->kH * g->kW;
  const int kf = taps * g->inC, kb = taps * g->outC;
  /* Forward (and filter gradient): a panel and Wᵀ, or kH padded rows, their flags and Wᵀ. */
  const int fwdPanel = chunk_rows(kf) * kf + kf * g->outC;
  const int fwdRows = g->kH * padded_row_floats(g) + g->kH + 8 + kf * g->outC;
  /* Input gradient: the rearranged filter and its transpose, then a panel or the rows of dy. */
  Conv f = *g;
  f.inW = g->outW; f.inC = g->outC; f.outW = g->inW; f.outC = g->inC; f.strideW = 1;
  const int bwdPanel = chunk_rows(kb) * kb;
  const int bwdRows = g->kH * padded_row_floats(&f) + g->kH + 8 + kb * g->inC;
  const int fwd = fwdPanel > fwdRows ? fwdPanel : fwdRows;
  const int bwd = 2 * kb * g->inC + (bwdPanel > bwdRows ? bwdPanel : bwdRows);
  return (fwd > bwd ? fwd : bwd) + 4;
}

static int pointwise(const Conv* g) {
  return g->kH == 1 && g->kW == 1 && g->strideH == 1 && g->strideW == 1 && g->padTop == 0 && g->padLeft == 0 && g->inH == g->outH && g->inW == g->outW;
}

/* y[n, oy, ox, co] = bias[co] + Σ x[n, oy·sh + ky·dh − pt, ox·sw + kx·dw − pl, ci] · w[ky, kx, ci, co], images [n0, n1). bias may be 0. */
EXPORT(conv2d_forward)
void conv2d_forward(const int* geom, const f32* x, const f32* w, const f32* bias, f32* y, f32* work, int n0, int n1) {
  const Conv* g = (const Conv*)geom;
  const int K = g->kH * g->kW * g->inC, N = g->outC, P = g->outH * g->outW;
  const int direct = pointwise(g);
  if (!direct && row_path(g)) {
    rows_forward(g, x, w, bias, y, work, n0, n1);
    return;
  }
  const int chunk = chunk_rows(K);
  f32* panel = work;
  f32* bt = work + chunk * K;
  if (N < 4) transpose(w, K, N, bt);
  for (int n = n0; n < n1; n++) {
    const f32* img = x + n * g->inH * g->inW * g->inC;
    f32* out = y + n * P * N;
    for (int p0 = 0; p0 < P; p0 += chunk) {
      const int cnt = P - p0 < chunk ? P - p0 : chunk;
      if (direct) {
        panel_product(img + p0 * K, K, cnt, K, w, bt, N, bias, out + p0 * N);
      } else {
        im2col_fwd(g, img, p0, cnt, panel);
        panel_product(panel, K, cnt, K, w, bt, N, bias, out + p0 * N);
      }
    }
  }
}

/*
 * dx[n, iy, ix, ci] = Σ over taps and co of dy[n, oy, ox, co] · w[ky, kx, ci, co] (the transposed convolution), images [n0, n1).
 * With strides of 1 this is a forward convolution of dy with the filter rotated by 180° and its channels swapped,
 * padded by dil·(k − 1) − pad: that takes the forward pass's panels (contiguous copies, no divisions).
 */
EXPORT(conv2d_backprop_input)
void conv2d_backprop_input(const int* geom, const f32* dy, const f32* w, f32* dx, f32* work, int n0, int n1) {
  const Conv* g = (const Conv*)geom;
  const int taps = g->kH * g->kW, Ci = g->inC, Co = g->outC;
  const int K = taps * Co, N = Ci, Q = g->inH * g->inW, P = g->outH * g->outW;
  const int chunk = chunk_rows(K);
  f32* wb = work;             /* [taps·Co, Ci]: each tap's [Ci, Co] filter, transposed (rotated too, for strides of 1) */
  f32* bt = wb + K * N;       /* wbᵀ, for N < 4 */
  f32* panel = bt + K * N;    /* the rest: the panel, or the row path's rows */
  if (g->strideH == 1 && g->strideW == 1) {
    for (int ky = 0; ky < g->kH; ky++)
      for (int kx = 0; kx < g->kW; kx++)
        transpose(w + ((g->kH - 1 - ky) * g->kW + (g->kW - 1 - kx)) * Ci * Co, Ci, Co, wb + (ky * g->kW + kx) * Co * Ci);
    if (N < 4) transpose(wb, K, N, bt);
    Conv f = *g;
    f.inH = g->outH; f.inW = g->outW; f.inC = Co;
    f.outH = g->inH; f.outW = g->inW; f.outC = Ci;
    f.padTop = g->dilH * (g->kH - 1) - g->padTop;
    f.padLeft = g->dilW * (g->kW - 1) - g->padLeft;
    const int direct = pointwise(&f);
    if (!direct && row_path(&f)) {
      rows_forward(&f, dy, wb, 0, dx, panel, n0, n1);
      return;
    }
    for (int n = n0; n < n1; n++) {
      const f32* dimg = dy + n * P * Co;
      f32* out = dx + n * Q * Ci;
      for (int q0 = 0; q0 < Q; q0 += chunk) {
        const int cnt = Q - q0 < chunk ? Q - q0 : chunk;
        if (direct) {
          panel_product(dimg + q0 * K, K, cnt, K, wb, bt, N, 0, out + q0 * N);
        } else {
          im2col_fwd(&f, dimg, q0, cnt, panel);
          panel_product(panel, K, cnt, K, wb, bt, N, 0, out + q0 * N);
        }
      }
    }
    return;
  }
  for (int t = 0; t < taps; t++) transpose(w + t * Ci * Co, Ci, Co, wb + t * Co * Ci);
  if (N < 4) transpose(wb, K, N, bt);
  for (int n = n0; n < n1; n++) {
    const f32* dimg = dy + n * P * Co;
    f32* out = dx + n * Q * Ci;
    for (int q0 = 0; q0 < Q; q0 += chunk) {
      const int cnt = Q - q0 < chunk ? Q - q0 : chunk;
      im2col_bwd(g, dimg, q0, cnt, panel);
      panel_product(panel, K, cnt, K, wb, bt, N, 0, out + q0 * N);
    }
  }
}

/* dw[ky, kx, ci, co] += Σ over images [n0, n1) and output pixels of x[n, iy, ix, ci] · dy[n, oy, ox, co]. */
EXPORT(conv2d_backprop_filter)
void conv2d_backprop_filter(const int* geom, const f32* x, const f32* dy, f32* dw, f32* work, int n0, int n1) {
  const Conv* g = (const Conv*)geom;
  const int K = g->kH * g->kW * g->inC, N = g->outC, P = g->outH * g->outW;
  const int direct = pointwise(g);
  if (!direct && row_path(g)) {
    rows_filter(g, x, dy, dw, work, n0, n1);
    return;
  }
  const int chunk = chunk_rows(K);
  f32* panel = work;
  for (int n = n0; n < n1; n++) {
    const f32* img = x + n * g->inH * g->inW * g->inC;
    const f32* dimg = dy + n * P * N;
    for (int p0 = 0; p0 < P; p0 += chunk) {
      const int cnt = P - p0 < chunk ? P - p0 : chunk;
      if (direct) {
        gemm_tn_acc(img + p0 * K, K, cnt, K, dimg + p0 * N, N, dw);
      } else {
        im2col_fwd(g, img, p0, cnt, panel);
        gemm_tn_acc(panel, K, cnt, K, dimg + p0 * N, N, dw);
      }
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Depthwise convolution gradients (filter [kh, kw, in, multiplier]; output channel c·mult + m) */

/* dx[n, iy, ix, c] = Σ over taps and m of dy[n, oy, ox, c·M + m] · w[ky, kx, c, m]; geometry as conv (outC = inC·M). */
EXPORT(depthwise_backprop_input)
void depthwise_backprop_input(const int* geom, const f32* dy, const f32* w, f32* dx, int n0, int n1) {
  const Conv* g = (const Conv*)geom;
  const int C = g->inC, M = g->outC / g->inC, Co = g->outC;
  const int C4 = M == 1 ? (C & ~3) : 0;
  for (int n = n0; n < n1; n++) {
    const f32* dimg = dy + n * g->outH * g->outW * Co;
    f32* out = dx + n * g->inH * g->inW * C;
    for (int iy = 0; iy < g->inH; iy++) {
      for (int ix = 0; ix < g->inW; ix++) {
        f32* o = out + (iy * g->inW + ix) * C;
        zero(o, C);
        for (int ky = 0; ky < g->kH; ky++) {
          const int ty = iy + g->padTop - ky * g->dilH, oy = ty / g->strideH;
          if (ty < 0 || oy * g->strideH != ty || oy >= g->outH) continue;
          for (int kx = 0; kx < g->kW; kx++) {
            const int tx = ix + g->padLeft - kx * g->dilW, ox = tx / g->strideW;
            if (tx < 0 || ox * g->strideW != tx || ox >= g->outW) continue;
            const f32* d = dimg + (oy * g->outW + ox) * Co;
            const f32* wt = w + (ky * g->kW + kx) * C * M;
            int c = 0;
            for (; c < C4; c += 4) st(o + c, madd(ld(o + c), ld(d + c), ld(wt + c)));
            for (; c < C; c++) {
              f32 s = o[c];
              for (int m = 0; m < M; m++) s += d[c * M + m] * wt[c * M + m];
              o[c] = s;
            }
          }
        }
      }
    }
  }
}

/* dw[ky, kx, c, m] += Σ over images [n0, n1) and output pixels of x[n, iy, ix, c] · dy[n, oy, ox, c·M + m]. */
EXPORT(depthwise_backprop_filter)
void depthwise_backprop_filter(const int* geom, const f32* x, const f32* dy, f32* dw, int n0, int n1) {
  const Conv* g = (const Conv*)geom;
  const int C = g->inC, M = g->outC / g->inC, Co = g->outC;
  const int C4 = M == 1 ? (C & ~3) : 0;
  for (int n = n0; n < n1; n++) {
    const f32* img = x + n * g->inH * g->inW * C;
    const f32* dimg = dy + n * g->outH * g->outW * Co;
    for (int ky = 0; ky < g->kH; ky++) {
      for (int kx = 0; kx < g->kW; kx++) {
        f32* wt = dw + (ky * g->kW + kx) * C * M;
        for (int oy = 0; oy < g->outH; oy++) {
          const int iy = oy * g->strideH - g->padTop + ky * g->dilH;
          if ((unsigned)iy >= (unsigned)g->inH) continue;
          for (int ox = 0; ox < g->outW; ox++) {
            const int ix = ox * g->strideW - g->padLeft + kx * g->dilW;
            if ((unsigned)ix >= (unsigned)g->inW) continue;
            const f32* xi = img + (iy * g->inW + ix) * C;
            const f32* d = dimg + (oy * g->outW + ox) * Co;
            int c = 0;
            for (; c < C4; c += 4) st(wt + c, madd(ld(wt + c), ld(xi + c), ld(d + c)));
            for (; c < C; c++)
              for (int m = 0; m < M; m++) wt[c * M + m] += xi[c] * d[c * M + m];
          }
        }
      }
    }
  }
}

/* ------------------------------------------------------------------------ */
/* 3-D convolution gradients (NDHWC, filter [kd, kh, kw, in, out])           */

typedef struct {
  int batch, inD, inH, inW, inC;
  int outD, outH, outW, outC;
  int kD, kH, kW;
  int strideD, strideH, strideW;
  int dilD, dilH, dilW;
  int padFront, padTop, padLeft;
  int unused0, unused1, unused2, unused3;
} Conv3;

/* Floats of work conv3d_backprop_input needs: the filter, transposed per tap. */
EXPORT(conv3d_work_floats)
int conv3d_work_floats(const int* geom) {
  const Conv3* g = (const Conv3*)geom;
  return g->kD * g->kH * g->kW * g->inC * g->outC + 4;
}

/* dx[n, d, h, w, ci] = Σ over taps and co of dy[n, od, oh, ow, co] · w[kd, kh, kw, ci, co], images [n0, n1). */
EXPORT(conv3d_backprop_input)
void conv3d_backprop_input(const int* geom, const f32* dy, const f32* w, f32* dx, f32* work, int n0, int n1) {
  const Conv3* g = (const Conv3*)geom;
  const int Ci = g->inC, Co = g->outC, taps = g->kD * g->kH * g->kW, Ci4 = Ci & ~3;
  for (int t = 0; t < taps; t++) transpose(w + t * Ci * Co, Ci, Co, work + t * Co * Ci);
  const int outVol = g->outD * g->outH * g->outW, inVol = g->inD * g->inH * g->inW;
  for (int n = n0; n < n1; n++) {
    const f32* dimg = dy + n * outVol * Co;
    f32* out = dx + n * inVol * Ci;
    for (int id = 0; id < g->inD; id++)
      for (int ih = 0; ih < g->inH; ih++)
        for (int iw = 0; iw < g->inW; iw++) {
          f32* o = out + ((id * g->inH + ih) * g->inW + iw) * Ci;
          zero(o, Ci);
          for (int kd = 0; kd < g->kD; kd++) {
            const int td = id + g->padFront - kd * g->dilD, od = td / g->strideD;
            if (td < 0 || od * g->strideD != td || od >= g->outD) continue;
            for (int kh = 0; kh < g->kH; kh++) {
              const int th = ih + g->padTop - kh * g->dilH, oh = th / g->strideH;
              if (th < 0 || oh * g->strideH != th || oh >= g->outH) continue;
              for (int kw = 0; kw < g->kW; kw++) {
                const int tw = iw + g->padLeft - kw * g->dilW, ow = tw / g->strideW;
                if (tw < 0 || ow * g->strideW != tw || ow >= g->outW) continue;
                const f32* d = dimg + ((od * g->outH + oh) * g->outW + ow) * Co;
                const f32* wt = work + ((kd * g->kH + kh) * g->kW + kw) * Co * Ci;
                for (int co = 0; co < Co; co++) {
                  const f32* wr = wt + co * Ci;
                  const v4 b = splat(d + co);
                  int c = 0;
                  for (; c < Ci4; c += 4) st(o + c, madd(ld(o + c), b, ld(wr + c)));
                  for (; c < Ci; c++) o[c] += d[co] * wr[c];
                }
              }
            }
          }
        }
  }
}

/* dw[kd, kh, kw, ci, co] += Σ over images [n0, n1) and output positions of x[n, d, h, w, ci] · dy[n, od, oh, ow, co]. */
EXPORT(conv3d_backprop_filter)
void conv3d_backprop_filter(const int* geom, const f32* x, const f32* dy, f32* dw, int n0, int n1) {
  const Conv3* g = (const Conv3*)geom;
  const int Ci = g->inC, Co = g->outC, Co4 = Co & ~3;
  const int outVol = g->outD * g->outH * g->outW, inVol = g->inD * g->inH * g->inW;
  for (int n = n0; n < n1; n++) {
    const f32* img = x + n * inVol * Ci;
    const f32* dimg = dy + n * outVol * Co;
    for (int od = 0; od < g->outD; od++)
      for (int oh = 0; oh < g->outH; oh++)
        for (int ow = 0; ow < g->outW; ow++) {
          const f32* d = dimg + ((od * g->outH + oh) * g->outW + ow) * Co;
          for (int kd = 0; kd < g->kD; kd++) {
            const int id = od * g->strideD - g->padFront + kd * g->dilD;
            if ((unsigned)id >= (unsigned)g->inD) continue;
            for (int kh = 0; kh < g->kH; kh++) {
              const int ih = oh * g->strideH - g->padTop + kh * g->dilH;
              if ((unsigned)ih >= (unsigned)g->inH) continue;
              for (int kw = 0; kw < g->kW; kw++) {
                const int iw = ow * g->strideW - g->padLeft + kw * g->dilW;
                if ((unsigned)iw >= (unsigned)g->inW) continue;
                const f32* xi = img + ((id * g->inH + ih) * g->inW + iw) * Ci;
                f32* wt = dw + ((kd * g->kH + kh) * g->kW + kw) * Ci * Co;
                for (int ci = 0; ci < Ci; ci++) {
                  f32* wr = wt + ci * Co;
                  const v4 b = splat(xi + ci);
                  int c = 0;
                  for (; c < Co4; c += 4) st(wr + c, madd(ld(wr + c), b, ld(d + c)));
                  for (; c < Co; c++) wr[c] += xi[ci] * d[c];
                }
              }
            }
          }
        }
  }
}

/* ------------------------------------------------------------------------ */
/* Pooling                                                                   */

/*
 * Max pooling, images [n0, n1): y = the window's maximum, and argmax = the
 * position (iy·inW + ix) of its first occurrence in row-major window order
 * (−1 when no value in the window is above −∞), per output value.
 */
EXPORT(max_pool_forward)
void max_pool_forward(const int* geom, const f32* x, f32* y, int* argmax, int n0, int n1) {
  const Pool* g = (const Pool*)geom;
  const int C = g->channels, C4 = C & ~3;
  const f32 neg_inf = -__builtin_inff();
  for (int n = n0; n < n1; n++) {
    const f32* img = x + n * g->inH * g->inW * C;
    const int base = n * g->outH * g->outW * C;
    for (int oy = 0; oy < g->outH; oy++) {
      for (int ox = 0; ox < g->outW; ox++) {
        const int o = base + (oy * g->outW + ox) * C;
        int c = 0;
        for (; c < C4; c += 4) {
          v4 best = wasm_f32x4_splat(neg_inf);
          v4 at = wasm_i32x4_splat(-1);
          for (int ky = 0; ky < g->kH; ky++) {
            const int iy = oy * g->strideH - g->padTop + ky;
            if ((unsigned)iy >= (unsigned)g->inH) continue;
            for (int kx = 0; kx < g->kW; kx++) {
              const int ix = ox * g->strideW - g->padLeft + kx;
              if ((unsigned)ix >= (unsigned)g->inW) continue;
              const int pos = iy * g->inW + ix;
              v4 v = ld(img + pos * C + c);
              v4 gt = wasm_f32x4_gt(v, best);
              best = wasm_v128_bitselect(v, best, gt);
              at = wasm_v128_bitselect(wasm_i32x4_splat(pos), at, gt);
            }
          }
          st(y + o + c, best);
          wasm_v128_store(argmax + o + c, at);
        }
        for (; c < C; c++) {
          f32 best = neg_inf;
          int at = -1;
          for (int ky = 0; ky < g->kH; ky++) {
            const int iy = oy * g->strideH - g->padTop + ky;
            if ((unsigned)iy >= (unsigned)g->inH) continue;
            for (int kx = 0; kx < g->kW; kx++) {
              const int ix = ox * g->strideW - g->padLeft + kx;
              if ((unsigned)ix >= (unsigned)g->inW) continue;
              const f32 v = img[(iy * g->inW + ix) * C + c];
              if (v > best) {
                best = v;
                at = iy * g->inW + ix;
              }
            }
          }
          y[o + c] = best;
          argmax[o + c] = at;
        }
      }
    }
  }
}

/*
 * Windows that tile the image exactly (stride = window, no padding, the
 * sizes multiples): each input value belongs to one window, so its gradient
 * is that window's dy where it was the maximum and 0 elsewhere, written
 * once, with no zeroing and no scatter.
 */
static int tiles_exactly(const Pool* g) {
  return g->strideH == g->kH && g->strideW == g->kW && g->padTop == 0 && g->padLeft == 0 &&
         g->outH * g->kH == g->inH && g->outW * g->kW == g->inW && (g->channels & 3) == 0;
}

/* dx = 0, then dx[n, argmax, c] += dy[n, oy, ox, c], images [n0, n1). */
EXPORT(max_pool_backward)
void max_pool_backward(const int* geom, const f32* dy, const int* argmax, f32* dx, int n0, int n1) {
  const Pool* g = (const Pool*)geom;
  const int C = g->channels, P = g->outH * g->outW, Q = g->inH * g->inW;
  if (tiles_exactly(g)) {
    for (int n = n0; n < n1; n++) {
      f32* out = dx + n * Q * C;
      const f32* d = dy + n * P * C;
      const int* a = argmax + n * P * C;
      for (int oy = 0; oy < g->outH; oy++)
        for (int ox = 0; ox < g->outW; ox++) {
          const int o = (oy * g->outW + ox) * C;
          for (int ky = 0; ky < g->kH; ky++)
            for (int kx = 0; kx < g->kW; kx++) {
              const int pos = (oy * g->kH + ky) * g->inW + ox * g->kW + kx;
              const v4 p = wasm_i32x4_splat(pos);
              for (int c = 0; c < C; c += 4) st(out + pos * C + c, wasm_v128_and(ld(d + o + c), wasm_i32x4_eq(wasm_v128_load(a + o + c), p)));
            }
        }
    }
    return;
  }
  for (int n = n0; n < n1; n++) {
    f32* out = dx + n * Q * C;
    zero(out, Q * C);
    const f32* d = dy + n * P * C;
    const int* a = argmax + n * P * C;
    for (int p = 0; p < P; p++) {
      for (int c = 0; c < C; c++) {
        const int at = a[p * C + c];
        if (at >= 0) out[at * C + c] += d[p * C + c];
      }
    }
  }
}

/* Average pooling, images [n0, n1): the mean over the window's positions inside the image (padding not counted), as tfjs computes it. */
EXPORT(avg_pool_forward)
void avg_pool_forward(const int* geom, const f32* x, f32* y, int n0, int n1) {
  const Pool* g = (const Pool*)geom;
  const int C = g->channels, C4 = C & ~3;
  for (int n = n0; n < n1; n++) {
    const f32* img = x + n * g->inH * g->inW * C;
    f32* out = y + n * g->outH * g->outW * C;
    for (int oy = 0; oy < g->outH; oy++) {
      for (int ox = 0; ox < g->outW; ox++) {
        f32* o = out + (oy * g->outW + ox) * C;
        zero(o, C);
        int count = 0;
        for (int ky = 0; ky < g->kH; ky++) {
          const int iy = oy * g->strideH - g->padTop + ky;
          if ((unsigned)iy >= (unsigned)g->inH) continue;
          for (int kx = 0; kx < g->kW; kx++) {
            const int ix = ox * g->strideW - g->padLeft + kx;
            if ((unsigned)ix >= (unsigned)g->inW) continue;
            count++;
            const f32* v = img + (iy * g->inW + ix) * C;
            int c = 0;
            for (; c < C4; c += 4) st(o + c, wasm_f32x4_add(ld(o + c), ld(v + c)));
            for (; c < C; c++) o[c] += v[c];
          }
        }
        const f32 div = (f32)(count > 0 ? count : 1);
        int c = 0;
        for (; c < C4; c += 4) st(o + c, wasm_f32x4_div(ld(o + c), wasm_f32x4_splat(div)));
        for (; c < C; c++) o[c] = o[c] / div;
      }
    }
  }
}

/* dx = 0, then each dy spreads dy·scale over its window's positions inside the image (tfjs's AvgPoolGrad: scale = 1 / (kH·kW)). */
EXPORT(avg_pool_backward)
void avg_pool_backward(const int* geom, const f32* dy, f32* dx, f32 scale, int n0, int n1) {
  const Pool* g = (const Pool*)geom;
  const int C = g->channels, C4 = C & ~3;
  const v4 s = wasm_f32x4_splat(scale);
  for (int n = n0; n < n1; n++) {
    const f32* d = dy + n * g->outH * g->outW * C;
    f32* out = dx + n * g->inH * g->inW * C;
    zero(out, g->inH * g->inW * C);
    for (int oy = 0; oy < g->outH; oy++) {
      for (int ox = 0; ox < g->outW; ox++) {
        const f32* dv = d + (oy * g->outW + ox) * C;
        for (int ky = 0; ky < g->kH; ky++) {
          const int iy = oy * g->strideH - g->padTop + ky;
          if ((unsigned)iy >= (unsigned)g->inH) continue;
          for (int kx = 0; kx < g->kW; kx++) {
            const int ix = ox * g->strideW - g->padLeft + kx;
            if ((unsigned)ix >= (unsigned)g->inW) continue;
            f32* o = out + (iy * g->inW + ix) * C;
            int c = 0;
            for (; c < C4; c += 4) st(o + c, wasm_f32x4_add(ld(o + c), wasm_f32x4_mul(ld(dv + c), s)));
            for (; c < C; c++) o[c] += dv[c] * scale;
          }
        }
      }
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Nearest-neighbour up-sampling                                             */

/* Up-sampling by whole factors (rows[oy] = oy / sh, cols[ox] = ox / sw): y repeats each pixel sh × sw times. */
EXPORT(upsample_forward)
void upsample_forward(const f32* x, int inH, int inW, int C, int sh, int sw, f32* y, int n0, int n1) {
  const int outW = inW * sw;
  for (int n = n0; n < n1; n++) {
    const f32* img = x + n * inH * inW * C;
    f32* out = y + n * inH * sh * outW * C;
    for (int iy = 0; iy < inH; iy++) {
      f32* row = out + iy * sh * outW * C;
      const f32* src = img + iy * inW * C;
      if (C == 1) {
        for (int ix = 0; ix < inW; ix++)
          for (int b = 0; b < sw; b++) row[ix * sw + b] = src[ix];
      } else {
        for (int ix = 0; ix < inW; ix++)
          for (int b = 0; b < sw; b++) copy(row + (ix * sw + b) * C, src + ix * C, C);
      }
      for (int a = 1; a < sh; a++) copy(row + a * outW * C, row, outW * C);
    }
  }
}

/* The gradient of upsample_forward: dx[iy, ix] = Σ of dy over its sh × sw copies (no zeroing, no scatter). */
EXPORT(upsample_backward)
void upsample_backward(const f32* dy, int inH, int inW, int C, int sh, int sw, f32* dx, int n0, int n1) {
  const int outW = inW * sw, C4 = C & ~3;
  for (int n = n0; n < n1; n++) {
    const f32* d = dy + n * inH * sh * outW * C;
    f32* out = dx + n * inH * inW * C;
    for (int iy = 0; iy < inH; iy++)
      for (int ix = 0; ix < inW; ix++) {
        f32* o = out + (iy * inW + ix) * C;
        const f32* first = d + ((iy * sh) * outW + ix * sw) * C;
        int c = 0;
        for (; c < C4; c += 4) {
          v4 acc = wasm_f32x4_splat(0.0f);
          for (int a = 0; a < sh; a++)
            for (int b = 0; b < sw; b++) acc = wasm_f32x4_add(acc, ld(first + (a * outW + b) * C + c));
          st(o + c, acc);
        }
        for (; c < C; c++) {
          f32 acc = 0.0f;
          for (int a = 0; a < sh; a++)
            for (int b = 0; b < sw; b++) acc += first[(a * outW + b) * C + c];
          o[c] = acc;
        }
      }
  }
}

/* ------------------------------------------------------------------------ */
/* Batch normalisation over rows of C channels                               */

#define BN_TILE 32
/*
 * Per channel, over R rows of C, in float64 and rounded once:
 * s1[c] = Σ p and (when b is given) s2[c] = Σ p·q, with
 * p = a[r, c] − ashift[c] and q = (b[r, c] − bshift[c])·bscale[c] (ashift
 * and bscale may be 0: nothing subtracted, a scale of 1; s1 may be 0: not
 * wanted). p and q are formed
 * in float32, as the forward pass forms them; their product and the sums are
 * float64. A batch's statistics and their gradients are sums over every
 * pixel of every image (100,352 terms per channel for 128 images of 28x28),
 * where float32 running sums lose about 1e-5 (as col_sums explains).
 */
static void bn_sums(const f32* a, const f32* ashift, const f32* b, const f32* bshift, const f32* bscale, int R, int C, f32* s1, f32* s2) {
  for (int c0 = 0; c0 < C; c0 += BN_TILE) {
    const int cn = C - c0 < BN_TILE ? C - c0 : BN_TILE;
    const int c4 = cn & ~3;
    v128_t acc1[BN_TILE / 2], acc2[BN_TILE / 2];
    double rest1[4] = {0, 0, 0, 0}, rest2[4] = {0, 0, 0, 0};
    for (int i = 0; i < BN_TILE / 2; i++) acc1[i] = acc2[i] = wasm_f64x2_splat(0.0);
    for (int r = 0; r < R; r++) {
      const f32* ar = a + r * C + c0;
      const f32* br = b ? b + r * C + c0 : 0;
      for (int c = 0; c < c4; c += 4) {
        v4 pv = ld(ar + c);
        if (ashift) pv = wasm_f32x4_sub(pv, ld(ashift + c0 + c));
        const v128_t plo = wasm_f64x2_promote_low_f32x4(pv);
        const v128_t phi = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(pv, pv, 2, 3, 0, 1));
        acc1[c / 2] = wasm_f64x2_add(acc1[c / 2], plo);
        acc1[c / 2 + 1] = wasm_f64x2_add(acc1[c / 2 + 1], phi);
        if (!br) continue;
        v4 qv = wasm_f32x4_sub(ld(br + c), ld(bshift + c0 + c));
        if (bscale) qv = wasm_f32x4_mul(qv, ld(bscale + c0 + c));
        acc2[c / 2] = wasm_f64x2_add(acc2[c / 2], wasm_f64x2_mul(plo, wasm_f64x2_promote_low_f32x4(qv)));
        acc2[c / 2 + 1] = wasm_f64x2_add(acc2[c / 2 + 1], wasm_f64x2_mul(phi, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(qv, qv, 2, 3, 0, 1))));
      }
      for (int c = c4; c < cn; c++) {
        const f32 pf = ashift ? ar[c] - ashift[c0 + c] : ar[c];
        rest1[c - c4] += pf;
        if (!br) continue;
        f32 qf = br[c] - bshift[c0 + c];
        if (bscale) qf = qf * bscale[c0 + c];
        rest2[c - c4] += (double)pf * (double)qf;
      }
    }
    for (int c = 0; c < c4; c += 2) {
      if (s1) {
        s1[c0 + c] = (f32)wasm_f64x2_extract_lane(acc1[c / 2], 0);
        s1[c0 + c + 1] = (f32)wasm_f64x2_extract_lane(acc1[c / 2], 1);
      }
      if (!b) continue;
      s2[c0 + c] = (f32)wasm_f64x2_extract_lane(acc2[c / 2], 0);
      s2[c0 + c + 1] = (f32)wasm_f64x2_extract_lane(acc2[c / 2], 1);
    }
    for (int c = c4; c < cn; c++) {
      if (s1) s1[c0 + c] = (f32)rest1[c - c4];
      if (b) s2[c0 + c] = (f32)rest2[c - c4];
    }
  }
}

/* mean[c] = Σ x[r, c] / R;  var[c] = Σ (x[r, c] − mean[c])² / R (tf.moments: the biased variance). Sums in float64 (bn_sums). */
EXPORT(bn_moments)
void bn_moments(const f32* x, int R, int C, f32* mean, f32* var) {
  bn_sums(x, 0, 0, 0, 0, R, C, mean, 0);
  for (int c = 0; c < C; c++) mean[c] = mean[c] / (f32)R;
  bn_sums(x, mean, x, mean, 0, R, C, 0, var);
  for (int c = 0; c < C; c++) var[c] = var[c] / (f32)R;
}

/* y = (x − mean)·inv·gamma + beta, with inv = 1/sqrt(var + eps) per channel (given). gamma / beta may be 0 (1 / 0). */
EXPORT(bn_forward)
void bn_forward(const f32* x, int R, int C, const f32* mean, const f32* inv, const f32* gamma, const f32* beta, f32* y) {
  const int C4 = C & ~3;
  for (int r = 0; r < R; r++) {
    const f32* xr = x + r * C;
    f32* yr = y + r * C;
    int c = 0;
    for (; c < C4; c += 4) {
      v4 v = wasm_f32x4_mul(wasm_f32x4_sub(ld(xr + c), ld(mean + c)), ld(inv + c));
      if (gamma) v = wasm_f32x4_mul(v, ld(gamma + c));
      if (beta) v = wasm_f32x4_add(v, ld(beta + c));
      st(yr + c, v);
    }
    for (; c < C; c++) {
      f32 v = (xr[c] - mean[c]) * inv[c];
      if (gamma) v = v * gamma[c];
      if (beta) v = v + beta[c];
      yr[c] = v;
    }
  }
}

/*
 * The gradient of y = (x − mean)·inv·gamma + beta with mean and var the
 * batch's own statistics: with x̂ = (x − mean)·inv, dbeta = Σ dy,
 * dgamma = Σ dy·x̂, dx = gamma·inv/R · (R·dy − dbeta − x̂·dgamma). Writes
 * dgamma and dbeta (each may be 0: not wanted) and dx (may be 0; may be dy).
 */
EXPORT(bn_backward)
void bn_backward(const f32* x, const f32* dy, int R, int C, const f32* mean, const f32* inv, const f32* gamma, f32* dgamma, f32* dbeta, f32* dx, f32* work) {
  /* work: 2·C floats (the sums, for when dgamma / dbeta are not wanted). */
  f32* sdy = dbeta ? dbeta : work;
  f32* sdx = dgamma ? dgamma : work + C;
  const int C4 = C & ~3;
  /* Σ dy and Σ dy·x̂, in float64 (bn_sums). */
  bn_sums(dy, 0, x, mean, inv, R, C, sdy, sdx);
  if (!dx) return;
  const f32 fr = (f32)R;
  for (int r = 0; r < R; r++) {
    const f32* xr = x + r * C;
    const f32* dr = dy + r * C;
    f32* o = dx + r * C;
    int c = 0;
    for (; c < C4; c += 4) {
      v4 g = gamma ? ld(gamma + c) : wasm_f32x4_splat(1.0f);
      v4 k = wasm_f32x4_div(wasm_f32x4_mul(g, ld(inv + c)), wasm_f32x4_splat(fr));
      v4 xh = wasm_f32x4_mul(wasm_f32x4_sub(ld(xr + c), ld(mean + c)), ld(inv + c));
      v4 t = wasm_f32x4_sub(wasm_f32x4_sub(wasm_f32x4_mul(ld(dr + c), wasm_f32x4_splat(fr)), ld(sdy + c)), wasm_f32x4_mul(xh, ld(sdx + c)));
      st(o + c, wasm_f32x4_mul(k, t));
    }
    for (; c < C; c++) {
      const f32 g = gamma ? gamma[c] : 1.0f;
      const f32 k = g * inv[c] / fr;
      const f32 xh = (xr[c] - mean[c]) * inv[c];
      o[c] = k * (dr[c] * fr - sdy[c] - xh * sdx[c]);
    }
  }
}

/*
 * out[c] = Σ_r x[r, c] over R rows of C channels (bias gradients), summed in
 * float64 and rounded once. A convolution's bias gradient sums over every
 * pixel of every image (100,352 terms per channel for 128 images of 28x28):
 * a float32 running sum of that many terms of both signs is off by ~1e-5 of
 * the gradient, ten times PyTorch's (cascaded) sum, which the training then
 * carries (bench/README.md, "Per-step checks"). Converting to float64 costs
 * one more instruction per two floats; the pass stays memory-bound.
 */
#define COL_TILE 64
EXPORT(col_sums)
void col_sums(const f32* x, int R, int C, f32* out) {
  if (C == 1) {
    v128_t a0 = wasm_f64x2_splat(0.0), a1 = wasm_f64x2_splat(0.0);
    int r = 0;
    for (; r + 4 <= R; r += 4) {
      const v4 v = ld(x + r);
      a0 = wasm_f64x2_add(a0, wasm_f64x2_promote_low_f32x4(v));
      a1 = wasm_f64x2_add(a1, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1)));
    }
    const v128_t a = wasm_f64x2_add(a0, a1);
    double t = wasm_f64x2_extract_lane(a, 0) + wasm_f64x2_extract_lane(a, 1);
    for (; r < R; r++) t += x[r];
    out[0] = (f32)t;
    return;
  }
  /* Channels in tiles of COL_TILE, each with float64 accumulators: two per four channels. */
  for (int c0 = 0; c0 < C; c0 += COL_TILE) {
    const int cn = C - c0 < COL_TILE ? C - c0 : COL_TILE;
    const int c4 = cn & ~3;
    v128_t acc[COL_TILE / 2];
    double rest[4] = {0, 0, 0, 0};
    for (int i = 0; i < COL_TILE / 2; i++) acc[i] = wasm_f64x2_splat(0.0);
    for (int r = 0; r < R; r++) {
      const f32* row = x + r * C + c0;
      for (int c = 0; c < c4; c += 4) {
        const v4 v = ld(row + c);
        acc[c / 2] = wasm_f64x2_add(acc[c / 2], wasm_f64x2_promote_low_f32x4(v));
        acc[c / 2 + 1] = wasm_f64x2_add(acc[c / 2 + 1], wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1)));
      }
      for (int c = c4; c < cn; c++) rest[c - c4] += row[c];
    }
    for (int c = 0; c < c4; c += 2) {
      out[c0 + c] = (f32)wasm_f64x2_extract_lane(acc[c / 2], 0);
      out[c0 + c + 1] = (f32)wasm_f64x2_extract_lane(acc[c / 2], 1);
    }
    for (int c = c4; c < cn; c++) out[c0 + c] = (f32)rest[c - c4];
  }
}

/* y[r, c] += bias[c] over R rows of C channels. */
EXPORT(bias_add)
void bias_add(f32* y, int R, int C, const f32* bias) {
  const int C4 = C & ~3;
  for (int r = 0; r < R; r++) {
    f32* yr = y + r * C;
    int c = 0;
    for (; c < C4; c += 4) st(yr + c, wasm_f32x4_add(ld(yr + c), ld(bias + c)));
    for (; c < C; c++) yr[c] += bias[c];
  }
}

/* ------------------------------------------------------------------------ */
/* Unsorted segment sum                                                      */

/*
 * out[numSegments, L] = 0, then out[ids[i]] += x[i] for each of the
 * `count` rows of L values (ids outside [0, numSegments) are skipped), as
 * float32 (isInt 0) or int32 (isInt 1).
 */
EXPORT(unsorted_segment_sum)
void unsorted_segment_sum(const void* x, const int* ids, int count, int L, int numSegments, void* out, int isInt) {
  if (isInt) {
    int* o = (int*)out;
    const int* xi = (const int*)x;
    for (int i = 0; i < numSegments * L; i++) o[i] = 0;
    for (int i = 0; i < count; i++) {
      const int s = ids[i];
      if (s < 0 || s >= numSegments) continue;
      int* dst = o + s * L;
      const int* src = xi + i * L;
      int k = 0;
      for (; k + 4 <= L; k += 4) wasm_v128_store(dst + k, wasm_i32x4_add(wasm_v128_load(dst + k), wasm_v128_load(src + k)));
      for (; k < L; k++) dst[k] += src[k];
    }
    return;
  }
  f32* o = (f32*)out;
  const f32* xf = (const f32*)x;
  zero(o, numSegments * L);
  for (int i = 0; i < count; i++) {
    const int s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    add_into(o + s * L, xf + i * L, L);
  }
}
