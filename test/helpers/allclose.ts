import { expect } from "vitest";
import type { Tensor } from "../../src/index.js";

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
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (x === y) continue;
    const err = Math.abs(x - y);
    if (!(err <= atol + rtol * Math.abs(y)) && (worst < 0 || err > worstErr)) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) {
    expect.fail(
      `${label} element ${worst}: ${a[worst]} vs ${b[worst]} (|diff| ${worstErr.toExponential(3)} > atol ${atol} + rtol ${rtol})`,
    );
  }
}
