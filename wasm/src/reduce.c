// Reductions over axes: sum (accumulated in double, as the reference) and max (NaN wins, as in
// PyTorch). The caller splits the input's axes into kept ones (the output's, in order) and
// reduced ones, each set coalesced. Threads split the output elements, so each output is
// reduced by one thread in one order whatever the thread count.
#include "eltwise.h"

enum { R_SUM, R_MAX };

/** Reduce `n` elements at stride `s` into the running result (double sum or float max). */
static void reduce_run(int op, const float* x, int64_t n, int64_t s, double* acc) {
  int64_t i = 0;
  if (op == R_SUM) {
    double t = *acc;
    if (s == 1) {
      // Two double lanes per half-vector; their sum is added at the end of the run.
      v128_t a0 = wasm_f64x2_splat(0.0), a1 = a0;
      for (; i + 4 <= n; i += 4) {
        const v128_t v = wasm_v128_load(x + i);
        a0 = wasm_f64x2_add(a0, wasm_f64x2_promote_low_f32x4(v));
        a1 = wasm_f64x2_add(a1, wasm_f64x2_promote_low_f32x4(wasm_i64x2_shuffle(v, v, 1, 0)));
      }
      const v128_t a = wasm_f64x2_add(a0, a1);
      t += wasm_f64x2_extract_lane(a, 0) + wasm_f64x2_extract_lane(a, 1);
    }
    for (; i < n; i++) t += x[i * s];
    *acc = t;
    return;
  }
  float best = (float)*acc;
  if (s == 1 && n >= 4) {
    v128_t b = wasm_f32x4_splat(best);
    for (; i + 4 <= n; i += 4) {
      const v128_t v = wasm_v128_load(x + i);
      b = wasm_v128_bitselect(v, b, wasm_v128_or(wasm_f32x4_gt(v, b), wasm_f32x4_ne(v, v)));
    }
    float lanes[4];
    wasm_v128_store(lanes, b);
    for (int l = 0; l < 4; l++)
      if (lanes[l] > best || lanes[l] != lanes[l]) best = lanes[l];
  }
  for (; i < n; i++) {
    const float v = x[i * s];
    if (v > best || v != v) best = v;
  }
  *acc = best;
}

typedef struct {
  int op;
  const float* x;
  double* acc;
} RunCtx;

static void run_row(const void* vctx, int64_t o, int64_t n, const int64_t* off,
                    const int32_t* inner) {
  const RunCtx* c = vctx;
  (void)o;
  reduce_run(c->op, c->x + off[0], n, inner[0], c->acc);
}

/** The initial value of a reduction: 0 for a sum, −inf for a max. */
static inline double reduce_init(int op) { return op == R_SUM ? 0.0 : -__builtin_inf(); }

/** Output elements [lo, hi), one reduced block each (blocks whose rows are contiguous, or any). */
static void reduce_blocks(int op, int nk, const int32_t* kshape, const int32_t* kstrides, int nr,
                          const int32_t* rshape, const int32_t* rstrides, const float* x,
                          float* out, int64_t lo, int64_t hi) {
  const int64_t rn = tsg_numel(nr, rshape);
  int64_t idx[TSG_MAX_RANK] = {0};
  int64_t rest = lo, base = 0;
  for (int d = nk - 1; d >= 0; d--) {
    idx[d] = rest % kshape[d];
    rest /= kshape[d];
    base += idx[d] * kstrides[d];
  }
  for (int64_t o = lo; o < hi; o++) {
    double acc = reduce_init(op);
    if (nr == 1) {
      reduce_run(op, x + base, rshape[0], rstrides[0], &acc);
    } else {
      const RunCtx c = {op, x + base, &acc};
      tsg_walk(nr, rshape, 1, rstrides, 0, rn, run_row, &c);
    }
    out[o] = (float)acc;
    for (int d = nk - 1; d >= 0; d--) {
      base += kstrides[d];
      if (++idx[d] < kshape[d]) break;
      base -= (int64_t)kshape[d] * kstrides[d];
      idx[d] = 0;
    }
  }
}

