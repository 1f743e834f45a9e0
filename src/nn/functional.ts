/**
 * `tg.F`: neural-network functions (like torch.nn.functional). Every one is a composition of
 * primitives — it has no gradient code of its own — unless it routes through `fused()`, where a
 * backend may substitute a fused kernel that is tested against the composition.
 */
import { fused } from "../ops/fused.js";
import * as ops from "../ops/ops.js";
import { run } from "../ops/dispatch.js";
import { arange, ones, zeros } from "../tensor/creation.js";
import { type DType, isFloating } from "../tensor/dtype.js";
import { TsgradError, fmtShape } from "../tensor/errors.js";
import { type Generator, defaultGenerator } from "../tensor/random.js";
import { noGrad } from "../tensor/autograd.js";
import type { Tensor } from "../tensor/tensor.js";

/** A size given once for both spatial dimensions, or as `[height, width]`. */
export type Pair = number | readonly [number, number];
const pair = (v: Pair): [number, number] => (typeof v === "number" ? [v, v] : [v[0], v[1]]);

export type Reduction = "mean" | "sum" | "none";

function reduce(loss: Tensor, reduction: Reduction, op: string): Tensor {
  if (reduction === "mean") return loss.mean();
  if (reduction === "sum") return loss.sum();
  if (reduction === "none") return loss;
  throw new TsgradError(op, `unknown reduction "${String(reduction)}"`);
}

// ------------------------------------------------------------------ activations

export { relu, sigmoid, tanh, softmax, logSoftmax, pad } from "../ops/ops.js";

/**
 * Gaussian error linear unit: x·Φ(x) with the exact erf (default), or the tanh approximation.
 *
 * @example
 * console.log(tg.F.gelu(tg.tensor([0, 1])).toArray()); // [0, 0.8413447141647339]
 */
export function gelu(x: Tensor, approximate: "none" | "tanh" = "none"): Tensor {
  return fused("gelu", [x], { approximate }, ([t], p) => {
    const v = t!;
    if (p.approximate === "tanh") {
      const inner = ops.mul(
        ops.add(v, ops.mul(ops.mul(ops.mul(v, v), v), 0.044715)),
        Math.sqrt(2 / Math.PI),
      );
      return [ops.mul(ops.mul(v, 0.5), ops.add(ops.tanh(inner), 1))];
    }
    return [ops.mul(ops.mul(v, 0.5), ops.add(ops.erf(ops.mul(v, Math.SQRT1_2)), 1))];
  })[0]!;
}

/**
 * x·σ(x).
 *
 * @example
 * console.log(tg.F.silu(tg.tensor([0])).toArray()); // [0]
 */
export function silu(x: Tensor): Tensor {
  return ops.mul(x, ops.sigmoid(x));
}

/**
 * x where x > 0, else negativeSlope·x.
 *
 * @example
 * console.log(tg.F.leakyRelu(tg.tensor([-10, 2]), 0.1).toArray()); // [-1, 2]
 */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  return ops.where(ops.cmp("gt", x, 0), x, ops.mul(x, negativeSlope));
}

/**
 * log σ(x) = -softplus(-x), computed stably.
 *
 * @example
 * console.log(tg.F.logSigmoid(tg.tensor([-1000])).toArray()); // [-1000]
 */
export function logSigmoid(x: Tensor): Tensor {
  return ops.neg(softplus(ops.neg(x)));
}

/**
 * log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), which does not overflow. Its gradient is σ(x)
 * everywhere, 0.5 at 0 as in PyTorch.
 *
 * @example
 * console.log(tg.F.softplus(tg.tensor([0, 1000])).toArray()); // [0.6931471824645996, 1000]
 */
export function softplus(x: Tensor): Tensor {
  // max(x, 0) and |x| as selects on x > 0, not relu and abs, whose gradients at 0 are both 0:
  // that gave softplus'(0) = 0 and no gradient to a zero-initialised classifier's negatives.
  // Here the x ≤ 0 side owns 0: d/dx = 0 + σ(0)·1 = 0.5.
  const pos = ops.cmp("gt", x, 0);
  return ops.add(ops.where(pos, x, 0), softplusTail(x, pos));
}

/**
 * log(1 + e^-|x|) ∈ (0, log 2], the part of softplus(x) beyond max(x, 0); pos is x > 0. With
 * log1p, not log(1 + ·): in float32 1 + e^-17 is 1, and softplus(-17) would be 0, not 4e-8.
 */
function softplusTail(x: Tensor, pos: Tensor): Tensor {
  const abs = ops.where(pos, x, ops.neg(x));
  return ops.log1p(ops.exp(ops.neg(abs)));
}

// ------------------------------------------------------------------ layers

