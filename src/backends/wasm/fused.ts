/**
 * The wasm backend's fused kernels for composite ops (see `src/ops/fused.ts`): each returns the
 * outputs and a backward closure, or null to let the composition run. softmax and logSoftmax
 * (any axis), layerNorm, localResponseNorm, gelu (both forms), relu (its backward is one pass
 * instead of a compare, a cast and a multiply) in wasm/src/fused.c; the LSTM layer in
 * wasm/src/rnn.c (the recurrence's products through the packed GEMM, the gates fused). Every
 * kernel works on float32 and declines the rest; strided inputs are gathered dense first. Each
 * call copies its operands in and its results out (runtime.ts); what a backward pass needs from
 * the forward (the output, statistics, the LSTM's gates and states) is kept in JS arrays.
 *
 * A fused kernel receives the raw inputs of its composite op (through `tg.fused` they need not
 * have passed the public function's checks), and the C code reads as many elements of each as
 * the geometry it is given says: every size it relies on is checked here first. Malformed
 * parameters (an axis, a window size, an input count the kernel cannot take) are declined, so
 * the composition runs and rejects them itself; inputs whose shapes no call of the public op
 * accepts are a TsgradError naming it. Cotangents reach a backward closure with the outputs'
 * shapes (the autograd sweep checks the seed's shape, then every vjp's results).
 */
import type { FusedKernel, FusedKernels, FusedResult } from "../../ops/fused.js";
import type { View } from "../../ops/primitives.js";
import { isGradEnabled } from "../../tensor/autograd.js";
import { TsgradError, fmtShape } from "../../tensor/errors.js";
import { sameShape } from "../../tensor/shape.js";
import { Tensor } from "../../tensor/tensor.js";
import { MAX_RANK, unaryInto, uploadDense } from "./eltwise.js";
import { GEMM_WORK } from "./kernels.js";
import { download, upload } from "./operands.js";
import type { WasmRuntime } from "./runtime.js";

/** The exports these kernels run through `parallel`. */
export const FUSED_TASKS: string[] = [
  "softmax",
  "softmax_backward",
  "layer_norm",
  "layer_norm_backward",
  "layer_norm_params_backward",
  "lrn",
  "lrn_backward_term",
  "lrn_backward",
  "gelu",
  "gelu_backward",
  "relu_backward",
  "gemm",
  "row_sums",
  "lstm_step",
  "lstm_step_back",
  "gru_step",
  "gru_step_back",
];

type Grads = readonly (Tensor | null)[];

/** Whether the kernels take these: float32, non-empty, of a rank the strided walk holds. */
const usable = (ts: readonly Tensor[]): boolean =>
  ts.every((t) => t.dtype === "float32" && t.size > 0 && t.ndim <= MAX_RANK);

const f32 = (data: Float32Array, shape: readonly number[]): Tensor =>
  new Tensor(data, "float32", [...shape]);

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/** Whether `axis` names an axis of a rank-`ndim` tensor (already normalized: not negative). */
const isAxis = (axis: unknown, ndim: number): axis is number =>
  Number.isInteger(axis) && (axis as number) >= 0 && (axis as number) < ndim;

/** Largest int32: the C kernels take sizes and counts as int32. */
const INT32_MAX = 2 ** 31 - 1;

/** Cost units per element of the elementwise kernels (see PARALLEL_MIN_WORK in runtime.ts). */
const TRANSCENDENTAL = 16;

/**
 * The fused-kernel table over a loaded runtime.
 *
 * @example
 * const wasm = tg.findBackend("wasm");
 * if (wasm?.available()) {
 *   const prev = tg.getBackend().name;
 *   tg.setBackend("wasm");
 *   console.log(tg.tensor([0, 0]).softmax(0).toArray()); // [0.5, 0.5]
 *   tg.setBackend(prev);
 * }
 */
