// Elementwise kernels over strided operands: unary math and binary arithmetic (operands arrive
// broadcast to the output's shape, a broadcast axis has stride 0), plus the strided copy the fused
// kernels use to make a view dense. The caller coalesces the axes first (adjacent axes that are
// contiguous for every operand merge into one), so the walk below visits a few long rows; a row
// whose operands are contiguous or broadcast runs four lanes at a time. Threads split the output's
// elements into contiguous ranges: each element is computed the same way whatever the split.
#include "eltwise.h"

#include "math.h"

enum { U_NEG, U_EXP, U_LOG, U_SQRT, U_TANH, U_SIGMOID, U_RELU, U_ABS, U_ERF, U_COPY };
enum { B_ADD, B_SUB, B_MUL, B_DIV, B_MAXIMUM };

void tsg_walk(int nd, const int32_t* shape, int k, const int32_t* strides, int64_t lo, int64_t hi,
              tsg_row row, const void* ctx) {
  if (lo >= hi) return;
  int64_t idx[TSG_MAX_RANK];
  int64_t off[TSG_MAX_OPERANDS] = {0};
  int32_t inner[TSG_MAX_OPERANDS];
  // The multi-index of element `lo` and each operand's offset there.
  int64_t rest = lo;
  for (int d = nd - 1; d >= 0; d--) {
    idx[d] = rest % shape[d];
    rest /= shape[d];
    for (int q = 0; q < k; q++) off[q] += idx[d] * strides[q * nd + d];
  }
  for (int q = 0; q < k; q++) inner[q] = strides[q * nd + nd - 1];
  const int64_t len = shape[nd - 1];
  for (int64_t o = lo; o < hi;) {
    const int64_t n = tsg_min64(len - idx[nd - 1], hi - o);
    row(ctx, o, n, off, inner);
    o += n;
    // Step past the row; where an index reaches its extent it wraps to 0 and the next one carries.
    for (int q = 0; q < k; q++) off[q] += n * inner[q];
    idx[nd - 1] += n;
    for (int d = nd - 1; d > 0 && idx[d] == shape[d]; d--) {
      idx[d] = 0;
      idx[d - 1]++;
      for (int q = 0; q < k; q++)
        off[q] += strides[q * nd + d - 1] - (int64_t)shape[d] * strides[q * nd + d];
    }
  }
}

/** Four elements of `p` at stride `s` (any stride: broadcast, transposed) as one vector. */
static inline v128_t load_strided(const float* p, int64_t s) {
  if (s == 1) return wasm_v128_load(p);
  return wasm_f32x4_make(p[0], p[s], p[2 * s], p[3 * s]);
}

static inline v128_t unary_op(int op, v128_t x) {
  switch (op) {
    case U_NEG:
      return wasm_f32x4_neg(x);
    case U_EXP:
      return tsg_exp(x);
    case U_LOG:
      return tsg_log(x);
    case U_SQRT:
      return wasm_f32x4_sqrt(x);
    case U_TANH:
      return tsg_tanh(x);
    case U_SIGMOID:
      return tsg_sigmoid(x);
    case U_RELU:
      // x where x > 0 or x is NaN, else +0 (the reference maps −0 to 0 and keeps NaN).
      return wasm_v128_and(x, wasm_v128_or(wasm_f32x4_gt(x, TSG_F(0.f)), wasm_f32x4_ne(x, x)));
    case U_ABS:
      return wasm_f32x4_abs(x);
    case U_ERF:
      return tsg_erf(x);
    default:
      return x;
  }
}

typedef struct {
  int op;
  float* out;
  const float* x;
} UnaryCtx;

/** One row of a unary op; the op switch is hoisted out of the loop by inlining per case. */
static void unary_row(const void* vctx, int64_t o, int64_t n, const int64_t* off,
                      const int32_t* inner) {
  const UnaryCtx* c = vctx;
  float* out = c->out + o;
  const float* x = c->x + off[0];
  const int64_t s = inner[0];
  int64_t i = 0;
#define UNARY_CASE(OP)                                                                 \
  case OP:                                                                             \
    for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, unary_op(OP, load_strided(x + i * s, s))); \
    break;
  switch (c->op) {
    UNARY_CASE(U_NEG)
    UNARY_CASE(U_EXP)
    UNARY_CASE(U_LOG)
    UNARY_CASE(U_SQRT)
    UNARY_CASE(U_TANH)
    UNARY_CASE(U_SIGMOID)
    UNARY_CASE(U_RELU)
    UNARY_CASE(U_ABS)
    UNARY_CASE(U_ERF)
    default:
      if (s == 1) {
        __builtin_memcpy(out, x, (unsigned long)n * 4);
        return;
      }
      for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, load_strided(x + i * s, s));
  }
#undef UNARY_CASE
  for (; i < n; i++) {
    out[i] = wasm_f32x4_extract_lane(unary_op(c->op, TSG_F(x[i * s])), 0);
  }
}

/**
 * out (dense, the coalesced `shape` of rank nd) = op(x), x at `strides`. Thread `tid` of
 * `nthreads` writes its share of the output.
 */
