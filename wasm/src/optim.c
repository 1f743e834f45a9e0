// Fused in-place optimizer updates over float32 parameters: SGD (momentum, dampening, Nesterov),
// Adam / AdamW (AMSGrad) and RMSprop. Each follows the JS reference loop (src/optim/kernels.ts)
// operation by operation in double precision, storing a state buffer to float32 before reading
// it back as the reference does, so the results are the reference's to the bit: IEEE double
// arithmetic (+, ×, ÷, √) rounds the same in both, and no multiply-add is fused here. Two
// elements at a time in f64x2 lanes. Threads take contiguous element ranges.
#include "common.h"

// Never fuse a multiply and an add into one rounding: the reference rounds each.
#pragma clang fp contract(off)

/** Two floats at p, widened to doubles. */
static inline v128_t load2(const float* p) {
  return wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(p));
}

/** Round two doubles to float32, store them at p, and return the stored values as doubles. */
static inline v128_t store2(float* p, v128_t v) {
  const v128_t f = wasm_f32x4_demote_f64x2_zero(v);
  wasm_v128_store64_lane(p, f, 0);
  return wasm_f64x2_promote_low_f32x4(f);
}

static inline v128_t D(double x) { return wasm_f64x2_splat(x); }

/** The flags word shared by the exports. */
enum { F_MAXIMIZE = 1, F_NESTEROV = 2, F_INIT = 4, F_DECOUPLED = 8 };

/**
 * The gradient term d of element pair i: −g under maximize, plus wd·p when wd is not 0 (the
 * reference's `if (wd !== 0)`: adding 0·p would turn an infinite p into NaN).
 */
static inline v128_t decayed(const float* g, const float* p, int64_t i, int maximize, double wd) {
  v128_t d = load2(g + i);
  if (maximize) d = wasm_f64x2_neg(d);
  if (wd != 0) d = wasm_f64x2_add(d, wasm_f64x2_mul(D(wd), load2(p + i)));
  return d;
}

/** Elements [lo, hi) of this thread, in whole pairs except for the last range's end. */
static void pair_share(int64_t n, int tid, int nthreads, int64_t* lo, int64_t* hi) {
  const int64_t pairs = (n + 1) / 2;
  tsg_share(pairs, tid, nthreads, lo, hi);
  *lo *= 2;
  *hi = tsg_min64(*hi * 2, n);
}

/**
 * SGD: p += −lr·(nesterov ? d + momentum·buf : buf) with buf = init ? d : momentum·buf + keep·d
 * (keep = 1 − dampening), or p += −lr·d without momentum (buf null).
 */
void TSG_EXPORT(optim_sgd)(float* p, const float* g, float* buf, int32_t n, double lr,
                           double momentum, double keep, double wd, int flags, int tid,
                           int nthreads) {
  int64_t lo, hi;
  pair_share(n, tid, nthreads, &lo, &hi);
  const int maximize = flags & F_MAXIMIZE, nesterov = flags & F_NESTEROV, init = flags & F_INIT;
  for (int64_t i = lo; i < hi; i += 2) {
    if (i + 1 == hi && (hi - lo) % 2) {
      // A last odd element: scalar, the same operations.
      double d = g[i];
      if (maximize) d = -d;
      if (wd != 0) d += wd * (double)p[i];
      if (!buf) {
        p[i] = (float)(p[i] + -lr * d);
        break;
      }
      buf[i] = (float)(init ? d : buf[i] * momentum + keep * d);
      const double b = buf[i];
      p[i] = (float)(p[i] + -lr * (nesterov ? d + momentum * b : b));
      break;
    }
    const v128_t d = decayed(g, p, i, maximize, wd);
    v128_t step = d;
    if (buf) {
      const v128_t nb = init ? d
                             : wasm_f64x2_add(wasm_f64x2_mul(load2(buf + i), D(momentum)),
                                              wasm_f64x2_mul(D(keep), d));
      const v128_t b = store2(buf + i, nb);
      step = nesterov ? wasm_f64x2_add(d, wasm_f64x2_mul(D(momentum), b)) : b;
    }
    store2(p + i, wasm_f64x2_add(load2(p + i), wasm_f64x2_mul(D(-lr), step)));
  }
}

