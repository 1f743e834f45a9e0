// OpenMP loop kernels for what oneDNN has no primitive for: sin/cos/erf, the general strided
// binary ops, comparisons, where, cast, copies (reshape, pad, concat), argmax, gather,
// scatter-add and max-pool window indices. Semantics follow the JS reference kernels exactly
// (NaN propagation, first maximum wins, truncating casts with JS wrap-around).
#include <atomic>
#include <limits>

#include "common.h"

namespace tsg {

namespace {

template <class T>
struct Tag {
  using type = T;
};

/** Call f(Tag<T>{}) for the C++ type of dtype `d`. */
template <class F>
void with_type(int d, F&& f) {
  switch (d) {
    case F32: f(Tag<float>{}); break;
    case F64: f(Tag<double>{}); break;
    case I32: f(Tag<int32_t>{}); break;
    default: f(Tag<uint8_t>{}); break;
  }
}

/** Same-size copies only need the element width. */
template <class F>
void with_width(int d, F&& f) {
  switch (elem_size(d)) {
    case 8: f(Tag<uint64_t>{}); break;
    case 4: f(Tag<uint32_t>{}); break;
    default: f(Tag<uint8_t>{}); break;
  }
}

void dense_strides(int nd, const int64_t* shape, int64_t* s) {
  int64_t acc = 1;
  for (int i = nd - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
}

/** JS semantics of storing Math.trunc(v) into an Int32Array (ToInt32: wraps modulo 2^32). */
inline int32_t to_int32(double v) {
  if (!std::isfinite(v)) return 0;
  const double t = std::trunc(v);
  if (t >= -2147483648.0 && t <= 2147483647.0) return static_cast<int32_t>(t);
  double m = std::fmod(t, 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return static_cast<int32_t>(static_cast<uint32_t>(m));
}

template <class To, class From>
inline To convert(From v) {
  if constexpr (std::is_same_v<To, uint8_t>) {
    return v != 0 ? 1 : 0;
  } else if constexpr (std::is_same_v<To, int32_t> && std::is_floating_point_v<From>) {
    return to_int32(static_cast<double>(v));
  } else {
    return static_cast<To>(v);
  }
}

}  // namespace

namespace {

struct Transpose {
  dnnl::reorder prim;
  dnnl::memory::desc src, dst;
};
Cache<Transpose> transpose_cache;

/** The smallest non-zero stride among axes of size > 1 sits on the last such axis. */
bool inner_stride_is_smallest(const View& x) {
  int last = -1;
  for (int i = x.nd - 1; i >= 0; i--)
    if (x.shape[i] > 1) {
      last = i;
      break;
    }
  if (last < 0) return true;
  for (int i = 0; i < last; i++)
    if (x.shape[i] > 1 && x.strides[i] != 0 && x.strides[i] < x.strides[last]) return false;
  return true;
}

}  // namespace

void copy_to_dense(char* out, const View& x) {
  if (x.a.dtype == F32 && x.numel() >= 4096 && !inner_stride_is_smallest(x)) {
    // A transposing copy (e.g. the [1024, 3136] gradient of a linear layer's weight, which
    // arrives as a transposed view) read element by element took 35 ms per CNN step; oneDNN's
    // JIT reorder took 9 ms, and our own 32x32-tiled loop 15-20 ms (TLB misses dominate here).
    std::vector<int64_t> key(x.shape, x.shape + x.nd);
    key.insert(key.end(), x.strides, x.strides + x.nd);
    Transpose* t = transpose_cache.get(key, [&] {
      auto src = view_md(x), dst = plain_md(dims(x.shape, x.shape + x.nd));
      auto pd = dnnl::reorder::primitive_desc(engine(), src, engine(), dst);
      return std::make_unique<Transpose>(Transpose{dnnl::reorder(pd), src, dst});
    });
    dnnl::memory s(t->src, engine(), x.ptr()), d(t->dst, engine(), out);
    t->prim.execute(stream(), s, d);
    return;
  }
  int64_t os[kMaxDims];
  dense_strides(x.nd, x.shape, os);
  const int w = elem_size(x.a.dtype);
  with_width(x.a.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    for_rows<2>(
        x.nd, x.shape, {out, x.ptr()}, {os, x.strides}, {w, w},
        [](const std::array<char*, 2>& p, int64_t n, const std::array<int64_t, 2>& s) {
          T* o = reinterpret_cast<T*>(p[0]);
          const char* src = p[1];
          if (s[1] == static_cast<int64_t>(sizeof(T))) {
            std::memcpy(o, src, n * sizeof(T));
          } else {
            for (int64_t i = 0; i < n; i++) o[i] = *reinterpret_cast<const T*>(src + i * s[1]);
          }
        },
        true);
  });
}

namespace {

// ------------------------------------------------------------------ unary (sin, cos, erf)

Napi::Value UnaryLoop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int op = info[0].As<Napi::Number>().Int32Value();
  Arr out = get_array(env, info[1]);
  Meta m = get_meta(env, info[3]);
  View x;
  if (!read_view(env, info[2], m, x)) return decline(env, "unary", "rank");
  if (x.a.dtype != F32 || out.dtype != F32) return decline(env, "unary", "dtype");
  check(static_cast<int64_t>(out.length) == x.numel(), "output size");
  int64_t os[kMaxDims];
  dense_strides(x.nd, x.shape, os);
  for_rows<2>(
      x.nd, x.shape, {out.data, x.ptr()}, {os, x.strides}, {4, 4},
      [op](const std::array<char*, 2>& p, int64_t n, const std::array<int64_t, 2>& s) {
        float* o = reinterpret_cast<float*>(p[0]);
        const char* src = p[1];
        const int64_t st = s[1];
        switch (op) {
          case 8:
            for (int64_t i = 0; i < n; i++)
              o[i] = std::sin(*reinterpret_cast<const float*>(src + i * st));
            break;
          case 9:
            for (int64_t i = 0; i < n; i++)
              o[i] = std::cos(*reinterpret_cast<const float*>(src + i * st));
            break;
          default:
            for (int64_t i = 0; i < n; i++)
              o[i] = std::erf(*reinterpret_cast<const float*>(src + i * st));
            break;
        }
      },
      true);
  return Napi::Boolean::New(env, true);
}

// ------------------------------------------------------------------ binary

template <class T>
inline T bin(int op, T a, T b) {
  switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return a / b;
    case 4: return static_cast<T>(std::pow(static_cast<double>(a), static_cast<double>(b)));
    default: return a > b || a != a ? a : b;  // maximum: NaN from either side propagates
  }
}

template <class T, int OP>
void bin_run(T* o, const char* a, const char* b, int64_t n, int64_t sa, int64_t sb) {
  if (sa == sizeof(T) && sb == sizeof(T)) {
    const T* x = reinterpret_cast<const T*>(a);
    const T* y = reinterpret_cast<const T*>(b);
#pragma omp simd
    for (int64_t i = 0; i < n; i++) o[i] = bin<T>(OP, x[i], y[i]);
  } else if (sb == 0) {
    const T y = *reinterpret_cast<const T*>(b);
    for (int64_t i = 0; i < n; i++) o[i] = bin<T>(OP, *reinterpret_cast<const T*>(a + i * sa), y);
  } else {
    for (int64_t i = 0; i < n; i++)
      o[i] = bin<T>(OP, *reinterpret_cast<const T*>(a + i * sa),
                    *reinterpret_cast<const T*>(b + i * sb));
  }
}

template <class T>
void binary_typed(int op, const Arr& out, const View& a, const View& b) {
  int64_t os[kMaxDims];
  dense_strides(a.nd, a.shape, os);
  const int w = sizeof(T);
  for_rows<3>(
      a.nd, a.shape, {out.data, a.ptr(), b.ptr()}, {os, a.strides, b.strides}, {w, w, w},
      [op](const std::array<char*, 3>& p, int64_t n, const std::array<int64_t, 3>& s) {
        T* o = reinterpret_cast<T*>(p[0]);
        switch (op) {
          case 0: bin_run<T, 0>(o, p[1], p[2], n, s[1], s[2]); break;
          case 1: bin_run<T, 1>(o, p[1], p[2], n, s[1], s[2]); break;
          case 2: bin_run<T, 2>(o, p[1], p[2], n, s[1], s[2]); break;
          case 3: bin_run<T, 3>(o, p[1], p[2], n, s[1], s[2]); break;
          case 4: bin_run<T, 4>(o, p[1], p[2], n, s[1], s[2]); break;
          default: bin_run<T, 5>(o, p[1], p[2], n, s[1], s[2]); break;
        }
      },
      true);
}

}  // namespace