void TSG_EXPORT(unary)(int op, int nd, const int32_t* shape, const int32_t* strides,
                       const float* x, float* out, int tid, int nthreads) {
  const UnaryCtx c = {op, out, x};
  int64_t lo, hi;
  tsg_share(tsg_numel(nd, shape), tid, nthreads, &lo, &hi);
  tsg_walk(nd, shape, 1, strides, lo, hi, unary_row, &c);
}

static inline v128_t binary_op(int op, v128_t a, v128_t b) {
  switch (op) {
    case B_ADD:
      return wasm_f32x4_add(a, b);
    case B_SUB:
      return wasm_f32x4_sub(a, b);
    case B_MUL:
      return wasm_f32x4_mul(a, b);
    case B_DIV:
      return wasm_f32x4_div(a, b);
    default:
      // The reference's maximum: a where a > b or a is NaN, else b (NaN in b comes through).
      return wasm_v128_bitselect(a, b, wasm_v128_or(wasm_f32x4_gt(a, b), wasm_f32x4_ne(a, a)));
  }
}

typedef struct {
  int op;
  float* out;
  const float* a;
  const float* b;
} BinaryCtx;

static void binary_row(const void* vctx, int64_t o, int64_t n, const int64_t* off,
                       const int32_t* inner) {
  const BinaryCtx* c = vctx;
  float* out = c->out + o;
  const float* a = c->a + off[0];
  const float* b = c->b + off[1];
  const int64_t sa = inner[0], sb = inner[1];
  int64_t i = 0;
  // Contiguous and broadcast operands are the common cases; others gather lane by lane.
#define BINARY_LOOP(OP, LA, LB) \
  for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, binary_op(OP, LA, LB));
#define BINARY_CASE(OP)                                                               \
  case OP:                                                                            \
    if (sa == 1 && sb == 1) {                                                         \
      BINARY_LOOP(OP, wasm_v128_load(a + i), wasm_v128_load(b + i))                   \
    } else if (sa == 1 && sb == 0) {                                                  \
      const v128_t bv = TSG_F(*b);                                                    \
      BINARY_LOOP(OP, wasm_v128_load(a + i), bv)                                      \
    } else if (sa == 0 && sb == 1) {                                                  \
      const v128_t av = TSG_F(*a);                                                    \
      BINARY_LOOP(OP, av, wasm_v128_load(b + i))                                      \
    } else {                                                                          \
      BINARY_LOOP(OP, load_strided(a + i * sa, sa), load_strided(b + i * sb, sb))     \
    }                                                                                 \
    break;
  switch (c->op) {
    BINARY_CASE(B_ADD)
    BINARY_CASE(B_SUB)
    BINARY_CASE(B_MUL)
    BINARY_CASE(B_DIV)
    BINARY_CASE(B_MAXIMUM)
  }
#undef BINARY_CASE
#undef BINARY_LOOP
  for (; i < n; i++) {
    out[i] = wasm_f32x4_extract_lane(binary_op(c->op, TSG_F(a[i * sa]), TSG_F(b[i * sb])), 0);
  }
}

/** out (dense) = a op b over the coalesced `shape`; `strides` holds a's nd strides, then b's. */
void TSG_EXPORT(binary)(int op, int nd, const int32_t* shape, const int32_t* strides,
                        const float* a, const float* b, float* out, int tid, int nthreads) {
  const BinaryCtx c = {op, out, a, b};
  int64_t lo, hi;
  tsg_share(tsg_numel(nd, shape), tid, nthreads, &lo, &hi);
  tsg_walk(nd, shape, 2, strides, lo, hi, binary_row, &c);
}

enum { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE };

static inline v128_t cmp_op(int op, v128_t a, v128_t b) {
  switch (op) {
    case C_EQ:
      return wasm_f32x4_eq(a, b);
    case C_NE:
      return wasm_f32x4_ne(a, b);
    case C_LT:
      return wasm_f32x4_lt(a, b);
    case C_LE:
      return wasm_f32x4_le(a, b);
    case C_GT:
      return wasm_f32x4_gt(a, b);
    default:
      return wasm_f32x4_ge(a, b);
  }
}

typedef struct {
  int op;
  uint8_t* out;
  const float* a;
  const float* b;
} CmpCtx;

/** Four 0/1 bytes from a comparison mask (all-ones lanes). */
static inline uint32_t mask_bytes(v128_t m) {
  const v128_t ones = wasm_v128_and(m, wasm_i32x4_splat(1));
  // Each lane's low byte into one word: lanes 0..3 to bytes 0..3.
  const v128_t packed = wasm_i8x16_shuffle(ones, ones, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12, 0,
                                           4, 8, 12);
  return (uint32_t)wasm_i32x4_extract_lane(packed, 0);
}

static void cmp_row(const void* vctx, int64_t o, int64_t n, const int64_t* off,
                    const int32_t* inner) {
  const CmpCtx* c = vctx;
  uint8_t* out = c->out + o;
  const float* a = c->a + off[0];
  const float* b = c->b + off[1];
  const int64_t sa = inner[0], sb = inner[1];
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint32_t w =
        mask_bytes(cmp_op(c->op, load_strided(a + i * sa, sa), load_strided(b + i * sb, sb)));
    __builtin_memcpy(out + i, &w, 4);
  }
  for (; i < n; i++) {
    out[i] = mask_bytes(cmp_op(c->op, TSG_F(a[i * sa]), TSG_F(b[i * sb]))) & 1;
  }
}

