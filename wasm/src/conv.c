// 2-D convolution, forward and both adjoints, over float32 NCHW tensors.
//
// Two formulations, chosen by the number of output channels per group (og):
//  * GEMM (og >= 4): the forward pass and the weight gradient are im2col + tsg_sgemm; the input
//    gradient is a GEMM into column form (Wᵀ·dY) + col2im (cheaper than a transposed convolution
//    here, whose im2col of dY is og/cg times larger). The column buffer covers a block of output
//    columns sized from the geometry alone, so a thread's scratch stays bounded whatever the
//    image size; a 1×1 window at stride 1 needs none (the image is the column matrix).
//  * Direct (og < 4: depthwise, average pooling, single-output convolutions): a GEMM with fewer
//    rows than its 4-row micro-tile wastes most of its work and all of its packing, so these run
//    as row-wise multiply-adds over the output (forward), the input (input gradient) or dot
//    products (weight gradient).
//
// Threads split outputs only — images, channel blocks, column blocks of the output or of the
// weight gradient — never a summed dimension, and every sum runs in an order fixed by the
// geometry alone, so every thread count gives the same bits.
#include "common.h"

/**
 * Convolution geometry, laid out by the caller as 20 int32: x [n, c, h, w], weight
 * [o, c/groups, kh, kw], output [n, o, oh, ow], then the window and x's element strides (x is
 * read at any strides; the weight and dy arrive dense).
 */
typedef struct {
  int32_t n, c, h, w;
  int32_t o, kh, kw;
  int32_t oh, ow;
  int32_t groups;
  int32_t sh, sw, ph, pw, dh, dw;
  int32_t xs[4];
} ConvGeom;

/** Floats of column buffer a thread may use: 2 MiB, so scratch stays modest on any input. */
#define COL_CAP (1 << 19)
/** Output columns a column block never goes under (narrower blocks starve the GEMM). */
#define MIN_COLS 64
/** Fewer output channels per group than this (the GEMM's micro-tile height) run direct. */
#define DIRECT_BELOW 4

static inline int ceil_div(int a, int b) { return (a + b - 1) / b; }

static int use_direct(const ConvGeom* g) { return g->o / g->groups < DIRECT_BELOW; }

/** Output columns per block when a block's column buffer has `rows` rows (geometry only). */
static int col_block(const ConvGeom* g, int rows) {
  const int p = g->oh * g->ow;
  const int fit = COL_CAP / (rows > 0 ? rows : 1);
  return tsg_min(p, tsg_max(MIN_COLS, fit - fit % 8));
}

/**
 * The outputs [lo, hi) of a row of `n` whose input index o * s + off lies in [0, size): the
 * part of a row that reads the image rather than its zero padding.
 */
static void valid_span(int off, int s, int size, int n, int* lo, int* hi) {
  int l = off >= 0 ? 0 : ceil_div(-off, s);
  int h = size - 1 - off < 0 ? 0 : (size - 1 - off) / s + 1;
  if (h > n) h = n;
  if (l > h) l = h;
  *lo = l;
  *hi = h;
}

/** Floats at the head of a thread's scratch for the column spans: 2 int32 per kernel column. */
static int span_floats(const ConvGeom* g) { return (2 * g->kw + 15) & ~15; }

/**
 * The column spans, computed once per call (they need divisions): span[2j], span[2j + 1] =
 * the outputs [lo, hi) of a row whose kernel column j reads the image, not the padding.
 */
static const int32_t* column_spans(const ConvGeom* g, float* work) {
  int32_t* span = (int32_t*)work;
  for (int j = 0; j < g->kw; j++) {
    valid_span(j * g->dw - g->pw, g->sw, g->w, g->ow, &span[2 * j], &span[2 * j + 1]);
  }
  return span;
}

/** Step the kernel tap (c, i, j) to the next in row-major order over [c][kh][kw]. */
static inline void next_tap(const ConvGeom* g, int* c, int* i, int* j) {
  if (++*j < g->kw) return;
  *j = 0;
  if (++*i < g->kh) return;
  *i = 0;
  ++*c;
}