#define COLS 64

typedef struct {
  int op;
  const float* x;
  int64_t n;
  double* acc;
} ColsCtx;

/** Fold one run of the reduced block into COLS (or fewer) adjacent outputs' accumulators. */
static void cols_row(const void* vctx, int64_t o, int64_t n, const int64_t* off,
                     const int32_t* inner) {
  const ColsCtx* c = vctx;
  (void)o;
  for (int64_t r = 0; r < n; r++) {
    const float* x = c->x + off[0] + r * inner[0];
    double* acc = c->acc;
    int64_t j = 0;
    if (c->op == R_SUM) {
      for (; j + 4 <= c->n; j += 4) {
        const v128_t v = wasm_v128_load(x + j);
        wasm_v128_store(acc + j,
                        wasm_f64x2_add(wasm_v128_load(acc + j), wasm_f64x2_promote_low_f32x4(v)));
        wasm_v128_store(acc + j + 2, wasm_f64x2_add(wasm_v128_load(acc + j + 2),
                                                    wasm_f64x2_promote_low_f32x4(
                                                        wasm_i64x2_shuffle(v, v, 1, 0))));
      }
      for (; j < c->n; j++) acc[j] += x[j];
    } else {
      for (; j < c->n; j++) {
        const float v = x[j];
        if (v > acc[j] || v != v) acc[j] = v;
      }
    }
  }
}

/**
 * Output elements [lo, hi) when the outputs are adjacent in memory along the innermost kept axis
 * (stride 1) and the reduced axes are outer (a bias gradient: sum over the batch): COLS outputs at
 * a time, each reduced block walked once for all of them, in the reference's order per output.
 */
static void reduce_cols(int op, int nk, const int32_t* kshape, const int32_t* kstrides, int nr,
                        const int32_t* rshape, const int32_t* rstrides, const float* x,
                        float* out, int64_t lo, int64_t hi) {
  const int64_t rn = tsg_numel(nr, rshape);
  const int64_t w = kshape[nk - 1];
  double acc[COLS];
  for (int64_t o = lo; o < hi;) {
    // Offset of output o in x, and how many adjacent outputs follow it in the same kept row.
    int64_t rest = o, base = 0;
    for (int d = nk - 1; d >= 0; d--) {
      base += (rest % kshape[d]) * kstrides[d];
      rest /= kshape[d];
    }
    const int64_t n = tsg_min64(tsg_min64(COLS, w - o % w), hi - o);
    for (int64_t j = 0; j < n; j++) acc[j] = reduce_init(op);
    const ColsCtx c = {op, x + base, n, acc};
    tsg_walk(nr, rshape, 1, rstrides, 0, rn, cols_row, &c);
    for (int64_t j = 0; j < n; j++) out[o + j] = (float)acc[j];
    o += n;
  }
}

/**
 * out[k] = reduce over the block of x that output k covers; kept axes kshape/kstrides (nk may be
 * 0: one output), reduced axes rshape/rstrides (nr >= 1, no empty axis).
 */
void TSG_EXPORT(reduce)(int op, int nk, const int32_t* kshape, const int32_t* kstrides, int nr,
                        const int32_t* rshape, const int32_t* rstrides, const float* x,
                        float* out, int tid, int nthreads) {
  int64_t lo, hi;
  tsg_share(tsg_numel(nk, kshape), tid, nthreads, &lo, &hi);
  if (nk > 0 && kstrides[nk - 1] == 1 && rstrides[nr - 1] != 1) {
    reduce_cols(op, nk, kshape, kstrides, nr, rshape, rstrides, x, out, lo, hi);
  } else {
    reduce_blocks(op, nk, kshape, kstrides, nr, rshape, rstrides, x, out, lo, hi);
  }
}
