// Shared definitions of tsgrad's WebAssembly kernels. The module has no libc: memory is imported
// (the JS side lays out operands and scratch in it for every call), and clang lowers copies and
// fills to bulk-memory instructions.
#ifndef TSG_COMMON_H
#define TSG_COMMON_H

#include <stdint.h>
#include <wasm_simd128.h>

#define TSG_EXPORT(name) __attribute__((export_name(#name))) name

// f32x4 multiply-add: fused where the engine has relaxed SIMD (the "relaxed" builds), else a
// multiply and an add (the same result up to the rounding of the product).
#ifdef TSG_RELAXED
#define TSG_MADD(a, b, c) \
  ((v128_t)__builtin_wasm_relaxed_madd_f32x4((__f32x4)(a), (__f32x4)(b), (__f32x4)(c)))
#else
#define TSG_MADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul(a, b), c)
#endif

static inline int64_t tsg_min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int tsg_min(int a, int b) { return a < b ? a : b; }
static inline int tsg_max(int a, int b) { return a > b ? a : b; }

/** The share [lo, hi) of `n` items that thread `tid` of `nthreads` takes (contiguous blocks). */
static inline void tsg_share(int64_t n, int tid, int nthreads, int64_t* lo, int64_t* hi) {
  *lo = n * tid / nthreads;
  *hi = n * (tid + 1) / nthreads;
}

/** C[M,N] (row stride ldc) = or += A[M,K] · B[K,N], operands at any strides; see gemm.c. */
void tsg_sgemm(int M, int N, int K, const float* A, int64_t ars, int64_t acs, const float* B,
               int64_t brs, int64_t bcs, float* C, int64_t ldc, int accumulate, float* work);

/** Floats of scratch `tsg_sgemm` needs at `work`. */
#define TSG_GEMM_WORK (256 * 256 + 96 * 256)

#endif
