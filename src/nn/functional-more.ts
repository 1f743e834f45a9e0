/**
 * More of `tg.F` (re-exported from functional.ts): the activations, regression and divergence
 * losses, group and RMS normalisation and channel dropout a PyTorch user reaches for. All are
 * compositions of primitives; where PyTorch's hand-written backward picks a particular gradient
 * at a kink, the composition is arranged (which side of a `where` owns the kink) to pick the same.
 */
import * as ops from "../ops/ops.js";
import { zeros } from "../tensor/creation.js";
import { isFloating } from "../tensor/dtype.js";
import { TsgradError, fmtShape } from "../tensor/errors.js";
import { type Generator, defaultGenerator } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";
import type { Reduction } from "./functional.js";

function requireFloat(op: string, x: Tensor): void {
  if (!isFloating(x.dtype)) {
    throw new TsgradError(op, `needs a floating tensor, got ${x.dtype} ${fmtShape(x.shape)}`);
  }
}

function requireNumber(op: string, name: string, v: number): void {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new TsgradError(op, `${name} must be a finite number, got ${String(v)}`);
  }
}

/**
 * The ELU family's select: `neg(x)` for x ≤ 0, x elsewhere — NaN included, as PyTorch's
 * elu_backward (x ≤ 0 ? negative branch : g·scale) decides. The negative branch sees x masked to 0
 * where it is not taken: a `where` still sends the discarded branch a zero gradient times its
 * local derivative, and e^x of a large x or a NaN would make that 0·∞ or NaN.
 */
function eluSelect(x: Tensor, neg: (xm: Tensor) => Tensor): Tensor {
  const nonPositive = ops.cmp("le", x, 0);
  // + 0 turns expm1(−0) = −0 into +0, PyTorch's value at −0 (a following rsqrt or division
  // would otherwise give −inf).
  return ops.where(nonPositive, ops.add(neg(ops.where(nonPositive, x, 0)), 0), x);
}

// ------------------------------------------------------------------ activations

/**
 * Exponential linear unit: x for x > 0, α·(eˣ − 1) otherwise (torch.nn.functional.elu; e^x − 1
 * by `expm1`, exact near 0). The gradient at 0 is α, as in PyTorch.
 *
 * @example
 * console.log(tg.F.elu(tg.tensor([-1, 0, 2])).toArray()); // [-0.6321205496788025, 0, 2]
 */
export function elu(x: Tensor, alpha = 1): Tensor {
  requireFloat("elu", x);
  requireNumber("elu", "alpha", alpha);
  return eluSelect(x, (xm) => ops.mul(ops.expm1(xm), alpha));
}

/** SELU's constants (Klambauer et al. 2017), as PyTorch spells them. */
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/**
 * Scaled ELU: scale·elu(x, α) with Klambauer et al.'s self-normalising α ≈ 1.6733 and
 * scale ≈ 1.0507 (torch.nn.functional.selu). The gradient at 0 is scale·α.
 *
 * @example
 * console.log(tg.F.selu(tg.tensor([0, 1])).toArray()); // [0, 1.0507010221481323]
 */
export function selu(x: Tensor): Tensor {
  requireFloat("selu", x);
  return ops.mul(
    eluSelect(x, (xm) => ops.mul(ops.expm1(xm), SELU_ALPHA)),
    SELU_SCALE,
  );
}

/**
 * Continuously differentiable ELU: max(0, x) + min(0, α·(e^(x/α) − 1)) (torch.nn.functional.celu).
 * α = 0 is an error, as in PyTorch.
 *
 * @example
 * console.log(tg.F.celu(tg.tensor([-2, 3]), 2).toArray()); // [-1.2642411589622498, 3]
 */
export function celu(x: Tensor, alpha = 1): Tensor {
  requireFloat("celu", x);
  requireNumber("celu", "alpha", alpha);
  if (alpha === 0) throw new TsgradError("celu", "alpha cannot be 0");
  return eluSelect(x, (xm) => ops.mul(ops.expm1(ops.div(xm, alpha)), alpha));
}

/**
 * Parametric ReLU: x for x > 0, weight·x otherwise, with `weight` holding one slope or one per
 * channel (axis 1; an input of rank < 2 has one channel), as torch.nn.functional.prelu. The
 * gradient at 0 is the slope, as in PyTorch.
 *
 * @example
 * const x = tg.tensor([[-1, 2], [-4, -3]]);
 * console.log(tg.F.prelu(x, tg.tensor([0.5, 0.25])).toArray()); // [[-0.5, 2], [-2, -0.75]]
 */
