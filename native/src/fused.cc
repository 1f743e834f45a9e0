// Fused kernels for composite ops, each a forward (training) primitive and its backward:
// softmax / logsoftmax, layer normalisation, LRN across channels, GELU (erf and tanh), and one
// unidirectional LSTM layer (oneDNN's vanilla LSTM, whose gate order i, f, c̃, o is PyTorch's
// i, f, g, o). Inputs may be strided views; those the primitives need dense are gathered into
// scratch. Workspaces that must live from forward to backward are returned to JS as Uint8Arrays,
// so the garbage collector owns them like any other tensor storage.
#include "common.h"
#include "mathf.h"

namespace tsg {

namespace {

using algo = dnnl::algorithm;
using prop = dnnl::prop_kind;

/** A dense float pointer to the view's data, gathering it into scratch `slot` when strided. */
float* dense(const View& v, int slot) {
  if (v.contiguous()) return v.at<float>();
  float* p = static_cast<float*>(scratch(slot, v.numel() * sizeof(float) + 64));
  copy_to_dense(reinterpret_cast<char*>(p), v);
  return p;
}

void key_view(std::vector<int64_t>& k, const View& v) {
  k.push_back(v.nd);
  k.insert(k.end(), v.shape, v.shape + v.nd);
  k.insert(k.end(), v.strides, v.strides + v.nd);
}

dnnl::memory mem(const dnnl::memory::desc& md, const void* p) {
  return dnnl::memory(md, engine(), const_cast<void*>(p));
}

/**
 * A whole JS array as a primitive's memory. The kernels check each array's length against the
 * sizes first; this asserts it once more against what the primitive will actually access.
 */
dnnl::memory mem(const dnnl::memory::desc& md, const Arr& a) {
  check(md.get_size() <= a.length * elem_size(a.dtype), "array smaller than its memory descriptor");
  return mem(md, a.data);
}

Napi::Value workspace(Napi::Env env, const dnnl::memory::desc& md, void** ptr) {
  const size_t bytes = md.get_size();
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, std::max<size_t>(bytes, 1));
  *ptr = buf.Data();
  return Napi::Uint8Array::New(env, std::max<size_t>(bytes, 1), buf, 0);
}

bool all_f32(std::initializer_list<const View*> vs) {
  for (const View* v : vs)
    if (v->a.dtype != F32 || v->numel() == 0) return false;
  return true;
}

// ------------------------------------------------------------------ softmax, logsoftmax

/**
 * softmax (LOG false) or logSoftmax (LOG true) of one contiguous row, m its maximum:
 * e^(x - m) / Σ e^(x - m), or (x - m) - log Σ e^(x - m) — the composition's formulas and
 * PyTorch's, so a row holding NaN or +inf, or only -inf, is NaN throughout. Computed here rather
 * than by oneDNN: its logsoftmax's log was off by up to 1.1e-5 (the cross-entropy of a confident
 * prediction, lse - m near 0, came out 10% off, or negative), and its softmax's exp gives 0
 * below e^-87, where float32 (and PyTorch) have subnormals down to e^-103.97 (a log after the
 * softmax then gave -inf). In place is fine. Multiversioned (TSG_FMA_CLONES): the exp and log
 * polynomials run 8 or 16 lanes wide with FMA.
 */
template <bool LOG>
inline void softmax_row_impl(const float* x, float* y, int64_t n) {
  float m = -INFINITY;
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
  float s = 0.f;
  if constexpr (LOG) {
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; i++) s += exp_f32(x[i] - m);
    const float l = log_f32(s);
#pragma omp simd
    for (int64_t i = 0; i < n; i++) y[i] = (x[i] - m) - l;
  } else {
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; i++) {
      const float e = exp_f32(x[i] - m);
      y[i] = e;
      s += e;
    }
    // Divide, not multiply by 1/s: each quotient is then correctly rounded, as PyTorch's, and a
    // row of equal values sums to exactly 1.
#pragma omp simd
    for (int64_t i = 0; i < n; i++) y[i] /= s;
  }
}

TSG_FMA_CLONES(void, logsoftmax_row, (const float* x, float* y, int64_t n),
               softmax_row_impl<true>, (x, y, n))
TSG_FMA_CLONES(void, softmax_row, (const float* x, float* y, int64_t n), softmax_row_impl<false>,
               (x, y, n))

/** softmax_row_impl over the `len` axis of a dense [len, inner] block, `inner` lanes at a time. */
template <bool LOG>
inline void softmax_block_impl(const float* x, float* y, int64_t len, int64_t inner, float* m,
                               float* s) {
#pragma omp simd
  for (int64_t i = 0; i < inner; i++) {
    m[i] = -INFINITY;
    s[i] = 0.f;
  }
  for (int64_t k = 0; k < len; k++) {
    const float* xk = x + k * inner;
#pragma omp simd
    for (int64_t i = 0; i < inner; i++) m[i] = xk[i] > m[i] ? xk[i] : m[i];
  }
  for (int64_t k = 0; k < len; k++) {
    const float* xk = x + k * inner;
    float* yk = y + k * inner;
    if constexpr (LOG) {
#pragma omp simd
      for (int64_t i = 0; i < inner; i++) s[i] += exp_f32(xk[i] - m[i]);
    } else {
#pragma omp simd
      for (int64_t i = 0; i < inner; i++) {
        const float e = exp_f32(xk[i] - m[i]);
        yk[i] = e;
        s[i] += e;
      }
    }
  }
#pragma omp simd
  for (int64_t i = 0; i < inner; i++) s[i] = LOG ? log_f32(s[i]) : s[i];
  for (int64_t k = 0; k < len; k++) {
    const float* xk = x + k * inner;
    float* yk = y + k * inner;
    if constexpr (LOG) {
#pragma omp simd
      for (int64_t i = 0; i < inner; i++) yk[i] = (xk[i] - m[i]) - s[i];
    } else {
#pragma omp simd
      for (int64_t i = 0; i < inner; i++) yk[i] /= s[i];
    }
  }
}