/** The general strided binary loop (also the fallback of the oneDNN binary path). */
bool binary_loop(int op, const Arr& out, const View& a, const View& b) {
  if (a.a.dtype != out.dtype || b.a.dtype != out.dtype) return false;
  if (out.dtype == F32) binary_typed<float>(op, out, a, b);
  else if (out.dtype == F64) binary_typed<double>(op, out, a, b);
  else return false;
  return true;
}

namespace {

/** Merge adjacent axes of one strided operand (dropping size-1 axes); returns the rank. */
int coalesce1(int nd, const int64_t* shape, const int64_t* strides, int64_t* cs, int64_t* cst) {
  int n = 0;
  for (int i = 0; i < nd; i++) {
    if (shape[i] == 1) continue;
    if (n > 0 && cst[n - 1] == strides[i] * shape[i]) {
      cs[n - 1] *= shape[i];
      cst[n - 1] = strides[i];
    } else {
      cs[n] = shape[i];
      cst[n++] = strides[i];
    }
  }
  return n;
}

/** Offset of flat index `e` (row-major over shape) under `strides`. */
inline int64_t offset_of(int64_t e, int nd, const int64_t* shape, const int64_t* strides) {
  int64_t off = 0;
  for (int d = nd - 1; d >= 0; d--) {
    off += (e % shape[d]) * strides[d];
    e /= shape[d];
  }
  return off;
}

template <bool MAX>
inline double fold(double acc, double v) {
  if constexpr (MAX) return v > acc || v != v ? v : acc;
  else return acc + v;
}

/**
 * Sum or max of a strided float32 view over the axes flagged in `red`, into dense `out` (the kept
 * axes in order). Accumulates in double, like the reference. When the innermost axis is reduced,
 * each output element reduces its block with a contiguous inner loop; otherwise every reduced
 * position adds a strided row of kept elements into per-thread accumulators.
 */
template <bool MAX>
void reduce_loop(const View& x, const bool* red, float* out) {
  int64_t ks[kMaxDims], kst[kMaxDims], rs[kMaxDims], rst[kMaxDims];
  int kn = 0, rn = 0;
  for (int i = 0; i < x.nd; i++) {
    if (red[i]) {
      rs[rn] = x.shape[i];
      rst[rn++] = x.strides[i];
    } else {
      ks[kn] = x.shape[i];
      kst[kn++] = x.strides[i];
    }
  }
  int64_t cks[kMaxDims], ckst[kMaxDims], crs[kMaxDims], crst[kMaxDims];
  kn = coalesce1(kn, ks, kst, cks, ckst);
  rn = coalesce1(rn, rs, rst, crs, crst);
  int64_t nout = 1, nred = 1;
  for (int i = 0; i < kn; i++) nout *= cks[i];
  for (int i = 0; i < rn; i++) nred *= crs[i];
  const float* base = x.at<float>();
  const double init = MAX ? -INFINITY : 0.0;
  const bool parallel = nout * nred >= kParallelMin;
  // Inner strategy when the reduced axes hold the smallest stride (or nothing is kept).
  const bool inner = kn == 0 || (rn > 0 && crst[rn - 1] <= ckst[kn - 1]);
  if (inner) {
    const int64_t len = rn > 0 ? crs[rn - 1] : 1, st = rn > 0 ? crst[rn - 1] : 0;
    const int64_t rows = nred / len;
#pragma omp parallel for schedule(static) if (parallel && nout > 1)
    for (int64_t o = 0; o < nout; o++) {
      const float* b = base + offset_of(o, kn, cks, ckst);
      double acc = init;
      for (int64_t r = 0; r < rows; r++) {
        const float* p = b + offset_of(r, rn - 1, crs, crst);
        if constexpr (MAX) {
          for (int64_t i = 0; i < len; i++) acc = fold<true>(acc, p[i * st]);
        } else if (st == 1) {
#pragma omp simd reduction(+ : acc)
          for (int64_t i = 0; i < len; i++) acc += p[i];
        } else {
          for (int64_t i = 0; i < len; i++) acc += p[i * st];
        }
      }
      out[o] = static_cast<float>(acc);
    }
    return;
  }
  // Outer strategy: split the outputs across threads; each walks every reduced position.
  const int64_t klen = cks[kn - 1], kstep = ckst[kn - 1];
#pragma omp parallel if (parallel && nout >= 64)
  {
    const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t chunk = (nout + nt - 1) / nt;
    const int64_t e0 = std::min(nout, t * chunk), e1 = std::min(nout, e0 + chunk);
    if (e0 < e1) {
      std::vector<double> acc(e1 - e0, init);
      for (int64_t r = 0; r < nred; r++) {
        const float* b = base + offset_of(r, rn, crs, crst);
        // Walk outputs e0..e1 as runs along the innermost kept axis.
        int64_t e = e0;
        while (e < e1) {
          const int64_t c = e % klen, n = std::min(klen - c, e1 - e);
          const float* p = b + offset_of(e, kn, cks, ckst);
          double* a = acc.data() + (e - e0);
          if constexpr (MAX) {
            for (int64_t i = 0; i < n; i++) a[i] = fold<true>(a[i], p[i * kstep]);
          } else if (kstep == 1) {
#pragma omp simd
            for (int64_t i = 0; i < n; i++) a[i] += p[i];
          } else {
            for (int64_t i = 0; i < n; i++) a[i] += p[i * kstep];
          }
          e += n;
        }
      }
      for (int64_t i = 0; i < e1 - e0; i++) out[e0 + i] = static_cast<float>(acc[i]);
    }
  }
}

}  // namespace

