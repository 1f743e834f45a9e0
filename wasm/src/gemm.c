// Single-precision matrix products: a packed GEMM (Goto's blocking: KC×NC panels of B, MC×KC
// panels of A, a 4×8 register-tiled micro-kernel) over operands at arbitrary strides, and the
// batched matmul primitive on top, split over threads by output columns or rows — never over
// the summed dimension, so every thread count gives the same bits.
#include "common.h"

#define MR 4
#define NR 8
#define KC 256
#define MC 96
#define NC 256

/** B[k][j] (strides rs, cs) → strips of NR columns, each [kc][NR], zero-padded on the right. */
static void pack_b(int kc, int nc, const float* B, int64_t rs, int64_t cs, float* out) {
  for (int j = 0; j < nc; j += NR) {
    const int w = tsg_min(NR, nc - j);
    const float* col = B + j * cs;
    if (w == NR && cs == 1) {
      for (int k = 0; k < kc; k++) {
        const float* src = col + k * rs;
        wasm_v128_store(out, wasm_v128_load(src));
        wasm_v128_store(out + 4, wasm_v128_load(src + 4));
        out += NR;
      }
    } else {
      for (int k = 0; k < kc; k++) {
        const float* src = col + k * rs;
        for (int c = 0; c < NR; c++) out[c] = c < w ? src[c * cs] : 0.f;
        out += NR;
      }
    }
  }
}

/** A[i][k] (strides rs, cs) → strips of MR rows, each [kc][MR], zero-padded at the bottom. */
static void pack_a(int mc, int kc, const float* A, int64_t rs, int64_t cs, float* out) {
  for (int i = 0; i < mc; i += MR) {
    const int h = tsg_min(MR, mc - i);
    const float* row = A + i * rs;
    if (h == MR && cs == 1) {
      for (int k = 0; k < kc; k++) {
        out[0] = row[k];
        out[1] = row[rs + k];
        out[2] = row[2 * rs + k];
        out[3] = row[3 * rs + k];
        out += MR;
      }
    } else {
      for (int k = 0; k < kc; k++) {
        const float* src = row + k * cs;
        for (int r = 0; r < MR; r++) out[r] = r < h ? src[r * rs] : 0.f;
        out += MR;
      }
    }
  }
}

/** C[0:h, 0:w] = (or +=) the product of one packed A strip and one packed B strip. */
static void micro(int kc, const float* a, const float* b, float* c, int64_t ldc, int first, int h,
                  int w) {
  v128_t c00 = wasm_f32x4_splat(0.f), c01 = c00, c10 = c00, c11 = c00;
  v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int k = 0; k < kc; k++) {
    const v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
    const v128_t a0 = wasm_v128_load32_splat(a);
    c00 = TSG_MADD(a0, b0, c00);
    c01 = TSG_MADD(a0, b1, c01);
    const v128_t a1 = wasm_v128_load32_splat(a + 1);
    c10 = TSG_MADD(a1, b0, c10);
    c11 = TSG_MADD(a1, b1, c11);
    const v128_t a2 = wasm_v128_load32_splat(a + 2);
    c20 = TSG_MADD(a2, b0, c20);
    c21 = TSG_MADD(a2, b1, c21);
    const v128_t a3 = wasm_v128_load32_splat(a + 3);
    c30 = TSG_MADD(a3, b0, c30);
    c31 = TSG_MADD(a3, b1, c31);
    a += MR;
    b += NR;
  }
  if (h == MR && w == NR) {
    float* r0 = c;
    float* r1 = c + ldc;
    float* r2 = c + 2 * ldc;
    float* r3 = c + 3 * ldc;
    if (!first) {
      c00 = wasm_f32x4_add(c00, wasm_v128_load(r0));
      c01 = wasm_f32x4_add(c01, wasm_v128_load(r0 + 4));
      c10 = wasm_f32x4_add(c10, wasm_v128_load(r1));
      c11 = wasm_f32x4_add(c11, wasm_v128_load(r1 + 4));
      c20 = wasm_f32x4_add(c20, wasm_v128_load(r2));
      c21 = wasm_f32x4_add(c21, wasm_v128_load(r2 + 4));
      c30 = wasm_f32x4_add(c30, wasm_v128_load(r3));
      c31 = wasm_f32x4_add(c31, wasm_v128_load(r3 + 4));
    }
    wasm_v128_store(r0, c00);
    wasm_v128_store(r0 + 4, c01);
    wasm_v128_store(r1, c10);
    wasm_v128_store(r1 + 4, c11);
    wasm_v128_store(r2, c20);
    wasm_v128_store(r2 + 4, c21);
    wasm_v128_store(r3, c30);
    wasm_v128_store(r3 + 4, c31);
    return;
  }
  float tile[MR * NR];
  wasm_v128_store(tile, c00);
  wasm_v128_store(tile + 4, c01);
  wasm_v128_store(tile + 8, c10);
  wasm_v128_store(tile + 12, c11);
  wasm_v128_store(tile + 16, c20);
  wasm_v128_store(tile + 20, c21);
  wasm_v128_store(tile + 24, c30);
  wasm_v128_store(tile + 28, c31);
  for (int r = 0; r < h; r++) {
    for (int q = 0; q < w; q++) {
      c[r * ldc + q] = first ? tile[r * NR + q] : c[r * ldc + q] + tile[r * NR + q];
    }
  }
}

