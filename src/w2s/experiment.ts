/**
 * The weak-to-strong generalization experiment (Burns et al. 2023) as a resumable grid:
 *
 * For each seed the training pool is split at random into a weak-supervisor part (ground truth)
 * and a disjoint transfer part; a held-out slice of each is kept out of training for the
 * optional early stopping. Then:
 *   weak    (per weak model and seed)    trained on the weak part's ground truth, labels the
 *                                        whole transfer part with its soft predictions;
 *   ceiling (per strong model and seed)  trained on the transfer part's ground truth;
 *   student (per pair, loss and seed)    the strong model trained on the weak soft labels, with
 *                                        plain cross-entropy or the auxiliary confidence loss.
 * Pairs are every weak × strong combination where the strong model is larger on the task's
 * ladder. Weak models and ceilings are trained once and shared by all pairs. A ceiling and the
 * students of the same strong model and seed share their initial weights and batch order
 * (common random numbers), so their difference reflects the labels and the loss, not the draw.
 *
 * Every training keeps its state in `<run>/models/<key>/` (see `train.ts`), so re-running the
 * same command after a kill or Ctrl-C resumes: finished models are read back, the interrupted
 * one continues from its checkpoint, and the results are identical to an uninterrupted run.
 * The run folder's hash covers the data and the training recipe only; the grid (models, seeds,
 * losses) may grow between invocations and reuses everything already trained.
 */
import { openRun } from "../io/runs.js";
import { writeFileAtomic } from "../io/atomic.js";
import { Adam } from "../optim/adam.js";
import * as F from "../nn/functional.js";
import type { ProgressStream } from "../report/progress.js";
import { noGrad } from "../tensor/autograd.js";
import { tensor } from "../tensor/creation.js";
import { TsgradError } from "../tensor/errors.js";
import { Generator, manualSeed } from "../tensor/random.js";
import { Interrupt } from "../train/interrupt.js";
import type { Hardening } from "./loss.js";
import { writeW2sReport } from "./report.js";
import {
  type MeanInterval,
  type PgrSummary,
  type SeedAccuracies,
  meanInterval,
  pairedGapStandardError,
  summarizePgr,
} from "./stats.js";
import {
  IMAGE_TASKS,
  type ModelSpec,
  type W2sTask,
  isStronger,
  ladderRank,
  loadImageTask,
  modelLabel,
  modelSlug,
  parseModelSpec,
} from "./task.js";
import { TEXT_TASKS, loadSubjectTask } from "./text-task.js";
import {
  type TrainHyper,
  type TrainJob,
  type TrainedModel,
  argmaxRows,
  hashString,
  mixSeed,
  trainGridModel,
} from "./train.js";

/** The recipe: everything that decides what a trained model is (hashed into the run folder). */
export interface W2sConfig {
  /** "fashion-mnist", "fashion-mnist-sample" (bundled) or "multi30k-subject". */
  data: string;
  /** Explicit data location (else the usual search). */
  dataPath?: string;
  epochs: number;
  batchSize: number;
  /** Adam learning rate, cosine-decayed to 0. */
  lr: number;
  /** Pool examples (per seed) with ground truth for the weak supervisor. */
  weakSize: number;
  /** Pool examples (per seed) the weak model labels; ceilings and students train on them. */
  transferSize: number;
  /** Fraction of each part held out of training for early stopping (and its diagnostics). */
  heldoutFraction: number;
  /** "final": the last epoch's weights (default); "weak-agreement": the epoch that agrees best with its own supervision on the held-out slice. */
  earlyStop: TrainHyper["earlyStop"];
  /** α_max of the auxiliary confidence loss. */
  alphaMax: number;
  /** α_max for students that are the top model of the task's ladder (the paper: 0.75). */
  alphaMaxLargest: number;
  /** Fraction of training over which α rises linearly from 0. */
  warmupFraction: number;
  hardening: Hardening;
}

/** Which models, seeds and losses to run (not hashed: the grid can grow and reuse models). */
export interface W2sGrid {
  /** Weak model specs ("name" or "name:width"). */
  weak: string[];
  strong: string[];
  seeds: number[];
  /** The auxiliary confidence loss: without it, with it, or both (paired). */
  auxConf: "off" | "on" | "both";
}