void reduce_f32(bool max, const View& x, const bool* red, float* out) {
  if (max) reduce_loop<true>(x, red, out);
  else reduce_loop<false>(x, red, out);
}

namespace {

Napi::Value BinaryLoop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int op = info[0].As<Napi::Number>().Int32Value();
  Arr out = get_array(env, info[1]);
  Meta m = get_meta(env, info[4]);
  View a, b;
  if (!read_view(env, info[2], m, a) || !read_view(env, info[3], m, b))
    return decline(env, "binary", "rank");
  check(same_shape(a, b) && static_cast<int64_t>(out.length) == a.numel(), "operand shapes");
  return Napi::Boolean::New(env, binary_loop(op, out, a, b));
}

// ------------------------------------------------------------------ cmp, where, cast

template <int OP, class T>
inline uint8_t compare(T x, T y) {
  if constexpr (OP == 0) return x == y;
  else if constexpr (OP == 1) return x != y;
  else if constexpr (OP == 2) return x < y;
  else if constexpr (OP == 3) return x <= y;
  else if constexpr (OP == 4) return x > y;
  else return x >= y;
}

template <int OP, class T>
void cmp_run(uint8_t* o, const char* a, const char* b, int64_t n, int64_t sa, int64_t sb) {
  constexpr int64_t w = sizeof(T);
  if (sa == w && sb == w) {
    const T* x = reinterpret_cast<const T*>(a);
    const T* y = reinterpret_cast<const T*>(b);
#pragma omp simd
    for (int64_t i = 0; i < n; i++) o[i] = compare<OP>(x[i], y[i]);
  } else if (sa == w && sb == 0) {
    // Against a broadcast scalar (x > 0 in relu's gradient): the common case, vectorised.
    const T* x = reinterpret_cast<const T*>(a);
    const T y = *reinterpret_cast<const T*>(b);
#pragma omp simd
    for (int64_t i = 0; i < n; i++) o[i] = compare<OP>(x[i], y);
  } else {
    for (int64_t i = 0; i < n; i++)
      o[i] = compare<OP>(*reinterpret_cast<const T*>(a + i * sa),
                         *reinterpret_cast<const T*>(b + i * sb));
  }
}

Napi::Value Cmp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int op = info[0].As<Napi::Number>().Int32Value();
  Arr out = get_array(env, info[1]);
  Meta m = get_meta(env, info[4]);
  View a, b;
  if (!read_view(env, info[2], m, a) || !read_view(env, info[3], m, b))
    return decline(env, "cmp", "rank");
  if (a.a.dtype != b.a.dtype || out.dtype != U8) return decline(env, "cmp", "dtype");
  check(same_shape(a, b) && static_cast<int64_t>(out.length) == a.numel(), "operand shapes");
  int64_t os[kMaxDims];
  dense_strides(a.nd, a.shape, os);
  const int w = elem_size(a.a.dtype);
  with_type(a.a.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    for_rows<3>(
        a.nd, a.shape, {out.data, a.ptr(), b.ptr()}, {os, a.strides, b.strides}, {1, w, w},
        [op](const std::array<char*, 3>& p, int64_t n, const std::array<int64_t, 3>& s) {
          uint8_t* o = reinterpret_cast<uint8_t*>(p[0]);
          switch (op) {
            case 0: cmp_run<0, T>(o, p[1], p[2], n, s[1], s[2]); break;
            case 1: cmp_run<1, T>(o, p[1], p[2], n, s[1], s[2]); break;
            case 2: cmp_run<2, T>(o, p[1], p[2], n, s[1], s[2]); break;
            case 3: cmp_run<3, T>(o, p[1], p[2], n, s[1], s[2]); break;
            case 4: cmp_run<4, T>(o, p[1], p[2], n, s[1], s[2]); break;
            default: cmp_run<5, T>(o, p[1], p[2], n, s[1], s[2]); break;
          }
        },
        true);
  });
  return Napi::Boolean::New(env, true);
}

Napi::Value Where(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Arr out = get_array(env, info[0]);
  Meta m = get_meta(env, info[4]);
  View c, a, b;
  if (!read_view(env, info[1], m, c) || !read_view(env, info[2], m, a) ||
      !read_view(env, info[3], m, b))
    return decline(env, "where", "rank");
  if (c.a.dtype != U8 || a.a.dtype != out.dtype || b.a.dtype != out.dtype)
    return decline(env, "where", "dtype");
  check(same_shape(c, a) && same_shape(a, b) && static_cast<int64_t>(out.length) == a.numel(),
        "operand shapes");
  int64_t os[kMaxDims];
  dense_strides(a.nd, a.shape, os);
  const int w = elem_size(out.dtype);
  with_width(out.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    for_rows<4>(
        a.nd, a.shape, {out.data, c.ptr(), a.ptr(), b.ptr()}, {os, c.strides, a.strides, b.strides},
        {w, 1, w, w},
        [](const std::array<char*, 4>& p, int64_t n, const std::array<int64_t, 4>& s) {
          T* o = reinterpret_cast<T*>(p[0]);
          for (int64_t i = 0; i < n; i++)
            o[i] = p[1][i * s[1]] ? *reinterpret_cast<const T*>(p[2] + i * s[2])
                                  : *reinterpret_cast<const T*>(p[3] + i * s[3]);
        },
        true);
  });
  return Napi::Boolean::New(env, true);
}

