// gather and scatterAdd along one axis (the JS side checks every index first). The walk runs
// over the index's shape with the index, the tensor gathered from (or scattered into) seen with
// stride 0 on the indexed axis (the index value selects there), and for scatterAdd the source.
#include "eltwise.h"

typedef struct {
  float* out;
  const int32_t* idx;
  const float* x;
  int64_t axis_stride;
} GatherCtx;

static void gather_row(const void* vctx, int64_t o, int64_t n, const int64_t* off,
                       const int32_t* inner) {
  const GatherCtx* c = vctx;
  const int32_t* idx = c->idx + off[0];
  const float* x = c->x + off[1];
  for (int64_t i = 0; i < n; i++) {
    c->out[o + i] = x[i * inner[1] + (int64_t)idx[i * inner[0]] * c->axis_stride];
  }
}

/**
 * out (dense, the index's coalesced shape) = x at the index along the axis of stride
 * `axis_stride`; `strides` holds the index's, then x's (0 on that axis). Threads split the output.
 */
void TSG_EXPORT(gather)(int nd, const int32_t* shape, const int32_t* strides, const int32_t* idx,
                        const float* x, int32_t axis_stride, float* out, int tid, int nthreads) {
  const GatherCtx c = {out, idx, x, axis_stride};
  int64_t lo, hi;
  tsg_share(tsg_numel(nd, shape), tid, nthreads, &lo, &hi);
  tsg_walk(nd, shape, 2, strides, lo, hi, gather_row, &c);
}

typedef struct {
  float* out;
  const int32_t* idx;
  const float* src;
  int64_t axis_stride;
} ScatterCtx;

static void scatter_row(const void* vctx, int64_t o, int64_t n, const int64_t* off,
                        const int32_t* inner) {
  const ScatterCtx* c = vctx;
  (void)o;
  const int32_t* idx = c->idx + off[0];
  float* out = c->out + off[1];
  const float* src = c->src + off[2];
  for (int64_t i = 0; i < n; i++) {
    out[i * inner[1] + (int64_t)idx[i * inner[0]] * c->axis_stride] += src[i * inner[2]];
  }
}

/**
 * out (dense, out_len elements) = zeros with src added at the index along the axis of stride
 * `axis_stride`, in the index's row-major order (the reference's, so elements landing on the same
 * output add up in the same order). `strides`: the index's, out's (0 on the axis), then src's.
 * One thread: two source elements may land on one output.
 */
void TSG_EXPORT(scatter_add)(int nd, const int32_t* shape, const int32_t* strides,
                             const int32_t* idx, const float* src, int32_t axis_stride, float* out,
                             int32_t out_len) {
  __builtin_memset(out, 0, (unsigned long)out_len * 4);
  const ScatterCtx c = {out, idx, src, axis_stride};
  tsg_walk(nd, shape, 3, strides, 0, tsg_numel(nd, shape), scatter_row, &c);
}
