/**
 * The tests' closeness criterion, |a − b| ≤ atol + rtol·|b| elementwise with NaN matching NaN,
 * without vitest: `expectClose` (allclose.ts) asserts with it under vitest, and the backend
 * conformance checks (conformance.ts) report with it, also from a browser page where there is no
 * test runner.
 */
import type { Tensor } from "../../src/index.js";

/** The worst element outside the tolerance, or null when every element is close. */
export interface WorstElement {
  index: number;
  actual: number;
  expected: number;
  err: number;
}

/** The element of `a` farthest from `b` beyond atol + rtol·|b|; null when none is. */
export function worstElement(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  atol: number,
  rtol: number,
): WorstElement | null {
  let worst: WorstElement | null = null;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (x === y) continue;
    const err = Math.abs(x - y);
    // Written as a negated ≤ so that a NaN on one side only counts as a mismatch.
    if (!(err <= atol + rtol * Math.abs(y)) && (worst === null || err > worst.err)) {
      worst = { index: i, actual: x, expected: y, err };
    }
  }
  return worst;
}

/** How `expectClose` and `closeMismatch` describe the worst element. */
export function describeWorst(label: string, w: WorstElement, atol: number, rtol: number): string {
  return `${label} element ${w.index}: ${w.actual} vs ${w.expected} (|diff| ${w.err.toExponential(3)} > atol ${atol} + rtol ${rtol})`;
}

function flat(x: Tensor | ArrayLike<number>): ArrayLike<number> {
  return "dataSync" in x ? x.dataSync() : x;
}

/**
 * Why `actual` is not close to `expected` — a different shape (tensors), a different length, or
 * the worst element — or null when it is.
 */
export function closeMismatch(
  actual: Tensor | ArrayLike<number>,
  expected: Tensor | ArrayLike<number>,
  opts: { atol?: number; rtol?: number; label?: string } = {},
): string | null {
  const { atol = 1e-6, rtol = 1e-5, label = "" } = opts;
  if ("shape" in actual && "shape" in expected) {
    const [s, t] = [actual.shape.join(","), expected.shape.join(",")];
    if (s !== t) return `${label} shape: [${s}] vs [${t}]`;
  }
  const a = flat(actual);
  const b = flat(expected);
  if (a.length !== b.length) return `${label} length: ${a.length} vs ${b.length}`;
  const w = worstElement(a, b, atol, rtol);
  return w === null ? null : describeWorst(label, w, atol, rtol);
}
