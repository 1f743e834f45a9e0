// Kernels on oneDNN primitives: eltwise (unary), binary with broadcasting, reductions, batched
// matmul, and the three convolution adjoints. Primitives are cached by everything that
// determines them (shapes, strides, params); operands are the tensors' own arrays, described to
// oneDNN by strided memory descriptors, and only copied where a blocked layout pays for itself
// (convolutions reorder into the layout their JIT kernels want).
#include <atomic>
#include <cfloat>

#include "common.h"
#include "mathf.h"

namespace tsg {

bool binary_loop(int op, const Arr& out, const View& a, const View& b);
void reduce_f32(bool max, const View& x, const bool* red, float* out);

/**
 * Whether this CPU computes bfloat16 products natively (AVX512-BF16 or AMX). Elsewhere oneDNN
 * would emulate them, slower than float32, so "medium" precision computes in float32 there.
 */
bool bf16_native() {
  static const bool ok = [] {
    const auto isa = dnnl::get_effective_cpu_isa();
    return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
  }();
  return ok;
}

namespace {

using algo = dnnl::algorithm;

void key_view(std::vector<int64_t>& k, const View& v) {
  k.push_back(v.nd);
  k.insert(k.end(), v.shape, v.shape + v.nd);
  k.insert(k.end(), v.strides, v.strides + v.nd);
}

bool impl_is_ref(const dnnl::primitive_desc_base& pd) {
  return std::string(pd.impl_info_str()).rfind("ref", 0) == 0;
}

// ------------------------------------------------------------------ eltwise

struct Eltwise {
  dnnl::eltwise_forward prim;
};
Cache<Eltwise> eltwise_cache;

/** out[i] = f(src[i]) over n dense floats (src may equal out). */
void eltwise_dense(algo alg, float alpha, float beta, const float* src, float* out, int64_t n) {
  Eltwise* e = eltwise_cache.get(
      {static_cast<int64_t>(alg), n, static_cast<int64_t>(alpha * 1e6), static_cast<int64_t>(beta * 1e6)},
      [&] {
        auto md = plain_md({n});
        auto d = dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference, alg, md, alpha,
                                             beta);
        auto pd = dnnl::eltwise_forward::primitive_desc(d, engine());
        return std::make_unique<Eltwise>(Eltwise{dnnl::eltwise_forward(pd)});
      });
  auto md = plain_md({n});
  dnnl::memory s(md, engine(), const_cast<float*>(src)), d(md, engine(), out);
  SerialScope serial(n < kParallelMin);
  e->prim.execute(stream(), {{DNNL_ARG_SRC, s}, {DNNL_ARG_DST, d}});
}

/** dst[i] = NaN wherever src[i] is NaN. */
void keep_nan(const float* src, float* dst, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    const float v = src[i];
    dst[i] = v != v ? v : dst[i];
  }
}

namespace {
// A function of its own, not a loop in a parallel region: GCC leaves those scalar.
TSG_CLONES
void log_run(const float* src, float* dst, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) dst[i] = log_f32(src[i]);
}
}  // namespace

/** log with mathf.h's kernel (within 0.8 ulp), not oneDNN's eltwise_log (see mathf.h). */
void log_dense(const float* src, float* dst, int64_t n) {
  parallel_blocks(n, kParallelMin,
                  [&](int64_t lo, int64_t hi) { log_run(src + lo, dst + lo, hi - lo); });
}

namespace {
inline void exp_loop(const float* src, float* dst, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) dst[i] = exp_f32(src[i]);
}

inline void sigmoid_loop(const float* src, float* dst, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) {
    // Only -|x| is exponentiated, so nothing overflows; e/(1 + e) below 0 keeps the subnormal
    // results down to x = -103.97 (the reference's formula).
    const float x = src[i];
    const float e = exp_f32(-std::fabs(x));
    const float r = 1.0f / (1.0f + e);
    dst[i] = x < 0.0f ? e * r : r;
  }
}

TSG_FMA_CLONES(void, exp_run, (const float* src, float* dst, int64_t n), exp_loop, (src, dst, n))
TSG_FMA_CLONES(void, sigmoid_run, (const float* src, float* dst, int64_t n), sigmoid_loop,
               (src, dst, n))
}  // namespace

/**
 * exp with mathf.h's kernel (within 1.1 ulp, NaN kept), not oneDNN's eltwise_exp: that one gives
 * 0 below e^-87 where float32 has subnormals down to e^-103.97 (PyTorch and the reference keep
 * them), so a log or a division after it gave -inf or inf (issue 19). As fast on 1e7 floats.
 */
void exp_dense(const float* src, float* dst, int64_t n) {
  parallel_blocks(n, kParallelMin,
                  [&](int64_t lo, int64_t hi) { exp_run(src + lo, dst + lo, hi - lo); });
}

/** The logistic function on exp_dense's kernel, for the same subnormals (oneDNN's flushes). */
void sigmoid_dense(const float* src, float* dst, int64_t n) {
  parallel_blocks(n, kParallelMin,
                  [&](int64_t lo, int64_t hi) { sigmoid_run(src + lo, dst + lo, hi - lo); });
}

/** ReLU that keeps NaN (oneDNN's maps it to 0; the reference and PyTorch propagate it). */
void relu_dense(const float* src, float* dst, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    const float v = src[i];
    dst[i] = v > 0.f ? v : (v == v ? 0.f : v);
  }
}

