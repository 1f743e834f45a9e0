/**
 * Elementwise rounding and classification, running sums and products, logical reductions and
 * vector norms, as torch.floor / cumsum / cumprod / prod / any / all / norm / isnan / nan_to_num.
 * All are compositions: rounding, cumsum run their own primitives; the products are trees of
 * multiplications, so autodiff gives PyTorch's exact gradients even where an element is zero.
 */
import { type DType, isFloating } from "../tensor/dtype.js";
import { TsgradError, fmtShape } from "../tensor/errors.js";
import { normAxes, normAxis } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import { run } from "./dispatch.js";
import {
  abs,
  amax,
  amin,
  cast,
  cmp,
  mul,
  narrow,
  pow,
  reshape,
  sqrt,
  squeeze,
  sum,
  where,
} from "./ops.js";
import type { RoundMode } from "./primitives.js";

// ------------------------------------------------------------------ rounding

function rounding(mode: RoundMode, x: Tensor): Tensor {
  if (x.dtype === "bool") throw new TsgradError(mode, "not defined for bool tensors");
  // Integers are already whole: PyTorch returns a copy in the same dtype.
  if (!isFloating(x.dtype)) return cast(x, x.dtype);
  return run("round", [x], { mode });
}

/**
 * Round toward -∞. The gradient is zero everywhere (a zero tensor, as PyTorch's), so a loss that
 * goes through it still backpropagates. Integer tensors give a copy.
 *
 * @example
 * console.log(tg.floor(tg.tensor([-1.5, 0.5, 2])).toArray()); // [-2, 0, 2]
 */
export const floor = (x: Tensor): Tensor => rounding("floor", x);

/**
 * Round toward +∞ (zero gradient, as floor).
 *
 * @example
 * console.log(tg.ceil(tg.tensor([-1.5, 0.5, 2])).toArray()); // [-1, 1, 2]
 */
export const ceil = (x: Tensor): Tensor => rounding("ceil", x);

/**
 * Round to the nearest integer, halves to the even neighbour (as torch.round, not Math.round).
 * Zero gradient, as floor.
 *
 * @example
 * console.log(tg.round(tg.tensor([0.5, 1.5, 2.5, -2.5, 2.6])).toArray()); // [0, 2, 2, -2, 3]
 */
export const round = (x: Tensor): Tensor => rounding("round", x);

/**
 * Round toward zero (zero gradient, as floor).
 *
 * @example
 * console.log(tg.trunc(tg.tensor([-1.7, 1.7])).toArray()); // [-1, 1]
 */
export const trunc = (x: Tensor): Tensor => rounding("trunc", x);

// ------------------------------------------------------------------ classification

/**
 * Where x is NaN (bool). Integer and bool tensors have none.
 *
 * @example
 * console.log(tg.isnan(tg.tensor([1, NaN, Infinity])).toArray()); // [false, true, false]
 */
export const isnan = (x: Tensor): Tensor => cmp("ne", x, x);

/**
 * Where x is +∞ or -∞ (bool).
 *
 * @example
 * console.log(tg.isinf(tg.tensor([1, NaN, -Infinity])).toArray()); // [false, false, true]
 */
export function isinf(x: Tensor): Tensor {
  return isFloating(x.dtype) ? cmp("eq", abs(x), Infinity) : cmp("ne", x, x);
}

/**
 * Where x is neither NaN nor infinite (bool).
 *
 * @example
 * console.log(tg.isfinite(tg.tensor([1, NaN, -Infinity])).toArray()); // [true, false, false]
 */
export function isfinite(x: Tensor): Tensor {
  // |NaN| < ∞ is false, so one comparison covers both cases.
  return isFloating(x.dtype) ? cmp("lt", abs(x), Infinity) : cmp("eq", x, x);
}

/** The largest finite value of a floating dtype (torch.finfo(dtype).max). */
function finiteMax(dtype: DType): number {
  return dtype === "float32" ? 3.4028234663852886e38 : Number.MAX_VALUE;
}

/**
 * Replace NaN by `nan` (default 0), +∞ by `posinf` and -∞ by `neginf` (default: the dtype's largest
 * and lowest finite values), as torch.nan_to_num. The gradient is 1 where x was finite and 0 at
 * the replaced elements. Integer tensors give a copy.
 *
 * @example
 * const x = tg.tensor([NaN, Infinity, -Infinity, 2]);
 * console.log(tg.nanToNum(x, { posinf: 9 }).toArray()); // [0, 9, -3.4028234663852886e38, 2]
 */
