import { describe, expect, it } from "vitest";
import { TsgradError } from "../../src/index.js";
import * as w2s from "../../src/w2s/index.js";

describe("tg.w2s.studentTQuantile", () => {
  it("matches the 97.5% quantiles of the t table", () => {
    // Standard two-sided 95% critical values (e.g. NIST/SEMATECH t table).
    const table: [number, number][] = [
      [1, 12.706],
      [2, 4.303],
      [3, 3.182],
      [4, 2.776],
      [9, 2.262],
      [30, 2.042],
    ];
    for (const [df, t] of table) expect(w2s.studentTQuantile(0.975, df)).toBeCloseTo(t, 3);
    expect(w2s.studentTQuantile(0.975, 1e9)).toBeCloseTo(1.95996, 4);
  });

  it("is the inverse of the CDF and symmetric", () => {
    for (const df of [1, 2.5, 7]) {
      for (const p of [0.6, 0.9, 0.99]) {
        const t = w2s.studentTQuantile(p, df);
        expect(w2s.studentTCdf(t, df)).toBeCloseTo(p, 9);
        expect(w2s.studentTQuantile(1 - p, df)).toBeCloseTo(-t, 9);
      }
    }
  });

  it("rejects impossible probabilities and degrees of freedom", () => {
    expect(() => w2s.studentTQuantile(1, 3)).toThrow(TsgradError);
    expect(() => w2s.studentTQuantile(0.9, 0)).toThrow(/df must be positive/);
  });
});

describe("tg.w2s.meanInterval", () => {
  it("gives mean ± t·sd/√n", () => {
    const m = w2s.meanInterval([1, 2, 3, 4]);
    const sd = Math.sqrt(5 / 3);
    expect(m.mean).toBe(2.5);
    expect(m.sd).toBeCloseTo(sd, 12);
    expect(m.high! - m.mean).toBeCloseTo((3.182446305 * sd) / 2, 6);
    expect(m.mean - m.low!).toBeCloseTo(m.high! - m.mean, 12);
  });

  it("has no interval for one value and rejects non-finite values", () => {
    const m = w2s.meanInterval([0.7]);
    expect([m.mean, m.sd, m.low, m.high]).toEqual([0.7, null, null, null]);
    expect(() => w2s.meanInterval([])).toThrow(TsgradError);
    expect(() => w2s.meanInterval([1, NaN])).toThrow(/value 1 is NaN/);
  });
});

describe("tg.w2s.pairedGapStandardError", () => {
  it("is the standard error of the per-example correctness difference", () => {
    // 10 examples: B right and A wrong on 3, A right and B wrong on 1, otherwise equal.
    const truth = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const a = [1, 1, 1, 0, 0, 0, 0, 0, 1, 1];
    const b = [0, 0, 0, 1, 0, 0, 0, 0, 1, 1];
    // d = [1, 1, 1, -1, 0, …]: mean 0.2, sample variance (4 − 10·0.04)/9 = 0.4
    expect(w2s.pairedGapStandardError(a, b, truth)).toBeCloseTo(Math.sqrt(0.4 / 10), 12);
    expect(w2s.pairedGapStandardError(a, a, truth)).toBe(0);
  });

  it("rejects mismatched lengths", () => {
    expect(() => w2s.pairedGapStandardError([0, 1], [0], [0, 1])).toThrow(/2 and 1 entries/);
  });
});