/** Shared recipe defaults (data-specific sizes come from `w2sDefaults`). */
const BASE_CONFIG = {
  epochs: 4,
  batchSize: 128,
  lr: 1e-3,
  heldoutFraction: 0.1,
  earlyStop: "final",
  alphaMax: 0.5,
  alphaMaxLargest: 0.75,
  warmupFraction: 0.2,
  hardening: "prior",
} as const;

/**
 * Default recipe and grid for a dataset: the full grid, sized for a 2-hour budget on two cores
 * with the native backend (see experiments/weak-to-strong/README.md), or the `quick` smoke test.
 *
 * @example
 * const d = tg.w2s.w2sDefaults("fashion-mnist");
 * console.log(d.grid.weak, d.grid.strong, d.config.weakSize, d.config.transferSize); // ["logistic", "mlp", "lenet5"] ["mlp", "lenet5", "alexnet:0.5"] 10000 10000
 */
export function w2sDefaults(data: string, quick = false): { config: W2sConfig; grid: W2sGrid } {
  const seeds = [0, 1, 2];
  if ((IMAGE_TASKS as readonly string[]).includes(data)) {
    if (quick) {
      return {
        config: {
          ...BASE_CONFIG,
          data,
          epochs: 3,
          batchSize: 64,
          lr: 3e-3,
          weakSize: 600,
          transferSize: 1800,
        },
        grid: { weak: ["logistic"], strong: ["mlp:0.0625"], seeds: [0, 1], auxConf: "both" },
      };
    }
    return {
      config: { ...BASE_CONFIG, data, epochs: 8, lr: 3e-3, weakSize: 10000, transferSize: 10000 },
      grid: {
        weak: ["logistic", "mlp", "lenet5"],
        strong: ["mlp", "lenet5", "alexnet:0.5"],
        seeds,
        auxConf: "both",
      },
    };
  }
  if ((TEXT_TASKS as readonly string[]).includes(data)) {
    if (quick) {
      return {
        config: {
          ...BASE_CONFIG,
          data,
          epochs: 3,
          batchSize: 64,
          lr: 0.01,
          weakSize: 1000,
          transferSize: 2000,
        },
        grid: { weak: ["bow"], strong: ["mlp:0.25"], seeds: [0, 1], auxConf: "both" },
      };
    }
    return {
      config: { ...BASE_CONFIG, data, epochs: 6, lr: 0.01, weakSize: 4000, transferSize: 8000 },
      grid: { weak: ["bow", "mlp"], strong: ["mlp", "attn", "bilstm"], seeds, auxConf: "both" },
    };
  }
  throw new TsgradError(
    "weak-to-strong",
    `unknown data "${data}" (${[...IMAGE_TASKS, ...TEXT_TASKS].join(", ")})`,
  );
}

/**
 * Load a task by name: an image dataset of `IMAGE_TASKS` or a text task of `TEXT_TASKS`.
 *
 * @example
 * const task = tg.w2s.loadW2sTask("fashion-mnist-sample");
 * console.log(task.ladder); // ["logistic", "mlp", "lenet5", "alexnet"]
 */
export function loadW2sTask(data: string, dataPath?: string): W2sTask {
  if ((IMAGE_TASKS as readonly string[]).includes(data)) {
    return loadImageTask(data, dataPath !== undefined ? { dataPath } : {});
  }
  if (data === "multi30k-subject") {
    return loadSubjectTask(dataPath !== undefined ? { dir: dataPath } : {});
  }
  throw new TsgradError(
    "weak-to-strong",
    `unknown data "${data}" (${[...IMAGE_TASKS, ...TEXT_TASKS].join(", ")})`,
  );
}

/**
 * Check a recipe for values that cannot work, naming the field.
 *
 * @example
 * const { config } = tg.w2s.w2sDefaults("fashion-mnist-sample", true);
 * try {
 *   tg.w2s.validateW2sConfig({ ...config, heldoutFraction: 0.9 });
 * } catch (e) {
 *   console.log(e.message); // "weak-to-strong: heldoutFraction must be in [0, 0.5], got 0.9"
 * }
 */