export function nanToNum(
  x: Tensor,
  opts: { nan?: number; posinf?: number; neginf?: number } = {},
): Tensor {
  if (!isFloating(x.dtype)) return cast(x, x.dtype);
  const big = finiteMax(x.dtype);
  let y = where(isnan(x), opts.nan ?? 0, x);
  y = where(cmp("eq", x, Infinity), opts.posinf ?? big, y);
  return where(cmp("eq", x, -Infinity), opts.neginf ?? -big, y);
}

// ------------------------------------------------------------------ scans

/** Scans act on one axis; a 0-d tensor is treated as shape [1] (dim 0 or -1), as PyTorch. */
function scanInput(op: string, x: Tensor, dim: number): { x1: Tensor; axis: number } {
  const axis = normAxis(op, dim, x.ndim);
  const xi = x.dtype === "bool" ? x.to("int32") : x;
  return { x1: x.ndim === 0 ? reshape(xi, [1]) : xi, axis };
}

/**
 * Running sum along `dim`: out[i] = x[0] + … + x[i]. Bool counts as int32; integers stay int32
 * (PyTorch gives int64). Float sums accumulate in double, as PyTorch's CPU kernel.
 *
 * @example
 * console.log(tg.cumsum(tg.tensor([[1, 2, 3], [4, 5, 6]]), 1).toArray()); // [[1, 3, 6], [4, 9, 15]]
 */
export function cumsum(x: Tensor, dim: number): Tensor {
  const { x1, axis } = scanInput("cumsum", x, dim);
  const y = run("cumsum", [x1], { axis, reverse: false });
  return x.ndim === 0 ? reshape(y, []) : y;
}

/**
 * Running product along `dim`. It is a Hillis–Steele scan — log2(n) rounds of multiplying by a
 * shifted copy — so it has no division and its gradient is exact where x holds zeros (as
 * PyTorch's). Float32 rounding can differ from a sequential product in the last bit.
 *
 * @example
 * const x = tg.tensor([2, 0, 3], { requiresGrad: true });
 * tg.cumprod(x, 0).sum().backward();
 * console.log(x.grad!.toArray()); // [1, 8, 0]
 */
export function cumprod(x: Tensor, dim: number): Tensor {
  const { x1, axis } = scanInput("cumprod", x, dim);
  const n = x1.shape[axis]!;
  let y = cast(x1, x1.dtype);
  for (let k = 1; k < n; k *= 2) {
    // y[i] *= y[i - k], with ones shifted in from the start.
    const pads: [number, number][] = x1.shape.map((_, i) => (i === axis ? [k, 0] : [0, 0]));
    y = mul(y, run("pad", [narrow(y, axis, 0, n - k)], { pads, value: 1 }));
  }
  return x.ndim === 0 ? reshape(y, []) : y;
}

// ------------------------------------------------------------------ reductions

/**
 * Product over `dim` (all elements when omitted); an empty product is 1. Computed as a pairwise
 * tree (the axis padded with ones to a power of two, then halves multiplied), so the gradient is
 * exact with zeros: with one zero, only that element gets a (non-zero) gradient, as in PyTorch.
 * Bool and int32 give int32.
 *
 * @example
 * const x = tg.tensor([[2, 0], [3, 4]], { requiresGrad: true });
 * console.log(tg.prod(x, 1).toArray()); // [0, 12]
 * tg.prod(x, 1).sum().backward();
 * console.log(x.grad!.toArray()); // [[0, 2], [4, 3]]
 */
export function prod(x: Tensor, dim?: number, keepdim = false): Tensor {
  const xi = x.dtype === "bool" ? x.to("int32") : x;
  if (dim === undefined) {
    const flat = prodAxis(reshape(xi, [-1]), 0);
    return reshape(flat, keepdim ? x.shape.map(() => 1) : []);
  }
  const axis = normAxis("prod", dim, x.ndim);
  if (x.ndim === 0) return cast(xi, xi.dtype);
  const y = prodAxis(xi, axis);
  return keepdim ? y : squeeze(y, axis);
}

