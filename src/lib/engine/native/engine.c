/*
 * The parallel engine's compute kernels (src/lib/engine), compiled to
 * WebAssembly by scripts/build-wasm.sh in two builds: plain SIMD128
 * (engine-simd.wasm) and with relaxed SIMD's fused multiply-add
 * (engine-fma.wasm, f32x4.relaxed_madd). Both import one shared memory, so
 * the main thread and every worker of the pool run the same code on the same
 * buffers; each call computes one thread's part of a job, given as a range.
 *
 * No libc, no static data, no function tables: nothing here writes memory
 * outside the buffers it is given, whatever the layout of the heap around it.
 */
#include <wasm_simd128.h>

typedef float f4 __attribute__((vector_size(16)));

#if AENB_FMA
/* a·b + c, fused where the hardware has FMA (the rounding of one operation instead of two). */
#define MADD(a, b, c) ((v128_t)__builtin_wasm_relaxed_madd_f32x4((f4)(a), (f4)(b), (f4)(c)))
#else
#define MADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul((a), (b)), (c))
#endif

#define INLINE static inline __attribute__((always_inline))
#define EXPORT(name) __attribute__((export_name(#name)))

/*
 * Matrix products without packing.
 *
 * C[i, j] (= or +=) Σ_p A(i, p)·B[p, j] (+ bias[j]) for i in [i0, i1), j in
 * [j0, j1), where A(i, p) = a[i·ars + p·acs] (a row-major A has ars = lda,
 * acs = 1; a transposed one ars = 1, acs = lda) and B and C are row-major
 * with row strides ldb and ldc.
 *
 * The register tile is MR rows by 8 (or 4, or 1) columns: per step of p,
 * one or two vector loads of B's row, MR broadcast loads of A, and 2·MR
 * multiply-adds into accumulators that stay in registers. Every element of
 * C is the sum over p in increasing order, whatever the tile, the range or
 * the thread that computes it: splitting a product between threads does not
 * change its result.
 */
INLINE void tile8(const int MR, int k, const float *a, int ars, int acs, const float *b, int ldb, float *c, int ldc, const float *bias, int acc) {
  v128_t c0[6], c1[6];
  const float *ap[6];
  for (int r = 0; r < MR; r++) {
    c0[r] = wasm_f32x4_splat(0);
    c1[r] = wasm_f32x4_splat(0);
    ap[r] = a + r * ars;
  }
  for (int p = 0; p < k; p++) {
    v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
    b += ldb;
    for (int r = 0; r < MR; r++) {
      v128_t av = wasm_v128_load32_splat(ap[r]);
      ap[r] += acs;
      c0[r] = MADD(av, b0, c0[r]);
      c1[r] = MADD(av, b1, c1[r]);
    }
  }
  for (int r = 0; r < MR; r++) {
    float *cr = c + r * ldc;
    v128_t x0 = c0[r], x1 = c1[r];
    if (bias) {
      x0 = wasm_f32x4_add(x0, wasm_v128_load(bias));
      x1 = wasm_f32x4_add(x1, wasm_v128_load(bias + 4));
    }
    if (acc) {
      x0 = wasm_f32x4_add(wasm_v128_load(cr), x0);
      x1 = wasm_f32x4_add(wasm_v128_load(cr + 4), x1);
    }
    wasm_v128_store(cr, x0);
    wasm_v128_store(cr + 4, x1);
  }
}

INLINE void tile4(const int MR, int k, const float *a, int ars, int acs, const float *b, int ldb, float *c, int ldc, const float *bias, int acc) {
  v128_t c0[6];
  const float *ap[6];
  for (int r = 0; r < MR; r++) {
    c0[r] = wasm_f32x4_splat(0);
    ap[r] = a + r * ars;
  }
  for (int p = 0; p < k; p++) {
    v128_t b0 = wasm_v128_load(b);
    b += ldb;
    for (int r = 0; r < MR; r++) {
      v128_t av = wasm_v128_load32_splat(ap[r]);
      ap[r] += acs;
      c0[r] = MADD(av, b0, c0[r]);
    }
  }
  for (int r = 0; r < MR; r++) {
    float *cr = c + r * ldc;
    v128_t x0 = c0[r];
    if (bias) x0 = wasm_f32x4_add(x0, wasm_v128_load(bias));
    if (acc) x0 = wasm_f32x4_add(wasm_v128_load(cr), x0);
    wasm_v128_store(cr, x0);
  }
}