TSG_FMA_CLONES(void, logsoftmax_block,
               (const float* x, float* y, int64_t len, int64_t inner, float* m, float* s),
               softmax_block_impl<true>, (x, y, len, inner, m, s))
TSG_FMA_CLONES(void, softmax_block,
               (const float* x, float* y, int64_t len, int64_t inner, float* m, float* s),
               softmax_block_impl<false>, (x, y, len, inner, m, s))

/** (log)softmax of a dense [outer, len, inner] array along its middle axis, split over threads. */
void softmax_dense(bool log, const float* x, float* y, int64_t outer, int64_t len,
                   int64_t inner) {
  const int64_t n = outer * len * inner;
  if (inner == 1) {
    parallel_blocks(outer, n >= kParallelMin ? 1 : outer + 1, [&](int64_t lo, int64_t hi) {
      for (int64_t o = lo; o < hi; o++) {
        if (log) logsoftmax_row(x + o * len, y + o * len, len);
        else softmax_row(x + o * len, y + o * len, len);
      }
    });
    return;
  }
  parallel_blocks(outer, n >= kParallelMin ? 1 : outer + 1, [&](int64_t lo, int64_t hi) {
    std::vector<float> m(inner), s(inner);
    for (int64_t o = lo; o < hi; o++) {
      const float* xo = x + o * len * inner;
      float* yo = y + o * len * inner;
      if (log) logsoftmax_block(xo, yo, len, inner, m.data(), s.data());
      else softmax_block(xo, yo, len, inner, m.data(), s.data());
    }
  });
}

struct Softmax {
  dnnl::primitive fwd, bwd;
  dnnl::memory::desc md;
};
Cache<Softmax> softmax_cache;

Softmax* softmax_entry(bool log, const View& x, int axis) {
  std::vector<int64_t> key{log, axis, x.nd};
  key.insert(key.end(), x.shape, x.shape + x.nd);
  return softmax_cache.get(key, [&] {
    auto md = plain_md(dims(x.shape, x.shape + x.nd));
    auto e = std::make_unique<Softmax>();
    e->md = md;
    if (log) {
      auto fpd = dnnl::logsoftmax_forward::primitive_desc(
          dnnl::logsoftmax_forward::desc(prop::forward_training, md, axis), engine());
      auto bpd = dnnl::logsoftmax_backward::primitive_desc(
          dnnl::logsoftmax_backward::desc(md, md, axis), engine(), fpd);
      e->fwd = dnnl::logsoftmax_forward(fpd);
      e->bwd = dnnl::logsoftmax_backward(bpd);
    } else {
      auto fpd = dnnl::softmax_forward::primitive_desc(
          dnnl::softmax_forward::desc(prop::forward_training, md, axis), engine());
      auto bpd = dnnl::softmax_backward::primitive_desc(
          dnnl::softmax_backward::desc(md, md, axis), engine(), fpd);
      e->fwd = dnnl::softmax_forward(fpd);
      e->bwd = dnnl::softmax_backward(bpd);
    }
    return e;
  });
}

// softmax(log, y, x, meta[x, axis])
Napi::Value SoftmaxFwd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const bool log = info[0].As<Napi::Boolean>();
  Arr y = get_array(env, info[1]);
  Meta m = get_meta(env, info[3]);
  View x;
  if (!read_view(env, info[2], m, x)) return decline(env, "softmax", "rank");
  const int64_t ax = m.next();
  if (!all_f32({&x}) || y.dtype != F32 || x.nd == 0) return decline(env, "softmax", "dtype");
  check(ax >= 0 && ax < x.nd, "softmax axis outside the input's rank");
  check_f32(y, x.numel(), "softmax output length");
  const int axis = static_cast<int>(ax);
  const float* src = x.at<float>();
  if (!x.contiguous()) {
    // Gather into y and normalise in place.
    copy_to_dense(y.data, x);
    src = reinterpret_cast<float*>(y.data);
  }
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; i++) outer *= x.shape[i];
  for (int i = axis + 1; i < x.nd; i++) inner *= x.shape[i];
  softmax_dense(log, src, reinterpret_cast<float*>(y.data), outer, x.shape[axis], inner);
  return Napi::Boolean::New(env, true);
}

// softmaxBackward(log, dx, y, dy, meta[y, dy, axis])
Napi::Value SoftmaxBwd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const bool log = info[0].As<Napi::Boolean>();
  Arr dx = get_array(env, info[1]);
  Meta m = get_meta(env, info[4]);
  View y, dy;
  if (!read_view(env, info[2], m, y) || !read_view(env, info[3], m, dy))
    return decline(env, "softmax backward", "rank");
  const int64_t axis = m.next();
  if (!all_f32({&y, &dy})) return decline(env, "softmax backward", "dtype");
  check(axis >= 0 && axis < y.nd, "softmax axis outside the output's rank");
  check(same_shape(y, dy), "softmax backward: the gradient's shape differs from the output's");
  check_f32(dx, y.numel(), "softmax backward output length");
  Softmax* e = softmax_entry(log, y, static_cast<int>(axis));
  e->bwd.execute(stream(), {{DNNL_ARG_DST, mem(e->md, dense(y, 3))},
                            {DNNL_ARG_DIFF_DST, mem(e->md, dense(dy, 4))},
                            {DNNL_ARG_DIFF_SRC, mem(e->md, dx)}});
  return Napi::Boolean::New(env, true);
}

// ------------------------------------------------------------------ layer normalisation

struct LayerNorm {
  dnnl::layer_normalization_forward fwd;
  dnnl::layer_normalization_backward bwd;
  dnnl::memory::desc data, stat, vec;
};
Cache<LayerNorm> ln_cache;