export function prelu(x: Tensor, weight: Tensor): Tensor {
  requireFloat("prelu", x);
  const channels = x.ndim >= 2 ? x.shape[1]! : 1;
  if (weight.ndim > 1 || (weight.size !== 1 && weight.size !== channels)) {
    throw new TsgradError(
      "prelu",
      `weight ${fmtShape(weight.shape)} must hold 1 or ${channels} slopes (one per channel of input ${fmtShape(x.shape)})`,
    );
  }
  const w = weight.to(x.dtype);
  const slope =
    weight.size === 1 || x.ndim < 2
      ? ops.reshape(w, [])
      : ops.reshape(
          w,
          x.shape.map((d, i) => (i === 1 ? d : 1)),
        );
  // The negative side reads x only where it is taken: otherwise an untaken ±inf input meets the
  // zero upstream gradient as inf·0 = NaN in the slope's (and a NaN slope in x's) gradient.
  const pos = ops.cmp("gt", x, 0);
  return ops.where(pos, x, ops.mul(ops.where(pos, 0, x), slope));
}

/**
 * Mish (Misra 2019): x·tanh(softplus(x)) (torch.nn.functional.mish).
 *
 * @example
 * console.log(tg.F.mish(tg.tensor([0, 1])).toArray()); // [0, 0.8650983572006226]
 */
export function mish(x: Tensor): Tensor {
  requireFloat("mish", x);
  // softplus as max(x, 0) + log(1 + e^-|x|), which does not overflow.
  const pos = ops.cmp("gt", x, 0);
  const sp = ops.add(
    ops.where(pos, x, 0),
    ops.log1p(ops.exp(ops.neg(ops.where(pos, x, ops.neg(x))))),
  );
  return ops.mul(x, ops.tanh(sp));
}

/**
 * Clamp into [minVal, maxVal] (torch.nn.functional.hardtanh). Unlike `tg.clamp`, the gradient is
 * 0 at the bounds themselves, as PyTorch's hardtanh backward has it.
 *
 * @example
 * console.log(tg.F.hardtanh(tg.tensor([-2, 0.5, 3])).toArray()); // [-1, 0.5, 1]
 */
export function hardtanh(x: Tensor, minVal = -1, maxVal = 1): Tensor {
  requireFloat("hardtanh", x);
  requireNumber("hardtanh", "minVal", minVal);
  requireNumber("hardtanh", "maxVal", maxVal);
  if (minVal > maxVal) {
    throw new TsgradError("hardtanh", `minVal ${minVal} is greater than maxVal ${maxVal}`);
  }
  return ops.where(
    ops.cmp("le", x, minVal),
    minVal,
    ops.where(ops.cmp("ge", x, maxVal), maxVal, x),
  );
}

/**
 * min(max(x, 0), 6) = hardtanh(x, 0, 6): the gradient is 0 at 0 and at 6, as in PyTorch.
 *
 * @example
 * console.log(tg.F.relu6(tg.tensor([-1, 3, 8])).toArray()); // [0, 3, 6]
 */
export function relu6(x: Tensor): Tensor {
  return hardtanh(x, 0, 6);
}

/**
 * relu6(x + 3) / 6, a piecewise-linear sigmoid (torch.nn.functional.hardsigmoid); the gradient
 * is 0 at ±3, as in PyTorch.
 *
 * @example
 * console.log(tg.F.hardsigmoid(tg.tensor([-4, 0, 1.5, 4])).toArray()); // [0, 0.5, 0.75, 1]
 */
export function hardsigmoid(x: Tensor): Tensor {
  requireFloat("hardsigmoid", x);
  // At NaN the value is NaN but the gradient 0: PyTorch's backward passes g only for -3 < x < 3.
  const xm = ops.where(ops.cmp("ne", x, x), NaN, x);
  return ops.where(
    ops.cmp("le", x, -3),
    0,
    ops.where(ops.cmp("ge", x, 3), 1, ops.add(ops.div(xm, 6), 0.5)),
  );
}

/**
 * x·relu6(x + 3) / 6 (Howard et al. 2019; torch.nn.functional.hardswish). The middle piece owns
 * both kinks, so the gradient is −0.5 at −3 and 1.5 at 3, as PyTorch's backward gives.
 *
 * @example
 * console.log(tg.F.hardswish(tg.tensor([-4, 0, 1.5, 4])).toArray()); // [0, 0, 1.125, 4]
 */