/** cast and the copying reshape: out (dense, its own dtype) = convert(x). */
Napi::Value Cast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Arr out = get_array(env, info[0]);
  Meta m = get_meta(env, info[2]);
  View x;
  if (!read_view(env, info[1], m, x)) return decline(env, "cast", "rank");
  check(static_cast<int64_t>(out.length) == x.numel(), "output size");
  if (x.a.dtype == out.dtype) {
    copy_to_dense(out.data, x);
    return Napi::Boolean::New(env, true);
  }
  int64_t os[kMaxDims];
  dense_strides(x.nd, x.shape, os);
  with_type(out.dtype, [&](auto to) {
    using To = typename decltype(to)::type;
    with_type(x.a.dtype, [&](auto from) {
      using From = typename decltype(from)::type;
      for_rows<2>(
          x.nd, x.shape, {out.data, x.ptr()}, {os, x.strides},
          {static_cast<int>(sizeof(To)), static_cast<int>(sizeof(From))},
          [](const std::array<char*, 2>& p, int64_t n, const std::array<int64_t, 2>& s) {
            To* o = reinterpret_cast<To*>(p[0]);
            if (s[1] == static_cast<int64_t>(sizeof(From))) {
              const From* x = reinterpret_cast<const From*>(p[1]);
#pragma omp simd
              for (int64_t i = 0; i < n; i++) o[i] = convert<To, From>(x[i]);
            } else {
              for (int64_t i = 0; i < n; i++)
                o[i] = convert<To, From>(*reinterpret_cast<const From*>(p[1] + i * s[1]));
            }
          },
          true);
    });
  });
  return Napi::Boolean::New(env, true);
}

// ------------------------------------------------------------------ pad, concat

/** Copy view x into the box of dense `out` (shape oshape) starting at `starts`. */
void copy_to_box(const Arr& out, int nd, const int64_t* oshape, const int64_t* starts,
                 const View& x) {
  int64_t os[kMaxDims];
  dense_strides(nd, oshape, os);
  int64_t off = 0;
  for (int i = 0; i < nd; i++) off += starts[i] * os[i];
  const int w = elem_size(x.a.dtype);
  with_width(x.a.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    for_rows<2>(
        x.nd, x.shape, {out.data + off * w, x.ptr()}, {os, x.strides}, {w, w},
        [](const std::array<char*, 2>& p, int64_t n, const std::array<int64_t, 2>& s) {
          if (s[0] == static_cast<int64_t>(sizeof(T)) && s[1] == static_cast<int64_t>(sizeof(T))) {
            std::memcpy(p[0], p[1], n * sizeof(T));
          } else {
            for (int64_t i = 0; i < n; i++)
              *reinterpret_cast<T*>(p[0] + i * s[0]) = *reinterpret_cast<const T*>(p[1] + i * s[1]);
          }
        },
        true);
  });
}

Napi::Value Pad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Arr out = get_array(env, info[0]);
  Meta m = get_meta(env, info[2]);
  View x;
  if (!read_view(env, info[1], m, x)) return decline(env, "pad", "rank");
  int64_t starts[kMaxDims], oshape[kMaxDims];
  for (int i = 0; i < x.nd; i++) oshape[i] = m.next();
  for (int i = 0; i < x.nd; i++) starts[i] = m.next();
  const double value = m.nextf();
  for (int i = 0; i < x.nd; i++) {
    // Negative padding (cropping) is left to the reference kernel.
    if (starts[i] < 0 || starts[i] + x.shape[i] > oshape[i]) return decline(env, "pad", "crop");
  }
  check_size(static_cast<int64_t>(out.length), checked_numel(x.nd, oshape), "pad output length");
  if (out.dtype != x.a.dtype || (out.dtype != F32 && out.dtype != F64))
    return decline(env, "pad", "dtype");
  if (value != 0) {
    if (out.dtype == F32) std::fill_n(reinterpret_cast<float*>(out.data), out.length, float(value));
    else std::fill_n(reinterpret_cast<double*>(out.data), out.length, value);
  }
  copy_to_box(out, x.nd, oshape, starts, x);
  return Napi::Boolean::New(env, true);
}

Napi::Value Concat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // Reading a JS array's elements may run getters, which could detach or shrink a buffer already
  // decoded: take the elements first, then every pointer.
  Napi::Array arrays = info[1].As<Napi::Array>();
  const uint32_t count = arrays.Length();
  std::vector<Napi::Value> inputs(count);
  for (uint32_t k = 0; k < count; k++) inputs[k] = arrays.Get(k);
  Arr out = get_array(env, info[0]);
  Meta m = get_meta(env, info[2]);
  const int64_t axis = m.next();
  int nd;
  int64_t oshape[kMaxDims];
  if (!read_shape(m, nd, oshape)) return decline(env, "concat", "rank");
  check(axis >= 0 && axis < nd, "concat axis");
  // Decode and check every input before writing anything.
  std::vector<View> views(count);
  int64_t along = 0;
  for (uint32_t k = 0; k < count; k++) {
    if (!read_view(env, inputs[k], m, views[k])) return decline(env, "concat", "rank");
    if (views[k].a.dtype != out.dtype) return decline(env, "concat", "dtype");
    check(views[k].nd == nd, "input rank");
    for (int i = 0; i < nd; i++)
      check(i == axis || views[k].shape[i] == oshape[i], "input shape");
    along += views[k].shape[axis];
  }
  int64_t starts[kMaxDims] = {};
  check_size(along, oshape[axis], "concat inputs' total size along the axis");
  check_size(static_cast<int64_t>(out.length), checked_numel(nd, oshape), "concat output length");
  for (uint32_t k = 0; k < count; k++) {
    copy_to_box(out, nd, oshape, starts, views[k]);
    starts[axis] += views[k].shape[axis];
  }
  return Napi::Boolean::New(env, true);
}

// ------------------------------------------------------------------ argmax

