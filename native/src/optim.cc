// Fused in-place optimizer updates over float32 parameters: SGD (momentum, Nesterov), Adam /
// AdamW (AMSGrad) and RMSprop. Each mirrors the JS reference loop in src/optim/kernels.ts
// operation by operation, in double precision with a float32 store after every buffer update, so
// SGD and RMSprop agree with the reference to the last bit in all but rare double-rounding cases;
// Adam's square root and ratio are float32 (see adam_chunk), within an ulp or so of each update.
// The step-dependent constants (bias corrections) are computed once in JS and passed in.
#include "common.h"

namespace tsg {

namespace {

float* f32_or_null(Napi::Env env, const Napi::Value& v, size_t n, const char* what) {
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  Arr a = get_array(env, v);
  if (a.dtype != F32) return nullptr;
  if (a.length != n)
    throw Napi::RangeError::New(env, std::string(what) + " has " + std::to_string(a.length) +
                                         " elements, the parameter " + std::to_string(n));
  return reinterpret_cast<float*>(a.data);
}

/**
 * Optimizer updates go parallel from here: more work per element than an add, so earlier than
 * kParallelMin. Measured (Adam, 2-vCPU AMD EPYC, 1 thread vs 2): 32k 29 vs 55 µs, 65k 58 vs 76,
 * 131k 111 vs 103, 262k 226 vs 155.
 */
constexpr int64_t kParallel = 1 << 17;

// sgd(p, g, buf|null, h[lr, momentum, keep, wd, nesterov, maximize, initBuffer])
Napi::Value Sgd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Arr pa = get_array(env, info[0]);
  if (pa.dtype != F32) return Napi::Boolean::New(env, false);
  const int64_t n = static_cast<int64_t>(pa.length);
  float* p = reinterpret_cast<float*>(pa.data);
  const float* g = f32_or_null(env, info[1], n, "grad");
  float* buf = f32_or_null(env, info[2], n, "momentum buffer");
  if (!g || (!buf && !info[2].IsNull())) return Napi::Boolean::New(env, false);
  Meta h = get_meta(env, info[3]);
  const double lr = h.nextf(), momentum = h.nextf(), keep = h.nextf(), wd = h.nextf();
  const bool nesterov = h.next(), maximize = h.next(), init = h.next();
#pragma omp parallel for simd schedule(static) if (n >= kParallel)
  for (int64_t i = 0; i < n; i++) {
    double d = g[i];
    if (maximize) d = -d;
    if (wd != 0) d += wd * static_cast<double>(p[i]);
    if (!buf) {
      p[i] = static_cast<float>(p[i] + -lr * d);
      continue;
    }
    buf[i] = static_cast<float>(init ? d : buf[i] * momentum + keep * d);
    const double b = buf[i];
    p[i] = static_cast<float>(p[i] + -lr * (nesterov ? d + momentum * b : b));
  }
  return Napi::Boolean::New(env, true);
}

struct AdamHyper {
  double shrink, step_size, bc2, beta1, beta2, c1, c2, eps, wd;
  bool decoupled, maximize;
};

// One thread's share of the Adam update. The moment updates are in double precision with a
// float32 store, as the reference; the denominator and the ratio are in float32, because double
// square roots and divisions made this loop compute-bound (a few cycles per element, more than
// the memory traffic). Per step that moves a parameter by about one float32 ulp, at most, from
// the reference.
TSG_CLONES
void adam_chunk(int64_t lo, int64_t hi, float* __restrict p, const float* __restrict g,
                float* __restrict m, float* __restrict v, float* __restrict vmax,
                const AdamHyper& h) {
  // Locals, so the compiler need not reload them after every store.
  const float bc2 = static_cast<float>(h.bc2), eps = static_cast<float>(h.eps);
  const double neg_step = -h.step_size, beta1 = h.beta1, beta2 = h.beta2, c1 = h.c1, c2 = h.c2;
  // L2 decay (Adam) enters the gradient; decoupled decay (AdamW) was applied before the loop.
  const bool l2 = !h.decoupled && h.wd != 0;
  const double wd = h.wd, sign = h.maximize ? -1 : 1;
  if (vmax) {
#pragma omp simd
    for (int64_t i = lo; i < hi; i++) {
      const double gi = l2 ? sign * g[i] + wd * static_cast<double>(p[i]) : sign * g[i];
      const float mi = static_cast<float>(m[i] * beta1 + c1 * gi);
      const float vi = static_cast<float>(v[i] * beta2 + c2 * gi * gi);
      const float second = vi > vmax[i] ? vi : vmax[i];
      m[i] = mi;
      v[i] = vi;
      vmax[i] = second;
      p[i] = static_cast<float>(p[i] + neg_step * (mi / (std::sqrt(second) / bc2 + eps)));
    }
    return;
  }
#pragma omp simd
  for (int64_t i = lo; i < hi; i++) {
    const double gi = l2 ? sign * g[i] + wd * static_cast<double>(p[i]) : sign * g[i];
    const float mi = static_cast<float>(m[i] * beta1 + c1 * gi);
    const float vi = static_cast<float>(v[i] * beta2 + c2 * gi * gi);
    m[i] = mi;
    v[i] = vi;
    p[i] = static_cast<float>(p[i] + neg_step * (mi / (std::sqrt(vi) / bc2 + eps)));
  }
}

// adam(p, g, m, v, vmax|null, h[shrink, stepSize, bc2Sqrt, beta1, beta2, c1, c2, eps, wd,
//      decoupled, maximize])
Napi::Value Adam(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Arr pa = get_array(env, info[0]);
  if (pa.dtype != F32) return Napi::Boolean::New(env, false);
  const int64_t n = static_cast<int64_t>(pa.length);
  float* p = reinterpret_cast<float*>(pa.data);
  const float* g = f32_or_null(env, info[1], n, "grad");
  float* m = f32_or_null(env, info[2], n, "expAvg");
  float* v = f32_or_null(env, info[3], n, "expAvgSq");
  float* vmax = f32_or_null(env, info[4], n, "maxExpAvgSq");
  if (!g || !m || !v || (!vmax && !info[4].IsNull())) return Napi::Boolean::New(env, false);
  Meta meta = get_meta(env, info[5]);
  AdamHyper h{};
  h.shrink = meta.nextf();
  h.step_size = meta.nextf();
  h.bc2 = meta.nextf();
  h.beta1 = meta.nextf();
  h.beta2 = meta.nextf();
  h.c1 = meta.nextf();
  h.c2 = meta.nextf();
  h.eps = meta.nextf();
  h.wd = meta.nextf();
  h.decoupled = meta.next();
  h.maximize = meta.next();
  if (h.decoupled && h.shrink != 1) {
#pragma omp parallel for simd schedule(static) if (n >= kParallel)
    for (int64_t i = 0; i < n; i++) p[i] = static_cast<float>(p[i] * h.shrink);
  }
  parallel_blocks(n, kParallel,
                  [&](int64_t lo, int64_t hi) { adam_chunk(lo, hi, p, g, m, v, vmax, h); });
  return Napi::Boolean::New(env, true);
}

// rmsprop(p, g, sq, ga|null, buf|null, h[lr, alpha, c, eps, wd, momentum, maximize])
Napi::Value Rmsprop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Arr pa = get_array(env, info[0]);
  if (pa.dtype != F32) return Napi::Boolean::New(env, false);
  const int64_t n = static_cast<int64_t>(pa.length);
  float* p = reinterpret_cast<float*>(pa.data);
  const float* g = f32_or_null(env, info[1], n, "grad");
  float* sq = f32_or_null(env, info[2], n, "squareAvg");
  float* ga = f32_or_null(env, info[3], n, "gradAvg");
  float* buf = f32_or_null(env, info[4], n, "momentum buffer");
  if (!g || !sq || (!ga && !info[3].IsNull()) || (!buf && !info[4].IsNull()))
    return Napi::Boolean::New(env, false);
  Meta h = get_meta(env, info[5]);
  const double lr = h.nextf(), alpha = h.nextf(), c = h.nextf(), eps = h.nextf(), wd = h.nextf(),
               momentum = h.nextf();
  const bool maximize = h.next();
#pragma omp parallel for simd schedule(static) if (n >= kParallel)
  for (int64_t i = 0; i < n; i++) {
    double gi = g[i];
    if (maximize) gi = -gi;
    if (wd != 0) gi += wd * static_cast<double>(p[i]);
    sq[i] = static_cast<float>(sq[i] * alpha + c * gi * gi);
    double avg;
    if (ga) {
      ga[i] = static_cast<float>(ga[i] * alpha + c * gi);
      const double a = ga[i];
      avg = std::sqrt(sq[i] + -1 * a * a) + eps;
    } else {
      avg = std::sqrt(static_cast<double>(sq[i])) + eps;
    }
    if (buf) {
      buf[i] = static_cast<float>(buf[i] * momentum + gi / avg);
      p[i] = static_cast<float>(p[i] + -lr * static_cast<double>(buf[i]));
    } else {
      p[i] = static_cast<float>(p[i] + -lr * (gi / avg));
    }
  }
  return Napi::Boolean::New(env, true);
}

}  // namespace

void init_optim(Napi::Env env, Napi::Object exports) {
  def(env, exports, "sgd", Sgd);
  def(env, exports, "adam", Adam);
  def(env, exports, "rmsprop", Rmsprop);
}

}  // namespace tsg
