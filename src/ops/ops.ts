/**
 * The functional tensor API: thin wrappers that validate arguments, handle plain numbers, dtype
 * promotion and broadcasting, then call `run(prim, …)` — plus the tensor-level compositions
 * (mean, var, softmax, logsumexp, clamp, split, flip, …), which are built from primitives only
 * and so need no gradient code of their own.
 *
 * `Tensor` methods delegate here; `tg.*` re-exports these functions.
 */
import { type DType, isFloating, promoteTypes } from "../tensor/dtype.js";
import { TsgradError, fmtShape } from "../tensor/errors.js";
import {
  broadcastShapes,
  inferShape,
  normAxes,
  normAxis,
  numel,
  sameShape,
} from "../tensor/shape.js";
import { isGradEnabled } from "../tensor/autograd.js";
import { Tensor, type TensorLike } from "../tensor/tensor.js";
import { scalar } from "../tensor/scalar.js";
import { run } from "./dispatch.js";
import { fused } from "./fused.js";
import type { CmpOp, Prim } from "./primitives.js";

// ------------------------------------------------------------------ helpers

function floatDtype(d: DType): DType {
  return isFloating(d) ? d : "float32";
}

/** Unary float op: integer inputs are promoted to float32 first (as PyTorch does for exp etc.). */
function unary(
  prim: Prim &
    ("neg" | "exp" | "log" | "sqrt" | "tanh" | "sigmoid" | "relu" | "abs" | "sin" | "cos" | "erf"),
  x: Tensor,
): Tensor {
  if (prim === "neg" || prim === "abs" || prim === "relu") {
    if (x.dtype === "bool") throw new TsgradError(prim, "not defined for bool tensors");
    return run(prim, [x], {});
  }
  return run(prim, [x.to(floatDtype(x.dtype))], {});
}

/** Resolve two operands to tensors of one promoted dtype. Numbers adopt the tensor's dtype. */
function operands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (typeof a === "number" && typeof b === "number") {
    throw new TsgradError(op, "at least one operand must be a tensor");
  }
  const dtypeOf = (x: TensorLike, other: TensorLike): DType => {
    if (x instanceof Tensor) return x.dtype;
    const o = (other as Tensor).dtype;
    return Number.isInteger(x) || isFloating(o) ? o : "float32";
  };
  let dt = promoteTypes(dtypeOf(a, b), dtypeOf(b, a));
  if (dt === "bool" && op !== "maximum" && op !== "cmp" && op !== "where") dt = "int32";
  const ta = a instanceof Tensor ? a.to(dt) : scalar(a, dt);
  const tb = b instanceof Tensor ? b.to(dt) : scalar(b, dt);
  return [ta, tb];
}

function binary(
  prim: "add" | "sub" | "mul" | "div" | "pow" | "maximum",
  a: TensorLike,
  b: TensorLike,
): Tensor {
  let [ta, tb] = operands(prim, a, b);
  if ((prim === "div" || prim === "pow") && !isFloating(ta.dtype)) {
    ta = ta.to("float32");
    tb = tb.to("float32");
  }
  const shape = broadcastShapes(prim, ta.shape, tb.shape);
  return run(prim, [expand(ta, shape), expand(tb, shape)], {});
}

// ------------------------------------------------------------------ elementwise

/**
 * -x
 *
 * @example
 * console.log(tg.neg(tg.tensor([1, -2])).toArray()); // [-1, 2]
 */
export const neg = (x: Tensor): Tensor => unary("neg", x);
/**
 * e^x
 *
 * @example
 * console.log(tg.exp(tg.tensor([0])).toArray()); // [1]
 */
export const exp = (x: Tensor): Tensor => unary("exp", x);
/**
 * Natural logarithm (log 0 = -inf).
 *
 * @example
 * console.log(tg.log(tg.tensor([1, 0])).toArray()); // [0, -Infinity]
 */
export const log = (x: Tensor): Tensor => unary("log", x);
/**
 * Square root.
 *
 * @example
 * console.log(tg.sqrt(tg.tensor([4, 9])).toArray()); // [2, 3]
 */
export const sqrt = (x: Tensor): Tensor => unary("sqrt", x);
/**
 * 1 / √x.
 *
 * @example
 * console.log(tg.rsqrt(tg.tensor([4])).toArray()); // [0.5]
 */
export const rsqrt = (x: Tensor): Tensor => div(1, unary("sqrt", x));
/**
 * Hyperbolic tangent.
 *
 * @example
 * console.log(tg.tanh(tg.tensor([0])).toArray()); // [0]
 */
export const tanh = (x: Tensor): Tensor => unary("tanh", x);
/**
 * 1 / (1 + e^-x), computed without overflow for large |x|.
 *
 * @example
 * console.log(tg.sigmoid(tg.tensor([0, 1000, -1000])).toArray()); // [0.5, 1, 0]
 */
export const sigmoid = (x: Tensor): Tensor => unary("sigmoid", x);
/**
 * max(x, 0); the gradient at exactly 0 is 0, as in PyTorch.
 *
 * @example
 * console.log(tg.relu(tg.tensor([-1, 0, 2])).toArray()); // [0, 0, 2]
 */