export function wasmFused(rt: WasmRuntime): Partial<FusedKernels> {
  /**
   * A one-input, one-output op whose backward needs only the forward's input or output `keep`
   * and the cotangent: `bwd(keepPtr, gPtr, dxPtr, n)` runs the backward export.
   */
  const elementwise = (
    x: Tensor,
    y: Float32Array,
    keep: View,
    bwd: (k: number, g: number, dx: number, n: number) => void,
  ): FusedResult => ({
    outputs: [f32(y, x.shape)],
    backward: (grads: Grads, needs) => {
      const g = grads[0];
      if (!g || !needs[0]) return [null];
      rt.reset();
      const k = uploadDense(rt, keep);
      const gp = uploadDense(rt, g);
      const dx = rt.alloc(4 * x.size);
      bwd(k, gp, dx, x.size);
      return [f32(read(rt, dx, x.size), x.shape)];
    },
  });

  const softmaxLike =
    (log: boolean): FusedKernel =>
    (inputs, params) => {
      const x = inputs[0]!;
      const axis = params.axis;
      // `axis` sets the [outer, len, inner] geometry the kernel walks: one it cannot name is the
      // composition's to reject.
      if (inputs.length !== 1 || !usable([x]) || x.ndim === 0 || !isAxis(axis, x.ndim)) {
        return null;
      }
      const outer = prod(x.shape.slice(0, axis));
      const len = x.shape[axis]!;
      const inner = prod(x.shape.slice(axis + 1));
      const shape = [outer, len, inner];
      rt.reset();
      const xp = uploadDense(rt, x);
      const yp = rt.alloc(4 * x.size);
      const row = rt.alloc(4 * len * rt.numThreads());
      rt.parallel("softmax", [+log, ...shape, xp, yp, row], x.size * TRANSCENDENTAL);
      const y = read(rt, yp, x.size);
      const yt = f32(y, x.shape);
      return elementwise(x, y, yt, (k, g, dx) =>
        rt.parallel("softmax_backward", [+log, ...shape, k, g, dx], x.size * TRANSCENDENTAL),
      );
    };

  const relu: FusedKernel = (inputs) => {
    const x = inputs[0]!;
    if (inputs.length !== 1 || !usable([x])) return null;
    // The forward is the relu primitive's kernel; the fused part is the backward.
    rt.reset();
    const yp = unaryInto(rt, "relu", x);
    const y = read(rt, yp, x.size);
    const yt = f32(y, x.shape);
    return elementwise(x, y, yt, (k, g, dx, n) => rt.parallel("relu_backward", [n, k, g, dx], n));
  };

  const gelu: FusedKernel = (inputs, params) => {
    const x = inputs[0]!;
    if (inputs.length !== 1 || !usable([x])) return null;
    const tanh = params.approximate === "tanh" ? 1 : 0;
    rt.reset();
    const xp = uploadDense(rt, x);
    const yp = rt.alloc(4 * x.size);
    rt.parallel("gelu", [tanh, x.size, xp, yp], x.size * TRANSCENDENTAL);
    return elementwise(x, read(rt, yp, x.size), x, (k, g, dx, n) =>
      rt.parallel("gelu_backward", [tanh, n, k, g, dx], n * TRANSCENDENTAL),
    );
  };

  const layerNorm: FusedKernel = (inputs, params) => {
    const { k, eps, hasWeight, hasBias } = params as {
      k: number;
      eps: number;
      hasWeight: boolean;
      hasBias: boolean;
    };
    if (inputs.length !== 1 + (hasWeight ? 1 : 0) + (hasBias ? 1 : 0)) return null;
    const x = inputs[0]!;
    if (!Number.isInteger(k) || k < 1 || k > x.ndim) return null;
    const w = hasWeight ? inputs[1]! : null;
    const b = hasBias ? inputs[hasWeight ? 2 : 1]! : null;
    // The kernel reads d values of the weight and of the bias for every row: each must have
    // exactly the normalized shape (PyTorch's rule, and layerNorm's own).
    const normalized = x.shape.slice(x.ndim - k);
    for (const [name, t] of [
      ["weight", w],
      ["bias", b],
    ] as const) {
      if (t && !sameShape(t.shape, normalized)) {
        throw new TsgradError(
          "layerNorm",
          `${name} shape ${fmtShape(t.shape)} must equal the normalized shape ${fmtShape(normalized)}`,
        );
      }
    }
    if (!usable(inputs)) return null;
    const d = prod(normalized);
    const rows = x.size / d;
    rt.reset();
    const xp = uploadDense(rt, x);
    const wp = w ? uploadDense(rt, w) : 0;
    const bp = b ? uploadDense(rt, b) : 0;
    const yp = rt.alloc(4 * x.size);
    const stats = rt.alloc(8 * rows);
    rt.parallel("layer_norm", [rows, d, xp, wp, bp, eps, yp, stats, stats + 4 * rows], x.size);
    const y = read(rt, yp, x.size);
    const mean = read(rt, stats, rows);
    const rstd = read(rt, stats + 4 * rows, rows);
    return {
      outputs: [f32(y, x.shape)],
      backward: (grads: Grads, needs) => {
        const g = grads[0];
        if (!g) return inputs.map(() => null);
        rt.reset();
        const xb = uploadDense(rt, x);
        const wb = w ? uploadDense(rt, w) : 0;
        const gp = uploadDense(rt, g);
        const mp = put(rt, mean);
        const rp = put(rt, rstd);
        const out: (Tensor | null)[] = [null];
        if (needs[0]) {
          const dx = rt.alloc(4 * x.size);
          rt.parallel("layer_norm_backward", [rows, d, xb, wb, mp, rp, gp, dx], x.size);
          out[0] = f32(read(rt, dx, x.size), x.shape);
        }
        const wantW = w !== null && needs[1] === true;
        const wantB = b !== null && needs[hasWeight ? 2 : 1] === true;
        let dw = 0;
        let db = 0;
        if (wantW || wantB) {
          dw = wantW ? rt.alloc(4 * d) : 0;
          db = wantB ? rt.alloc(4 * d) : 0;
          rt.parallel("layer_norm_params_backward", [rows, d, xb, mp, rp, gp, dw, db], x.size);
        }
        if (w) out.push(wantW ? f32(read(rt, dw, d), w.shape) : null);
        if (b) out.push(wantB ? f32(read(rt, db, d), b.shape) : null);
        return out;
      },
    };
  };

  const lrn: FusedKernel = (inputs, params) => {
    const { size, alpha, beta, k } = params as {
      size: number;
      alpha: number;
      beta: number;
      k: number;
    };
    const x = inputs[0]!;
    // The window's size is an int32 in the kernel (its half-widths, α/size): a whole number of
    // channels or the composition's to reject.
    const window = Number.isInteger(size) && size >= 1 && size <= INT32_MAX;
    if (inputs.length !== 1 || !usable([x]) || x.ndim < 3 || !window) return null;
    const N = x.shape[0]!;
    const C = x.shape[1]!;
    const S = x.size / (N * C);
    const geometry = [N, C, S, size, alpha, beta];
    rt.reset();
    const xp = uploadDense(rt, x);
    const yp = rt.alloc(4 * x.size);
    const sp = rt.alloc(4 * x.size);
    rt.parallel("lrn", [...geometry, k, xp, yp, sp], x.size * size);
    const y = read(rt, yp, x.size);
    const scale = read(rt, sp, x.size);
    return {
      outputs: [f32(y, x.shape)],
      backward: (grads: Grads, needs) => {
        const g = grads[0];
        if (!g || !needs[0]) return [null];
        rt.reset();
        const xb = uploadDense(rt, x);
        const gp = uploadDense(rt, g);
        const sb = put(rt, scale);
        const t = rt.alloc(4 * x.size);
        const dx = rt.alloc(4 * x.size);
        const work = x.size * TRANSCENDENTAL;
        rt.parallel("lrn_backward_term", [x.size, beta, gp, xb, sb, t], work);
        rt.parallel("lrn_backward", [...geometry, gp, xb, sb, t, dx], x.size * size);
        return [f32(read(rt, dx, x.size), x.shape)];
      },
    };
  };

  return {
    softmax: softmaxLike(false),
    logSoftmax: softmaxLike(true),
    relu,
    gelu,
    layerNorm,
    localResponseNorm: lrn,
    lstmLayer: (inputs, params) => lstmLayer(rt, inputs, params),
    gruLayer: (inputs, params) => gruLayer(rt, inputs, params),
  };
}

