// Shared plumbing for the tsgrad native addon: typed-array access, strided views decoded from the
// meta array, the oneDNN engine/stream, primitive caches, scratch buffers, and a parallel strided
// row walker used by every loop kernel.
//
// Calling convention (see src/backends/native/kernels.ts): each kernel receives the output typed
// array, the input typed arrays, and a Float64Array `meta` holding shapes, strides and offsets in
// elements. Kernels write only into `out` (and scratch), never allocate JS memory, and return
// true when they ran or false to decline (the JS reference kernel then runs).
#pragma once

#include <napi.h>

#if __has_include(<oneapi/dnnl/dnnl.hpp>)
#include <oneapi/dnnl/dnnl.hpp>
#else
#include <dnnl.hpp>
#endif

#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace tsg {

// Function multiversioning for the few hand-written loops that are compute-bound: the addon is
// built for any x86-64 (no -march), so these get AVX-512 and AVX2 clones beside the baseline,
// chosen once at load time for the CPU found.
#if defined(__x86_64__) && defined(__GNUC__)
#define TSG_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TSG_CLONES
#endif

/**
 * The polynomial loops of mathf.h (exp, sigmoid, softmax) as three builds — AVX-512 and AVX2,
 * each with FMA, and the baseline — and `name`, which calls the one this CPU runs (chosen once).
 * target_clones cannot ask for AVX2 and FMA together, and without FMA these loops ran 10–50%
 * behind oneDNN's JIT kernels; with it exp and softmax are ~9% behind and sigmoid ~15% (medians
 * of 8 runs on 1e7 floats, 2 threads, an idle 2-core Zen 3) — the price of keeping float32's
 * subnormals, which oneDNN flushes. `fn` is the inline body, `args` the parenthesised argument
 * names of `params`.
 */
#if defined(__x86_64__) && defined(__GNUC__)
inline int fma_isa() {
  static const int isa = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma") ? 2
                         : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1
                                                                                            : 0;
  return isa;
}
#define TSG_FMA_CLONES(ret, name, params, fn, args)                                \
  __attribute__((target("avx512f,fma"))) ret name##_avx512 params { return fn args; } \
  __attribute__((target("avx2,fma"))) ret name##_avx2 params { return fn args; }      \
  ret name##_base params { return fn args; }                                        \
  ret name params {                                                                 \
    const int isa = fma_isa();                                                      \
    return isa == 2 ? name##_avx512 args : isa == 1 ? name##_avx2 args : name##_base args; \
  }
#else
#define TSG_FMA_CLONES(ret, name, params, fn, args) \
  ret name params { return fn args; }
#endif

constexpr int kMaxDims = 12;  // oneDNN's DNNL_MAX_NDIMS; higher ranks are declined.

enum DType : int { F32 = 0, F64 = 1, I32 = 2, U8 = 3, BAD = -1 };

inline int elem_size(int dt) { return dt == F64 ? 8 : dt == U8 ? 1 : 4; }

/** A JS typed array's storage: `data` points at its first element (byte offset applied). */
struct Arr {
  char* data = nullptr;
  size_t length = 0;  // in elements
  int dtype = BAD;
};

Arr get_array(napi_env env, napi_value v);

/** Reads the Float64Array meta record front to back. */
struct Meta {
  const double* p = nullptr;
  size_t n = 0;
  size_t i = 0;
  int64_t next() {
    if (i >= n) throw std::runtime_error("meta record too short");
    const double v = p[i++];
    // Converting NaN, an infinity or anything past int64 is undefined behaviour; no shape, stride
    // or count the JS side writes exceeds 2^53 (its largest exact integer).
    if (!(std::fabs(v) <= 9007199254740992.0))
      throw std::runtime_error("meta record holds a non-finite or too large integer");
    return static_cast<int64_t>(v);
  }
  double nextf() {
    if (i >= n) throw std::runtime_error("meta record too short");
    return p[i++];
  }
};

Meta get_meta(napi_env env, napi_value v);

/** A strided view over a typed array, as the JS side describes it. */
struct View {
  Arr a;
  int nd = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};
  int64_t offset = 0;

  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < nd; i++) n *= shape[i];
    return n;
  }
  char* ptr() const { return a.data + offset * elem_size(a.dtype); }
  template <class T>
  T* at() const {
    return reinterpret_cast<T*>(a.data) + offset;
  }
  /** Row-major contiguous (size-1 axes may have any stride). */
  bool contiguous() const {
    int64_t s = 1;
    for (int i = nd - 1; i >= 0; i--) {
      if (shape[i] != 1 && strides[i] != s) return false;
      s *= shape[i];
    }
    return true;
  }
};

/**
 * Decode a view from `m` over array `v`. Returns false when its rank exceeds kMaxDims (the caller
 * declines). Throws std::range_error (a JS RangeError naming the kernel) when the view would
 * reach outside its array: a malformed view must become a JS error, never an out-of-bounds access.
 */
bool read_view(napi_env env, napi_value v, Meta& m, View& out);