/**
 * y = x Wᵀ + b, with W of shape [out, in] (torch.nn.functional.linear).
 *
 * @example
 * const y = tg.F.linear(tg.ones([2, 3]), tg.ones([4, 3]), tg.zeros([4]));
 * console.log(y.shape); // [2, 4]
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (weight.ndim !== 2 || x.shape[x.ndim - 1] !== weight.shape[1]) {
    throw new TsgradError(
      "linear",
      `input ${fmtShape(x.shape)} does not match weight ${fmtShape(weight.shape)} ([out, in])`,
    );
  }
  checkVector("linear", "bias", bias, weight.shape[0]!, "output");
  const y = ops.matmul(x, ops.transpose(weight, 0, 1));
  return bias ? ops.add(y, bias) : y;
}

export interface Conv2dOptions {
  stride?: Pair;
  /** Zero padding per side, or "same" (stride 1, odd effective kernel) / "valid" (0). */
  padding?: Pair | "same" | "valid";
  dilation?: Pair;
  groups?: number;
}

/**
 * 2-D convolution (cross-correlation, as PyTorch) of x [N, C, H, W] with w [O, C/groups, KH, KW].
 *
 * @example
 * const y = tg.F.conv2d(tg.ones([1, 1, 5, 5]), tg.ones([2, 1, 3, 3]), null, { padding: 1 });
 * console.log(y.shape); // [1, 2, 5, 5]
 */
export function conv2d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  opts: Conv2dOptions = {},
): Tensor {
  const stride = pair(opts.stride ?? 1);
  const dilation = pair(opts.dilation ?? 1);
  let padding: [number, number];
  if (opts.padding === "same") {
    if (stride[0] !== 1 || stride[1] !== 1) {
      throw new TsgradError("conv2d", `padding "same" needs stride 1, got ${fmtShape(stride)}`);
    }
    const eff = [
      dilation[0] * ((weight.shape[2] ?? 1) - 1),
      dilation[1] * ((weight.shape[3] ?? 1) - 1),
    ];
    if (eff[0]! % 2 || eff[1]! % 2) {
      throw new TsgradError(
        "conv2d",
        `padding "same" needs an odd effective kernel size, got ${fmtShape(weight.shape)}`,
      );
    }
    padding = [eff[0]! / 2, eff[1]! / 2];
  } else {
    padding = opts.padding === "valid" ? [0, 0] : pair(opts.padding ?? 0);
  }
  // As PyTorch: of an empty input only the batch or the channels may be empty. An empty image
  // with padding around it would make up an output of zeros (or bias) from nothing.
  const [n, c, h, w] = x.shape;
  if (x.ndim === 4 && n! > 0 && c! > 0 && (h === 0 || w === 0)) {
    throw new TsgradError(
      "conv2d",
      `input ${fmtShape(x.shape)} has an empty spatial axis (only the batch or channel axis may be 0)`,
    );
  }
  const params = { stride, padding, dilation, groups: opts.groups ?? 1 };
  if (!bias) return run("conv2d", [x, weight.to(x.dtype)], params);
  if (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0]) {
    throw new TsgradError(
      "conv2d",
      `bias ${fmtShape(bias.shape)} does not match ${weight.shape[0]} output channels`,
    );
  }
  // Fused where the backend has it: the bias rides in the convolution (forward) and its gradient
  // comes out of the weights-gradient kernel, instead of an add and a reduction over the output.
  return fused("conv2dBias", [x, weight.to(x.dtype), bias.to(x.dtype)], params, ([xv, w, b], p) => [
    ops.add(run("conv2d", [xv!, w!], p), ops.reshape(b!, [-1, 1, 1])),
  ])[0]!;
}

export interface Pool2dOptions {
  /** Defaults to the kernel size. */
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
}

/** As PyTorch's pooling: only the batch axis of the [N, C, H, W] input may be empty. */
function checkPoolInput(op: string, x: Tensor): void {
  if (x.ndim !== 4 || x.shape.slice(1).includes(0)) {
    throw new TsgradError(
      op,
      `expected a 4-D input [N,C,H,W] with C, H and W not 0 (only N may be), got ${fmtShape(x.shape)}`,
    );
  }
}

/** Whether one of the `out` windows along an axis of `size` has every tap in the padding. */
function paddingOnlyWindow(
  size: number,
  out: number,
  k: number,
  stride: number,
  pad: number,
  dil: number,
): boolean {
  for (let o = 0; o < out; o++) {
    let taps = 0;
    for (let i = 0; i < k; i++) {
      const at = o * stride - pad + i * dil;
      if (at >= 0 && at < size) taps++;
    }
    if (taps === 0) return true;
  }
  return false;
}

/**
 * Max pooling. Overlapping windows (kernel 3, stride 2, as AlexNet) are supported. It is a gather
 * at the argmax of each window, so its gradient is a scatter-add there. As in PyTorch, a window
 * holding NaN gives NaN and sends its gradient to the last NaN; a window of -inf values sends it
 * to its first element; a window of padding only (possible with dilation or ceilMode) gives
 * -inf and no gradient (PyTorch sends it to an element past the window's row).
 *
 * @example
 * const y = tg.F.maxPool2d(tg.arange(16).float().reshape([1, 1, 4, 4]), 2);
 * console.log(y.toArray()); // [[[[5, 7], [13, 15]]]]
 */