Napi::Value Argmax(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Arr out = get_array(env, info[0]);
  Meta m = get_meta(env, info[2]);
  View x;
  if (!read_view(env, info[1], m, x)) return decline(env, "argmax", "rank");
  const int64_t axis = m.next();
  if (out.dtype != I32 || (x.a.dtype != F32 && x.a.dtype != F64))
    return decline(env, "argmax", "dtype");
  check(axis >= 0 && axis < x.nd && x.shape[axis] > 0 &&
            static_cast<int64_t>(out.length) * x.shape[axis] == x.numel(),
        "output size");
  // Walk the kept axes; each output element scans its axis.
  int64_t kshape[kMaxDims], kstr[kMaxDims], os[kMaxDims];
  int kn = 0;
  for (int i = 0; i < x.nd; i++)
    if (i != axis) {
      kshape[kn] = x.shape[i];
      kstr[kn++] = x.strides[i];
    }
  dense_strides(kn, kshape, os);
  const int64_t len = x.shape[axis], st = x.strides[axis];
  with_type(x.a.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>) {
      for_rows<2>(
          kn, kshape, {out.data, x.ptr()}, {os, kstr}, {4, static_cast<int>(sizeof(T))},
          [len, st](const std::array<char*, 2>& p, int64_t n, const std::array<int64_t, 2>& s) {
            int32_t* o = reinterpret_cast<int32_t*>(p[0]);
            for (int64_t j = 0; j < n; j++) {
              const T* d = reinterpret_cast<const T*>(p[1] + j * s[1]);
              T best = d[0];
              int32_t at = 0;
              // The first maximum wins; a NaN counts as the maximum (PyTorch semantics).
              for (int64_t i = 1; i < len && best == best; i++) {
                const T v = d[i * st];
                if (v > best || v != v) {
                  best = v;
                  at = static_cast<int32_t>(i);
                }
              }
              o[j] = at;
            }
          },
          len > 64);
    }
  });
  return Napi::Boolean::New(env, true);
}

// ------------------------------------------------------------------ gather, scatterAdd

/** Index of the first out-of-range index element, or -1. Checked before anything is written. */
int64_t first_bad_index(const View& idx, int64_t size, int32_t* bad_value) {
  int64_t os[kMaxDims];
  dense_strides(idx.nd, idx.shape, os);
  int64_t found = -1;
  for_rows<1>(
      idx.nd, idx.shape, {idx.ptr()}, {idx.strides}, {4},
      [&](const std::array<char*, 1>& p, int64_t n, const std::array<int64_t, 1>& s) {
        for (int64_t i = 0; i < n; i++) {
          const int32_t v = *reinterpret_cast<const int32_t*>(p[0] + i * s[0]);
          if (v < 0 || v >= size) {
            if (found < 0) {
              found = 1;
              *bad_value = v;
            }
            return;
          }
        }
      },
      false);
  return found;
}

Napi::Value Gather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Arr out = get_array(env, info[0]);
  Meta m = get_meta(env, info[3]);
  View x, idx;
  if (!read_view(env, info[1], m, x) || !read_view(env, info[2], m, idx))
    return decline(env, "gather", "rank");
  const int64_t axis = m.next();
  if (idx.a.dtype != I32 || x.a.dtype != out.dtype) return decline(env, "gather", "dtype");
  check(axis >= 0 && axis < x.nd && idx.nd == x.nd &&
            static_cast<int64_t>(out.length) == idx.numel(),
        "index shape");
  for (int i = 0; i < x.nd; i++) check(i == axis || idx.shape[i] <= x.shape[i], "index shape");
  int32_t bad = 0;
  if (first_bad_index(idx, x.shape[axis], &bad) >= 0) return Napi::Number::New(env, bad);
  int64_t os[kMaxDims], xs[kMaxDims];
  dense_strides(idx.nd, idx.shape, os);
  for (int i = 0; i < x.nd; i++) xs[i] = i == axis ? 0 : x.strides[i];
  const int w = elem_size(x.a.dtype);
  const int64_t step = x.strides[axis] * w;
  with_width(x.a.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    for_rows<3>(
        idx.nd, idx.shape, {out.data, idx.ptr(), x.ptr()}, {os, idx.strides, xs}, {w, 4, w},
        [step](const std::array<char*, 3>& p, int64_t n, const std::array<int64_t, 3>& s) {
          T* o = reinterpret_cast<T*>(p[0]);
          for (int64_t i = 0; i < n; i++) {
            const int32_t v = *reinterpret_cast<const int32_t*>(p[1] + i * s[1]);
            o[i] = *reinterpret_cast<const T*>(p[2] + i * s[2] + v * step);
          }
        },
        true);
  });
  return Napi::Boolean::New(env, true);
}

Napi::Value ScatterAdd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Arr out = get_array(env, info[0]);
  Meta m = get_meta(env, info[3]);
  View src, idx;
  if (!read_view(env, info[1], m, src) || !read_view(env, info[2], m, idx))
    return decline(env, "scatterAdd", "rank");
  const int64_t axis = m.next();
  int nd;
  int64_t shape[kMaxDims];
  if (!read_shape(m, nd, shape)) return decline(env, "scatterAdd", "rank");
  if (idx.a.dtype != I32 || src.a.dtype != out.dtype || (out.dtype != F32 && out.dtype != F64))
    return decline(env, "scatterAdd", "dtype");
  check(axis >= 0 && axis < nd && idx.nd == nd && same_shape(src, idx) &&
            static_cast<int64_t>(out.length) == checked_numel(nd, shape),
        "index shape");
  for (int i = 0; i < nd; i++) check(i == axis || idx.shape[i] <= shape[i], "index shape");
  int32_t bad = 0;
  if (first_bad_index(idx, shape[axis], &bad) >= 0) return Napi::Number::New(env, bad);
  int64_t ts[kMaxDims], full[kMaxDims];
  dense_strides(nd, shape, full);
  for (int i = 0; i < nd; i++) ts[i] = i == axis ? 0 : full[i];
  const int w = elem_size(out.dtype);
  const int64_t step = full[axis] * w;
  // Two runs of the walk can hit one target only when they differ along `axis` alone; when axis
  // is the last one every run covers a whole axis, so runs never collide and threads may split
  // them. Otherwise the walk stays serial.
  bool last = true;
  for (int i = axis + 1; i < idx.nd; i++)
    if (idx.shape[i] != 1) last = false;
  with_type(out.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>) {
      auto body = [step](const std::array<char*, 3>& p, int64_t n,
                         const std::array<int64_t, 3>& s) {
        for (int64_t i = 0; i < n; i++) {
          const int32_t v = *reinterpret_cast<const int32_t*>(p[1] + i * s[1]);
          T* t = reinterpret_cast<T*>(p[2] + i * s[2] + v * step);
          *t += *reinterpret_cast<const T*>(p[0] + i * s[0]);
        }
      };
      if (last && idx.shape[axis] > 1 && idx.nd > 1) {
        // Parallel over whole rows: walk the outer axes, each thread owning complete rows.
        const int64_t len = idx.shape[axis];
        int64_t rows = 1;
        for (int i = 0; i < axis; i++) rows *= idx.shape[i];
        int64_t oshape[kMaxDims];
        for (int i = 0; i < axis; i++) oshape[i] = idx.shape[i];
        int64_t rs[3][kMaxDims];
        for (int i = 0; i < axis; i++) {
          rs[0][i] = src.strides[i];
          rs[1][i] = idx.strides[i];
          rs[2][i] = ts[i];
        }
        const int64_t sa = src.strides[axis] * w, ia = idx.strides[axis] * 4;
        for_rows<3>(
            axis, oshape, {src.ptr(), idx.ptr(), out.data}, {rs[0], rs[1], rs[2]}, {w, 4, w},
            [&](const std::array<char*, 3>& p, int64_t n, const std::array<int64_t, 3>& s) {
              for (int64_t r = 0; r < n; r++) {
                std::array<char*, 3> q = {p[0] + r * s[0], p[1] + r * s[1], p[2] + r * s[2]};
                body(q, len, {sa, ia, 0});
              }
            },
            rows * len >= kParallelMin);
      } else {
        for_rows<3>(idx.nd, idx.shape, {src.ptr(), idx.ptr(), out.data},
                    {src.strides, idx.strides, ts}, {w, 4, w}, body, false);
      }
    }
  });
  return Napi::Boolean::New(env, true);
}