/* One column: the same operations, in the same order, as one lane of the vector tiles. */
INLINE void tile1(const int MR, int k, const float *a, int ars, int acs, const float *b, int ldb, float *c, int ldc, const float *bias, int acc) {
  for (int r = 0; r < MR; r++) {
    const float *ar = a + r * ars;
    const float *bp = b;
    v128_t s = wasm_f32x4_splat(0);
    for (int p = 0; p < k; p++) {
      s = MADD(wasm_v128_load32_splat(ar), wasm_v128_load32_splat(bp), s);
      ar += acs;
      bp += ldb;
    }
    float x = wasm_f32x4_extract_lane(s, 0);
    if (bias) x = x + *bias;
    if (acc) x = c[r * ldc] + x;
    c[r * ldc] = x;
  }
}

#define ROW_CASES(T)                                                           \
  switch (rows) {                                                              \
    case 1: T(1, k, a, ars, acs, b, ldb, c, ldc, bias, acc); break;           \
    case 2: T(2, k, a, ars, acs, b, ldb, c, ldc, bias, acc); break;           \
    case 3: T(3, k, a, ars, acs, b, ldb, c, ldc, bias, acc); break;           \
    case 4: T(4, k, a, ars, acs, b, ldb, c, ldc, bias, acc); break;           \
    case 5: T(5, k, a, ars, acs, b, ldb, c, ldc, bias, acc); break;           \
    default: T(6, k, a, ars, acs, b, ldb, c, ldc, bias, acc); break;          \
  }

static __attribute__((noinline)) void rows8(int rows, int k, const float *a, int ars, int acs, const float *b, int ldb, float *c, int ldc, const float *bias, int acc) { ROW_CASES(tile8) }
static __attribute__((noinline)) void rows4(int rows, int k, const float *a, int ars, int acs, const float *b, int ldb, float *c, int ldc, const float *bias, int acc) { ROW_CASES(tile4) }
static __attribute__((noinline)) void rows1(int rows, int k, const float *a, int ars, int acs, const float *b, int ldb, float *c, int ldc, const float *bias, int acc) { ROW_CASES(tile1) }

static void gemm_tile(int i, int j, int i1, int j1, int mr, int k, const float *a, int ars, int acs, const float *b, int ldb, float *c, int ldc, const float *bias, int acc) {
  int rows = i1 - i < mr ? i1 - i : mr;
  int w = j1 - j;
  const float *ai = a + i * ars;
  const float *bj = b + j;
  const float *biasj = bias ? bias + j : 0;
  float *cij = c + i * ldc + j;
  if (w >= 8) rows8(rows, k, ai, ars, acs, bj, ldb, cij, ldc, biasj, acc);
  else if (w >= 4) rows4(rows, k, ai, ars, acs, bj, ldb, cij, ldc, biasj, acc);
  else rows1(rows, k, ai, ars, acs, bj, ldb, cij, ldc, biasj, acc);
}

/*
 * mr: rows per register tile (1..6). bias: 0 for none; acc: 1 to add to C.
 * order 0 goes through C by column panels (a panel of B stays in cache while
 * blocks of A's rows stream by), order 1 by row blocks (a block of A's rows
 * stays while B streams by); which is faster depends on the shapes and the
 * caches, and every element is the same sum either way.
 */
EXPORT(gemm)
void gemm(int i0, int i1, int j0, int j1, int k, const float *a, int ars, int acs, const float *b, int ldb, float *c, int ldc, const float *bias, int acc, int mr, int order) {
  if (mr < 1) mr = 1;
  if (mr > 6) mr = 6;
  if (order) {
    for (int i = i0; i < i1; i += mr)
      for (int j = j0; j < j1;) {
        gemm_tile(i, j, i1, j1, mr, k, a, ars, acs, b, ldb, c, ldc, bias, acc);
        int w = j1 - j;
        j += w >= 8 ? 8 : w >= 4 ? 4 : 1;
      }
    return;
  }
  for (int j = j0; j < j1;) {
    for (int i = i0; i < i1; i += mr) gemm_tile(i, j, i1, j1, mr, k, a, ars, acs, b, ldb, c, ldc, bias, acc);
    int w = j1 - j;
    j += w >= 8 ? 8 : w >= 4 ? 4 : 1;
  }
}

