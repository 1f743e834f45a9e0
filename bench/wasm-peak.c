// The engine's WebAssembly SIMD peak, to read the wasm peers' sgemm against: twelve independent
// f32x4 multiply-add chains (as fma-peak.cc runs on the CPU's own vectors). Built by
// bench/lib/wasm-peak-build.ts with clang-16 + wasm-ld-16 in two variants, run by
// bench/lib/wasm-peak.ts on 1 and N threads, in Node (bench/wasm-peak.ts) and in Chromium:
//
//   -msimd128                       a multiply then an add (f32x4.mul, f32x4.add): what a
//                                   module without relaxed SIMD computes, tsgrad's "simd" build
//   -msimd128 -mrelaxed-simd        f32x4.relaxed_madd, which engines lower to an FMA where the
//             -DPEAK_RELAXED        CPU has one: tsgrad's "relaxed" build (and jax-js's matmul)
//
// Twelve chains: measured in V8 on a Zen 3 core, 8 or 10 chains ran at most as fast, 14 and 16
// slower (the 16 xmm registers then spill); twelve cover a 6-cycle multiply + add latency on two
// pipes. The result keeps every chain live; the multiplier and addend come in as arguments so
// that the loop holds no constants to rematerialise.
#include <wasm_simd128.h>

#ifdef PEAK_RELAXED
#define MADD(a, b, c) \
  ((v128_t)__builtin_wasm_relaxed_madd_f32x4((__f32x4)(a), (__f32x4)(b), (__f32x4)(c)))
#else
#define MADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul(a, b), c)
#endif

#define CHAINS 12

/** `iters` rounds of a = a·mul + add on CHAINS f32x4 chains; chain i starts at seed + i·1e-7. */
__attribute__((export_name("peak_chains"))) float peak_chains(int iters, float seed, float mul,
                                                               float add) {
  v128_t a[CHAINS];
  for (int i = 0; i < CHAINS; i++) a[i] = wasm_f32x4_splat(seed + (float)i * 1e-7f);
  const v128_t m = wasm_f32x4_splat(mul), c = wasm_f32x4_splat(add);
  for (int it = 0; it < iters; it++)
    for (int i = 0; i < CHAINS; i++) a[i] = MADD(a[i], m, c);
  v128_t s = a[0];
  for (int i = 1; i < CHAINS; i++) s = wasm_f32x4_add(s, a[i]);
  return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1) +
         wasm_f32x4_extract_lane(s, 2) + wasm_f32x4_extract_lane(s, 3);
}