/** dst[0:n] = 0. */
static void zero(float* dst, int n) {
  for (int i = 0; i < n; i++) dst[i] = 0.f;
}

/** dst[0:n] = src[0:n] (the image rows are short: a vector loop beats a bulk-memory call). */
static void copy(float* dst, const float* src, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(dst + i, wasm_v128_load(src + i));
  for (; i < n; i++) dst[i] = src[i];
}

/** dst[0:n] += a * src[0:n]. */
static void axpy(float* dst, const float* src, float a, int n) {
  const v128_t va = wasm_f32x4_splat(a);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    wasm_v128_store(dst + i, TSG_MADD(va, wasm_v128_load(src + i), wasm_v128_load(dst + i)));
  }
  for (; i < n; i++) dst[i] += a * src[i];
}

/** dst[0:n] += src[0:n]. */
static void add_to(float* dst, const float* src, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    wasm_v128_store(dst + i, wasm_f32x4_add(wasm_v128_load(dst + i), wasm_v128_load(src + i)));
  }
  for (; i < n; i++) dst[i] += src[i];
}

/** Where kernel row/column offsets land: the input row of output row oy for kernel row i. */
static inline int in_row(const ConvGeom* g, int oy, int i) {
  return oy * g->sh - g->ph + i * g->dh;
}

/**
 * One row segment of im2col: dst[0:n] = the image row `row` read for outputs ox0 … ox0+n-1 by
 * a kernel column at offset `off`, whose outputs [lo, hi) read the image; zero elsewhere (the
 * padding). The row's elements are `xsw` apart.
 */
static void gather_segment(const ConvGeom* g, float* dst, const float* row, int64_t xsw, int ox0,
                           int n, int off, int lo, int hi) {
  lo = tsg_min(tsg_max(lo, ox0), ox0 + n);
  hi = tsg_min(tsg_max(hi, lo), ox0 + n);
  zero(dst, lo - ox0);
  const float* src = row + (int64_t)(lo * g->sw + off) * xsw;
  const int64_t step = g->sw * xsw;
  if (step == 1) {
    copy(dst + lo - ox0, src, hi - lo);
  } else {
    for (int ox = lo; ox < hi; ox++, src += step) dst[ox - ox0] = *src;
  }
  zero(dst + hi - ox0, ox0 + n - hi);
}

/**
 * im2col of rows [k0, k1) and output columns [p0, p1) of one image's group: row kk = (channel,
 * i, j) of the kernel, column p = (oy, ox); `img` points at the group's first channel.
 * col is [(k1 - k0) × (p1 - p0)].
 */
static void im2col(const ConvGeom* g, const int32_t* span, const float* img, int k0, int k1,
                   int p0, int p1, float* col) {
  const int khw = g->kh * g->kw;
  int c = k0 / khw, i = k0 % khw / g->kw, j = k0 % g->kw;
  for (int kk = k0; kk < k1; kk++, next_tap(g, &c, &i, &j)) {
    const float* plane = img + (int64_t)c * g->xs[1];
    const int off = j * g->dw - g->pw, lo = span[2 * j], hi = span[2 * j + 1];
    // Walk the columns output row by output row: one segment per row.
    for (int p = p0, oy = p0 / g->ow, ox = p0 % g->ow; p < p1; oy++, ox = 0) {
      const int n = tsg_min(g->ow - ox, p1 - p);
      const int iy = in_row(g, oy, i);
      if (iy < 0 || iy >= g->h) {
        zero(col, n);
      } else {
        gather_segment(g, col, plane + (int64_t)iy * g->xs[2], g->xs[3], ox, n, off, lo, hi);
      }
      col += n;
      p += n;
    }
  }
}

/**
 * The transpose of im2col for channels [0, nc) of `col` ([nc·kh·kw × (p1 - p0)]): accumulate
 * each column entry into the dense image planes at `img` ([nc, h, w]) it was read from.
 */
