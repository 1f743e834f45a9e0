/**
 * The statistics of the weak-to-strong experiment: performance gap recovered (PGR) with its
 * degenerate cases, the test-set noise of an accuracy gap, and Student-t intervals over seeds.
 *
 * PGR = (student − weak) / (ceiling − weak). It is only meaningful when the ceiling beats the weak
 * model by more than test-set noise: otherwise the denominator is noise and the ratio an artefact
 * (a 0.1-point gap turns a 0.3-point student gain into PGR 3). Such cases come back as
 * `{ defined: false, reason }`, never as a number.
 */
import { TsgradError } from "../tensor/errors.js";

// ------------------------------------------------------------------ Student t

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; about 15 significant digits). */
function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0]!;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the regularised incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  );
  // The continued fraction converges fast for x < (a+1)/(a+b+2); use the symmetry otherwise.
  return x < (a + 1) / (a + b + 2)
    ? (front * betaContinuedFraction(a, b, x)) / a
    : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/**
 * P(T ≤ t) for Student's t distribution with `df` degrees of freedom.
 *
 * @example
 * console.log(tg.w2s.studentTCdf(0, 3), tg.w2s.studentTCdf(12.7062047, 1).toFixed(6)); // 0.5 "0.975000"
 */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new TsgradError("studentTCdf", `df must be positive, got ${df}`);
  if (Number.isNaN(t)) throw new TsgradError("studentTCdf", "t is NaN");
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/**
 * The `p` quantile of Student's t distribution with `df` degrees of freedom (bisection on the
 * CDF to 1e-12), e.g. the 0.975 quantile for a two-sided 95% interval.
 *
 * @example
 * console.log(tg.w2s.studentTQuantile(0.975, 2).toFixed(4), tg.w2s.studentTQuantile(0.975, 30).toFixed(4)); // "4.3027" "2.0423"
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new TsgradError("studentTQuantile", `p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new TsgradError("studentTQuantile", `df must be positive, got ${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** A mean with its two-sided Student-t interval over independent replicates (seeds). */
export interface MeanInterval {
  mean: number;
  /** Number of values. */
  n: number;
  /** Sample standard deviation (n − 1 denominator); null for a single value. */
  sd: number | null;
  /** Interval bounds; null for a single value (no spread to estimate). */
  low: number | null;
  high: number | null;
  level: number;
}

/**
 * Mean ± Student-t interval: mean ± t_{(1+level)/2, n−1} · sd / √n. With one value there is no
 * interval (`low`/`high` null).
 *
 * @example
 * const m = tg.w2s.meanInterval([0.8, 0.82, 0.84]);
 * console.log(m.mean.toFixed(2), m.sd!.toFixed(2), (m.high! - m.mean).toFixed(4)); // "0.82" "0.02" "0.0497"
 */
export function meanInterval(values: readonly number[], level = 0.95): MeanInterval {
  const op = "meanInterval";
  if (values.length === 0) throw new TsgradError(op, "needs at least one value");
  if (!(level > 0 && level < 1)) throw new TsgradError(op, `level must be in (0, 1), got ${level}`);
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) throw new TsgradError(op, `value ${i} is ${v}`);
  });
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, n, sd: null, low: null, high: null, level };
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  const half = (studentTQuantile((1 + level) / 2, n - 1) * sd) / Math.sqrt(n);
  return { mean, n, sd, low: mean - half, high: mean + half, level };
}

// ------------------------------------------------------------------ noise of an accuracy gap

/**
 * Standard error of the accuracy difference of two classifiers scored on the same test examples
 * (paired): with d_i = [B right] − [A right], SE = sd(d) / √n. Pairing matters: the two models
 * agree on most examples, so their errors are strongly correlated and the unpaired formula
 * would overstate the noise several-fold.
 *
 * @example
 * const truth = [0, 1, 1, 0, 1, 0, 1, 1];
 * const a = [0, 0, 1, 1, 1, 0, 0, 1]; // 5 of 8 right
 * const b = [0, 1, 1, 0, 1, 0, 0, 1]; // 7 of 8 right, agrees with a except where a is wrong
 * console.log(tg.w2s.pairedGapStandardError(a, b, truth).toFixed(4)); // "0.1637"
 */
