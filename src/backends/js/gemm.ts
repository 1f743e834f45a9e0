/**
 * A blocked, packed single-threaded GEMM in plain JavaScript: C (+)= A · B.
 *
 * Operands are strided (so transposed views cost nothing). A is packed into 4-row panels and B
 * into 4-column panels per K-block, so the 4×4 micro-kernel streams two contiguous arrays and keeps
 * 16 accumulators in registers. Packing into Float64Array avoids float32→double conversions in
 * the inner loop.
 */

const KC = 256;
const MR = 4;
const NR = 4;

export interface MatOperand {
  data: ArrayLike<number>;
  offset: number;
  /** Stride between rows and between columns, in elements. */
  rs: number;
  cs: number;
}

/**
 * C[m×n] = A[m×k] · B[k×n] (or += when `accumulate`), with C contiguous row-major at `cOff`
 * with row stride `ldc`.
 */
export function gemm(
  m: number,
  n: number,
  k: number,
  A: MatOperand,
  B: MatOperand,
  c: { [i: number]: number },
  cOff: number,
  ldc: number,
  accumulate: boolean,
): void {
  if (m === 0 || n === 0) return;
  if (!accumulate) {
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) c[cOff + i * ldc + j] = 0;
  }
  if (k === 0) return;
  const mPanels = Math.ceil(m / MR);
  const nPanels = Math.ceil(n / NR);
  const bp = new Float64Array(nPanels * NR * Math.min(KC, k));
  const ap = new Float64Array(MR * Math.min(KC, k));
  const ad = A.data;
  const bd = B.data;
  for (let k0 = 0; k0 < k; k0 += KC) {
    const kc = Math.min(KC, k - k0);
    // Pack B[k0:k0+kc, :] into column panels: bp[(jp*kc + kk)*NR + c].
    for (let jp = 0; jp < nPanels; jp++) {
      for (let kk = 0; kk < kc; kk++) {
        const base = (jp * kc + kk) * NR;
        const src = B.offset + (k0 + kk) * B.rs;
        for (let cc = 0; cc < NR; cc++) {
          const j = jp * NR + cc;
          bp[base + cc] = j < n ? bd[src + j * B.cs]! : 0;
        }
      }
    }
    for (let ip = 0; ip < mPanels; ip++) {
      const i0 = ip * MR;
      const rows = Math.min(MR, m - i0);
      // Pack A[i0:i0+4, k0:k0+kc] as ap[kk*MR + r].
      for (let r = 0; r < MR; r++) {
        if (r < rows) {
          const src = A.offset + (i0 + r) * A.rs + k0 * A.cs;
          for (let kk = 0; kk < kc; kk++) ap[kk * MR + r] = ad[src + kk * A.cs]!;
        } else {
          for (let kk = 0; kk < kc; kk++) ap[kk * MR + r] = 0;
        }
      }
      for (let jp = 0; jp < nPanels; jp++) {
        let c00 = 0,
          c01 = 0,
          c02 = 0,
          c03 = 0;
        let c10 = 0,
          c11 = 0,
          c12 = 0,
          c13 = 0;
        let c20 = 0,
          c21 = 0,
          c22 = 0,
          c23 = 0;
        let c30 = 0,
          c31 = 0,
          c32 = 0,
          c33 = 0;
        let pb = jp * kc * NR;
        let pa = 0;
        for (let kk = 0; kk < kc; kk++, pa += MR, pb += NR) {
          const a0 = ap[pa]!,
            a1 = ap[pa + 1]!,
            a2 = ap[pa + 2]!,
            a3 = ap[pa + 3]!;
          const b0 = bp[pb]!,
            b1 = bp[pb + 1]!,
            b2 = bp[pb + 2]!,
            b3 = bp[pb + 3]!;
          c00 += a0 * b0;
          c01 += a0 * b1;
          c02 += a0 * b2;
          c03 += a0 * b3;
          c10 += a1 * b0;
          c11 += a1 * b1;
          c12 += a1 * b2;
          c13 += a1 * b3;
          c20 += a2 * b0;
          c21 += a2 * b1;
          c22 += a2 * b2;
          c23 += a2 * b3;
          c30 += a3 * b0;
          c31 += a3 * b1;
          c32 += a3 * b2;
          c33 += a3 * b3;
        }
        const j0 = jp * NR;
        const cols = Math.min(NR, n - j0);
        const acc = [
          c00,
          c01,
          c02,
          c03,
          c10,
          c11,
          c12,
          c13,
          c20,
          c21,
          c22,
          c23,
          c30,
          c31,
          c32,
          c33,
        ];
        for (let r = 0; r < rows; r++) {
          const row = cOff + (i0 + r) * ldc + j0;
          for (let cc = 0; cc < cols; cc++) c[row + cc] = c[row + cc]! + acc[r * NR + cc]!;
        }
      }
    }
  }
}