export const relu = (x: Tensor): Tensor =>
  // Fused on backends that have it: the backward is then one pass instead of compare, cast, mul.
  fused("relu", [x], {}, ([v]) => [unary("relu", v!)])[0]!;

/**
 * Absolute value (gradient sign(x), 0 at 0).
 *
 * @example
 * console.log(tg.abs(tg.tensor([-3, 2])).toArray()); // [3, 2]
 */
export const abs = (x: Tensor): Tensor => unary("abs", x);
/**
 * Sine.
 *
 * @example
 * console.log(tg.sin(tg.tensor([0])).toArray()); // [0]
 */
export const sin = (x: Tensor): Tensor => unary("sin", x);
/**
 * Cosine.
 *
 * @example
 * console.log(tg.cos(tg.tensor([0])).toArray()); // [1]
 */
export const cos = (x: Tensor): Tensor => unary("cos", x);
/**
 * The Gauss error function (used by exact GELU).
 *
 * @example
 * console.log(tg.erf(tg.tensor([0, 10])).toArray()); // [0, 1]
 */
export const erf = (x: Tensor): Tensor => unary("erf", x);
/**
 * -1, 0 or 1 (no gradient).
 *
 * @example
 * console.log(tg.sign(tg.tensor([-2, 0, 3])).toArray()); // [-1, 0, 1]
 */
export function sign(x: Tensor): Tensor {
  return sub(cmp("gt", x, 0).to(x.dtype), cmp("lt", x, 0).to(x.dtype));
}

/**
 * Elementwise sum with broadcasting.
 *
 * @example
 * console.log(tg.add(tg.tensor([[1], [2]]), tg.tensor([10, 20])).toArray()); // [[11, 21], [12, 22]]
 */
export const add = (a: TensorLike, b: TensorLike): Tensor => binary("add", a, b);
/**
 * Elementwise difference with broadcasting.
 *
 * @example
 * console.log(tg.sub(tg.tensor([5, 7]), 2).toArray()); // [3, 5]
 */
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary("sub", a, b);
/**
 * Elementwise product with broadcasting.
 *
 * @example
 * console.log(tg.mul(tg.tensor([[1], [2]]), tg.tensor([3, 4])).toArray()); // [[3, 4], [6, 8]]
 */
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary("mul", a, b);
/**
 * True division (integer operands give float32).
 *
 * @example
 * console.log(tg.div(tg.tensor([1, 3], { dtype: "int32" }), 2).toArray()); // [0.5, 1.5]
 */
export const div = (a: TensorLike, b: TensorLike): Tensor => binary("div", a, b);
/**
 * Elementwise power with broadcasting. Every exponent follows IEEE 754's pow (C's), as torch.pow
 * with a tensor exponent does: pow(-inf, 0.5) = +inf and pow(-0, 0.5) = +0. torch 1.13 computes a
 * Python-number exponent of 0.5 or -0.5 as sqrt or rsqrt instead, so its `x ** 0.5` is NaN at -inf
 * and -0 at -0 (and `x ** -0.5` NaN and -inf there); tsgrad keeps one rule for both spellings.
 *
 * @example
 * console.log(tg.pow(tg.tensor([2, 3]), 2).toArray()); // [4, 9]
 * console.log(tg.pow(tg.tensor([-Infinity]), 0.5).toArray()); // [Infinity]
 */
export const pow = (a: TensorLike, b: TensorLike): Tensor => binary("pow", a, b);
/**
 * Elementwise maximum; where the two are equal each receives half the gradient (as PyTorch).
 *
 * @example
 * console.log(tg.maximum(tg.tensor([1, 5]), tg.tensor([3, 2])).toArray()); // [3, 5]
 */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary("maximum", a, b);
/**
 * Elementwise minimum, composed as -maximum(-a, -b).
 *
 * @example
 * console.log(tg.minimum(tg.tensor([1, 5]), 2).toArray()); // [1, 2]
 */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = operands("minimum", a, b);
  return neg(maximum(neg(ta), neg(tb)));
}

/** Elementwise comparison, giving a bool tensor. */
export function cmp(op: CmpOp, a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = operands("cmp", a, b);
  const shape = broadcastShapes(op, ta.shape, tb.shape);
  return run("cmp", [expand(ta, shape), expand(tb, shape)], { op });
}

/**
 * Pick from `a` where `cond` is true, else from `b` (all three broadcast).
 *
 * @example
 * const x = tg.tensor([-1, 2, -3]);
 * console.log(tg.where(x.gt(0), x, 0).toArray()); // [0, 2, 0]
 */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const c = cond.to("bool");
  const [ta, tb] = operands("where", a, b);
  const shape = broadcastShapes("where", broadcastShapes("where", c.shape, ta.shape), tb.shape);
  return run("where", [expand(c, shape), expand(ta, shape), expand(tb, shape)], {});
}

/**
 * Convert to `dtype` (always a copy).
 *
 * @example
 * console.log(tg.cast(tg.tensor([1.7, -1.7]), "int32").toArray()); // [1, -1]
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  return run("cast", [x], { dtype });
}

/**
 * `x` if it is already contiguous, else a contiguous copy.
 *
 * @example
 * const t = tg.arange(6).reshape([2, 3]).t();
 * console.log(t.isContiguous(), tg.contiguous(t).isContiguous()); // false true
 */