export function maxPool2d(x: Tensor, kernelSize: Pair, opts: Pool2dOptions = {}): Tensor {
  checkPoolInput("maxPool2d", x);
  const kernel = pair(kernelSize);
  const [stride, padding, dilation] = [
    pair(opts.stride ?? kernel),
    pair(opts.padding ?? 0),
    pair(opts.dilation ?? 1),
  ];
  const idx = run("maxPool2dIndices", [x], {
    kernel,
    stride,
    padding,
    dilation,
    ceilMode: opts.ceilMode ?? false,
  });
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [, , oh, ow] = idx.shape as [number, number, number, number];
  const planes = ops.reshape(x, [n, c, h * w]);
  const pick = (i: Tensor) =>
    ops.reshape(ops.gather(planes, 2, ops.reshape(i, [n, c, oh * ow])), [n, c, oh, ow]);
  // The geometry alone says whether a window has no tap inside x (its index is then -1), so
  // the common case pays for no selects.
  if (
    !paddingOnlyWindow(h, oh, kernel[0], stride[0], padding[0], dilation[0]) &&
    !paddingOnlyWindow(w, ow, kernel[1], stride[1], padding[1], dilation[1])
  ) {
    return pick(idx);
  }
  const some = ops.cmp("ge", idx, 0);
  return ops.where(some, pick(ops.where(some, idx, 0)), -Infinity);
}

/**
 * Average pooling, as a depthwise convolution with constant weights (countIncludePad as PyTorch's
 * default: zero padding counts toward the average).
 *
 * @example
 * console.log(tg.F.avgPool2d(tg.ones([1, 1, 4, 4]), 2).toArray()); // [[[[1, 1], [1, 1]]]]
 */
export function avgPool2d(
  x: Tensor,
  kernelSize: Pair,
  opts: Pool2dOptions & { countIncludePad?: boolean } = {},
): Tensor {
  checkPoolInput("avgPool2d", x);
  if (opts.ceilMode) throw new TsgradError("avgPool2d", "ceilMode is not supported");
  const [kh, kw] = pair(kernelSize);
  const padding = pair(opts.padding ?? 0);
  // PyTorch's limit, as for max pooling: a wider pad makes windows of padding only.
  if (padding[0] > kh / 2 || padding[1] > kw / 2) {
    throw new TsgradError(
      "avgPool2d",
      `padding ${fmtShape(padding)} must be at most half the kernel ${fmtShape([kh, kw])}`,
    );
  }
  const c = x.shape[1]!;
  const conv = {
    stride: pair(opts.stride ?? [kh, kw]),
    padding,
    dilation: pair(opts.dilation ?? 1),
    groups: c,
  };
  const w = ones([c, 1, kh, kw], { dtype: x.dtype });
  const total = run("conv2d", [x, w], conv);
  if (opts.countIncludePad ?? true) return ops.div(total, kh * kw);
  const counts = run(
    "conv2d",
    [
      ones([1, 1, x.shape[2]!, x.shape[3]!], { dtype: x.dtype }),
      ones([1, 1, kh, kw], { dtype: x.dtype }),
    ],
    { ...conv, groups: 1 },
  );
  return ops.div(total, counts);
}

/**
 * Adaptive average pooling of `axis` to `out` windows, window i being the mean of input cells
 * [⌊i·n/out⌋, ⌈(i+1)·n/out⌉). Each window is its own mean: an averaging matrix (a matmul) would
 * spread a NaN or ±inf to every window of its row, as 0·inf = NaN.
 */
function adaptiveAxis(x: Tensor, axis: number, out: number): Tensor {
  const n = x.shape[axis]!;
  if (n === out) return x;
  if (out === 0) return ops.narrow(x, axis, 0, 0);
  if (n % out === 0) {
    // Equal windows that tile the axis (global pooling included): one mean over a split axis.
    const shape = [...x.shape];
    shape.splice(axis, 1, out, n / out);
    return ops.mean(ops.reshape(x, shape), axis + 1);
  }
  const parts: Tensor[] = [];
  for (let i = 0; i < out; i++) {
    const s = Math.floor((i * n) / out);
    const e = Math.ceil(((i + 1) * n) / out);
    parts.push(ops.mean(ops.narrow(x, axis, s, e - s), axis, true));
  }
  return ops.cat(parts, axis);
}

/**
 * Adaptive average pooling to a fixed output size (windows as PyTorch's). Pooling is separable:
 * it averages the windows along the height, then along the width.
 *
 * @example
 * console.log(tg.F.adaptiveAvgPool2d(tg.ones([1, 2, 5, 7]), [2, 3]).shape); // [1, 2, 2, 3]
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  if (x.ndim !== 4) {
    throw new TsgradError(
      "adaptiveAvgPool2d",
      `expected a 4-D input [N,C,H,W], got ${fmtShape(x.shape)}`,
    );
  }
  const [oh, ow] = pair(outputSize);
  if (![oh, ow].every((v) => Number.isInteger(v) && v >= 0)) {
    throw new TsgradError(
      "adaptiveAvgPool2d",
      `output size must be non-negative integers, got ${fmtShape([oh, ow])}`,
    );
  }
  // As PyTorch: an empty window has no mean.
  if (x.shape[2] === 0 || x.shape[3] === 0) {
    throw new TsgradError(
      "adaptiveAvgPool2d",
      `expected a non-empty height and width, got input ${fmtShape(x.shape)}`,
    );
  }
  return adaptiveAxis(adaptiveAxis(x, 2, oh), 3, ow);
}

/**
 * Local response normalisation across channels (AlexNet §3.3; torch.nn.functional.local_response_norm):
 * b_c = a_c / (k + α/n · Σ a_{c'}²)^β over the n channels centred on c.
 *
 * @example
 * const y = tg.F.localResponseNorm(tg.ones([1, 8, 2, 2]), 5, 1e-4, 0.75, 2);
 * console.log(y.shape); // [1, 8, 2, 2]
 */