/*
 * Matrix products with B transposed, without transposing it first:
 * C[i, j] (= or +=) Σ_p A[i, p]·B[j, p] (+ bias[j]) for i in [i0, i1), j in
 * [j0, j1), with A [m, k] and B [n, k] row-major (row strides lda, ldb) and
 * C [m, n] (ldc). Both operands are read along p, four at a time: a tile of
 * MR rows of A by 4 rows of B keeps MR·4 vectors of partial sums (one lane
 * per p mod 4), which end as (lane 0 + lane 2) + (lane 1 + lane 3); the last
 * k mod 4 terms are then added one by one (multiply, then add), then the
 * bias, then C. Edge tiles compute each element with the same operations in
 * the same order, so, as for gemm, no split between threads changes a result.
 */
INLINE v128_t hsum4(v128_t a, v128_t b, v128_t c, v128_t d) {
  v128_t ab = wasm_f32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
  v128_t cd = wasm_f32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
  return wasm_f32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}

INLINE float hsum1(v128_t a) {
  return (wasm_f32x4_extract_lane(a, 0) + wasm_f32x4_extract_lane(a, 2)) + (wasm_f32x4_extract_lane(a, 1) + wasm_f32x4_extract_lane(a, 3));
}

INLINE void bt_tile4(const int MR, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc, const float *bias, int acc) {
  v128_t s[2][4];
  for (int r = 0; r < MR; r++)
    for (int q = 0; q < 4; q++) s[r][q] = wasm_f32x4_splat(0);
  const int k4 = k & ~3;
  for (int p = 0; p < k4; p += 4) {
    v128_t b0 = wasm_v128_load(b + p), b1 = wasm_v128_load(b + ldb + p), b2 = wasm_v128_load(b + 2 * ldb + p), b3 = wasm_v128_load(b + 3 * ldb + p);
    for (int r = 0; r < MR; r++) {
      v128_t av = wasm_v128_load(a + r * lda + p);
      s[r][0] = MADD(av, b0, s[r][0]);
      s[r][1] = MADD(av, b1, s[r][1]);
      s[r][2] = MADD(av, b2, s[r][2]);
      s[r][3] = MADD(av, b3, s[r][3]);
    }
  }
  for (int r = 0; r < MR; r++) {
    v128_t x = hsum4(s[r][0], s[r][1], s[r][2], s[r][3]);
    const float *ar = a + r * lda;
    for (int p = k4; p < k; p++) {
      v128_t bp = wasm_f32x4_make(b[p], b[ldb + p], b[2 * ldb + p], b[3 * ldb + p]);
      x = wasm_f32x4_add(x, wasm_f32x4_mul(wasm_f32x4_splat(ar[p]), bp));
    }
    float *cr = c + r * ldc;
    if (bias) x = wasm_f32x4_add(x, wasm_v128_load(bias));
    if (acc) x = wasm_f32x4_add(wasm_v128_load(cr), x);
    wasm_v128_store(cr, x);
  }
}

/* One column (one row of B): each element exactly as one lane of bt_tile4. */
INLINE void bt_tile1(const int MR, int k, const float *a, int lda, const float *b, float *c, int ldc, const float *bias, int acc) {
  const int k4 = k & ~3;
  for (int r = 0; r < MR; r++) {
    const float *ar = a + r * lda;
    v128_t s = wasm_f32x4_splat(0);
    for (int p = 0; p < k4; p += 4) s = MADD(wasm_v128_load(ar + p), wasm_v128_load(b + p), s);
    float x = hsum1(s);
    for (int p = k4; p < k; p++) x = x + ar[p] * b[p];
    if (bias) x = x + *bias;
    if (acc) x = c[r * ldc] + x;
    c[r * ldc] = x;
  }
}

