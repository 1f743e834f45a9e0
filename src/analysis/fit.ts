/**
 * Nonlinear least squares (Levenberg–Marquardt) and the scaling-law fits built on it:
 * L(N) = E + A·N^(−α) (Kaplan et al. 2020, with an irreducible term) and the Chinchilla form
 * L(N, D) = E + A·N^(−α) + B·D^(−β) (Hoffmann et al. 2022), with bootstrap confidence intervals.
 * Small and dependency-free: the problems have 3–5 parameters and tens of points.
 */
import { TsgradError } from "../tensor/errors.js";
import { Generator } from "../tensor/random.js";

export interface LeastSquaresResult {
  params: number[];
  sse: number;
  iterations: number;
}

/** Solve the small dense system A x = b (Gaussian elimination with partial pivoting). */
function solve(A: number[][], b: number[]): number[] | null {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    if (Math.abs(M[p]![c]!) < 1e-300) return null;
    [M[c], M[p]] = [M[p]!, M[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = M[r]![c]! / M[c]![c]!;
      for (let k = c; k <= n; k++) M[r]![k]! -= f * M[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= M[r]![k]! * x[k]!;
    x[r] = s / M[r]![r]!;
  }
  return x;
}

/**
 * Minimise Σ residuals(θ)² from `init` by Levenberg–Marquardt with a forward-difference Jacobian.
 *
 * @example
 * // Fit y = a·x + b to three points on y = 2x + 1.
 * const r = tg.analysis.leastSquares((p) => [1, 2, 3].map((x, i) => p[0]! * x + p[1]! - [3, 5, 7][i]!), [0, 0]);
 * console.log(r.params.map((v) => Math.round(v * 1e6) / 1e6)); // [2, 1]
 */
export function leastSquares(
  residuals: (theta: readonly number[]) => number[],
  init: readonly number[],
  opts: { maxIter?: number; tol?: number } = {},
): LeastSquaresResult {
  const { maxIter = 500, tol = 1e-12 } = opts;
  let theta = [...init];
  let r = residuals(theta);
  let sse = r.reduce((s, v) => s + v * v, 0);
  if (!Number.isFinite(sse)) {
    throw new TsgradError("leastSquares", "the residuals are not finite at the initial point");
  }
  let lambda = 1e-3;
  let it = 0;
  for (; it < maxIter; it++) {
    // Jacobian J[i][j] = d r_i / d θ_j
    const J = r.map(() => new Array<number>(theta.length).fill(0));
    theta.forEach((t, j) => {
      const h = 1e-7 * Math.max(1, Math.abs(t));
      const tp = [...theta];
      tp[j] = t + h;
      const rp = residuals(tp);
      rp.forEach((v, i) => (J[i]![j] = (v - r[i]!) / h));
    });
    const JtJ = theta.map((_, a) =>
      theta.map((_, b) => J.reduce((s, row) => s + row[a]! * row[b]!, 0)),
    );
    const Jtr = theta.map((_, a) => J.reduce((s, row, i) => s + row[a]! * r[i]!, 0));
    let improved = false;
    while (lambda < 1e12) {
      const A = JtJ.map((row, a) => row.map((v, b) => (a === b ? v * (1 + lambda) + 1e-12 : v)));
      const step = solve(
        A,
        Jtr.map((v) => -v),
      );
      if (step) {
        const cand = theta.map((t, j) => t + step[j]!);
        const rc = residuals(cand);
        const sc = rc.reduce((s, v) => s + v * v, 0);
        if (Number.isFinite(sc) && sc < sse) {
          const rel = (sse - sc) / Math.max(sse, 1e-300);
          theta = cand;
          r = rc;
          sse = sc;
          lambda = Math.max(lambda / 10, 1e-12);
          improved = true;
          if (rel < tol) return { params: theta, sse, iterations: it + 1 };
          break;
        }
      }
      lambda *= 10;
    }
    if (!improved) break;
  }
  return { params: theta, sse, iterations: it };
}

export interface PowerLawFit {
  /** L(x) = E + A·x^(−α) */
  E: number;
  A: number;
  alpha: number;
  r2: number;
  predict: (x: number) => number;
}

function r2Of(ys: readonly number[], pred: readonly number[]): number {
  const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
  const sst = ys.reduce((s, y) => s + (y - mean) ** 2, 0);
  const sse = ys.reduce((s, y, i) => s + (y - pred[i]!) ** 2, 0);
  return sst > 0 ? 1 - sse / sst : 1;
}

/**
 * Fit L(x) = E + A·x^(−α) with E ≥ 0, A > 0, α > 0. Starts from a grid over E (for each, a
 * straight-line fit of log(L − E) against log x), then refines with Levenberg–Marquardt.
 *
 * @example
 * const xs = [1e4, 3e4, 1e5, 3e5, 1e6];
 * const fit = tg.analysis.fitPowerLaw(xs, xs.map((x) => 1.5 + 40 * x ** -0.3));
 * console.log(fit.alpha.toFixed(3), fit.E.toFixed(3)); // "0.300" "1.500"
 */
export function fitPowerLaw(xs: readonly number[], ys: readonly number[]): PowerLawFit {
  if (xs.length !== ys.length || xs.length < 3) {
    throw new TsgradError(
      "fitPowerLaw",
      `need at least 3 (x, L) points, got ${xs.length} and ${ys.length}`,
    );
  }
  if (xs.some((x) => !(x > 0)) || ys.some((y) => !(y > 0))) {
    throw new TsgradError("fitPowerLaw", "x and L must be positive");
  }
  const lx = xs.map(Math.log);
  const minY = Math.min(...ys);
  let best: { sse: number; p: number[] } = { sse: Infinity, p: [0, Math.log(minY), 0.1] };
  for (let k = 0; k < 40; k++) {
    const E = (minY * k) / 40;
    const ly = ys.map((y) => Math.log(y - E));
    const n = xs.length;
    const mx = lx.reduce((a, b) => a + b, 0) / n;
    const my = ly.reduce((a, b) => a + b, 0) / n;
    const slope =
      lx.reduce((s, x, i) => s + (x - mx) * (ly[i]! - my), 0) /
      lx.reduce((s, x) => s + (x - mx) ** 2, 0);
    const alpha = Math.max(1e-4, -slope);
    const logA = my + alpha * mx;
    const sse = ys.reduce((s, y, i) => s + (y - E - Math.exp(logA - alpha * lx[i]!)) ** 2, 0);
    if (sse < best.sse) best = { sse, p: [E, logA, alpha] };
  }
  // Parametrise E = e², A = exp(logA), α = a² so the constraints hold without bounds.
  const model = (p: readonly number[], i: number) =>
    p[0]! * p[0]! + Math.exp(p[1]! - p[2]! * p[2]! * lx[i]!);
  const init = [Math.sqrt(best.p[0]!), best.p[1]!, Math.sqrt(best.p[2]!)];
  const res = leastSquares((p) => ys.map((y, i) => model(p, i) - y), init);
  const [e, logA, a] = res.params as [number, number, number];
  const E = e * e;
  const A = Math.exp(logA);
  const alpha = a * a;
  const predict = (x: number) => E + A * Math.pow(x, -alpha);
  return { E, A, alpha, r2: r2Of(ys, xs.map(predict)), predict };
}

export interface ChinchillaFit {
  /** L(N, D) = E + A·N^(−α) + B·D^(−β) */
  E: number;
  A: number;
  alpha: number;
  B: number;
  beta: number;
  r2: number;
  predict: (n: number, d: number) => number;
}

/**
 * Fit the Chinchilla form L(N, D) = E + A·N^(−α) + B·D^(−β) (all terms non-negative) from several
 * starting points, keeping the best.
 *
 * @example
 * const pts = [[1e5, 1e6], [1e5, 1e7], [1e6, 1e6], [1e6, 1e7], [1e7, 1e7], [1e6, 1e8], [3e5, 3e6]];
 * const L = pts.map(([n, d]) => 1.7 + 400 * n! ** -0.34 + 410 * d! ** -0.28);
 * const fit = tg.analysis.fitChinchilla(pts.map((p) => p[0]!), pts.map((p) => p[1]!), L);
 * console.log(fit.r2 > 0.999); // true
 */
export function fitChinchilla(
  ns: readonly number[],
  ds: readonly number[],
  ys: readonly number[],
): ChinchillaFit {
  if (ns.length !== ds.length || ns.length !== ys.length || ns.length < 5) {
    throw new TsgradError(
      "fitChinchilla",
      `need at least 5 (N, D, L) points, got ${ns.length}, ${ds.length}, ${ys.length}`,
    );
  }
  const ln = ns.map(Math.log);
  const ld = ds.map(Math.log);
  const model = (p: readonly number[], i: number) =>
    p[0]! * p[0]! +
    Math.exp(p[1]! - p[2]! * p[2]! * ln[i]!) +
    Math.exp(p[3]! - p[4]! * p[4]! * ld[i]!);
  let best: LeastSquaresResult | null = null;
  const minY = Math.min(...ys);
  for (const e0 of [0.2, 0.5, 0.8]) {
    for (const a0 of [0.2, 0.35, 0.5]) {
      for (const b0 of [0.2, 0.35, 0.5]) {
        const E = e0 * minY;
        // Split the reducible loss evenly between the two terms at the geometric-mean point.
        const gn = Math.exp(ln.reduce((s, v) => s + v, 0) / ln.length);
        const gd = Math.exp(ld.reduce((s, v) => s + v, 0) / ld.length);
        const half = Math.max(1e-3, (ys.reduce((s, v) => s + v, 0) / ys.length - E) / 2);
        const init = [
          Math.sqrt(E),
          Math.log(half * gn ** a0),
          Math.sqrt(a0),
          Math.log(half * gd ** b0),
          Math.sqrt(b0),
        ];
        try {
          const r = leastSquares((p) => ys.map((y, i) => model(p, i) - y), init);
          if (!best || r.sse < best.sse) best = r;
        } catch {
          // a start whose residuals are not finite: try the next
        }
      }
    }
  }
  if (!best) throw new TsgradError("fitChinchilla", "no starting point gave a finite fit");
  const [e, lA, a, lB, b] = best.params as [number, number, number, number, number];
  const fit = { E: e * e, A: Math.exp(lA), alpha: a * a, B: Math.exp(lB), beta: b * b };
  const predict = (n: number, d: number) =>
    fit.E + fit.A * n ** -fit.alpha + fit.B * d ** -fit.beta;
  return {
    ...fit,
    r2: r2Of(
      ys,
      ns.map((n, i) => predict(n, ds[i]!)),
    ),
    predict,
  };
}

export interface Interval {
  low: number;
  high: number;
}

/**
 * Percentile bootstrap: refit on `samples` resamples (with replacement) of the points and return
 * the central `level` interval of each statistic `stat` extracts from a fit. Resamples whose fit
 * fails are skipped (and counted).
 *
 * @example
 * const xs = [1e4, 3e4, 1e5, 3e5, 1e6, 3e6];
 * const ys = xs.map((x, i) => (1 + 30 * x ** -0.25) * (1 + 0.002 * ((i % 3) - 1)));
 * const ci = tg.analysis.bootstrap(xs.length, (idx) => tg.analysis.fitPowerLaw(idx.map((i) => xs[i]!), idx.map((i) => ys[i]!)).alpha, { samples: 200, seed: 1 });
 * console.log(ci.low < 0.25 && 0.25 < ci.high); // true
 */
export function bootstrap(
  n: number,
  stat: (indices: number[]) => number,
  opts: { samples?: number; level?: number; seed?: number } = {},
): Interval & { failed: number } {
  const { samples = 1000, level = 0.95, seed = 0 } = opts;
  const g = new Generator(seed);
  const values: number[] = [];
  let failed = 0;
  for (let s = 0; s < samples; s++) {
    const idx = Array.from({ length: n }, () => g.int(0, n));
    // A resample needs at least three distinct points to determine a three-parameter curve.
    if (new Set(idx).size < 3) {
      failed++;
      continue;
    }
    try {
      const v = stat(idx);
      if (Number.isFinite(v)) values.push(v);
      else failed++;
    } catch {
      failed++;
    }
  }
  if (values.length === 0) {
    throw new TsgradError("bootstrap", `all ${samples} resamples failed to fit`);
  }
  values.sort((a, b) => a - b);
  const q = (p: number) =>
    values[Math.min(values.length - 1, Math.max(0, Math.round(p * (values.length - 1))))]!;
  return { low: q((1 - level) / 2), high: q(1 - (1 - level) / 2), failed };
}
