/** Gradient clipping (torch.nn.utils.clip_grad_norm_ and clip_grad_value_). */
import { TsgradError } from "../tensor/errors.js";
import { Tensor } from "../tensor/tensor.js";

/** Options of `clipGradNorm`. */
export interface ClipGradNormOptions {
  /**
   * Throw when the total norm is NaN or infinite instead of scaling the gradients by it
   * (default true; PyTorch 1.13 defaults to false, which silently turns every gradient into NaN).
   */
  errorIfNonfinite?: boolean;
}

function gradsOf(op: string, params: Tensor | Iterable<Tensor>): Tensor[] {
  const list = params instanceof Tensor ? [params] : [...params];
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) throw new TsgradError(op, `entry ${i} is not a Tensor`);
  });
  return list.flatMap((p) => (p.grad === null ? [] : [p]));
}

/**
 * The `normType`-norm of one gradient, computed by the active backend's kernels (the result in
 * the gradient's dtype, like PyTorch's `torch.norm`). With JS loops over the elements, clipping the
 * 8.4M gradients of a translation model took 147–198 ms of a ~700 ms native training step (the
 * norm loops alone 54–107 ms); with the backend's kernels, norms and scaling take 48–70 ms.
 */
function gradNorm(g: Tensor, normType: number): number {
  if (g.size === 0) return 0;
  if (normType === Infinity) return g.abs().amax().item();
  if (normType === 2) return Math.sqrt(g.mul(g).sum().item());
  if (normType === 1) return g.abs().sum().item();
  return g.abs().pow(normType).sum().item() ** (1 / normType);
}

/**
 * Scale the gradients of `params` so that their total `normType`-norm (as if concatenated into
 * one vector) is at most `maxNorm`, and return that total norm before clipping (like
 * `torch.nn.utils.clip_grad_norm_`, returned as a number). `normType` is a positive number or
 * `Infinity` (the largest absolute value). Parameters without a gradient are skipped; with none
 * at all the norm is 0.
 *
 * @example
 * const w = tg.zeros([2], { requiresGrad: true });
 * w.mul(tg.tensor([3, 4])).sum().backward(); // gradient [3, 4], norm 5
 * console.log(tg.optim.clipGradNorm([w], 1)); // 5
 * console.log(w.grad!.toArray()); // [0.6, 0.8]
 */
export function clipGradNorm(
  params: Tensor | Iterable<Tensor>,
  maxNorm: number,
  normType = 2,
  opts: ClipGradNormOptions = {},
): number {
  if (typeof maxNorm !== "number" || Number.isNaN(maxNorm)) {
    throw new TsgradError("clipGradNorm", `maxNorm must be a number, got ${String(maxNorm)}`);
  }
  if (!(normType > 0)) {
    throw new TsgradError("clipGradNorm", `normType must be > 0 or Infinity, got ${normType}`);
  }
  const withGrad = gradsOf("clipGradNorm", params);
  if (withGrad.length === 0) return 0;
  // Per-gradient norms first, then the norm of those norms, the order PyTorch uses.
  const norms = withGrad.map((p) => gradNorm(p.grad!, normType));
  const total =
    normType === Infinity
      ? Math.max(...norms)
      : norms.reduce((s, n) => s + n ** normType, 0) ** (1 / normType);
  if ((opts.errorIfNonfinite ?? true) && !Number.isFinite(total)) {
    throw new TsgradError(
      "clipGradNorm",
      `the total norm of order ${normType} of the gradients is ${total}, so they cannot be clipped ` +
        "(pass { errorIfNonfinite: false } to scale by it anyway)",
    );
  }
  const coef = Math.min(maxNorm / (total + 1e-6), 1);
  // A fresh tensor per gradient rather than an in-place write: autograd may hand one storage to
  // several leaves' gradients (x.add(y) passes one cotangent to both), and scaling shared storage
  // once per owner would clip it twice.
  if (coef !== 1 || Number.isNaN(coef)) for (const p of withGrad) p.grad = p.grad!.mul(coef);
  return total;
}

/**
 * Clamp every gradient element of `params` into [−clipValue, clipValue] (like
 * `torch.nn.utils.clip_grad_value_`).
 *
 * @example
 * const w = tg.zeros([3], { requiresGrad: true });
 * w.mul(tg.tensor([-2, 0.5, 3])).sum().backward();
 * tg.optim.clipGradValue([w], 1);
 * console.log(w.grad!.toArray()); // [-1, 0.5, 1]
 */
export function clipGradValue(params: Tensor | Iterable<Tensor>, clipValue: number): void {
  if (!(clipValue >= 0)) {
    throw new TsgradError(
      "clipGradValue",
      `clipValue must be a non-negative number, got ${clipValue}`,
    );
  }
  // A fresh tensor, as in clipGradNorm: gradients may share storage.
  for (const p of gradsOf("clipGradValue", params)) p.grad = p.grad!.clamp(-clipValue, clipValue);
}