export function pairedGapStandardError(
  predA: ArrayLike<number>,
  predB: ArrayLike<number>,
  truth: ArrayLike<number>,
): number {
  const n = truth.length;
  if (predA.length !== n || predB.length !== n) {
    throw new TsgradError(
      "pairedGapStandardError",
      `predictions have ${predA.length} and ${predB.length} entries for ${n} labels`,
    );
  }
  if (n < 2) throw new TsgradError("pairedGapStandardError", `needs at least 2 examples, got ${n}`);
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const d = (predB[i] === truth[i] ? 1 : 0) - (predA[i] === truth[i] ? 1 : 0);
    sum += d;
    sq += d * d;
  }
  const mean = sum / n;
  return Math.sqrt(Math.max(0, (sq - n * mean * mean) / (n - 1)) / n);
}

// ------------------------------------------------------------------ PGR

/** Test accuracies of one weak → strong comparison (one seed, or means over seeds). */
export interface PgrInputs {
  weak: number;
  student: number;
  ceiling: number;
  /**
   * Standard error of `ceiling − weak` (test-set noise for one seed, see
   * `pairedGapStandardError`; the standard error of the mean gap for means over seeds). Without
   * it only the sign of the gap is checked.
   */
  gapSe?: number;
  /** Critical value the gap must exceed in units of `gapSe` (default 1.96: two-sided 95%). */
  critical?: number;
}

/** Why a PGR is undefined. */
export type PgrUndefinedKind = "ceiling-not-above-weak" | "gap-within-noise";

/** A PGR, or the reason there is none. */
export type PgrResult =
  | { defined: true; value: number; gap: number }
  | { defined: false; kind: PgrUndefinedKind; reason: string; gap: number };

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/**
 * Performance gap recovered, (student − weak) / (ceiling − weak), or why it is undefined: the
 * ceiling does not beat the weak model (gap ≤ 0), or the gap is within test noise
 * (gap ≤ critical · gapSe). Values outside [0, 1] are legitimate (a student worse than its
 * teacher, or better than the ceiling) and are not clipped.
 *
 * @example
 * console.log(tg.w2s.performanceGapRecovered({ weak: 0.8, student: 0.85, ceiling: 0.9 }).value.toFixed(2)); // "0.50"
 * const d = tg.w2s.performanceGapRecovered({ weak: 0.8, student: 0.85, ceiling: 0.801, gapSe: 0.004 });
 * console.log(d.defined, d.kind); // false "gap-within-noise"
 */
export function performanceGapRecovered(x: PgrInputs): PgrResult {
  const op = "performanceGapRecovered";
  for (const k of ["weak", "student", "ceiling"] as const) {
    const v = x[k];
    if (!(Number.isFinite(v) && v >= 0 && v <= 1)) {
      throw new TsgradError(op, `${k} accuracy must be in [0, 1], got ${v}`);
    }
  }
  if (x.gapSe !== undefined && !(Number.isFinite(x.gapSe) && x.gapSe >= 0)) {
    throw new TsgradError(op, `gapSe must be a non-negative number, got ${x.gapSe}`);
  }
  const critical = x.critical ?? 1.96;
  if (!(critical >= 0)) throw new TsgradError(op, `critical must be >= 0, got ${critical}`);
  const gap = x.ceiling - x.weak;
  if (gap <= 0) {
    return {
      defined: false,
      kind: "ceiling-not-above-weak",
      reason: `the ceiling (${pct(x.ceiling)}) does not beat the weak model (${pct(x.weak)})`,
      gap,
    };
  }
  if (x.gapSe !== undefined && gap <= critical * x.gapSe) {
    return {
      defined: false,
      kind: "gap-within-noise",
      reason: `ceiling − weak = ${pct(gap)} is within noise (≤ ${critical.toFixed(2)} × SE ${pct(x.gapSe)})`,
      gap,
    };
  }
  return { defined: true, value: (x.student - x.weak) / gap, gap };
}