export function localResponseNorm(
  x: Tensor,
  size: number,
  alpha = 1e-4,
  beta = 0.75,
  k = 1,
): Tensor {
  if (x.ndim < 3) {
    throw new TsgradError("localResponseNorm", `expected [N, C, ...], got ${fmtShape(x.shape)}`);
  }
  if (!Number.isInteger(size) || size < 1) {
    throw new TsgradError("localResponseNorm", `size must be a positive integer, got ${size}`);
  }
  // Nothing to normalise (as PyTorch); the channel-window convolution cannot take an empty image.
  if (x.size === 0) return x;
  return fused("localResponseNorm", [x], { size, alpha, beta, k }, ([t], p) => {
    const xs = t!;
    const [n, c] = [xs.shape[0]!, xs.shape[1]!];
    const rest = xs.size / (n * c);
    const sq = ops.reshape(ops.mul(xs, xs), [n, 1, c, rest]);
    // Sum over the channel window: pad the channel axis, then a size×1 box filter.
    const padded = ops.pad(sq, [0, 0, Math.floor(p.size / 2), Math.floor((p.size - 1) / 2)]);
    const box = run("conv2d", [padded, ones([1, 1, p.size, 1], { dtype: xs.dtype })], {
      stride: [1, 1],
      padding: [0, 0],
      dilation: [1, 1],
      groups: 1,
    });
    const div = ops.pow(
      ops.add(ops.mul(ops.reshape(box, xs.shape), p.alpha / p.size), p.k),
      p.beta,
    );
    return [ops.div(xs, div)];
  })[0]!;
}

/**
 * Layer normalisation over the trailing `normalizedShape` axes (biased variance, as PyTorch).
 *
 * @example
 * const y = tg.F.layerNorm(tg.tensor([[1, 2, 3]]), [3]);
 * console.log(Math.abs(y.mean().item()) < 1e-6); // true
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: readonly number[],
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
): Tensor {
  const k = normalizedShape.length;
  if (k === 0 || k > x.ndim || normalizedShape.some((d, i) => d !== x.shape[x.ndim - k + i])) {
    throw new TsgradError(
      "layerNorm",
      `normalized shape ${fmtShape(normalizedShape)} does not end input shape ${fmtShape(x.shape)}`,
    );
  }
  // PyTorch's rule: an affine weight or bias has exactly the normalized shape. Broadcasting a
  // smaller one would be a silent misuse (and a fused kernel reads d values from each).
  for (const [name, t] of [
    ["weight", weight],
    ["bias", bias],
  ] as const) {
    if (t && (t.ndim !== k || t.shape.some((d, i) => d !== normalizedShape[i]))) {
      throw new TsgradError(
        "layerNorm",
        `${name} shape ${fmtShape(t.shape)} must equal the normalized shape ${fmtShape(normalizedShape)}`,
      );
    }
  }
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return fused("layerNorm", inputs, { k, eps, hasWeight: !!weight, hasBias: !!bias }, (ts, p) => {
    const xs = ts[0]!;
    const axes = Array.from({ length: p.k }, (_, i) => xs.ndim - p.k + i);
    const mu = ops.mean(xs, axes, true);
    const d = ops.sub(xs, mu);
    const v = ops.mean(ops.mul(d, d), axes, true);
    let y = ops.mul(d, ops.rsqrt(ops.add(v, p.eps)));
    if (p.hasWeight) y = ops.mul(y, ts[1]!);
    if (p.hasBias) y = ops.add(y, ts[p.hasWeight ? 2 : 1]!);
    return [y];
  })[0]!;
}

export interface BatchNormOptions {
  training?: boolean;
  momentum?: number;
  eps?: number;
}

/**
 * Batch normalisation over all axes but 1 (channels). In training mode it normalises with the
 * batch statistics and updates `runningMean`/`runningVar` in place (unbiased variance, as PyTorch);
 * in eval mode it uses the running statistics.
 *
 * @example
 * const y = tg.F.batchNorm(tg.randn([8, 3]), tg.zeros([3]), tg.ones([3]), null, null, { training: true });
 * console.log(y.shape); // [8, 3]
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight?: Tensor | null,
  bias?: Tensor | null,
  opts: BatchNormOptions = {},
): Tensor {
  const { training = false, momentum = 0.1, eps = 1e-5 } = opts;
  if (x.ndim < 2) {
    throw new TsgradError("batchNorm", `expected [N, C, ...], got ${fmtShape(x.shape)}`);
  }
  const c = x.shape[1]!;
  checkVector("batchNorm", "runningMean", runningMean, c, "channel");
  checkVector("batchNorm", "runningVar", runningVar, c, "channel");
  checkVector("batchNorm", "weight", weight, c, "channel");
  checkVector("batchNorm", "bias", bias, c, "channel");
  // As PyTorch: one value per channel normalises to 0 and its variance is 0/0, which is
  // almost always a batch of one by mistake. torch counts N·H·W…, whatever C is.
  if (training && x.shape.every((d, i) => i === 1 || d === 1)) {
    throw new TsgradError(
      "batchNorm",
      `expected more than 1 value per channel when training, got input ${fmtShape(x.shape)}`,
    );
  }
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const bshape = x.shape.map((d, i) => (i === 1 ? c : 1));
  let mu: Tensor;
  let v: Tensor;
  if (training || !runningMean || !runningVar) {
    mu = ops.mean(x, axes, true);
    const d = ops.sub(x, mu);
    v = ops.mean(ops.mul(d, d), axes, true);
    const n = x.size / c;
    if (training && runningMean && runningVar) {
      noGrad(() => {
        const m = ops.reshape(mu, [c]);
        const uv = ops.mul(ops.reshape(v, [c]), n / Math.max(1, n - 1));
        assignInPlace(
          runningMean,
          ops.add(ops.mul(runningMean, 1 - momentum), ops.mul(m, momentum)),
        );
        assignInPlace(
          runningVar,
          ops.add(ops.mul(runningVar, 1 - momentum), ops.mul(uv, momentum)),
        );
      });
    }
  } else {
    mu = ops.reshape(runningMean, bshape);
    v = ops.reshape(runningVar, bshape);
  }
  let y = ops.mul(ops.sub(x, mu), ops.rsqrt(ops.add(v, eps)));
  if (weight) y = ops.mul(y, ops.reshape(weight, bshape));
  if (bias) y = ops.add(y, ops.reshape(bias, bshape));
  return y;
}

/** Overwrite the elements of contiguous `target` with `value` (used for running statistics). */
function assignInPlace(target: Tensor, value: Tensor): void {
  const src = value.dataSync();
  const base = target.offset;
  for (let i = 0; i < src.length; i++) target.data[base + i] = src[i]!;
}

