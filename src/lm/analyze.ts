/**
 * Scaling-law analysis of a sweep's run folders (it only reads them): final validation loss
 * against non-embedding parameters N, tokens D and compute C, fitted with L(N) = E + A·N^(−α),
 * L(D) = E + B·D^(−β) and, when D varies, the Chinchilla form L(N, D) = E + A·N^(−α) + B·D^(−β),
 * with percentile-bootstrap intervals (resampling runs) for the exponents. The model-size law is
 * also fitted on every size but the largest and used to predict the largest before its measured
 * loss is looked at: the honest test of a scaling law is an extrapolation.
 *
 * Compute is C = 6·N·D (Kaplan et al. 2020; N non-embedding). The exact count, 3 × forward FLOPs
 * per token × D including attention and the output layer, is listed per run as well: for the
 * smallest character models the output layer alone makes it several times larger than 6·N·D.
 */
import { bootstrap, fitChinchilla, fitPowerLaw, type Interval } from "../analysis/fit.js";
import { writeFileAtomic } from "../io/atomic.js";
import { nodeModule } from "../io/node.js";
import { listRuns, readMetrics } from "../io/runs.js";
import { Report } from "../report/document.js";
import { saveFigure } from "../report/png.js";
import {
  type FitCurve,
  type Highlight,
  type Series,
  lineChart,
  scatterChart,
} from "../report/xy.js";
import { TsgradError } from "../tensor/errors.js";
import type { LMSummary } from "./trainer.js";

/** One finished run, as the analysis sees it. */
export interface ScalingPoint {
  hash: string;
  dir: string;
  size: string;
  /** Non-embedding parameters. */
  N: number;
  /** All parameters. */
  params: number;
  /** Tokens trained on. */
  D: number;
  seed: number;
  /** Final validation loss (nats/char). */
  loss: number;
  trainLoss: number;
  /** 6·N·D. */
  C: number;
  /** 3 × forward FLOPs per token × D. */
  exactFlops: number;
  tokensPerSecond: number;
  trainSeconds: number;
  backend: string;
}

/** A fitted power law L(x) = E + A·x^(−α) (or A·x^(−α) when `form` says E = 0). */
export interface PowerLawResult {
  form: "E + A·x^-α" | "A·x^-α";
  E: number;
  A: number;
  alpha: number;
  r2: number;
  /** Runs fitted. */
  points: number;
  /** Distinct x values among them. */
  distinct: number;
  /** 95% bootstrap interval of α (null when the resamples cannot determine it). */
  alphaCI: (Interval & { failed: number }) | null;
}

/** The extrapolation test: fit below the largest model, predict it, then compare. */
export interface HoldoutResult {
  size: string;
  N: number;
  D: number;
  predicted: number;
  /** Mean final validation loss of the held-out size's runs (over seeds). */
  measured: number;
  runs: number;
  /** (predicted − measured) / measured. */
  relativeError: number;
  fit: PowerLawResult;
}

/** The Chinchilla fit L(N, D) = E + A·N^(−α) + B·D^(−β). */
export interface ChinchillaResult {
  E: number;
  A: number;
  alpha: number;
  B: number;
  beta: number;
  r2: number;
  points: number;
  alphaCI: (Interval & { failed: number }) | null;
  betaCI: (Interval & { failed: number }) | null;
  /** Fitted without the largest model, predicting it at the size series' D (when enough runs). */
  holdout: {
    N: number;
    D: number;
    predicted: number;
    measured: number;
    relativeError: number;
  } | null;
}

/** Everything `analyzeScaling` found. */
export interface ScalingAnalysis {
  dir: string;
  runs: ScalingPoint[];
  /** Run folders without a summary (still running, interrupted or failed). */
  unfinished: string[];
  /** The model-size series: runs sharing the token budget with the most distinct sizes. */
  sizeSeries: {
    D: number;
    points: ScalingPoint[];
    fitAll: PowerLawResult | null;
    holdout: HoldoutResult | null;
  } | null;
  /** The data-size series: runs of the size with the most distinct token budgets (≥ 3). */
  dataSeries: { N: number; size: string; points: ScalingPoint[]; fit: PowerLawResult } | null;
  chinchilla: ChinchillaResult | null;
  /** Caveats found while fitting (too few sizes, failed resamples…). */
  notes: string[];
}

