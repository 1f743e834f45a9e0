/** Shape arithmetic shared by the tensor front end, the rule table and the kernels. */
import { TsgradError, fmtShape } from "./errors.js";

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C order) strides for `shape`. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** True when a view with these strides walks memory in row-major order with no gaps. */
export function isContiguous(shape: Shape, strides: Shape): boolean {
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    if (d !== 1 && strides[i] !== s) return false;
    s *= d;
  }
  return true;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** NumPy broadcasting of two shapes; throws naming `op` when they are incompatible. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new TsgradError(op, `shapes ${fmtShape(a)} and ${fmtShape(b)} are not broadcastable`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Resolve a possibly negative axis against `ndim`; throws naming `op` when out of range. */
export function normAxis(op: string, axis: number, ndim: number): number {
  if (!Number.isInteger(axis) || axis < -Math.max(ndim, 1) || axis >= Math.max(ndim, 1)) {
    throw new TsgradError(op, `axis ${axis} is out of range for a tensor of rank ${ndim}`);
  }
  return axis < 0 ? axis + Math.max(ndim, 1) : axis;
}

/** Resolve a list of axes (default: all), sorted and without duplicates. */
export function normAxes(op: string, axes: number | readonly number[] | undefined, ndim: number) {
  if (axes === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof axes === "number" ? [axes] : axes;
  const out = list.map((a) => normAxis(op, a, ndim));
  if (new Set(out).size !== out.length) {
    throw new TsgradError(op, `repeated axis in [${list.join(",")}]`);
  }
  // A scalar has no axes, but accepts 0 and -1 for the tensor itself (as PyTorch does): reducing
  // over them reduces nothing.
  if (ndim === 0) return [];
  return out.sort((x, y) => x - y);
}

/** Resolve a shape that may contain one -1 for a tensor of `size` elements. */
export function inferShape(op: string, shape: Shape, size: number, from: Shape): number[] {
  const free = shape.indexOf(-1);
  if (shape.some((d, i) => !Number.isInteger(d) || d < -1 || (d === -1 && i !== free))) {
    throw new TsgradError(op, `invalid shape ${fmtShape(shape)}`);
  }
  const out = [...shape];
  if (free >= 0) {
    const rest = numel(shape.filter((_, i) => i !== free));
    if (rest === 0 || size % rest !== 0) {
      throw new TsgradError(op, `cannot reshape ${fmtShape(from)} into ${fmtShape(shape)}`);
    }
    out[free] = size / rest;
  }
  if (numel(out) !== size) {
    throw new TsgradError(
      op,
      `cannot reshape ${fmtShape(from)} (${size} elements) into ${fmtShape(shape)}`,
    );
  }
  return out;
}