/**
 * Dropout: in training, zero each element with probability p and scale the rest by 1/(1-p).
 *
 * @example
 * tg.manualSeed(0);
 * const y = tg.F.dropout(tg.ones([1000]), 0.5);
 * console.log(y.max().item()); // 2
 */
export function dropout(x: Tensor, p = 0.5, training = true, generator?: Generator): Tensor {
  if (!(p >= 0 && p <= 1)) {
    throw new TsgradError("dropout", `probability must be in [0, 1], got ${p}`);
  }
  if (!training || p === 0) return x;
  if (!isFloating(x.dtype)) {
    throw new TsgradError("dropout", `needs a floating tensor, got ${x.dtype}`);
  }
  if (p === 1) return ops.mul(x, 0);
  // The scaled keep-mask is built in one pass (native when the addon is there), the same numbers
  // as composing cmp, cast and mul on rand. In a dropout-0.1 Transformer step the JS draw loop
  // alone took 8%, and those three full-size temporaries fed allocation and GC besides.
  const mask = zeros(x.shape, { dtype: x.dtype });
  (generator ?? defaultGenerator).fillKeepMask(mask.data as Float32Array | Float64Array, p);
  return ops.mul(x, mask);
}

/**
 * Embedding lookup: rows of `weight` [V, D] at int32 `ids`, giving [...ids.shape, D]. The row at
 * `paddingIdx` receives no gradient (initialise it to zeros so padding contributes nothing).
 *
 * @example
 * const w = tg.tensor([[0, 0], [1, 1], [2, 2]]);
 * console.log(tg.F.embedding(tg.tensor([2, 1], { dtype: "int32" }), w).toArray()); // [[2, 2], [1, 1]]
 */
export function embedding(ids: Tensor, weight: Tensor, paddingIdx?: number): Tensor {
  if (ids.dtype !== "int32") {
    throw new TsgradError("embedding", `ids must be int32, got ${ids.dtype}`);
  }
  if (weight.ndim !== 2) {
    throw new TsgradError("embedding", `weight must be [V, D], got ${fmtShape(weight.shape)}`);
  }
  const v = weight.shape[0]!;
  const idData = ids.dataSync();
  for (let i = 0; i < idData.length; i++) {
    const id = idData[i]!;
    if (id < 0 || id >= v) {
      throw new TsgradError("embedding", `id ${id} is out of range for ${v} embeddings`);
    }
  }
  const flat = ops.reshape(ids, [-1]);
  let rows = ops.indexSelect(weight, 0, flat);
  // As PyTorch: the padding row is looked up like any other but receives no gradient; a
  // negative index counts from the end.
  if (paddingIdx !== undefined) {
    if (!Number.isInteger(paddingIdx) || paddingIdx < -v || paddingIdx >= v) {
      throw new TsgradError(
        "embedding",
        `paddingIdx ${paddingIdx} is out of range for ${v} embeddings (expected an integer in [${-v}, ${v}))`,
      );
    }
    const pad = paddingIdx < 0 ? paddingIdx + v : paddingIdx;
    rows = ops.where(ops.unsqueeze(ops.cmp("ne", flat, pad), 1), rows, rows.detach());
  }
  return ops.reshape(rows, [...ids.shape, weight.shape[1]!]);
}