/** Options of `analyzeScaling`. */
export interface AnalyzeOptions {
  /** Bootstrap resamples for the power laws; default 1000. */
  bootstrap?: number;
  /** Bootstrap resamples for the Chinchilla fit (27 starts each, so slower); default 200. */
  bootstrapChinchilla?: number;
  /** Bootstrap seed; default 0. */
  seed?: number;
}

const distinct = (xs: readonly number[]) => new Set(xs).size;
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** L = A·x^(−α) by least squares on log L against log x (used when E is not identifiable). */
function fitPure(
  xs: readonly number[],
  ys: readonly number[],
): { A: number; alpha: number; r2: number } {
  const lx = xs.map(Math.log);
  const ly = ys.map(Math.log);
  const mx = mean(lx);
  const my = mean(ly);
  const sxx = lx.reduce((s, x) => s + (x - mx) ** 2, 0);
  if (!(sxx > 0)) {
    throw new TsgradError("analyzeScaling", "a power law needs two distinct x values");
  }
  const slope = lx.reduce((s, x, i) => s + (x - mx) * (ly[i]! - my), 0) / sxx;
  const A = Math.exp(my - slope * mx);
  const sst = ys.reduce((s, y) => s + (y - mean(ys)) ** 2, 0);
  const sse = ys.reduce((s, y, i) => s + (y - A * xs[i]! ** slope) ** 2, 0);
  return { A, alpha: -slope, r2: sst > 0 ? 1 - sse / sst : 1 };
}

/**
 * Fit L(x) = E + A·x^(−α) to runs (or A·x^(−α) when fewer than 3 distinct x make E unidentifiable),
 * with a bootstrap interval for α over resampled runs.
 */
function powerLaw(
  xs: readonly number[],
  ys: readonly number[],
  samples: number,
  seed: number,
): PowerLawResult {
  const k = distinct(xs);
  const full = k >= 3;
  const fitOn = (idx: number[]) => {
    const x = idx.map((i) => xs[i]!);
    const y = idx.map((i) => ys[i]!);
    const need = full ? 3 : 2;
    if (distinct(x) < need) {
      throw new TsgradError(
        "analyzeScaling",
        `a resample with fewer than ${need} distinct x values`,
      );
    }
    return full ? fitPowerLaw(x, y) : { E: 0, ...fitPure(x, y) };
  };
  const all = xs.map((_, i) => i);
  const f = fitOn(all);
  // With as many runs as parameters the fit is exact and every usable resample repeats it.
  const alphaCI =
    samples > 0 && xs.length > (full ? 3 : 2)
      ? bootstrap(xs.length, (idx) => fitOn(idx).alpha, { samples, seed })
      : null;
  return {
    form: full ? "E + A·x^-α" : "A·x^-α",
    E: f.E,
    A: f.A,
    alpha: f.alpha,
    r2: f.r2,
    points: xs.length,
    distinct: k,
    alphaCI,
  };
}

/**
 * Evaluate a fitted power law E + A·x^(−α).
 *
 * @example
 * console.log(tg.lm.powerLawAt({ E: 1, A: 8, alpha: 0.5 }, 16)); // 3
 */
export function powerLawAt(fit: Pick<PowerLawResult, "E" | "A" | "alpha">, x: number): number {
  return fit.E + fit.A * x ** -fit.alpha;
}