/** Decode a shape (nd, dims...) from `m`; false when the rank is too high. */
bool read_shape(Meta& m, int& nd, int64_t* shape);

/** A contiguous view of `a` with `shape`. */
View dense_view(const Arr& a, int nd, const int64_t* shape);

// ------------------------------------------------------------------ oneDNN plumbing

dnnl::engine& engine();
dnnl::stream& stream();

using dims = dnnl::memory::dims;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

/** A plain f32 memory descriptor for a view's shape and strides (no copy). */
dnnl::memory::desc view_md(const View& v);
dnnl::memory::desc plain_md(const dims& d);

/** Drop every cached primitive (thread count changed, or tests asked for it). */
void clear_caches();
void register_cache(std::function<void()> clear);
size_t cache_entries();

/** A cache of primitives and their descriptors keyed by the integers that determine them. */
template <class Entry>
struct Cache {
  struct Hash {
    size_t operator()(const std::vector<int64_t>& k) const {
      size_t h = 1469598103934665603ull;
      for (int64_t x : k) h = (h ^ static_cast<size_t>(x)) * 1099511628211ull;
      return h;
    }
  };
  std::unordered_map<std::vector<int64_t>, std::unique_ptr<Entry>, Hash> map;
  Cache() {
    register_cache([this] { map.clear(); });
  }
  // Varying shapes (a last partial batch, sequence lengths) add entries; beyond this many the
  // cache starts over rather than growing without bound.
  static constexpr size_t kMax = 512;
  template <class Make>
  Entry* get(const std::vector<int64_t>& key, Make&& make) {
    auto it = map.find(key);
    if (it != map.end()) return it->second.get();
    if (map.size() >= kMax) map.clear();
    auto e = make();
    Entry* raw = e.get();
    map.emplace(key, std::move(e));
    return raw;
  }
};

/** Growable 64-byte-aligned scratch buffers, reused across calls (slot = independent buffer). */
void* scratch(int slot, size_t bytes);

// ------------------------------------------------------------------ threads

/**
 * Below this many elements an elementwise kernel (ours or oneDNN's eltwise, binary, reduction)
 * runs on the calling thread alone. Starting a parallel region means waking OpenMP's workers,
 * which sleep between kernels (passive wait, see loader.ts): ~40 µs on a 2-vCPU VM, more than a
 * whole add of 100k floats. Measured there (AMD EPYC, tsgrad native, 1 thread vs 2): add of 16k
 * floats 11 vs 63 µs, 131k 95 vs 128 µs, 262k 160 vs 156 µs; tanh of 131k 126 vs 184 µs.
 */
constexpr int64_t kParallelMin = 1 << 18;

/**
 * While alive and `on`, oneDNN primitives executed from this thread use one thread: oneDNN's
 * OpenMP runtime sizes its parallel regions by omp_get_max_threads() at execution, and runs a
 * one-thread job without opening a region.
 */
class SerialScope {
 public:
  explicit SerialScope(bool on) : saved_(on ? omp_get_max_threads() : 0) {
    if (saved_ > 1) omp_set_num_threads(1);
  }
  ~SerialScope() {
    if (saved_ > 1) omp_set_num_threads(saved_);
  }
  SerialScope(const SerialScope&) = delete;
  SerialScope& operator=(const SerialScope&) = delete;

 private:
  int saved_;
};

// ------------------------------------------------------------------ strided row walker

/**
 * Walk `shape` in row-major order over K operands (operand k at byte address base[k] with element
 * strides strides[k] and element size elem[k]). Calls f(ptrs, n, steps) for runs of n elements
 * whose k-th element addresses are ptrs[k] + j * steps[k] (bytes). Axes that are contiguous for
 * every operand are merged first. With `parallel`, the flat index range is split across the
 * OpenMP threads (each run is visited by exactly one thread).
 */