export function validateW2sConfig(cfg: W2sConfig): void {
  const op = "weak-to-strong";
  for (const k of ["epochs", "batchSize", "weakSize", "transferSize"] as const) {
    if (!(Number.isInteger(cfg[k]) && cfg[k] > 0)) {
      throw new TsgradError(op, `${k} must be a positive integer, got ${cfg[k]}`);
    }
  }
  if (!(cfg.lr > 0)) throw new TsgradError(op, `lr must be positive, got ${cfg.lr}`);
  if (!(cfg.heldoutFraction >= 0 && cfg.heldoutFraction <= 0.5)) {
    throw new TsgradError(op, `heldoutFraction must be in [0, 0.5], got ${cfg.heldoutFraction}`);
  }
  for (const k of ["alphaMax", "alphaMaxLargest", "warmupFraction"] as const) {
    if (!(cfg[k] >= 0 && cfg[k] <= 1)) {
      throw new TsgradError(op, `${k} must be in [0, 1], got ${cfg[k]}`);
    }
  }
  if (cfg.earlyStop !== "final" && cfg.earlyStop !== "weak-agreement") {
    throw new TsgradError(
      op,
      `earlyStop must be "final" or "weak-agreement", got "${String(cfg.earlyStop)}"`,
    );
  }
  if (cfg.earlyStop === "weak-agreement" && cfg.heldoutFraction === 0) {
    throw new TsgradError(
      op,
      `earlyStop "weak-agreement" needs a held-out slice (heldoutFraction > 0)`,
    );
  }
  if (cfg.hardening !== "prior" && cfg.hardening !== "argmax") {
    throw new TsgradError(
      op,
      `hardening must be "prior" or "argmax", got "${String(cfg.hardening)}"`,
    );
  }
}

/**
 * The loss variants a grid runs: "ce" (plain cross-entropy on the weak labels) and/or "aux"
 * (with the auxiliary confidence loss).
 *
 * @example
 * console.log(tg.w2s.lossVariants("both"), tg.w2s.lossVariants("off")); // ["ce", "aux"] ["ce"]
 */
export function lossVariants(auxConf: W2sGrid["auxConf"]): ("ce" | "aux")[] {
  switch (auxConf) {
    case "off":
      return ["ce"];
    case "on":
      return ["aux"];
    case "both":
      return ["ce", "aux"];
    default:
      throw new TsgradError(
        "weak-to-strong",
        `auxConf must be off, on or both, got "${String(auxConf)}"`,
      );
  }
}

/** One seed's split of the pool (pool positions). */
export interface SeedSplit {
  weakTrain: Int32Array;
  weakHeld: Int32Array;
  transferTrain: Int32Array;
  transferHeld: Int32Array;
}

/**
 * The seed's random split of a pool of `poolSize`: `weakSize` weak-supervisor examples and a
 * disjoint `transferSize`, each with its last `round(heldoutFraction · size)` held out.
 *
 * @example
 * const s = tg.w2s.splitPool(100, { weakSize: 20, transferSize: 50, heldoutFraction: 0.1 }, 0);
 * console.log(s.weakTrain.length, s.weakHeld.length, s.transferTrain.length, s.transferHeld.length); // 18 2 45 5
 */
export function splitPool(
  poolSize: number,
  cfg: Pick<W2sConfig, "weakSize" | "transferSize" | "heldoutFraction">,
  seed: number,
): SeedSplit {
  if (cfg.weakSize + cfg.transferSize > poolSize) {
    throw new TsgradError(
      "weak-to-strong",
      `weakSize ${cfg.weakSize} + transferSize ${cfg.transferSize} exceed the ${poolSize} pool examples`,
    );
  }
  const perm = new Generator(mixSeed(seed, hashString("split"))).permutation(poolSize);
  const hw = Math.round(cfg.heldoutFraction * cfg.weakSize);
  const ht = Math.round(cfg.heldoutFraction * cfg.transferSize);
  const w = cfg.weakSize;
  const t = cfg.transferSize;
  return {
    weakTrain: perm.slice(0, w - hw),
    weakHeld: perm.slice(w - hw, w),
    transferTrain: perm.slice(w, w + t - ht),
    transferHeld: perm.slice(w + t - ht, w + t),
  };
}

/** A training of the plan (without its data, which depends on the weak labels). */
export interface PlannedJob {
  key: string;
  role: TrainJob["role"];
  model: ModelSpec;
  seed: number;
  weak?: ModelSpec;
  variant?: "ce" | "aux";
  /** Examples through the optimizer (epochs × steps × batch). */
  trainExamples: number;
  /** Examples through forward-only passes (held-out per epoch, test, labelling). */
  evalExamples: number;
}