/**
 * One-hot encoding of int32 class ids: [...ids.shape, numClasses].
 *
 * @example
 * console.log(tg.F.oneHot(tg.tensor([0, 2], { dtype: "int32" }), 3).toArray()); // [[1, 0, 0], [0, 0, 1]]
 */
export function oneHot(ids: Tensor, numClasses: number, dtype: DType = "int32"): Tensor {
  if (ids.dtype !== "int32") throw new TsgradError("oneHot", `ids must be int32, got ${ids.dtype}`);
  checkTargets("oneHot", ids, numClasses);
  return ops.cmp("eq", ops.unsqueeze(ids, -1), arange(numClasses)).to(dtype);
}

/** A per-class (per-channel…) tensor must be 1-D with one entry per `what`, `n` of them. */
function checkVector(
  op: string,
  name: string,
  t: Tensor | null | undefined,
  n: number,
  what: string,
): void {
  if (t && (t.ndim !== 1 || t.shape[0] !== n)) {
    throw new TsgradError(op, `${name} shape ${fmtShape(t.shape)} must be [${n}]: one per ${what}`);
  }
}

function checkTargets(op: string, target: Tensor, numClasses: number, ignoreIndex?: number): void {
  const t = target.dataSync();
  for (let i = 0; i < t.length; i++) {
    const v = t[i]!;
    if (v !== ignoreIndex && (v < 0 || v >= numClasses)) {
      throw new TsgradError(op, `target ${v} is out of range for ${numClasses} classes`);
    }
  }
}

// ------------------------------------------------------------------ losses

export interface CrossEntropyOptions {
  /** Targets equal to this are ignored (class-index targets only). */
  ignoreIndex?: number;
  /** Mix the target with the uniform distribution: (1-ε)·target + ε/C. */
  labelSmoothing?: number;
  /** Per-class weights [C]. */
  weight?: Tensor;
  reduction?: Reduction;
}

/**
 * Cross-entropy between logits [N, C] (or [N, C, d1, …]) and either int32 class indices [N, …] or
 * class probabilities shaped like the logits — torch.nn.functional.cross_entropy, including
 * `ignoreIndex`, `labelSmoothing` and class `weight`. With every target ignored, the mean is NaN
 * (as in PyTorch: 0 / 0 weight) and its gradient 0. Ignored targets are left out of the loss and
 * its gradient whatever their logits hold (±inf, NaN). With 0 classes every target must be
 * ignored; logits [N, 0, d…] are treated as [N, 0] (for those PyTorch 1.13 raises).
 *
 * @example
 * const logits = tg.tensor([[2, 0, 0], [0, 3, 0]]);
 * const loss = tg.F.crossEntropy(logits, tg.tensor([0, 1], { dtype: "int32" }));
 * console.log(loss.item().toFixed(4)); // "0.1672"
 */