describe("tg.w2s.performanceGapRecovered", () => {
  it("is (student − weak) / (ceiling − weak), unclipped outside [0, 1]", () => {
    const r = w2s.performanceGapRecovered({ weak: 0.6, student: 0.7, ceiling: 0.85 });
    expect(r.defined && r.value).toBeCloseTo(0.4, 12);
    const worse = w2s.performanceGapRecovered({ weak: 0.6, student: 0.55, ceiling: 0.7 });
    expect(worse.defined && worse.value).toBeCloseTo(-0.5, 12);
    const better = w2s.performanceGapRecovered({ weak: 0.6, student: 0.75, ceiling: 0.7 });
    expect(better.defined && better.value).toBeCloseTo(1.5, 12);
  });

  it("is undefined, with the reason, when the ceiling does not beat the weak model", () => {
    for (const ceiling of [0.8, 0.79]) {
      const r = w2s.performanceGapRecovered({ weak: 0.8, student: 0.81, ceiling });
      expect(r.defined).toBe(false);
      expect(!r.defined && r.kind).toBe("ceiling-not-above-weak");
      expect(!r.defined && r.reason).toMatch(/does not beat the weak model/);
      expect("value" in r).toBe(false);
    }
  });

  it("is undefined when the gap is within critical × SE, and defined just beyond", () => {
    const within = w2s.performanceGapRecovered({
      weak: 0.8,
      student: 0.81,
      ceiling: 0.82,
      gapSe: 0.0103,
    });
    expect(!within.defined && within.kind).toBe("gap-within-noise");
    const beyond = w2s.performanceGapRecovered({
      weak: 0.8,
      student: 0.81,
      ceiling: 0.82,
      gapSe: 0.0101,
    });
    expect(beyond.defined && beyond.value).toBeCloseTo(0.5, 9);
    const strict = w2s.performanceGapRecovered({
      weak: 0.8,
      student: 0.81,
      ceiling: 0.82,
      gapSe: 0.004,
      critical: 6,
    });
    expect(strict.defined).toBe(false);
  });

  it("rejects accuracies outside [0, 1] and bad SEs", () => {
    expect(() => w2s.performanceGapRecovered({ weak: 80, student: 0.8, ceiling: 0.9 })).toThrow(
      /weak accuracy/,
    );
    expect(() => w2s.performanceGapRecovered({ weak: 0.8, student: NaN, ceiling: 0.9 })).toThrow(
      /student/,
    );
    expect(() =>
      w2s.performanceGapRecovered({ weak: 0.8, student: 0.8, ceiling: 0.9, gapSe: -1 }),
    ).toThrow(/gapSe/);
  });
});

describe("tg.w2s.summarizePgr", () => {
  const seed = (s: number, weak: number, student: number, ceiling: number, gapSe = 0.005) => ({
    seed: s,
    weak,
    student,
    ceiling,
    gapSe,
  });

  it("averages per-seed PGRs with a t-interval and keeps the accuracies' intervals", () => {
    const s = w2s.summarizePgr([
      seed(0, 0.8, 0.86, 0.9),
      seed(1, 0.8, 0.84, 0.9),
      seed(2, 0.78, 0.85, 0.88),
    ]);
    const per = [0.6, 0.4, 0.7];
    expect(s.definedSeeds).toBe(3);
    s.perSeed.forEach((p, i) => expect(p.defined && p.value).toBeCloseTo(per[i]!, 12));
    const ref = w2s.meanInterval(per);
    expect(s.pgr!.mean).toBeCloseTo(ref.mean, 12);
    expect(s.pgr!.low).toBeCloseTo(ref.low!, 12);
    expect(s.weak.mean).toBeCloseTo(0.79333333, 6);
    expect(s.undefinedReason).toBeNull();
    // Pooled: PGR of the means, (0.85 − 0.79333) / (0.89333 − 0.79333).
    expect(s.pooled.defined && s.pooled.value).toBeCloseTo(0.5666667, 6);
  });

  it("excludes undefined seeds from the mean and counts them", () => {
    const s = w2s.summarizePgr([
      seed(0, 0.8, 0.86, 0.9),
      seed(1, 0.8, 0.84, 0.9),
      seed(2, 0.8, 0.9, 0.801),
    ]);
    expect(s.definedSeeds).toBe(2);
    expect(s.perSeed[2]!.defined).toBe(false);
    expect(s.pgr!.mean).toBeCloseTo(0.5, 12);
    expect(s.pgr!.n).toBe(2);
  });

  it("is undefined when fewer than half the seeds are defined, or none", () => {
    const few = w2s.summarizePgr([
      seed(0, 0.8, 0.86, 0.9),
      seed(1, 0.8, 0.84, 0.8),
      seed(2, 0.8, 0.9, 0.79),
    ]);
    expect(few.pgr).toBeNull();
    expect(few.undefinedReason).toMatch(/only 1 of 3 seeds/);
    const none = w2s.summarizePgr([seed(0, 0.8, 0.86, 0.8), seed(1, 0.8, 0.84, 0.805)]);
    expect(none.pgr).toBeNull();
    expect(none.undefinedReason).toMatch(
      /no seed has a defined PGR \(ceiling-not-above-weak, gap-within-noise\)/,
    );
    expect(none.pooled.defined).toBe(false);
  });

  it("gives a single defined seed its value without an interval", () => {
    const s = w2s.summarizePgr([seed(0, 0.8, 0.85, 0.9)]);
    expect(s.pgr!.mean).toBeCloseTo(0.5, 12);
    expect(s.pgr!.low).toBeNull();
  });
});
