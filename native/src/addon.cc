// Module entry: shared plumbing (common.h) and the runtime controls (threads, info, caches).
#include <cstdio>
#include <csignal>
#include <cstdlib>
#include <pthread.h>
#include <mutex>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "common.h"

namespace tsg {

void init_loops(Napi::Env env, Napi::Object exports);
void init_dnnl_ops(Napi::Env env, Napi::Object exports);
void init_fused(Napi::Env env, Napi::Object exports);
void init_optim(Napi::Env env, Napi::Object exports);

Arr get_array(napi_env env, napi_value v) {
  napi_typedarray_type type;
  size_t length;
  void* data;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr) != napi_ok)
    throw Napi::TypeError::New(env, "native: expected a typed array");
  Arr a;
  a.data = static_cast<char*>(data);
  a.length = length;
  switch (type) {
    case napi_float32_array: a.dtype = F32; break;
    case napi_float64_array: a.dtype = F64; break;
    case napi_int32_array: a.dtype = I32; break;
    case napi_uint8_array: a.dtype = U8; break;
    default: throw Napi::TypeError::New(env, "native: unsupported typed array type");
  }
  return a;
}

Meta get_meta(napi_env env, napi_value v) {
  Arr a = get_array(env, v);
  if (a.dtype != F64) throw Napi::TypeError::New(env, "native: meta must be a Float64Array");
  Meta m;
  m.p = reinterpret_cast<const double*>(a.data);
  m.n = a.length;
  return m;
}

bool read_shape(Meta& m, int& nd, int64_t* shape) {
  const int64_t r = m.next();
  if (r < 0 || r > kMaxDims) {
    for (int64_t i = 0; i < r; i++) m.next();
    nd = -1;
    return false;
  }
  nd = static_cast<int>(r);
  for (int i = 0; i < nd; i++) shape[i] = m.next();
  return true;
}

bool read_view(napi_env env, napi_value v, Meta& m, View& out) {
  out.a = get_array(env, v);
  const int64_t r = m.next();
  if (r < 0 || r > kMaxDims) {
    for (int64_t i = 0; i < 2 * r + 1; i++) m.next();
    return false;
  }
  out.nd = static_cast<int>(r);
  for (int i = 0; i < out.nd; i++) out.shape[i] = m.next();
  for (int i = 0; i < out.nd; i++) out.strides[i] = m.next();
  out.offset = m.next();
  // Bounds: the lowest and highest element the view can reach must lie inside the array. An empty
  // view addresses nothing; a non-empty one must have a numel and a reach that fit in int64.
  bool empty = false;
  for (int i = 0; i < out.nd; i++) {
    if (out.shape[i] < 0) throw std::range_error("negative dimension in a view");
    empty = empty || out.shape[i] == 0;
  }
  if (empty) return true;
  int64_t lo = out.offset, hi = out.offset, n = 1;
  bool overflow = false;
  for (int i = 0; i < out.nd; i++) {
    int64_t reach = 0;
    overflow = overflow || __builtin_mul_overflow(n, out.shape[i], &n) ||
               __builtin_mul_overflow(out.shape[i] - 1, out.strides[i], &reach) ||
               __builtin_add_overflow(reach > 0 ? hi : lo, reach, reach > 0 ? &hi : &lo);
  }
  if (overflow || lo < 0 || hi >= static_cast<int64_t>(out.a.length))
    throw std::range_error("a view reaches outside its storage (offset " +
                           std::to_string(out.offset) + ", storage length " +
                           std::to_string(out.a.length) + ")");
  return true;
}

int64_t checked_numel(int nd, const int64_t* shape) {
  int64_t n = 1;
  for (int i = 0; i < nd; i++)
    if (shape[i] < 0 || __builtin_mul_overflow(n, shape[i], &n))
      throw std::runtime_error(
          "inconsistent kernel arguments: shape with a negative or too large size");
  return n;
}

View dense_view(const Arr& a, int nd, const int64_t* shape) {
  View v;
  v.a = a;
  v.nd = nd;
  int64_t s = 1;
  for (int i = nd - 1; i >= 0; i--) {
    v.shape[i] = shape[i];
    v.strides[i] = s;
    s *= shape[i];
  }
  v.offset = 0;
  return v;
}

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::stream& stream() {
  static dnnl::stream s(engine());
  return s;
}