EXPORT(gemmBt)
void gemmBt(int i0, int i1, int j0, int j1, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc, const float *bias, int acc) {
  for (int j = j0; j < j1;) {
    int w = j1 - j >= 4 ? 4 : 1;
    const float *bj = b + j * ldb;
    const float *biasj = bias ? bias + j : 0;
    for (int i = i0; i < i1; i += 2) {
      const float *ai = a + i * lda;
      float *cij = c + i * ldc + j;
      if (i1 - i >= 2) {
        if (w == 4) bt_tile4(2, k, ai, lda, bj, ldb, cij, ldc, biasj, acc);
        else bt_tile1(2, k, ai, lda, bj, cij, ldc, biasj, acc);
      } else {
        if (w == 4) bt_tile4(1, k, ai, lda, bj, ldb, cij, ldc, biasj, acc);
        else bt_tile1(1, k, ai, lda, bj, cij, ldc, biasj, acc);
      }
    }
    j += w;
  }
}

/*
 * dst[j, i] = src[i, j] for i in [i0, i1), j in [j0, j1); src rows are lds
 * floats apart, dst rows ldd. 4x4 blocks through shuffles, the edges one by
 * one.
 */
EXPORT(transpose)
void transpose(const float *src, int lds, float *dst, int ldd, int i0, int i1, int j0, int j1) {
  int i4 = i0 + ((i1 - i0) & ~3);
  int j4 = j0 + ((j1 - j0) & ~3);
  for (int jb = j0; jb < j4; jb += 64) {
    int je = jb + 64 < j4 ? jb + 64 : j4;
    for (int i = i0; i < i4; i += 4) {
      for (int j = jb; j < je; j += 4) {
        const float *s = src + i * lds + j;
        v128_t r0 = wasm_v128_load(s), r1 = wasm_v128_load(s + lds), r2 = wasm_v128_load(s + 2 * lds), r3 = wasm_v128_load(s + 3 * lds);
        v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5);
        v128_t t1 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
        v128_t t2 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
        v128_t t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
        float *d = dst + j * ldd + i;
        wasm_v128_store(d, wasm_i64x2_shuffle(t0, t2, 0, 2));
        wasm_v128_store(d + ldd, wasm_i64x2_shuffle(t0, t2, 1, 3));
        wasm_v128_store(d + 2 * ldd, wasm_i64x2_shuffle(t1, t3, 0, 2));
        wasm_v128_store(d + 3 * ldd, wasm_i64x2_shuffle(t1, t3, 1, 3));
      }
    }
  }
  for (int i = i0; i < i1; i++) {
    for (int j = i < i4 ? j4 : j0; j < j1; j++) dst[j * ldd + i] = src[i * lds + j];
  }
}

/* out[j] = Σ_r x[r·ld + j] over rows r = 0.. in order (float32 sums), for j in [j0, j1). */
EXPORT(colSums)
void colSums(const float *x, int rows, int ld, float *out, int j0, int j1) {
  int j = j0;
  for (; j + 4 <= j1; j += 4) {
    v128_t s = wasm_f32x4_splat(0);
    for (int r = 0; r < rows; r++) s = wasm_f32x4_add(s, wasm_v128_load(x + r * ld + j));
    wasm_v128_store(out + j, s);
  }
  for (; j < j1; j++) {
    float s = 0;
    for (int r = 0; r < rows; r++) s = s + x[r * ld + j];
    out[j] = s;
  }
}

/*
 * Activations, element-wise over [i0, i1): y = f(x) (x and y may be the same
 * buffer). e^x by Cephes' expf polynomial (relative error ~1 ulp): the
 * backend computes these with its own approximations, and the results agree
 * to a few ulp.
 */
INLINE v128_t vexp(v128_t x) {
  /* pmin(x, c) and pmax(x, c) keep x when it is NaN: a NaN goes in, a NaN comes out. */
  x = wasm_f32x4_pmax(wasm_f32x4_pmin(x, wasm_f32x4_splat(88.0f)), wasm_f32x4_splat(-87.0f));
  v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)));
  v128_t r = wasm_f32x4_sub(wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693359375f))), wasm_f32x4_mul(n, wasm_f32x4_splat(-2.12194440e-4f)));
  v128_t z = wasm_f32x4_mul(r, r);
  v128_t p = wasm_f32x4_splat(1.9875691500e-4f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.3981999507e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(8.3334519073e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(4.1665795894e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.6666665459e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(5.0000001201e-1f));
  p = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(p, z), r), wasm_f32x4_splat(1.0f));
  v128_t pow2n = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(p, pow2n);
}

