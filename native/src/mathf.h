// Accurate float32 log and exp for the addon's own loops: Cephes' minimax polynomials (log
// within 0.8 ulp, exp within 1.1 ulp, measured against double over 2e7 random inputs), written
// without branches so that `omp simd` loops over them vectorise (with -fno-trapping-math, which
// lets the compiler evaluate both sides of a select).
//
// Why not oneDNN's eltwise log: it is off by up to 1.1e-5 in absolute terms (log(1) came out as
// -1.43e-6), which made cross-entropies of confident predictions wrong by 10% and negative
// losses possible (issue 19). Its exp is within ~3 ulp but gives 0 below e^-87, where float32
// still has subnormals down to e^-103.97 (PyTorch keeps them): a log or a division after an
// exp, sigmoid or softmax then got -inf or inf (issue 19). exp_f32 keeps them, as fast.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace tsg {

inline float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

inline uint32_t float_to_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

/** log(x): NaN for x < 0 or NaN, -inf at 0, inf at inf; subnormals exact to the same bound. */
inline float log_f32(float x) {
  const bool sub = x < 1.17549435e-38f;  // below the smallest normal: scale by 2^23 first
  const uint32_t u = float_to_bits(sub ? x * 8388608.0f : x);
  int e = static_cast<int>((u >> 23) & 0xff) - 127 - (sub ? 23 : 0);
  float m = bits_to_float((u & 0x007fffffu) | 0x3f800000u);  // x = m · 2^e, m in [1, 2)
  const bool big = m > 1.41421356f;  // m in [√½, √2): log(1 + f) with |f| < 0.42
  m = big ? m * 0.5f : m;
  e += big ? 1 : 0;
  const float f = m - 1.0f;
  const float z = f * f;
  float p = 7.0376836292e-2f;
  p = p * f - 1.1514610310e-1f;
  p = p * f + 1.1676998740e-1f;
  p = p * f - 1.2420140846e-1f;
  p = p * f + 1.4249322787e-1f;
  p = p * f - 1.6668057665e-1f;
  p = p * f + 2.0000714765e-1f;
  p = p * f - 2.4999993993e-1f;
  p = p * f + 3.3333331174e-1f;
  const float fe = static_cast<float>(e);
  // e·ln2 in two parts (0.693359375 is exact in 9 bits) so the sum keeps f's low bits.
  float r = f * z * p + fe * -2.12194440e-4f - 0.5f * z;
  r = f + r + fe * 0.693359375f;
  r = x == 0.0f ? -INFINITY : r;
  r = x < 0.0f ? NAN : r;
  r = x == INFINITY ? INFINITY : r;
  return x != x ? x : r;
}

/** exp(x): 0 below -103.97 (and at -inf), inf above 88.72, NaN for NaN; subnormal results kept. */
inline float exp_f32(float x) {
  const float xc = x > 88.7228391f ? 88.7228391f : (x < -103.972084f ? -103.972084f : x);
  // exp(x) = 2^n · exp(r), n = round(x / ln2), r = x - n·ln2 (ln2 in two parts), |r| <= ln2/2.
  // n by adding 1.5·2^23: the sum's low mantissa bits are n, rounded to nearest (no conversion).
  const float t = xc * 1.44269504088896341f + 12582912.0f;
  const int ni = static_cast<int>(float_to_bits(t) - 0x4b400000u);
  const float n = t - 12582912.0f;
  const float r = (xc - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float y = p * r * r + r + 1.0f;
  // 2^n as two factors, so that n from -150 (subnormal results) to 128 stays exact.
  const int n1 = ni >> 1;
  y = y * bits_to_float(static_cast<uint32_t>(n1 + 127) << 23) *
      bits_to_float(static_cast<uint32_t>(ni - n1 + 127) << 23);
  y = x > 88.7228391f ? INFINITY : y;
  y = x < -103.972084f ? 0.0f : y;
  return x != x ? x : y;
}

}  // namespace tsg