LayerNorm* ln_entry(int64_t rows, int64_t d, float eps, bool scale, bool shift) {
  int64_t eps_bits;
  static_assert(sizeof(float) <= sizeof(int64_t));
  float e = eps;
  std::memcpy(&eps_bits, &e, sizeof(float));
  eps_bits &= 0xffffffff;
  return ln_cache.get({rows, d, eps_bits, scale, shift}, [&] {
    auto data = plain_md({rows, d}), stat = plain_md({rows}), vec = plain_md({d});
    auto flags = dnnl::normalization_flags::none;
    if (scale) flags = flags | dnnl::normalization_flags::use_scale;
    if (shift) flags = flags | dnnl::normalization_flags::use_shift;
    auto fpd = dnnl::layer_normalization_forward::primitive_desc(
        dnnl::layer_normalization_forward::desc(prop::forward_training, data, stat, eps, flags),
        engine());
    auto bpd = dnnl::layer_normalization_backward::primitive_desc(
        dnnl::layer_normalization_backward::desc(scale || shift ? prop::backward
                                                                : prop::backward_data,
                                                 data, data, stat, eps, flags),
        engine(), fpd);
    return std::make_unique<LayerNorm>(LayerNorm{dnnl::layer_normalization_forward(fpd),
                                                 dnnl::layer_normalization_backward(bpd), data,
                                                 stat, vec});
  });
}

/**
 * Rows of a layer norm of x over its last d elements; throws unless d is the size of some trailing
 * axes of x (the primitive reads x as [rows, d], and mean/var hold one value per row).
 */
int64_t ln_rows(const View& x, int64_t d) {
  int64_t tail = 1;
  for (int i = x.nd - 1; i >= 0 && tail < d; i--) tail *= x.shape[i];
  check(d >= 1 && tail == d, "layerNorm: d is not the size of the input's trailing axes");
  return x.numel() / d;
}

/** The operands of a layer norm other than x: weight and bias of d elements, mean/var of rows. */
void check_ln_operands(const View* w, const View* b, const Arr& mean, const Arr& var, int64_t d,
                       int64_t rows) {
  if (w) check_size(w->numel(), d, "layerNorm weight elements");
  if (b) check_size(b->numel(), d, "layerNorm bias elements");
  check_f32(mean, rows, "layerNorm mean length");
  check_f32(var, rows, "layerNorm variance length");
}

// layerNorm(y, mean, var, x, w|null, b|null, meta[x, w?, b?, d, eps])
Napi::Value LayerNormFwd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Arr y = get_array(env, info[0]), mean = get_array(env, info[1]), var = get_array(env, info[2]);
  Meta m = get_meta(env, info[6]);
  View x, w, b;
  const bool hw = !info[4].IsNull(), hb = !info[5].IsNull();
  if (!read_view(env, info[3], m, x) || (hw && !read_view(env, info[4], m, w)) ||
      (hb && !read_view(env, info[5], m, b)))
    return decline(env, "layerNorm", "rank");
  const int64_t d = m.next();
  const float eps = static_cast<float>(m.nextf());
  if (!all_f32({&x}) || (hw && !all_f32({&w})) || (hb && !all_f32({&b})))
    return decline(env, "layerNorm", "dtype");
  const int64_t rows = ln_rows(x, d);
  check_ln_operands(hw ? &w : nullptr, hb ? &b : nullptr, mean, var, d, rows);
  check_f32(y, x.numel(), "layerNorm output length");
  LayerNorm* e = ln_entry(rows, d, eps, hw, hb);
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, mem(e->data, dense(x, 3))},
      {DNNL_ARG_DST, mem(e->data, y)},
      {DNNL_ARG_MEAN, mem(e->stat, mean)},
      {DNNL_ARG_VARIANCE, mem(e->stat, var)}};
  if (hw) args.emplace(DNNL_ARG_SCALE, mem(e->vec, dense(w, 4)));
  if (hb) args.emplace(DNNL_ARG_SHIFT, mem(e->vec, dense(b, 5)));
  e->fwd.execute(stream(), args);
  return Napi::Boolean::New(env, true);
}

// layerNormBackward(dx, dw|null, db|null, x, w|null, b|null, mean, var, dy,
//                   meta[x, w?, b?, dy, d, eps])
Napi::Value LayerNormBwd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Arr dx = get_array(env, info[0]);
  Meta m = get_meta(env, info[9]);
  View x, w, b, dy;
  const bool hw = !info[4].IsNull(), hb = !info[5].IsNull();
  if (!read_view(env, info[3], m, x) || (hw && !read_view(env, info[4], m, w)) ||
      (hb && !read_view(env, info[5], m, b)) || !read_view(env, info[8], m, dy))
    return decline(env, "layerNorm backward", "rank");
  const int64_t d = m.next();
  const float eps = static_cast<float>(m.nextf());
  Arr mean = get_array(env, info[6]), var = get_array(env, info[7]);
  if (!all_f32({&x, &dy}) || (hw && !all_f32({&w})) || (hb && !all_f32({&b})))
    return decline(env, "layerNorm backward", "dtype");
  const int64_t rows = ln_rows(x, d);
  check_ln_operands(hw ? &w : nullptr, hb ? &b : nullptr, mean, var, d, rows);
  check(same_shape(x, dy), "layerNorm backward: the gradient's shape differs from the input's");
  check_f32(dx, x.numel(), "layerNorm backward input gradient length");
  LayerNorm* e = ln_entry(rows, d, eps, hw, hb);
  // The primitive always produces the diff scale/shift it has; JS may not want them.
  auto grad = [&](bool has, int arg, int slot, const char* what) -> float* {
    if (!has) return nullptr;
    if (info[arg].IsNull()) return static_cast<float*>(scratch(slot, d * 4));
    Arr a = get_array(env, info[arg]);
    check_f32(a, d, what);
    return reinterpret_cast<float*>(a.data);
  };
  float* dw = grad(hw, 1, 6, "layerNorm backward weight gradient length");
  float* db = grad(hb, 2, 7, "layerNorm backward bias gradient length");
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, mem(e->data, dense(x, 3))},
      {DNNL_ARG_DIFF_DST, mem(e->data, dense(dy, 4))},
      {DNNL_ARG_MEAN, mem(e->stat, mean)},
      {DNNL_ARG_VARIANCE, mem(e->stat, var)},
      {DNNL_ARG_DIFF_SRC, mem(e->data, dx)}};
  if (hw) {
    args.emplace(DNNL_ARG_SCALE, mem(e->vec, dense(w, 5)));
    args.emplace(DNNL_ARG_DIFF_SCALE, mem(e->vec, dw));
  }
  if (hb) {
    args.emplace(DNNL_ARG_SHIFT, mem(e->vec, dense(b, 8)));
    args.emplace(DNNL_ARG_DIFF_SHIFT, mem(e->vec, db));
  }
  e->bwd.execute(stream(), args);
  return Napi::Boolean::New(env, true);
}