export function contiguous(x: Tensor): Tensor {
  return x.isContiguous() ? x : cast(x, x.dtype);
}

/**
 * Clamp into [min, max] (either bound may be omitted, not both — as torch.clamp). With min > max
 * every element is max. The gradient is PyTorch's: 1 where min ≤ x ≤ max (bounds included) and 0
 * elsewhere, NaN elements included.
 *
 * @example
 * console.log(tg.clamp(tg.tensor([-2, 0.5, 3]), 0, 1).toArray()); // [0, 0.5, 1]
 */
export function clamp(x: Tensor, min?: number, max?: number): Tensor {
  if (min === undefined && max === undefined) {
    throw new TsgradError("clamp", "at least one of min and max must be given");
  }
  // min first, then max: with min > max that leaves max everywhere, as torch.
  let v = x.detach();
  if (min !== undefined) v = where(cmp("lt", v, min), min, v);
  if (max !== undefined) v = where(cmp("gt", v, max), max, v);
  if (!x.requiresGrad || !isGradEnabled()) return v;
  // The gradient reaches x only through these selects, whose comparisons are false at NaN: a NaN
  // element gets 0, as torch's mask (x >= min) & (x <= max) gives it. Inside the range v equals x.
  let y = x;
  if (max !== undefined) y = where(cmp("le", x, max), y, v);
  if (min !== undefined) y = where(cmp("ge", x, min), y, v);
  return y;
}

// ------------------------------------------------------------------ reductions

/**
 * Sum over `dim` (all axes when omitted). An empty list `[]` reduces over no axis, as NumPy's
 * `axis=()` — deliberately not torch 1.13's legacy rule, which reduces over all of them for `[]`
 * and which PyTorch has marked for deprecation (pytorch/pytorch#29137): a computed list of axes
 * (sumTo's, a mean over the axes that happen to differ) must be able to be empty.
 *
 * @example
 * console.log(tg.tensor([[1, 2], [3, 4]]).sum(0).toArray()); // [4, 6]
 */
export function sum(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const xs = x.dtype === "bool" ? x.to("int32") : x;
  return run("sum", [xs], { axes: normAxes("sum", dim, x.ndim), keepdim });
}

/**
 * Arithmetic mean over `dim` (all axes when omitted; none for `[]`, as {@link sum}).
 *
 * @example
 * console.log(tg.mean(tg.tensor([[1, 2], [3, 4]]), 1).toArray()); // [1.5, 3.5]
 */
export function mean(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const axes = normAxes("mean", dim, x.ndim);
  const n = axes.reduce((p, a) => p * x.shape[a]!, 1);
  return div(sum(x.to(floatDtype(x.dtype)), axes, keepdim), n);
}

/**
 * Variance with Bessel's `correction` (1 = unbiased, as torch.var). Where the correction is not
 * smaller than the number n of reduced elements, the divisor is max(0, n − correction) = 0 and the
 * value +inf or NaN, as torch's; the gradient is torch's too, 2(x − mean)/(n − correction), which
 * is finite when the correction is larger than n. (When it equals n, both sides' gradients are
 * non-finite: ±inf in torch, NaN here, where the mean's share of them is inf − inf.)
 *
 * @example
 * console.log(tg.var(tg.tensor([1, 2, 3, 4])).item().toFixed(4)); // "1.6667"
 * console.log(tg.var(tg.tensor([1, 2]), 0, false, 3).item()); // Infinity
 */
export function variance(
  x: Tensor,
  dim?: number | readonly number[],
  keepdim = false,
  correction = 1,
): Tensor {
  const axes = normAxes("var", dim, x.ndim);
  const n = axes.reduce((p, a) => p * x.shape[a]!, 1);
  const xf = x.to(floatDtype(x.dtype));
  const d = sub(xf, mean(xf, axes, true));
  const ss = sum(mul(d, d), axes, keepdim);
  if (n - correction >= 0 || !ss.requiresGrad) return div(ss, Math.max(0, n - correction));
  // A negative n − correction: the value divides by 0, the gradient by n − correction. Adding
  // (s − s̄)/(n − c), exactly 0 where finite, attaches that gradient to the value s̄ / 0. Where s
  // overflowed to inf, inf − inf would be NaN, so that term is 0 there (the value is +inf anyway).
  const scaled = div(ss, n - correction);
  const fixed = scaled.detach();
  const grad = where(cmp("ne", abs(fixed), Infinity), sub(scaled, fixed), 0);
  return add(div(ss.detach(), 0), grad);
}

/**
 * Standard deviation, √variance. Where it is 0 (a constant slice) the gradient is 0, as in
 * PyTorch, not the 0·∞ = NaN that differentiating √ at 0 would give.
 *
 * @example
 * const x = tg.tensor([2, 2, 2], { requiresGrad: true });
 * tg.std(x).backward();
 * console.log(x.grad!.toArray()); // [0, 0, 0]
 */