/* σ(x) = 1/(1 + e^-x); 0 below −87.33, where e^-x leaves float32's range (as the backend's sigmoid does). */
INLINE v128_t vsigmoid(v128_t x) {
  v128_t s = wasm_f32x4_div(wasm_f32x4_splat(1.0f), wasm_f32x4_add(wasm_f32x4_splat(1.0f), vexp(wasm_f32x4_neg(x))));
  return wasm_v128_andnot(s, wasm_f32x4_lt(x, wasm_f32x4_splat(-87.33f)));
}

/* tanh(x): x·(1 + x²·P(x²)) for |x| < 0.625 (Cephes' tanhf; the product keeps the sign of zero), else sign(x)·(1 − 2/(e^{2|x|} + 1)). */
INLINE v128_t vtanh(v128_t x) {
  v128_t ax = wasm_f32x4_abs(x);
  v128_t z = wasm_f32x4_mul(x, x);
  v128_t p = wasm_f32x4_splat(-5.70498872745e-3f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), wasm_f32x4_splat(2.06390887954e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), wasm_f32x4_splat(-5.37397155531e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), wasm_f32x4_splat(1.33314422036e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), wasm_f32x4_splat(-3.33332819422e-1f));
  v128_t small = wasm_f32x4_mul(x, wasm_f32x4_add(wasm_f32x4_splat(1.0f), wasm_f32x4_mul(p, z)));
  v128_t e = vexp(wasm_f32x4_add(ax, ax));
  v128_t big = wasm_f32x4_sub(wasm_f32x4_splat(1.0f), wasm_f32x4_div(wasm_f32x4_splat(2.0f), wasm_f32x4_add(e, wasm_f32x4_splat(1.0f))));
  big = wasm_v128_or(big, wasm_v128_and(x, wasm_i32x4_splat((int)0x80000000)));
  return wasm_v128_bitselect(small, big, wasm_f32x4_lt(ax, wasm_f32x4_splat(0.625f)));
}

/* elu(x) = x > 0 ? x : e^x − 1 */
INLINE v128_t velu(v128_t x) {
  v128_t e = wasm_f32x4_sub(vexp(x), wasm_f32x4_splat(1.0f));
  return wasm_v128_bitselect(x, e, wasm_f32x4_gt(x, wasm_f32x4_splat(0.0f)));
}

#define ACTIVATION(NAME, F)                                                    \
  EXPORT(NAME)                                                                 \
  void NAME(const float *x, float *y, int i0, int i1) {                        \
    int i = i0;                                                                \
    for (; i + 4 <= i1; i += 4) wasm_v128_store(y + i, F(wasm_v128_load(x + i))); \
    for (; i < i1; i++) y[i] = wasm_f32x4_extract_lane(F(wasm_f32x4_splat(x[i])), 0); \
  }
ACTIVATION(sigmoid, vsigmoid)
ACTIVATION(tanh, vtanh)
ACTIVATION(elu, velu)

/* dx = y ≥ 0 ? dy : dy·(y + 1) (tfjs's EluGrad), over [i0, i1); dx may be dy. */
EXPORT(eluGrad)
void eluGrad(const float *y, const float *dy, float *dx, int i0, int i1) {
  for (int i = i0; i < i1; i++) dx[i] = y[i] >= 0 ? dy[i] : dy[i] * (y[i] + 1.0f);
}

/* dst[i] = src[i] over [i0, i1). */
EXPORT(copy)
void copy(float *dst, const float *src, int i0, int i1) {
  for (int i = i0; i < i1; i++) dst[i] = src[i];
}

/*
 * Sigmoid + binary cross-entropy from the logits over [i0, i1), the same
 * arithmetic as wasm-simd.ts's bceLogits (see there), with every
 * multiply-add of the polynomials fused in the FMA build. max(z, 0) is
 * f32x4.pmax (z < 0 ? 0 : z), which V8 compiles to one instruction where
 * f32x4.max takes about eight: they differ only for −0 (then ln(1+e) is
 * added, and −0 + y = 0 + y) and in which NaN comes out (a NaN either way):
 *   e = exp(-|z|), s = σ(z), dz = (ε ≤ s ≤ 1-ε) ? (s - t)·invN : 0,
 *   loss = t·min(max(-z,0) + ln(1+e), −ln ε) + (1-t)·min(max(z,0) + ln(1+e), −ln ε').
 * Returns Σ loss over the range (float64).
 */