// ------------------------------------------------------------------ LRN across channels
//
// Direct OpenMP loops rather than oneDNN's lrn primitive: on plain (nchw) memory oneDNN 2.6 runs
// its reference backward (~1 s for a 128×32×28×28 batch, against ~10 ms here), and it centres odd
// windows only. The window of channel c is [c − ⌊n/2⌋, c + ⌊(n−1)/2⌋], as torch's
// local_response_norm pads the channel axis.
//
//   scale_c = k + α/n · Σ_{c' ∈ win(c)} x_{c'}²        y_c = x_c · scale_c^(−β)
//   dx_c = g_c · scale_c^(−β) − (2αβ/n) · x_c · Σ_{c' : c ∈ win(c')} g_{c'} · y_{c'} / scale_{c'}

/** s^(−β) for s > 0; AlexNet's β = 0.75 is two square roots (std::pow costs ~20× more). */
inline float pow_neg_beta(float s, float beta) {
  if (beta == 0.75f) {
    const float r = std::sqrt(s);
    return 1.f / (r * std::sqrt(r));
  }
  return std::exp(-beta * std::log(s));
}

/**
 * One (n, c) plane of the forward pass: `s` gets the scale, `y` the output. `xn` is sample n's
 * first channel, channels [j0, j1] the window. Multiversioned (the addon has no -march), so the
 * square roots and divisions run 16 lanes wide on AVX-512.
 */
TSG_CLONES
void lrn_plane_fwd(const float* __restrict xn, int64_t S, int64_t c, int64_t j0, int64_t j1,
                   float* __restrict s, float* __restrict y, float a, float k, float beta) {
  const float* __restrict xc = xn + c * S;
  {
    const float* __restrict xj = xn + j0 * S;
#pragma omp simd
    for (int64_t q = 0; q < S; q++) s[q] = xj[q] * xj[q];
  }
  for (int64_t j = j0 + 1; j <= j1; j++) {
    const float* __restrict xj = xn + j * S;
#pragma omp simd
    for (int64_t q = 0; q < S; q++) s[q] += xj[q] * xj[q];
  }
  if (beta == 0.75f) {
#pragma omp simd
    for (int64_t q = 0; q < S; q++) {
      const float v = k + a * s[q];
      const float r = std::sqrt(v);
      s[q] = v;
      y[q] = xc[q] * (1.f / (r * std::sqrt(r)));
    }
  } else {
#pragma omp simd
    for (int64_t q = 0; q < S; q++) {
      s[q] = k + a * s[q];
      y[q] = xc[q] * pow_neg_beta(s[q], beta);
    }
  }
}

// lrn(y, x, meta[x, size, alpha, beta, k]) -> scale (Float32Array, the workspace) | false
Napi::Value LrnFwd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Arr y = get_array(env, info[0]);
  Meta m = get_meta(env, info[2]);
  View x;
  if (!read_view(env, info[1], m, x)) return decline(env, "localResponseNorm", "rank");
  const int64_t size = m.next();
  const float alpha = m.nextf(), beta = m.nextf(), k = m.nextf();
  if (!all_f32({&x}) || x.nd < 3 || size < 1) return decline(env, "localResponseNorm", "shape");
  check_f32(y, x.numel(), "localResponseNorm output length");
  const int64_t N = x.shape[0], C = x.shape[1], S = x.numel() / (N * C);
  const int64_t lo = size / 2, hi = (size - 1) / 2;
  const float* xp = dense(x, 3);
  Napi::Float32Array scale = Napi::Float32Array::New(env, static_cast<size_t>(x.numel()));
  float* sc = scale.Data();
  float* yp = reinterpret_cast<float*>(y.data);
  const float a = alpha / static_cast<float>(size);
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < N * C; nc++) {
    const int64_t n = nc / C, c = nc % C;
    lrn_plane_fwd(xp + n * C * S, S, c, std::max<int64_t>(0, c - lo),
                  std::min<int64_t>(C - 1, c + hi), sc + nc * S, yp + nc * S, a, k, beta);
  }
  return scale;
}

/** t = g · x · scale^(−β−1) over [lo, hi): the backward pass's per-element term. */
TSG_CLONES
void lrn_bwd_term(float* __restrict t, const float* __restrict g, const float* __restrict x,
                  const float* __restrict sc, float beta, int64_t lo, int64_t hi) {
  if (beta == 0.75f) {
#pragma omp simd
    for (int64_t i = lo; i < hi; i++) {
      const float r = std::sqrt(sc[i]);
      t[i] = g[i] * x[i] * (1.f / (r * std::sqrt(r))) / sc[i];
    }
  } else {
#pragma omp simd
    for (int64_t i = lo; i < hi; i++) t[i] = g[i] * x[i] * pow_neg_beta(sc[i], beta) / sc[i];
  }
}