function readPoint(run: {
  dir: string;
  hash: string;
  config: unknown;
  summary: Record<string, unknown>;
}): ScalingPoint {
  const s = run.summary as unknown as Partial<LMSummary>;
  const cfg = run.config as { seed?: unknown };
  const need = ["finalValLoss", "nonEmbeddingParams", "tokens"] as const;
  for (const k of need) {
    if (typeof s[k] !== "number") {
      throw new TsgradError(
        `${run.dir}/summary.json`,
        `has no number "${k}"; is this a train lm run?`,
      );
    }
  }
  return {
    hash: run.hash,
    dir: run.dir,
    size: s.size ?? "?",
    N: s.nonEmbeddingParams!,
    params: s.params ?? NaN,
    D: s.tokens!,
    seed: typeof cfg.seed === "number" ? cfg.seed : 0,
    loss: s.finalValLoss!,
    trainLoss: s.finalTrainLoss ?? NaN,
    C: 6 * s.nonEmbeddingParams! * s.tokens!,
    exactFlops: s.trainFlops ?? NaN,
    tokensPerSecond: s.tokensPerSecond ?? NaN,
    trainSeconds: s.trainSeconds ?? NaN,
    backend: s.backend ?? "?",
  };
}

/** The value shared by the most distinct values of `other` (ties: the largest). */
function widest(points: readonly ScalingPoint[], key: "N" | "D", other: "N" | "D"): number | null {
  const groups = new Map<number, Set<number>>();
  for (const p of points) {
    const s = groups.get(p[key]) ?? new Set<number>();
    s.add(p[other]);
    groups.set(p[key], s);
  }
  let best: number | null = null;
  for (const [v, s] of groups) {
    if (
      best === null ||
      s.size > groups.get(best)!.size ||
      (s.size === groups.get(best)!.size && v > best)
    ) {
      best = v;
    }
  }
  return best;
}

/**
 * Read a sweep folder (`runs/<sweep>`) and fit the scaling laws.
 *
 * @example
 * const { mkdtempSync, mkdirSync, writeFileSync } = process.getBuiltinModule("node:fs");
 * const dir = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-") + "/sweep";
 * const Ns = [1e3, 3e3, 1e4, 3e4, 1e5];
 * Ns.forEach((N, i) => {
 *   mkdirSync(`${dir}/r${i}`, { recursive: true });
 *   writeFileSync(`${dir}/r${i}/config.json`, JSON.stringify({ seed: 0 }));
 *   writeFileSync(`${dir}/r${i}/summary.json`, JSON.stringify({ finalValLoss: 1.5 + 20 * N ** -0.4, nonEmbeddingParams: N, tokens: 1e6, size: `s${i}` }));
 * });
 * const a = tg.lm.analyzeScaling(dir, { bootstrap: 100 });
 * console.log(a.sizeSeries.holdout.N, Math.abs(a.sizeSeries.holdout.relativeError) < 1e-3); // 100000 true
 */
