// Fused in-place optimizer updates over float32 parameters: SGD (momentum, Nesterov), Adam /
// AdamW (AMSGrad) and RMSprop. Each mirrors the JS reference loop in src/optim/kernels.ts
// operation by operation, in double precision with a float32 store after every buffer update, so
// results agree with the reference to the last bit in all but rare double-rounding cases. The
// step-dependent constants (bias corrections) are computed once in JS and passed in.
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

constexpr int64_t kParallel = 1 << 15;

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
  Meta h = get_meta(env, info[5]);
  const double shrink = h.nextf(), step_size = h.nextf(), bc2 = h.nextf(), beta1 = h.nextf(),
               beta2 = h.nextf(), c1 = h.nextf(), c2 = h.nextf(), eps = h.nextf(), wd = h.nextf();
  const bool decoupled = h.next(), maximize = h.next();
  if (decoupled && shrink != 1) {
#pragma omp parallel for simd schedule(static) if (n >= kParallel)
    for (int64_t i = 0; i < n; i++) p[i] = static_cast<float>(p[i] * shrink);
  }
#pragma omp parallel for simd schedule(static) if (n >= kParallel)
  for (int64_t i = 0; i < n; i++) {
    double gi = g[i];
    if (maximize) gi = -gi;
    if (!decoupled && wd != 0) gi += wd * static_cast<double>(p[i]);
    m[i] = static_cast<float>(m[i] * beta1 + c1 * gi);
    v[i] = static_cast<float>(v[i] * beta2 + c2 * gi * gi);
    double second = v[i];
    if (vmax) {
      if (second > vmax[i]) vmax[i] = static_cast<float>(second);
      second = vmax[i];
    }
    p[i] = static_cast<float>(p[i] + -step_size * (m[i] / (std::sqrt(second) / bc2 + eps)));
  }
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
