import { expect } from "vitest";
import type { Tensor } from "../../src/index.js";
import { describeWorst, worstElement } from "./close.js";

/** Assert two tensors (or arrays) have one shape and elementwise |a − b| ≤ atol + rtol·|b|. */
export function expectClose(
  actual: Tensor | ArrayLike<number>,
  expected: Tensor | ArrayLike<number>,
  opts: { atol?: number; rtol?: number; label?: string } = {},
): void {
  const { atol = 1e-6, rtol = 1e-5, label = "" } = opts;
  const flat = (x: Tensor | ArrayLike<number>): ArrayLike<number> =>
    "dataSync" in x ? x.dataSync() : x;
  if ("shape" in actual && "shape" in expected) {
    expect(actual.shape, `${label} shape`).toEqual(expected.shape);
  }
  const a = flat(actual);
  const b = flat(expected);
  expect(a.length, `${label} length`).toBe(b.length);
  const worst = worstElement(a, b, atol, rtol);
  if (worst !== null) expect.fail(describeWorst(label, worst, atol, rtol));
}
