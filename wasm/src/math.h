// Four-lane float32 approximations of exp, log, tanh, sigmoid and erf for the kernels (the module
// has no libc). Each is within a few float32 ulp of the correctly rounded value, and each keeps
// the special values of the real function: NaN stays NaN, exp(-inf) = 0, exp(+inf) = inf,
// log(0) = -inf, log(x < 0) = NaN, log(1) = 0 exactly and log(x) >= 0 for x >= 1 (so that
// softplus, max(x, 0) + log(1 + e^-|x|), is never negative). Clamps use pmin/pmax, one machine
// instruction each, whose operand order lets a NaN through.
#ifndef TSG_MATH_H
#define TSG_MATH_H

#include "common.h"

#define TSG_F(x) wasm_f32x4_splat(x)

/** a·b + c (fused where relaxed SIMD is on: one rounding fewer, never less accurate). */
static inline v128_t tsg_fma(v128_t a, v128_t b, v128_t c) { return TSG_MADD(a, b, c); }

/** 2^n for integer lanes n in [-126, 127], as floats. */
static inline v128_t tsg_pow2i(v128_t n) {
  return wasm_i32x4_shl(wasm_i32x4_add(n, wasm_i32x4_splat(127)), 23);
}

/**
 * e^x: x = n·ln2 + r with |r| <= ln2/2 (ln2 split in two so n·ln2_hi is exact), e^r by Cephes'
 * degree-6 polynomial, then two scalings by 2^(n/2) so that subnormal and near-overflow results
 * round once more at most instead of overflowing the exponent field.
 */
static inline v128_t tsg_exp(v128_t x) {
  // Below -104 the result rounds to 0, above 88.8 to inf; the clamp keeps n in [-150, 129].
  x = wasm_f32x4_pmin(wasm_f32x4_pmax(x, TSG_F(-104.f)), TSG_F(88.8f));
  const v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(x, TSG_F(1.44269504088896341f)));
  v128_t r = tsg_fma(n, TSG_F(-0.693359375f), x);
  r = tsg_fma(n, TSG_F(2.12194440e-4f), r);
  v128_t p = TSG_F(1.9875691500e-4f);
  p = tsg_fma(p, r, TSG_F(1.3981999507e-3f));
  p = tsg_fma(p, r, TSG_F(8.3334519073e-3f));
  p = tsg_fma(p, r, TSG_F(4.1665795894e-2f));
  p = tsg_fma(p, r, TSG_F(1.6666665459e-1f));
  p = tsg_fma(p, r, TSG_F(5.0000001201e-1f));
  p = tsg_fma(wasm_f32x4_mul(p, r), r, wasm_f32x4_add(r, TSG_F(1.f)));
  const v128_t ni = wasm_i32x4_trunc_sat_f32x4(n);
  const v128_t half = wasm_i32x4_shr(ni, 1);
  p = wasm_f32x4_mul(p, tsg_pow2i(half));
  return wasm_f32x4_mul(p, tsg_pow2i(wasm_i32x4_sub(ni, half)));
}

/**
 * ln x (Cephes logf): x = 2^e·m with m in [√½, √2), ln m by a degree-9 polynomial in m − 1, and
 * e·ln2 added in two parts. Subnormal inputs are scaled by 2^23 first.
 */
static inline v128_t tsg_log(v128_t x) {
  const v128_t tiny = wasm_f32x4_lt(x, TSG_F(1.17549435e-38f));
  const v128_t xs = wasm_v128_bitselect(wasm_f32x4_mul(x, TSG_F(8388608.f)), x, tiny);
  const v128_t bits = xs;
  // e such that m = xs / 2^e lies in [0.5, 1).
  v128_t e = wasm_i32x4_sub(wasm_u32x4_shr(bits, 23), wasm_i32x4_splat(126));
  e = wasm_i32x4_sub(e, wasm_v128_and(tiny, wasm_i32x4_splat(23)));
  v128_t m = wasm_v128_or(wasm_v128_and(bits, wasm_i32x4_splat(0x007fffff)),
                          wasm_i32x4_splat(0x3f000000));
  // Below √½ take 2m − 1 and e − 1, so that the polynomial's argument is in [√½ − 1, √2 − 1).
  const v128_t low = wasm_f32x4_lt(m, TSG_F(0.707106781186547524f));
  e = wasm_i32x4_add(e, low);  // low lanes are all ones: −1
  m = wasm_f32x4_sub(wasm_f32x4_add(m, wasm_v128_and(low, m)), TSG_F(1.f));
  const v128_t ef = wasm_f32x4_convert_i32x4(e);
  const v128_t z = wasm_f32x4_mul(m, m);
  v128_t y = TSG_F(7.0376836292e-2f);
  y = tsg_fma(y, m, TSG_F(-1.1514610310e-1f));
  y = tsg_fma(y, m, TSG_F(1.1676998740e-1f));
  y = tsg_fma(y, m, TSG_F(-1.2420140846e-1f));
  y = tsg_fma(y, m, TSG_F(1.4249322787e-1f));
  y = tsg_fma(y, m, TSG_F(-1.6668057665e-1f));
  y = tsg_fma(y, m, TSG_F(2.0000714765e-1f));
  y = tsg_fma(y, m, TSG_F(-2.4999993993e-1f));
  y = tsg_fma(y, m, TSG_F(3.3333331174e-1f));
  y = wasm_f32x4_mul(wasm_f32x4_mul(y, m), z);
  y = tsg_fma(ef, TSG_F(-2.12194440e-4f), y);
  y = tsg_fma(z, TSG_F(-0.5f), y);
  v128_t r = wasm_f32x4_add(m, y);
  r = tsg_fma(ef, TSG_F(0.693359375f), r);
  // Special values: x < 0 → NaN, 0 → −inf, +inf → +inf, NaN → NaN (x itself).
  r = wasm_v128_bitselect(TSG_F(-__builtin_inff()), r, wasm_f32x4_eq(x, TSG_F(0.f)));
  r = wasm_v128_bitselect(TSG_F(__builtin_nanf("")), r, wasm_f32x4_lt(x, TSG_F(0.f)));
  const v128_t pass = wasm_v128_or(wasm_f32x4_ne(x, x), wasm_f32x4_eq(x, TSG_F(__builtin_inff())));
  return wasm_v128_bitselect(x, r, pass);
}