Napi::Value Unary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int op = info[0].As<Napi::Number>().Int32Value();
  Arr out = get_array(env, info[1]);
  Meta m = get_meta(env, info[3]);
  View x;
  if (!read_view(env, info[2], m, x)) return decline(env, "unary", "rank");
  if (x.a.dtype != F32 || out.dtype != F32) return decline(env, "unary", "dtype");
  check(static_cast<int64_t>(out.length) == x.numel(), "output size");
  const int64_t n = x.numel();
  const float* src = x.at<float>();
  if (!x.contiguous()) {
    // Gather the strided view into scratch first (one extra pass): the NaN fix-up below reads
    // the source after the primitive has written the output.
    float* tmp = static_cast<float*>(scratch(0, n * sizeof(float)));
    copy_to_dense(reinterpret_cast<char*>(tmp), x);
    src = tmp;
  }
  float* dst = reinterpret_cast<float*>(out.data);
  switch (op) {
    case 0: eltwise_dense(algo::eltwise_linear, -1.f, 0.f, src, dst, n); break;
    case 1: exp_dense(src, dst, n); break;
    case 2: log_dense(src, dst, n); break;
    case 3: eltwise_dense(algo::eltwise_sqrt, 0.f, 0.f, src, dst, n); break;
    case 4: eltwise_dense(algo::eltwise_tanh, 0.f, 0.f, src, dst, n); break;
    case 5: sigmoid_dense(src, dst, n); break;
    case 6: relu_dense(src, dst, n); break;
    case 7: eltwise_dense(algo::eltwise_abs, 0.f, 0.f, src, dst, n); break;
    default: return decline(env, "unary", "op");
  }
  // oneDNN's polynomial kernels turn NaN into finite values or infinities; the reference
  // propagates it. Restore NaN wherever the input had one (mathf.h's kernels keep it already).
  if (op == 3 || op == 4) keep_nan(src, dst, n);
  return Napi::Boolean::New(env, true);
}

// ------------------------------------------------------------------ binary

struct Binary {
  dnnl::binary prim;
  dnnl::memory::desc a, b, c;
  bool use_loop;
};
Cache<Binary> binary_cache;

/**
 * If `v` is the dense output layout with some axes broadcast (stride 0), write the dims oneDNN
 * should see (1 on broadcast axes) and return true.
 */
bool compact_broadcast(const View& v, dims& d) {
  d.assign(v.shape, v.shape + v.nd);
  int64_t s = 1;
  for (int i = v.nd - 1; i >= 0; i--) {
    if (v.shape[i] == 1) continue;
    if (v.strides[i] == 0) {
      d[i] = 1;
      continue;
    }
    if (v.strides[i] != s) return false;
    s *= v.shape[i];
  }
  return true;
}

Napi::Value BinaryOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int op = info[0].As<Napi::Number>().Int32Value();
  Arr out = get_array(env, info[1]);
  Meta m = get_meta(env, info[4]);
  View a, b;
  if (!read_view(env, info[2], m, a) || !read_view(env, info[3], m, b))
    return decline(env, "binary", "rank");
  check(same_shape(a, b) && static_cast<int64_t>(out.length) == a.numel(), "operand shapes");
  if (out.dtype != F32 || a.a.dtype != F32 || b.a.dtype != F32)
    return Napi::Boolean::New(env, binary_loop(op, out, a, b));
  // oneDNN binary broadcasts src1 only; commutative ops may swap their operands to get there.
  dims da, db;
  const View* x = &a;
  const View* y = &b;
  bool fits = op <= 3 && a.nd > 0;
  if (fits) {
    const bool a_dense = a.contiguous(), b_dense = b.contiguous();
    if (a_dense && compact_broadcast(b, db)) {
      da.assign(a.shape, a.shape + a.nd);
    } else if ((op == 0 || op == 2) && b_dense && compact_broadcast(a, db)) {
      std::swap(x, y);
      da.assign(b.shape, b.shape + b.nd);
    } else {
      fits = false;
    }
  }
  if (!fits) return Napi::Boolean::New(env, binary_loop(op, out, a, b));
  std::vector<int64_t> key{op};
  key.insert(key.end(), da.begin(), da.end());
  key.insert(key.end(), db.begin(), db.end());
  Binary* e = binary_cache.get(key, [&] {
    static const algo algs[4] = {algo::binary_add, algo::binary_sub, algo::binary_mul,
                                 algo::binary_div};
    auto ma = plain_md(da), mb = plain_md(db);
    auto d = dnnl::binary::desc(algs[op], ma, mb, ma);
    auto pd = dnnl::binary::primitive_desc(d, engine());
    // The reference implementation is a slow scalar loop: ours is better there.
    return std::make_unique<Binary>(Binary{dnnl::binary(pd), ma, mb, ma, impl_is_ref(pd)});
  });
  if (e->use_loop) return Napi::Boolean::New(env, binary_loop(op, out, a, b));
  dnnl::memory ma(e->a, engine(), x->ptr()), mb(e->b, engine(), y->ptr()),
      mc(e->c, engine(), out.data);
  SerialScope serial(a.numel() < kParallelMin);
  e->prim.execute(stream(), {{DNNL_ARG_SRC_0, ma}, {DNNL_ARG_SRC_1, mb}, {DNNL_ARG_DST, mc}});
  return Napi::Boolean::New(env, true);
}

// ------------------------------------------------------------------ reductions

/** Whether n dense floats hold the lowest float, -3.4e38 (where oneDNN's max starts). */
bool any_lowest(const float* p, int64_t n) {
  int found = 0;
#pragma omp simd reduction(| : found)
  for (int64_t i = 0; i < n; i++) found |= p[i] == -FLT_MAX;
  return found != 0;
}

namespace {
TSG_CLONES
bool nan_run(const float* p, int64_t n) {
  int found = 0;
#pragma omp simd reduction(| : found)
  for (int64_t i = 0; i < n; i++) found |= p[i] != p[i];
  return found != 0;
}

TSG_CLONES
bool nonfinite_run(const float* p, int64_t n) {
  int found = 0;
#pragma omp simd reduction(| : found)
  for (int64_t i = 0; i < n; i++) found |= !(std::fabs(p[i]) < INFINITY);
  return found != 0;
}
}  // namespace