/** The grid resolved against a task: pairs and every training, in execution order. */
export interface W2sPlan {
  weak: ModelSpec[];
  strong: ModelSpec[];
  pairs: { weak: ModelSpec; strong: ModelSpec }[];
  variants: ("ce" | "aux")[];
  seeds: number[];
  jobs: PlannedJob[];
}

const gather = (a: Int32Array, idx: Int32Array) => Int32Array.from(idx, (i) => a[i]!);

/**
 * Resolve a grid: parse the model specs, keep pairs whose strong model is larger on the task's
 * ladder, and list every training (seed-major, so early seeds complete first).
 *
 * @example
 * const task = tg.w2s.loadW2sTask("fashion-mnist-sample");
 * const { config } = tg.w2s.w2sDefaults("fashion-mnist-sample", true);
 * const plan = tg.w2s.planWeakToStrong(task, config, { weak: ["logistic", "mlp"], strong: ["mlp", "lenet5"], seeds: [0], auxConf: "on" });
 * console.log(plan.pairs.length, plan.jobs.map((j) => j.key).slice(0, 3)); // 3 ["weak-logistic-s0", "weak-mlp-s0", "ceiling-mlp-s0"]
 */
export function planWeakToStrong(task: W2sTask, cfg: W2sConfig, grid: W2sGrid): W2sPlan {
  const op = "weak-to-strong";
  const parse = (list: string[], what: string) => {
    if (list.length === 0) throw new TsgradError(op, `no ${what} models given`);
    const specs = list.map(parseModelSpec);
    specs.forEach((s) => ladderRank(task, s));
    return specs;
  };
  const weak = parse(grid.weak, "weak");
  const strong = parse(grid.strong, "strong");
  if (grid.seeds.length === 0) throw new TsgradError(op, "no seeds given");
  grid.seeds.forEach((s) => {
    if (!(Number.isInteger(s) && s >= 0)) {
      throw new TsgradError(op, `seeds must be integers >= 0, got ${s}`);
    }
  });
  if (new Set(grid.seeds).size !== grid.seeds.length) throw new TsgradError(op, "seeds repeat");
  const pairs = weak.flatMap((w) =>
    strong.filter((s) => isStronger(task, w, s)).map((s) => ({ weak: w, strong: s })),
  );
  if (pairs.length === 0) {
    throw new TsgradError(
      op,
      `no pair has a strong model larger than its weak one on the ladder ${task.ladder.join(" < ")} ` +
        `(weak ${grid.weak.join(",")}; strong ${grid.strong.join(",")})`,
    );
  }
  const variants = lossVariants(grid.auxConf);
  const usedWeak = weak.filter((w) => pairs.some((p) => p.weak === w));
  const usedStrong = strong.filter((s) => pairs.some((p) => p.strong === s));
  const B = cfg.batchSize;
  const wHeld = Math.round(cfg.heldoutFraction * cfg.weakSize);
  const tHeld = Math.round(cfg.heldoutFraction * cfg.transferSize);
  const trainEx = (n: number) => cfg.epochs * Math.floor(n / B) * B;
  const test = task.testLabels.length;
  const jobs: PlannedJob[] = [];
  for (const seed of grid.seeds) {
    for (const w of usedWeak) {
      jobs.push({
        key: `weak-${modelSlug(w)}-s${seed}`,
        role: "weak",
        model: w,
        seed,
        trainExamples: trainEx(cfg.weakSize - wHeld),
        evalExamples: cfg.epochs * wHeld + test + cfg.transferSize,
      });
    }
    for (const s of usedStrong) {
      jobs.push({
        key: `ceiling-${modelSlug(s)}-s${seed}`,
        role: "ceiling",
        model: s,
        seed,
        trainExamples: trainEx(cfg.transferSize - tHeld),
        evalExamples: cfg.epochs * tHeld + test,
      });
    }
    for (const p of pairs) {
      for (const v of variants) {
        jobs.push({
          key: `student-${modelSlug(p.weak)}-to-${modelSlug(p.strong)}-${v}-s${seed}`,
          role: "student",
          model: p.strong,
          weak: p.weak,
          variant: v,
          seed,
          trainExamples: trainEx(cfg.transferSize - tHeld),
          evalExamples: cfg.epochs * tHeld + test,
        });
      }
    }
  }
  return { weak: usedWeak, strong: usedStrong, pairs, variants, seeds: [...grid.seeds], jobs };
}