void tsg_sgemm(int M, int N, int K, const float* A, int64_t ars, int64_t acs, const float* B,
               int64_t brs, int64_t bcs, float* C, int64_t ldc, int accumulate, float* work) {
  float* bp = work;
  float* ap = work + KC * NC;
  if (K == 0) {
    if (!accumulate)
      for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) C[i * ldc + j] = 0.f;
    return;
  }
  for (int jc = 0; jc < N; jc += NC) {
    const int nc = tsg_min(NC, N - jc);
    for (int pc = 0; pc < K; pc += KC) {
      const int kc = tsg_min(KC, K - pc);
      pack_b(kc, nc, B + pc * brs + jc * bcs, brs, bcs, bp);
      const int first = pc == 0 && !accumulate;
      for (int ic = 0; ic < M; ic += MC) {
        const int mc = tsg_min(MC, M - ic);
        pack_a(mc, kc, A + ic * ars + pc * acs, ars, acs, ap);
        for (int jr = 0; jr < nc; jr += NR) {
          const int w = tsg_min(NR, nc - jr);
          for (int ir = 0; ir < mc; ir += MR) {
            micro(kc, ap + ir * kc, bp + jr * kc, C + (ic + ir) * ldc + jc + jr, ldc, first,
                  tsg_min(MR, mc - ir), w);
          }
        }
      }
    }
  }
}

/**
 * The matmul primitive: out[b] = A[b] · B[b] for `count` batches, out dense [count, M, N]. The
 * batches' element offsets into A and B are `offs[2b]` and `offs[2b+1]` (broadcast batch dims
 * repeat an offset). Thread `tid` of `nthreads` computes its share of the output tiles with its
 * own scratch, `work + tid * TSG_GEMM_WORK`.
 */
void TSG_EXPORT(matmul)(int count, const int32_t* offs, int M, int N, int K, const float* A,
                        int32_t ars, int32_t acs, const float* B, int32_t brs, int32_t bcs,
                        float* out, float* work, int tid, int nthreads) {
  // Split each batch's output by column blocks when there are enough, else by row blocks.
  const int by_cols = N >= 64 * nthreads || M < MR * nthreads;
  const int unit = by_cols ? 64 : MR * 8;
  const int per = ((by_cols ? N : M) + unit - 1) / unit;
  int64_t lo, hi;
  tsg_share((int64_t)count * per, tid, nthreads, &lo, &hi);
  work += (int64_t)tid * TSG_GEMM_WORK;
  for (int64_t u = lo; u < hi;) {
    const int b = (int)(u / per);
    const int first = (int)(u % per);
    const int last = (int)tsg_min64(per, hi - (int64_t)b * per);  // exclusive, within batch b
    const int s = first * unit;
    const int e = tsg_min(last * unit, by_cols ? N : M);
    const float* a = A + offs[2 * b];
    const float* bb = B + offs[2 * b + 1];
    float* c = out + (int64_t)b * M * N;
    if (by_cols) {
      tsg_sgemm(M, e - s, K, a, ars, acs, bb + (int64_t)s * bcs, brs, bcs, c + s, N, 0, work);
    } else {
      tsg_sgemm(e - s, N, K, a + (int64_t)s * ars, ars, acs, bb, brs, bcs, c + (int64_t)s * N, N,
                0, work);
    }
    u = (int64_t)b * per + last;
  }
}