/**
 * Whether a float32 view of any strides holds an element for which `run` (a vectorised test of
 * a dense run of floats) holds: one read pass, dense blocks on every thread.
 */
bool view_any(const View& x, bool (*run)(const float*, int64_t)) {
  std::atomic<bool> found{false};
  if (x.contiguous()) {
    parallel_blocks(x.numel(), kParallelMin, [&](int64_t lo, int64_t hi) {
      if (lo < hi && run(x.at<float>() + lo, hi - lo)) found.store(true, std::memory_order_relaxed);
    });
    return found.load(std::memory_order_relaxed);
  }
  for_rows<1>(
      x.nd, x.shape, {x.ptr()}, {x.strides}, {4},
      [&](const std::array<char*, 1>& p, int64_t n, const std::array<int64_t, 1>& steps) {
        for (int64_t i = 0; i < n; i++) {
          if (run(reinterpret_cast<const float*>(p[0] + i * steps[0]), 1)) {
            found.store(true, std::memory_order_relaxed);
            return;
          }
        }
      },
      true);
  return found.load(std::memory_order_relaxed);
}

/** Whether a float32 view of any strides holds a NaN. */
bool view_has_nan(const View& x) { return view_any(x, nan_run); }

/** Whether a float32 view of any strides holds a NaN or ±inf. */
bool view_has_nonfinite(const View& x) { return view_any(x, nonfinite_run); }

struct Reduction {
  dnnl::reduction prim;
  dnnl::memory::desc src, dst;
  bool use_loop;
};
Cache<Reduction> reduction_cache;

Napi::Value Reduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int op = info[0].As<Napi::Number>().Int32Value();
  Arr out = get_array(env, info[1]);
  Meta m = get_meta(env, info[3]);
  View x;
  if (!read_view(env, info[2], m, x)) return decline(env, "reduce", "rank");
  const int64_t naxes = m.next();
  dims dd(x.shape, x.shape + x.nd);
  bool red[kMaxDims] = {};
  for (int64_t i = 0; i < naxes; i++) {
    const int64_t ax = m.next();
    check(ax >= 0 && ax < x.nd, "reduction axis");
    dd[ax] = 1;
    red[ax] = true;
  }
  if (x.a.dtype != F32 || out.dtype != F32) return decline(env, "reduce", "dtype");
  int64_t total = 1;
  for (int64_t v : dd) total *= v;
  check(static_cast<int64_t>(out.length) == total, "output size");
  if (x.nd == 0 || naxes == 0) {
    copy_to_dense(out.data, x);
    return Napi::Boolean::New(env, true);
  }
  std::vector<int64_t> key{op};
  key_view(key, x);
  key.insert(key.end(), dd.begin(), dd.end());
  Reduction* e = reduction_cache.get(key, [&] {
    auto src = view_md(x), dst = plain_md(dd);
    try {
      auto d = dnnl::reduction::desc(op == 0 ? algo::reduction_sum : algo::reduction_max, src,
                                     dst, 0.f, 0.f);
      auto pd = dnnl::reduction::primitive_desc(d, engine());
      // oneDNN 2.6 JIT-compiles only some reduction layouts; its reference fallback is a scalar
      // loop many times slower than our OpenMP loop (which also accumulates in double).
      return std::make_unique<Reduction>(
          Reduction{dnnl::reduction(pd), src, dst, impl_is_ref(pd)});
    } catch (const dnnl::error&) {
      // Layouts oneDNN rejects outright (some strided sources) go to the loop as well.
      return std::make_unique<Reduction>(Reduction{{}, src, dst, true});
    }
  });
  if (e->use_loop) {
    reduce_f32(op == 1, x, red, reinterpret_cast<float*>(out.data));
    return Napi::Boolean::New(env, true);
  }
  dnnl::memory s(e->src, engine(), x.ptr()), d(e->dst, engine(), out.data);
  {
    SerialScope serial(x.numel() < kParallelMin);
    e->prim.execute(stream(), {{DNNL_ARG_SRC, s}, {DNNL_ARG_DST, d}});
  }
  // oneDNN's max starts from the lowest float, so a slice of -inf comes out as -3.4e38, and its
  // vector max drops NaN; the reference (and PyTorch) give -inf and propagate NaN. Both are
  // checked with one read pass (of the output, then the input) and redone with the loop.
  if (op == 1 && (any_lowest(reinterpret_cast<const float*>(out.data), total) || view_has_nan(x)))
    reduce_f32(true, x, red, reinterpret_cast<float*>(out.data));
  return Napi::Boolean::New(env, true);
}

// ------------------------------------------------------------------ staged arguments

/** One primitive argument: the caller's layout, the primitive's, and the reorder between them. */
struct Arg {
  dnnl::memory::desc user, inner;
  bool reorder = false;
  dnnl::reorder r;
};

Arg in_arg(const dnnl::memory::desc& user, const dnnl::memory::desc& inner) {
  Arg a{user, inner, user != inner, {}};
  if (a.reorder) a.r = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), user, engine(), inner));
  return a;
}

Arg out_arg(const dnnl::memory::desc& inner, const dnnl::memory::desc& user) {
  Arg a{user, inner, user != inner, {}};
  if (a.reorder) a.r = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), inner, engine(), user));
  return a;
}

/** The memory the primitive reads: the user's array, or its reorder into scratch `slot`. */
dnnl::memory stage_in(const Arg& a, void* ptr, int slot) {
  dnnl::memory user(a.user, engine(), ptr);
  if (!a.reorder) return user;
  dnnl::memory inner(a.inner, engine(), scratch(slot, a.inner.get_size()));
  a.r.execute(stream(), user, inner);
  return inner;
}