/** The product along `axis`, kept as a size-1 axis. */
function prodAxis(x: Tensor, axis: number): Tensor {
  const n = x.shape[axis]!;
  let m = 1;
  while (m < n) m *= 2;
  const pads: [number, number][] = x.shape.map((_, i) => (i === axis ? [0, m - n] : [0, 0]));
  let y = m === n ? x : run("pad", [x], { pads, value: 1 });
  while (m > 1) {
    m /= 2;
    y = mul(narrow(y, axis, 0, m), narrow(y, axis, m, m));
  }
  return y;
}

/**
 * Whether any element over `dim` (all when omitted) is non-zero; NaN counts as non-zero. A bool
 * tensor, false over an empty axis.
 *
 * @example
 * console.log(tg.any(tg.tensor([[0, 1], [0, 0]]), 1).toArray()); // [true, false]
 */
export function any(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const axes = normAxes("any", dim, x.ndim);
  return cmp("gt", sum(x.to("bool"), axes, keepdim), 0);
}

/**
 * Whether every element over `dim` (all when omitted) is non-zero. A bool tensor, true over an
 * empty axis.
 *
 * @example
 * console.log(tg.all(tg.tensor([[1, 2], [0, 3]]), 1).toArray()); // [true, false]
 */
export function all(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const axes = normAxes("all", dim, x.ndim);
  return cmp("eq", sum(cmp("eq", x.to("bool"), 0), axes, keepdim), 0);
}

/**
 * Vector p-norm over `dim` (all elements when omitted), as torch.norm with a numeric p: 2
 * (default, also "fro"), 1, ±Infinity (max / min of |x|; an empty input gives 0, as PyTorch 1.13),
 * 0 (the count of non-zeros, zero gradient) or any other p, (Σ|x|^p)^(1/p). Where the norm is 0
 * the gradient is 0, not NaN, and elements equal to 0 get a zero gradient, as PyTorch's.
 *
 * @example
 * const x = tg.tensor([0, 0, 0], { requiresGrad: true });
 * tg.norm(x).backward();
 * console.log(tg.norm(tg.tensor([3, -4])).item(), x.grad!.toArray()); // 5 [0, 0, 0]
 */
export function norm(
  x: Tensor,
  p: number | "fro" = 2,
  dim?: number | readonly number[],
  keepdim = false,
): Tensor {
  if (!isFloating(x.dtype)) {
    throw new TsgradError(
      "norm",
      `expected a floating tensor, got ${x.dtype} ${fmtShape(x.shape)}`,
    );
  }
  const q = p === "fro" ? 2 : p;
  if (typeof q !== "number" || Number.isNaN(q)) {
    throw new TsgradError("norm", `p must be a number or "fro", got ${String(p)}`);
  }
  const axes = normAxes("norm", dim, x.ndim);
  const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
  const a = abs(x);
  if (q === Infinity || q === -Infinity) {
    if (count === 0) {
      // A max over nothing has no value (torch raises here too).
      throw new TsgradError(
        "norm",
        `the ${q > 0 ? "" : "-"}inf norm of ${fmtShape(x.shape)} reduces an empty axis`,
      );
    }
    return q > 0 ? amax(a, axes, keepdim) : amin(a, axes, keepdim);
  }
  if (q === 0) {
    // 1 per non-zero (NaN included), the zeros themselves elsewhere; trunc makes it constant.
    return sum(run("round", [where(cmp("ne", x, 0), 1, x)], { mode: "trunc" }), axes, keepdim);
  }
  if (q === 1) return sum(a, axes, keepdim);
  let s: Tensor;
  if (q === 2) s = sum(mul(x, x), axes, keepdim);
  else {
    // |0|^p is evaluated on a stand-in 1, so its gradient is finite, and the select drops it.
    const zero = cmp("eq", a, 0);
    s = sum(where(zero, q > 0 ? 0 : Infinity, pow(where(zero, 1, a), q)), axes, keepdim);
  }
  if (q < 0) return pow(s, 1 / q);
  // The same stand-in for an all-zero slice: its norm is 0 with a zero gradient.
  const zero = cmp("eq", s, 0);
  const r = where(zero, 1, s);
  return where(zero, 0, q === 2 ? sqrt(r) : pow(r, 1 / q));
}