dnnl::memory::desc view_md(const View& v) {
  if (v.nd == 0) return dnnl::memory::desc({1}, dt::f32, dims{1});
  dims d(v.shape, v.shape + v.nd), s(v.strides, v.strides + v.nd);
  // oneDNN rejects stride 0; a size-1 axis may carry any stride, so give it a harmless one.
  for (int i = 0; i < v.nd; i++)
    if (d[i] == 1) s[i] = 1;
  return dnnl::memory::desc(d, dt::f32, s);
}

dnnl::memory::desc plain_md(const dims& d) {
  dims s(d.size());
  int64_t acc = 1;
  for (int i = static_cast<int>(d.size()) - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= d[i];
  }
  return dnnl::memory::desc(d, dt::f32, s);
}

static std::vector<std::function<void()>>& cache_clearers() {
  static std::vector<std::function<void()>> v;
  return v;
}
void register_cache(std::function<void()> clear) { cache_clearers().push_back(std::move(clear)); }
void clear_caches() {
  for (auto& c : cache_clearers()) c();
}

struct ScratchBuf {
  void* p = nullptr;
  size_t bytes = 0;
  ~ScratchBuf() { std::free(p); }
};

void* scratch(int slot, size_t bytes) {
  static ScratchBuf bufs[16];
  ScratchBuf& b = bufs[slot];
  if (bytes > b.bytes) {
    std::free(b.p);
    const size_t n = (bytes + 63) / 64 * 64;
    b.p = std::aligned_alloc(64, n);
    if (!b.p) throw std::bad_alloc();
    b.bytes = n;
  }
  return b.p;
}

bool debug() {
  static const bool on = std::getenv("TSGRAD_NATIVE_DEBUG") != nullptr;
  return on;
}

Napi::Value decline(Napi::Env env, const char* op, const std::string& why) {
  if (debug()) std::fprintf(stderr, "tsgrad native: %s declined: %s\n", op, why.c_str());
  return Napi::Boolean::New(env, false);
}

namespace {
struct Entry {
  const char* name;
  Napi::Value (*fn)(const Napi::CallbackInfo&);
  int out_arg;
};
// Caches and scratch buffers are process-wide, while Node may load the addon in several worker
// threads: kernels run one at a time (each uses every core through OpenMP anyway).
std::mutex kernel_lock;

/**
 * Asynchronous signals stay blocked while a kernel runs. Delivered inside oneDNN's kernels (Node's
 * --cpu-prof sends SIGPROF ~1000 times a second; Ctrl-C and `kill` send others) they corrupted
 * the heap: reproduced by signalling a process that trains a small Transformer, with no fault
 * without signals. Blocked, they wait a few milliseconds for the kernel to return. The OpenMP
 * worker threads are created inside the first kernel call, so they inherit the blocked mask and
 * process-directed signals go to Node's own threads instead. Synchronous fault signals are
 * never blocked.
 */
class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t block;
    sigfillset(&block);
    for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS}) sigdelset(&block, s);
    pthread_sigmask(SIG_BLOCK, &block, &old_);
  }
  ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;

 private:
  sigset_t old_;
};

Napi::Value dispatch(const Napi::CallbackInfo& info) {
  const Entry* e = static_cast<const Entry*>(info.Data());
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> hold(kernel_lock);
  SignalsBlocked quiet;
  try {
    return e->fn(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const dnnl::error& err) {
    if (e->out_arg >= 0 && static_cast<size_t>(e->out_arg) < info.Length()) {
      Arr out = get_array(env, info[e->out_arg]);
      std::memset(out.data, 0, out.length * elem_size(out.dtype));
    }
    return decline(env, e->name, std::string("oneDNN: ") + err.what());
  } catch (const std::range_error& err) {
    throw Napi::RangeError::New(env, std::string(e->name) + ": native: " + err.what());
  } catch (const std::exception& err) {
    throw Napi::Error::New(env, std::string(e->name) + ": native: " + err.what());
  }
}
}  // namespace