/** One seed's accuracies and the test noise of its ceiling − weak gap. */
export interface SeedAccuracies {
  seed: number;
  weak: number;
  student: number;
  ceiling: number;
  /** Paired standard error of ceiling − weak on the test set. */
  gapSe?: number;
}

/** PGR and accuracies of one weak → strong pair (one loss variant) over seeds. */
export interface PgrSummary {
  seeds: number;
  /** Seeds whose PGR is defined. */
  definedSeeds: number;
  perSeed: (PgrResult & { seed: number })[];
  /**
   * Mean of the defined per-seed PGRs with a t-interval over them; null when the aggregate is
   * undefined (see `undefinedReason`).
   */
  pgr: MeanInterval | null;
  /** Why the aggregate is undefined, or null. */
  undefinedReason: string | null;
  /**
   * PGR of the mean accuracies, (mean student − mean weak) / (mean ceiling − mean weak): less
   * sensitive to a seed with a small gap than the mean of ratios. Defined when the mean gap
   * exceeds 1.96 standard errors of its test noise, √(Σ SE²) / n.
   */
  pooled: PgrResult;
  weak: MeanInterval;
  student: MeanInterval;
  ceiling: MeanInterval;
  level: number;
}

/**
 * Aggregate PGR over seeds. Each seed's PGR follows `performanceGapRecovered` with its own test
 * noise. Undefined seeds are excluded from the mean (their count is kept); when fewer than half
 * the seeds are defined the aggregate is undefined, since a mean over the few seeds where the
 * ceiling happened to clear the noise would be biased towards large gaps.
 *
 * @example
 * const s = tg.w2s.summarizePgr([
 *   { seed: 0, weak: 0.80, student: 0.86, ceiling: 0.90 },
 *   { seed: 1, weak: 0.81, student: 0.85, ceiling: 0.89 },
 *   { seed: 2, weak: 0.80, student: 0.80, ceiling: 0.80 },
 * ]);
 * console.log(s.definedSeeds, s.pgr!.mean.toFixed(2), s.perSeed[2].defined); // 2 "0.55" false
 */
export function summarizePgr(seeds: readonly SeedAccuracies[], level = 0.95): PgrSummary {
  const op = "summarizePgr";
  if (seeds.length === 0) throw new TsgradError(op, "needs at least one seed");
  const critical = studentTQuantile((1 + level) / 2, 1e9);
  const perSeed = seeds.map((s) => ({
    seed: s.seed,
    ...performanceGapRecovered({ ...s, critical }),
  }));
  const defined = perSeed.flatMap((p) => (p.defined ? [p.value] : []));
  let pgr: MeanInterval | null = null;
  let undefinedReason: string | null = null;
  if (defined.length === 0) {
    const reasons = [...new Set(perSeed.map((p) => (p.defined ? "" : p.kind)))].join(", ");
    undefinedReason = `no seed has a defined PGR (${reasons})`;
  } else if (2 * defined.length < seeds.length) {
    undefinedReason = `the ceiling beat the weak model beyond noise in only ${defined.length} of ${seeds.length} seeds`;
  } else pgr = meanInterval(defined, level);

  const weak = meanInterval(
    seeds.map((s) => s.weak),
    level,
  );
  const student = meanInterval(
    seeds.map((s) => s.student),
    level,
  );
  const ceiling = meanInterval(
    seeds.map((s) => s.ceiling),
    level,
  );
  // Test noise of the mean gap: the seeds' test-set errors are independent draws, so their
  // variances add. (Seed-to-seed spread is what the interval on the PGR itself reflects.)
  const ses = seeds.map((s) => s.gapSe);
  const gapSe = ses.every((v) => v !== undefined)
    ? Math.sqrt(ses.reduce((a, v) => a + v * v, 0)) / seeds.length
    : undefined;
  const pooled = performanceGapRecovered({
    weak: weak.mean,
    student: student.mean,
    ceiling: ceiling.mean,
    ...(gapSe !== undefined ? { gapSe } : {}),
    critical,
  });
  return {
    seeds: seeds.length,
    definedSeeds: defined.length,
    perSeed,
    pgr,
    undefinedReason,
    pooled,
    weak,
    student,
    ceiling,
    level,
  };
}
