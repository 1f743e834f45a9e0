/**
 * The native backend's fused kernels (see `src/ops/fused.ts`): softmax, logSoftmax, layerNorm,
 * gelu and lstmLayer on oneDNN's forward-training primitives, each returning a backward closure on
 * the matching backward primitive; localResponseNorm as direct OpenMP loops (oneDNN's plain-layout
 * LRN backward is its slow reference code); relu, whose backward is one loop instead of a compare,
 * a cast and a multiply; conv2dBias, oneDNN's convolution with its bias argument (and bias
 * gradient). Anything they do not handle (float64, empty tensors, LSTMs with per-sequence
 * lengths) returns null, and the composition runs instead. The conformance suite checks each
 * against its composition.
 */
import type { FusedKernel, FusedKernels, FusedResult } from "../../ops/fused.js";
import type { Conv2dParams } from "../../ops/primitives.js";
import { checkConv } from "../../ops/rules.js";
import { isGradEnabled } from "../../tensor/autograd.js";
import { TsgradError } from "../../tensor/errors.js";
import { sameShape } from "../../tensor/shape.js";
import { Tensor } from "../../tensor/tensor.js";
import { MetaWriter, bf16 } from "./kernels.js";
import type { NativeAddon } from "./loader.js";

type Grads = readonly (Tensor | null)[];

const MAX_RANK = 12;

function usable(ts: readonly Tensor[]): boolean {
  return ts.every((t) => t.dtype === "float32" && t.size > 0 && t.ndim <= MAX_RANK);
}

/**
 * Whether `inputs` and `params` are the case a kernel was written for. `tg.fused` is public, so
 * anything may arrive here: what is not (an axis outside the rank, a weight of another shape, a
 * parameter of the wrong type) is declined, and the composition's own checks report it. The
 * addon asserts the same relations again before it touches memory.
 */
const isInt = (v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): v is number =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const isNum = (v: unknown): v is number => typeof v === "number";

const f32 = (data: Float32Array, shape: readonly number[]) =>
  new Tensor(data, "float32", [...shape]);

/** A float32 cotangent for `like`: the given one, or zeros when the output got none. */
function cotangent(g: Tensor | null | undefined, like: Tensor): Tensor {
  return g ?? f32(new Float32Array(like.size), like.shape);
}

/**
 * The result of a one-input, one-output op whose backward kernel needs only the output `y` and
 * its cotangent (softmax, relu): `bwd` fills dx and returns false to decline.
 */
function fromOutput(
  y: Float32Array,
  shape: readonly number[],
  op: string,
  bwd: (dx: Float32Array, yt: Tensor, g: Tensor) => unknown,
): FusedResult {
  const yt = f32(y, shape);
  return {
    outputs: [yt],
    backward: (grads, needs) => {
      const g = grads[0];
      if (!g || !needs[0]) return [null];
      const dx = new Float32Array(y.length);
      if (!bwd(dx, yt, g)) failed(op);
      return [f32(dx, shape)];
    },
  };
}

/**
 * Whether every element of `ts` is finite. The LSTM kernel declines (the composition runs) when
 * an input or an output is not: its backward pass always multiplies by the cotangents of all
 * three outputs, zeros for one the caller did not use, where the composition (and PyTorch) sends
 * nothing through it, so 0·inf or 0·NaN (a cell state of inf, a NaN gate) made NaN gradients
 * where theirs are finite (issue 19). The scan reads each operand once, small next to the
 * recurrence's products.
 */
function allFinite(ts: readonly (Tensor | Float32Array)[]): boolean {
  for (const t of ts) {
    const d = t instanceof Tensor ? t.dataSync() : t;
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return false;
  }
  return true;
}

function failed(op: string): never {
  // The forward accepted these shapes, so the backward primitive exists: this is a bug.
  throw new TsgradError(op, "native backward kernel declined inputs its forward accepted");
}

/**
 * The fused kernels on top of a loaded addon (the native backend's `fused` table).
 *
 * @example
 * const native = tg.findBackend("native");
 * if (native?.available()) {
 *   const prev = tg.getBackend().name;
 *   tg.setBackend("native");
 *   console.log(tg.tensor([0, 0]).softmax(0).toArray()); // [0.5, 0.5]
 *   tg.setBackend(prev);
 * }
 */