static void col2im(const ConvGeom* g, const int32_t* span, const float* col, int nc, int p0,
                   int p1, float* img) {
  int c = 0, i = 0, j = 0;
  for (int kk = 0; kk < nc * g->kh * g->kw; kk++, next_tap(g, &c, &i, &j)) {
    float* plane = img + (int64_t)c * g->h * g->w;
    const int off = j * g->dw - g->pw, lo = span[2 * j], hi = span[2 * j + 1];
    for (int p = p0, oy = p0 / g->ow, ox = p0 % g->ow; p < p1; oy++, ox = 0) {
      const int n = tsg_min(g->ow - ox, p1 - p);
      const int iy = in_row(g, oy, i);
      const int a = tsg_max(lo, ox), b = tsg_min(hi, ox + n);
      if (iy >= 0 && iy < g->h && a < b) {
        float* dst = plane + (int64_t)iy * g->w + a * g->sw + off;
        const float* src = col + (a - ox);
        if (g->sw == 1) {
          add_to(dst, src, b - a);
        } else {
          for (int q = 0; q < b - a; q++) dst[q * g->sw] += src[q];
        }
      }
      col += n;
      p += n;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// GEMM formulation.

/** A 1×1 window at stride 1 without padding: column p of im2col is pixel p of the image. */
static int unit_window(const ConvGeom* g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
}

/**
 * Whether im2col would copy x unchanged (a unit window over planes whose rows are contiguous):
 * the GEMM then reads the image itself, each channel's plane a row of the column matrix.
 */
static int pointwise(const ConvGeom* g) {
  return unit_window(g) && g->xs[3] == 1 && (g->h == 1 || g->xs[2] == g->w);
}

/** Forward: out[b, group] columns [p0, p1) = W_group · im2col(x[b, group]). */
static void forward_gemm(const ConvGeom* g, const int32_t* span, const float* x, const float* w,
                         float* out, float* work, int tid, int nthreads) {
  const int og = g->o / g->groups, cg = g->c / g->groups;
  const int K = cg * g->kh * g->kw, P = g->oh * g->ow;
  // Column blocks: bounded by the buffer, and narrow enough that every thread has some.
  int pb = col_block(g, K);
  const int64_t planes = (int64_t)g->n * g->groups;
  if (planes < 2 * nthreads) {
    const int want = ceil_div(P, (int)ceil_div(2 * nthreads, (int)planes));
    pb = tsg_min(pb, tsg_max(8, ceil_div(want, 8) * 8));
  }
  const int nb = ceil_div(P, pb);
  float* col = work;
  float* gemm_work = work + (int64_t)K * pb;
  int64_t lo, hi;
  tsg_share(planes * nb, tid, nthreads, &lo, &hi);
  for (int64_t u = lo; u < hi; u++) {
    const int b = (int)(u / nb / g->groups), grp = (int)(u / nb % g->groups);
    const int p0 = (int)(u % nb) * pb, p1 = tsg_min(P, p0 + pb);
    const float* img = x + (int64_t)b * g->xs[0] + (int64_t)grp * cg * g->xs[1];
    const float* B = col;
    int64_t brs = p1 - p0;
    if (pointwise(g)) {
      B = img + p0;
      brs = g->xs[1];
    } else {
      im2col(g, span, img, 0, K, p0, p1, col);
    }
    tsg_sgemm(og, p1 - p0, K, w + (int64_t)grp * og * K, K, 1, B, brs, 1,
              out + ((int64_t)b * g->o + (int64_t)grp * og) * P + p0, P, 0, gemm_work);
  }
}

/**
 * Input gradient: for each image, group and block of input channels, col = W_groupᵀ · dy (rows
 * of those channels), then col2im into dx. `wt` is the weight transposed per group, [groups, K,
 * og] (see conv2d_transpose_weight). Channel blocks split the work when there are few images.
 */
static void backward_input_gemm(const ConvGeom* g, const int32_t* span, const float* dy,
                                const float* wt, float* dx, float* work, int tid, int nthreads) {
  const int og = g->o / g->groups, cg = g->c / g->groups;
  const int khw = g->kh * g->kw, K = cg * khw, P = g->oh * g->ow, HW = g->h * g->w;
  const int pb = col_block(g, K);
  const int64_t planes = (int64_t)g->n * g->groups;
  const int chunks = planes >= 2 * nthreads ? 1 : tsg_min(cg, ceil_div(2 * nthreads, (int)planes));
  const int cb = ceil_div(cg, chunks);
  const int nchunks = ceil_div(cg, cb);
  float* col = work;
  float* gemm_work = work + (int64_t)K * pb;
  int64_t lo, hi;
  tsg_share(planes * nchunks, tid, nthreads, &lo, &hi);
  for (int64_t u = lo; u < hi; u++) {
    const int b = (int)(u / nchunks / g->groups), grp = (int)(u / nchunks % g->groups);
    const int c0 = (int)(u % nchunks) * cb, c1 = tsg_min(cg, c0 + cb);
    float* img = dx + ((int64_t)b * g->c + (int64_t)grp * cg + c0) * HW;
    const float* dyg = dy + ((int64_t)b * g->o + (int64_t)grp * og) * P;
    const float* wtc = wt + ((int64_t)grp * K + (int64_t)c0 * khw) * og;
    if (unit_window(g)) {
      // col2im would copy the columns unchanged: the product lands in dx itself.
      tsg_sgemm(c1 - c0, P, og, wtc, og, 1, dyg, P, 1, img, HW, 0, gemm_work);
      continue;
    }
    zero(img, (c1 - c0) * HW);
    for (int p0 = 0; p0 < P; p0 += pb) {
      const int p1 = tsg_min(P, p0 + pb);
      tsg_sgemm((c1 - c0) * khw, p1 - p0, og, wtc, og, 1, dyg + p0, P, 1, col, p1 - p0, 0,
                gemm_work);
      col2im(g, span, col, c1 - c0, p0, p1, img);
    }
  }
}

/** Kernel taps the weight gradient sums at once: its dWᵀ block [taps × og] stays bounded. */
static int tap_block(const ConvGeom* g) {
  const int og = g->o / g->groups, K = g->c / g->groups * g->kh * g->kw;
  const int fit = COL_CAP / og;
  return tsg_min(K, tsg_max(8, fit - fit % 8));
}

/**
 * One block of taps [k0, k1) of one group's weight gradient: sums, over images and column blocks
 * in order, dWᵀ[taps × og] += im2col(x[b])[taps] · dy[b]ᵀ, then writes it into dw transposed.
 */
static void weight_taps(const ConvGeom* g, const int32_t* span, const float* x, const float* dy,
                        float* dw, int grp, int k0, int k1, float* work) {
  const int og = g->o / g->groups, cg = g->c / g->groups;
  const int K = cg * g->kh * g->kw, P = g->oh * g->ow;
  const int R = tap_block(g), pb = col_block(g, R), rows = k1 - k0;
  float* col = work;
  float* dwt = col + (int64_t)R * pb;
  float* gemm_work = dwt + (int64_t)R * og;
  for (int b = 0; b < g->n; b++) {
    const float* img = x + (int64_t)b * g->xs[0] + (int64_t)grp * cg * g->xs[1];
    const float* dyg = dy + ((int64_t)b * g->o + (int64_t)grp * og) * P;
    for (int p0 = 0; p0 < P; p0 += pb) {
      const int p1 = tsg_min(P, p0 + pb);
      const float* A = col;
      int64_t ars = p1 - p0;
      if (pointwise(g)) {
        A = img + (int64_t)k0 * g->xs[1] + p0;
        ars = g->xs[1];
      } else {
        im2col(g, span, img, k0, k1, p0, p1, col);
      }
      tsg_sgemm(rows, og, p1 - p0, A, ars, 1, dyg + p0, 1, P, dwt, og, b > 0 || p0 > 0,
                gemm_work);
    }
  }
  float* dst = dw + (int64_t)grp * og * K;
  for (int o = 0; o < og; o++) {
    for (int k = k0; k < k1; k++) dst[(int64_t)o * K + k] = dwt[(int64_t)(k - k0) * og + o];
  }
}

/**
 * Weight gradient: thread `tid` owns a share of dW's columns (kernel taps, in units of 4: the
 * rows of the micro-kernel, as the taps are the GEMM's rows here) over all groups, and sums each
 * tap block over every image itself.
 */
static void backward_weight_gemm(const ConvGeom* g, const int32_t* span, const float* x,
                                 const float* dy, float* dw, float* work, int tid, int nthreads) {
  const int K = g->c / g->groups * g->kh * g->kw;
  const int per = ceil_div(K, 4), R = tap_block(g);
  int64_t lo, hi;
  tsg_share((int64_t)g->groups * per, tid, nthreads, &lo, &hi);
  for (int64_t u = lo; u < hi;) {
    const int grp = (int)(u / per);
    const int last = (int)tsg_min64(per, hi - (int64_t)grp * per);  // exclusive, within grp
    const int end = tsg_min(K, last * 4);
    for (int k0 = (int)(u % per) * 4; k0 < end; k0 += R) {
      weight_taps(g, span, x, dy, dw, grp, k0, tsg_min(end, k0 + R), work);
    }
    u = (int64_t)grp * per + last;
  }
}

// ---------------------------------------------------------------------------------------------
// Direct formulation (og < 4).

/** Forward: each output plane (b, o), row by row, sums cg·kh·kw shifted input rows. */
static void forward_direct(const ConvGeom* g, const int32_t* span, const float* x, const float* w,
                           float* out, int tid, int nthreads) {
  const int og = g->o / g->groups, cg = g->c / g->groups;
  const int khw = g->kh * g->kw;
  const int64_t xsw = g->xs[3];
  int64_t lo, hi;
  tsg_share((int64_t)g->n * g->o, tid, nthreads, &lo, &hi);
  for (int64_t u = lo; u < hi; u++) {
    const int b = (int)(u / g->o), o = (int)(u % g->o);
    const float* img = x + (int64_t)b * g->xs[0] + (int64_t)(o / og) * cg * g->xs[1];
    const float* wo = w + (int64_t)o * cg * khw;
    for (int oy = 0; oy < g->oh; oy++) {
      float* row = out + (u * g->oh + oy) * g->ow;
      zero(row, g->ow);
      for (int ci = 0; ci < cg; ci++) {
        for (int i = 0; i < g->kh; i++) {
          const int iy = in_row(g, oy, i);
          if (iy < 0 || iy >= g->h) continue;
          const float* src = img + (int64_t)ci * g->xs[1] + (int64_t)iy * g->xs[2];
          for (int j = 0; j < g->kw; j++) {
            const float a = wo[ci * khw + i * g->kw + j];
            const int off = j * g->dw - g->pw, l = span[2 * j], h = span[2 * j + 1];
            const float* s = src + (int64_t)(l * g->sw + off) * xsw;
            if (g->sw == 1 && xsw == 1) {
              axpy(row + l, s, a, h - l);
            } else {
              for (int ox = l; ox < h; ox++, s += g->sw * xsw) row[ox] += a * *s;
            }
          }
        }
      }
    }
  }
}

/** Input gradient: each dense dx plane (b, c) accumulates its og·kh·kw scaled dy rows. */
static void backward_input_direct(const ConvGeom* g, const int32_t* span, const float* dy,
                                  const float* w, float* dx, int tid, int nthreads) {
  const int og = g->o / g->groups, cg = g->c / g->groups;
  const int khw = g->kh * g->kw;
  int64_t lo, hi;
  tsg_share((int64_t)g->n * g->c, tid, nthreads, &lo, &hi);
  for (int64_t u = lo; u < hi; u++) {
    const int b = (int)(u / g->c), c = (int)(u % g->c);
    const int grp = c / cg, ci = c % cg;
    float* plane = dx + u * g->h * g->w;
    zero(plane, g->h * g->w);
    for (int oy = 0; oy < g->oh; oy++) {
      for (int q = 0; q < og; q++) {
        const int o = grp * og + q;
        const float* src = dy + (((int64_t)b * g->o + o) * g->oh + oy) * g->ow;
        const float* wk = w + ((int64_t)o * cg + ci) * khw;
        for (int i = 0; i < g->kh; i++) {
          const int iy = in_row(g, oy, i);
          if (iy < 0 || iy >= g->h) continue;
          float* row = plane + (int64_t)iy * g->w;
          for (int j = 0; j < g->kw; j++) {
            const int off = j * g->dw - g->pw, l = span[2 * j], h = span[2 * j + 1];
            float* d = row + l * g->sw + off;
            if (g->sw == 1) {
              axpy(d, src + l, wk[i * g->kw + j], h - l);
            } else {
              for (int ox = l; ox < h; ox++, d += g->sw) *d += wk[i * g->kw + j] * src[ox];
            }
          }
        }
      }
    }
  }
}

/**
 * sum(a[0:n] * b[0:n·step:step]) added to the four lanes of *acc and, for the tail, to *tail
 * (the split of terms depends only on n, so the result does too).
 */
static void dot_into(const float* a, const float* b, int64_t step, int n, v128_t* acc,
                     float* tail) {
  int i = 0;
  if (step == 1) {
    v128_t s = *acc;
    for (; i + 4 <= n; i += 4) s = TSG_MADD(wasm_v128_load(a + i), wasm_v128_load(b + i), s);
    *acc = s;
  }
  float t = *tail;
  for (; i < n; i++) t += a[i] * b[i * step];
  *tail = t;
}

/**
 * Weight gradient: thread `tid` owns whole (o, ci) kernels and sums each tap's dot products of
 * dy rows with shifted x rows over images and rows in order. `work` holds 5·kh·kw floats.
 */
static void backward_weight_direct(const ConvGeom* g, const int32_t* span, const float* x,
                                   const float* dy, float* dw, float* work, int tid,
                                   int nthreads) {
  const int og = g->o / g->groups, cg = g->c / g->groups;
  const int khw = g->kh * g->kw;
  const int64_t xsw = g->xs[3];
  v128_t* acc = (v128_t*)work;
  float* tail = work + 4 * khw;
  int64_t lo, hi;
  tsg_share((int64_t)g->o * cg, tid, nthreads, &lo, &hi);
  for (int64_t u = lo; u < hi; u++) {
    const int o = (int)(u / cg), ci = (int)(u % cg);
    const int c = o / og * cg + ci;
    for (int t = 0; t < khw; t++) {
      acc[t] = wasm_f32x4_splat(0.f);
      tail[t] = 0.f;
    }
    for (int b = 0; b < g->n; b++) {
      const float* plane = x + (int64_t)b * g->xs[0] + (int64_t)c * g->xs[1];
      for (int oy = 0; oy < g->oh; oy++) {
        const float* src = dy + (((int64_t)b * g->o + o) * g->oh + oy) * g->ow;
        for (int i = 0; i < g->kh; i++) {
          const int iy = in_row(g, oy, i);
          if (iy < 0 || iy >= g->h) continue;
          const float* row = plane + (int64_t)iy * g->xs[2];
          for (int j = 0; j < g->kw; j++) {
            const int off = j * g->dw - g->pw, l = span[2 * j], h = span[2 * j + 1];
            const int t = i * g->kw + j;
            dot_into(src + l, row + (int64_t)(l * g->sw + off) * xsw, g->sw * xsw, h - l,
                     &acc[t], &tail[t]);
          }
        }
      }
    }
    float* dst = dw + u * khw;
    for (int t = 0; t < khw; t++) {
      const v128_t a = acc[t];
      dst[t] = wasm_f32x4_extract_lane(a, 0) + wasm_f32x4_extract_lane(a, 1) +
               wasm_f32x4_extract_lane(a, 2) + wasm_f32x4_extract_lane(a, 3) + tail[t];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Exports.

/** Convolutions' kinds of call, for conv2d_work. */
enum { CONV_FORWARD = 0, CONV_BACKWARD_INPUT = 1, CONV_BACKWARD_WEIGHT = 2 };

/** Floats of scratch each thread needs for a call of `kind` (0 forward, 1 dx, 2 dW) on `g`. */
int TSG_EXPORT(conv2d_work)(const ConvGeom* g, int kind) {
  const int og = g->o / g->groups, K = g->c / g->groups * g->kh * g->kw;
  int floats;
  if (use_direct(g)) {
    floats = kind == CONV_BACKWARD_WEIGHT ? 5 * g->kh * g->kw : 0;
  } else if (kind == CONV_BACKWARD_WEIGHT) {
    const int R = tap_block(g);
    floats = R * col_block(g, R) + R * og + TSG_GEMM_WORK;
  } else {
    floats = K * col_block(g, K) + TSG_GEMM_WORK;
  }
  // Whole 64-byte lines per thread: aligned vectors, and no line shared by two threads.
  return span_floats(g) + ((floats + 15) & ~15);
}

/** Whether `g` runs the GEMM formulation (1) or the direct one (0). */
int TSG_EXPORT(conv2d_uses_gemm)(const ConvGeom* g) { return !use_direct(g); }

/**
 * out [n, o, oh, ow] (dense) = conv2d(x, w): x at the strides in `g`, w dense. Scratch:
 * conv2d_work(g, 0) floats per thread from `work`.
 */
void TSG_EXPORT(conv2d_forward)(const ConvGeom* g, const float* x, const float* w, float* out,
                                float* work, int tid, int nthreads) {
  work += (int64_t)tid * conv2d_work(g, CONV_FORWARD);
  const int32_t* span = column_spans(g, work);
  work += span_floats(g);
  if (use_direct(g)) {
    forward_direct(g, span, x, w, out, tid, nthreads);
  } else {
    forward_gemm(g, span, x, w, out, work, tid, nthreads);
  }
}

/**
 * The weight rearranged for the input gradient's GEMM: wt[grp][k][q] = w[grp·og + q][k], one
 * [K × og] matrix per group (single-threaded: the weight is small next to the products).
 */
void TSG_EXPORT(conv2d_transpose_weight)(const ConvGeom* g, const float* w, float* wt) {
  const int og = g->o / g->groups, K = g->c / g->groups * g->kh * g->kw;
  for (int grp = 0; grp < g->groups; grp++) {
    const float* src = w + (int64_t)grp * og * K;
    float* dst = wt + (int64_t)grp * og * K;
    for (int q = 0; q < og; q++) {
      for (int k = 0; k < K; k++) dst[(int64_t)k * og + q] = src[(int64_t)q * K + k];
    }
  }
}

/**
 * dx [n, c, h, w] (dense) = the input gradient of conv2d for dy [n, o, oh, ow] (dense). The
 * GEMM formulation reads `w` as conv2d_transpose_weight left it, the direct one the dense
 * weight. Scratch: conv2d_work(g, 1) floats per thread.
 */
void TSG_EXPORT(conv2d_backward_input)(const ConvGeom* g, const float* dy, const float* w,
                                       float* dx, float* work, int tid, int nthreads) {
  work += (int64_t)tid * conv2d_work(g, CONV_BACKWARD_INPUT);
  const int32_t* span = column_spans(g, work);
  work += span_floats(g);
  if (use_direct(g)) {
    backward_input_direct(g, span, dy, w, dx, tid, nthreads);
  } else {
    backward_input_gemm(g, span, dy, w, dx, work, tid, nthreads);
  }
}

/**
 * dw [o, c/groups, kh, kw] (dense) = the weight gradient of conv2d for x (at the strides in `g`)
 * and dy (dense). Scratch: conv2d_work(g, 2) floats per thread.
 */
void TSG_EXPORT(conv2d_backward_weight)(const ConvGeom* g, const float* x, const float* dy,
                                        float* dw, float* work, int tid, int nthreads) {
  work += (int64_t)tid * conv2d_work(g, CONV_BACKWARD_WEIGHT);
  const int32_t* span = column_spans(g, work);
  work += span_floats(g);
  if (use_direct(g)) {
    backward_weight_direct(g, span, x, dy, dw, work, tid, nthreads);
  } else {
    backward_weight_gemm(g, span, x, dy, dw, work, tid, nthreads);
  }
}

/**
 * dst (dense, row-major) = the 4-D view of `src` with shape s0…s3 and element strides t0…t3:
 * weights and gradients that arrive as views (transposed, expanded) become the dense operands
 * the kernels above take.
 */
void TSG_EXPORT(dense4)(const float* src, int s0, int s1, int s2, int s3, int t0, int t1, int t2,
                        int t3, float* dst) {
  for (int a = 0; a < s0; a++) {
    for (int b = 0; b < s1; b++) {
      for (int c = 0; c < s2; c++) {
        const float* row = src + (int64_t)a * t0 + (int64_t)b * t1 + (int64_t)c * t2;
        for (int d = 0; d < s3; d++) *dst++ = row[(int64_t)d * t3];
      }
    }
  }
}

/** Whether n floats hold a NaN or ±inf: |x| < inf is false there. */
static int any_nonfinite(const float* p, int64_t n) {
  const v128_t inf = wasm_f32x4_splat(__builtin_inff());
  v128_t bad = wasm_i32x4_splat(0);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    bad = wasm_v128_or(bad, wasm_f32x4_ge(wasm_f32x4_abs(wasm_v128_load(p + i)), inf));
    bad = wasm_v128_or(bad, wasm_f32x4_ne(wasm_v128_load(p + i), wasm_v128_load(p + i)));
  }
  int found = wasm_v128_any_true(bad);
  for (; i < n; i++) found |= !(__builtin_fabsf(p[i]) < __builtin_inff());
  return found;
}

/**
 * The padding taps, after a forward (kind 0, v = the dense weight) or weight-gradient (kind 2,
 * v = the dense dy) call: PyTorch (and the reference kernel) multiply the zero padding like any
 * input, so a non-finite v makes 0·inf = NaN there, where the kernels above never read the
 * padding. Kind 0: out[n, o, oh, ow] = NaN where some tap (kh, kw) on padding has a non-finite
 * w[o, ·, kh, kw]; kind 2: dw[o, ·, kh, kw] = NaN where dy[n, o, oh, ow] is non-finite at some
 * position whose tap (kh, kw) falls on padding. One vectorised scan of v; the rest runs only
 * when it finds something. Returns whether it did.
 */
int TSG_EXPORT(conv2d_pad_nan)(const ConvGeom* g, int kind, const float* v, float* out) {
  if (g->ph == 0 && g->pw == 0) return 0;
  const int cg = g->c / g->groups, taps = g->kh * g->kw;
  const int64_t n = kind == CONV_FORWARD ? (int64_t)g->o * cg * taps
                                         : (int64_t)g->n * g->o * g->oh * g->ow;
  if (!any_nonfinite(v, n)) return 0;
  const float nan = __builtin_nanf("");
  for (int o = 0; o < g->o; o++) {
    for (int k = 0; k < taps; k++) {
      const int kh = k / g->kw, kw = k % g->kw;
      // The output positions whose tap (kh, kw) falls on the image: rows [rl, rh), cols [cl, ch).
      int rl, rh, cl, ch;
      valid_span(kh * g->dh - g->ph, g->sh, g->h, g->oh, &rl, &rh);
      valid_span(kw * g->dw - g->pw, g->sw, g->w, g->ow, &cl, &ch);
      const int on_pad = !(rl == 0 && rh == g->oh && cl == 0 && ch == g->ow);
      if (!on_pad) continue;
      if (kind == CONV_FORWARD) {
        int bad = 0;
        for (int c = 0; c < cg && !bad; c++) {
          bad = !(__builtin_fabsf(v[((int64_t)o * cg + c) * taps + k]) < __builtin_inff());
        }
        if (!bad) continue;
        for (int i = 0; i < g->n; i++) {
          float* y = out + ((int64_t)i * g->o + o) * g->oh * g->ow;
          for (int r = 0; r < g->oh; r++) {
            for (int q = 0; q < g->ow; q++) {
              if (r < rl || r >= rh || q < cl || q >= ch) y[(int64_t)r * g->ow + q] = nan;
            }
          }
        }
      } else {
        int bad = 0;
        for (int i = 0; i < g->n && !bad; i++) {
          const float* d = v + ((int64_t)i * g->o + o) * g->oh * g->ow;
          for (int r = 0; r < g->oh && !bad; r++) {
            for (int q = 0; q < g->ow && !bad; q++) {
              const int pad = r < rl || r >= rh || q < cl || q >= ch;
              bad = pad && !(__builtin_fabsf(d[(int64_t)r * g->ow + q]) < __builtin_inff());
            }
          }
        }
        if (!bad) continue;
        for (int c = 0; c < cg; c++) out[((int64_t)o * cg + c) * taps + k] = nan;
      }
    }
  }
  return 1;
}
