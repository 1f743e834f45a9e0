/**
 * The functional, JAX-shaped forms of differentiation: `grad(f)` and `valueAndGrad(f)` return
 * functions computing the gradient of a scalar-valued `f` with respect to its first argument (a
 * tensor or a record of tensors). They leave `.grad` fields untouched and nest:
 * `grad(grad(f))` is the second derivative.
 */
import { gradients, isGradEnabled, record } from "./autograd.js";
import { isFloating } from "./dtype.js";
import { TsgradError, fmtShape } from "./errors.js";
import { Tensor } from "./tensor.js";

export type Differentiable = Tensor | Readonly<Record<string, Tensor>>;

function leaves(x: Differentiable): [Map<string, Tensor>, Differentiable, boolean] {
  const entries = x instanceof Tensor ? [["", x] as const] : Object.entries(x);
  const map = new Map<string, Tensor>();
  let outer = false;
  for (const [k, t] of entries) {
    if (!(t instanceof Tensor)) {
      throw new TsgradError("grad", `argument ${k || "x"} is not a tensor`);
    }
    if (!isFloating(t.dtype)) {
      throw new TsgradError(
        "grad",
        `cannot differentiate with respect to ${t.dtype} tensor ${k || "x"}`,
      );
    }
    let leaf: Tensor;
    if (t.requiresGrad && isGradEnabled()) {
      // Inside an outer differentiation: an identity view keeps this input connected to the
      // outer tape, while the inner gradient stops here.
      leaf = new Tensor(t.data, t.dtype, t.shape, t.strides, t.offset);
      record("alias", [t], [leaf], ([g]) => [g ?? null]);
      outer = true;
    } else {
      leaf = t.detach().requiresGrad_();
    }
    map.set(k, leaf);
  }
  const arg: Differentiable = x instanceof Tensor ? map.get("")! : Object.fromEntries(map);
  return [map, arg, outer];
}

/**
 * `valueAndGrad(f)(x, ...rest)` returns `[f(x, ...rest), df/dx]`, with df/dx shaped like x.
 *
 * @example
 * const f = (p: Record<string, tg.Tensor>) => p.w.mul(p.b).sum();
 * const [value, g] = tg.valueAndGrad(f)({ w: tg.tensor([1, 2]), b: tg.tensor([3, 4]) });
 * console.log(value.item(), g.w.toArray(), g.b.toArray()); // 11 [3, 4] [1, 2]
 */
export function valueAndGrad<A extends Differentiable, R extends unknown[]>(
  f: (x: A, ...rest: R) => Tensor,
): (x: A, ...rest: R) => [Tensor, A] {
  return (x, ...rest) => {
    const [map, arg, outer] = leaves(x);
    const value = f(arg as A, ...rest);
    if (!(value instanceof Tensor) || value.size !== 1) {
      throw new TsgradError(
        "grad",
        `the function must return a one-element tensor, got ${value instanceof Tensor ? fmtShape(value.shape) : typeof value}`,
      );
    }
    const stop = new Set(map.values());
    const found = value.requiresGrad
      ? gradients(value, undefined, { createGraph: outer }, stop)
      : new Map<Tensor, Tensor>();
    const gradOf = (leaf: Tensor) => found.get(leaf) ?? leaf.zerosLike();
    const g =
      x instanceof Tensor
        ? gradOf(map.get("")!)
        : Object.fromEntries([...map].map(([k, leaf]) => [k, gradOf(leaf)]));
    return [outer ? value : value.detach(), g as A];
  };
}

/**
 * `grad(f)(x, ...rest)` is the gradient of scalar `f` with respect to `x` (a tensor or a record of
 * tensors), shaped like `x`.
 *
 * @example
 * const df = tg.grad((x: tg.Tensor) => x.pow(3).sum());
 * console.log(df(tg.tensor([1, 2])).toArray()); // [3, 12]
 * const d2f = tg.grad((x: tg.Tensor) => df(x).sum());
 * console.log(d2f(tg.tensor([1, 2])).toArray()); // [6, 12]
 */
export function grad<A extends Differentiable, R extends unknown[]>(
  f: (x: A, ...rest: R) => Tensor,
): (x: A, ...rest: R) => A {
  const vg = valueAndGrad(f);
  return (x, ...rest) => vg(x, ...rest)[1];
}