export function analyzeScaling(dir: string, opts: AnalyzeOptions = {}): ScalingAnalysis {
  const { bootstrap: samples = 1000, bootstrapChinchilla = 200, seed = 0 } = opts;
  const paths = nodeModule("analyzeScaling", "node:path");
  const fs = nodeModule("analyzeScaling", "node:fs");
  const clean = paths.normalize(dir).replace(/\/+$/, "");
  if (!fs.existsSync(clean) || !fs.statSync(clean).isDirectory()) {
    throw new TsgradError("analyzeScaling", `${dir} is not a folder of runs`);
  }
  const all = listRuns(paths.dirname(clean), paths.basename(clean));
  const finished = all.filter((r) => r.summary !== null);
  const runs = finished.map((r) => readPoint(r as typeof r & { summary: Record<string, unknown> }));
  const unfinished = all.filter((r) => r.summary === null).map((r) => r.hash);
  const notes: string[] = [];
  if (unfinished.length) {
    notes.push(
      `${unfinished.length} run folder(s) have no summary yet and are left out: ${unfinished.join(", ")}.`,
    );
  }
  if (runs.length === 0) {
    throw new TsgradError(
      "analyzeScaling",
      `${dir} has no finished runs (folders with summary.json)`,
    );
  }
  runs.sort((a, b) => a.N - b.N || a.D - b.D || a.seed - b.seed);

  // Model-size series.
  let sizeSeries: ScalingAnalysis["sizeSeries"] = null;
  const D0 = widest(runs, "D", "N");
  if (D0 !== null) {
    const points = runs.filter((p) => p.D === D0);
    const Ns = points.map((p) => p.N);
    if (distinct(Ns) < 3) {
      notes.push(
        `The model-size series (D = ${D0}) has ${distinct(Ns)} size(s); at least 3 are needed to fit L(N).`,
      );
    } else {
      const fitAll = powerLaw(
        Ns,
        points.map((p) => p.loss),
        samples,
        seed,
      );
      const Nmax = Math.max(...Ns);
      const below = points.filter((p) => p.N < Nmax);
      const held = points.filter((p) => p.N === Nmax);
      const fit = powerLaw(
        below.map((p) => p.N),
        below.map((p) => p.loss),
        samples,
        seed,
      );
      if (fit.form === "A·x^-α") {
        notes.push(
          `Only ${fit.distinct} sizes are below the largest, too few to identify E: the held-out prediction uses L = A·N^-α (E = 0).`,
        );
      }
      const predicted = powerLawAt(fit, Nmax);
      const measured = mean(held.map((p) => p.loss));
      sizeSeries = {
        D: D0,
        points,
        fitAll,
        holdout: {
          size: held[0]!.size,
          N: Nmax,
          D: D0,
          predicted,
          measured,
          runs: held.length,
          relativeError: (predicted - measured) / measured,
          fit,
        },
      };
    }
  }

  // Data-size series.
  let dataSeries: ScalingAnalysis["dataSeries"] = null;
  const N0 = widest(runs, "N", "D");
  if (N0 !== null) {
    const points = runs.filter((p) => p.N === N0);
    const Ds = points.map((p) => p.D);
    if (distinct(Ds) >= 3) {
      const fit = powerLaw(
        Ds,
        points.map((p) => p.loss),
        samples,
        seed,
      );
      dataSeries = { N: N0, size: points[0]!.size, points, fit };
    } else if (distinct(runs.map((p) => p.D)) > 1) {
      notes.push(`No model has 3 or more token budgets; L(D) is not fitted.`);
    }
  }

  // Chinchilla form, when D varies.
  let chinchilla: ChinchillaResult | null = null;
  const pairs = new Set(runs.map((p) => `${p.N}/${p.D}`)).size;
  if (distinct(runs.map((p) => p.D)) >= 2 && distinct(runs.map((p) => p.N)) >= 2 && pairs >= 5) {
    const fitOn = (pts: readonly ScalingPoint[]) => {
      if (new Set(pts.map((p) => `${p.N}/${p.D}`)).size < 5) {
        throw new TsgradError("analyzeScaling", "fewer than 5 distinct (N, D) points");
      }
      return fitChinchilla(
        pts.map((p) => p.N),
        pts.map((p) => p.D),
        pts.map((p) => p.loss),
      );
    };
    const f = fitOn(runs);
    const boot = (stat: "alpha" | "beta") =>
      bootstrapChinchilla > 0 && runs.length > 5
        ? bootstrap(runs.length, (idx) => fitOn(idx.map((i) => runs[i]!))[stat], {
            samples: bootstrapChinchilla,
            seed,
          })
        : null;
    let holdout: ChinchillaResult["holdout"] = null;
    if (sizeSeries?.holdout) {
      const { N, D } = sizeSeries.holdout;
      const below = runs.filter((p) => p.N < N);
      if (
        new Set(below.map((p) => `${p.N}/${p.D}`)).size >= 5 &&
        distinct(below.map((p) => p.D)) >= 2
      ) {
        const h = fitOn(below);
        const predicted = h.predict(N, D);
        const measured = sizeSeries.holdout.measured;
        holdout = { N, D, predicted, measured, relativeError: (predicted - measured) / measured };
      } else {
        notes.push(
          "Too few (N, D) points below the largest model for a held-out Chinchilla prediction.",
        );
      }
    }
    chinchilla = {
      E: f.E,
      A: f.A,
      alpha: f.alpha,
      B: f.B,
      beta: f.beta,
      r2: f.r2,
      points: runs.length,
      alphaCI: boot("alpha"),
      betaCI: boot("beta"),
      holdout,
    };
  }
  for (const [name, ci] of [
    ["L(N) held-out fit", sizeSeries?.holdout?.fit.alphaCI],
    ["L(N) all sizes", sizeSeries?.fitAll?.alphaCI],
    ["L(D)", dataSeries?.fit.alphaCI],
    ["Chinchilla α", chinchilla?.alphaCI],
    ["Chinchilla β", chinchilla?.betaCI],
  ] as const) {
    if (ci && ci.failed > 0) {
      notes.push(`${name}: ${ci.failed} bootstrap resamples could not be fitted and were skipped.`);
    }
  }
  return { dir: clean, runs, unfinished, sizeSeries, dataSeries, chinchilla, notes };
}