export function std(
  x: Tensor,
  dim?: number | readonly number[],
  keepdim = false,
  correction = 1,
): Tensor {
  const v = variance(x, dim, keepdim, correction);
  const zero = cmp("eq", v, 0);
  // √ runs on 1 where v = 0, so its gradient there is finite and the outer select zeroes it.
  return where(zero, 0, sqrt(where(zero, 1, v)));
}

/**
 * Maximum over `dim` (all axes when omitted; none for `[]`, as {@link sum}); tied maxima share the
 * gradient equally, as torch.amax (a NaN maximum gives every element a NaN gradient there).
 *
 * @example
 * console.log(tg.amax(tg.tensor([[1, 5], [7, 2]]), 0).toArray()); // [7, 5]
 */
export function amax(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const axes = normAxes("amax", dim, x.ndim);
  for (const a of axes) {
    if (x.shape[a] === 0) {
      throw new TsgradError("amax", `cannot reduce over empty axis ${a} of ${fmtShape(x.shape)}`);
    }
  }
  return run("max", [x], { axes, keepdim });
}

/**
 * Minimum over `dim` (all axes when omitted; none for `[]`, as {@link sum}).
 *
 * @example
 * console.log(tg.amin(tg.tensor([[1, 5], [7, 2]]), 1).toArray()); // [1, 2]
 */
export function amin(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  return neg(amax(neg(x), dim, keepdim));
}

/**
 * Index of the first maximum along `dim`, or of the flattened tensor when `dim` is omitted (int32;
 * with `keepdim` it then keeps every axis as size 1, as torch.argmax).
 *
 * @example
 * console.log(tg.argmax(tg.tensor([[1, 5], [7, 2]]), 1).toArray()); // [1, 0]
 * console.log(tg.argmax(tg.tensor([[1, 5], [7, 2]]), undefined, true).toArray()); // [[2]]
 */
export function argmax(x: Tensor, dim?: number, keepdim = false): Tensor {
  if (dim === undefined) {
    if (x.size === 0) {
      throw new TsgradError("argmax", `an empty tensor ${fmtShape(x.shape)} has no maximum`);
    }
    const flat = run("argmax", [reshape(x, [-1])], { axis: 0, keepdim: false });
    return keepdim
      ? reshape(
          flat,
          x.shape.map(() => 1),
        )
      : flat;
  }
  const axis = normAxis("argmax", dim, x.ndim);
  // A scalar is its own maximum, at index 0 (PyTorch's answer for dim 0 or -1).
  if (x.ndim === 0) return scalar(0, "int32");
  if (x.shape[axis] === 0) {
    throw new TsgradError(
      "argmax",
      `cannot reduce over empty axis ${axis} of ${fmtShape(x.shape)}`,
    );
  }
  return run("argmax", [x], { axis, keepdim });
}

/**
 * Index of the first minimum along `dim` (of the flattened tensor when omitted).
 *
 * @example
 * console.log(tg.argmin(tg.tensor([3, 1, 2])).item()); // 1
 */
export function argmin(x: Tensor, dim?: number, keepdim = false): Tensor {
  return argmax(neg(x.dtype === "bool" ? x.to("int32") : x), dim, keepdim);
}

/**
 * The maximum (or minimum) along `dim` and the index it was taken from — the first where tied, a
 * NaN where there is one — as torch.max(x, dim) / torch.min(x, dim). The values are gathered at
 * those indices, so the gradient goes to the selected element alone (amax shares it among ties).
 *
 * @example
 * // Tensor.max(dim) and Tensor.min(dim) are this.
 * const { values, indices } = tg.tensor([[3, 3, 1]]).max(1);
 * console.log(values.toArray(), indices.toArray()); // [3] [0]
 */
export function extremeAlong(
  x: Tensor,
  dim: number,
  which: "max" | "min",
  keepdim = false,
): { values: Tensor; indices: Tensor } {
  const axis = normAxis(which, dim, x.ndim);
  if (x.ndim === 0) return { values: reshape(x, []), indices: scalar(0, "int32") };
  const indices = (which === "max" ? argmax : argmin)(x, axis, true);
  const values = gather(x, axis, indices);
  return keepdim
    ? { values, indices }
    : { values: squeeze(values, axis), indices: squeeze(indices, axis) };
}

/**
 * The maximum (or minimum) of all elements, as torch's `x.max()` / `x.min()`. The value is
 * amax's; the gradient is torch's: shared equally among the elements equal to the result — or,
 * when there is a NaN, among the NaN elements — and exactly 0 elsewhere, even under an infinite or
 * NaN upstream gradient (amax multiplies that by a 0/1 mask, as torch.amax does).
 *
 * @example
 * // Tensor.max() and Tensor.min() are this.
 * const x = tg.tensor([1, NaN, 3], { requiresGrad: true });
 * x.max().backward();
 * console.log(x.max().item(), x.grad!.toArray()); // NaN [0, 1, 0]
 */