template <int K, class F>
void for_rows(int nd, const int64_t* shape, const std::array<char*, K>& base,
              const std::array<const int64_t*, K>& strides, const std::array<int, K>& elem, F&& f,
              bool parallel) {
  int64_t cs[kMaxDims];
  int64_t cst[K][kMaxDims];
  int cn = 0;
  int64_t total = 1;
  for (int i = 0; i < nd; i++) {
    total *= shape[i];
    if (shape[i] == 1) continue;
    bool merge = cn > 0;
    for (int k = 0; k < K && merge; k++)
      merge = cst[k][cn - 1] == strides[k][i] * elem[k] * shape[i];
    if (merge) {
      cs[cn - 1] *= shape[i];
      for (int k = 0; k < K; k++) cst[k][cn - 1] = strides[k][i] * elem[k];
    } else {
      cs[cn] = shape[i];
      for (int k = 0; k < K; k++) cst[k][cn] = strides[k][i] * elem[k];
      cn++;
    }
  }
  if (total == 0) return;
  if (cn == 0) {
    std::array<int64_t, K> steps{};
    f(base, int64_t{1}, steps);
    return;
  }
  const int64_t inner = cs[cn - 1];
  std::array<int64_t, K> steps;
  for (int k = 0; k < K; k++) steps[k] = cst[k][cn - 1];

  auto range = [&](int64_t e0, int64_t e1) {
    if (e0 >= e1) return;
    int64_t r = e0 / inner, c = e0 % inner;
    int64_t counter[kMaxDims];
    std::array<char*, K> p = base;
    for (int d = cn - 2; d >= 0; d--) {
      counter[d] = r % cs[d];
      r /= cs[d];
      for (int k = 0; k < K; k++) p[k] += counter[d] * cst[k][d];
    }
    for (int k = 0; k < K; k++) p[k] += c * steps[k];
    int64_t e = e0;
    while (e < e1) {
      const int64_t len = std::min(inner - c, e1 - e);
      f(p, len, steps);
      e += len;
      if (e >= e1) break;
      // Next row: rewind the partial row, then carry through the outer counters.
      for (int k = 0; k < K; k++) p[k] -= c * steps[k];
      c = 0;
      for (int d = cn - 2; d >= 0; d--) {
        if (++counter[d] < cs[d]) {
          for (int k = 0; k < K; k++) p[k] += cst[k][d];
          break;
        }
        counter[d] = 0;
        for (int k = 0; k < K; k++) p[k] -= (cs[d] - 1) * cst[k][d];
      }
    }
  };
  if (parallel && total >= kParallelMin && omp_get_max_threads() > 1) {
#pragma omp parallel
    {
      const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
      // Split on 16-element boundaries so threads do not share cache lines of a dense output.
      const int64_t chunk = ((total + nt - 1) / nt + 15) / 16 * 16;
      range(std::min(total, t * chunk), std::min(total, (t + 1) * chunk));
    }
  } else {
    range(0, total);
  }
}

/**
 * Guard for internal consistency: the rule table has validated shapes before a kernel runs, so a
 * failure here is a caller bug. It still must never turn into an out-of-bounds access.
 */
inline void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("inconsistent kernel arguments: ") + what);
}

/** check() for a size relation, naming both sizes: "<what> is <got>, expected <want>". */
inline void check_size(int64_t got, int64_t want, const char* what) {
  if (got != want)
    throw std::runtime_error(std::string("inconsistent kernel arguments: ") + what + " is " +
                             std::to_string(got) + ", expected " + std::to_string(want));
}

/**
 * An array the kernel writes or reads as n dense floats without a view (outputs, statistics,
 * workspaces): it must be a Float32Array of exactly n elements.
 */
inline void check_f32(const Arr& a, int64_t n, const char* what) {
  if (a.dtype != F32)
    throw std::runtime_error(std::string("inconsistent kernel arguments: ") + what +
                             " is not a Float32Array");
  check_size(static_cast<int64_t>(a.length), n, what);
}

/** Elements of a shape from the meta record; throws on a negative size or int64 overflow. */
int64_t checked_numel(int nd, const int64_t* shape);

inline bool same_shape(const View& a, const View& b) {
  if (a.nd != b.nd) return false;
  for (int i = 0; i < a.nd; i++)
    if (a.shape[i] != b.shape[i]) return false;
  return true;
}

/** Whether n dense floats hold a NaN (one vectorised read pass). */
inline bool any_nan(const float* p, int64_t n) {
  int found = 0;
#pragma omp parallel for simd reduction(| : found) schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) found |= p[i] != p[i];
  return found != 0;
}

/** Copy any view into the dense array `out` of the same shape (same dtype), in parallel. */
void copy_to_dense(char* out, const View& x);

/**
 * Register `name` on `exports`, wrapping `fn` so that C++ exceptions become JS errors. A oneDNN
 * error (an unsupported configuration at primitive creation) makes the kernel decline instead:
 * the output argument at `out_arg` is zeroed (the JS reference kernels expect a fresh zeroed
 * array) and false is returned.
 */
void def(Napi::Env env, Napi::Object exports, const char* name,
         Napi::Value (*fn)(const Napi::CallbackInfo&), int out_arg = -1);

/** True when TSGRAD_NATIVE_DEBUG is set: declines are explained on stderr. */
bool debug();

/** Whether the CPU has native bfloat16 products (AVX512-BF16 or AMX); see dnnl_ops.cc. */
bool bf16_native();
Napi::Value decline(Napi::Env env, const char* op, const std::string& why);

}  // namespace tsg

namespace tsg {

/**
 * Run f(lo, hi) on contiguous blocks of [0, n), one per OpenMP thread, rounded to 16 elements so
 * that no two threads write the same cache line; on one thread when n < min_parallel.
 */
template <class F>
void parallel_blocks(int64_t n, int64_t min_parallel, F&& f) {
#pragma omp parallel if (n >= min_parallel)
  {
    const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t per = ((n + nt - 1) / nt + 15) / 16 * 16;
    const int64_t lo = std::min(n, t * per), hi = std::min(n, lo + per);
    f(lo, hi);
  }
}

}  // namespace tsg

/** Throw a JS Error (`op: message`) from C++. */
#define TSG_THROW(env, msg) throw Napi::Error::New(env, msg)