const fmt = (v: number, digits = 4) =>
  Number.isFinite(v) ? Number(v.toPrecision(digits)).toString() : "—";
const ciText = (ci: Interval | null | undefined) =>
  ci ? `[${fmt(ci.low, 3)}, ${fmt(ci.high, 3)}]` : "—";
const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

/**
 * The figures of an analysis, as SVG strings by file name (without extension).
 *
 * @example
 * const { mkdtempSync, mkdirSync, writeFileSync } = process.getBuiltinModule("node:fs");
 * const dir = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-") + "/sweep";
 * [1e3, 1e4, 1e5, 1e6].forEach((N, i) => {
 *   mkdirSync(`${dir}/r${i}`, { recursive: true });
 *   writeFileSync(`${dir}/r${i}/config.json`, "{}");
 *   writeFileSync(`${dir}/r${i}/summary.json`, JSON.stringify({ finalValLoss: 1.5 + 9 * N ** -0.3, nonEmbeddingParams: N, tokens: 1e6 }));
 * });
 * const a = tg.lm.analyzeScaling(dir, { bootstrap: 0 });
 * console.log(Object.keys(tg.lm.scalingFigures(a))); // ["loss-vs-params", "loss-vs-compute"]
 */
export function scalingFigures(a: ScalingAnalysis): Record<string, string> {
  const figures: Record<string, string> = {};
  // Log ticks are labelled at 1-2-5 values only, so the axis keeps its automatic 1-2-5 range.
  const yAxis = { label: "validation loss (nats/char)", scale: "log" as const };

  const ss = a.sizeSeries;
  const ds = a.dataSeries;
  const held = ss?.holdout ?? null;
  const predictionMarks = (x: (n: number, d: number) => number): Highlight[] =>
    held
      ? [
          {
            name: `measured, held out (${held.size})`,
            x: x(held.N, held.D),
            y: held.measured,
            marker: "star",
            color: "#e15759",
          },
          {
            name: `predicted from smaller sizes (${pct(held.relativeError)})`,
            x: x(held.N, held.D),
            y: held.predicted,
            marker: "star",
            hollow: true,
            color: "#e15759",
            from: { x: x(held.N, held.D), y: held.measured },
          },
        ]
      : [];

  if (ss) {
    const fitted = ss.points.filter((p) => !held || p.N < held.N);
    const fits: FitCurve[] = [];
    if (held) {
      fits.push({
        name: `fit on N < ${fmt(held.N, 3)}: α = ${fmt(held.fit.alpha, 3)}`,
        f: (n) => powerLawAt(held.fit, n),
        color: "#f28e2b",
      });
    }
    if (ss.fitAll) {
      fits.push({
        name: `fit on all sizes: α = ${fmt(ss.fitAll.alpha, 3)}`,
        f: (n) => powerLawAt(ss.fitAll!, n),
        color: "#76b7b2",
        dash: "2 3",
      });
    }
    figures["loss-vs-params"] = scatterChart({
      title: `Validation loss vs model size (D = ${fmt(ss.D, 4)} tokens)`,
      x: { label: "non-embedding parameters N", scale: "log" },
      y: yAxis,
      series: [
        { name: "runs used in the fit", x: fitted.map((p) => p.N), y: fitted.map((p) => p.loss) },
      ],
      fits,
      highlights: predictionMarks((n) => n),
    });
  }

  const byD = ds ? ds.points : a.runs;
  if (distinct(byD.map((p) => p.D)) >= 2) {
    figures["loss-vs-tokens"] = scatterChart({
      title: ds
        ? `Validation loss vs tokens (model ${ds.size}, N = ${fmt(ds.N, 3)})`
        : "Validation loss vs tokens",
      x: { label: "tokens trained D", scale: "log" },
      y: yAxis,
      series: [
        {
          name: ds ? `${ds.size} runs` : "runs",
          x: byD.map((p) => p.D),
          y: byD.map((p) => p.loss),
        },
      ],
      fits: ds
        ? [
            {
              name: `fit: β = ${fmt(ds.fit.alpha, 3)}`,
              f: (d) => powerLawAt(ds.fit, d),
              color: "#f28e2b",
            },
          ]
        : [],
    });
  }

  const series: Series[] = [];
  if (ss) {
    series.push({
      name: `size series (D = ${fmt(ss.D, 3)})`,
      x: ss.points.map((p) => p.C),
      y: ss.points.map((p) => p.loss),
    });
  }
  if (ds) {
    series.push({
      name: `data series (${ds.size})`,
      x: ds.points.map((p) => p.C),
      y: ds.points.map((p) => p.loss),
    });
  }
  const rest = a.runs.filter((p) => !ss?.points.includes(p) && !ds?.points.includes(p));
  if (rest.length || series.length === 0) {
    series.push({ name: "other runs", x: rest.map((p) => p.C), y: rest.map((p) => p.loss) });
  }
  const cFits: FitCurve[] = [];
  if (held && ss) {
    cFits.push({
      name: "L(N) fit at the size series' D",
      f: (c) => powerLawAt(held.fit, c / (6 * ss.D)),
      color: "#f28e2b",
    });
  }
  if (ds) {
    cFits.push({
      name: "L(D) fit at the data series' N",
      f: (c) => powerLawAt(ds.fit, c / (6 * ds.N)),
      color: "#59a14f",
    });
  }
  figures["loss-vs-compute"] = scatterChart({
    title: "Validation loss vs training compute",
    x: { label: "compute C = 6·N·D (FLOPs, N non-embedding)", scale: "log" },
    y: { label: "validation loss (nats/char)", scale: "log" },
    series: series.filter((s) => (s.y as number[]).length > 0),
    fits: cFits,
    highlights: predictionMarks((n, d) => 6 * n * d),
  });

  // Learning curves (from metrics.jsonl): one line per run of the size series, first seed only.
  const curves: Series[] = [];
  const firstSeed = ss ? Math.min(...ss.points.map((p) => p.seed)) : 0;
  for (const p of ss ? ss.points.filter((q) => q.seed === firstSeed) : []) {
    const recs = readMetrics(`${p.dir}/metrics.jsonl`).filter((r) => typeof r.valLoss === "number");
    if (recs.length >= 2) {
      curves.push({
        name: p.size,
        x: recs.map((r) => r.tokens as number),
        y: recs.map((r) => r.valLoss as number),
      });
    }
  }
  if (curves.length) {
    figures["learning-curves"] = lineChart({
      title: `Validation loss during training (seed ${firstSeed})`,
      x: { label: "tokens" },
      y: { label: "validation loss (nats/char)" },
      series: curves,
    });
  }
  return figures;
}