/**
 * tanh x: Cephes' odd polynomial below |x| = 0.625, else sign(x)·(1 − 2/(e^(2|x|) + 1)), where
 * the subtraction loses at most a bit or two (the result is above 0.55 there).
 */
static inline v128_t tsg_tanh(v128_t x) {
  const v128_t a = wasm_f32x4_abs(x);
  const v128_t z = wasm_f32x4_mul(x, x);
  v128_t p = TSG_F(-5.70498872745e-3f);
  p = tsg_fma(p, z, TSG_F(2.06390887954e-2f));
  p = tsg_fma(p, z, TSG_F(-5.37397155531e-2f));
  p = tsg_fma(p, z, TSG_F(1.33314422036e-1f));
  p = tsg_fma(p, z, TSG_F(-3.33332819422e-1f));
  const v128_t small = tsg_fma(wasm_f32x4_mul(p, z), x, x);
  const v128_t e = tsg_exp(wasm_f32x4_add(a, a));
  v128_t big = wasm_f32x4_sub(TSG_F(1.f), wasm_f32x4_div(TSG_F(2.f), wasm_f32x4_add(e, TSG_F(1.f))));
  big = wasm_v128_or(big, wasm_v128_and(x, wasm_i32x4_splat((int32_t)0x80000000)));
  // NaN lanes compare false and take `big`, which is NaN there.
  return wasm_v128_bitselect(small, big, wasm_f32x4_lt(a, TSG_F(0.625f)));
}

/** 1/(1 + e^−x), exponentiating only −|x| so that nothing overflows: e^x/(1 + e^x) below 0. */
static inline v128_t tsg_sigmoid(v128_t x) {
  const v128_t e = tsg_exp(wasm_f32x4_neg(wasm_f32x4_abs(x)));
  const v128_t r = wasm_f32x4_div(TSG_F(1.f), wasm_f32x4_add(e, TSG_F(1.f)));
  return wasm_v128_bitselect(wasm_f32x4_mul(e, r), r, wasm_f32x4_lt(x, TSG_F(0.f)));
}

/**
 * erf x: an odd rational minimax approximation p(x)/q(x) on [−4, 4] (the one Eigen and XLA use;
 * erf is ±1 in float32 beyond), a few ulp from erf.
 */
static inline v128_t tsg_erf(v128_t x) {
  const v128_t c = wasm_f32x4_pmin(wasm_f32x4_pmax(x, TSG_F(-4.f)), TSG_F(4.f));
  const v128_t z = wasm_f32x4_mul(c, c);
  v128_t p = TSG_F(-2.72614225801306e-10f);
  p = tsg_fma(p, z, TSG_F(2.77068142495902e-08f));
  p = tsg_fma(p, z, TSG_F(-2.10102402082508e-06f));
  p = tsg_fma(p, z, TSG_F(-5.69250639462346e-05f));
  p = tsg_fma(p, z, TSG_F(-7.34990630326855e-04f));
  p = tsg_fma(p, z, TSG_F(-2.95459980854025e-03f));
  p = tsg_fma(p, z, TSG_F(-1.60960333262415e-02f));
  p = wasm_f32x4_mul(p, c);
  v128_t q = TSG_F(-1.45660718464996e-05f);
  q = tsg_fma(q, z, TSG_F(-2.13374055278905e-04f));
  q = tsg_fma(q, z, TSG_F(-1.68282697438203e-03f));
  q = tsg_fma(q, z, TSG_F(-7.37332916720468e-03f));
  q = tsg_fma(q, z, TSG_F(-1.42647390514189e-02f));
  return wasm_f32x4_div(p, q);
}

/** Scalar forms over lane 0, for the tails of rows that are not a multiple of four long. */
static inline float tsg_exp1(float x) { return wasm_f32x4_extract_lane(tsg_exp(TSG_F(x)), 0); }
static inline float tsg_log1(float x) { return wasm_f32x4_extract_lane(tsg_log(TSG_F(x)), 0); }
static inline float tsg_tanh1(float x) { return wasm_f32x4_extract_lane(tsg_tanh(TSG_F(x)), 0); }
static inline float tsg_sigmoid1(float x) {
  return wasm_f32x4_extract_lane(tsg_sigmoid(TSG_F(x)), 0);
}
static inline float tsg_erf1(float x) { return wasm_f32x4_extract_lane(tsg_erf(TSG_F(x)), 0); }

#endif
