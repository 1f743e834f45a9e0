// Recurrent layers fused (src/nn/rnn-functional.ts is the composition): one LSTM or GRU layer,
// forward and backward. The input projection of every step is one GEMM over the whole sequence; each
// step then adds its recurrent product and applies the gate nonlinearities in one call, every
// thread taking a range of hidden units (all four of a unit's gates), so the only barrier is the
// end of a step. The backward pass runs the steps in reverse the same way, then the weight and
// input gradients as three whole-sequence GEMMs.
//
// Layouts (TB = T·B columns, one block of B per time step t at columns t·B … t·B + B − 1):
//   G  [4H][TB]  gate pre-activations (input projection + bias), then their activations i, f, g,
//                o after the step ran, then their gradients after the backward step ran;
//   Hp [H][TB]   block t: the hidden state the step at time t starts from (h0 for the first);
//   Cp [H][TB]   the same for the cell state; the final states are hN, cN [H][B].
// States are kept transposed ([unit][batch]) so that the recurrent product's operand is packed
// by contiguous loads and the gate loop runs along the batch four lanes at a time. The GRU has
// three gates (r, z, n) in G and keeps the hidden projection of its n gate, hn, in HN [H][TB]
// (the reset gate multiplies it, so it cannot be summed into G).
#include "math.h"

#define COLS_UNIT 64
#define ROWS_UNIT 32

/**
 * C[M,N] (row stride ldc) = A·B; += A·B when accumulate; bias[i] + A·B when row_bias is not
 * null. Operands at any strides. Threads split C by column blocks when there are enough of them,
 * else by row blocks; an element's sum runs in the same order for every split.
 */
void TSG_EXPORT(gemm)(int32_t M, int32_t N, int32_t K, const float* A, int32_t ars, int32_t acs,
                      const float* B, int32_t brs, int32_t bcs, float* C, int32_t ldc,
                      int accumulate, const float* row_bias, float* work, int tid,
                      int nthreads) {
  const int by_cols = N >= COLS_UNIT * nthreads || M < ROWS_UNIT * nthreads;
  const int unit = by_cols ? COLS_UNIT : ROWS_UNIT;
  const int extent = by_cols ? N : M;
  int64_t lo, hi;
  tsg_share((extent + unit - 1) / unit, tid, nthreads, &lo, &hi);
  const int s = (int)lo * unit, e = tsg_min((int)hi * unit, extent);
  if (s >= e) return;
  const int r0 = by_cols ? 0 : s, r1 = by_cols ? M : e;
  const int c0 = by_cols ? s : 0, c1 = by_cols ? e : N;
  float* c = C + (int64_t)r0 * ldc + c0;
  if (row_bias) {
    for (int r = r0; r < r1; r++)
      for (int q = c0; q < c1; q++) C[(int64_t)r * ldc + q] = row_bias[r];
    accumulate = 1;
  }
  tsg_sgemm(r1 - r0, c1 - c0, K, A + (int64_t)r0 * ars, ars, acs, B + (int64_t)c0 * bcs, brs, bcs,
            c, ldc, accumulate, work + (int64_t)tid * TSG_GEMM_WORK);
}

/** out[r] = Σ_c src[r·ld + c] in double (a bias gradient: the gate gradients over all steps). */
void TSG_EXPORT(row_sums)(int32_t rows, int32_t cols, const float* src, int32_t ld, float* out,
                          int tid, int nthreads) {
  int64_t lo, hi;
  tsg_share(rows, tid, nthreads, &lo, &hi);
  for (int64_t r = lo; r < hi; r++) {
    double s = 0;
    for (int64_t c = 0; c < cols; c++) s += src[r * ld + c];
    out[r] = (float)s;
  }
}

/** Hidden units [j0, j1) of thread tid: shares of four-unit groups (the GEMM's row tile). */
static void unit_share(int H, int tid, int nthreads, int* j0, int* j1) {
  int64_t lo, hi;
  tsg_share((H + 3) / 4, tid, nthreads, &lo, &hi);
  *j0 = (int)lo * 4;
  *j1 = tsg_min((int)hi * 4, H);
}

