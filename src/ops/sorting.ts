/**
 * Sorting: torch.sort / argsort / topk. One primitive, `argsort` (stable, NaN as the largest
 * value), gives the permutation; the values are a gather at it, so they carry the gradient back to
 * the elements they came from.
 */
import { TsgradError } from "../tensor/errors.js";
import { normAxis } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import { run } from "./dispatch.js";
import { gather, narrow, reshape } from "./ops.js";

/** The sort axis; a 0-d tensor is sorted as shape [1] (dim 0 or -1), as PyTorch. */
function lines(op: string, x: Tensor, dim: number): { x1: Tensor; axis: number } {
  const axis = normAxis(op, dim, x.ndim);
  return { x1: x.ndim === 0 ? reshape(x, [1]) : x, axis };
}

function restore(t: Tensor, like: Tensor): Tensor {
  return like.ndim === 0 ? reshape(t, []) : t;
}

/**
 * The indices that sort `x` along `dim` (int32). The sort is stable — equal values keep their
 * order, also when `descending` — and NaN counts as the largest value, as torch.sort(stable=True).
 *
 * @example
 * console.log(tg.argsort(tg.tensor([3, 1, NaN, 1])).toArray()); // [1, 3, 0, 2]
 */
export function argsort(x: Tensor, dim = -1, descending = false): Tensor {
  const { x1, axis } = lines("argsort", x, dim);
  return restore(run("argsort", [x1], { axis, descending }), x);
}

/**
 * Sort along `dim`: `{ values, indices }` as torch.sort (stable; NaN sorts as the largest value).
 * The gradient of `values` goes back to the element each value came from.
 *
 * @example
 * const { values, indices } = tg.sort(tg.tensor([[2, 9, 1]]), -1, true);
 * console.log(values.toArray(), indices.toArray()); // [[9, 2, 1]] [[1, 0, 2]]
 */
export function sort(x: Tensor, dim = -1, descending = false): { values: Tensor; indices: Tensor } {
  const { x1, axis } = lines("sort", x, dim);
  const idx = run("argsort", [x1], { axis, descending });
  return { values: restore(gather(x1, axis, idx), x), indices: restore(idx, x) };
}

/**
 * The `k` largest (or, with `largest = false`, smallest) elements along `dim` and their indices,
 * in sorted order, as torch.topk; NaN counts as the largest value. Among equal values the earlier
 * index is taken first (PyTorch leaves that choice unspecified); `sorted = false` is accepted and
 * still returns them sorted. A 0-d tensor gives itself for k = 0 or 1, as in torch.
 *
 * @example
 * const { values, indices } = tg.topk(tg.tensor([1, 5, 3, 4]), 2);
 * console.log(values.toArray(), indices.toArray()); // [5, 4] [1, 3]
 */
export function topk(
  x: Tensor,
  k: number,
  dim = -1,
  largest = true,
  sorted = true,
): { values: Tensor; indices: Tensor } {
  void sorted;
  const { x1, axis } = lines("topk", x, dim);
  const n = x1.shape[axis]!;
  if (!Number.isInteger(k) || k < 0 || k > n) {
    throw new TsgradError("topk", `k = ${k} is out of range for axis ${axis} of size ${n}`);
  }
  // A 0-d result always holds its one element, so k = 0 of a 0-d tensor returns it (torch does).
  const take = x.shape.length === 0 ? 1 : k;
  const idx = narrow(run("argsort", [x1], { axis, descending: largest }), axis, 0, take);
  return { values: restore(gather(x1, axis, idx), x), indices: restore(idx, x) };
}