dnnl::memory stage_out(const Arg& a, void* ptr, int slot) {
  if (!a.reorder) return dnnl::memory(a.user, engine(), ptr);
  return dnnl::memory(a.inner, engine(), scratch(slot, a.inner.get_size()));
}

void finish_out(const Arg& a, dnnl::memory inner, void* ptr) {
  if (!a.reorder) return;
  dnnl::memory user(a.user, engine(), ptr);
  a.r.execute(stream(), inner, user);
}

// ------------------------------------------------------------------ matmul

struct Matmul {
  dnnl::matmul prim;
  dnnl::memory::desc a, b, c;
  // bfloat16 compute: a and b converted into bf16 copies laid out as the f32 operands are
  // (`direct`: one elementwise pass over the operand's storage), else reordered by oneDNN.
  Arg ra, rb;
  bool bf16 = false, direct_a = false, direct_b = false;
};

/**
 * Whether an operand md covers its storage densely in some axis order (contiguous or
 * transposed, the usual matmul operands): then its bf16 copy, given the same strides, is one
 * elementwise conversion of the operand's storage.
 */
bool dense_permuted(const dnnl::memory::desc& md) {
  const dims d = md.dims();
  const auto& st = md.data.format_desc.blocking.strides;
  std::vector<std::pair<int64_t, int64_t>> axes;  // (stride, size) of the axes of size > 1
  for (size_t i = 0; i < d.size(); i++)
    if (d[i] > 1) axes.push_back({st[i], d[i]});
  std::sort(axes.begin(), axes.end(), [](auto& x, auto& y) { return x.first > y.first; });
  int64_t expect = 1;
  for (size_t i = axes.size(); i-- > 0;) {
    if (axes[i].first != expect) return false;
    expect *= axes[i].second;
  }
  return true;
}

/** float32 → bfloat16, rounding to nearest even (NaN stays NaN). */
inline uint16_t bf16_round(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  const bool nan = (u & 0x7fffffffu) > 0x7f800000u;
  const uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  return static_cast<uint16_t>(nan ? ((u >> 16) | 0x40u) : r);
}

/** One array to convert to bfloat16. */
struct Bf16Job {
  const float* src;
  uint16_t* dst;
  int64_t n;
};

/**
 * Convert several arrays to bfloat16 in one parallel region, the threads splitting their
 * concatenation evenly. One region rather than one per array because waking the sleeping OpenMP
 * workers (passive wait, see loader.ts) costs about as much as a small product: measured on 2
 * vCPUs, ~50 µs per region; with both conversions in one region a 256³ bf16 matmul ran at a
 * median 141–146 GFLOP/s against 119–124 with a region each (3 of 4 alternating runs).
 */
void to_bf16(const Bf16Job* jobs, int count) {
  int64_t total = 0;
  for (int j = 0; j < count; j++) total += jobs[j].n;
#pragma omp parallel if (total >= (1 << 16))
  {
    const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t lo = total * t / nt, hi = total * (t + 1) / nt;
    int64_t base = 0;
    for (int j = 0; j < count; j++) {
      const int64_t from = std::max<int64_t>(lo - base, 0), to = std::min(hi - base, jobs[j].n);
      const float* src = jobs[j].src;
      uint16_t* dst = jobs[j].dst;
#pragma omp simd
      for (int64_t i = from; i < to; i++) dst[i] = bf16_round(src[i]);
      base += jobs[j].n;
    }
  }
}

/** The optional trailing "compute in bfloat16" flag of matmul and conv. */
bool bf16_arg(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && info[i].IsBoolean() && info[i].As<Napi::Boolean>().Value() &&
         bf16_native();
}
Cache<Matmul> matmul_cache;

/** The md of one matmul operand: batch axes with stride 0 become size-1 (oneDNN broadcasts). */
dnnl::memory::desc operand_md(const View& v, int nbatch) {
  dims d(v.shape, v.shape + v.nd), s(v.strides, v.strides + v.nd);
  for (int i = 0; i < v.nd; i++) {
    if (i < nbatch && s[i] == 0) d[i] = 1;
    if (d[i] == 1) s[i] = 1;
  }
  return dnnl::memory::desc(d, dt::f32, s);
}

/**
 * A 2-D operand as BLAS sees it (row-major): 'N' with its row stride as leading dimension, or
 * 'T' when stored column-major. False for any other layout.
 */
bool blas_layout(const View& v, char& trans, int64_t& ld) {
  const int64_t rows = v.shape[0], cols = v.shape[1];
  if (v.strides[1] == 1 && (rows == 1 || v.strides[0] >= std::max<int64_t>(cols, 1))) {
    trans = 'N';
    ld = rows == 1 ? std::max<int64_t>(cols, 1) : v.strides[0];
    return true;
  }
  if (v.strides[0] == 1 && (cols == 1 || v.strides[1] >= std::max<int64_t>(rows, 1))) {
    trans = 'T';
    ld = cols == 1 ? std::max<int64_t>(rows, 1) : v.strides[1];
    return true;
  }
  return false;
}

/**
 * Whether a 2-D product goes to oneDNN's BLAS-style sgemm instead of the matmul primitive.
 * Measured on this project's development machine (2 threads, AVX-512, medians): with both
 * operands row-major and N >= 1024, sgemm, which packs its operands, was faster (1024³: 183 vs
 * 162 GFLOP/s; 64×1024 @ 1024×3136: 177 vs 107); with either operand transposed, or N <= 512
 * (512³, 1024×8000 @ 8000×512), the matmul primitive was as fast or faster.
 */