/** Per pair and loss variant: accuracies and PGR over seeds. */
export interface PairResult {
  weak: string;
  strong: string;
  variant: "ce" | "aux";
  /** α_max of the auxiliary loss for this strong model (null for plain cross-entropy). */
  alphaMax: number | null;
  summary: PgrSummary;
  /** Each seed's test accuracies, the paired SE of ceiling − weak, and student–weak agreement. */
  seeds: (SeedAccuracies & { gapSe: number; agreement: number })[];
  /** Test agreement of the student with its weak supervisor, over seeds. */
  studentWeakAgreement: MeanInterval;
}

/** Everything the experiment measured (also `results.json`). */
export interface W2sResults {
  task: {
    name: string;
    description: string;
    classes: readonly string[];
    ladder: readonly string[];
    testSize: number;
  };
  config: W2sConfig;
  grid: W2sGrid;
  /** Parameters of each model label. */
  parameters: Record<string, number>;
  pairs: PairResult[];
  /** Every trained model's summary (no predictions). */
  trainings: Omit<TrainedModel, "testPredictions">[];
  /** Interval method, stated for the report. */
  method: string;
}

/** Options of `runWeakToStrong`. */
export interface RunW2sOptions {
  /** Root of run folders (default "runs"): the run goes to `<root>/weak-to-strong/<config-hash>`. */
  root?: string;
  /** Use exactly this folder. */
  dir?: string;
  /** Stop after this many optimizer steps in this invocation (tests simulate a kill with it). */
  stopAfterSteps?: number;
  /** Progress bars (default stderr); null to silence. */
  progress?: ProgressStream | null;
  /** Receives one line per finished or reused training (default: none). */
  log?: (line: string) => void;
  /** Write the report (default true). */
  report?: boolean;
  /** A preloaded task (tests reuse one). */
  task?: W2sTask;
}

/** How `runWeakToStrong` ended. */
export interface W2sOutcome {
  dir: string;
  status: "finished" | "interrupted" | "stopped";
  results: W2sResults | null;
  /** Keys trained (to the end) in this call, read back from the cache, and resumed from a checkpoint. */
  trained: string[];
  cached: string[];
  resumed: { key: string; step: number }[];
}

/** How the intervals over seeds are computed (stated in the report and results). */
export const CI_METHOD =
  "mean ± two-sided 95% Student-t interval over seeds (t quantile with n − 1 degrees of freedom)";

/**
 * Run (or resume) the experiment; see the module comment. Returns how it ended, what was
 * trained, reused or resumed, and (when finished) the results, also written to the run folder.
 *
 * @example
 * const dir = process.getBuiltinModule("node:fs").mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * const { config } = tg.w2s.w2sDefaults("fashion-mnist-sample", true);
 * const cfg = { ...config, epochs: 1, batchSize: 50, weakSize: 200, transferSize: 400 };
 * const grid = { weak: ["logistic"], strong: ["mlp:0.0625"], seeds: [0], auxConf: "on" };
 * const out = await tg.w2s.runWeakToStrong(cfg, grid, { dir, progress: null, report: false });
 * console.log(out.status, out.trained.length, out.results.pairs[0].variant); // "finished" 3 "aux"
 * const again = await tg.w2s.runWeakToStrong(cfg, grid, { dir, progress: null, report: false });
 * console.log(again.trained.length, again.cached.length); // 0 3
 */
