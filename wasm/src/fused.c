// Fused kernels for composite ops (src/ops/fused.ts), forward and backward: softmax and
// logSoftmax along any axis, layer normalisation, LRN across channels, GELU (erf and tanh forms)
// and ReLU's backward; plus a strided 2-D copy the JS side uses for transposes. Operands are
// dense (the JS side gathers strided views first). Each follows its composition's formula, so
// special values come out as the composition's do (a softmax row holding NaN or +inf is NaN
// throughout; −inf entries are masked to 0). Threads split rows or elements, never a sum.
#include "math.h"

// ------------------------------------------------------------------ softmax, logSoftmax

/** Max of n floats (NaN if any is NaN, as amax). */
static float row_max(const float* x, int64_t n) {
  v128_t m = TSG_F(-__builtin_inff());
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t v = wasm_v128_load(x + i);
    m = wasm_v128_bitselect(v, m, wasm_v128_or(wasm_f32x4_gt(v, m), wasm_f32x4_ne(v, v)));
  }
  float lanes[4], best = -__builtin_inff();
  wasm_v128_store(lanes, m);
  for (int l = 0; l < 4; l++)
    if (lanes[l] > best || lanes[l] != lanes[l]) best = lanes[l];
  for (; i < n; i++)
    if (x[i] > best || x[i] != x[i]) best = x[i];
  return best;
}

/** Σ e^(x − shift) over n floats, storing each term to e when e is not null. */
static float row_exp_sum(const float* x, int64_t n, float shift, float* e) {
  const v128_t s = TSG_F(shift);
  v128_t a0 = TSG_F(0.f), a1 = a0;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const v128_t e0 = tsg_exp(wasm_f32x4_sub(wasm_v128_load(x + i), s));
    const v128_t e1 = tsg_exp(wasm_f32x4_sub(wasm_v128_load(x + i + 4), s));
    if (e) {
      wasm_v128_store(e + i, e0);
      wasm_v128_store(e + i + 4, e1);
    }
    a0 = wasm_f32x4_add(a0, e0);
    a1 = wasm_f32x4_add(a1, e1);
  }
  for (; i + 4 <= n; i += 4) {
    const v128_t e0 = tsg_exp(wasm_f32x4_sub(wasm_v128_load(x + i), s));
    if (e) wasm_v128_store(e + i, e0);
    a0 = wasm_f32x4_add(a0, e0);
  }
  a0 = wasm_f32x4_add(a0, a1);
  float total = wasm_f32x4_extract_lane(a0, 0) + wasm_f32x4_extract_lane(a0, 1) +
                wasm_f32x4_extract_lane(a0, 2) + wasm_f32x4_extract_lane(a0, 3);
  for (; i < n; i++) {
    const float v = tsg_exp1(x[i] - shift);
    if (e) e[i] = v;
    total += v;
  }
  return total;
}

/**
 * One contiguous row. softmax: e = exp(x − max), y = e / Σe. logSoftmax: y = x − (log Σ exp(x −
 * m) + m), with m = max, or 0 where the max is infinite (the composition's logsumexp).
 */
static void softmax_row(int log, const float* x, float* y, int64_t n) {
  const float m = row_max(x, n);
  if (log) {
    // (x - m) - log Σ e^(x - m), as the composition (and PyTorch): a row holding +inf, or only
    // -inf, is NaN throughout.
    const float lse = tsg_log1(row_exp_sum(x, n, m, 0));
    const v128_t mv = TSG_F(m), l = TSG_F(lse);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
      wasm_v128_store(y + i, wasm_f32x4_sub(wasm_f32x4_sub(wasm_v128_load(x + i), mv), l));
    }
    for (; i < n; i++) y[i] = (x[i] - m) - lse;
    return;
  }
  const float s = row_exp_sum(x, n, m, y);
  const v128_t sv = TSG_F(s);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, wasm_f32x4_div(wasm_v128_load(y + i), sv));
  for (; i < n; i++) y[i] = y[i] / s;
}