/*
 * e^x for x in [−87, 0] (the only range bceLogits gives it). n = round(x·log2 e)
 * comes from adding and subtracting 1.5·2²³ (the float32 sum rounds to the
 * nearest integer, ties to even, exactly as f32x4.nearest does), and 2ⁿ from
 * that sum's bits, whose low bits are n: the same values as nearest and an
 * integer conversion, in 3 instructions instead of about 10 (x86 has no
 * saturating float-to-int conversion of vectors, so V8 builds one).
 */
INLINE v128_t vexp_fused(v128_t x) {
  v128_t t = wasm_f32x4_add(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)), wasm_f32x4_splat(12582912.0f));
  v128_t n = wasm_f32x4_sub(t, wasm_f32x4_splat(12582912.0f));
  v128_t r = wasm_f32x4_sub(wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693359375f))), wasm_f32x4_mul(n, wasm_f32x4_splat(-2.12194440e-4f)));
  v128_t z = wasm_f32x4_mul(r, r);
  v128_t p = wasm_f32x4_splat(1.9875691500e-4f);
  p = MADD(p, r, wasm_f32x4_splat(1.3981999507e-3f));
  p = MADD(p, r, wasm_f32x4_splat(8.3334519073e-3f));
  p = MADD(p, r, wasm_f32x4_splat(4.1665795894e-2f));
  p = MADD(p, r, wasm_f32x4_splat(1.6666665459e-1f));
  p = MADD(p, r, wasm_f32x4_splat(5.0000001201e-1f));
  p = wasm_f32x4_add(MADD(p, z, r), wasm_f32x4_splat(1.0f));
  /* t's bits are 0x4B400000 + n; shifted left by 23, the 0x4B400000 part leaves the word: (n + 127) << 23. */
  v128_t pow2n = wasm_i32x4_shl(wasm_i32x4_add(t, wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(p, pow2n);
}

/* ln(x) for positive normal x (Cephes' logf), multiply-adds fused in the FMA build. */
INLINE v128_t vlog_fused(v128_t x) {
  v128_t e = wasm_i32x4_sub(wasm_u32x4_shr(x, 23), wasm_i32x4_splat(127));
  v128_t m = wasm_v128_or(wasm_v128_and(x, wasm_i32x4_splat(0x007fffff)), wasm_i32x4_splat(0x3f800000));
  v128_t big = wasm_f32x4_gt(m, wasm_f32x4_splat(1.41421356237309505f));
  m = wasm_v128_bitselect(wasm_f32x4_mul(m, wasm_f32x4_splat(0.5f)), m, big);
  v128_t ef = wasm_f32x4_convert_i32x4(wasm_i32x4_sub(e, big));
  v128_t r = wasm_f32x4_sub(m, wasm_f32x4_splat(1.0f));
  v128_t z = wasm_f32x4_mul(r, r);
  v128_t p = wasm_f32x4_splat(7.0376836292e-2f);
  p = MADD(p, r, wasm_f32x4_splat(-1.151461031e-1f));
  p = MADD(p, r, wasm_f32x4_splat(1.167699874e-1f));
  p = MADD(p, r, wasm_f32x4_splat(-1.2420140846e-1f));
  p = MADD(p, r, wasm_f32x4_splat(1.4249322787e-1f));
  p = MADD(p, r, wasm_f32x4_splat(-1.6668057665e-1f));
  p = MADD(p, r, wasm_f32x4_splat(2.0000714765e-1f));
  p = MADD(p, r, wasm_f32x4_splat(-2.4999993993e-1f));
  p = MADD(p, r, wasm_f32x4_splat(3.3333331174e-1f));
  v128_t y = wasm_f32x4_mul(wasm_f32x4_mul(p, r), z);
  y = MADD(ef, wasm_f32x4_splat(-2.12194440e-4f), y);
  y = wasm_f32x4_sub(y, wasm_f32x4_mul(z, wasm_f32x4_splat(0.5f)));
  return MADD(ef, wasm_f32x4_splat(0.693359375f), wasm_f32x4_add(r, y));
}

#define CLIP_LO 1.00000001168609742e-07f
#define CLIP_HI 0.99999988079071045f

EXPORT(bceLogits)
double bceLogits(const float *zp, const float *tp, float *dzp, int i0, int i1, float invN, float capP, float cap1mP) {
  v128_t acc0 = wasm_f64x2_splat(0), acc1 = wasm_f64x2_splat(0);
  v128_t inv = wasm_f32x4_splat(invN), one = wasm_f32x4_splat(1.0f), zero = wasm_f32x4_splat(0.0f);
  int i = i0;
  for (; i + 4 <= i1; i += 4) {
    v128_t zv = wasm_v128_load(zp + i), tv = wasm_v128_load(tp + i);
    v128_t e = vexp_fused(wasm_f32x4_sub(zero, wasm_f32x4_pmin(wasm_f32x4_abs(zv), wasm_f32x4_splat(87.0f))));
    v128_t r = wasm_f32x4_div(e, wasm_f32x4_add(one, e));
    v128_t s = wasm_v128_bitselect(wasm_f32x4_sub(one, r), r, wasm_f32x4_ge(zv, zero));
    v128_t inside = wasm_v128_and(wasm_f32x4_ge(s, wasm_f32x4_splat(CLIP_LO)), wasm_f32x4_le(s, wasm_f32x4_splat(CLIP_HI)));
    wasm_v128_store(dzp + i, wasm_v128_and(wasm_f32x4_mul(wasm_f32x4_sub(s, tv), inv), inside));
    v128_t l = vlog_fused(wasm_f32x4_add(one, e));
    v128_t a = wasm_f32x4_pmin(wasm_f32x4_add(wasm_f32x4_pmax(zv, zero), l), wasm_f32x4_splat(cap1mP));
    v128_t b = wasm_f32x4_pmin(wasm_f32x4_add(wasm_f32x4_pmax(wasm_f32x4_sub(zero, zv), zero), l), wasm_f32x4_splat(capP));
    v128_t term = MADD(wasm_f32x4_sub(b, a), tv, a);
    acc0 = wasm_f64x2_add(acc0, wasm_f64x2_promote_low_f32x4(term));
    acc1 = wasm_f64x2_add(acc1, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(term, term, 2, 3, 2, 3)));
  }
  v128_t acc = wasm_f64x2_add(acc0, acc1);
  double sum = wasm_f64x2_extract_lane(acc, 0) + wasm_f64x2_extract_lane(acc, 1);
  for (; i < i1; i++) {
    /* The remainder (at most 3 values), through the same vector code on one lane. */
    float zs = zp[i], ts = tp[i];
    v128_t zv = wasm_f32x4_splat(zs), tv = wasm_f32x4_splat(ts);
    v128_t e = vexp_fused(wasm_f32x4_sub(zero, wasm_f32x4_pmin(wasm_f32x4_abs(zv), wasm_f32x4_splat(87.0f))));
    v128_t r = wasm_f32x4_div(e, wasm_f32x4_add(one, e));
    v128_t s = wasm_v128_bitselect(wasm_f32x4_sub(one, r), r, wasm_f32x4_ge(zv, zero));
    v128_t inside = wasm_v128_and(wasm_f32x4_ge(s, wasm_f32x4_splat(CLIP_LO)), wasm_f32x4_le(s, wasm_f32x4_splat(CLIP_HI)));
    dzp[i] = wasm_f32x4_extract_lane(wasm_v128_and(wasm_f32x4_mul(wasm_f32x4_sub(s, tv), inv), inside), 0);
    v128_t l = vlog_fused(wasm_f32x4_add(one, e));
    v128_t a = wasm_f32x4_pmin(wasm_f32x4_add(wasm_f32x4_pmax(zv, zero), l), wasm_f32x4_splat(cap1mP));
    v128_t b = wasm_f32x4_pmin(wasm_f32x4_add(wasm_f32x4_pmax(wasm_f32x4_sub(zero, zv), zero), l), wasm_f32x4_splat(capP));
    sum += wasm_f32x4_extract_lane(MADD(wasm_f32x4_sub(b, a), tv, a), 0);
  }
  return sum;
}