/** a + b, four lanes from two arrays. */
static inline v128_t sum4(const float* a, const float* b) {
  return wasm_f32x4_add(wasm_v128_load(a), wasm_v128_load(b));
}

/**
 * Four lanes of the LSTM cell: the gates' inputs are G + S; their activations replace G; the new
 * c and h out.
 */
static inline void lstm_cell4(float* gi, float* gf, float* gg, float* go, const float* si,
                              const float* sf, const float* sg, const float* so, const float* cp,
                              v128_t* c, v128_t* h) {
  const v128_t i = tsg_sigmoid(sum4(gi, si)), f = tsg_sigmoid(sum4(gf, sf));
  const v128_t g = tsg_tanh(sum4(gg, sg)), o = tsg_sigmoid(sum4(go, so));
  wasm_v128_store(gi, i);
  wasm_v128_store(gf, f);
  wasm_v128_store(gg, g);
  wasm_v128_store(go, o);
  *c = wasm_f32x4_add(wasm_f32x4_mul(f, wasm_v128_load(cp)), wasm_f32x4_mul(i, g));
  *h = wasm_f32x4_mul(o, tsg_tanh(*c));
}

/** The scalar form of lstm_cell4 for one lane (batch tails). */
static inline void lstm_cell1(float* gi, float* gf, float* gg, float* go, const float* si,
                              const float* sf, const float* sg, const float* so, const float* cp,
                              float* c, float* h) {
  *gi = tsg_sigmoid1(*gi + *si);
  *gf = tsg_sigmoid1(*gf + *sf);
  *gg = tsg_tanh1(*gg + *sg);
  *go = tsg_sigmoid1(*go + *so);
  *c = *gf * *cp + *gi * *gg;
  *h = *go * tsg_tanh1(*c);
}

/**
 * One forward step at time t for this thread's hidden units: S = Whh·h_prev (Whh [4H, H] at
 * strides wrs, wcs; S [4H][B] is scratch, compact so that the product's output rows do not all
 * fall in one cache set as G's rows, TB floats apart, would), then with the gates' inputs G + S:
 * i, f, g, o = σ, σ, tanh, σ; c = f·c_prev + i·g; h = o·tanh(c). The activations replace G's
 * block t; the new states go to block tnext of Hp/Cp, or to hN/cN after the last step (tnext
 * < 0); h also to out [T, B, H] at time t.
 */
void TSG_EXPORT(lstm_step)(int32_t H, int32_t B, int32_t TB, const float* whh, int32_t wrs,
                           int32_t wcs, float* G, float* S, float* Hp, float* Cp, float* hN,
                           float* cN, float* out, int32_t t, int32_t tnext, float* work, int tid,
                           int nthreads) {
  int j0, j1;
  unit_share(H, tid, nthreads, &j0, &j1);
  if (j0 >= j1) return;
  work += (int64_t)tid * TSG_GEMM_WORK;
  const int64_t col = (int64_t)t * B;
  for (int q = 0; q < 4; q++) {
    tsg_sgemm(j1 - j0, B, H, whh + (int64_t)(q * H + j0) * wrs, wrs, wcs, Hp + col, TB, 1,
              S + (int64_t)(q * H + j0) * B, B, 0, work);
  }
  float* hn = tnext >= 0 ? Hp + (int64_t)tnext * B : hN;
  float* cn = tnext >= 0 ? Cp + (int64_t)tnext * B : cN;
  const int64_t ldn = tnext >= 0 ? TB : B;
  for (int64_t j = j0; j < j1; j++) {
    float* gi = G + j * TB + col;
    float* gf = gi + (int64_t)H * TB;
    float* gg = gf + (int64_t)H * TB;
    float* go = gg + (int64_t)H * TB;
    const float* si = S + j * B;
    const float* sf = si + (int64_t)H * B;
    const float* sg = sf + (int64_t)H * B;
    const float* so = sg + (int64_t)H * B;
    const float* cp = Cp + j * TB + col;
    float* o = out + col * H + j;
    int64_t b = 0;
    for (; b + 4 <= B; b += 4) {
      v128_t c, h;
      lstm_cell4(gi + b, gf + b, gg + b, go + b, si + b, sf + b, sg + b, so + b, cp + b, &c, &h);
      wasm_v128_store(cn + j * ldn + b, c);
      wasm_v128_store(hn + j * ldn + b, h);
      o[b * H] = wasm_f32x4_extract_lane(h, 0);
      o[(b + 1) * H] = wasm_f32x4_extract_lane(h, 1);
      o[(b + 2) * H] = wasm_f32x4_extract_lane(h, 2);
      o[(b + 3) * H] = wasm_f32x4_extract_lane(h, 3);
    }
    for (; b < B; b++) {
      lstm_cell1(gi + b, gf + b, gg + b, go + b, si + b, sf + b, sg + b, so + b, cp + b,
                 cn + j * ldn + b, hn + j * ldn + b);
      o[b * H] = hn[j * ldn + b];
    }
  }
}