/** Four adjacent columns of a [len, inner] block (column stride 1, row stride inner). */
static void softmax_cols(int log, const float* x, float* y, int64_t len, int64_t inner) {
  v128_t m = TSG_F(-__builtin_inff());
  for (int64_t k = 0; k < len; k++) {
    const v128_t v = wasm_v128_load(x + k * inner);
    m = wasm_v128_bitselect(v, m, wasm_v128_or(wasm_f32x4_gt(v, m), wasm_f32x4_ne(v, v)));
  }
  v128_t s = TSG_F(0.f);
  for (int64_t k = 0; k < len; k++) {
    const v128_t e = tsg_exp(wasm_f32x4_sub(wasm_v128_load(x + k * inner), m));
    if (!log) wasm_v128_store(y + k * inner, e);
    s = wasm_f32x4_add(s, e);
  }
  if (log) {
    const v128_t lse = tsg_log(s);
    for (int64_t k = 0; k < len; k++) {
      const v128_t d = wasm_f32x4_sub(wasm_v128_load(x + k * inner), m);
      wasm_v128_store(y + k * inner, wasm_f32x4_sub(d, lse));
    }
  } else {
    for (int64_t k = 0; k < len; k++)
      wasm_v128_store(y + k * inner, wasm_f32x4_div(wasm_v128_load(y + k * inner), s));
  }
}

/** One column of a [len, inner] block: copied into a row, done as a row, copied back. */
static void softmax_col(int log, const float* x, float* y, int64_t len, int64_t inner,
                        float* row) {
  for (int64_t k = 0; k < len; k++) row[k] = x[k * inner];
  softmax_row(log, row, row, len);
  for (int64_t k = 0; k < len; k++) y[k * inner] = row[k];
}

/** Column chunks of a [len, inner] block per unit of work when inner > 1. */
#define COL_CHUNK 64

/**
 * y = (log)softmax of x along the middle axis of a dense [outer, len, inner] array. Threads split
 * rows (inner = 1) or chunks of COL_CHUNK columns; `row` is len floats of scratch per thread
 * (for the columns left over from the four-lane chunks).
 */
void TSG_EXPORT(softmax)(int log, int32_t outer, int32_t len, int32_t inner, const float* x,
                         float* y, float* row, int tid, int nthreads) {
  if (inner == 1) {
    int64_t lo, hi;
    tsg_share(outer, tid, nthreads, &lo, &hi);
    for (int64_t o = lo; o < hi; o++) softmax_row(log, x + o * len, y + o * len, len);
    return;
  }
  row += (int64_t)tid * len;
  const int64_t chunks = (inner + COL_CHUNK - 1) / COL_CHUNK;
  int64_t lo, hi;
  tsg_share((int64_t)outer * chunks, tid, nthreads, &lo, &hi);
  for (int64_t u = lo; u < hi; u++) {
    const int64_t o = u / chunks, c0 = (u % chunks) * COL_CHUNK;
    const int64_t c1 = tsg_min64(c0 + COL_CHUNK, inner);
    const float* xb = x + o * len * inner;
    float* yb = y + o * len * inner;
    int64_t c = c0;
    for (; c + 4 <= c1; c += 4) softmax_cols(log, xb + c, yb + c, len, inner);
    for (; c < c1; c++) softmax_col(log, xb + c, yb + c, len, inner, row);
  }
}

/**
 * One row of the backward pass: softmax dx = y·(g − Σ g·y); logSoftmax dx = g − e^y·Σ g. Rows of
 * a [len, inner] block are read at stride `inner`.
 */
static void softmax_back_row(int log, const float* y, const float* g, float* dx, int64_t n,
                             int64_t s) {
  float dot = 0.f;
  if (log) {
    for (int64_t k = 0; k < n; k++) dot += g[k * s];
    for (int64_t k = 0; k < n; k++) dx[k * s] = g[k * s] - tsg_exp1(y[k * s]) * dot;
  } else {
    for (int64_t k = 0; k < n; k++) dot += g[k * s] * y[k * s];
    for (int64_t k = 0; k < n; k++) dx[k * s] = y[k * s] * (g[k * s] - dot);
  }
}