export function crossEntropy(
  input: Tensor,
  target: Tensor,
  opts: CrossEntropyOptions = {},
): Tensor {
  const { ignoreIndex = -100, labelSmoothing = 0, weight, reduction = "mean" } = opts;
  if (input.ndim < 1 || !isFloating(input.dtype)) {
    throw new TsgradError(
      "crossEntropy",
      `expected floating logits [N, C, ...], got ${input.dtype} ${fmtShape(input.shape)}`,
    );
  }
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
    throw new TsgradError(
      "crossEntropy",
      `labelSmoothing must be in [0, 1], got ${labelSmoothing}`,
    );
  }
  const cAxis = input.ndim === 1 ? 0 : 1;
  const C = input.shape[cAxis]!;
  // Move classes last and flatten: logits [M, C].
  const perm = [...input.shape.keys()].filter((i) => i !== cAxis).concat([cAxis]);
  // [M, C] spelled out: with C = 0, -1 could be any M.
  const M = perm.slice(0, -1).reduce((p, i) => p * input.shape[i]!, 1);
  const logits = ops.reshape(ops.permute(input, perm), [M, C]);
  checkVector("crossEntropy", "weight", weight, C, "class");
  const logp = C === 0 ? logits : ops.logSoftmax(logits, 1);
  const w = weight ? ops.reshape(weight.to(input.dtype), [1, C]) : null;

  if (isFloating(target.dtype)) {
    if (
      target.shape.length !== input.shape.length ||
      target.shape.some((d, i) => d !== input.shape[i])
    ) {
      throw new TsgradError(
        "crossEntropy",
        `probability targets ${fmtShape(target.shape)} must match logits ${fmtShape(input.shape)}`,
      );
    }
    let probs = ops.reshape(ops.permute(target.to(input.dtype), perm), [M, C]);
    if (labelSmoothing > 0) probs = ops.add(ops.mul(probs, 1 - labelSmoothing), labelSmoothing / C);
    const wl = w ? ops.mul(logp, w) : logp;
    const loss = ops.neg(ops.sum(ops.mul(probs, wl), 1));
    // PyTorch's mean divides by numel / C, 0/0 without classes: NaN, as with no rows.
    if (C === 0 && reduction === "mean") return ops.div(loss.sum(), 0);
    return reduce(
      ops.reshape(
        loss,
        perm.slice(0, -1).map((i) => input.shape[i]!),
      ),
      reduction,
      "crossEntropy",
    );
  }

  if (target.dtype !== "int32") {
    throw new TsgradError("crossEntropy", `class targets must be int32, got ${target.dtype}`);
  }
  const expected = input.shape.filter((_, i) => i !== cAxis);
  if (target.shape.length !== expected.length || target.shape.some((d, i) => d !== expected[i])) {
    throw new TsgradError(
      "crossEntropy",
      `target shape ${fmtShape(target.shape)} does not match logits ${fmtShape(input.shape)} (expected ${fmtShape(expected)})`,
    );
  }
  checkTargets("crossEntropy", target, C, ignoreIndex);
  const { loss: picked, ew, valid } = pickTargets(logp, target.reshape([M]), ignoreIndex, weight);
  let loss = picked;
  if (labelSmoothing > 0 && C > 0) {
    const smooth = ops.neg(ops.sum(w ? ops.mul(logp, w) : logp, 1));
    loss = ops.add(
      ops.mul(loss, 1 - labelSmoothing),
      ops.mul(ops.where(valid, smooth, 0), labelSmoothing / C),
    );
  }
  if (reduction === "none") return ops.reshape(loss, expected);
  if (reduction === "sum") return loss.sum();
  return weightedMean(loss, ew.sum());
}

/**
 * Negative log-likelihood of int32 targets under log-probabilities [N, C] (torch.nn.functional.nll_loss).
 *
 * @example
 * const logp = tg.tensor([[-0.1, -2.3]]);
 * console.log(tg.F.nllLoss(logp, tg.tensor([1], { dtype: "int32" })).item()); // 2.299999952316284
 */
export function nllLoss(
  logp: Tensor,
  target: Tensor,
  opts: { ignoreIndex?: number; weight?: Tensor; reduction?: Reduction } = {},
): Tensor {
  const { ignoreIndex = -100, weight, reduction = "mean" } = opts;
  if (logp.ndim !== 2) {
    throw new TsgradError(
      "nllLoss",
      `expected log-probabilities [N, C], got ${fmtShape(logp.shape)}`,
    );
  }
  if (target.dtype !== "int32" || target.ndim !== 1 || target.shape[0] !== logp.shape[0]) {
    throw new TsgradError(
      "nllLoss",
      `targets must be int32 [${logp.shape[0]}], got ${target.dtype} ${fmtShape(target.shape)}`,
    );
  }
  const C = logp.shape[1]!;
  checkVector("nllLoss", "weight", weight, C, "class");
  checkTargets("nllLoss", target, C, ignoreIndex);
  const { loss, ew } = pickTargets(logp, target, ignoreIndex, weight);
  if (reduction === "none") return loss;
  if (reduction === "sum") return loss.sum();
  return weightedMean(loss, ew.sum());
}

/**
 * For each row i of log-probabilities [M, C] and int32 target t_i: the loss −logp[i, t_i]·w[t_i]
 * and the example's weight w[t_i] (1 without class weights), both +0 where t_i is ignoreIndex.
 * They are selects, not products with a 0/1 mask: an ignored row may hold ±inf or NaN (or get a
 * NaN upstream gradient), and 0·inf = NaN would poison the loss and the gradient (and give −0 in
 * a "none" reduction) where PyTorch leaves ignored rows out.
 */
function pickTargets(
  logp: Tensor,
  t: Tensor,
  ignoreIndex: number,
  weight: Tensor | undefined,
): { loss: Tensor; ew: Tensor; valid: Tensor } {
  const [m, c] = logp.shape as [number, number];
  const valid = ops.cmp("ne", t, ignoreIndex);
  // With 0 classes every target is ignored (checkTargets saw to it): there is nothing to pick.
  if (c === 0) {
    const none = zeros([m], { dtype: logp.dtype });
    return { loss: none, ew: none, valid };
  }
  const safeT = ops.where(valid, t, 0);
  const picked = ops.neg(ops.reshape(ops.gather(logp, 1, ops.unsqueeze(safeT, 1)), [m]));
  if (!weight) return { loss: ops.where(valid, picked, 0), ew: valid.to(logp.dtype), valid };
  const wt = ops.indexSelect(weight.to(logp.dtype), 0, safeT);
  return { loss: ops.where(valid, ops.mul(picked, wt), 0), ew: ops.where(valid, wt, 0), valid };
}

/**
 * Σ loss / Σ weights: the "mean" reduction of PyTorch's nll_loss and cross_entropy, whose
 * denominator counts only the targets not ignored (times their class weights). When none counts
 * — every target ignored — it is NaN, as in PyTorch, and its gradient is 0 rather than 0/0.
 */