/** Four lanes of the cell's backward pass: gate gradients in place of the activations. */
static inline void lstm_cell_back4(float* gi, float* gf, float* gg, float* go, const float* cp,
                                   const float* ct, v128_t dh, float* dcp) {
  const v128_t one = TSG_F(1.f);
  const v128_t i = wasm_v128_load(gi), f = wasm_v128_load(gf);
  const v128_t g = wasm_v128_load(gg), o = wasm_v128_load(go);
  const v128_t tc = tsg_tanh(wasm_v128_load(ct));
  const v128_t dc = wasm_f32x4_add(
      wasm_v128_load(dcp),
      wasm_f32x4_mul(wasm_f32x4_mul(dh, o), wasm_f32x4_sub(one, wasm_f32x4_mul(tc, tc))));
  const v128_t sig_o = wasm_f32x4_mul(o, wasm_f32x4_sub(one, o));
  const v128_t sig_i = wasm_f32x4_mul(i, wasm_f32x4_sub(one, i));
  const v128_t sig_f = wasm_f32x4_mul(f, wasm_f32x4_sub(one, f));
  wasm_v128_store(go, wasm_f32x4_mul(wasm_f32x4_mul(dh, tc), sig_o));
  wasm_v128_store(gi, wasm_f32x4_mul(wasm_f32x4_mul(dc, g), sig_i));
  wasm_v128_store(gg, wasm_f32x4_mul(wasm_f32x4_mul(dc, i), wasm_f32x4_sub(one, wasm_f32x4_mul(g, g))));
  wasm_v128_store(gf, wasm_f32x4_mul(wasm_f32x4_mul(dc, wasm_v128_load(cp)), sig_f));
  wasm_v128_store(dcp, wasm_f32x4_mul(dc, f));
}

/** The scalar form of lstm_cell_back4 for one lane. */
static inline void lstm_cell_back1(float* gi, float* gf, float* gg, float* go, const float* cp,
                                   const float* ct, float dh, float* dcp) {
  const float i = *gi, f = *gf, g = *gg, o = *go;
  const float tc = tsg_tanh1(*ct);
  const float dc = *dcp + dh * o * (1.f - tc * tc);
  *go = dh * tc * (o * (1.f - o));
  *gi = dc * g * (i * (1.f - i));
  *gg = dc * i * (1.f - g * g);
  *gf = dc * *cp * (f * (1.f - f));
  *dcp = dc * f;
}

/**
 * One backward step for this thread's hidden units. When tnext >= 0, the gradient reaching the
 * hidden state through the recurrence, DH = Whhᵀ·dG of block tnext (the step that ran after t;
 * wt is Whhᵀ [H, 4H] at strides trs, tcs: a dense transposed copy packs fastest);
 * otherwise DH holds it already (dhN). Then, when t >= 0, the cell's backward pass at time t: dh
 * = DH + dout[t] (dout may be null), DC carries dc (it starts as dcN), and the gate gradients
 * replace the activations in block t of G. The last call, t < 0 and tnext the first step, leaves
 * dh0 in DH (DC holds dc0).
 */
