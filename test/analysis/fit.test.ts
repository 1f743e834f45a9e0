import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

const A = tg.analysis;

describe("tg.analysis.fitPowerLaw", () => {
  it("recovers E, A and α from exact data across four decades", () => {
    const xs = [1e4, 3e4, 1e5, 3e5, 1e6, 3e6, 1e7];
    const fit = A.fitPowerLaw(
      xs,
      xs.map((x) => 1.2 + 25 * x ** -0.28),
    );
    expect(fit.alpha).toBeCloseTo(0.28, 4);
    expect(fit.E).toBeCloseTo(1.2, 4);
    expect(fit.A).toBeCloseTo(25, 1);
    expect(fit.r2).toBeGreaterThan(0.999999);
  });

  it("handles a pure power law (E = 0) and noisy points", () => {
    const g = new tg.Generator(4);
    const xs = Array.from({ length: 12 }, (_, i) => 1e3 * 2 ** i);
    const pure = A.fitPowerLaw(
      xs,
      xs.map((x) => 8 * x ** -0.1),
    );
    expect(pure.alpha).toBeCloseTo(0.1, 3);
    expect(pure.E).toBeLessThan(0.05);
    const noisy = A.fitPowerLaw(
      xs,
      xs.map((x) => (2 + 30 * x ** -0.35) * (1 + 0.005 * g.normal())),
    );
    expect(Math.abs(noisy.alpha - 0.35)).toBeLessThan(0.1);
    // Extrapolating one doubling beyond the data stays within 1%.
    const next = 1e3 * 2 ** 12;
    expect(Math.abs(noisy.predict(next) / (2 + 30 * next ** -0.35) - 1)).toBeLessThan(0.01);
  });

  it("rejects too few or non-positive points", () => {
    expect(() => A.fitPowerLaw([1, 2], [1, 2])).toThrow(/fitPowerLaw: need at least 3/);
    expect(() => A.fitPowerLaw([1, 2, -3], [1, 2, 3])).toThrow(/must be positive/);
  });
});

describe("tg.analysis.fitChinchilla", () => {
  it("recovers both exponents from a grid of (N, D)", () => {
    const pts: [number, number][] = [];
    for (const n of [1e5, 3e5, 1e6, 3e6, 1e7]) for (const d of [1e6, 1e7, 1e8]) pts.push([n, d]);
    const L = pts.map(([n, d]) => 1.69 + 406 * n ** -0.34 + 411 * d ** -0.28);
    const fit = A.fitChinchilla(
      pts.map((p) => p[0]),
      pts.map((p) => p[1]),
      L,
    );
    expect(fit.alpha).toBeCloseTo(0.34, 2);
    expect(fit.beta).toBeCloseTo(0.28, 2);
    expect(fit.E).toBeCloseTo(1.69, 2);
  });
});

describe("tg.analysis.bootstrap", () => {
  it("gives an interval that covers the true exponent under noise and narrows with more data", () => {
    const g = new tg.Generator(9);
    const make = (n: number) => {
      const xs = Array.from({ length: n }, (_, i) => 1e4 * 1.6 ** i);
      return [xs, xs.map((x) => (1 + 20 * x ** -0.3) * (1 + 0.01 * g.normal()))] as const;
    };
    const width = (n: number) => {
      const [xs, ys] = make(n);
      const ci = A.bootstrap(
        n,
        (idx) =>
          A.fitPowerLaw(
            idx.map((i) => xs[i]!),
            idx.map((i) => ys[i]!),
          ).alpha,
        { samples: 300, seed: 2 },
      );
      expect(ci.low).toBeLessThan(0.3);
      expect(ci.high).toBeGreaterThan(0.3);
      return ci.high - ci.low;
    };
    expect(width(24)).toBeLessThan(width(8));
  });
});