bool prefer_sgemm(int64_t M, int64_t K, int64_t N, char ta, char tb) {
  return ta == 'N' && tb == 'N' && N >= 1024 && M * K * N >= (int64_t{1} << 24);
}

Napi::Value MatmulOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Arr out = get_array(env, info[0]);
  Meta m = get_meta(env, info[3]);
  View a, b;
  if (!read_view(env, info[1], m, a) || !read_view(env, info[2], m, b))
    return decline(env, "matmul", "rank");
  if (out.dtype != F32 || a.a.dtype != F32 || b.a.dtype != F32)
    return decline(env, "matmul", "dtype");
  // Empty operands (an empty product is zeros) are the reference kernel's.
  if (a.numel() == 0 || b.numel() == 0 || out.length == 0) return decline(env, "matmul", "empty");
  const bool bf16 = bf16_arg(info, 4);
  const int r = a.nd;
  check(r >= 2 && b.nd == r, "operand ranks");
  const int nb = r - 2;
  const int64_t M = a.shape[r - 2], K = a.shape[r - 1], N = b.shape[r - 1];
  {
    check(b.shape[r - 2] == K, "inner dimensions");
    int64_t total = M * N;
    for (int i = 0; i < nb; i++) {
      check(a.shape[i] == b.shape[i], "batch dimensions");
      total *= a.shape[i];
    }
    check(static_cast<int64_t>(out.length) == total, "output size");
  }
  // Fold the batch into M when b is the same matrix for every batch entry and a's batch axes
  // continue its row axis: [B, m, k] @ [k, n] is one [B·m, k] @ [k, n] product.
  bool b_shared = true;
  for (int i = 0; i < nb; i++)
    if (b.shape[i] != 1 && b.strides[i] != 0) b_shared = false;
  bool foldable = b_shared && nb > 0;
  int64_t rows = M, rs = a.strides[r - 2];
  for (int i = nb - 1; i >= 0 && foldable; i--) {
    if (a.shape[i] == 1) continue;
    if (rows == 1 && a.strides[i] != 0) {
      rows = a.shape[i];
      rs = a.strides[i];
    } else if (a.strides[i] == rs * rows) {
      rows *= a.shape[i];
    } else {
      foldable = false;
    }
  }
  View fa = a, fb = b;
  if (foldable) {
    fa.nd = 2;
    fa.shape[0] = rows;
    fa.shape[1] = K;
    fa.strides[0] = rs;
    fa.strides[1] = a.strides[r - 1];
    fb.nd = 2;
    fb.shape[0] = K;
    fb.shape[1] = N;
    fb.strides[0] = b.strides[r - 2];
    fb.strides[1] = b.strides[r - 1];
  }
  const int fr = fa.nd, fnb = fr - 2;
  if (fr == 2) {
    char ta = 'N', tb = 'N';
    int64_t lda = 0, ldb = 0;
    const int64_t rows_a = fa.shape[0];
    if (!bf16 && blas_layout(fa, ta, lda) && blas_layout(fb, tb, ldb) &&
        prefer_sgemm(rows_a, K, N, ta, tb)) {
      const dnnl_status_t st =
          dnnl_sgemm(ta, tb, rows_a, N, K, 1.f, reinterpret_cast<const float*>(fa.ptr()), lda, reinterpret_cast<const float*>(fb.ptr()), ldb, 0.f,
                     reinterpret_cast<float*>(out.data), N);
      if (st == dnnl_success) return Napi::Boolean::New(env, true);
    }
  }
  // Everything else goes through the matmul primitive: one code path for all layouts and batches.
  dims dc(fr);
  for (int i = 0; i < fnb; i++) {
    const bool abc = fa.strides[i] == 0 || fa.shape[i] == 1;
    const bool bbc = fb.strides[i] == 0 || fb.shape[i] == 1;
    dc[i] = std::max(fa.shape[i], fb.shape[i]);
    // Both operands broadcast along an output axis of size > 1: oneDNN cannot express that.
    if (abc && bbc && dc[i] > 1) return decline(env, "matmul", "doubly broadcast batch axis");
  }
  dc[fr - 2] = fa.shape[fr - 2];
  dc[fr - 1] = N;
  std::vector<int64_t> key{bf16};
  key_view(key, fa);
  key_view(key, fb);
  Matmul* e = matmul_cache.get(key, [&] {
    auto ma = operand_md(fa, fnb), mb = operand_md(fb, fnb), mc = plain_md(dc);
    auto e = std::make_unique<Matmul>();
    e->a = ma, e->b = mb, e->c = mc, e->bf16 = bf16;
    if (bf16) {
      // bf16 operands, float32 accumulation and result. A dense (or transposed) operand keeps
      // its layout and is converted in one pass: measured on 1024³ (2 threads, AMX), oneDNN's
      // reorders into the primitive's preferred layouts took as long as the product itself.
      e->direct_a = dense_permuted(ma);
      e->direct_b = dense_permuted(mb);
      auto bf = [](const dnnl::memory::desc& m, bool direct) {
        if (!direct) return dnnl::memory::desc(m.dims(), dt::bf16, tag::any);
        const auto& st = m.data.format_desc.blocking.strides;
        return dnnl::memory::desc(m.dims(), dt::bf16, dims(st, st + m.data.ndims));
      };
      auto make = [&] {
        return dnnl::matmul::primitive_desc(
            dnnl::matmul::desc(bf(ma, e->direct_a), bf(mb, e->direct_b), mc), engine());
      };
      dnnl::matmul::primitive_desc pd;
      try {
        pd = make();
      } catch (const dnnl::error&) {
        // A layout the bf16 kernels do not take as it is: let oneDNN reorder both operands.
        e->direct_a = e->direct_b = false;
        pd = make();
      }
      if (debug()) std::fprintf(stderr, "tsgrad native: matmul bf16 impl %s\n", pd.impl_info_str());
      e->prim = dnnl::matmul(pd);
      e->ra = e->direct_a ? Arg{ma, pd.src_desc(), false, {}} : in_arg(ma, pd.src_desc());
      e->rb = e->direct_b ? Arg{mb, pd.weights_desc(), false, {}} : in_arg(mb, pd.weights_desc());
    } else {
      auto pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(ma, mb, mc), engine());
      if (debug()) std::fprintf(stderr, "tsgrad native: matmul impl %s\n", pd.impl_info_str());
      e->prim = dnnl::matmul(pd);
    }
    return e;
  });
  dnnl::memory mc(e->c, engine(), out.data);
  if (e->bf16) {
    // The bf16 operands: converted here (both in one parallel region), or reordered by oneDNN.
    Bf16Job jobs[2];
    int njobs = 0;
    auto operand = [&](const Arg& a, bool direct, void* ptr, int slot) {
      if (!direct) return stage_in(a, ptr, slot);
      void* buf = scratch(slot, a.inner.get_size());
      jobs[njobs++] = {static_cast<const float*>(ptr), static_cast<uint16_t*>(buf),
                       static_cast<int64_t>(a.inner.get_size() / 2)};
      return dnnl::memory(a.inner, engine(), buf);
    };
    dnnl::memory ma = operand(e->ra, e->direct_a, fa.ptr(), 0);
    dnnl::memory mb = operand(e->rb, e->direct_b, fb.ptr(), 1);
    to_bf16(jobs, njobs);
    e->prim.execute(stream(), {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
    return Napi::Boolean::New(env, true);
  }
  dnnl::memory ma(e->a, engine(), fa.ptr()), mb(e->b, engine(), fb.ptr());
  e->prim.execute(stream(), {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
  return Napi::Boolean::New(env, true);
}

// ------------------------------------------------------------------ convolution

struct Conv {
  dnnl::primitive prim;
  std::string impl;
  Arg p, q, out;  // fwd: src, weights, dst; bwd data: diff_dst, weights, diff_src; bwd w: src, diff_dst, diff_weights
};
Cache<Conv> conv_cache;

/** Weights [O, C/g, KH, KW] as oneDNN sees them: [g, O/g, C/g, KH, KW] when grouped. */
dnnl::memory::desc weights_md(const int64_t* shape, const int64_t* strides, int64_t g) {
  if (g == 1)
    return dnnl::memory::desc(dims(shape, shape + 4), dt::f32, dims(strides, strides + 4));
  const int64_t og = shape[0] / g;
  return dnnl::memory::desc({g, og, shape[1], shape[2], shape[3]}, dt::f32,
                            {og * strides[0], strides[0], strides[1], strides[2], strides[3]});
}

dnnl::memory::desc any_like(const dnnl::memory::desc& md, dt type = dt::f32) {
  return dnnl::memory::desc(md.dims(), type, tag::any);
}

/**
 * Where a convolution's zero padding meets a non-finite operand, PyTorch's product is 0·inf =
 * NaN: kind 0 (forward, v = the weight) makes y[n, o, oh, ow] NaN when some tap (kh, kw) that
 * falls on padding there has a non-finite w[o, ·, kh, kw]; kind 2 (weight gradient, v = the
 * output gradient) makes dw[o, ·, kh, kw] NaN when some dy[n, o, oh, ow] is non-finite at an
 * output position where that tap falls on padding. `out` is dense; only runs after a scan found
 * a non-finite value, so it favours simplicity.
 */
void pad_taps_nan(int kind, const View& v, float* out, const int64_t* xs, const int64_t* ws,
                  const int64_t* ys, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh,
                  int64_t dw) {
  const int64_t N = xs[0], H = xs[2], W = xs[3], O = ws[0], Cg = ws[1], KH = ws[2], KW = ws[3];
  const int64_t OH = ys[2], OW = ys[3];
  auto val = [&](int64_t a, int64_t b, int64_t c, int64_t d) {
    return v.at<float>()[a * v.strides[0] + b * v.strides[1] + c * v.strides[2] +
                         d * v.strides[3]];
  };
  auto finite = [](float f) { return std::fabs(f) < INFINITY; };
  auto pad = [&](int64_t oh, int64_t ow, int64_t kh, int64_t kw) {
    const int64_t ih = oh * sh - ph + kh * dh, iw = ow * sw - pw + kw * dw;
    return ih < 0 || ih >= H || iw < 0 || iw >= W;
  };
  std::vector<char> bad(KH * KW);
#pragma omp parallel for schedule(dynamic) firstprivate(bad)
  for (int64_t o = 0; o < O; o++) {
    bool any = false;
    for (int64_t kh = 0; kh < KH; kh++)
      for (int64_t kw = 0; kw < KW; kw++) {
        bool b = false;
        if (kind == 0) {
          for (int64_t c = 0; c < Cg && !b; c++) b = !finite(val(o, c, kh, kw));
        } else {
          for (int64_t n = 0; n < N && !b; n++)
            for (int64_t oh = 0; oh < OH && !b; oh++)
              for (int64_t ow = 0; ow < OW && !b; ow++)
                b = pad(oh, ow, kh, kw) && !finite(val(n, o, oh, ow));
        }
        bad[kh * KW + kw] = b;
        any = any || b;
      }
    if (!any) continue;
    if (kind == 0) {
      for (int64_t n = 0; n < N; n++)
        for (int64_t oh = 0; oh < OH; oh++)
          for (int64_t ow = 0; ow < OW; ow++)
            for (int64_t k = 0; k < KH * KW; k++)
              if (bad[k] && pad(oh, ow, k / KW, k % KW)) {
                out[((n * O + o) * OH + oh) * OW + ow] = NAN;
                break;
              }
    } else {
      for (int64_t c = 0; c < Cg; c++)
        for (int64_t k = 0; k < KH * KW; k++)
          if (bad[k]) out[(o * Cg + c) * KH * KW + k] = NAN;
    }
  }
}

Napi::Value ConvOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int kind = info[0].As<Napi::Number>().Int32Value();  // 0 fwd, 1 bwd data, 2 bwd weights
  Arr out = get_array(env, info[1]);
  Meta m = get_meta(env, info[4]);
  View p, q;
  if (!read_view(env, info[2], m, p) || !read_view(env, info[3], m, q))
    return decline(env, "conv2d", "rank");
  int64_t os[4], g[7];
  for (auto& v : os) v = m.next();
  for (auto& v : g) v = m.next();
  const int64_t sh = g[0], sw = g[1], ph = g[2], pw = g[3], dh = g[4], dw = g[5], groups = g[6];
  if (out.dtype != F32 || p.a.dtype != F32 || q.a.dtype != F32 || p.nd != 4 || q.nd != 4)
    return decline(env, "conv2d", "dtype");
  // Empty tensors (nothing to compute, or zeros) are the reference kernel's.
  if (p.numel() == 0 || q.numel() == 0 || out.length == 0) return decline(env, "conv2d", "empty");
  check(kind >= 0 && kind <= 2, "conv kind");
  check(sh >= 1 && sw >= 1 && dh >= 1 && dw >= 1 && ph >= 0 && pw >= 0 && groups >= 1,
        "conv geometry");
  // oneDNN's JIT kernels keep strides, dilations and paddings in int: far larger ones (never a
  // real convolution) go to the reference kernel rather than risk its truncation.
  constexpr int64_t kBig = int64_t{1} << 30;
  if (sh > kBig || sw > kBig || dh > kBig || dw > kBig || ph > kBig || pw > kBig)
    return decline(env, "conv2d", "geometry beyond int");
  // The padding on the right is derived from the sizes, so the geometry is consistent whatever
  // they are; what must hold is that each array is as large as its memory descriptor.
  check_size(static_cast<int64_t>(out.length), checked_numel(4, os), "conv output length");
  // Optional dense bias [O]: an input of the forward (kind 0), an output of the weights
  // gradient (kind 2), computed by the same primitive instead of a separate add and reduction.
  Arr bias;
  const bool has_bias = info.Length() > 5 && !info[5].IsUndefined() && !info[5].IsNull();
  // bfloat16 compute: the two inputs are converted by the reorders into the primitive's
  // layouts; the output (and bias) stay float32.
  const bool bf16 = bf16_arg(info, 6);
  const dt in_t = bf16 ? dt::bf16 : dt::f32;
  if (has_bias) {
    bias = get_array(env, info[5]);
    if (bias.dtype != F32 || kind == 1) return decline(env, "conv2d", "bias");
  }
  // Name the three tensors: x [N,C,H,W], w [O,C/g,KH,KW], y [N,O,OH,OW].
  const View* xv = nullptr;
  const View* wv = nullptr;
  const View* yv = nullptr;
  int64_t xs[4], ws[4], ys[4];
  if (kind == 0) {
    xv = &p, wv = &q;
    std::copy(os, os + 4, ys);
  } else if (kind == 1) {
    yv = &p, wv = &q;
    std::copy(os, os + 4, xs);
  } else {
    xv = &p, yv = &q;
    std::copy(os, os + 4, ws);
  }
  if (xv) std::copy(xv->shape, xv->shape + 4, xs);
  if (wv) std::copy(wv->shape, wv->shape + 4, ws);
  if (yv) std::copy(yv->shape, yv->shape + 4, ys);
  const int64_t ekh = (ws[2] - 1) * dh + 1, ekw = (ws[3] - 1) * dw + 1;
  const int64_t prh = (ys[2] - 1) * sh + ekh - xs[2] - ph;
  const int64_t prw = (ys[3] - 1) * sw + ekw - xs[3] - pw;
  if (prh < 0 || prw < 0) return decline(env, "conv2d", "negative right padding");
  check(xs[0] == ys[0] && xs[1] == ws[1] * groups && ys[1] == ws[0] &&
            ws[0] % groups == 0,
        "convolution shapes");
  check(!has_bias || static_cast<int64_t>(bias.length) == ws[0], "bias size");

  std::vector<int64_t> key{kind, groups, sh, sw, ph, pw, dh, dw, has_bias, bf16};
  key_view(key, p);
  key_view(key, q);
  key.insert(key.end(), os, os + 4);
  Conv* e = conv_cache.get(key, [&] {
    int64_t dense4[4];
    auto dense = [&](const int64_t* s) {
      dense4[3] = 1;
      dense4[2] = s[3];
      dense4[1] = s[3] * s[2];
      dense4[0] = s[3] * s[2] * s[1];
      return dense4;
    };
    // The caller's layouts: views for the inputs, dense for the output.
    dnnl::memory::desc xu = xv ? view_md(*xv) : plain_md(dims(xs, xs + 4));
    dnnl::memory::desc yu = yv ? view_md(*yv) : plain_md(dims(ys, ys + 4));
    dnnl::memory::desc wu = wv ? weights_md(ws, wv->strides, groups)
                               : weights_md(ws, dense(ws), groups);
    const dims strides{sh, sw}, dil{dh - 1, dw - 1}, pl{ph, pw}, pr{prh, prw};
    // Let oneDNN pick blocked layouts (nChw16c…) and reorder to and from the caller's plain ones:
    // measured on conv 32->64 5x5 14x14 batch 64, the blocked brgconv plus reorders (0.2 ms in,
    // 0.5 ms out, 0.04 ms weights) ran in 13-15 ms where plain nchw (gemm:jit) took 23-35 ms.
    // Each tensor is an input of the primitive except the one this kind computes.
    const dt xt = kind == 1 ? dt::f32 : in_t, wt = kind == 2 ? dt::f32 : in_t,
             yt = kind == 0 ? dt::f32 : in_t;
    auto px = [&](const dnnl::memory::desc& u) { return any_like(u, xt); };
    auto pw_ = [&](const dnnl::memory::desc& u) { return any_like(u, wt); };
    auto py = [&](const dnnl::memory::desc& u) { return any_like(u, yt); };
    const dnnl::memory::desc bmd({ws[0]}, dt::f32, tag::a);
    const auto fprop =
        kind == 0 ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training;
    // The forward (also the backward kinds' hint) reads x and w in the compute type.
    const auto fx = any_like(xu, in_t), fw = any_like(wu, in_t), fy = any_like(yu);
    auto fwd_d = has_bias ? dnnl::convolution_forward::desc(fprop, algo::convolution_direct, fx,
                                                            fw, bmd, fy, strides, dil, pl, pr)
                          : dnnl::convolution_forward::desc(fprop, algo::convolution_direct, fx,
                                                            fw, fy, strides, dil, pl, pr);
    auto fwd = dnnl::convolution_forward::primitive_desc(fwd_d, engine());
    auto c = std::make_unique<Conv>();
    if (kind == 0) {
      c->prim = dnnl::convolution_forward(fwd);
      c->impl = fwd.impl_info_str();
      c->p = in_arg(xu, fwd.src_desc());
      c->q = in_arg(wu, fwd.weights_desc());
      c->out = out_arg(fwd.dst_desc(), yu);
    } else if (kind == 1) {
      auto d = dnnl::convolution_backward_data::desc(algo::convolution_direct, px(xu),
                                                     pw_(wu), py(yu), strides, dil, pl, pr);
      auto pd = dnnl::convolution_backward_data::primitive_desc(d, engine(), fwd);
      c->prim = dnnl::convolution_backward_data(pd);
      c->impl = pd.impl_info_str();
      c->p = in_arg(yu, pd.diff_dst_desc());
      c->q = in_arg(wu, pd.weights_desc());
      c->out = out_arg(pd.diff_src_desc(), xu);
    } else {
      auto d = has_bias ? dnnl::convolution_backward_weights::desc(
                              algo::convolution_direct, px(xu), pw_(wu), bmd, py(yu),
                              strides, dil, pl, pr)
                        : dnnl::convolution_backward_weights::desc(algo::convolution_direct,
                                                                   px(xu), pw_(wu),
                                                                   py(yu), strides, dil, pl, pr);
      auto pd = dnnl::convolution_backward_weights::primitive_desc(d, engine(), fwd);
      c->prim = dnnl::convolution_backward_weights(pd);
      c->impl = pd.impl_info_str();
      c->p = in_arg(xu, pd.src_desc());
      c->q = in_arg(yu, pd.diff_dst_desc());
      c->out = out_arg(pd.diff_weights_desc(), wu);
    }
    if (debug())
      std::fprintf(stderr, "tsgrad native: conv kind %d%s impl %s reorders %d%d%d\n", kind,
                   bf16 ? " bf16" : "", c->impl.c_str(), c->p.reorder, c->q.reorder,
                   c->out.reorder);
    return c;
  });
  dnnl::memory mp = stage_in(e->p, p.ptr(), 0);
  dnnl::memory mq = stage_in(e->q, q.ptr(), 1);
  dnnl::memory mo = stage_out(e->out, out.data, 2);
  std::unordered_map<int, dnnl::memory> args;
  if (kind == 0) {
    args = {{DNNL_ARG_SRC, mp}, {DNNL_ARG_WEIGHTS, mq}, {DNNL_ARG_DST, mo}};
  } else if (kind == 1) {
    args = {{DNNL_ARG_DIFF_DST, mp}, {DNNL_ARG_WEIGHTS, mq}, {DNNL_ARG_DIFF_SRC, mo}};
  } else {
    args = {{DNNL_ARG_SRC, mp}, {DNNL_ARG_DIFF_DST, mq}, {DNNL_ARG_DIFF_WEIGHTS, mo}};
  }
  if (has_bias) {
    dnnl::memory mb(dnnl::memory::desc({ws[0]}, dt::f32, tag::a), engine(), bias.data);
    args.insert({kind == 0 ? DNNL_ARG_BIAS : DNNL_ARG_DIFF_BIAS, mb});
  }
  e->prim.execute(stream(), args);
  finish_out(e->out, mo, out.data);
  // The padding taps: PyTorch (and the reference) multiply zero padding like any input, so a
  // ±inf or NaN weight (forward) or output gradient (weight gradient) makes 0·inf = NaN there;
  // oneDNN never multiplies the padding. One scan of that operand (the weight is small; the
  // gradient scan measured ~1% of a padded 3×3 weight gradient), then the NaNs where it found one.
  if ((ph > 0 || pw > 0) && kind != 1) {
    const View& v = q;  // the weight (kind 0) or the output gradient (kind 2)
    if (view_has_nonfinite(v)) {
      pad_taps_nan(kind, v, reinterpret_cast<float*>(out.data), xs, ws, ys, sh, sw, ph, pw, dh,
                   dw);
    }
  }
  return Napi::Boolean::New(env, true);
}

}  // namespace

void init_dnnl_ops(Napi::Env env, Napi::Object exports) {
  def(env, exports, "unary", Unary, 1);
  def(env, exports, "binary", BinaryOp, 1);
  def(env, exports, "reduce", Reduce, 1);
  def(env, exports, "matmul", MatmulOp, 0);
  def(env, exports, "conv", ConvOp, 1);
}

}  // namespace tsg