void TSG_EXPORT(lstm_step_back)(int32_t H, int32_t B, int32_t TB, const float* wt, int32_t trs,
                                int32_t tcs, float* G, const float* Cp, const float* cN,
                                const float* dout, float* DH, float* DC, int32_t t,
                                int32_t tnext, float* work, int tid, int nthreads) {
  int j0, j1;
  unit_share(H, tid, nthreads, &j0, &j1);
  if (j0 >= j1) return;
  if (tnext >= 0) {
    tsg_sgemm(j1 - j0, B, 4 * H, wt + (int64_t)j0 * trs, trs, tcs, G + (int64_t)tnext * B, TB,
              1, DH + (int64_t)j0 * B, B, 0, work + (int64_t)tid * TSG_GEMM_WORK);
  }
  if (t < 0) return;
  const int64_t col = (int64_t)t * B;
  for (int64_t j = j0; j < j1; j++) {
    float* gi = G + j * TB + col;
    float* gf = gi + (int64_t)H * TB;
    float* gg = gf + (int64_t)H * TB;
    float* go = gg + (int64_t)H * TB;
    const float* cp = Cp + j * TB + col;
    const float* ct = tnext >= 0 ? Cp + j * TB + (int64_t)tnext * B : cN + j * B;
    float* dh = DH + j * B;
    float* dc = DC + j * B;
    const float* d = dout ? dout + col * H + j : 0;
    int64_t b = 0;
    for (; b + 4 <= B; b += 4) {
      v128_t dhv = wasm_v128_load(dh + b);
      if (d) {
        dhv = wasm_f32x4_add(dhv, wasm_f32x4_make(d[b * H], d[(b + 1) * H], d[(b + 2) * H],
                                                  d[(b + 3) * H]));
      }
      lstm_cell_back4(gi + b, gf + b, gg + b, go + b, cp + b, ct + b, dhv, dc + b);
    }
    for (; b < B; b++) {
      const float dhv = dh[b] + (d ? d[b * H] : 0.f);
      lstm_cell_back1(gi + b, gf + b, gg + b, go + b, cp + b, ct + b, dhv, dc + b);
    }
  }
}

/**
 * Four lanes of the GRU cell. In: the gates' inputs G (input side) and S (hidden side), the n
 * gate's hidden bias. r, z, n replace G; hn = S_n + bias goes to hn; the new h is returned.
 */
static inline v128_t gru_cell4(float* gr, float* gz, float* gn, const float* sr, const float* sz,
                               const float* sn, v128_t bn, float* hn, const float* hp) {
  const v128_t r = tsg_sigmoid(sum4(gr, sr)), z = tsg_sigmoid(sum4(gz, sz));
  const v128_t h_n = wasm_f32x4_add(wasm_v128_load(sn), bn);
  const v128_t n = tsg_tanh(wasm_f32x4_add(wasm_v128_load(gn), wasm_f32x4_mul(r, h_n)));
  wasm_v128_store(gr, r);
  wasm_v128_store(gz, z);
  wasm_v128_store(gn, n);
  wasm_v128_store(hn, h_n);
  // h' = n + z·(h − n), as the composition.
  return wasm_f32x4_add(n, wasm_f32x4_mul(z, wasm_f32x4_sub(wasm_v128_load(hp), n)));
}

static inline float gru_cell1(float* gr, float* gz, float* gn, const float* sr, const float* sz,
                              const float* sn, float bn, float* hn, const float* hp) {
  const float r = tsg_sigmoid1(*gr + *sr), z = tsg_sigmoid1(*gz + *sz);
  const float h_n = *sn + bn;
  const float n = tsg_tanh1(*gn + r * h_n);
  *gr = r;
  *gz = z;
  *gn = n;
  *hn = h_n;
  return n + z * (*hp - n);
}