/** One Adam element pair (after AdamW's shrink): moments, AMSGrad's maximum, the step. */
static inline void adam_pair(float* p, const float* g, float* m, float* v, float* vmax, int64_t i,
                             double shrink, double neg_step, double bc2, double beta1,
                             double beta2, double c1, double c2, double eps, double wd,
                             int flags) {
  v128_t pv = load2(p + i);
  if ((flags & F_DECOUPLED) && shrink != 1) pv = store2(p + i, wasm_f64x2_mul(pv, D(shrink)));
  v128_t gi = load2(g + i);
  if (flags & F_MAXIMIZE) gi = wasm_f64x2_neg(gi);
  if (!(flags & F_DECOUPLED) && wd != 0) gi = wasm_f64x2_add(gi, wasm_f64x2_mul(D(wd), pv));
  const v128_t mi = store2(
      m + i, wasm_f64x2_add(wasm_f64x2_mul(load2(m + i), D(beta1)), wasm_f64x2_mul(D(c1), gi)));
  // c2·g·g multiplies left to right, as the reference's `c2 * gi * gi`.
  v128_t second = store2(v + i, wasm_f64x2_add(wasm_f64x2_mul(load2(v + i), D(beta2)),
                                               wasm_f64x2_mul(wasm_f64x2_mul(D(c2), gi), gi)));
  if (vmax) {
    const v128_t old = load2(vmax + i);
    second = store2(vmax + i, wasm_v128_bitselect(second, old, wasm_f64x2_gt(second, old)));
  }
  const v128_t denom = wasm_f64x2_add(wasm_f64x2_div(wasm_f64x2_sqrt(second), D(bc2)), D(eps));
  store2(p + i, wasm_f64x2_add(pv, wasm_f64x2_mul(D(neg_step), wasm_f64x2_div(mi, denom))));
}

/**
 * Adam / AdamW: m = β1·m + (1 − β1)·g, v = β2·v + (1 − β2)·g², AMSGrad's running maximum of v when
 * vmax is not null, p += −stepSize·m/(√v/bc2 + eps); AdamW first scales p by shrink = 1 − lr·wd.
 * stepSize = lr/(1 − β1^t) and bc2 = √(1 − β2^t) come from the caller, computed as the reference.
 */
void TSG_EXPORT(optim_adam)(float* p, const float* g, float* m, float* v, float* vmax, int32_t n,
                            double shrink, double step_size, double bc2, double beta1,
                            double beta2, double c1, double c2, double eps, double wd, int flags,
                            int tid, int nthreads) {
  int64_t lo, hi;
  pair_share(n, tid, nthreads, &lo, &hi);
  int64_t i = lo;
  for (; i + 2 <= hi; i += 2) {
    adam_pair(p, g, m, v, vmax, i, shrink, -step_size, bc2, beta1, beta2, c1, c2, eps, wd, flags);
  }
  if (i < hi) {
    // The odd last element, through two-float scratch (its second lane is a dummy zero).
    float sp[2] = {p[i], 0}, sg[2] = {g[i], 0}, sm[2] = {m[i], 0}, sv[2] = {v[i], 0};
    float sx[2] = {vmax ? vmax[i] : 0, 0};
    adam_pair(sp, sg, sm, sv, vmax ? sx : 0, 0, shrink, -step_size, bc2, beta1, beta2, c1, c2,
              eps, wd, flags);
    p[i] = sp[0];
    m[i] = sm[0];
    v[i] = sv[0];
    if (vmax) vmax[i] = sx[0];
  }
}

/**
 * RMSprop: sq = α·sq + (1 − α)·g²; centered: ga = α·ga + (1 − α)·g and avg = √(sq − ga²) + eps,
 * else avg = √sq + eps; with momentum buf = momentum·buf + g/avg and p += −lr·buf, else
 * p += −lr·g/avg. ga and buf may be null.
 */
void TSG_EXPORT(optim_rmsprop)(float* p, const float* g, float* sq, float* ga, float* buf,
                               int32_t n, double lr, double alpha, double c, double eps, double wd,
                               double momentum, int flags, int tid, int nthreads) {
  int64_t lo, hi;
  tsg_share(n, tid, nthreads, &lo, &hi);
  const int maximize = flags & F_MAXIMIZE;
  for (int64_t i = lo; i < hi; i++) {
    double gi = g[i];
    if (maximize) gi = -gi;
    if (wd != 0) gi += wd * (double)p[i];
    sq[i] = (float)(sq[i] * alpha + c * gi * gi);
    double avg;
    if (ga) {
      ga[i] = (float)(ga[i] * alpha + c * gi);
      const double a = ga[i];
      avg = __builtin_sqrt(sq[i] + -1 * a * a) + eps;
    } else {
      avg = __builtin_sqrt((double)sq[i]) + eps;
    }
    if (buf) {
      buf[i] = (float)(buf[i] * momentum + gi / avg);
      p[i] = (float)(p[i] + -lr * (double)buf[i]);
    } else {
      p[i] = (float)(p[i] + -lr * (gi / avg));
    }
  }
}