export function extremeAll(x: Tensor, which: "max" | "min"): Tensor {
  if (which === "min") return neg(extremeAll(neg(x), "max"));
  const value = amax(x);
  if (!isFloating(x.dtype) || !x.requiresGrad || !isGradEnabled()) return value;
  const v = value.detach();
  // Where the maximum is a number: the max primitive over those elements alone (the others -inf),
  // so its 0/1 mask only ever multiplies the others, which the outer select then drops.
  const ties = cmp("eq", x, v);
  const numeric = run("max", [where(ties, x, -Infinity)], {
    axes: normAxes("max", undefined, x.ndim),
    keepdim: false,
  });
  // Where it is NaN: the mean of the NaN elements (NaN, with gradient g / count to each). The count
  // is at least 1 so that this unused branch keeps a finite gradient when there is no NaN.
  const nan = cmp("ne", x, x);
  const count = maximum(sum(nan.to(x.dtype)), 1);
  const nanMean = div(sum(where(nan, x, 0)), count);
  return where(cmp("ne", v, v), nanMean, numeric);
}

/**
 * The detached row maxima softmax-like ops shift by, or 0 when a reduced axis is empty: an empty
 * row has no maximum, and shifting nothing by 0 changes nothing.
 */
function rowShift(x: Tensor, axes: readonly number[]): Tensor {
  return axes.some((a) => x.shape[a] === 0) ? scalar(0, x.dtype) : amax(x, axes, true).detach();
}

/**
 * log(sum(exp(x))) over `dim`, stable for large inputs (and -inf for all -inf rows, or over an
 * empty axis, as torch).
 *
 * @example
 * console.log(tg.logsumexp(tg.tensor([[1000, 1000]]), 1).toArray()); // [1000.6931471805599]
 * console.log(tg.logsumexp(tg.zeros([2, 0]), 1).toArray()); // [-Infinity, -Infinity]
 */
export function logsumexp(x: Tensor, dim: number | readonly number[], keepdim = false): Tensor {
  const axes = normAxes("logsumexp", dim, x.ndim);
  // The shift m cancels out of the value and the gradient, so it is detached; rows whose max is
  // infinite are shifted by 0 instead so that -inf rows give -inf rather than NaN.
  const m0 = rowShift(x, axes);
  const m = where(cmp("eq", abs(m0), Infinity), 0, m0);
  const out = add(log(sum(exp(sub(x, m)), axes, true)), m);
  return keepdim ? out : squeeze(out, axes);
}

/**
 * Softmax along `dim`, shifted by the maximum so it never overflows (an empty axis gives an empty
 * result, as torch).
 *
 * @example
 * console.log(tg.tensor([1000, 1000]).softmax(0).toArray()); // [0.5, 0.5]
 */
export function softmax(x: Tensor, dim: number): Tensor {
  const xf = x.to(floatDtype(x.dtype));
  const axis = normAxis("softmax", dim, xf.ndim);
  // Nothing to normalise, and no row maximum to shift by; the kernels need not see this case.
  if (xf.ndim > 0 && xf.shape[axis] === 0) return div(exp(xf), sum(exp(xf), axis, true));
  return fused("softmax", [xf], { axis }, ([t], p) => {
    const e = exp(sub(t!, amax(t!, p.axis, true).detach()));
    return [div(e, sum(e, p.axis, true))];
  })[0]!;
}

/**
 * log(softmax(x)) computed as x - logsumexp(x), which stays finite where softmax underflows.
 *
 * @example
 * console.log(tg.logSoftmax(tg.tensor([0, 0]), 0).toArray()); // [-0.6931471824645996, -0.6931471824645996]
 */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  const xf = x.to(floatDtype(x.dtype));
  const axis = normAxis("logSoftmax", dim, xf.ndim);
  // As softmax: an empty axis has no maximum to shift by.
  if (xf.ndim > 0 && xf.shape[axis] === 0) return sub(xf, log(sum(exp(xf), axis, true)));
  return fused("logSoftmax", [xf], { axis }, ([t], p) => {
    // (x - m) - log Σ exp(x - m), m the row's maximum, as PyTorch computes it: a row holding +inf
    // (or only -inf) is NaN throughout, as its softmax is, rather than -inf beside a NaN.
    const s = sub(t!, amax(t!, p.axis, true).detach());
    return [sub(s, log(sum(exp(s), p.axis, true)))];
  })[0]!;
}

// ------------------------------------------------------------------ movement

/**
 * Reshape (a view when the layout allows, else a copy). One entry may be -1.
 *
 * @example
 * console.log(tg.reshape(tg.arange(6), [2, -1]).shape); // [2, 3]
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const s = inferShape("reshape", shape, x.size, x.shape);
  if (sameShape(s, x.shape)) return x;
  return run("reshape", [x], { shape: s });
}

/** Like reshape, but only as a view: throws when the layout would need a copy. */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  const y = reshape(x, shape);
  if (y !== x && y.data !== x.data) {
    throw new TsgradError(
      "view",
      `a tensor of shape ${fmtShape(x.shape)} with strides ${fmtShape(x.strides)} cannot be viewed as ${fmtShape(shape)}; use reshape`,
    );
  }
  return y;
}

/**
 * Merge axes startDim..endDim into one.
 *
 * @example
 * console.log(tg.flatten(tg.zeros([2, 3, 4]), 1).shape); // [2, 12]
 */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normAxis("flatten", startDim, x.ndim);
  const e = normAxis("flatten", endDim, x.ndim);
  if (s > e) throw new TsgradError("flatten", `startDim ${startDim} comes after endDim ${endDim}`);
  return reshape(x, [
    ...x.shape.slice(0, s),
    numel(x.shape.slice(s, e + 1)),
    ...x.shape.slice(e + 1),
  ]);
}