// ------------------------------------------------------------------ max-pool window indices

/**
 * The common 2x2 stride-2 unpadded window over dense rows, as a plain function of one plane (the
 * general loop below is ~5x slower for it). Windows holding a NaN go to `general`.
 */
template <class T>
void pool2x2_plane(const T* __restrict plane, int64_t s2, int64_t W, int32_t* __restrict op,
                   int64_t oh, int64_t ow, bool& had_nan) {
  for (int64_t oy = 0; oy < oh; oy++) {
    const T* r0 = plane + 2 * oy * s2;
    const T* r1 = r0 + s2;
    const int32_t top = static_cast<int32_t>(2 * oy * W);
    for (int64_t ox = 0; ox < ow; ox++) {
      const T a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
      had_nan |= (a != a) | (b != b) | (c != c) | (d != d);
      const int32_t base = top + static_cast<int32_t>(2 * ox);
      // Strict > keeps the first maximum, as the reference.
      T best = a;
      int32_t at = base;
      at = b > best ? base + 1 : at;
      best = b > best ? b : best;
      at = c > best ? base + static_cast<int32_t>(W) : at;
      best = c > best ? c : best;
      at = d > best ? base + static_cast<int32_t>(W) + 1 : at;
      op[oy * ow + ox] = at;
    }
  }
}

/**
 * The float32 case of pool2x2_plane without branches: on random data the scalar loop's
 * comparisons compile to branches that mispredict about half the time (~20 ns per window
 * measured). Here each comparison is a 0/1 that moves the index arithmetically, and the running
 * maximum is a max instruction. Rows are too short (14 windows at 28×28) for vector lanes to help.
 */
TSG_CLONES
void pool2x2_plane_f32(const float* __restrict plane, int64_t s2, int64_t W,
                       int32_t* __restrict op, int64_t oh, int64_t ow, bool& had_nan) {
  int nan = 0;
  const int32_t w32 = static_cast<int32_t>(W);
  for (int64_t oy = 0; oy < oh; oy++) {
    const float* r0 = plane + 2 * oy * s2;
    const float* r1 = r0 + s2;
    int32_t* o = op + oy * ow;
    const int32_t top = static_cast<int32_t>(2 * oy * W);
    for (int64_t ox = 0; ox < ow; ox++) {
      const float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
      nan |= (a != a) | (b != b) | (c != c) | (d != d);
      // Strict > keeps the first maximum, as the reference: the offset within the window.
      const int32_t tb = b > a;
      const float m1 = tb ? b : a;
      const int32_t tc = c > m1;
      const float m2 = tc ? c : m1;
      const int32_t td = d > m2;
      int32_t off = tb;
      off += tc * (w32 - off);
      off += td * (w32 + 1 - off);
      o[ox] = top + 2 * static_cast<int32_t>(ox) + off;
    }
  }
  had_nan |= nan != 0;
}

/**
 * 3×3 stride-2 windows (AlexNet's overlapping pool) that lie wholly inside the plane: output rows
 * [oy0, oy1) and columns [ox0, ox1), with padding (ph, pw) shifting the window origins. Written
 * as two contiguous select loops that the compiler vectorises: first each input column's maximum
 * over the window's three rows (split into even and odd columns, so the second loop reads unit
 * strides), then each window's maximum over its three columns. Ties resolve to the first maximum
 * in the reference's row-major scan: the smallest row, then the smallest column. Against the
 * general loop below, the first pool of AlexNet at 28×28 (128×32 planes, one thread) measured
 * 42–45 ms → 19–29 ms; a scalar nine-tap version compiled to branches and gained little.
 * Sets `nan` when a window holds a NaN (the caller then redoes the plane by the NaN rules).
 */
TSG_CLONES
void pool3x3s2_interior_f32(const float* __restrict plane, int64_t s2, int64_t W, int64_t ph,
                            int64_t pw, int32_t* __restrict op, int64_t ow, int64_t oy0,
                            int64_t oy1, int64_t ox0, int64_t ox1, int& nan) {
  const int64_t n = ox1 - ox0, xs = 2 * ox0 - pw;
  const int32_t w32 = static_cast<int32_t>(W);
  // ev/od: column maxima of columns xs + 2k and xs + 2k + 1; er/orow: their row offsets (0, W, 2W).
  // Per-thread scratch, kept between calls: this runs once per plane.
  thread_local std::vector<float> fs;
  thread_local std::vector<int32_t> is;
  if (fs.size() < static_cast<size_t>(2 * n + 1)) {
    fs.resize(2 * n + 1);
    is.resize(2 * n + 1);
  }
  float* __restrict e = fs.data();
  float* __restrict o = e + n + 1;
  int32_t* __restrict re = is.data();
  int32_t* __restrict ro = re + n + 1;
  int bad = 0;
  for (int64_t oy = oy0; oy < oy1; oy++) {
    const int64_t iy = 2 * oy - ph;
    const float* __restrict r0 = plane + iy * s2 + xs;
    const float* __restrict r1 = r0 + s2;
    const float* __restrict r2 = r1 + s2;
#pragma omp simd reduction(| : bad)
    for (int64_t k = 0; k <= n; k++) {
      const float a = r0[2 * k], b = r1[2 * k], c = r2[2 * k];
      bad |= (a != a) | (b != b) | (c != c);
      const float m1 = b > a ? b : a;
      const int32_t i1 = b > a ? w32 : 0;
      e[k] = c > m1 ? c : m1;
      re[k] = c > m1 ? 2 * w32 : i1;
    }
#pragma omp simd reduction(| : bad)
    for (int64_t k = 0; k < n; k++) {
      const float a = r0[2 * k + 1], b = r1[2 * k + 1], c = r2[2 * k + 1];
      bad |= (a != a) | (b != b) | (c != c);
      const float m1 = b > a ? b : a;
      const int32_t i1 = b > a ? w32 : 0;
      o[k] = c > m1 ? c : m1;
      ro[k] = c > m1 ? 2 * w32 : i1;
    }
    int32_t* __restrict out = op + oy * ow + ox0;
    const int32_t top = static_cast<int32_t>(iy * W + xs);
#pragma omp simd
    for (int64_t k = 0; k < n; k++) {
      // Window k spans columns 2k, 2k + 1, 2k + 2 (relative to xs).
      float best = e[k];
      int32_t at = re[k];
      const bool tb = o[k] > best || (o[k] == best && ro[k] < at);
      best = tb ? o[k] : best;
      at = tb ? ro[k] + 1 : at;
      // `at` now holds row + column; compare rows by stripping the column (0 or 1).
      const int32_t row = tb ? ro[k] : re[k];
      const bool tc = e[k + 1] > best || (e[k + 1] == best && re[k + 1] < row);
      at = tc ? re[k + 1] + 2 : at;
      out[k] = top + 2 * static_cast<int32_t>(k) + at;
    }
  }
  nan |= bad;
}