/** One (n, c) plane of dx: the window sum of `t` over channels [j0, j1] (tn: sample n's t). */
TSG_CLONES
void lrn_plane_bwd(float* __restrict o, const float* __restrict tn, const float* __restrict xc,
                   const float* __restrict gc, const float* __restrict scc, int64_t S, int64_t j0,
                   int64_t j1, float beta, float coef) {
  {
    const float* __restrict tj = tn + j0 * S;
#pragma omp simd
    for (int64_t q = 0; q < S; q++) o[q] = tj[q];
  }
  for (int64_t j = j0 + 1; j <= j1; j++) {
    const float* __restrict tj = tn + j * S;
#pragma omp simd
    for (int64_t q = 0; q < S; q++) o[q] += tj[q];
  }
  if (beta == 0.75f) {
#pragma omp simd
    for (int64_t q = 0; q < S; q++) {
      const float r = std::sqrt(scc[q]);
      o[q] = gc[q] * (1.f / (r * std::sqrt(r))) - coef * xc[q] * o[q];
    }
  } else {
#pragma omp simd
    for (int64_t q = 0; q < S; q++) o[q] = gc[q] * pow_neg_beta(scc[q], beta) - coef * xc[q] * o[q];
  }
}

// lrnBackward(dx, x, dy, scale, meta[x, dy, size, alpha, beta, k])
Napi::Value LrnBwd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Arr dx = get_array(env, info[0]);
  Meta m = get_meta(env, info[4]);
  View x, dy;
  if (!read_view(env, info[1], m, x) || !read_view(env, info[2], m, dy))
    return decline(env, "localResponseNorm backward", "rank");
  const int64_t size = m.next();
  const float alpha = m.nextf(), beta = m.nextf();
  Arr ws = get_array(env, info[3]);
  if (!all_f32({&x, &dy})) return decline(env, "localResponseNorm backward", "dtype");
  // The window bounds below assume the forward's size >= 1 and [N, C, ...] input (N, C > 0).
  check(x.nd >= 3 && size >= 1, "localResponseNorm backward: rank below 3 or size below 1");
  check(same_shape(x, dy),
        "localResponseNorm backward: the gradient's shape differs from the input's");
  check_f32(ws, x.numel(), "localResponseNorm backward workspace length");
  check_f32(dx, x.numel(), "localResponseNorm backward output length");
  const int64_t N = x.shape[0], C = x.shape[1], S = x.numel() / (N * C);
  const int64_t lo = size / 2, hi = (size - 1) / 2;
  const float* xp = dense(x, 3);
  const float* gp = dense(dy, 4);
  const float* sc = reinterpret_cast<const float*>(ws.data);
  float* out = reinterpret_cast<float*>(dx.data);
  // t_c = g_c · x_c · scale_c^(−β−1), reusing dx as scratch would alias: keep a buffer.
  std::vector<float> t(static_cast<size_t>(x.numel()));
  parallel_blocks(N * C * S, 1 << 16, [&](int64_t a, int64_t b) {
    lrn_bwd_term(t.data(), gp, xp, sc, beta, a, b);
  });
  const float coef = 2.f * alpha * beta / static_cast<float>(size);
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < N * C; nc++) {
    const int64_t n = nc / C, c = nc % C;
    lrn_plane_bwd(out + nc * S, t.data() + n * C * S, xp + nc * S, gp + nc * S, sc + nc * S, S,
                  std::max<int64_t>(0, c - hi), std::min<int64_t>(C - 1, c + lo), beta, coef);
  }
  return Napi::Boolean::New(env, true);
}

// ------------------------------------------------------------------ GELU

struct Gelu {
  dnnl::eltwise_forward fwd;
  dnnl::eltwise_backward bwd;
  dnnl::memory::desc md;
};
Cache<Gelu> gelu_cache;

Gelu* gelu_entry(bool tanh, int64_t n) {
  return gelu_cache.get({tanh, n}, [&] {
    const algo a = tanh ? algo::eltwise_gelu_tanh : algo::eltwise_gelu_erf;
    auto md = plain_md({n});
    auto fpd = dnnl::eltwise_forward::primitive_desc(
        dnnl::eltwise_forward::desc(prop::forward_training, a, md), engine());
    auto bpd = dnnl::eltwise_backward::primitive_desc(dnnl::eltwise_backward::desc(a, md, md),
                                                      engine(), fpd);
    return std::make_unique<Gelu>(
        Gelu{dnnl::eltwise_forward(fpd), dnnl::eltwise_backward(bpd), md});
  });
}

// gelu(tanh, y, x, meta[x])
Napi::Value GeluFwd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const bool tanh = info[0].As<Napi::Boolean>();
  Arr y = get_array(env, info[1]);
  Meta m = get_meta(env, info[3]);
  View x;
  if (!read_view(env, info[2], m, x) || !all_f32({&x})) return decline(env, "gelu", "dtype");
  check_f32(y, x.numel(), "gelu output length");
  Gelu* e = gelu_entry(tanh, x.numel());
  const float* src = x.at<float>();
  if (!x.contiguous()) {
    copy_to_dense(y.data, x);
    src = reinterpret_cast<float*>(y.data);
  }
  e->fwd.execute(stream(), {{DNNL_ARG_SRC, mem(e->md, src)}, {DNNL_ARG_DST, mem(e->md, y)}});
  return Napi::Boolean::New(env, true);
}