/**
 * One GRU forward step at time t for this thread's hidden units: S = Whh·h_prev (S [3H][B]
 * scratch, as for the LSTM); r = σ(G_r + S_r), z = σ(G_z + S_z) (G holds x·Wihᵀ + bih + bhh on
 * those rows); hn = S_n + bhn (bhn may be null), kept in HN's block t; n = tanh(G_n + r·hn);
 * h = n + z·(h_prev − n). The new h goes to block tnext of Hp, or to hN after the last step, and
 * to out [T, B, H].
 */
void TSG_EXPORT(gru_step)(int32_t H, int32_t B, int32_t TB, const float* whh, int32_t wrs,
                          int32_t wcs, const float* bhn, float* G, float* S, float* HN, float* Hp,
                          float* hN, float* out, int32_t t, int32_t tnext, float* work, int tid,
                          int nthreads) {
  int j0, j1;
  unit_share(H, tid, nthreads, &j0, &j1);
  if (j0 >= j1) return;
  work += (int64_t)tid * TSG_GEMM_WORK;
  const int64_t col = (int64_t)t * B;
  for (int q = 0; q < 3; q++) {
    tsg_sgemm(j1 - j0, B, H, whh + (int64_t)(q * H + j0) * wrs, wrs, wcs, Hp + col, TB, 1,
              S + (int64_t)(q * H + j0) * B, B, 0, work);
  }
  float* hn_out = tnext >= 0 ? Hp + (int64_t)tnext * B : hN;
  const int64_t ldn = tnext >= 0 ? TB : B;
  for (int64_t j = j0; j < j1; j++) {
    float* gr = G + j * TB + col;
    float* gz = gr + (int64_t)H * TB;
    float* gn = gz + (int64_t)H * TB;
    const float* sr = S + j * B;
    const float* sz = sr + (int64_t)H * B;
    const float* sn = sz + (int64_t)H * B;
    const float bn = bhn ? bhn[j] : 0.f;
    float* hn = HN + j * TB + col;
    const float* hp = Hp + j * TB + col;
    float* h = hn_out + j * ldn;
    float* o = out + col * H + j;
    int64_t b = 0;
    for (; b + 4 <= B; b += 4) {
      const v128_t hv =
          gru_cell4(gr + b, gz + b, gn + b, sr + b, sz + b, sn + b, TSG_F(bn), hn + b, hp + b);
      wasm_v128_store(h + b, hv);
      o[b * H] = wasm_f32x4_extract_lane(hv, 0);
      o[(b + 1) * H] = wasm_f32x4_extract_lane(hv, 1);
      o[(b + 2) * H] = wasm_f32x4_extract_lane(hv, 2);
      o[(b + 3) * H] = wasm_f32x4_extract_lane(hv, 3);
    }
    for (; b < B; b++) {
      h[b] = gru_cell1(gr + b, gz + b, gn + b, sr + b, sz + b, sn + b, bn, hn + b, hp + b);
      o[b * H] = h[b];
    }
  }
}

/**
 * Four lanes of the GRU cell's backward pass. In: r, z, n (G), hn, h_prev, dh. Out: G's r, z, n
 * rows take the input-side gate gradients (dgr, dgz, dgn), HN the hidden side's n gradient
 * dgn·r, and the direct part of dh_prev, dh·z, is returned.
 */