export function hardswish(x: Tensor): Tensor {
  requireFloat("hardswish", x);
  // The middle piece reads x only where it is taken (inf·(inf + 3) elsewhere would send NaN back
  // through its zero upstream gradient).
  const xm = ops.where(ops.cmp("ge", x, -3), ops.where(ops.cmp("le", x, 3), x, 0), 0);
  return ops.where(
    ops.cmp("lt", x, -3),
    0,
    ops.where(ops.cmp("le", x, 3), ops.div(ops.mul(xm, ops.add(xm, 3)), 6), x),
  );
}

// ------------------------------------------------------------------ losses

function reduceLoss(loss: Tensor, reduction: Reduction, op: string): Tensor {
  if (reduction === "mean") return loss.mean();
  if (reduction === "sum") return loss.sum();
  if (reduction === "none") return loss;
  throw new TsgradError(op, `unknown reduction "${String(reduction)}"`);
}

/**
 * input − target for same-shaped tensors. PyTorch broadcasts mismatched shapes with a warning,
 * which is nearly always a bug ([N, 1] against [N] silently makes an [N, N] loss), so here a
 * mismatch is an error.
 */
function residual(op: string, input: Tensor, target: Tensor): Tensor {
  requireFloat(op, input);
  if (
    input.shape.length !== target.shape.length ||
    input.shape.some((d, i) => d !== target.shape[i])
  ) {
    throw new TsgradError(
      op,
      `input ${fmtShape(input.shape)} and target ${fmtShape(target.shape)} differ in shape (no broadcasting, unlike PyTorch's warning)`,
    );
  }
  return ops.sub(input, target.to(input.dtype));
}

/**
 * Mean absolute error |input − target| (torch.nn.functional.l1_loss); the gradient at a zero
 * residual is 0. Shapes must match (PyTorch broadcasts with a warning; here it is an error).
 *
 * @example
 * console.log(tg.F.l1Loss(tg.tensor([1, 2]), tg.tensor([1, 4])).item()); // 1
 */
export function l1Loss(input: Tensor, target: Tensor, reduction: Reduction = "mean"): Tensor {
  return reduceLoss(ops.abs(residual("l1Loss", input, target)), reduction, "l1Loss");
}

/**
 * Smooth L1: 0.5·d²/β where |d| < β, |d| − 0.5·β elsewhere (torch.nn.functional.smooth_l1_loss).
 * β = 0 is the L1 loss; there, as in PyTorch, a zero residual gets gradient −1. Shapes must
 * match (an error, where PyTorch broadcasts with a warning).
 *
 * @example
 * console.log(tg.F.smoothL1Loss(tg.tensor([0.5, 3]), tg.tensor([0, 0]), "none").toArray()); // [0.125, 2.5]
 */
export function smoothL1Loss(
  input: Tensor,
  target: Tensor,
  reduction: Reduction = "mean",
  beta = 1,
): Tensor {
  requireNumber("smoothL1Loss", "beta", beta);
  if (beta < 0) throw new TsgradError("smoothL1Loss", `beta must be non-negative, got ${beta}`);
  const d = residual("smoothL1Loss", input, target);
  // PyTorch's backward tests d <= -β first, then d >= β: with β = 0 a zero residual takes −1.
  const neg = ops.cmp("le", d, -beta);
  const abs = ops.where(neg, ops.neg(d), d);
  if (beta === 0) return reduceLoss(abs, reduction, "smoothL1Loss");
  // The quadratic piece reads d only where it is taken: an untaken ±inf residual would send
  // inf·0 = NaN back through its zero upstream gradient. A NaN residual takes it, as in PyTorch's
  // backward (NaN·g/β).
  const big = ops.cmp("ge", abs, beta);
  const dq = ops.where(big, 0, d);
  const loss = ops.where(big, ops.sub(abs, 0.5 * beta), ops.mul(ops.mul(dq, dq), 0.5 / beta));
  return reduceLoss(loss, reduction, "smoothL1Loss");
}

/**
 * Huber loss: 0.5·d² where |d| < δ, δ·(|d| − 0.5·δ) elsewhere (torch.nn.functional.huber_loss;
 * smoothL1Loss times β when δ = β). δ must be positive. Shapes must match (an error, where
 * PyTorch broadcasts with a warning).
 *
 * @example
 * console.log(tg.F.huberLoss(tg.tensor([0.5, 3]), tg.tensor([0, 0]), "none", 2).toArray()); // [0.125, 4]
 */