// geluBackward(tanh, dx, x, dy, meta[x, dy])
Napi::Value GeluBwd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const bool tanh = info[0].As<Napi::Boolean>();
  Arr dx = get_array(env, info[1]);
  Meta m = get_meta(env, info[4]);
  View x, dy;
  if (!read_view(env, info[2], m, x) || !read_view(env, info[3], m, dy))
    return decline(env, "gelu backward", "rank");
  if (!all_f32({&x, &dy})) return decline(env, "gelu backward", "dtype");
  check(same_shape(x, dy), "gelu backward: the gradient's shape differs from the input's");
  check_f32(dx, x.numel(), "gelu backward output length");
  Gelu* e = gelu_entry(tanh, x.numel());
  e->bwd.execute(stream(), {{DNNL_ARG_SRC, mem(e->md, dense(x, 3))},
                            {DNNL_ARG_DIFF_DST, mem(e->md, dense(dy, 4))},
                            {DNNL_ARG_DIFF_SRC, mem(e->md, dx)}});
  return Napi::Boolean::New(env, true);
}

// ------------------------------------------------------------------ relu backward

// dx = y <= 0 ? 0 : dy in one pass (the composition is a compare and a select, as relu's rule).
TSG_CLONES
void relu_backward_loop(float* __restrict dx, const float* __restrict y,
                        const float* __restrict dy, int64_t lo, int64_t hi) {
#pragma omp simd
  // A select, not g·[y > 0]: torch's threshold_backward passes g at a NaN input and gives an
  // exact 0 where y <= 0 even when g is ±inf or NaN (a product would give NaN there).
  for (int64_t i = lo; i < hi; i++) dx[i] = y[i] <= 0.f ? 0.f : dy[i];
}

Napi::Value ReluBwd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Arr dx = get_array(env, info[0]);
  Meta m = get_meta(env, info[3]);
  View y, dy;
  if (!read_view(env, info[1], m, y) || !read_view(env, info[2], m, dy))
    return decline(env, "relu backward", "rank");
  const int64_t n = y.numel();
  if (y.a.dtype != F32 || dy.a.dtype != F32) return decline(env, "relu backward", "dtype");
  check(same_shape(y, dy), "relu backward: the gradient's shape differs from the output's");
  check_f32(dx, n, "relu backward output length");
  const float* yp = dense(y, 3);
  const float* gp = dense(dy, 4);
  float* out = reinterpret_cast<float*>(dx.data);
  parallel_blocks(n, kParallelMin,
                  [&](int64_t lo, int64_t hi) { relu_backward_loop(out, yp, gp, lo, hi); });
  return Napi::Boolean::New(env, true);
}

// ------------------------------------------------------------------ LSTM layer

/** One primitive argument with a reorder from/to the caller's layout when they differ. */
struct Staged {
  dnnl::memory::desc user, inner;
  bool reorder = false;
  dnnl::reorder r;
  static Staged in(const dnnl::memory::desc& user, const dnnl::memory::desc& inner) {
    Staged s{user, inner, user != inner, {}};
    if (s.reorder)
      s.r = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), user, engine(), inner));
    return s;
  }
  static Staged out(const dnnl::memory::desc& inner, const dnnl::memory::desc& user) {
    Staged s{user, inner, user != inner, {}};
    if (s.reorder)
      s.r = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), inner, engine(), user));
    return s;
  }
  dnnl::memory stage_in(const void* p, int slot) const {
    dnnl::memory u = mem(user, p);
    if (!reorder) return u;
    dnnl::memory i(inner, engine(), scratch(slot, inner.get_size()));
    r.execute(stream(), u, i);
    return i;
  }
};

struct Lstm {
  dnnl::lstm_forward fwd;
  dnnl::lstm_backward bwd;
  bool training;
  dnnl::memory::desc layer_in, layer_out, state, bias, ws;
  Staged wl, wi;              // forward weights (layer, iter)
  Staged bwl, bwi;            // backward weights
  Staged dwl, dwi;            // backward diff weights -> dense PyTorch layout
};
Cache<Lstm> lstm_cache;

/** PyTorch's [4H, in] weight as oneDNN's ldigo dims {1, 1, in, 4, H}: a strided view, no copy. */
dnnl::memory::desc torch_weights(int64_t in, int64_t H, int64_t s0, int64_t s1) {
  return dnnl::memory::desc({1, 1, in, 4, H}, dt::f32, {4 * H * in, 4 * H * in, s1, H * s0, s0});
}

Lstm* lstm_entry(int64_t T, int64_t B, int64_t I, int64_t H, bool reverse, bool training,
                 const View& wih, const View& whh) {
  std::vector<int64_t> key{T, B, I, H, reverse, training};
  key_view(key, wih);
  key_view(key, whh);
  return lstm_cache.get(key, [&] {
    const auto dir = reverse ? dnnl::rnn_direction::unidirectional_right2left
                             : dnnl::rnn_direction::unidirectional_left2right;
    auto layer_in = plain_md({T, B, I}), layer_out = plain_md({T, B, H});
    auto state = plain_md({1, 1, B, H}), bias = plain_md({1, 1, 4, H});
    auto any_wl = dnnl::memory::desc({1, 1, I, 4, H}, dt::f32, tag::any);
    auto any_wi = dnnl::memory::desc({1, 1, H, 4, H}, dt::f32, tag::any);
    auto fd = dnnl::lstm_forward::desc(training ? prop::forward_training : prop::forward_inference,
                                       dir, layer_in, state, state, any_wl, any_wi, bias,
                                       layer_out, state, state);
    auto fpd = dnnl::lstm_forward::primitive_desc(fd, engine());
    auto e = std::make_unique<Lstm>();
    e->fwd = dnnl::lstm_forward(fpd);
    e->training = training;
    e->layer_in = layer_in;
    e->layer_out = layer_out;
    e->state = state;
    e->bias = bias;
    e->ws = training ? fpd.workspace_desc() : dnnl::memory::desc();
    auto uwl = torch_weights(I, H, wih.strides[0], wih.strides[1]);
    auto uwi = torch_weights(H, H, whh.strides[0], whh.strides[1]);
    e->wl = Staged::in(uwl, fpd.weights_layer_desc());
    e->wi = Staged::in(uwi, fpd.weights_iter_desc());
    if (training) {
      auto bd = dnnl::lstm_backward::desc(
          prop::backward, dir, layer_in, state, state, any_wl, any_wi, bias, layer_out, state,
          state, layer_in, state, state, any_wl, any_wi, bias, layer_out, state, state);
      auto bpd = dnnl::lstm_backward::primitive_desc(bd, engine(), fpd);
      e->bwd = dnnl::lstm_backward(bpd);
      e->bwl = Staged::in(uwl, bpd.weights_layer_desc());
      e->bwi = Staged::in(uwi, bpd.weights_iter_desc());
      e->dwl = Staged::out(bpd.diff_weights_layer_desc(), torch_weights(I, H, I, 1));
      e->dwi = Staged::out(bpd.diff_weights_iter_desc(), torch_weights(H, H, H, 1));
    }
    return e;
  });
}