Napi::Value MaxPoolIndices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Arr out = get_array(env, info[0]);
  Meta m = get_meta(env, info[2]);
  View x;
  if (!read_view(env, info[1], m, x)) return decline(env, "maxPool2dIndices", "rank");
  int64_t g[10];
  for (auto& v : g) v = m.next();
  const int64_t oh = g[0], ow = g[1], kh = g[2], kw = g[3], sh = g[4], sw = g[5], ph = g[6],
                pw = g[7], dh = g[8], dw = g[9];
  if (x.nd != 4 || out.dtype != I32 || (x.a.dtype != F32 && x.a.dtype != F64) || x.numel() == 0)
    return decline(env, "maxPool2dIndices", "dtype");
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  // The window clipping below assumes the rule table's geometry (positive kernel, stride and
  // dilation, padding at most half the kernel), and its int32 arithmetic (window offsets, plane
  // indices) sizes below 2^30 and planes below 2^31 elements: beyond that the reference runs.
  check(kh >= 1 && kw >= 1 && sh >= 1 && sw >= 1 && dh >= 1 && dw >= 1 && ph >= 0 && pw >= 0 &&
            2 * ph <= kh && 2 * pw <= kw,
        "max-pool geometry");
  constexpr int64_t kBig = int64_t{1} << 30;
  if (kh > kBig || kw > kBig || sh > kBig || sw > kBig || dh > kBig || dw > kBig ||
      H * W > INT32_MAX)
    return decline(env, "maxPool2dIndices", "sizes beyond int32 indices");
  // At most one window per padded input position (a window starts every `stride` positions).
  check(oh >= 0 && ow >= 0 && oh <= H + 2 * ph && ow <= W + 2 * pw, "max-pool output size");
  const int64_t oshape[4] = {N, C, oh, ow};
  check_size(static_cast<int64_t>(out.length), checked_numel(4, oshape),
             "maxPoolIndices output length");
  const int64_t s0 = x.strides[0], s1 = x.strides[1], s2 = x.strides[2], s3 = x.strides[3];
  with_type(x.a.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>) {
      const T* base = x.at<T>();
      int32_t* o = reinterpret_cast<int32_t*>(out.data);
      const int64_t planes = N * C;
      // Valid kernel rows/columns for each output row/column, computed once instead of bounds
      // checks per element (those made this loop ~10x slower than the reads it does).
      std::vector<int32_t> ilo(oh), ihi(oh), jlo(ow), jhi(ow);
      auto clip = [](int64_t o, int64_t s, int64_t p, int64_t d, int64_t k, int64_t n, int32_t& lo,
                     int32_t& hi) {
        const int64_t start = o * s - p;
        int64_t l = 0, h = k;
        while (l < k && start + l * d < 0) l++;
        while (h > l && start + (h - 1) * d >= n) h--;
        lo = static_cast<int32_t>(l);
        hi = static_cast<int32_t>(h);
      };
      for (int64_t oy = 0; oy < oh; oy++) clip(oy, sh, ph, dh, kh, H, ilo[oy], ihi[oy]);
      for (int64_t ox = 0; ox < ow; ox++) clip(ox, sw, pw, dw, kw, W, jlo[ox], jhi[ox]);
      // The common window (2x2, stride 2, no padding, all windows inside the image).
      const bool pair2 = kh == 2 && kw == 2 && sh == 2 && sw == 2 && dh == 1 && dw == 1 &&
                         ph == 0 && pw == 0 && s3 == 1 && 2 * oh <= H && 2 * ow <= W;
      // 3×3 stride 2 (any padding): the windows wholly inside the plane take the vectorised loop,
      // the border ones (only when padded) the general loop.
      const bool three2 = std::is_same_v<T, float> && kh == 3 && kw == 3 && sh == 2 && sw == 2 &&
                          dh == 1 && dw == 1 && s3 == 1;
      auto inside = [](int64_t p, int64_t n, int64_t o) {
        // Output positions o with 0 <= 2o - p and 2o - p + 2 <= n - 1.
        int64_t lo = (p + 1) / 2, hi = (n - 3 + p) >= 0 ? (n - 3 + p) / 2 + 1 : 0;
        return std::pair<int64_t, int64_t>{std::min(lo, o), std::max(std::min(hi, o), std::min(lo, o))};
      };
      const auto [iy0_, iy1_] = inside(ph, H, oh);
      const auto [ix0_, ix1_] = inside(pw, W, ow);
#pragma omp parallel for schedule(static) if (planes * oh * ow >= 4096)
      for (int64_t pl = 0; pl < planes; pl++) {
        const T* plane = base + (pl / C) * s0 + (pl % C) * s1;
        int32_t* op = o + pl * oh * ow;
        if (pair2) {
          bool had_nan = false;
          if constexpr (std::is_same_v<T, float>) {
            pool2x2_plane_f32(plane, s2, W, op, oh, ow, had_nan);
          } else {
            pool2x2_plane<T>(plane, s2, W, op, oh, ow, had_nan);
          }
          if (!had_nan) continue;  // otherwise redo the plane with the NaN rules below
        }
        bool interior_done = false;
        if constexpr (std::is_same_v<T, float>) {
          // Below 4 inside columns (small padded maps) the split costs more than it saves.
          if (three2 && iy1_ > iy0_ && ix1_ - ix0_ >= 4) {
            int nan = 0;
            pool3x3s2_interior_f32(plane, s2, W, ph, pw, op, ow, iy0_, iy1_, ix0_, ix1_, nan);
            interior_done = nan == 0;
          }
        }
        for (int64_t oy = 0; oy < oh; oy++) {
          const int64_t iy0 = oy * sh - ph;
          const bool row_inside = interior_done && oy >= iy0_ && oy < iy1_;
          for (int64_t ox = 0; ox < ow; ox++) {
            if (row_inside && ox >= ix0_ && ox < ix1_) {
              ox = ix1_ - 1;  // done by the vectorised loop
              continue;
            }
            const int64_t ix0 = ox * sw - pw;
            T best = -std::numeric_limits<T>::infinity();
            int64_t at = -1;
            for (int32_t i = ilo[oy]; i < ihi[oy]; i++) {
              const int64_t iy = iy0 + i * dh;
              const T* row = plane + iy * s2;
              for (int32_t j = jlo[ox]; j < jhi[ox]; j++) {
                const int64_t ix = ix0 + j * dw;
                const T v = row[ix * s3];
                if (v != v) {
                  // As the JS reference (and PyTorch): each NaN wins, so the last one is kept.
                  best = v;
                  at = iy * W + ix;
                  continue;
                }
                // Branch-free select: on random data a branch here mispredicts half the time.
                const bool take = (v > best) | (at < 0);
                best = take ? v : best;
                at = take ? iy * W + ix : at;
              }
            }
            op[oy * ow + ox] = static_cast<int32_t>(at);
          }
        }
      }
    }
  });
  return Napi::Boolean::New(env, true);
}