export async function runWeakToStrong(
  cfg: W2sConfig,
  grid: W2sGrid,
  opts: RunW2sOptions = {},
): Promise<W2sOutcome> {
  validateW2sConfig(cfg);
  const task = opts.task ?? loadW2sTask(cfg.data, cfg.dataPath);
  const plan = planWeakToStrong(task, cfg, grid);
  const parameters = modelParameters(task, [...plan.weak, ...plan.strong]);
  const run = openRun({
    root: opts.root ?? "runs",
    experiment: "weak-to-strong",
    config: cfg,
    ...(opts.dir ? { dir: opts.dir } : {}),
  });
  writeFileAtomic(`${run.dir}/grid.json`, `${JSON.stringify(grid, null, 2)}\n`);
  const hp: TrainHyper = {
    epochs: cfg.epochs,
    batchSize: cfg.batchSize,
    lr: cfg.lr,
    earlyStop: cfg.earlyStop,
  };
  const K = task.classes.length;
  const top = task.ladder[task.ladder.length - 1];
  const interrupt = new Interrupt();
  const budget = opts.stopAfterSteps !== undefined ? { steps: opts.stopAfterSteps } : null;
  const out: W2sOutcome = {
    dir: run.dir,
    status: "finished",
    results: null,
    trained: [],
    cached: [],
    resumed: [],
  };
  const done = new Map<string, TrainedModel>();
  const weakLabels = new Map<string, Float32Array>();
  try {
    const splits = new Map<number, SeedSplit>();
    for (const pj of plan.jobs) {
      // A Ctrl-C that arrived while the last model was being evaluated stops before the next.
      await new Promise((resolve) => setImmediate(resolve));
      if (interrupt.requested) {
        out.status = "interrupted";
        break;
      }
      let s = splits.get(pj.seed);
      if (!s) {
        s = splitPool(task.poolLabels.length, cfg, pj.seed);
        splits.set(pj.seed, s);
      }
      const label = modelLabel(pj.model);
      let job: TrainJob;
      if (pj.role === "weak") {
        job = {
          key: pj.key,
          role: "weak",
          model: pj.model,
          seed: mixSeed(pj.seed, hashString(`weak|${label}`)),
          trainIdx: s.weakTrain,
          targets: { kind: "hard", labels: gather(task.poolLabels, s.weakTrain) },
          heldIdx: s.weakHeld,
          heldTargets: gather(task.poolLabels, s.weakHeld),
          aux: null,
          labelIdx: Int32Array.from([...s.transferTrain, ...s.transferHeld]),
        };
      } else {
        const seed = mixSeed(pj.seed, hashString(`strong|${label}`));
        if (pj.role === "ceiling") {
          job = {
            key: pj.key,
            role: "ceiling",
            model: pj.model,
            seed,
            trainIdx: s.transferTrain,
            targets: { kind: "hard", labels: gather(task.poolLabels, s.transferTrain) },
            heldIdx: s.transferHeld,
            heldTargets: gather(task.poolLabels, s.transferHeld),
            aux: null,
          };
        } else {
          const labels = weakLabels.get(`weak-${modelSlug(pj.weak!)}-s${pj.seed}`)!;
          const nt = s.transferTrain.length;
          const largest = pj.model.name === top;
          job = {
            key: pj.key,
            role: "student",
            model: pj.model,
            seed,
            trainIdx: s.transferTrain,
            targets: { kind: "soft", probs: labels.slice(0, nt * K), numClasses: K },
            heldIdx: s.transferHeld,
            heldTargets: argmaxRows(labels.subarray(nt * K), K),
            aux:
              pj.variant === "aux"
                ? {
                    alphaMax: largest ? cfg.alphaMaxLargest : cfg.alphaMax,
                    warmupFraction: cfg.warmupFraction,
                    hardening: cfg.hardening,
                  }
                : null,
          };
        }
      }
      const r = await trainGridModel(task, job, hp, `${run.dir}/models/${pj.key}`, {
        interrupt,
        budget,
        ...(opts.progress !== undefined ? { progress: opts.progress } : {}),
      });
      if (r.resumedFrom !== null) out.resumed.push({ key: pj.key, step: r.resumedFrom });
      if (r.status === "interrupted" || r.status === "stopped") {
        out.status = r.status;
        break;
      }
      const res = r.result!;
      done.set(pj.key, res);
      if (r.labels) weakLabels.set(pj.key, r.labels);
      if (r.status === "cached") out.cached.push(pj.key);
      else {
        out.trained.push(pj.key);
        run.log({
          key: pj.key,
          role: pj.role,
          model: label,
          seed: pj.seed,
          testAccuracy: res.testAccuracy,
          seconds: res.seconds,
          examplesPerSec: res.examplesPerSec,
        });
      }
      opts.log?.(
        `${r.status === "cached" ? "cached " : "trained"} ${pj.key}: test accuracy ${(100 * res.testAccuracy).toFixed(2)}%` +
          (r.status === "cached"
            ? ""
            : ` (${res.seconds.toFixed(1)} s, ${Math.round(res.examplesPerSec)} ex/s)`),
      );
    }
  } finally {
    interrupt.dispose();
    run.close();
  }
  if (out.status !== "finished") return out;
  const results = collectResults(task, cfg, grid, plan, done, parameters);
  writeFileAtomic(`${run.dir}/results.json`, `${JSON.stringify(results, null, 2)}\n`);
  if (opts.report !== false) writeW2sReport(run.dir, results);
  run.finish({
    pairs: results.pairs.map((p) => ({
      weak: p.weak,
      strong: p.strong,
      variant: p.variant,
      weakAccuracy: p.summary.weak.mean,
      studentAccuracy: p.summary.student.mean,
      ceilingAccuracy: p.summary.ceiling.mean,
      pgr: p.summary.pgr?.mean ?? null,
      pgrLow: p.summary.pgr?.low ?? null,
      pgrHigh: p.summary.pgr?.high ?? null,
      pgrUndefinedReason: p.summary.undefinedReason,
      definedSeeds: p.summary.definedSeeds,
      seeds: p.summary.seeds,
    })),
    earlyStop: cfg.earlyStop,
    method: CI_METHOD,
    trainings: results.trainings.length,
    trainingSeconds: results.trainings.reduce((a, t) => a + t.seconds, 0),
  });
  out.results = results;
  return out;
}

