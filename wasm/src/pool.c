// Max pooling's window indices: for each window of x [n, c, h, w], the flat index iy·w + ix of
// its first maximum, exactly as the reference kernel (src/backends/js/linalg.ts) picks it,
// NaN included. Threads split the n·c planes.
#include "common.h"

/**
 * Pooling geometry, laid out by the caller as 18 int32: x [n, c, h, w], output [oh, ow], the
 * window (kernel, stride, padding, dilation; [height, width] each) and x's element strides.
 */
typedef struct {
  int32_t n, c, h, w;
  int32_t oh, ow;
  int32_t kh, kw, sh, sw, ph, pw, dh, dw;
  int32_t xs[4];
} PoolGeom;

/** The kernel taps [lo, hi) whose input o * s - pad + k * d lies in [0, size). */
static void window_taps(int o, int s, int pad, int d, int k, int size, int* lo, int* hi) {
  const int base = o * s - pad;
  int l = 0, h = k;
  while (l < h && base + l * d < 0) l++;
  while (h > l && base + (h - 1) * d >= size) h--;
  *lo = l;
  *hi = h;
}

/** The outputs [lo, hi) of a row whose input o * s + off lies in [0, size). */
static void window_taps_out(int off, int s, int size, int* lo, int* hi) {
  *lo = off >= 0 ? 0 : (-off + s - 1) / s;
  *hi = size - 1 - off < 0 ? 0 : (size - 1 - off) / s + 1;
}

/**
 * The reference's scan of one window: a value replaces the best when greater, when it is the
 * first, or when it is NaN (so the last NaN wins, as in PyTorch). Kernel rows [i0, i1) are those
 * inside the image.
 */
static int32_t scan_reference(const PoolGeom* g, const float* plane, int oy, int ox, int i0,
                              int i1) {
  int j0, j1;
  window_taps(ox, g->sw, g->pw, g->dw, g->kw, g->w, &j0, &j1);
  float best = -__builtin_inff();
  int32_t at = -1;
  for (int i = i0; i < i1; i++) {
    const int iy = oy * g->sh - g->ph + i * g->dh;
    const float* row = plane + (int64_t)iy * g->xs[2];
    for (int j = j0; j < j1; j++) {
      const int ix = ox * g->sw - g->pw + j * g->dw;
      const float v = row[(int64_t)ix * g->xs[3]];
      if (v > best || at < 0 || v != v) {
        best = v;
        at = iy * g->w + ix;
      }
    }
  }
  return at;
}

/** Lanes 0-3: the input values at row[(ox·sw + off + k·sw)·cs] for k = 0…3. */
static inline v128_t tap4(const float* row, int ox, int sw, int off, int64_t cs) {
  const float* p = row + (int64_t)(ox * sw + off) * cs;
  const int64_t step = sw * cs;
  if (step == 1) return wasm_v128_load(p);
  // p[0], p[2], p[4], p[6] from two loads that stay within p[0 … 6].
  if (step == 2) return wasm_i32x4_shuffle(wasm_v128_load(p), wasm_v128_load(p + 3), 0, 2, 5, 7);
  return wasm_f32x4_make(p[0], p[step], p[2 * step], p[3 * step]);
}

/**
 * Windows ox … ox+3 of output row oy, all of whose taps in kernel rows [i0, i1) lie inside the
 * image: the reference's scan in vector lanes — without NaN it takes the first tap, then each
 * strictly greater one. Sets *nan when it read a NaN (the caller rescans by the reference's rules).
 */
static v128_t four_windows(const PoolGeom* g, const float* plane, int oy, int ox, int i0, int i1,
                           int* nan) {
  const int64_t cs = g->xs[3];
  const v128_t lanes = wasm_i32x4_make(0, g->sw, 2 * g->sw, 3 * g->sw);
  const int iy0 = oy * g->sh - g->ph;
  const int iy = iy0 + i0 * g->dh;
  v128_t best = tap4(plane + (int64_t)iy * g->xs[2], ox, g->sw, -g->pw, cs);
  v128_t at = wasm_i32x4_add(lanes, wasm_i32x4_splat(iy * g->w + ox * g->sw - g->pw));
  v128_t bad = wasm_f32x4_ne(best, best);
  for (int i = i0; i < i1; i++) {
    const int iy = iy0 + i * g->dh;
    const float* row = plane + (int64_t)iy * g->xs[2];
    for (int j = i == i0; j < g->kw; j++) {
      const int off = j * g->dw - g->pw;
      const v128_t v = tap4(row, ox, g->sw, off, cs);
      const v128_t ix = wasm_i32x4_add(lanes, wasm_i32x4_splat(iy * g->w + ox * g->sw + off));
      const v128_t take = wasm_f32x4_gt(v, best);
      best = wasm_v128_bitselect(v, best, take);
      at = wasm_v128_bitselect(ix, at, take);
      bad = wasm_v128_or(bad, wasm_f32x4_ne(v, v));
    }
  }
  *nan = wasm_v128_any_true(bad);
  return at;
}

/**
 * out [n, c, oh, ow] (dense int32) = the window argmaxes of x (at the strides in `g`).
 * Threads split the n·c planes.
 */
void TSG_EXPORT(maxpool2d_indices)(const PoolGeom* g, const float* x, int32_t* out, int tid,
                                   int nthreads) {
  const PoolGeom G = *g;  // a local copy: the stores to `out` cannot alias it
  // Windows [qlo, qhi) of a row have every kernel column inside the image.
  int qlo = 0, qhi = G.ow;
  for (int j = 0; j < G.kw; j++) {
    int lo, hi;
    window_taps_out(j * G.dw - G.pw, G.sw, G.w, &lo, &hi);
    qlo = tsg_max(qlo, lo);
    qhi = tsg_min(qhi, hi);
  }
  int64_t lo, hi;
  tsg_share((int64_t)G.n * G.c, tid, nthreads, &lo, &hi);
  for (int64_t u = lo; u < hi; u++) {
    const float* plane = x + u / G.c * G.xs[0] + u % G.c * G.xs[1];
    int32_t* dst = out + u * G.oh * G.ow;
    for (int oy = 0; oy < G.oh; oy++, dst += G.ow) {
      int i0, i1;
      window_taps(oy, G.sh, G.ph, G.dh, G.kh, G.h, &i0, &i1);
      // Edge windows (some tap in the padding) by the scalar scan; interior ones four at a time,
      // the last four ending at qhi (a window computed twice gets the same index).
      const int vec = i0 < i1 && qhi - qlo >= 4;
      for (int ox = 0; ox < G.ow;) {
        if (vec && ox >= qlo && ox < qhi) {
          const int at = tsg_min(ox, qhi - 4);
          int nan = 0;
          wasm_v128_store(dst + at, four_windows(&G, plane, oy, at, i0, i1, &nan));
          if (nan) {
            for (int k = at; k < at + 4; k++) dst[k] = scan_reference(&G, plane, oy, k, i0, i1);
          }
          ox = at + 4;
        } else {
          dst[ox] = scan_reference(&G, plane, oy, ox, i0, i1);
          ox++;
        }
      }
    }
  }
}
