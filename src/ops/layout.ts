/**
 * Triangular masks and rolls (torch.tril / triu / roll): selections and concatenations of views,
 * so their gradients come from `where`, `slice` and `concat`.
 */
import { TsgradError, fmtShape } from "../tensor/errors.js";
import { normAxis } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { cat, narrow, reshape, where } from "./ops.js";

function triangle(op: "tril" | "triu", x: Tensor, diagonal: number): Tensor {
  if (x.ndim < 2) {
    throw new TsgradError(op, `expected at least 2 dimensions, got ${fmtShape(x.shape)}`);
  }
  if (!Number.isInteger(diagonal)) {
    throw new TsgradError(op, `diagonal must be an integer, got ${diagonal}`);
  }
  const rows = x.shape[x.ndim - 2]!;
  const cols = x.shape[x.ndim - 1]!;
  const keep = new Uint8Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      keep[i * cols + j] = (op === "tril" ? j - i <= diagonal : j - i >= diagonal) ? 1 : 0;
    }
  }
  return where(new Tensor(keep, "bool", [rows, cols]), x, 0);
}

/**
 * The lower triangle of the last two axes: elements with column - row <= `diagonal` are kept,
 * the rest set to 0 (a batch of matrices is masked alike).
 *
 * @example
 * console.log(tg.tril(tg.ones([3, 3])).toArray()); // [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
 */
export const tril = (x: Tensor, diagonal = 0): Tensor => triangle("tril", x, diagonal);

/**
 * The upper triangle of the last two axes: elements with column - row >= `diagonal` are kept.
 *
 * @example
 * console.log(tg.triu(tg.ones([2, 3]), 1).toArray()); // [[0, 1, 1], [0, 0, 1]]
 */
export const triu = (x: Tensor, diagonal = 0): Tensor => triangle("triu", x, diagonal);

/**
 * Shift elements cyclically by `shifts` along `dims`, as torch.roll. Without `dims` the tensor
 * is rolled as if flattened, then restored to its shape.
 *
 * @example
 * const x = tg.tensor([[0, 1, 2], [3, 4, 5]]);
 * console.log(tg.roll(x, 1).toArray(), tg.roll(x, -1, 1).toArray()); // [[5, 0, 1], [2, 3, 4]] [[1, 2, 0], [4, 5, 3]]
 */
export function roll(
  x: Tensor,
  shifts: number | readonly number[],
  dims?: number | readonly number[],
): Tensor {
  const s = typeof shifts === "number" ? [shifts] : [...shifts];
  if (s.some((v) => !Number.isInteger(v))) {
    throw new TsgradError("roll", `shifts must be integers, got [${s.join(",")}]`);
  }
  if (dims === undefined) {
    if (s.length !== 1) {
      throw new TsgradError(
        "roll",
        `without dims, shifts must be one number, got [${s.join(",")}]`,
      );
    }
    return reshape(roll(reshape(x, [-1]), s[0]!, 0), x.shape);
  }
  const d = typeof dims === "number" ? [dims] : [...dims];
  if (d.length !== s.length) {
    throw new TsgradError(
      "roll",
      `shifts [${s.join(",")}] and dims [${d.join(",")}] must have the same length`,
    );
  }
  let y = x;
  d.forEach((dim, i) => {
    const axis = normAxis("roll", dim, x.ndim);
    if (x.ndim === 0) return;
    const n = x.shape[axis]!;
    if (n === 0) return;
    const k = ((s[i]! % n) + n) % n;
    if (k === 0) return;
    y = cat([narrow(y, axis, n - k, k), narrow(y, axis, 0, n - k)], axis);
  });
  return y;
}