/** Parameter counts of model specs (building each once also validates it for the task). */
function modelParameters(task: W2sTask, specs: ModelSpec[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of specs) out[modelLabel(s)] ??= task.createModel(s).numParameters();
  return out;
}

function collectResults(
  task: W2sTask,
  cfg: W2sConfig,
  grid: W2sGrid,
  plan: W2sPlan,
  done: Map<string, TrainedModel>,
  parameters: Record<string, number>,
): W2sResults {
  const get = (key: string) => {
    const r = done.get(key);
    if (!r) throw new TsgradError("weak-to-strong", `no result for ${key}`);
    return r;
  };
  const top = task.ladder[task.ladder.length - 1];
  const pairs: PairResult[] = [];
  for (const p of plan.pairs) {
    for (const v of plan.variants) {
      const seeds = plan.seeds.map((seed) => {
        const weak = get(`weak-${modelSlug(p.weak)}-s${seed}`);
        const ceiling = get(`ceiling-${modelSlug(p.strong)}-s${seed}`);
        const student = get(`student-${modelSlug(p.weak)}-to-${modelSlug(p.strong)}-${v}-s${seed}`);
        let same = 0;
        weak.testPredictions.forEach((c, i) => {
          if (student.testPredictions[i] === c) same++;
        });
        return {
          seed,
          weak: weak.testAccuracy,
          student: student.testAccuracy,
          ceiling: ceiling.testAccuracy,
          gapSe: pairedGapStandardError(
            weak.testPredictions,
            ceiling.testPredictions,
            task.testLabels,
          ),
          agreement: same / task.testLabels.length,
        };
      });
      pairs.push({
        weak: modelLabel(p.weak),
        strong: modelLabel(p.strong),
        variant: v,
        alphaMax: v === "aux" ? (p.strong.name === top ? cfg.alphaMaxLargest : cfg.alphaMax) : null,
        summary: summarizePgr(seeds),
        seeds,
        studentWeakAgreement: meanInterval(seeds.map((s) => s.agreement)),
      });
    }
  }
  return {
    task: {
      name: task.name,
      description: task.description,
      classes: task.classes,
      ladder: task.ladder,
      testSize: task.testLabels.length,
    },
    config: cfg,
    grid,
    parameters,
    pairs,
    trainings: plan.jobs.map((j) => {
      // eslint-disable-next-line @typescript-eslint/no-unused-vars
      const { testPredictions, ...rest } = get(j.key);
      return rest;
    }),
    method: CI_METHOD,
  };
}

/**
 * Measured speed of one model: examples per second of wall time and per CPU-second (all threads
 * of the process), through training steps and through evaluation. On a shared machine the
 * CPU-time rates are the steadier guide: an idle machine's wall time lies between the CPU time
 * divided by the thread count and the CPU time itself.
 */
export interface Throughput {
  model: string;
  trainPerSec: number;
  evalPerSec: number;
  trainPerCpuSec: number;
  evalPerCpuSec: number;
}