/**
 * Whether every element of `ts` is finite. The recurrent kernels decline (the composition runs)
 * when an input or an output is not: a backward pass always multiplies by the cotangents of all
 * the layer's outputs, zeros for one the caller did not use, where the composition (and
 * PyTorch) sends nothing through it, so 0·inf or 0·NaN (a cell state of inf, a NaN gate) made
 * NaN gradients where theirs are finite (issue 19). The scan reads each operand once, small
 * next to the recurrence's products.
 */
function allFinite(ts: readonly (Tensor | Float32Array)[]): boolean {
  for (const t of ts) {
    const d = t instanceof Tensor ? t.dataSync() : t;
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return false;
  }
  return true;
}

/**
 * [T, B, I, H] of a recurrent layer's inputs — x [T, B, I], then the states (h0, and c0 for the
 * LSTM) [B, H], weightIh [gates·H, I], weightHh [gates·H, H], the biases present [gates·H] —
 * or a TsgradError naming `op` and every shape: the kernels read each operand by these sizes.
 */
function recurrentShapes(
  op: string,
  gates: number,
  inputs: readonly Tensor[],
  states: readonly Tensor[],
  hasBiasIh: boolean,
  hasBiasHh: boolean,
): [number, number, number, number] {
  const x = inputs[0]!;
  const [wih, whh] = [inputs[states.length + 1]!, inputs[states.length + 2]!];
  const biases = inputs.slice(states.length + 3);
  const [T, B, I] = x.ndim === 3 ? (x.shape as [number, number, number]) : [0, 0, 0];
  const H = whh.ndim === 2 ? whh.shape[1]! : 0;
  const ok =
    x.ndim === 3 &&
    whh.ndim === 2 &&
    sameShape(whh.shape, [gates * H, H]) &&
    sameShape(wih.shape, [gates * H, I]) &&
    states.every((s) => sameShape(s.shape, [B, H])) &&
    biases.every((b) => sameShape(b.shape, [gates * H]));
  if (!ok) {
    const names = op === "lstmLayer" ? ["h0", "c0"] : ["h0"];
    const named = (label: string, t: Tensor) => `${label} ${fmtShape(t.shape)}`;
    const biasNames = [...(hasBiasIh ? ["biasIh"] : []), ...(hasBiasHh ? ["biasHh"] : [])];
    throw new TsgradError(
      op,
      `shapes do not fit: ${[
        named("input", x),
        ...states.map((s, i) => named(names[i]!, s)),
        `${named("weightIh", wih)} (want [${gates}H, I])`,
        `${named("weightHh", whh)} (want [${gates}H, H])`,
        ...biases.map((b, i) => `${named(biasNames[i]!, b)} (want [${gates}H])`),
      ].join(", ")}`,
    );
  }
  return [T, B, I, H];
}