/** out (bool bytes, dense) = a cmp b; `strides` holds a's nd strides, then b's. */
void TSG_EXPORT(compare)(int op, int nd, const int32_t* shape, const int32_t* strides,
                         const float* a, const float* b, uint8_t* out, int tid, int nthreads) {
  const CmpCtx c = {op, out, a, b};
  int64_t lo, hi;
  tsg_share(tsg_numel(nd, shape), tid, nthreads, &lo, &hi);
  tsg_walk(nd, shape, 2, strides, lo, hi, cmp_row, &c);
}

typedef struct {
  float* out;
  const uint8_t* cond;
  const float* a;
  const float* b;
} WhereCtx;

static void where_row(const void* vctx, int64_t o, int64_t n, const int64_t* off,
                      const int32_t* inner) {
  const WhereCtx* c = vctx;
  float* out = c->out + o;
  const uint8_t* cond = c->cond + off[0];
  const float* a = c->a + off[1];
  const float* b = c->b + off[2];
  const int64_t sc = inner[0], sa = inner[1], sb = inner[2];
  for (int64_t i = 0; i < n; i++) out[i] = cond[i * sc] ? a[i * sa] : b[i * sb];
}

/** out (dense) = cond ? a : b, cond as bool bytes; `strides`: cond's, a's, then b's. */
void TSG_EXPORT(where)(int nd, const int32_t* shape, const int32_t* strides, const uint8_t* cond,
                       const float* a, const float* b, float* out, int tid, int nthreads) {
  const WhereCtx c = {out, cond, a, b};
  int64_t lo, hi;
  tsg_share(tsg_numel(nd, shape), tid, nthreads, &lo, &hi);
  tsg_walk(nd, shape, 3, strides, lo, hi, where_row, &c);
}

enum { CAST_F32_I32, CAST_F32_BOOL, CAST_I32_F32, CAST_BOOL_F32, CAST_F32_F64, CAST_F64_F32 };

/**
 * ToInt32 of a float32, as an Int32Array store of Math.trunc(x) does: truncation toward zero,
 * wrapping modulo 2^32 beyond the int32 range, and 0 for NaN and ±inf. A float32 of magnitude
 * 2^63 or more is a multiple of 2^40, so it wraps to 0 too.
 */
static inline int32_t to_int32(float x) {
  if (!(x > -9.2233720368547758e18f && x < 9.2233720368547758e18f)) return 0;
  return (int32_t)(uint32_t)(uint64_t)(int64_t)x;
}

typedef struct {
  int op;
  void* out;
  const void* x;
} CastCtx;

static void cast_row(const void* vctx, int64_t o, int64_t n, const int64_t* off,
                     const int32_t* inner) {
  const CastCtx* c = vctx;
  const int64_t s = inner[0];
  switch (c->op) {
    case CAST_F32_I32: {
      int32_t* out = (int32_t*)c->out + o;
      const float* x = (const float*)c->x + off[0];
      for (int64_t i = 0; i < n; i++) out[i] = to_int32(x[i * s]);
      break;
    }
    case CAST_F32_BOOL: {
      uint8_t* out = (uint8_t*)c->out + o;
      const float* x = (const float*)c->x + off[0];
      for (int64_t i = 0; i < n; i++) out[i] = x[i * s] != 0.f;  // NaN is true, as x !== 0
      break;
    }
    case CAST_I32_F32: {
      float* out = (float*)c->out + o;
      const int32_t* x = (const int32_t*)c->x + off[0];
      for (int64_t i = 0; i < n; i++) out[i] = (float)x[i * s];
      break;
    }
    case CAST_BOOL_F32: {
      float* out = (float*)c->out + o;
      const uint8_t* x = (const uint8_t*)c->x + off[0];
      for (int64_t i = 0; i < n; i++) out[i] = (float)x[i * s];
      break;
    }
    case CAST_F32_F64: {
      double* out = (double*)c->out + o;
      const float* x = (const float*)c->x + off[0];
      for (int64_t i = 0; i < n; i++) out[i] = x[i * s];
      break;
    }
    default: {
      float* out = (float*)c->out + o;
      const double* x = (const double*)c->x + off[0];
      for (int64_t i = 0; i < n; i++) out[i] = (float)x[i * s];
    }
  }
}

/** out (dense) = x converted (see the CAST_ codes), x at `strides`. */
void TSG_EXPORT(cast)(int op, int nd, const int32_t* shape, const int32_t* strides, const void* x,
                      void* out, int tid, int nthreads) {
  const CastCtx c = {op, out, x};
  int64_t lo, hi;
  tsg_share(tsg_numel(nd, shape), tid, nthreads, &lo, &hi);
  tsg_walk(nd, shape, 1, strides, lo, hi, cast_row, &c);
}