/**
 * Reorder the axes (a view).
 *
 * @example
 * console.log(tg.permute(tg.zeros([2, 3, 4]), [2, 0, 1]).shape); // [4, 2, 3]
 */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.ndim) {
    throw new TsgradError(
      "permute",
      `got ${dims.length} dims [${dims.join(",")}] for a tensor of rank ${x.ndim}`,
    );
  }
  const perm = dims.map((d) => normAxis("permute", d, x.ndim));
  if (new Set(perm).size !== perm.length) {
    throw new TsgradError("permute", `[${dims.join(",")}] is not a permutation`);
  }
  if (perm.every((p, i) => p === i)) return x;
  return run("permute", [x], { perm });
}

/**
 * Swap two axes (a view). A 0-d tensor accepts 0 and -1 for itself, as torch, and is returned.
 *
 * @example
 * console.log(tg.transpose(tg.tensor([[1, 2]]), 0, 1).toArray()); // [[1], [2]]
 */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = normAxis("transpose", dim0, x.ndim);
  const b = normAxis("transpose", dim1, x.ndim);
  if (x.ndim === 0) return x;
  const perm = x.shape.map((_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

/**
 * Broadcast to `shape` (a view; -1 keeps a dimension).
 *
 * @example
 * console.log(tg.expand(tg.tensor([[1], [2]]), [2, 3]).toArray()); // [[1, 1, 1], [2, 2, 2]]
 */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  if (shape.length < x.ndim) {
    throw new TsgradError(
      "expand",
      `cannot expand ${fmtShape(x.shape)} to fewer dimensions ${fmtShape(shape)}`,
    );
  }
  const lead = shape.length - x.ndim;
  const target = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead]! : d));
  if (sameShape(target, x.shape)) return x;
  return run("expand", [x], { shape: target });
}

/**
 * Remove size-1 axes (all of them, or the ones listed).
 *
 * @example
 * console.log(tg.squeeze(tg.zeros([1, 3, 1])).shape); // [3]
 */
export function squeeze(x: Tensor, dim?: number | readonly number[]): Tensor {
  const axes =
    dim === undefined
      ? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))
      : normAxes("squeeze", dim, x.ndim);
  return reshape(
    x,
    x.shape.filter((d, i) => !(axes.includes(i) && d === 1)),
  );
}

/**
 * Insert a size-1 axis at `dim`.
 *
 * @example
 * console.log(tg.unsqueeze(tg.zeros([3]), 0).shape); // [1, 3]
 */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normAxis("unsqueeze", dim, x.ndim + 1);
  return reshape(x, [...x.shape.slice(0, d), 1, ...x.shape.slice(d)]);
}

/**
 * Elements [start, start+length) along `dim` (a view).
 *
 * @example
 * console.log(tg.narrow(tg.arange(6), 0, 2, 3).toArray()); // [2, 3, 4]
 */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normAxis("narrow", dim, x.ndim);
  const n = x.shape[d]!;
  const s = start < 0 ? start + n : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > n) {
    throw new TsgradError(
      "narrow",
      `range start ${start} length ${length} is outside axis ${d} of size ${n}`,
    );
  }
  if (s === 0 && length === n) return x;
  const starts = x.shape.map(() => 0);
  const ends = [...x.shape];
  starts[d] = s;
  ends[d] = s + length;
  return run("slice", [x], { starts, ends });
}

/**
 * Split along `dim` into pieces of `splitSize` (the last may be smaller) or of the listed sizes (views).
 *
 * @example
 * console.log(tg.split(tg.arange(5), [2, 3]).map((t) => t.toArray())); // [[0, 1], [2, 3, 4]]
 */
export function split(x: Tensor, splitSize: number | readonly number[], dim = 0): Tensor[] {
  const d = normAxis("split", dim, x.ndim);
  const n = x.shape[d]!;
  let sizes: number[];
  if (typeof splitSize === "number") {
    if (!(splitSize > 0)) {
      throw new TsgradError("split", `split size must be positive, got ${splitSize}`);
    }
    // An empty axis still gives one (empty) piece, as torch.split does.
    sizes = n === 0 ? [0] : [];
    for (let s = 0; s < n; s += splitSize) sizes.push(Math.min(splitSize, n - s));
  } else {
    sizes = [...splitSize];
    if (sizes.reduce((a, b) => a + b, 0) !== n) {
      throw new TsgradError(
        "split",
        `sizes [${sizes.join(",")}] do not add up to ${n} along axis ${d}`,
      );
    }
  }
  let start = 0;
  return sizes.map((len) => {
    const piece = narrow(x, d, start, len);
    start += len;
    return piece;
  });
}

