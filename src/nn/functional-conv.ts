/**
 * More of `tg.F` (re-exported from functional.ts): 1-D and transposed convolution and
 * interpolation. conv1d is conv2d over a unit height; convTranspose2d is the conv2d primitive's
 * input-gradient (its adjoint), so both inherit conv2d's kernels and gradients on every backend;
 * interpolate is index gathers and weighted sums.
 */
import * as ops from "../ops/ops.js";
import { run } from "../ops/dispatch.js";
import { tensor } from "../tensor/creation.js";
import { isFloating } from "../tensor/dtype.js";
import { TsgradError, fmtShape } from "../tensor/errors.js";
import type { Tensor } from "../tensor/tensor.js";
import { type Pair, conv2d } from "./functional.js";

const pair = (v: Pair): [number, number] => (typeof v === "number" ? [v, v] : [v[0], v[1]]);

export interface Conv1dOptions {
  stride?: number;
  /** Zero padding per side, or "same" (stride 1; an odd total pads one more on the right) / "valid" (0). */
  padding?: number | "same" | "valid";
  dilation?: number;
  groups?: number;
}

/**
 * 1-D convolution (cross-correlation, as PyTorch) of x [N, C, L] (or unbatched [C, L]) with
 * w [O, C/groups, K]: conv2d over a unit height. Padding "same" works for even kernels too,
 * padding the extra zero on the right as torch.nn.functional.conv1d does.
 *
 * @example
 * const y = tg.F.conv1d(tg.tensor([[[1, 2, 3, 4]]]), tg.tensor([[[1, 0, -1]]]));
 * console.log(y.toArray()); // [[[-2, -2]]]
 */
export function conv1d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  opts: Conv1dOptions = {},
): Tensor {
  if ((x.ndim !== 2 && x.ndim !== 3) || weight.ndim !== 3) {
    throw new TsgradError(
      "conv1d",
      `expected input [N, C, L] or [C, L] and weight [O, C/groups, K], got ${fmtShape(x.shape)} and ${fmtShape(weight.shape)}`,
    );
  }
  const unbatched = x.ndim === 2;
  let x3 = unbatched ? ops.unsqueeze(x, 0) : x;
  const stride = opts.stride ?? 1;
  const dilation = opts.dilation ?? 1;
  let padding: number;
  if (opts.padding === "same") {
    if (stride !== 1) {
      throw new TsgradError("conv1d", `padding "same" needs stride 1, got ${stride}`);
    }
    const total = dilation * (weight.shape[2]! - 1);
    padding = Math.floor(total / 2);
    // An odd total: the extra zero goes on the right, as PyTorch pads it.
    if (total % 2) x3 = ops.pad(x3, [0, 1]);
  } else {
    padding = opts.padding === "valid" ? 0 : (opts.padding ?? 0);
  }
  const y = conv2d(ops.unsqueeze(x3, 2), ops.unsqueeze(weight, 2), bias, {
    stride: [1, stride],
    padding: [0, padding],
    dilation: [1, dilation],
    groups: opts.groups ?? 1,
  });
  const out = ops.squeeze(y, 2);
  return unbatched ? ops.squeeze(out, 0) : out;
}

export interface ConvTranspose2dOptions {
  stride?: Pair;
  /** Rows/columns cropped from each side of the full output (the conv's padding, undone). */
  padding?: Pair;
  /** Extra rows/columns added at the bottom/right; each must be below its stride or dilation. */
  outputPadding?: Pair;
  groups?: number;
  dilation?: Pair;
}

/**
 * Transposed 2-D convolution of x [N, Cin, H, W] with w [Cin, Cout/groups, KH, KW] (PyTorch's
 * layout), giving [N, Cout, (H−1)·stride − 2·padding + dilation·(KH−1) + outputPadding + 1, …]:
 * the gradient of conv2d with respect to its input, as torch.nn.functional.conv_transpose2d.
 *
 * @example
 * const y = tg.F.convTranspose2d(tg.ones([1, 1, 2, 2]), tg.ones([1, 1, 2, 2]), null, { stride: 2 });
 * console.log(y.shape, y.sum().item()); // [1, 1, 4, 4] 16
 */