/**
 * The LSTM layer (see wasm/src/rnn.c for the layouts): the input projection of all steps as one
 * GEMM, one call per step, the backward pass one call per step and three GEMMs.
 */
function lstmLayer(
  rt: WasmRuntime,
  inputs: readonly Tensor[],
  params: Readonly<Record<string, unknown>>,
): FusedResult | null {
  const { reverse, lengths, hasBiasIh, hasBiasHh } = params as {
    reverse: boolean;
    lengths: readonly number[] | null;
    hasBiasIh: boolean;
    hasBiasHh: boolean;
  };
  if (inputs.length !== 5 + (hasBiasIh ? 1 : 0) + (hasBiasHh ? 1 : 0)) return null;
  const [x, h0, c0, wih, whh] = inputs as [Tensor, Tensor, Tensor, Tensor, Tensor];
  const [T, B, I, H] = recurrentShapes("lstmLayer", 4, inputs, [h0, c0], hasBiasIh, hasBiasHh);
  // Per-sequence lengths mask steps: the composition handles those, and non-finite values.
  if (lengths !== null || !usable(inputs) || !allFinite(inputs)) return null;
  const TB = T * B;
  // The two biases only ever appear summed (in double, then rounded once).
  let bias: Float32Array | null = null;
  let at = 5;
  for (const has of [hasBiasIh, hasBiasHh]) {
    if (!has) continue;
    const v = inputs[at++]!.dataSync();
    bias ??= new Float32Array(4 * H);
    for (let i = 0; i < bias.length; i++) bias[i]! += v[i]!;
  }
  /** The time step processed s-th. */
  const time = (s: number) => (reverse ? T - 1 - s : s);
  const training = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  const wsLength = 6 * H * TB + H * B;

  rt.reset();
  const xp = uploadDense(rt, x);
  const Wih = upload(rt, wih);
  const Whh = upload(rt, whh);
  const biasPtr = bias ? put(rt, bias) : 0;
  // The workspace the backward pass needs, contiguous: G, Hp, Cp, cN.
  const ws = rt.alloc(4 * wsLength);
  const G = ws;
  const Hp = ws + 16 * H * TB;
  const Cp = ws + 20 * H * TB;
  const cN = ws + 24 * H * TB;
  const hN = rt.alloc(4 * H * B);
  const S = rt.alloc(16 * H * B);
  const out = rt.alloc(4 * TB * H);
  const work = rt.alloc(4 * GEMM_WORK * rt.numThreads());
  rt.parallel(
    "gemm",
    [4 * H, TB, I, Wih.ptr, Wih.strides[0]!, Wih.strides[1]!, xp, 1, I, G, TB, 0, biasPtr, work],
    4 * H * TB * I,
  );
  // The initial states, transposed into their column block.
  const copy2d = rt.exports.copy2d!;
  const t0 = time(0);
  const h0p = upload(rt, h0);
  const c0p = upload(rt, c0);
  copy2d(B, H, h0p.ptr, h0p.strides[0]!, h0p.strides[1]!, Hp + 4 * t0 * B, 1, TB);
  copy2d(B, H, c0p.ptr, c0p.strides[0]!, c0p.strides[1]!, Cp + 4 * t0 * B, 1, TB);
  const ws2 = [Whh.ptr, Whh.strides[0]!, Whh.strides[1]!];
  for (let s = 0; s < T; s++) {
    const args = [
      H,
      B,
      TB,
      ...ws2,
      G,
      S,
      Hp,
      Cp,
      hN,
      cN,
      out,
      time(s),
      s < T - 1 ? time(s + 1) : -1,
    ];
    rt.parallel("lstm_step", [...args, work], 4 * H * H * B);
  }
  const outT = f32(read(rt, out, TB * H), [T, B, H]);
  const hT = f32(transposed(rt, hN, H, B), [B, H]);
  const cT = f32(transposed(rt, cN, H, B), [B, H]);
  // Finite inputs can still overflow (gate sums of ±inf − ±inf are NaN): the composition's.
  if (!allFinite([outT, cT])) return null;
  const saved = training ? read(rt, ws, wsLength) : null;
  return {
    outputs: [outT, hT, cT],
    backward: (grads: Grads, needs) => {
      if (saved === null) {
        throw new TsgradError("lstmLayer", "backward pass without the forward's training state");
      }
      rt.reset();
      const wsb = put(rt, saved);
      const [Gb, Hpb, Cpb, cNb] = [wsb, wsb + 16 * H * TB, wsb + 20 * H * TB, wsb + 24 * H * TB];
      const wb = transposedWeights(rt, whh, 4 * H, H);
      const dout = grads[0] ? uploadDense(rt, grads[0]) : 0;
      // DH and DC start as the final states' cotangents, transposed (zeros when absent).
      const DH = transposedIn(rt, grads[1] ?? null, B, H);
      const DC = transposedIn(rt, grads[2] ?? null, B, H);
      const wk = rt.alloc(4 * GEMM_WORK * rt.numThreads());
      for (let s = T - 1; s >= -1; s--) {
        // s = −1: only the recurrence into h0 (dh0 = Whhᵀ·dG of the first step).
        const t = s >= 0 ? time(s) : -1;
        const tnext = s < T - 1 ? time(s + 1) : -1;
        const args = [H, B, TB, ...wb, Gb, Cpb, cNb, dout, DH, DC, t, tnext, wk];
        rt.parallel("lstm_step_back", args, 4 * H * H * B);
      }
      const res: (Tensor | null)[] = [
        null,
        f32(transposed(rt, DH, H, B), [B, H]),
        f32(transposed(rt, DC, H, B), [B, H]),
        null,
        null,
      ];
      // dG is [4H][TB]: dx = dGᵀ·Wih, dWih = dG·X, dWhh = dG·Hprev (Hprev[tb][j] = Hp[j][tb]).
      const gemm = gemmInto(rt, wk);
      if (needs[0]) {
        const W = upload(rt, wih);
        const dx = gemm(TB, I, 4 * H, [Gb, 1, TB], [W.ptr, W.strides[0]!, W.strides[1]!], I);
        res[0] = f32(read(rt, dx, TB * I), x.shape);
      }
      if (needs[3]) {
        const xb = uploadDense(rt, x);
        const dw = gemm(4 * H, I, TB, [Gb, TB, 1], [xb, I, 1], I);
        res[3] = f32(read(rt, dw, 4 * H * I), [4 * H, I]);
      }
      if (needs[4]) {
        const dw = gemm(4 * H, H, TB, [Gb, TB, 1], [Hpb, 1, TB], H);
        res[4] = f32(read(rt, dw, 4 * H * H), [4 * H, H]);
      }
      const biasNeeds = [hasBiasIh && needs[5], hasBiasHh && needs[hasBiasIh ? 6 : 5]];
      let dbias: Float32Array | null = null;
      if (biasNeeds.some((n) => n)) {
        const db = rt.alloc(16 * H);
        rt.parallel("row_sums", [4 * H, TB, Gb, TB, db], 4 * H * TB);
        dbias = read(rt, db, 4 * H);
      }
      // Both biases receive the same gradient (each its own copy: callers may accumulate).
      if (hasBiasIh) res.push(biasNeeds[0] && dbias ? f32(dbias, [4 * H]) : null);
      if (hasBiasHh) res.push(biasNeeds[1] && dbias ? f32(dbias.slice(), [4 * H]) : null);
      return res.map((r, i) => (needs[i] ? r : null));
    },
  };
}