export function nativeFused(addon: NativeAddon): Partial<FusedKernels> {
  const meta = new MetaWriter();
  type Call = (...args: unknown[]) => unknown;
  const call = (name: string, ...args: unknown[]) => (addon[name] as Call)(...args);

  const softmaxLike =
    (log: boolean, op: string): FusedKernel =>
    (inputs, params): FusedResult | null => {
      const x = inputs[0]!;
      const axis = params.axis;
      if (inputs.length !== 1 || !usable([x]) || !isInt(axis, 0, x.ndim - 1)) return null;
      const y = new Float32Array(x.size);
      if (!call("softmax", log, y, x.data, meta.reset(op).view(x).num(axis).buf)) return null;
      return fromOutput(y, x.shape, op, (dx, yt, g) =>
        call("softmaxBackward", log, dx, y, g.data, meta.reset(op).view(yt).view(g).num(axis).buf),
      );
    };

  const layerNorm: FusedKernel = (inputs, params) => {
    const { k, eps, hasWeight, hasBias } = params;
    const x = inputs[0]!;
    if (
      !isInt(k, 1, x.ndim) ||
      !isNum(eps) ||
      inputs.length !== 1 + (hasWeight ? 1 : 0) + (hasBias ? 1 : 0) ||
      !usable(inputs)
    ) {
      return null;
    }
    const w = hasWeight ? inputs[1]! : null;
    const b = hasBias ? inputs[hasWeight ? 2 : 1]! : null;
    // The primitive takes weight and bias of exactly the normalized shape (no broadcasting).
    const normalized = x.shape.slice(x.ndim - k);
    if ((w && !sameShape(w.shape, normalized)) || (b && !sameShape(b.shape, normalized))) {
      return null;
    }
    const d = normalized.reduce((p, q) => p * q, 1);
    const rows = x.size / d;
    const y = new Float32Array(x.size);
    const mean = new Float32Array(rows);
    const variance = new Float32Array(rows);
    const m = meta.reset("layerNorm").view(x);
    if (w) m.view(w);
    if (b) m.view(b);
    m.num(d, eps);
    if (!call("layerNorm", y, mean, variance, x.data, w?.data ?? null, b?.data ?? null, m.buf)) {
      return null;
    }
    return {
      outputs: [f32(y, x.shape)],
      backward: (grads: Grads, needs) => {
        const g = grads[0];
        if (!g) return inputs.map(() => null);
        const dx = new Float32Array(x.size);
        const dw = w && needs[1] ? new Float32Array(d) : null;
        const db = b && needs[hasWeight ? 2 : 1] ? new Float32Array(d) : null;
        const mb = meta.reset("layerNorm").view(x);
        if (w) mb.view(w);
        if (b) mb.view(b);
        mb.view(g).num(d, eps);
        const args = [dx, dw, db, x.data, w?.data ?? null, b?.data ?? null, mean, variance];
        args.push(g.data, mb.buf);
        if (!call("layerNormBackward", ...args)) failed("layerNorm");
        const out: (Tensor | null)[] = [needs[0] ? f32(dx, x.shape) : null];
        if (w) out.push(dw ? f32(dw, w.shape) : null);
        if (b) out.push(db ? f32(db, b.shape) : null);
        return out;
      },
    };
  };

  const lrn: FusedKernel = (inputs, params) => {
    const { size, alpha, beta, k } = params;
    const x = inputs[0]!;
    // The addon's window is an integer count of channels over [N, C, ...].
    const ok = isInt(size, 1) && isNum(alpha) && isNum(beta) && isNum(k) && x.ndim >= 3;
    if (!ok || inputs.length !== 1 || !usable([x])) return null;
    const y = new Float32Array(x.size);
    const hyper = [size, alpha, beta, k];
    const ws = call("lrn", y, x.data, meta.reset("localResponseNorm").view(x).list(hyper).buf);
    if (ws === false) return null;
    return {
      outputs: [f32(y, x.shape)],
      backward: (grads: Grads, needs) => {
        const g = grads[0];
        if (!g || !needs[0]) return [null];
        const dx = new Float32Array(x.size);
        const m = meta.reset("localResponseNorm").view(x).view(g).list(hyper);
        if (!call("lrnBackward", dx, x.data, g.data, ws, m.buf)) failed("localResponseNorm");
        return [f32(dx, x.shape)];
      },
    };
  };

  const gelu: FusedKernel = (inputs, params) => {
    const x = inputs[0]!;
    const tanh = params.approximate === "tanh";
    if (inputs.length !== 1 || !usable([x])) return null;
    const y = new Float32Array(x.size);
    if (!call("gelu", tanh, y, x.data, meta.reset("gelu").view(x).buf)) return null;
    return {
      outputs: [f32(y, x.shape)],
      backward: (grads: Grads, needs) => {
        const g = grads[0];
        if (!g || !needs[0]) return [null];
        const dx = new Float32Array(x.size);
        if (
          !call("geluBackward", tanh, dx, x.data, g.data, meta.reset("gelu").view(x).view(g).buf)
        ) {
          failed("gelu");
        }
        return [f32(dx, x.shape)];
      },
    };
  };

  // relu's forward is the primitive's oneDNN eltwise; the fused part is the backward, one pass
  // over the output and its cotangent.
  const relu: FusedKernel = (inputs) => {
    const x = inputs[0]!;
    if (inputs.length !== 1 || !usable([x])) return null;
    const y = new Float32Array(x.size);
    if (!addon.unary(6, y, x.data, meta.reset("relu").view(x).buf)) return null;
    return fromOutput(y, x.shape, "relu", (dx, yt, g) =>
      call("reluBackward", dx, y, g.data, meta.reset("relu").view(yt).view(g).buf),
    );
  };

  // conv2d + bias on oneDNN's convolution with its bias argument; the backward computes the
  // input gradient, then the weight and bias gradients in one weights-gradient call.
  const conv2dBias: FusedKernel = (inputs, params) => {
    const [x, w, b] = inputs as [Tensor, Tensor, Tensor];
    if (inputs.length !== 3 || !usable(inputs) || x.ndim !== 4 || w.ndim !== 4) return null;
    // The bias travels as a dense [O] array: one value per output channel.
    if (b.ndim !== 1 || b.shape[0] !== w.shape[0] || !b.isContiguous()) return null;
    const p = params as unknown as Conv2dParams;
    const yShape = checkConv("conv2d", x.shape, w.shape, p);
    if (yShape.includes(0)) return null;
    // After the two operand views and the output shape, the meta record holds the geometry.
    const geometry = () => meta.list(p.stride).list(p.padding).list(p.dilation).num(p.groups).buf;
    const y = new Float32Array(yShape.reduce((a, c) => a * c, 1));
    const bias = (b.data as Float32Array).subarray(b.offset, b.offset + b.size);
    // The backward computes at the forward's precision, whatever the setting is by then.
    const low = bf16();
    meta.reset("conv2d").view(x).view(w).list(yShape);
    if (!addon.conv(0, y, x.data, w.data, geometry(), bias, low)) return null;
    const yt = f32(y, yShape);
    return {
      outputs: [yt],
      backward: (grads: Grads, needs) => {
        const g = grads[0];
        if (!g) return [null, null, null];
        let dx: Tensor | null = null;
        if (needs[0]) {
          const d = new Float32Array(x.size);
          meta.reset("conv2d").view(g).view(w).list(x.shape);
          if (!addon.conv(1, d, g.data, w.data, geometry(), undefined, low)) failed("conv2d");
          dx = f32(d, x.shape);
        }
        let dw: Tensor | null = null;
        let db: Tensor | null = null;
        if (needs[1] || needs[2]) {
          const d = new Float32Array(w.size);
          const dbias = new Float32Array(b.size);
          meta.reset("conv2d").view(x).view(g).list(w.shape);
          if (!addon.conv(2, d, x.data, g.data, geometry(), dbias, low)) failed("conv2d");
          dw = needs[1] ? f32(d, w.shape) : null;
          db = needs[2] ? f32(dbias, b.shape) : null;
        }
        return [dx, dw, db];
      },
    };
  };

  const lstmLayer: FusedKernel = (inputs, params) => {
    const { reverse, lengths, hasBiasIh, hasBiasHh } = params as {
      reverse: boolean;
      lengths: readonly number[] | null;
      hasBiasIh: boolean;
      hasBiasHh: boolean;
    };
    // Per-sequence lengths mask steps; oneDNN's RNN primitive has no such notion.
    if (lengths !== null || !usable(inputs) || !allFinite(inputs)) return null;
    if (inputs.length !== 5 + (hasBiasIh ? 1 : 0) + (hasBiasHh ? 1 : 0)) return null;
    const [x, h0, c0, wih, whh] = inputs as [Tensor, Tensor, Tensor, Tensor, Tensor];
    if (x.ndim !== 3 || whh.ndim !== 2) return null;
    const [T, B, I] = x.shape as [number, number, number];
    const H = whh.shape[1]!;
    // PyTorch's layout: x [T, B, I], h0 and c0 [B, H], weights [4H, I] and [4H, H], biases [4H].
    const fits = (t: Tensor, shape: number[]) => sameShape(t.shape, shape);
    if (
      !fits(h0, [B, H]) ||
      !fits(c0, [B, H]) ||
      !fits(wih, [4 * H, I]) ||
      !fits(whh, [4 * H, H]) ||
      inputs.slice(5).some((t) => !fits(t, [4 * H]))
    ) {
      return null;
    }
    // PyTorch has two biases where oneDNN has one: they only ever appear summed.
    const bias = new Float32Array(4 * H);
    let at = 5;
    for (const has of [hasBiasIh, hasBiasHh]) {
      if (!has) continue;
      const v = inputs[at++]!.dataSync();
      for (let i = 0; i < bias.length; i++) bias[i]! += v[i]!;
    }
    const training = isGradEnabled() && inputs.some((t) => t.requiresGrad);
    const out = new Float32Array(T * B * H);
    const hN = new Float32Array(B * H);
    const cN = new Float32Array(B * H);
    const m = meta.reset("lstmLayer").view(x).view(h0).view(c0).view(wih).view(whh);
    m.num(reverse ? 1 : 0, training ? 1 : 0);
    const args = [out, hN, cN, x.data, h0.data, c0.data, wih.data, whh.data, bias, m.buf];
    const ws = call("lstm", ...args);
    // Finite inputs can still overflow (gate sums of ±inf − ±inf are NaN): the composition's.
    if (ws === false || !allFinite([out, cN])) return null;
    const outT = f32(out, [T, B, H]);
    const hT = f32(hN, [B, H]);
    const cT = f32(cN, [B, H]);
    return {
      outputs: [outT, hT, cT],
      backward: (grads: Grads, needs) => {
        if (!(ws instanceof Uint8Array)) failed("lstmLayer");
        const dout = cotangent(grads[0], outT);
        const dhN = cotangent(grads[1], hT);
        const dcN = cotangent(grads[2], cT);
        const dx = new Float32Array(x.size);
        const dh0 = new Float32Array(B * H);
        const dc0 = new Float32Array(B * H);
        const dwih = new Float32Array(4 * H * I);
        const dwhh = new Float32Array(4 * H * H);
        const dbias = new Float32Array(4 * H);
        const mb = meta.reset("lstmLayer").view(x).view(h0).view(c0).view(wih).view(whh);
        mb.view(dout)
          .view(dhN)
          .view(dcN)
          .num(reverse ? 1 : 0);
        const data = [x, h0, c0, wih, whh].map((t) => t.data);
        data.push(bias, out, hN, cN, dout.data, dhN.data, dcN.data, ws);
        if (!call("lstmBackward", dx, dh0, dc0, dwih, dwhh, dbias, data, mb.buf)) {
          failed("lstmLayer");
        }
        const res: (Tensor | null)[] = [
          f32(dx, x.shape),
          f32(dh0, [B, H]),
          f32(dc0, [B, H]),
          f32(dwih, [4 * H, I]),
          f32(dwhh, [4 * H, H]),
        ];
        // Both biases receive the same gradient (each its own copy: callers may accumulate in place).
        if (hasBiasIh) res.push(f32(dbias, [4 * H]));
        if (hasBiasHh) res.push(f32(hasBiasIh ? dbias.slice() : dbias, [4 * H]));
        return res.map((r, i) => (needs[i] ? r : null));
      },
    };
  };

  return {
    softmax: softmaxLike(false, "softmax"),
    logSoftmax: softmaxLike(true, "logSoftmax"),
    layerNorm,
    localResponseNorm: lrn,
    gelu,
    relu,
    conv2dBias,
    lstmLayer,
  };
}