export function convTranspose2d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  opts: ConvTranspose2dOptions = {},
): Tensor {
  if (x.ndim !== 4 || weight.ndim !== 4) {
    throw new TsgradError(
      "convTranspose2d",
      `expected input [N, Cin, H, W] and weight [Cin, Cout/groups, KH, KW], got ${fmtShape(x.shape)} and ${fmtShape(weight.shape)}`,
    );
  }
  const stride = pair(opts.stride ?? 1);
  const padding = pair(opts.padding ?? 0);
  const dilation = pair(opts.dilation ?? 1);
  const outputPadding = pair(opts.outputPadding ?? 0);
  const groups = opts.groups ?? 1;
  const [n, cin, h, w] = x.shape as [number, number, number, number];
  const [wcin, coutG, kh, kw] = weight.shape as [number, number, number, number];
  if (!Number.isInteger(groups) || groups < 1 || wcin !== cin || cin % groups !== 0) {
    throw new TsgradError(
      "convTranspose2d",
      `input ${fmtShape(x.shape)} and weight ${fmtShape(weight.shape)} do not fit groups=${groups} (need weight[0] = Cin, divisible by groups)`,
    );
  }
  const ints = [...stride, ...padding, ...dilation, ...outputPadding];
  if (
    ints.some((v) => !Number.isInteger(v)) ||
    stride.some((v) => v < 1) ||
    dilation.some((v) => v < 1) ||
    padding.some((v) => v < 0) ||
    outputPadding.some((v) => v < 0)
  ) {
    throw new TsgradError(
      "convTranspose2d",
      `invalid stride ${fmtShape(stride)}, padding ${fmtShape(padding)}, dilation ${fmtShape(dilation)} or outputPadding ${fmtShape(outputPadding)}`,
    );
  }
  for (const i of [0, 1]) {
    if (outputPadding[i]! >= Math.max(stride[i]!, dilation[i]!)) {
      throw new TsgradError(
        "convTranspose2d",
        `outputPadding ${fmtShape(outputPadding)} must be smaller than the stride ${fmtShape(stride)} or the dilation ${fmtShape(dilation)}`,
      );
    }
  }
  if (h === 0 || w === 0) {
    // torch 1.13 returns an empty axis here, not the size its own formula gives: refuse instead.
    throw new TsgradError(
      "convTranspose2d",
      `input ${fmtShape(x.shape)} has an empty spatial axis (H and W must be at least 1)`,
    );
  }
  const k = [kh, kw];
  const size = [h, w];
  const out = [0, 1].map(
    (i) =>
      (size[i]! - 1) * stride[i]! -
      2 * padding[i]! +
      dilation[i]! * (k[i]! - 1) +
      outputPadding[i]! +
      1,
  ) as [number, number];
  if (out[0] < 1 || out[1] < 1) {
    throw new TsgradError(
      "convTranspose2d",
      `padding ${fmtShape(padding)} leaves no output for input ${fmtShape(x.shape)} and kernel ${kh}x${kw}`,
    );
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== coutG * groups)) {
    throw new TsgradError(
      "convTranspose2d",
      `bias ${fmtShape(bias.shape)} does not match ${coutG * groups} output channels`,
    );
  }
  // The forward convolution of an out-sized picture has this many outputs. With outputPadding at
  // or past the stride (allowed when below the dilation) that is more than x has: the adjoint of
  // "convolve, then keep the first H rows" is "pad x with zero rows, then the adjoint".
  const convOut = [0, 1].map(
    (i) =>
      Math.floor((out[i]! + 2 * padding[i]! - dilation[i]! * (k[i]! - 1) - 1) / stride[i]!) + 1,
  );
  const extraH = convOut[0]! - h;
  const extraW = convOut[1]! - w;
  const xs = extraH > 0 || extraW > 0 ? ops.pad(x, [0, extraW, 0, extraH]) : x;
  const y = run("conv2dBackwardInput", [xs, weight.to(x.dtype)], {
    stride,
    padding,
    dilation,
    groups,
    inputShape: [n, coutG * groups, out[0], out[1]],
  });
  return bias ? ops.add(y, ops.reshape(bias.to(x.dtype), [-1, 1, 1])) : y;
}

export interface InterpolateOptions {
  /** Output [height, width] (or one number for both). Give this or `scaleFactor`. */
  size?: Pair;
  /** Output size = ⌊input size · scaleFactor⌋; the source positions use the factor itself. */
  scaleFactor?: number | readonly [number, number];
  /** Default "nearest". */
  mode?: "nearest" | "bilinear";
  /** Bilinear only: align the corner pixels' centres instead of using half-pixel centres. */
  alignCorners?: boolean;
}

/**
 * Resize x [N, C, H, W] by nearest-neighbour or bilinear sampling (torch.nn.functional.interpolate,
 * with PyTorch's source positions: nearest reads ⌊dst·scale⌋ in float32 (dst/2 on an axis that
 * doubles); bilinear reads (dst + ½)·scale − ½ clamped at 0, or dst·(in − 1)/(out − 1) with
 * `alignCorners`, where scale is in/out, or 1/scaleFactor when that is given; an axis whose size
 * does not change is copied). Differentiable in x: each axis is gathers and a weighted sum.
 *
 * @example
 * const x = tg.tensor([[[[1, 2], [3, 4]]]]);
 * console.log(tg.F.interpolate(x, { scaleFactor: 2, mode: "bilinear" }).toArray()[0][0][0]); // [1, 1.25, 1.75, 2]
 */