/** The contiguous-row form of softmax_back_row, four lanes at a time. */
static void softmax_back_dense(int log, const float* y, const float* g, float* dx, int64_t n) {
  v128_t acc = TSG_F(0.f);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t gv = wasm_v128_load(g + i);
    acc = wasm_f32x4_add(acc, log ? gv : wasm_f32x4_mul(gv, wasm_v128_load(y + i)));
  }
  float dot = wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1) +
              wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3);
  for (int64_t k = i; k < n; k++) dot += log ? g[k] : g[k] * y[k];
  const v128_t d = TSG_F(dot);
  i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t gv = wasm_v128_load(g + i), yv = wasm_v128_load(y + i);
    wasm_v128_store(dx + i, log ? wasm_f32x4_sub(gv, wasm_f32x4_mul(tsg_exp(yv), d))
                                : wasm_f32x4_mul(yv, wasm_f32x4_sub(gv, d)));
  }
  for (; i < n; i++) dx[i] = log ? g[i] - tsg_exp1(y[i]) * dot : y[i] * (g[i] - dot);
}

/** dx from the forward's output y and its cotangent g, dense [outer, len, inner]. */
void TSG_EXPORT(softmax_backward)(int log, int32_t outer, int32_t len, int32_t inner,
                                  const float* y, const float* g, float* dx, int tid,
                                  int nthreads) {
  int64_t lo, hi;
  tsg_share((int64_t)outer * inner, tid, nthreads, &lo, &hi);
  for (int64_t r = lo; r < hi; r++) {
    const int64_t base = (r / inner) * len * inner + r % inner;
    if (inner == 1) softmax_back_dense(log, y + base, g + base, dx + base, len);
    else softmax_back_row(log, y + base, g + base, dx + base, len, inner);
  }
}

// ------------------------------------------------------------------ layer normalisation

/**
 * y = (x − mean)/√(var + eps)·w + b over rows of d (biased variance; w, b may be null); the
 * row's mean and 1/√(var + eps) are kept for the backward pass. Sums are in double.
 */
void TSG_EXPORT(layer_norm)(int32_t rows, int32_t d, const float* x, const float* w,
                            const float* b, float eps, float* y, float* mean, float* rstd,
                            int tid, int nthreads) {
  int64_t lo, hi;
  tsg_share(rows, tid, nthreads, &lo, &hi);
  for (int64_t r = lo; r < hi; r++) {
    const float* xr = x + r * d;
    float* yr = y + r * d;
    double s = 0;
    for (int64_t i = 0; i < d; i++) s += xr[i];
    const float mu = (float)(s / d);
    double v = 0;
    for (int64_t i = 0; i < d; i++) {
      const float c = xr[i] - mu;
      v += c * c;
    }
    const float rs = 1.f / __builtin_sqrtf((float)(v / d) + eps);
    mean[r] = mu;
    rstd[r] = rs;
    for (int64_t i = 0; i < d; i++) {
      float t = (xr[i] - mu) * rs;
      if (w) t *= w[i];
      if (b) t += b[i];
      yr[i] = t;
    }
  }
}

/**
 * dx over rows: with x̂ = (x − mean)·rstd and ĝ = g·w (or g), dx = rstd·(ĝ − mean(ĝ) −
 * x̂·mean(ĝ·x̂)).
 */
void TSG_EXPORT(layer_norm_backward)(int32_t rows, int32_t d, const float* x, const float* w,
                                     const float* mean, const float* rstd, const float* g,
                                     float* dx, int tid, int nthreads) {
  int64_t lo, hi;
  tsg_share(rows, tid, nthreads, &lo, &hi);
  for (int64_t r = lo; r < hi; r++) {
    const float* xr = x + r * d;
    const float* gr = g + r * d;
    const float mu = mean[r], rs = rstd[r];
    double sg = 0, sgx = 0;
    for (int64_t i = 0; i < d; i++) {
      const float gh = w ? gr[i] * w[i] : gr[i];
      sg += gh;
      sgx += gh * ((xr[i] - mu) * rs);
    }
    const float mg = (float)(sg / d), mgx = (float)(sgx / d);
    for (int64_t i = 0; i < d; i++) {
      const float gh = w ? gr[i] * w[i] : gr[i];
      dx[r * d + i] = rs * (gh - mg - (xr[i] - mu) * rs * mgx);
    }
  }
}