/**
 * The analysis as plain JSON (no functions; non-finite numbers as null), as in `analysis.json`.
 *
 * @example
 * const { mkdtempSync, mkdirSync, writeFileSync } = process.getBuiltinModule("node:fs");
 * const dir = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-") + "/sweep";
 * [1e3, 1e4, 1e5, 1e6].forEach((N, i) => {
 *   mkdirSync(`${dir}/r${i}`, { recursive: true });
 *   writeFileSync(`${dir}/r${i}/config.json`, "{}");
 *   writeFileSync(`${dir}/r${i}/summary.json`, JSON.stringify({ finalValLoss: 1.5 + 9 * N ** -0.3, nonEmbeddingParams: N, tokens: 1e6 }));
 * });
 * const a = tg.lm.analyzeScaling(dir, { bootstrap: 0 });
 * console.log(tg.lm.analysisJson(a).sizeSeries.holdout.N); // 1000000
 */
export function analysisJson(a: ScalingAnalysis): unknown {
  return JSON.parse(
    JSON.stringify(a, (_k, v: unknown) =>
      typeof v === "number" && !Number.isFinite(v) ? null : v,
    ),
  );
}

/**
 * Write the analysis to `outDir`: `figures/<name>.svg` and `.png`, `report.html` (figures
 * inline), `report.md` (figures as PNG files) and `analysis.json`. Returns the files written.
 *
 * @example
 * const { mkdtempSync, mkdirSync, writeFileSync } = process.getBuiltinModule("node:fs");
 * const dir = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-") + "/sweep";
 * [1e3, 1e4, 1e5, 1e6].forEach((N, i) => {
 *   mkdirSync(`${dir}/r${i}`, { recursive: true });
 *   writeFileSync(`${dir}/r${i}/config.json`, "{}");
 *   writeFileSync(`${dir}/r${i}/summary.json`, JSON.stringify({ finalValLoss: 1.5 + 9 * N ** -0.3, nonEmbeddingParams: N, tokens: 1e6 }));
 * });
 * const a = tg.lm.analyzeScaling(dir, { bootstrap: 0 });
 * const files = tg.lm.writeScalingReport(a, dir + "/analysis");
 * console.log(files.length, files.some((f) => f.endsWith("figures/loss-vs-params.png"))); // 7 true
 */