/** LSTM sizes from its operand views, after checking that they fit one another. */
struct LstmDims {
  int64_t T, B, I, H;
};

LstmDims lstm_dims(const View& x, const View& h0, const View& c0, const View& wih,
                   const View& whh) {
  check(x.nd == 3 && h0.nd == 2 && c0.nd == 2 && wih.nd == 2 && whh.nd == 2,
        "lstmLayer operand ranks");
  const LstmDims d{x.shape[0], x.shape[1], x.shape[2], whh.shape[1]};
  check(wih.shape[0] == 4 * d.H && wih.shape[1] == d.I && whh.shape[0] == 4 * d.H,
        "lstmLayer: weights are not [4H, I] and [4H, H]");
  check(h0.shape[0] == d.B && h0.shape[1] == d.H && c0.shape[0] == d.B && c0.shape[1] == d.H,
        "lstmLayer: h0 or c0 is not [B, H]");
  return d;
}

// lstm(out, hN, cN, x, h0, c0, wih, whh, bias, meta[x, h0, c0, wih, whh, reverse, training])
//   -> workspace (training) | true | false
Napi::Value LstmFwd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Arr out = get_array(env, info[0]), hN = get_array(env, info[1]), cN = get_array(env, info[2]);
  Arr bias = get_array(env, info[8]);
  Meta m = get_meta(env, info[9]);
  View x, h0, c0, wih, whh;
  if (!read_view(env, info[3], m, x) || !read_view(env, info[4], m, h0) ||
      !read_view(env, info[5], m, c0) || !read_view(env, info[6], m, wih) ||
      !read_view(env, info[7], m, whh))
    return decline(env, "lstmLayer", "rank");
  const bool reverse = m.next() != 0, training = m.next() != 0;
  if (!all_f32({&x, &h0, &c0, &wih, &whh}) || bias.dtype != F32)
    return decline(env, "lstmLayer", "dtype");
  const auto [T, B, I, H] = lstm_dims(x, h0, c0, wih, whh);
  check_f32(bias, 4 * H, "lstmLayer bias length");
  check_f32(out, T * B * H, "lstmLayer output length");
  check_f32(hN, B * H, "lstmLayer hN length");
  check_f32(cN, B * H, "lstmLayer cN length");
  Lstm* e = lstm_entry(T, B, I, H, reverse, training, wih, whh);
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC_LAYER, mem(e->layer_in, dense(x, 0))},
      {DNNL_ARG_SRC_ITER, mem(e->state, dense(h0, 1))},
      {DNNL_ARG_SRC_ITER_C, mem(e->state, dense(c0, 2))},
      {DNNL_ARG_WEIGHTS_LAYER, e->wl.stage_in(wih.ptr(), 3)},
      {DNNL_ARG_WEIGHTS_ITER, e->wi.stage_in(whh.ptr(), 4)},
      {DNNL_ARG_BIAS, mem(e->bias, bias)},
      {DNNL_ARG_DST_LAYER, mem(e->layer_out, out)},
      {DNNL_ARG_DST_ITER, mem(e->state, hN)},
      {DNNL_ARG_DST_ITER_C, mem(e->state, cN)}};
  Napi::Value result = Napi::Boolean::New(env, true);
  if (training) {
    void* ws = nullptr;
    result = workspace(env, e->ws, &ws);
    args.emplace(DNNL_ARG_WORKSPACE, mem(e->ws, ws));
  }
  e->fwd.execute(stream(), args);
  return result;
}