/** dw = Σ_rows g·x̂ and db = Σ_rows g (either may be null); threads split the columns. */
void TSG_EXPORT(layer_norm_params_backward)(int32_t rows, int32_t d, const float* x,
                                            const float* mean, const float* rstd, const float* g,
                                            float* dw, float* db, int tid, int nthreads) {
  int64_t lo, hi;
  tsg_share(d, tid, nthreads, &lo, &hi);
  for (int64_t i = lo; i < hi; i++) {
    double sw = 0, sb = 0;
    for (int64_t r = 0; r < rows; r++) {
      const float gv = g[r * d + i];
      sw += gv * ((x[r * d + i] - mean[r]) * rstd[r]);
      sb += gv;
    }
    if (dw) dw[i] = (float)sw;
    if (db) db[i] = (float)sb;
  }
}

// ------------------------------------------------------------------ LRN across channels
//
//   scale_c = k + α/n · Σ_{c' ∈ win(c)} x_{c'}²        y_c = x_c · scale_c^(−β)
//   dx_c = g_c · scale_c^(−β) − (2αβ/n) · x_c · Σ_{c' : c ∈ win(c')} g_{c'} · y_{c'} / scale_{c'}
//
// The window of channel c is [c − ⌊n/2⌋, c + ⌊(n−1)/2⌋], as the composition pads the channels.

/** s^(−β) for s > 0: two square roots for AlexNet's β = 0.75, else exp(−β·ln s). */
static inline v128_t pow_neg(v128_t s, float beta) {
  if (beta == 0.75f) {
    const v128_t r = wasm_f32x4_sqrt(s);
    return wasm_f32x4_div(TSG_F(1.f), wasm_f32x4_mul(r, wasm_f32x4_sqrt(r)));
  }
  return tsg_exp(wasm_f32x4_mul(TSG_F(-beta), tsg_log(s)));
}

/** Plane c (S elements) of sample n's channels xn: window [j0, j1] of channels. */
static void lrn_plane(const float* xn, int64_t S, int64_t c, int64_t j0, int64_t j1, float a,
                      float k, float beta, float* scale, float* y) {
  int64_t q = 0;
  for (; q + 4 <= S; q += 4) {
    v128_t s = TSG_F(0.f);
    for (int64_t j = j0; j <= j1; j++) {
      const v128_t v = wasm_v128_load(xn + j * S + q);
      s = wasm_f32x4_add(s, wasm_f32x4_mul(v, v));
    }
    const v128_t sc = wasm_f32x4_add(TSG_F(k), wasm_f32x4_mul(TSG_F(a), s));
    wasm_v128_store(scale + q, sc);
    wasm_v128_store(y + q, wasm_f32x4_mul(wasm_v128_load(xn + c * S + q), pow_neg(sc, beta)));
  }
  for (; q < S; q++) {
    float s = 0.f;
    for (int64_t j = j0; j <= j1; j++) s += xn[j * S + q] * xn[j * S + q];
    const float sc = k + a * s;
    scale[q] = sc;
    y[q] = xn[c * S + q] * wasm_f32x4_extract_lane(pow_neg(TSG_F(sc), beta), 0);
  }
}

/** LRN forward over dense [N, C, S]: y and the scale (kept for the backward pass). */
void TSG_EXPORT(lrn)(int32_t N, int32_t C, int32_t S, int32_t size, float alpha, float beta,
                     float k, const float* x, float* y, float* scale, int tid, int nthreads) {
  const int64_t lo_w = size / 2, hi_w = (size - 1) / 2;
  const float a = alpha / (float)size;
  int64_t lo, hi;
  tsg_share((int64_t)N * C, tid, nthreads, &lo, &hi);
  for (int64_t nc = lo; nc < hi; nc++) {
    const int64_t n = nc / C, c = nc % C;
    const int64_t j0 = c - lo_w < 0 ? 0 : c - lo_w, j1 = c + hi_w > C - 1 ? C - 1 : c + hi_w;
    lrn_plane(x + n * C * S, S, c, j0, j1, a, k, beta, scale + nc * S, y + nc * S);
  }
}