export function writeScalingReport(a: ScalingAnalysis, outDir: string): string[] {
  const figures = scalingFigures(a);
  const ss = a.sizeSeries;
  const held = ss?.holdout ?? null;
  const sizes = [...new Set(a.runs.map((p) => p.size))];
  const backends = [...new Set(a.runs.map((p) => p.backend))].join(", ");
  const r = new Report(`Scaling laws: ${a.dir.split("/").pop() ?? a.dir}`);
  r.paragraph(
    `${a.runs.length} finished runs of ${sizes.length} model sizes (${fmt(Math.min(...a.runs.map((p) => p.N)), 3)} to ${fmt(Math.max(...a.runs.map((p) => p.N)), 3)} non-embedding parameters), ` +
      `token budgets ${[...new Set(a.runs.map((p) => p.D))].sort((x, y) => x - y).join(", ")}, seeds ${[...new Set(a.runs.map((p) => p.seed))].join(", ")}; backend ${backends}; ` +
      `${fmt(a.runs.reduce((s, p) => s + (Number.isFinite(p.trainSeconds) ? p.trainSeconds : 0), 0) / 60, 3)} minutes of training in all. ` +
      `Loss is the mean cross-entropy on fixed, seeded validation windows. Compute is C = 6·N·D with N non-embedding; the exact FLOP count is in the run table.`,
  );
  if (held) {
    r.heading("Held-out prediction of the largest model");
    r.keyValues({
      "fitted on": `${held.fit.distinct} sizes below ${held.size} (${held.fit.points} runs), D = ${held.D}`,
      form: held.fit.form.replace("x", "N"),
      E: held.fit.E,
      A: held.fit.A,
      "α (95% bootstrap CI)": `${fmt(held.fit.alpha, 3)} ${ciText(held.fit.alphaCI)}`,
      [`predicted loss at N = ${held.N}`]: held.predicted,
      [`measured loss (mean of ${held.runs} run(s))`]: held.measured,
      "relative error (predicted − measured) / measured": pct(held.relativeError),
      ...(a.chinchilla?.holdout
        ? {
            "Chinchilla-form prediction (fitted without the largest)":
              a.chinchilla.holdout.predicted,
            "its relative error": pct(a.chinchilla.holdout.relativeError),
          }
        : {}),
    });
  }
  r.heading("Fits");
  const rows: unknown[][] = [];
  // One row per power-law fit; `v` names the variable (N or D) and `e` its exponent (α or β).
  const powerRow = (label: string, f: PowerLawResult, v: string, e: string) => [
    label,
    f.points,
    v === "N" ? f.form.replace("x", "N") : f.form.replace("x", v).replace("A", "B").replace("α", e),
    f.E,
    f.A,
    `${e} = ${fmt(f.alpha, 3)}`,
    ciText(f.alphaCI),
    f.r2,
  ];
  if (ss?.fitAll) rows.push(powerRow("L(N), all sizes", ss.fitAll, "N", "α"));
  if (held) rows.push(powerRow("L(N), without the largest", held.fit, "N", "α"));
  if (a.dataSeries) {
    rows.push(powerRow(`L(D), model ${a.dataSeries.size}`, a.dataSeries.fit, "D", "β"));
  }
  if (a.chinchilla) {
    const c = a.chinchilla;
    rows.push([
      "L(N, D) Chinchilla",
      c.points,
      "E + A·N^-α + B·D^-β",
      c.E,
      `A = ${fmt(c.A)}, B = ${fmt(c.B)}`,
      `α = ${fmt(c.alpha, 3)}, β = ${fmt(c.beta, 3)}`,
      `α ${ciText(c.alphaCI)}, β ${ciText(c.betaCI)}`,
      c.r2,
    ]);
  }
  if (rows.length) r.table(["fit", "runs", "form", "E", "A / B", "exponent", "95% CI", "R²"], rows);
  else r.paragraph("Not enough runs to fit a scaling law yet.");
  const captions: Record<string, string> = {
    "loss-vs-params":
      "Final validation loss against non-embedding parameters (log–log), with the power law fitted without the largest model, its prediction (hollow star) and the measurement (filled star).",
    "loss-vs-tokens": "Final validation loss against tokens trained, with the fitted L(D).",
    "loss-vs-compute":
      "Final validation loss against compute C = 6·N·D, with the fits mapped to C and the held-out prediction.",
    "learning-curves": "Validation loss on the fixed windows during training.",
  };
  for (const [name, svg] of Object.entries(figures)) r.figure(name, svg, captions[name]);
  if (a.notes.length) {
    r.heading("Notes");
    for (const n of a.notes) r.paragraph(n);
  }
  r.heading("Runs");
  r.table(
    [
      "size",
      "N",
      "params",
      "D",
      "seed",
      "C = 6ND",
      "exact FLOPs",
      "val loss",
      "train loss",
      "tok/s",
      "run",
    ],
    a.runs.map((p) => [
      p.size,
      p.N,
      p.params,
      p.D,
      p.seed,
      p.C,
      p.exactFlops,
      p.loss,
      p.trainLoss,
      Math.round(p.tokensPerSecond),
      p.hash,
    ]),
  );
  const paths = nodeModule("writeScalingReport", "node:path");
  const written: string[] = [];
  for (const [name, svg] of Object.entries(figures)) {
    for (const ext of ["svg", "png"]) {
      const file = paths.join(outDir, "figures", `${name}.${ext}`);
      saveFigure(file, svg);
      written.push(file);
    }
  }
  r.saveHtml(paths.join(outDir, "report.html"));
  writeFileAtomic(paths.join(outDir, "report.md"), r.toMarkdown({ png: true }));
  writeFileAtomic(
    paths.join(outDir, "analysis.json"),
    `${JSON.stringify(analysisJson(a), null, 2)}\n`,
  );
  written.push(...["report.html", "report.md", "analysis.json"].map((f) => paths.join(outDir, f)));
  return written;
}