/**
 * One GRU layer (gates r, z, n; see wasm/src/rnn.c): the input projection with bih (and bhh for
 * r and z, which only ever appear summed) as one GEMM, one call per step forward and backward,
 * then the weight and input gradients as whole-sequence GEMMs.
 */
function gruLayer(
  rt: WasmRuntime,
  inputs: readonly Tensor[],
  params: Readonly<Record<string, unknown>>,
): FusedResult | null {
  const { reverse, lengths, hasBiasIh, hasBiasHh } = params as {
    reverse: boolean;
    lengths: readonly number[] | null;
    hasBiasIh: boolean;
    hasBiasHh: boolean;
  };
  if (inputs.length !== 4 + (hasBiasIh ? 1 : 0) + (hasBiasHh ? 1 : 0)) return null;
  const [x, h0, wih, whh] = inputs as [Tensor, Tensor, Tensor, Tensor];
  const [T, B, I, H] = recurrentShapes("gruLayer", 3, inputs, [h0], hasBiasIh, hasBiasHh);
  if (lengths !== null || !usable(inputs) || !allFinite(inputs)) return null;
  const TB = T * B;
  const bih = hasBiasIh ? inputs[4]!.dataSync() : null;
  const bhh = hasBiasHh ? inputs[hasBiasIh ? 5 : 4]!.dataSync() : null;
  // The input side's bias: bih, plus bhh on the r and z rows; the n gate's bhh stays apart.
  let biasX: Float32Array | null = null;
  if (bih || bhh) {
    biasX = new Float32Array(3 * H);
    for (let i = 0; i < 3 * H; i++) biasX[i] = (bih?.[i] ?? 0) + (i < 2 * H ? (bhh?.[i] ?? 0) : 0);
  }
  const time = (s: number) => (reverse ? T - 1 - s : s);
  const training = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  const wsLength = 5 * H * TB;

  rt.reset();
  const xp = uploadDense(rt, x);
  const Wih = upload(rt, wih);
  const Whh = upload(rt, whh);
  const biasPtr = biasX ? put(rt, biasX) : 0;
  const bhn = bhh ? put(rt, Float32Array.from(bhh.subarray(2 * H, 3 * H))) : 0;
  // The workspace the backward pass needs, contiguous: G [3H][TB], HN, Hp [H][TB].
  const ws = rt.alloc(4 * wsLength);
  const [G, HN, Hp] = [ws, ws + 12 * H * TB, ws + 16 * H * TB];
  const hN = rt.alloc(4 * H * B);
  const S = rt.alloc(12 * H * B);
  const out = rt.alloc(4 * TB * H);
  const work = rt.alloc(4 * GEMM_WORK * rt.numThreads());
  const wi = [Wih.ptr, Wih.strides[0]!, Wih.strides[1]!];
  rt.parallel("gemm", [3 * H, TB, I, ...wi, xp, 1, I, G, TB, 0, biasPtr, work], 3 * H * TB * I);
  const h0p = upload(rt, h0);
  rt.exports.copy2d!(B, H, h0p.ptr, h0p.strides[0]!, h0p.strides[1]!, Hp + 4 * time(0) * B, 1, TB);
  const wh = [Whh.ptr, Whh.strides[0]!, Whh.strides[1]!];
  for (let s = 0; s < T; s++) {
    const args = [
      H,
      B,
      TB,
      ...wh,
      bhn,
      G,
      S,
      HN,
      Hp,
      hN,
      out,
      time(s),
      s < T - 1 ? time(s + 1) : -1,
    ];
    rt.parallel("gru_step", [...args, work], 3 * H * H * B);
  }
  const outT = f32(read(rt, out, TB * H), [T, B, H]);
  const hT = f32(transposed(rt, hN, H, B), [B, H]);
  if (!allFinite([outT])) return null;
  const saved = training ? read(rt, ws, wsLength) : null;
  return {
    outputs: [outT, hT],
    backward: (grads: Grads, needs) => {
      if (saved === null) {
        throw new TsgradError("gruLayer", "backward pass without the forward's training state");
      }
      rt.reset();
      const wsb = put(rt, saved);
      const [Gb, HNb, Hpb] = [wsb, wsb + 12 * H * TB, wsb + 16 * H * TB];
      const wb = transposedWeights(rt, whh, 3 * H, H);
      const dout = grads[0] ? uploadDense(rt, grads[0]) : 0;
      const DH = transposedIn(rt, grads[1] ?? null, B, H);
      const wk = rt.alloc(4 * GEMM_WORK * rt.numThreads());
      for (let s = T - 1; s >= -1; s--) {
        const t = s >= 0 ? time(s) : -1;
        const tnext = s < T - 1 ? time(s + 1) : -1;
        const args = [H, B, TB, ...wb, Gb, HNb, Hpb, dout, DH, t, tnext, wk];
        rt.parallel("gru_step_back", args, 3 * H * H * B);
      }
      const res: (Tensor | null)[] = [null, f32(transposed(rt, DH, H, B), [B, H]), null, null];
      const gemm = gemmInto(rt, wk);
      if (needs[0]) {
        const W = upload(rt, wih);
        const dx = gemm(TB, I, 3 * H, [Gb, 1, TB], [W.ptr, W.strides[0]!, W.strides[1]!], I);
        res[0] = f32(read(rt, dx, TB * I), x.shape);
      }
      if (needs[2]) {
        const xb = uploadDense(rt, x);
        res[2] = f32(read(rt, gemm(3 * H, I, TB, [Gb, TB, 1], [xb, I, 1], I), 3 * H * I), [
          3 * H,
          I,
        ]);
      }
      if (needs[3]) {
        // The hidden side's gate gradients: G's r and z rows, then HN for n.
        const dw = rt.alloc(12 * H * H);
        gemm(2 * H, H, TB, [Gb, TB, 1], [Hpb, 1, TB], H, dw);
        gemm(H, H, TB, [HNb, TB, 1], [Hpb, 1, TB], H, dw + 8 * H * H);
        res[3] = f32(read(rt, dw, 3 * H * H), [3 * H, H]);
      }
      const sums = (rows: number, src: number): Float32Array => {
        const o = rt.alloc(4 * rows);
        rt.parallel("row_sums", [rows, TB, src, TB, o], rows * TB);
        return read(rt, o, rows);
      };
      if (hasBiasIh) res.push(needs[4] ? f32(sums(3 * H, Gb), [3 * H]) : null);
      if (hasBiasHh && needs[hasBiasIh ? 5 : 4]) {
        const db = new Float32Array(3 * H);
        db.set(sums(2 * H, Gb));
        db.set(sums(H, HNb), 2 * H);
        res.push(f32(db, [3 * H]));
      } else if (hasBiasHh) res.push(null);
      return res.map((r, i) => (needs[i] ? r : null));
    },
  };
}