/** t = g·x·scale^(−β)/scale over elements [lo, hi) (the backward pass's per-element term). */
void TSG_EXPORT(lrn_backward_term)(int32_t total, float beta, const float* g, const float* x,
                                   const float* scale, float* t, int tid, int nthreads) {
  int64_t lo, hi;
  tsg_share(total, tid, nthreads, &lo, &hi);
  int64_t i = lo;
  for (; i + 4 <= hi; i += 4) {
    const v128_t sc = wasm_v128_load(scale + i);
    const v128_t gx = wasm_f32x4_mul(wasm_v128_load(g + i), wasm_v128_load(x + i));
    wasm_v128_store(t + i, wasm_f32x4_div(wasm_f32x4_mul(gx, pow_neg(sc, beta)), sc));
  }
  for (; i < hi; i++) {
    const float p = wasm_f32x4_extract_lane(pow_neg(TSG_F(scale[i]), beta), 0);
    t[i] = g[i] * x[i] * p / scale[i];
  }
}

/** dx per (n, c) plane from the term t of every channel (lrn_backward_term ran first). */
void TSG_EXPORT(lrn_backward)(int32_t N, int32_t C, int32_t S, int32_t size, float alpha,
                              float beta, const float* g, const float* x, const float* scale,
                              const float* t, float* dx, int tid, int nthreads) {
  const int64_t lo_w = size / 2, hi_w = (size - 1) / 2;
  const float coef = 2.f * alpha * beta / (float)size;
  int64_t lo, hi;
  tsg_share((int64_t)N * C, tid, nthreads, &lo, &hi);
  for (int64_t nc = lo; nc < hi; nc++) {
    const int64_t n = nc / C, c = nc % C;
    // Channels whose window holds c: [c − ⌊(n−1)/2⌋, c + ⌊n/2⌋].
    const int64_t j0 = c - hi_w < 0 ? 0 : c - hi_w, j1 = c + lo_w > C - 1 ? C - 1 : c + lo_w;
    const float* tn = t + n * C * S;
    const int64_t at = nc * S;
    for (int64_t q = 0; q < S; q++) {
      float s = 0.f;
      for (int64_t j = j0; j <= j1; j++) s += tn[j * S + q];
      const float p = wasm_f32x4_extract_lane(pow_neg(TSG_F(scale[at + q]), beta), 0);
      dx[at + q] = g[at + q] * p - coef * x[at + q] * s;
    }
  }
}

// ------------------------------------------------------------------ GELU, ReLU backward

#define SQRT1_2 0.70710678118654752f
#define SQRT2_PI 0.79788456080286536f /* √(2/π) */
#define INV_SQRT_2PI 0.39894228040143268f

/** GELU of four lanes: x·Φ(x) with erf, or the tanh form 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))). */
static inline v128_t gelu4(int tanh_form, v128_t x) {
  const v128_t half_x = wasm_f32x4_mul(x, TSG_F(0.5f));
  if (tanh_form) {
    const v128_t x3 = wasm_f32x4_mul(wasm_f32x4_mul(x, x), x);
    const v128_t u = wasm_f32x4_mul(wasm_f32x4_add(x, wasm_f32x4_mul(x3, TSG_F(0.044715f))),
                                    TSG_F(SQRT2_PI));
    return wasm_f32x4_mul(half_x, wasm_f32x4_add(tsg_tanh(u), TSG_F(1.f)));
  }
  return wasm_f32x4_mul(half_x,
                        wasm_f32x4_add(tsg_erf(wasm_f32x4_mul(x, TSG_F(SQRT1_2))), TSG_F(1.f)));
}