inline uint32_t rotl32(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

/** A JS Generator's float32 uniform from 32 random bits: r / 2^32 (exact in double), rounded. */
inline float unit_float(uint32_t r) {
  return static_cast<float>(static_cast<double>(r) * (1.0 / 4294967296.0));
}

/** xoshiro128** words into `out`; the state advances as the JS Generator's does. */
void xoshiro_words(uint32_t* out, size_t n, uint32_t (&s)[4]) {
  uint32_t s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
  for (size_t i = 0; i < n; i++) {
    out[i] = rotl32(s1 * 5u, 7) * 9u;
    const uint32_t t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl32(s3, 11);
  }
  s[0] = s0;
  s[1] = s1;
  s[2] = s2;
  s[3] = s3;
}

// In place over the words, vectorised: the serial generator loop stays free of int→float
// conversions, whose false register dependency (cvtsi2sd merges into its destination) chained
// the iterations and made a one-pass loop four times slower than the generator alone.
TSG_CLONES
void words_to_unit(float* out, size_t n) {
  const uint32_t* w = reinterpret_cast<const uint32_t*>(out);
  // (float)r · 2^-32 rounds exactly as (float)(r / 2^32): scaling by a power of two commutes
  // with rounding in the normal range. r is converted as hi·65536 + lo, two exact floats summed
  // with one rounding (so the same float): signed int→float vectorises on every x86-64, the
  // unsigned conversion only with AVX-512.
  for (size_t i = 0; i < n; i++) {
    const float hi = static_cast<float>(static_cast<int32_t>(w[i] >> 16));
    const float lo = static_cast<float>(static_cast<int32_t>(w[i] & 0xffffu));
    out[i] = (hi * 65536.0f + lo) * 0x1p-32f;
  }
}

TSG_CLONES
void words_to_mask(float* out, size_t n, uint32_t first_kept, bool none_kept, float scale) {
  const uint32_t* w = reinterpret_cast<const uint32_t*>(out);
  for (size_t i = 0; i < n; i++) out[i] = (!none_kept && w[i] >= first_kept) ? scale : 0.0f;
}

/**
 * Float32 uniforms from xoshiro128**, bit for bit the JS `Generator`'s: out[i] = u, or with
 * `masked` out[i] = u ≥ threshold ? scale : 0 (dropout's scaled keep-mask).
 * meta = [s0, s1, s2, s3, masked, threshold, scale]; the advanced state goes back to meta[0..3].
 * Dropout-heavy Transformer steps draw over ten million of these.
 */
Napi::Value UniformFill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Arr out = get_array(env, info[0]);
  Arr meta = get_array(env, info[1]);
  if (out.dtype != F32) return decline(env, "uniformFill", "float32 output only");
  check(meta.dtype == F64 && meta.length == 7, "meta");
  double* m = reinterpret_cast<double*>(meta.data);
  uint32_t s[4];
  for (int i = 0; i < 4; i++) s[i] = static_cast<uint32_t>(m[i]);
  float* o = reinterpret_cast<float*>(out.data);
  xoshiro_words(reinterpret_cast<uint32_t*>(o), out.length, s);
  if (m[4] != 0) {
    // u(r) is monotone in r, so "u ≥ threshold" is "r ≥ the first r that reaches it": found by
    // bisection once, then an integer compare per element.
    const float threshold = static_cast<float>(m[5]);
    uint64_t lo = 0, hi = uint64_t{1} << 32;
    while (lo < hi) {
      const uint64_t mid = (lo + hi) / 2;
      if (unit_float(static_cast<uint32_t>(mid)) >= threshold) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    words_to_mask(o, out.length, static_cast<uint32_t>(lo), lo > 0xffffffffull,
                  static_cast<float>(m[6]));
  } else {
    words_to_unit(o, out.length);
  }
  for (int i = 0; i < 4; i++) m[i] = s[i];
  return Napi::Boolean::New(env, true);
}

}  // namespace

void init_loops(Napi::Env env, Napi::Object exports) {
  def(env, exports, "unaryLoop", UnaryLoop, 1);
  def(env, exports, "binaryLoop", BinaryLoop, 1);
  def(env, exports, "cmp", Cmp, 1);
  def(env, exports, "where", Where, 0);
  def(env, exports, "cast", Cast, 0);
  def(env, exports, "pad", Pad, 0);
  def(env, exports, "concat", Concat, 0);
  def(env, exports, "argmax", Argmax, 0);
  def(env, exports, "gather", Gather, 0);
  def(env, exports, "scatterAdd", ScatterAdd, 0);
  def(env, exports, "maxPoolIndices", MaxPoolIndices, 0);
  def(env, exports, "uniformFill", UniformFill);
}

}  // namespace tsg