/**
 * Measure training and evaluation throughput of a model on the active backend: Adam steps at
 * `batchSize` for about `seconds` (after one warm-up step, at least two), then forward passes at
 * batch 256 for half as long.
 *
 * @example
 * const task = tg.w2s.loadW2sTask("fashion-mnist-sample");
 * const t = tg.w2s.measureThroughput(task, { name: "logistic", width: 1 }, 32, 0.05);
 * console.log(t.model, t.trainPerSec > 0, t.evalPerCpuSec > 0); // "logistic" true true
 */
export function measureThroughput(
  task: W2sTask,
  spec: ModelSpec,
  batchSize: number,
  seconds = 3,
): Throughput {
  manualSeed(0);
  const model = task.createModel(spec);
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const pool = task.poolLabels.length;
  const batch = (b: number, n: number) =>
    Int32Array.from({ length: n }, (_, i) => (b * n + i) % pool);
  const step = (b: number) => {
    const idx = batch(b, batchSize);
    const y = tensor(
      Int32Array.from(idx, (i) => task.poolLabels[i]!),
      { shape: [batchSize] },
    );
    const loss = F.crossEntropy(model.forward(task.inputs("pool", idx)), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
  };
  /** Run `f` until `n >= 2` and `ms` elapsed; examples per wall second and per CPU-second. */
  const rate = (f: (i: number) => void, perCall: number, ms: number) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let n = 0;
    while (n < 2 || performance.now() - t0 < ms) f(n++);
    const cpu = process.cpuUsage(c0);
    const wall = (performance.now() - t0) / 1000;
    return [(n * perCall) / wall, (n * perCall) / Math.max(1e-6, (cpu.user + cpu.system) / 1e6)];
  };
  step(0);
  const [trainPerSec, trainPerCpuSec] = rate((i) => step(i + 1), batchSize, seconds * 1000);
  model.eval();
  const [evalPerSec, evalPerCpuSec] = noGrad(() =>
    rate((i) => model.forward(task.inputs("pool", batch(i, 256))).softmax(1), 256, seconds * 500),
  );
  return {
    model: modelLabel(spec),
    trainPerSec: trainPerSec!,
    evalPerSec: evalPerSec!,
    trainPerCpuSec: trainPerCpuSec!,
    evalPerCpuSec: evalPerCpuSec!,
  };
}

/** The plan's cost: per model, examples to train and evaluate, and the estimated seconds. */
export interface PlanEstimate {
  rows: {
    model: string;
    trainings: number;
    trainExamples: number;
    evalExamples: number;
    trainPerSec: number;
    evalPerSec: number;
    seconds: number;
  }[];
  totalSeconds: number;
}

/**
 * Estimate the wall time of a plan from measured (or assumed) throughputs per model label.
 *
 * @example
 * const task = tg.w2s.loadW2sTask("fashion-mnist-sample");
 * const { config, grid } = tg.w2s.w2sDefaults("fashion-mnist-sample", true);
 * const plan = tg.w2s.planWeakToStrong(task, config, grid);
 * const est = tg.w2s.estimatePlan(plan, { logistic: { trainPerSec: 1000, evalPerSec: 4000 }, "mlp:0.0625": { trainPerSec: 500, evalPerSec: 2000 } });
 * console.log(plan.jobs.length, est.rows.map((r) => r.trainings)); // 8 [2, 6]
 */
export function estimatePlan(
  plan: W2sPlan,
  rates: Record<string, { trainPerSec: number; evalPerSec: number }>,
): PlanEstimate {
  const rows = new Map<string, PlanEstimate["rows"][number]>();
  for (const j of plan.jobs) {
    const label = modelLabel(j.model);
    const r = rates[label];
    if (!r) throw new TsgradError("estimatePlan", `no throughput for model ${label}`);
    const row = rows.get(label) ?? {
      model: label,
      trainings: 0,
      trainExamples: 0,
      evalExamples: 0,
      ...r,
      seconds: 0,
    };
    row.trainings++;
    row.trainExamples += j.trainExamples;
    row.evalExamples += j.evalExamples;
    row.seconds = row.trainExamples / r.trainPerSec + row.evalExamples / r.evalPerSec;
    rows.set(label, row);
  }
  const list = [...rows.values()];
  return { rows: list, totalSeconds: list.reduce((a, r) => a + r.seconds, 0) };
}