/**
 * A [rows, cols] weight view copied transposed and dense into the arena: [address, row stride,
 * column stride] of the [cols, rows] result (the backward pass's recurrent product packs it with
 * contiguous loads).
 */
function transposedWeights(rt: WasmRuntime, w: View, rows: number, cols: number): number[] {
  const p = upload(rt, w);
  const at = rt.alloc(4 * rows * cols);
  rt.exports.copy2d!(rows, cols, p.ptr, p.strides[0]!, p.strides[1]!, at, 1, rows);
  return [at, rows, 1];
}

/** Copy a JS array into the arena; returns its byte address. */
function put(rt: WasmRuntime, a: Float32Array): number {
  const at = rt.alloc(4 * a.length);
  rt.f32().set(a, at >> 2);
  return at;
}

/** A [rows, cols] float32 view transposed into the arena as [cols][rows], or zeros for null. */
function transposedIn(rt: WasmRuntime, v: View | null, rows: number, cols: number): number {
  const at = rt.alloc(4 * rows * cols);
  if (v === null) {
    rt.f32().fill(0, at >> 2, (at >> 2) + rows * cols);
  } else {
    const p = upload(rt, v);
    rt.exports.copy2d!(rows, cols, p.ptr, p.strides[0]!, p.strides[1]!, at, 1, rows);
  }
  return at;
}

/**
 * C = A·B through the threaded `gemm` export, A and B given as [address, row stride, column
 * stride]; C is a new arena array unless `c` is given. Returns C's address.
 */
function gemmInto(rt: WasmRuntime, work: number) {
  return (
    M: number,
    N: number,
    K: number,
    A: number[],
    B: number[],
    ldc: number,
    c = rt.alloc(4 * M * N),
  ): number => {
    rt.parallel("gemm", [M, N, K, ...A, ...B, c, ldc, 0, 0, work], M * N * K);
    return c;
  };
}

/** n floats at byte address `ptr`, as a new array. */
function read(rt: WasmRuntime, ptr: number, n: number): Float32Array {
  const out = new Float32Array(n);
  download(rt, ptr, out);
  return out;
}

/** A [rows][cols] float block at `ptr`, transposed into a new [cols][rows] array. */
function transposed(rt: WasmRuntime, ptr: number, rows: number, cols: number): Float32Array {
  const src = rt.f32();
  const base = ptr >> 2;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = src[base + r * cols + c]!;
  }
  return out;
}