static inline v128_t gru_cell_back4(float* gr, float* gz, float* gn, float* hn, const float* hp,
                                    v128_t dh) {
  const v128_t one = TSG_F(1.f);
  const v128_t r = wasm_v128_load(gr), z = wasm_v128_load(gz), n = wasm_v128_load(gn);
  const v128_t hnv = wasm_v128_load(hn);
  const v128_t dgn = wasm_f32x4_mul(wasm_f32x4_mul(dh, wasm_f32x4_sub(one, z)),
                                    wasm_f32x4_sub(one, wasm_f32x4_mul(n, n)));
  const v128_t dz = wasm_f32x4_mul(dh, wasm_f32x4_sub(wasm_v128_load(hp), n));
  wasm_v128_store(gr, wasm_f32x4_mul(wasm_f32x4_mul(dgn, hnv),
                                     wasm_f32x4_mul(r, wasm_f32x4_sub(one, r))));
  wasm_v128_store(gz, wasm_f32x4_mul(dz, wasm_f32x4_mul(z, wasm_f32x4_sub(one, z))));
  wasm_v128_store(gn, dgn);
  wasm_v128_store(hn, wasm_f32x4_mul(dgn, r));
  return wasm_f32x4_mul(dh, z);
}

static inline float gru_cell_back1(float* gr, float* gz, float* gn, float* hn, const float* hp,
                                   float dh) {
  const float r = *gr, z = *gz, n = *gn;
  const float dgn = dh * (1.f - z) * (1.f - n * n);
  *gr = dgn * *hn * (r * (1.f - r));
  *gz = dh * (*hp - n) * (z * (1.f - z));
  *gn = dgn;
  *hn = dgn * r;
  return dh * z;
}

/**
 * One GRU backward step for this thread's hidden units. When tnext >= 0, DH (which holds the
 * direct part dh·z of the step after t) += Whhᵀ·dG_h of block tnext (wt: Whhᵀ [H, 3H] at strides
 * trs, tcs), dG_h being G's r and z rows and HN (the n gate's hidden-side gradient); otherwise DH
 * holds dhN. Then, when t >= 0, the
 * cell's backward pass at time t (dout may be null), leaving its direct part in DH. The last
 * call, t < 0 and tnext the first step, leaves dh0 in DH.
 */
void TSG_EXPORT(gru_step_back)(int32_t H, int32_t B, int32_t TB, const float* wt, int32_t trs,
                               int32_t tcs, float* G, float* HN, const float* Hp,
                               const float* dout, float* DH, int32_t t, int32_t tnext,
                               float* work, int tid, int nthreads) {
  int j0, j1;
  unit_share(H, tid, nthreads, &j0, &j1);
  if (j0 >= j1) return;
  if (tnext >= 0) {
    work += (int64_t)tid * TSG_GEMM_WORK;
    const int64_t cn = (int64_t)tnext * B;
    tsg_sgemm(j1 - j0, B, 2 * H, wt + (int64_t)j0 * trs, trs, tcs, G + cn, TB, 1,
              DH + (int64_t)j0 * B, B, 1, work);
    tsg_sgemm(j1 - j0, B, H, wt + (int64_t)j0 * trs + (int64_t)2 * H * tcs, trs, tcs, HN + cn,
              TB, 1, DH + (int64_t)j0 * B, B, 1, work);
  }
  if (t < 0) return;
  const int64_t col = (int64_t)t * B;
  for (int64_t j = j0; j < j1; j++) {
    float* gr = G + j * TB + col;
    float* gz = gr + (int64_t)H * TB;
    float* gn = gz + (int64_t)H * TB;
    float* hn = HN + j * TB + col;
    const float* hp = Hp + j * TB + col;
    float* dh = DH + j * B;
    const float* d = dout ? dout + col * H + j : 0;
    int64_t b = 0;
    for (; b + 4 <= B; b += 4) {
      v128_t dhv = wasm_v128_load(dh + b);
      if (d) {
        dhv = wasm_f32x4_add(dhv, wasm_f32x4_make(d[b * H], d[(b + 1) * H], d[(b + 2) * H],
                                                  d[(b + 3) * H]));
      }
      wasm_v128_store(dh + b, gru_cell_back4(gr + b, gz + b, gn + b, hn + b, hp + b, dhv));
    }
    for (; b < B; b++) {
      const float dhv = dh[b] + (d ? d[b * H] : 0.f);
      dh[b] = gru_cell_back1(gr + b, gz + b, gn + b, hn + b, hp + b, dhv);
    }
  }
}
