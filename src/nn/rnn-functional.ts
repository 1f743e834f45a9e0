/**
 * One recurrent layer in one direction, as compositions: `lstmLayer` and `gruLayer`. Multi-layer
 * and bidirectional networks (`tg.nn.LSTM`, `tg.nn.GRU`) stack these. Weight layouts and gate
 * orders are PyTorch's (LSTM: i, f, g, o; GRU: r, z, n), so state dicts carry over.
 *
 * The input projection of every time step is one matmul over the whole sequence; each step then
 * adds one fused [B, H] × [H, gates·H] matmul. Both route through `fused()`, so a backend with a
 * recurrent kernel (oneDNN's RNN primitive) can replace the whole layer.
 */
import { fused } from "../ops/fused.js";
import * as ops from "../ops/ops.js";
import { TsgradError, fmtShape } from "../tensor/errors.js";
import { Tensor } from "../tensor/tensor.js";

export interface RecurrentLayerOptions {
  /** Process the sequence from the last step to the first (the backward half of a bidirectional layer). */
  reverse?: boolean;
  /**
   * Valid length of each batch element (sequences padded at the end). Steps at or beyond a
   * sequence's length leave its state unchanged and output zeros, like PyTorch's packed sequences.
   */
  lengths?: readonly number[];
}

function checkShapes(
  op: string,
  gates: number,
  x: Tensor,
  h0: Tensor,
  wIh: Tensor,
  wHh: Tensor,
  bIh: Tensor | null,
  bHh: Tensor | null,
  lengths?: readonly number[],
): [number, number, number] {
  if (x.ndim !== 3) throw new TsgradError(op, `input must be [T, B, I], got ${fmtShape(x.shape)}`);
  const [T, B, I] = x.shape as [number, number, number];
  const H = wHh.shape[1] ?? 0;
  const ok =
    wIh.ndim === 2 &&
    wIh.shape[0] === gates * H &&
    wIh.shape[1] === I &&
    wHh.ndim === 2 &&
    wHh.shape[0] === gates * H &&
    h0.ndim === 2 &&
    h0.shape[0] === B &&
    h0.shape[1] === H &&
    (!bIh || (bIh.ndim === 1 && bIh.shape[0] === gates * H)) &&
    (!bHh || (bHh.ndim === 1 && bHh.shape[0] === gates * H));
  if (!ok) {
    throw new TsgradError(
      op,
      `shapes do not fit: input ${fmtShape(x.shape)}, h0 ${fmtShape(h0.shape)}, weightIh ${fmtShape(wIh.shape)} (want [${gates}H, I]), weightHh ${fmtShape(wHh.shape)} (want [${gates}H, H])` +
        `${bIh ? `, biasIh ${fmtShape(bIh.shape)}` : ""}${bHh ? `, biasHh ${fmtShape(bHh.shape)}` : ""}`,
    );
  }
  if (
    lengths &&
    (lengths.length !== B || lengths.some((l) => !Number.isInteger(l) || l < 0 || l > T))
  ) {
    throw new TsgradError(
      op,
      `lengths [${lengths.join(",")}] must hold ${B} integers in [0, ${T}]`,
    );
  }
  return [T, B, H];
}

/**
 * True when every sequence spans all T steps: the masks would then change nothing, and dropping
 * them lets a backend's fused recurrent kernel (which has no notion of lengths) take the layer.
 */
function fullLength(lengths: readonly number[] | undefined, T: number): boolean {
  return lengths !== undefined && lengths.every((l) => l === T);
}

/** Per-step [B, 1] masks (1 where step t is inside the sequence), or null without lengths. */
function stepMasks(
  T: number,
  B: number,
  lengths: readonly number[] | undefined,
  dtype: Tensor["dtype"],
): Tensor[] | null {
  if (!lengths) return null;
  return Array.from({ length: T }, (_, t) => {
    const m = new (dtype === "float64" ? Float64Array : Float32Array)(B);
    for (let b = 0; b < B; b++) m[b] = t < lengths[b]! ? 1 : 0;
    return new Tensor(m, dtype, [B, 1]);
  });
}

/**
 * One LSTM layer (PyTorch's equations and weight layout; gates i, f, g, o). Returns the outputs of
 * every step [T, B, H] and the final hidden and cell states [B, H].
 *
 * @example
 * const [T, B, I, H] = [5, 2, 3, 4];
 * const w = (r: number, c: number) => tg.randn([r, c]).mul(0.1);
 * const [out, hN, cN] = tg.F.lstmLayer(tg.randn([T, B, I]), tg.zeros([B, H]), tg.zeros([B, H]), w(4 * H, I), w(4 * H, H), tg.zeros([4 * H]), tg.zeros([4 * H]));
 * console.log(out.shape, hN.shape, cN.shape); // [5, 2, 4] [2, 4] [2, 4]
 */