export function huberLoss(
  input: Tensor,
  target: Tensor,
  reduction: Reduction = "mean",
  delta = 1,
): Tensor {
  requireNumber("huberLoss", "delta", delta);
  if (!(delta > 0)) throw new TsgradError("huberLoss", `delta must be positive, got ${delta}`);
  const d = residual("huberLoss", input, target);
  const abs = ops.where(ops.cmp("le", d, -delta), ops.neg(d), d);
  // As smoothL1Loss: the quadratic piece reads d only where it is taken, and takes NaN.
  const big = ops.cmp("ge", abs, delta);
  const dq = ops.where(big, 0, d);
  const loss = ops.where(
    big,
    ops.mul(ops.sub(abs, 0.5 * delta), delta),
    ops.mul(ops.mul(dq, dq), 0.5),
  );
  return reduceLoss(loss, reduction, "huberLoss");
}

/**
 * Kullback–Leibler divergence with `input` the log-probabilities of the model and `target`
 * probabilities (or log-probabilities with `logTarget`): target·(log target − input), pointwise
 * (torch.nn.functional.kl_div). "batchmean" divides the sum by the batch size (input.shape[0]) —
 * the true KL per example; "mean" divides by the element count, as PyTorch does. A zero target
 * contributes 0; unlike PyTorch (NaN), its own gradient is then −input. Shapes must match (an
 * error, where PyTorch broadcasts with a warning).
 *
 * @example
 * const logq = tg.tensor([[0.5, 0.5]]).log();
 * console.log(tg.F.klDiv(logq, tg.tensor([[0.5, 0.5]]), "batchmean").item()); // 0
 */
export function klDiv(
  input: Tensor,
  target: Tensor,
  reduction: Reduction | "batchmean" = "mean",
  logTarget = false,
): Tensor {
  const diff = residual("klDiv", input, target); // input − target: for the shape check
  const t = target.to(input.dtype);
  let loss: Tensor;
  if (logTarget) {
    loss = ops.mul(ops.exp(t), ops.neg(diff));
  } else {
    // xlogy(t, t) − t·input: 0·log 0 = 0, with log taken of 1 there so no 0·(−∞) reaches the
    // gradient (a negative target is NaN, as in PyTorch).
    const zero = ops.cmp("eq", t, 0);
    const tlogt = ops.where(zero, 0, ops.mul(t, ops.log(ops.where(zero, 1, t))));
    loss = ops.sub(tlogt, ops.mul(t, input));
  }
  if (reduction === "batchmean") {
    return input.ndim === 0 ? loss.sum() : ops.div(loss.sum(), input.shape[0]!);
  }
  return reduceLoss(loss, reduction, "klDiv");
}

// ------------------------------------------------------------------ normalisation

/**
 * Group normalisation (Wu & He 2018; torch.nn.functional.group_norm): the C channels of
 * x [N, C, ...] fall into `numGroups` groups, each normalised over its channels and positions
 * (biased variance), then scaled by `weight` [C] and shifted by `bias` [C].
 *
 * @example
 * const y = tg.F.groupNorm(tg.tensor([[1, 2, 3, 5]]), 2);
 * console.log(y.toArray()); // [[-0.9999799728393555, 0.9999799728393555, -0.9999949932098389, 0.9999949932098389]]
 */
export function groupNorm(
  x: Tensor,
  numGroups: number,
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
): Tensor {
  requireFloat("groupNorm", x);
  if (x.ndim < 2) {
    throw new TsgradError("groupNorm", `expected an input [N, C, ...], got ${fmtShape(x.shape)}`);
  }
  const [n, c] = [x.shape[0]!, x.shape[1]!];
  if (!Number.isInteger(numGroups) || numGroups < 1 || c % numGroups !== 0) {
    throw new TsgradError(
      "groupNorm",
      `the ${c} channels of input ${fmtShape(x.shape)} are not divisible into numGroups=${numGroups} groups`,
    );
  }
  for (const [name, t] of [
    ["weight", weight],
    ["bias", bias],
  ] as const) {
    if (t && (t.ndim !== 1 || t.shape[0] !== c)) {
      throw new TsgradError("groupNorm", `${name} shape ${fmtShape(t.shape)} must be [${c}]`);
    }
  }
  requireNumber("groupNorm", "eps", eps);
  const perGroup = x.size / Math.max(1, n * numGroups);
  if (n * perGroup === 1) {
    // torch's rule (F.group_norm's batch-size check): a group of one value normalises to 0.
    throw new TsgradError(
      "groupNorm",
      `expected more than 1 value per group, got input ${fmtShape(x.shape)} in ${numGroups} groups`,
    );
  }
  // Explicit sizes, not -1: an empty batch has no size to infer.
  const g = ops.reshape(x, [n, numGroups, perGroup]);
  const mu = ops.mean(g, 2, true);
  const d = ops.sub(g, mu);
  const v = ops.mean(ops.mul(d, d), 2, true);
  let y = ops.reshape(ops.mul(d, ops.rsqrt(ops.add(v, eps))), x.shape);
  const bshape = x.shape.map((s, i) => (i === 1 ? s : 1));
  if (weight) y = ops.mul(y, ops.reshape(weight.to(x.dtype), bshape));
  if (bias) y = ops.add(y, ops.reshape(bias.to(x.dtype), bshape));
  return y;
}