/** g · dGELU/dx for four lanes. */
static inline v128_t gelu_grad4(int tanh_form, v128_t x, v128_t g) {
  v128_t d;
  if (tanh_form) {
    const v128_t x2 = wasm_f32x4_mul(x, x);
    const v128_t u = wasm_f32x4_mul(
        wasm_f32x4_add(x, wasm_f32x4_mul(wasm_f32x4_mul(x2, x), TSG_F(0.044715f))),
        TSG_F(SQRT2_PI));
    const v128_t t = tsg_tanh(u);
    const v128_t du = wasm_f32x4_mul(
        TSG_F(SQRT2_PI), wasm_f32x4_add(TSG_F(1.f), wasm_f32x4_mul(x2, TSG_F(3.f * 0.044715f))));
    const v128_t sech2 = wasm_f32x4_sub(TSG_F(1.f), wasm_f32x4_mul(t, t));
    d = wasm_f32x4_add(
        wasm_f32x4_mul(TSG_F(0.5f), wasm_f32x4_add(t, TSG_F(1.f))),
        wasm_f32x4_mul(wasm_f32x4_mul(TSG_F(0.5f), x), wasm_f32x4_mul(sech2, du)));
  } else {
    const v128_t cdf = wasm_f32x4_mul(
        TSG_F(0.5f),
        wasm_f32x4_add(tsg_erf(wasm_f32x4_mul(x, TSG_F(SQRT1_2))), TSG_F(1.f)));
    const v128_t pdf = wasm_f32x4_mul(
        TSG_F(INV_SQRT_2PI), tsg_exp(wasm_f32x4_mul(wasm_f32x4_mul(x, x), TSG_F(-0.5f))));
    d = wasm_f32x4_add(cdf, wasm_f32x4_mul(x, pdf));
  }
  return wasm_f32x4_mul(g, d);
}

/** y = GELU(x) over n dense elements. */
void TSG_EXPORT(gelu)(int tanh_form, int32_t n, const float* x, float* y, int tid,
                      int nthreads) {
  int64_t lo, hi;
  tsg_share(n, tid, nthreads, &lo, &hi);
  int64_t i = lo;
  for (; i + 4 <= hi; i += 4) wasm_v128_store(y + i, gelu4(tanh_form, wasm_v128_load(x + i)));
  for (; i < hi; i++) y[i] = wasm_f32x4_extract_lane(gelu4(tanh_form, TSG_F(x[i])), 0);
}

/** dx = g · GELU'(x) over n dense elements. */
void TSG_EXPORT(gelu_backward)(int tanh_form, int32_t n, const float* x, const float* g,
                               float* dx, int tid, int nthreads) {
  int64_t lo, hi;
  tsg_share(n, tid, nthreads, &lo, &hi);
  int64_t i = lo;
  for (; i + 4 <= hi; i += 4) {
    wasm_v128_store(dx + i,
                    gelu_grad4(tanh_form, wasm_v128_load(x + i), wasm_v128_load(g + i)));
  }
  for (; i < hi; i++) {
    dx[i] = wasm_f32x4_extract_lane(gelu_grad4(tanh_form, TSG_F(x[i]), TSG_F(g[i])), 0);
  }
}

/**
 * dx = g·[y > 0] over n dense elements: a product, not a select, so that an infinite or NaN
 * cotangent where y ≤ 0 gives NaN as the composition's (y > 0)·g does.
 */
void TSG_EXPORT(relu_backward)(int32_t n, const float* y, const float* g, float* dx, int tid,
                               int nthreads) {
  int64_t lo, hi;
  tsg_share(n, tid, nthreads, &lo, &hi);
  int64_t i = lo;
  for (; i + 4 <= hi; i += 4) {
    // A select, not g·[y > 0]: torch passes g at a NaN input and gives an exact 0 where y <= 0
    // even when g is ±inf or NaN.
    const v128_t off = wasm_f32x4_le(wasm_v128_load(y + i), TSG_F(0.f));
    wasm_v128_store(dx + i, wasm_v128_andnot(wasm_v128_load(g + i), off));
  }
  for (; i < hi; i++) dx[i] = y[i] <= 0.f ? 0.f : g[i];
}

// ------------------------------------------------------------------ strided 2-D copy

/**
 * dst[r·drs + c·dcs] = src[r·srs + c·scs] for a rows × cols block (transposes, gathers), in 16×16
 * tiles so that a transpose reads and writes whole cache lines.
 */
void TSG_EXPORT(copy2d)(int32_t rows, int32_t cols, const float* src, int32_t srs, int32_t scs,
                        float* dst, int32_t drs, int32_t dcs) {
  for (int64_t r0 = 0; r0 < rows; r0 += 16) {
    const int64_t r1 = tsg_min64(r0 + 16, rows);
    for (int64_t c0 = 0; c0 < cols; c0 += 16) {
      const int64_t c1 = tsg_min64(c0 + 16, cols);
      for (int64_t r = r0; r < r1; r++)
        for (int64_t c = c0; c < c1; c++) dst[r * drs + c * dcs] = src[r * srs + c * scs];
    }
  }
}