/**
 * Split into `chunks` nearly equal pieces along `dim`.
 *
 * @example
 * console.log(tg.chunk(tg.arange(6), 3).map((t) => t.size)); // [2, 2, 2]
 */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks < 1) {
    throw new TsgradError("chunk", `chunks must be a positive integer, got ${chunks}`);
  }
  const d = normAxis("chunk", dim, x.ndim);
  const n = x.shape[d]!;
  // An empty axis gives `chunks` empty pieces, as torch.chunk does.
  if (n === 0) return Array.from({ length: chunks }, () => narrow(x, d, 0, 0));
  return split(x, Math.ceil(n / chunks), d);
}

/**
 * Constant padding with (before, after) pairs listed from the last axis backwards (torch.nn.functional.pad).
 *
 * @example
 * console.log(tg.pad(tg.tensor([1, 2]), [1, 2]).toArray()); // [0, 1, 2, 0, 0]
 */
export function pad(x: Tensor, padding: readonly number[], value = 0): Tensor {
  if (padding.length % 2 !== 0 || padding.length / 2 > x.ndim) {
    throw new TsgradError(
      "pad",
      `padding [${padding.join(",")}] must hold (before, after) pairs for at most ${x.ndim} axes`,
    );
  }
  if (padding.some((p) => !Number.isInteger(p) || p < 0)) {
    throw new TsgradError(
      "pad",
      `padding must be non-negative integers, got [${padding.join(",")}]`,
    );
  }
  const pads: [number, number][] = x.shape.map(() => [0, 0]);
  for (let i = 0; i < padding.length / 2; i++) {
    pads[x.ndim - 1 - i] = [padding[2 * i]!, padding[2 * i + 1]!];
  }
  if (pads.every(([a, b]) => a === 0 && b === 0)) return x;
  return run("pad", [x], { pads, value });
}

/**
 * Concatenate along `dim` (like torch.cat).
 *
 * @example
 * console.log(tg.cat([tg.tensor([1]), tg.tensor([2, 3])]).toArray()); // [1, 2, 3]
 */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new TsgradError("cat", "expected at least one tensor");
  const dt = tensors.map((t) => t.dtype).reduce(promoteTypes);
  const ts = tensors.map((t) => t.to(dt));
  if (ts.length === 1) return ts[0]!;
  return run("concat", ts, { axis: normAxis("cat", dim, ts[0]!.ndim) });
}

/**
 * Stack equally shaped tensors along a new axis `dim`.
 *
 * @example
 * console.log(tg.stack([tg.tensor([1, 2]), tg.tensor([3, 4])]).toArray()); // [[1, 2], [3, 4]]
 */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new TsgradError("stack", "expected at least one tensor");
  const d = normAxis("stack", dim, tensors[0]!.ndim + 1);
  for (const t of tensors) {
    if (!sameShape(t.shape, tensors[0]!.shape)) {
      throw new TsgradError(
        "stack",
        `all tensors must have one shape, got ${fmtShape(tensors[0]!.shape)} and ${fmtShape(t.shape)}`,
      );
    }
  }
  return cat(
    tensors.map((t) => unsqueeze(t, d)),
    d,
  );
}

/**
 * Reverse along `dims` (a gather with reversed indices, so it has a gradient).
 *
 * @example
 * console.log(tg.flip(tg.tensor([[1, 2], [3, 4]]), 1).toArray()); // [[2, 1], [4, 3]]
 */
export function flip(x: Tensor, dims: number | readonly number[]): Tensor {
  let y = x;
  for (const d of normAxes("flip", dims, x.ndim)) {
    const n = x.shape[d]!;
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = n - 1 - i;
    y = indexSelect(y, d, new Tensor(idx, "int32", [n]));
  }
  return y;
}

/**
 * torch.Tensor.repeat: tile the tensor `repeats[i]` times along axis i (leading new axes allowed).
 * The result is contiguous, as torch's copy is, so it can always be `view`ed.
 *
 * @example
 * console.log(tg.repeat(tg.tensor([1, 2]), [2]).toArray()); // [1, 2, 1, 2]
 */
export function repeat(x: Tensor, repeats: readonly number[]): Tensor {
  if (repeats.length < x.ndim) {
    throw new TsgradError(
      "repeat",
      `need at least ${x.ndim} repeat counts, got [${repeats.join(",")}]`,
    );
  }
  const shape = [...Array<number>(repeats.length - x.ndim).fill(1), ...x.shape];
  const inter = shape.flatMap((d) => [1, d]);
  const target = shape.flatMap((d, i) => [repeats[i]!, d]);
  // Repeating size-1 axes alone reshapes the broadcast without a copy: a stride-0 view.
  return contiguous(
    reshape(
      expand(reshape(x, inter), target),
      shape.map((d, i) => d * repeats[i]!),
    ),
  );
}

// ------------------------------------------------------------------ indexing

function checkIndex(op: string, index: Tensor): void {
  if (index.dtype !== "int32") throw new TsgradError(op, `index must be int32, got ${index.dtype}`);
}