export function lstmLayer(
  x: Tensor,
  h0: Tensor,
  c0: Tensor,
  weightIh: Tensor,
  weightHh: Tensor,
  biasIh: Tensor | null,
  biasHh: Tensor | null,
  opts: RecurrentLayerOptions = {},
): [Tensor, Tensor, Tensor] {
  const [T, B, H] = checkShapes(
    "lstmLayer",
    4,
    x,
    h0,
    weightIh,
    weightHh,
    biasIh,
    biasHh,
    opts.lengths,
  );
  if (c0.ndim !== 2 || c0.shape[0] !== B || c0.shape[1] !== H) {
    throw new TsgradError("lstmLayer", `c0 must be [${B}, ${H}], got ${fmtShape(c0.shape)}`);
  }
  const inputs = [
    x,
    h0,
    c0,
    weightIh,
    weightHh,
    ...(biasIh ? [biasIh] : []),
    ...(biasHh ? [biasHh] : []),
  ];
  const params = {
    reverse: !!opts.reverse,
    lengths: fullLength(opts.lengths, T) ? null : (opts.lengths ?? null),
    hasBiasIh: !!biasIh,
    hasBiasHh: !!biasHh,
  };
  const [out, hN, cN] = fused("lstmLayer", inputs, params, (ts) => {
    const [xs, hs, cs, wih, whh] = ts as [Tensor, Tensor, Tensor, Tensor, Tensor];
    let k = 5;
    const bih = params.hasBiasIh ? ts[k++]! : null;
    const bhh = params.hasBiasHh ? ts[k]! : null;
    // Input projections for all steps at once: [T, B, 4H].
    let xw = ops.matmul(xs, ops.transpose(wih, 0, 1));
    if (bih) xw = ops.add(xw, bih);
    if (bhh) xw = ops.add(xw, bhh);
    const whhT = ops.transpose(whh, 0, 1);
    const masks = stepMasks(T, B, params.lengths ?? undefined, xs.dtype);
    let h = hs;
    let c = cs;
    const outs = new Array<Tensor>(T);
    for (let s = 0; s < T; s++) {
      const t = params.reverse ? T - 1 - s : s;
      const gates = ops.add(ops.squeeze(ops.narrow(xw, 0, t, 1), 0), ops.matmul(h, whhT));
      const [gi, gf, gg, go] = ops.chunk(gates, 4, 1) as [Tensor, Tensor, Tensor, Tensor];
      const cNew = ops.add(ops.mul(ops.sigmoid(gf), c), ops.mul(ops.sigmoid(gi), ops.tanh(gg)));
      const hNew = ops.mul(ops.sigmoid(go), ops.tanh(cNew));
      const m = masks?.[t];
      if (m) {
        c = ops.where(m.gt(0), cNew, c);
        h = ops.where(m.gt(0), hNew, h);
        outs[t] = ops.mul(hNew, m);
      } else {
        c = cNew;
        h = hNew;
        outs[t] = hNew;
      }
    }
    return [ops.stack(outs, 0), h, c];
  });
  return [out!, hN!, cN!];
}

/**
 * One GRU layer (PyTorch's equations — the reset gate applies after the hidden projection — and
 * weight layout; gates r, z, n). Returns the outputs [T, B, H] and the final hidden state [B, H].
 *
 * @example
 * const [T, B, I, H] = [4, 3, 2, 5];
 * const w = (r: number, c: number) => tg.randn([r, c]).mul(0.1);
 * const [out, hN] = tg.F.gruLayer(tg.randn([T, B, I]), tg.zeros([B, H]), w(3 * H, I), w(3 * H, H), null, null);
 * console.log(out.shape, hN.shape); // [4, 3, 5] [3, 5]
 */
export function gruLayer(
  x: Tensor,
  h0: Tensor,
  weightIh: Tensor,
  weightHh: Tensor,
  biasIh: Tensor | null,
  biasHh: Tensor | null,
  opts: RecurrentLayerOptions = {},
): [Tensor, Tensor] {
  const [T, B] = checkShapes(
    "gruLayer",
    3,
    x,
    h0,
    weightIh,
    weightHh,
    biasIh,
    biasHh,
    opts.lengths,
  );
  const inputs = [
    x,
    h0,
    weightIh,
    weightHh,
    ...(biasIh ? [biasIh] : []),
    ...(biasHh ? [biasHh] : []),
  ];
  const params = {
    reverse: !!opts.reverse,
    lengths: fullLength(opts.lengths, T) ? null : (opts.lengths ?? null),
    hasBiasIh: !!biasIh,
    hasBiasHh: !!biasHh,
  };
  const [out, hN] = fused("gruLayer", inputs, params, (ts) => {
    const [xs, hs, wih, whh] = ts as [Tensor, Tensor, Tensor, Tensor];
    let k = 4;
    const bih = params.hasBiasIh ? ts[k++]! : null;
    const bhh = params.hasBiasHh ? ts[k]! : null;
    let xw = ops.matmul(xs, ops.transpose(wih, 0, 1));
    if (bih) xw = ops.add(xw, bih);
    const whhT = ops.transpose(whh, 0, 1);
    const masks = stepMasks(T, B, params.lengths ?? undefined, xs.dtype);
    let h = hs;
    const outs = new Array<Tensor>(T);
    for (let s = 0; s < T; s++) {
      const t = params.reverse ? T - 1 - s : s;
      const [xr, xz, xn] = ops.chunk(ops.squeeze(ops.narrow(xw, 0, t, 1), 0), 3, 1) as [
        Tensor,
        Tensor,
        Tensor,
      ];
      let hw = ops.matmul(h, whhT);
      if (bhh) hw = ops.add(hw, bhh);
      const [hr, hz, hn] = ops.chunk(hw, 3, 1) as [Tensor, Tensor, Tensor];
      const r = ops.sigmoid(ops.add(xr, hr));
      const z = ops.sigmoid(ops.add(xz, hz));
      const n = ops.tanh(ops.add(xn, ops.mul(r, hn)));
      // h' = (1 - z) n + z h = n + z (h - n)
      const hNew = ops.add(n, ops.mul(z, ops.sub(h, n)));
      const m = masks?.[t];
      if (m) {
        h = ops.where(m.gt(0), hNew, h);
        outs[t] = ops.mul(hNew, m);
      } else {
        h = hNew;
        outs[t] = hNew;
      }
    }
    return [ops.stack(outs, 0), h];
  });
  return [out!, hN!];
}