export function interpolate(x: Tensor, opts: InterpolateOptions): Tensor {
  const mode = opts.mode ?? "nearest";
  if (mode !== "nearest" && mode !== "bilinear") {
    throw new TsgradError(
      "interpolate",
      `mode "${String(mode)}" is not supported (use "nearest" or "bilinear")`,
    );
  }
  if (x.ndim !== 4 || !isFloating(x.dtype)) {
    throw new TsgradError(
      "interpolate",
      `expected a floating 4-D input [N, C, H, W], got ${x.dtype} ${fmtShape(x.shape)}`,
    );
  }
  if (mode === "nearest" && opts.alignCorners !== undefined) {
    throw new TsgradError("interpolate", `alignCorners can only be set with mode "bilinear"`);
  }
  if ((opts.size === undefined) === (opts.scaleFactor === undefined)) {
    throw new TsgradError("interpolate", "give exactly one of size and scaleFactor");
  }
  const inSize = [x.shape[2]!, x.shape[3]!];
  let outSize: number[];
  let factors: (number | undefined)[] = [undefined, undefined];
  if (opts.size !== undefined) {
    outSize = pair(opts.size);
  } else {
    const sf = opts.scaleFactor!;
    factors = typeof sf === "number" ? [sf, sf] : [sf[0], sf[1]];
    if (factors.some((f) => !(f! > 0) || !Number.isFinite(f))) {
      throw new TsgradError(
        "interpolate",
        `scaleFactor must be positive, got ${fmtShape(factors as number[])}`,
      );
    }
    outSize = inSize.map((s, i) => Math.floor(s * factors[i]!));
  }
  if (outSize.some((s) => !Number.isInteger(s) || s < 1) || inSize.some((s) => s < 1)) {
    throw new TsgradError(
      "interpolate",
      `input ${fmtShape(x.shape)} and output size ${fmtShape(outSize)} must be positive integers`,
    );
  }
  let y = x;
  for (const i of [0, 1]) {
    const axis = 2 + i;
    const [src, dst, f] = [inSize[i]!, outSize[i]!, factors[i]];
    // PyTorch copies an axis whose size does not change, whatever scaleFactor says.
    if (src === dst) continue;
    if (mode === "nearest") {
      y = ops.indexSelect(y, axis, tensor(nearestIndices(src, dst, f)));
      continue;
    }
    const { i0, i1, w1 } = bilinearTaps(src, dst, f, opts.alignCorners ?? false);
    const wshape = [1, 1, 1, 1];
    wshape[axis] = dst;
    const lam1 = tensor(w1, { dtype: x.dtype }).reshape(wshape);
    const a = ops.indexSelect(y, axis, tensor(i0));
    const b = ops.indexSelect(y, axis, tensor(i1));
    // a + λ·(b − a) would differ from PyTorch's λ₀·a + λ₁·b in the last bit.
    y = ops.add(ops.mul(a, ops.sub(1, lam1)), ops.mul(b, lam1));
  }
  return y;
}

/**
 * PyTorch's nearest source index: min(⌊dst·scale⌋, in − 1), all in float32 as its kernel does —
 * except that an axis that exactly doubles reads dst/2, whatever scaleFactor says.
 */
function nearestIndices(inSize: number, outSize: number, factor: number | undefined): Int32Array {
  const idx = new Int32Array(outSize);
  const scale = Math.fround(factor !== undefined ? 1 / factor : inSize / outSize);
  for (let d = 0; d < outSize; d++) {
    idx[d] =
      outSize === 2 * inSize
        ? d >> 1
        : Math.min(Math.floor(Math.fround(Math.fround(d) * scale)), inSize - 1);
  }
  return idx;
}

/** PyTorch's bilinear taps along one axis: source indices i0, i1 and the weight λ₁ of i1. */
function bilinearTaps(
  inSize: number,
  outSize: number,
  factor: number | undefined,
  alignCorners: boolean,
): { i0: Int32Array; i1: Int32Array; w1: Float64Array } {
  let scale: number;
  if (alignCorners) scale = outSize > 1 ? (inSize - 1) / (outSize - 1) : 0;
  else scale = factor !== undefined ? 1 / factor : inSize / outSize;
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w1 = new Float64Array(outSize);
  for (let d = 0; d < outSize; d++) {
    const s = alignCorners ? scale * d : Math.max(scale * (d + 0.5) - 0.5, 0);
    const lo = Math.min(Math.floor(s), inSize - 1);
    i0[d] = lo;
    i1[d] = Math.min(lo + 1, inSize - 1);
    w1[d] = Math.min(Math.max(s - lo, 0), 1);
  }
  return { i0, i1, w1 };
}