/**
 * torch.gather along `dim`: the output has the index's shape.
 *
 * @example
 * const x = tg.tensor([[10, 20, 30], [40, 50, 60]]);
 * console.log(tg.gather(x, 1, tg.tensor([[2], [0]], { dtype: "int32" })).toArray()); // [[30], [40]]
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  checkIndex("gather", index);
  return run("gather", [x, index], { axis: normAxis("gather", dim, x.ndim) });
}

/**
 * zeros(shape) with `src` summed in at `index` along `dim` (the transpose of gather).
 *
 * @example
 * const idx = tg.tensor([0, 2, 0], { dtype: "int32" });
 * console.log(tg.scatterAdd(tg.tensor([1, 2, 3]), 0, idx, [3]).toArray()); // [4, 0, 2]
 */
export function scatterAdd(
  src: Tensor,
  dim: number,
  index: Tensor,
  shape: readonly number[],
): Tensor {
  checkIndex("scatterAdd", index);
  return run("scatterAdd", [src, index], {
    axis: normAxis("scatterAdd", dim, shape.length),
    shape: [...shape],
  });
}

/**
 * Whole slices along `dim` at 1-D int32 `index` (embedding lookup is indexSelect on axis 0).
 *
 * @example
 * const w = tg.tensor([[0, 0], [1, 1], [2, 2]]);
 * console.log(tg.indexSelect(w, 0, tg.tensor([2, 0], { dtype: "int32" })).toArray()); // [[2, 2], [0, 0]]
 */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  checkIndex("indexSelect", index);
  if (index.ndim !== 1) {
    throw new TsgradError("indexSelect", `index must be 1-D, got shape ${fmtShape(index.shape)}`);
  }
  const d = normAxis("indexSelect", dim, x.ndim);
  const k = index.shape[0]!;
  const idxShape = x.shape.map((_, i) => (i === d ? k : 1));
  const outShape = x.shape.map((s, i) => (i === d ? k : s));
  return gather(x, d, expand(reshape(index, idxShape), outShape));
}

// ------------------------------------------------------------------ linear algebra

/**
 * Matrix product with NumPy semantics: 1-D operands are promoted to matrices and the extra axis
 * removed afterwards; leading batch axes broadcast.
 *
 * @example
 * const a = tg.tensor([[1, 2], [3, 4]]);
 * console.log(a.matmul(tg.tensor([1, 1])).toArray()); // [3, 7]
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) {
    throw new TsgradError(
      "matmul",
      `both operands need at least 1 dimension, got ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`,
    );
  }
  // No promotion, as in PyTorch: a float32 × int32 product is almost always a mistake (ids that
  // should have gone through an embedding), so it is an error rather than a silent cast.
  if (!isFloating(a.dtype) || a.dtype !== b.dtype) {
    throw new TsgradError(
      "matmul",
      `expected floating tensors of one dtype, got ${a.dtype} @ ${b.dtype}`,
    );
  }
  const a2 = a.ndim === 1 ? unsqueeze(a, 0) : a;
  const b2 = b.ndim === 1 ? unsqueeze(b, 1) : b;
  const k = a2.shape[a2.ndim - 1]!;
  if (b2.shape[b2.ndim - 2] !== k) {
    throw new TsgradError(
      "matmul",
      `inner dimensions differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`,
    );
  }
  const n = b2.shape[b2.ndim - 1]!;
  if (b2.ndim === 2 && a2.ndim > 2) {
    // [..., m, k] @ [k, n] is one [(... m), k] @ [k, n] product. As a batch over a broadcast b it
    // would be slower, and b's gradient would be one k×n block per batch element, summed after.
    const lead = a2.shape.slice(0, -1);
    const rows = lead.reduce((x, y) => x * y, 1);
    const flat = run("matmul", [reshape(a2, [rows, k]), b2], {});
    return reshape(flat, b.ndim === 1 ? lead : [...lead, n]);
  }
  const batch = broadcastShapes("matmul", a2.shape.slice(0, -2), b2.shape.slice(0, -2));
  const m = a2.shape[a2.ndim - 2]!;
  let out = run("matmul", [expand(a2, [...batch, m, k]), expand(b2, [...batch, k, n])], {});
  if (a.ndim === 1) out = squeeze(out, out.ndim - 2);
  if (b.ndim === 1) out = squeeze(out, out.ndim - 1);
  return out;
}

/**
 * Sum `g` down to `shape` (the transpose of broadcasting).
 *
 * @example
 * console.log(tg.sumTo(tg.ones([2, 3]), [1, 3]).toArray()); // [[2, 2, 2]]
 */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return reshape(sum(g, axes, true), shape);
}

// ------------------------------------------------------------------ log1p / expm1

/**
 * log(1 + x), accurate where x is tiny (log(1 + 1e-10) loses every digit in float32; this does
 * not). Integer inputs give float32, as torch.log1p.
 *
 * @example
 * console.log(tg.log1p(tg.tensor([0, 1e-10], { dtype: "float64" })).toArray()); // [0, 1e-10]
 */
export const log1p = (x: Tensor): Tensor => run("log1p", [x.to(floatDtype(x.dtype))], {});

/**
 * e^x - 1, accurate where x is tiny. Integer inputs give float32, as torch.expm1.
 *
 * @example
 * console.log(tg.expm1(tg.tensor([0, 1e-10], { dtype: "float64" })).toArray()); // [0, 1.00000000005e-10]
 */
export const expm1 = (x: Tensor): Tensor => run("expm1", [x.to(floatDtype(x.dtype))], {});