/**
 * Root-mean-square normalisation (Zhang & Sennrich 2019) over the trailing `normalizedShape`
 * axes: x / √(mean(x²) + eps) · weight, as PyTorch 2.4's torch.nn.functional.rms_norm. `eps`
 * defaults to the machine epsilon of x's dtype (2⁻²³ for float32, 2⁻⁵² for float64), as there.
 *
 * @example
 * console.log(tg.F.rmsNorm(tg.tensor([[3, 4]]), [2], null, 0).toArray()); // [[0.8485281467437744, 1.1313708782196045]]
 */
export function rmsNorm(
  x: Tensor,
  normalizedShape: readonly number[],
  weight?: Tensor | null,
  eps?: number,
): Tensor {
  requireFloat("rmsNorm", x);
  const k = normalizedShape.length;
  if (k === 0 || k > x.ndim || normalizedShape.some((d, i) => d !== x.shape[x.ndim - k + i])) {
    throw new TsgradError(
      "rmsNorm",
      `normalized shape ${fmtShape(normalizedShape)} does not end input shape ${fmtShape(x.shape)}`,
    );
  }
  if (weight && (weight.ndim !== k || weight.shape.some((d, i) => d !== normalizedShape[i]))) {
    throw new TsgradError(
      "rmsNorm",
      `weight shape ${fmtShape(weight.shape)} must equal the normalized shape ${fmtShape(normalizedShape)}`,
    );
  }
  const e = eps ?? (x.dtype === "float64" ? 2 ** -52 : 2 ** -23);
  requireNumber("rmsNorm", "eps", e);
  const axes = Array.from({ length: k }, (_, i) => x.ndim - k + i);
  const y = ops.mul(x, ops.rsqrt(ops.add(ops.mean(ops.mul(x, x), axes, true), e)));
  return weight ? ops.mul(y, weight.to(x.dtype)) : y;
}

// ------------------------------------------------------------------ dropout

/**
 * Channel dropout on x [N, C, H, W] (torch.nn.functional.dropout2d): in training, each whole
 * channel of each example is zeroed with probability p and the rest scaled by 1/(1 − p). Only
 * 4-D input is accepted: PyTorch 1.13 reads a 3-D input as [N, C, L] and later versions as an
 * unbatched [C, H, W], so neither reading is safe to guess.
 *
 * @example
 * tg.manualSeed(0);
 * const y = tg.F.dropout2d(tg.ones([1, 64, 2, 2]), 0.5);
 * console.log(y.amax([2, 3]).eq(y.amin([2, 3])).sum().item()); // 64
 */
export function dropout2d(x: Tensor, p = 0.5, training = true, generator?: Generator): Tensor {
  if (!(p >= 0 && p <= 1)) {
    throw new TsgradError("dropout2d", `probability must be in [0, 1], got ${p}`);
  }
  if (x.ndim !== 4) {
    throw new TsgradError(
      "dropout2d",
      `expected a 4-D input [N, C, H, W], got ${fmtShape(x.shape)} (add a batch axis to [C, H, W])`,
    );
  }
  requireFloat("dropout2d", x);
  if (!training || p === 0) return x;
  if (p === 1) return ops.mul(x, 0);
  const mask = zeros([x.shape[0]!, x.shape[1]!, 1, 1], { dtype: x.dtype });
  (generator ?? defaultGenerator).fillKeepMask(mask.data as Float32Array | Float64Array, p);
  return ops.mul(x, mask);
}