function weightedMean(loss: Tensor, total: Tensor): Tensor {
  const none = ops.cmp("eq", total, 0);
  return ops.where(none, NaN, ops.div(loss.sum(), ops.where(none, 1, total)));
}

/**
 * Mean squared error.
 *
 * @example
 * console.log(tg.F.mseLoss(tg.tensor([1, 2]), tg.tensor([1, 4])).item()); // 2
 */
export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = "mean"): Tensor {
  if (
    input.shape.length !== target.shape.length ||
    input.shape.some((d, i) => d !== target.shape[i])
  ) {
    throw new TsgradError(
      "mseLoss",
      `input ${fmtShape(input.shape)} and target ${fmtShape(target.shape)} differ in shape`,
    );
  }
  const d = ops.sub(input, target);
  return reduce(ops.mul(d, d), reduction, "mseLoss");
}

/**
 * Binary cross-entropy on logits: softplus(x) − x·t, computed as (1 − t)·x + log(1 + e^−x) for
 * x > 0 and −t·x + log(1 + e^x) otherwise, which is stable for any logit and +inf (not inf − inf)
 * at x = +inf, t < 1, as in PyTorch. At x = −inf it gives −t·x (+inf for t > 0, NaN for t = 0
 * as 0·inf), where PyTorch's formula gives NaN for every t.
 *
 * @example
 * console.log(tg.F.binaryCrossEntropyWithLogits(tg.tensor([0]), tg.tensor([1])).item().toFixed(4)); // "0.6931"
 */
export function binaryCrossEntropyWithLogits(
  logits: Tensor,
  target: Tensor,
  reduction: Reduction = "mean",
): Tensor {
  if (
    logits.shape.length !== target.shape.length ||
    logits.shape.some((d, i) => d !== target.shape[i])
  ) {
    throw new TsgradError(
      "binaryCrossEntropyWithLogits",
      `logits ${fmtShape(logits.shape)} and target ${fmtShape(target.shape)} differ in shape`,
    );
  }
  const t = target.to(logits.dtype);
  const pos = ops.cmp("gt", logits, 0);
  // max(x, 0) − x·t as one product, x·([x > 0] − t): no inf − inf at x = +inf, and its
  // gradients are PyTorch's, [x > 0] − t (plus the tail's) and −x.
  const linear = ops.mul(logits, ops.sub(pos.to(logits.dtype), t));
  const loss = ops.add(linear, softplusTail(logits, pos));
  return reduce(loss, reduction, "binaryCrossEntropyWithLogits");
}

// ------------------------------------------------------------------ attention

export interface AttentionOptions {
  /** Bool mask broadcastable to [..., Lq, Lk]: true = may attend. Or an additive float mask. */
  attnMask?: Tensor | null;
  isCausal?: boolean;
  dropoutP?: number;
  /** Defaults to 1/√(head dim). */
  scale?: number;
  generator?: Generator;
}

/**
 * softmax(q kᵀ · scale + mask) v for q [..., Lq, E], k [..., Lk, E], v [..., Lk, Ev]
 * (torch.nn.functional.scaled_dot_product_attention).
 *
 * @example
 * const q = tg.randn([1, 2, 4, 8]);
 * console.log(tg.F.scaledDotProductAttention(q, q, q, { isCausal: true }).shape); // [1, 2, 4, 8]
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: AttentionOptions = {},
): Tensor {
  const E = q.shape[q.ndim - 1]!;
  if (k.shape[k.ndim - 1] !== E || k.shape[k.ndim - 2] !== v.shape[v.ndim - 2]) {
    throw new TsgradError(
      "scaledDotProductAttention",
      `q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)} do not fit`,
    );
  }
  const scale = opts.scale ?? 1 / Math.sqrt(E);
  let scores = ops.mul(ops.matmul(q, ops.transpose(k, -2, -1)), scale);
  const [lq, lk] = [q.shape[q.ndim - 2]!, k.shape[k.ndim - 2]!];
  if (opts.isCausal) {
    // Query i may attend keys j <= i: PyTorch's ones(Lq, Lk).tril(), aligned at the top left,
    // so every query sees key 0 whatever Lq and Lk are (queries after cached keys need an
    // explicit attnMask, as in PyTorch).
    const allowed = ops.cmp(
      "le",
      ops.reshape(arange(lk), [1, lk]),
      ops.reshape(arange(lq), [lq, 1]),
    );
    scores = ops.where(allowed, scores, -Infinity);
  }
  if (opts.attnMask) {
    scores =
      opts.attnMask.dtype === "bool"
        ? ops.where(opts.attnMask, scores, -Infinity)
        : ops.add(scores, opts.attnMask);
  }
  let attn = ops.softmax(scores, -1);
  if (opts.dropoutP) attn = dropout(attn, opts.dropoutP, true, opts.generator);
  return ops.matmul(attn, v);
}

export { lstmLayer, gruLayer, type RecurrentLayerOptions } from "./rnn-functional.js";
export * from "./functional-more.js";
export * from "./functional-conv.js";
