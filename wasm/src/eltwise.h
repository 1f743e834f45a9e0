// The strided walk shared by the elementwise, reduction and fused kernels (see eltwise.c).
#ifndef TSG_ELTWISE_H
#define TSG_ELTWISE_H

#include "common.h"

/** Ranks and operand counts the walk handles (tensors have rank 12 at most). */
#define TSG_MAX_RANK 16
#define TSG_MAX_OPERANDS 4

/**
 * One row of a walk: output elements [o, o + n); operand q's first element of the row is at
 * element offset off[q] from its base, and it steps by inner[q] along the row.
 */
typedef void (*tsg_row)(const void* ctx, int64_t o, int64_t n, const int64_t* off,
                        const int32_t* inner);

/**
 * Visit output elements [lo, hi) of a row-major `shape` (rank nd >= 1) row by row, tracking the
 * offsets of k operands whose strides are strides[q * nd + d].
 */
void tsg_walk(int nd, const int32_t* shape, int k, const int32_t* strides, int64_t lo, int64_t hi,
              tsg_row row, const void* ctx);

/** Elements of a shape. */
static inline int64_t tsg_numel(int nd, const int32_t* shape) {
  int64_t n = 1;
  for (int d = 0; d < nd; d++) n *= shape[d];
  return n;
}

#endif