void def(Napi::Env env, Napi::Object exports, const char* name,
         Napi::Value (*fn)(const Napi::CallbackInfo&), int out_arg) {
  // Entries live as long as the process (the addon is never unloaded).
  auto* e = new Entry{name, fn, out_arg};
  exports.Set(name, Napi::Function::New(env, dispatch, name, e));
}

static Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  const int n = info[0].As<Napi::Number>().Int32Value();
  check(n >= 1, "thread count below 1");
  if (n != omp_get_max_threads()) {
    omp_set_num_threads(n);
    // oneDNN sizes some kernels (and their scratchpads) for the thread count at creation.
    clear_caches();
  }
  return info.Env().Undefined();
}

// What tuneMalloc set, for info(): "" until it succeeds.
std::string malloc_tuning;

/**
 * tuneMalloc(mmapThreshold, trimThreshold): keep freed tensor storage in glibc's heap for the
 * next tensor of that size, instead of returning it to the kernel and faulting fresh zeroed
 * pages back in. Every op's output is a new typed array (Node allocates it with calloc); past
 * glibc's mmap threshold (128 KiB, rising to at most 32 MiB) each one came from mmap, and its
 * page faults cost more than some kernels: 2.5 ms to allocate and touch a 4 MiB array on the dev
 * machine, 0.8 ms from the heap. Process-wide, and glibc only; returns whether it was applied.
 */
static Napi::Value TuneMalloc(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__)
  const int mmap_threshold = info[0].As<Napi::Number>().Int32Value();
  const int trim_threshold = info[1].As<Napi::Number>().Int32Value();
  const bool ok = mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1 &&
                  mallopt(M_TRIM_THRESHOLD, trim_threshold) == 1;
  if (ok)
    malloc_tuning = "glibc: mmap threshold " + std::to_string(mmap_threshold >> 20) +
                    " MiB, trim threshold " + std::to_string(trim_threshold >> 20) + " MiB";
  return Napi::Boolean::New(info.Env(), ok);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

static Napi::Value NumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), omp_get_max_threads());
}

static Napi::Value ClearCaches(const Napi::CallbackInfo& info) {
  clear_caches();
  return info.Env().Undefined();
}

static Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  const dnnl_version_t* v = dnnl_version();
  o.Set("onednn", std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                      std::to_string(v->patch) + " (" + v->hash + ")");
  o.Set("cpuRuntime", v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other");
  const char* isa = "unknown";
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41: isa = "sse41"; break;
    case dnnl::cpu_isa::avx: isa = "avx"; break;
    case dnnl::cpu_isa::avx2: isa = "avx2"; break;
    case dnnl::cpu_isa::avx512_core: isa = "avx512_core"; break;
    case dnnl::cpu_isa::avx512_core_vnni: isa = "avx512_core_vnni"; break;
    case dnnl::cpu_isa::avx512_core_bf16: isa = "avx512_core_bf16"; break;
    case dnnl::cpu_isa::avx512_core_amx: isa = "avx512_core_amx"; break;
    default: break;
  }
  o.Set("isa", isa);
  o.Set("bf16", bf16_native());
  o.Set("threads", omp_get_max_threads());
  const char* wait = std::getenv("OMP_WAIT_POLICY");
  o.Set("ompWaitPolicy", wait ? wait : "(unset)");
  const char* spin = std::getenv("GOMP_SPINCOUNT");
  o.Set("ompSpinCount", spin ? spin : "(unset)");
  o.Set("malloc", malloc_tuning.empty() ? "system default" : malloc_tuning);
  return o;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  def(env, exports, "setNumThreads", SetNumThreads);
  def(env, exports, "numThreads", NumThreads);
  def(env, exports, "tuneMalloc", TuneMalloc);
  def(env, exports, "clearCaches", ClearCaches);
  def(env, exports, "info", Info);
  init_loops(env, exports);
  init_dnnl_ops(env, exports);
  init_fused(env, exports);
  init_optim(env, exports);
  return exports;
}

}  // namespace tsg

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return tsg::Init(env, exports); }

NODE_API_MODULE(tsgrad_native, InitAddon)