// lstmBackward(dx, dh0, dc0, dwih, dwhh, dbias, [x, h0, c0, wih, whh, bias, out, hN, cN, dout,
//              dhN, dcN, ws], meta[x, h0, c0, wih, whh, dout, dhN, dcN, reverse])
Napi::Value LstmBwd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // Reading a JS array's elements may run getters, which could detach or shrink a buffer already
  // decoded: take the elements first, then every pointer.
  Napi::Array list = info[6].As<Napi::Array>();
  std::array<Napi::Value, 13> a;
  for (uint32_t i = 0; i < a.size(); i++) a[i] = list.Get(i);
  Arr dx = get_array(env, info[0]), dh0 = get_array(env, info[1]), dc0 = get_array(env, info[2]);
  Arr dwih = get_array(env, info[3]), dwhh = get_array(env, info[4]);
  Arr dbias = get_array(env, info[5]);
  Meta m = get_meta(env, info[7]);
  View x, h0, c0, wih, whh, dout, dhN, dcN;
  if (!read_view(env, a[0], m, x) || !read_view(env, a[1], m, h0) ||
      !read_view(env, a[2], m, c0) || !read_view(env, a[3], m, wih) ||
      !read_view(env, a[4], m, whh) || !read_view(env, a[9], m, dout) ||
      !read_view(env, a[10], m, dhN) || !read_view(env, a[11], m, dcN))
    return decline(env, "lstmLayer backward", "rank");
  const bool reverse = m.next() != 0;
  Arr bias = get_array(env, a[5]), out = get_array(env, a[6]);
  Arr hN = get_array(env, a[7]), cN = get_array(env, a[8]);
  Arr ws = get_array(env, a[12]);
  if (!all_f32({&x, &h0, &c0, &wih, &whh, &dout, &dhN, &dcN}))
    return decline(env, "lstmLayer backward", "dtype");
  const auto [T, B, I, H] = lstm_dims(x, h0, c0, wih, whh);
  check(dout.nd == 3 && dout.shape[0] == T && dout.shape[1] == B && dout.shape[2] == H,
        "lstmLayer backward: the output gradient is not [T, B, H]");
  check(dhN.nd == 2 && dhN.shape[0] == B && dhN.shape[1] == H && same_shape(dhN, dcN),
        "lstmLayer backward: the hN or cN gradient is not [B, H]");
  check_f32(bias, 4 * H, "lstmLayer backward bias length");
  check_f32(out, T * B * H, "lstmLayer backward forward-output length");
  check_f32(hN, B * H, "lstmLayer backward hN length");
  check_f32(cN, B * H, "lstmLayer backward cN length");
  check_f32(dx, T * B * I, "lstmLayer backward input gradient length");
  check_f32(dh0, B * H, "lstmLayer backward h0 gradient length");
  check_f32(dc0, B * H, "lstmLayer backward c0 gradient length");
  check_f32(dwih, 4 * H * I, "lstmLayer backward input-weight gradient length");
  check_f32(dwhh, 4 * H * H, "lstmLayer backward hidden-weight gradient length");
  check_f32(dbias, 4 * H, "lstmLayer backward bias gradient length");
  Lstm* e = lstm_entry(T, B, I, H, reverse, true, wih, whh);
  // The forward's workspace (a Uint8Array of the training primitive's workspace size).
  check(ws.dtype == U8 && ws.length >= e->ws.get_size(), "lstmLayer backward workspace size");
  // oneDNN accumulates into the diff weights: start them at zero.
  void* gwl = scratch(5, e->dwl.inner.get_size());
  void* gwi = scratch(6, e->dwi.inner.get_size());
  std::memset(gwl, 0, e->dwl.inner.get_size());
  std::memset(gwi, 0, e->dwi.inner.get_size());
  std::memset(dbias.data, 0, dbias.length * 4);
  dnnl::memory mgwl(e->dwl.inner, engine(), gwl), mgwi(e->dwi.inner, engine(), gwi);
  e->bwd.execute(stream(), {{DNNL_ARG_SRC_LAYER, mem(e->layer_in, dense(x, 0))},
                            {DNNL_ARG_SRC_ITER, mem(e->state, dense(h0, 1))},
                            {DNNL_ARG_SRC_ITER_C, mem(e->state, dense(c0, 2))},
                            {DNNL_ARG_WEIGHTS_LAYER, e->bwl.stage_in(wih.ptr(), 3)},
                            {DNNL_ARG_WEIGHTS_ITER, e->bwi.stage_in(whh.ptr(), 4)},
                            {DNNL_ARG_BIAS, mem(e->bias, bias)},
                            {DNNL_ARG_DST_LAYER, mem(e->layer_out, out)},
                            {DNNL_ARG_DST_ITER, mem(e->state, hN)},
                            {DNNL_ARG_DST_ITER_C, mem(e->state, cN)},
                            {DNNL_ARG_DIFF_DST_LAYER, mem(e->layer_out, dense(dout, 7))},
                            {DNNL_ARG_DIFF_DST_ITER, mem(e->state, dense(dhN, 8))},
                            {DNNL_ARG_DIFF_DST_ITER_C, mem(e->state, dense(dcN, 9))},
                            {DNNL_ARG_WORKSPACE, mem(e->ws, ws)},
                            {DNNL_ARG_DIFF_SRC_LAYER, mem(e->layer_in, dx)},
                            {DNNL_ARG_DIFF_SRC_ITER, mem(e->state, dh0)},
                            {DNNL_ARG_DIFF_SRC_ITER_C, mem(e->state, dc0)},
                            {DNNL_ARG_DIFF_WEIGHTS_LAYER, mgwl},
                            {DNNL_ARG_DIFF_WEIGHTS_ITER, mgwi},
                            {DNNL_ARG_DIFF_BIAS, mem(e->bias, dbias)}});
  auto finish = [](const Staged& s, dnnl::memory inner, const Arr& user) {
    dnnl::memory u = mem(s.user, user);
    if (s.reorder) s.r.execute(stream(), inner, u);
    else std::memcpy(user.data, inner.get_data_handle(), s.user.get_size());
  };
  finish(e->dwl, mgwl, dwih);
  finish(e->dwi, mgwi, dwhh);
  return Napi::Boolean::New(env, true);
}

}  // namespace

void init_fused(Napi::Env env, Napi::Object exports) {
  def(env, exports, "softmax", SoftmaxFwd, 1);
  def(env, exports, "softmaxBackward", SoftmaxBwd, 1);
  def(env, exports, "layerNorm", LayerNormFwd, 0);
  def(env, exports, "layerNormBackward", LayerNormBwd, 0);
  def(env, exports, "lrn", LrnFwd, 0);
  def(env, exports, "lrnBackward", LrnBwd, 0);
  def(env, exports, "gelu", GeluFwd, 1);
  def(env, exports, "geluBackward", GeluBwd, 1);
  def(env, exports, "reluBackward", ReluBwd, 0);
  def(env, exports, "lstm", LstmFwd, 0);
  def(env, exports, "lstmBackward", LstmBwd, 0);
}

}  // namespace tsg
