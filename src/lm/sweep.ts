/**
 * Scaling sweeps: a thin launcher of single `train lm` runs. The plan is a list of complete run
 * configs (model sizes × token budgets × seeds, plus a data-size series for one model); each run
 * lives in `<root>/<sweep>/<config-hash>/`, so re-running the sweep skips finished runs (they
 * have `summary.json`) and resumes interrupted ones from their newest checkpoint. Runs go to child
 * processes by default (memory is isolated and a crash takes down one run, not the sweep), or
 * in-process. Every decision is appended to `<root>/<sweep>/sweep-log.jsonl`.
 */
import { writeFileAtomic } from "../io/atomic.js";
import { errorMessage, nodeModule } from "../io/node.js";
import { isRunFinished, latestCheckpoint, openRun, runDir } from "../io/runs.js";
import { TsgradError } from "../tensor/errors.js";
import { TransformerLM } from "../models/transformer-lm.js";
import { Interrupt, type SignalName } from "../train/interrupt.js";
import { type LMConfig, parseModelSize, resolveLMConfig, sizeLabel, stepsOf } from "./config.js";
import { type TrainLMOptions, trainLM } from "./trainer.js";

/** What to sweep. */
export interface SweepSpec {
  /** Experiment name: runs go to `<root>/<name>/<config-hash>/`. */
  name: string;
  /** Model sizes (`"LxE"` or `"LxExH"`, see `parseModelSize`), each trained at every `tokens`. */
  sizes: string[];
  /** Token budgets D of the model-size series. */
  tokens: number[];
  /** The model size of the data-size series (default: none). */
  dataSize?: string;
  /** Token budgets of the data-size series. */
  dataTokens?: number[];
  /** Seeds: every run is repeated once per seed. */
  seeds: number[];
  /**
   * Settings shared by every run (text, blockSize, batchSize, lr, evaluation, …); the model
   * size, tokens, seed and warmup are set per run.
   */
  base: Readonly<Record<string, unknown>>;
  /** Warmup as a fraction of each run's steps (each run's cosine ends at its own budget). */
  warmupFraction: number;
}

/** One run of a sweep. */
export interface PlannedRun {
  config: LMConfig;
  hash: string;
  dir: string;
  size: string;
  tokens: number;
  seed: number;
  /** Which series it belongs to: the model-size series, the data-size series, or both. */
  series: ("size" | "data")[];
  /** Non-embedding parameters N. */
  nonEmbeddingParams: number;
  /** Forward FLOPs per token (`TransformerLM.flopsPerToken`). */
  flopsPerToken: number;
}

/**
 * The experiment of `experiments/scaling-laws/README.md`: six model sizes from 1x16 to 4x96
 * (3.3k to 448k non-embedding parameters, 135×) at D = 8 192 000 tokens (4000 steps of 32 × 64),
 * plus D = 1 024 000, 2 048 000 and 4 096 000 for the 3x64 model; one seed (a second does not fit
 * the two-hour budget on two cores; add it with `--seeds 0,1`, finished runs are skipped).
 *
 * @example
 * console.log(tg.lm.planSweep(tg.lm.FULL_SWEEP).length); // 9
 */
export const FULL_SWEEP: Readonly<SweepSpec> = Object.freeze({
  name: "scaling",
  sizes: ["1x16", "1x32", "2x48", "2x64", "3x64", "4x96"],
  tokens: [8_192_000],
  dataSize: "3x64",
  dataTokens: [1_024_000, 2_048_000, 4_096_000],
  seeds: [0],
  base: {
    blockSize: 64,
    batchSize: 32,
    lr: 2e-3,
    minLrFactor: 0.1,
    dropout: 0,
    weightDecay: 0.1,
    evalInterval: 1000,
    evalBatches: 20,
    evalBatchSize: 32,
    logInterval: 50,
  },
  warmupFraction: 0.05,
});

/**
 * A sweep small enough for CI on the JS backend: three tiny models for 60 steps of 4 × 16 tokens,
 * plus 20 and 40 steps for the middle one (240 steps in all).
 *
 * @example
 * console.log(tg.lm.planSweep(tg.lm.QUICK_SWEEP).reduce((s, r) => s + tg.lm.stepsOf(r.config), 0)); // 240
 */
export const QUICK_SWEEP: Readonly<SweepSpec> = Object.freeze({
  name: "scaling-quick",
  sizes: ["1x8x1", "1x16x1", "1x32x2"],
  tokens: [3840],
  dataSize: "1x16x1",
  dataTokens: [1280, 2560],
  seeds: [0],
  base: {
    blockSize: 16,
    batchSize: 4,
    lr: 1e-2,
    minLrFactor: 0.1,
    evalInterval: 0,
    evalBatches: 4,
    evalBatchSize: 8,
    logInterval: 10,
  },
  warmupFraction: 0.1,
});

/**
 * The runs of a sweep, validated before anything starts (a bad size or a budget that is not a
 * whole number of steps fails here, not an hour in), duplicates removed.
 *
 * @example
 * const plan = tg.lm.planSweep(tg.lm.QUICK_SWEEP, "runs");
 * console.log(plan.length, plan.map((r) => r.series.join("+"))); // 5 ["size", "size+data", "size", "data", "data"]
 */
export function planSweep(spec: Readonly<SweepSpec>, root = "runs"): PlannedRun[] {
  const op = `sweep ${spec.name}`;
  if (spec.sizes.length === 0) throw new TsgradError(op, "no model sizes given");
  if (spec.tokens.length === 0) throw new TsgradError(op, "no token budgets given");
  if (spec.seeds.length === 0) throw new TsgradError(op, "no seeds given");
  if (!(spec.warmupFraction >= 0 && spec.warmupFraction < 1)) {
    throw new TsgradError(op, `warmupFraction must be in [0, 1), got ${spec.warmupFraction}`);
  }
  // Seed-major order: an interrupted sweep has complete series for its first seeds.
  const wanted: { size: string; tokens: number; seed: number; series: "size" | "data" }[] = [];
  for (const seed of spec.seeds) {
    for (const size of spec.sizes) {
      for (const tokens of spec.tokens) wanted.push({ size, tokens, seed, series: "size" });
    }
    // The data series is dataTokens plus, when dataSize is also in the size series, its budgets.
    if (spec.dataSize !== undefined) {
      for (const tokens of [...(spec.dataTokens ?? []), ...spec.tokens]) {
        wanted.push({ size: spec.dataSize, tokens, seed, series: "data" });
      }
    }
  }
  const byHash = new Map<string, PlannedRun>();
  const countsBySize = new Map<string, { N: number; flops: number }>();
  for (const w of wanted) {
    const shape = parseModelSize(w.size);
    const probe = resolveLMConfig(
      { ...spec.base, ...shape, tokens: w.tokens, seed: w.seed, warmupSteps: 0 },
      `${op}, size ${w.size}, tokens ${w.tokens}`,
    );
    const config = resolveLMConfig(
      { ...probe, warmupSteps: Math.round(spec.warmupFraction * stepsOf(probe)) },
      op,
    );
    const dir = runDir(root, spec.name, config);
    const hash = dir.slice(dir.lastIndexOf("/") + 1);
    const seen = byHash.get(hash);
    if (seen) {
      if (!seen.series.includes(w.series)) seen.series.push(w.series);
      continue;
    }
    // Exact counts need the vocabulary size, known only from the text: use Tiny Shakespeare's 65
    // here; the run's summary records the exact numbers of the text it read.
    const shapeKey = `${sizeLabel(config)}/${config.blockSize}/${config.bias}`;
    let counts = countsBySize.get(shapeKey);
    if (counts === undefined) {
      const model = new TransformerLM({
        vocabSize: 65,
        blockSize: config.blockSize,
        nLayer: config.nLayer,
        nHead: config.nHead,
        nEmbd: config.nEmbd,
        bias: config.bias,
      });
      counts = { N: model.parameterCount().nonEmbedding, flops: model.flopsPerToken() };
      countsBySize.set(shapeKey, counts);
    }
    byHash.set(hash, {
      config,
      hash,
      dir,
      size: sizeLabel(config),
      tokens: config.tokens,
      seed: config.seed,
      series: [w.series],
      nonEmbeddingParams: counts.N,
      flopsPerToken: counts.flops,
    });
  }
  return [...byHash.values()];
}

/** How a launched run ended. */
export interface LaunchResult {
  status: "finished" | "interrupted" | "failed";
  /** Why it failed (exit code, signal or error message). */
  reason?: string;
}

/** Runs one planned run to completion (or interruption), e.g. in a child process. */
export interface Launcher {
  launch(run: PlannedRun, ctx: { root: string; experiment: string }): Promise<LaunchResult>;
  /** Pass a termination signal on to the running run (SIGTERM sent to the sweep alone). */
  forward?(signal: SignalName): void;
}

/**
 * Environment variable that marks a run as started by a sweep (its value: the sweep's pid).
 *
 * @example
 * console.log(tg.lm.SWEEP_PID_ENV); // "TSGRAD_SWEEP_PID"
 */
export const SWEEP_PID_ENV = "TSGRAD_SWEEP_PID";

/**
 * For a run started by a sweep (`TSGRAD_SWEEP_PID` set, with an IPC channel to the sweep): a check
 * that turns true once the sweep process is gone, so the run stops instead of racing a restarted
 * sweep. The channel's closing is the signal: the kernel closes it when the sweep dies, even by
 * SIGKILL. Undefined when not started by a sweep.
 *
 * @example
 * console.log(tg.lm.sweepParentGone({})); // undefined
 */
export function sweepParentGone(
  env: Readonly<Record<string, string | undefined>> = process.env,
): (() => boolean) | undefined {
  if (env[SWEEP_PID_ENV] === undefined || typeof process.send !== "function") return undefined;
  let gone = !process.connected;
  process.once("disconnect", () => {
    gone = true;
  });
  // The channel only carries the sweep's death: it must not keep this process alive.
  process.channel?.unref();
  return () => gone;
}

/**
 * Run each planned run in a child process: `node <command…> --config <run>/config.json --root
 * <root> --experiment <sweep> <extraArgs…>` (the command is the `train lm` CLI). Exit code 0 is
 * finished, 130 (or death by SIGINT/SIGTERM) interrupted, anything else failed.
 *
 * @example
 * const launcher = tg.lm.childProcessLauncher(["bin/tsgrad.js", "train", "lm"]);
 * console.log(typeof launcher.launch); // "function"
 */
export function childProcessLauncher(
  command: readonly string[],
  extraArgs: readonly string[] = [],
): Launcher {
  let current: { kill(signal: SignalName): boolean } | null = null;
  return {
    launch(run, ctx) {
      const { spawn } = nodeModule("childProcessLauncher", "node:child_process");
      const args = [
        ...command,
        "--config",
        `${run.dir}/config.json`,
        "--root",
        ctx.root,
        "--experiment",
        ctx.experiment,
        ...extraArgs,
      ];
      return new Promise((resolve) => {
        const child = spawn(process.execPath, args, {
          // The IPC channel closes when the sweep dies, which tells the child to stop.
          stdio: ["inherit", "inherit", "inherit", "ipc"],
          env: { ...process.env, [SWEEP_PID_ENV]: String(process.pid) },
        });
        current = child;
        child.on("error", (e) => {
          current = null;
          resolve({ status: "failed", reason: errorMessage(e) });
        });
        child.on("exit", (code, signal) => {
          current = null;
          if (code === 0) resolve({ status: "finished" });
          else if (code === 130 || signal === "SIGINT" || signal === "SIGTERM") {
            resolve({ status: "interrupted" });
          } else {
            resolve({
              status: "failed",
              reason: signal ? `killed by ${signal}` : `exit code ${code}`,
            });
          }
        });
      });
    },
    forward(signal) {
      current?.kill(signal);
    },
  };
}

/**
 * Run each planned run in this process with `trainLM` (signals are handled by the sweep).
 *
 * @example
 * const launcher = tg.lm.inProcessLauncher({ progress: false });
 * console.log(typeof launcher.launch); // "function"
 */
export function inProcessLauncher(opts: TrainLMOptions = {}): Launcher & { stop(): void } {
  let stopping = false;
  return {
    async launch(run, ctx) {
      try {
        const res = await trainLM(run.config, {
          ...opts,
          root: ctx.root,
          experiment: ctx.experiment,
          handleSignals: false,
          stopIf: () => stopping || opts.stopIf?.() === true,
        });
        return {
          status:
            res.status === "finished" || res.status === "skipped" ? "finished" : "interrupted",
        };
      } catch (e) {
        return { status: "failed", reason: errorMessage(e) };
      }
    },
    forward() {
      stopping = true;
    },
    stop() {
      stopping = true;
    },
  };
}

/** Options of `runSweep`. */
export interface RunSweepOptions {
  /** Folder of all experiments; default `"runs"`. */
  root?: string;
  /** How runs are carried out; default in-process. */
  launcher?: Launcher;
  /** Status lines; default to stderr. */
  log?: (message: string) => void;
  /** Handle Ctrl-C / SIGTERM: stop after the current run checkpoints; default true. */
  handleSignals?: boolean;
}

/** What a sweep invocation did, by run hash. */
export interface SweepResult {
  finished: string[];
  skipped: string[];
  resumed: string[];
  failed: { hash: string; reason: string }[];
  /** True if the sweep stopped early on a signal. */
  interrupted: boolean;
}

/**
 * Carry out a sweep: skip finished runs, resume interrupted ones, launch the rest in plan order.
 * A failed run is reported and the sweep moves on (re-running the sweep retries it).
 *
 * @example
 * const { mkdtempSync, writeFileSync } = process.getBuiltinModule("node:fs");
 * const root = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * writeFileSync(root + "/ab.txt", "abcd".repeat(100));
 * const spec = { ...tg.lm.QUICK_SWEEP, name: "tiny", sizes: ["1x8x1", "1x16x1"], tokens: [320], dataSize: undefined, base: { ...tg.lm.QUICK_SWEEP.base, text: root + "/ab.txt" } };
 * const quiet = { root, launcher: tg.lm.inProcessLauncher({ progress: false, log: () => {}, gitCwd: false }), log: () => {}, handleSignals: false };
 * console.log((await tg.lm.runSweep(spec, quiet)).finished.length); // 2
 * console.log((await tg.lm.runSweep(spec, quiet)).skipped.length); // 2
 */
export async function runSweep(
  spec: Readonly<SweepSpec>,
  opts: RunSweepOptions = {},
): Promise<SweepResult> {
  const { root = "runs" } = opts;
  const launcher = opts.launcher ?? inProcessLauncher();
  const say = opts.log ?? ((m: string) => void process.stderr.write(`${m}\n`));
  const plan = planSweep(spec, root);
  const fs = nodeModule("runSweep", "node:fs");
  fs.mkdirSync(`${root}/${spec.name}`, { recursive: true });
  const logPath = `${root}/${spec.name}/sweep-log.jsonl`;
  const event = (e: Record<string, unknown>) =>
    fs.appendFileSync(
      logPath,
      `${JSON.stringify({ time: new Date().toISOString(), pid: process.pid, ...e })}\n`,
    );
  writeFileAtomic(`${root}/${spec.name}/sweep.json`, `${JSON.stringify(spec, null, 2)}\n`);
  const result: SweepResult = {
    finished: [],
    skipped: [],
    resumed: [],
    failed: [],
    interrupted: false,
  };
  let stop = false;
  const interrupt =
    opts.handleSignals === false
      ? null
      : new Interrupt((signal) => {
          stop = true;
          // Ctrl-C reaches the child too (same process group); a SIGTERM sent to the sweep alone
          // must be passed on.
          if (signal === "SIGTERM") launcher.forward?.(signal);
          say(
            `${signal}: the current run will checkpoint and the sweep stop (again to quit at once)`,
          );
        });
  event({ event: "sweep-start", runs: plan.length });
  try {
    for (const [i, run] of plan.entries()) {
      const tag = `[${i + 1}/${plan.length}] ${run.size} D=${run.tokens} seed ${run.seed} (${run.hash})`;
      const ids = { hash: run.hash, size: run.size, tokens: run.tokens, seed: run.seed };
      if (isRunFinished(run.dir)) {
        result.skipped.push(run.hash);
        event({ event: "skip", ...ids });
        say(`${tag}: finished earlier, skipped`);
        continue;
      }
      if (stop) break;
      // Writes config.json, which is what a child process is given.
      openRun({ experiment: spec.name, config: run.config, root }).close();
      const ck = latestCheckpoint(run.dir);
      if (ck !== null) {
        result.resumed.push(run.hash);
        event({ event: "resume", fromStep: ck.step, ...ids });
        say(`${tag}: resuming from step ${ck.step} of ${stepsOf(run.config)}`);
      } else {
        event({ event: "launch", ...ids });
        say(`${tag}: training ${stepsOf(run.config)} steps`);
      }
      const res = await launcher.launch(run, { root, experiment: spec.name });
      if (res.status === "finished" && isRunFinished(run.dir)) {
        result.finished.push(run.hash);
        event({ event: "finish", ...ids });
      } else if (res.status === "interrupted" || stop) {
        result.interrupted = true;
        event({ event: "interrupted", ...ids });
        say(`${tag}: interrupted; run the sweep again to resume`);
        break;
      } else {
        const reason = res.reason ?? "the run ended without a summary";
        result.failed.push({ hash: run.hash, reason });
        event({ event: "fail", reason, ...ids });
        say(`${tag}: FAILED (${reason}); continuing, re-run the sweep to retry`);
      }
    }
  } finally {
    interrupt?.dispose();
    event({
      event: "sweep-end",
      finished: result.finished.length,
      skipped: result.skipped.length,
      failed: result.failed.length,
      interrupted: result.interrupted,
    });
  }
  return result;
}

/** Throughput assumptions for estimating a sweep's duration before running it. */
export interface CostAssumptions {
  /** Sustained training FLOP/s in units of 1e9 (forward + backward). */
  gflops: number;
  /** Fixed cost per optimizer step in milliseconds (op dispatch, optimizer, small kernels). */
  stepOverheadMs: number;
}

/**
 * Estimated seconds of one run: per step, `stepOverheadMs` plus batch × block × 3 × forward
 * FLOPs per token at `gflops`; evaluations (start, every `evalInterval`, end; both splits) cost a
 * third of that per token.
 *
 * @example
 * const [run] = tg.lm.planSweep({ ...tg.lm.FULL_SWEEP, sizes: ["4x128"], dataSize: undefined, seeds: [0] });
 * console.log(Math.round(tg.lm.estimateRunSeconds(run, { gflops: 60, stepOverheadMs: 30 }))); // 838
 */
export function estimateRunSeconds(run: PlannedRun, a: CostAssumptions): number {
  const c = run.config;
  const steps = stepsOf(c);
  const stepTokens = c.batchSize * c.blockSize;
  const train =
    steps * (a.stepOverheadMs / 1000 + (stepTokens * 3 * run.flopsPerToken) / (a.gflops * 1e9));
  const evals = (c.evalInterval > 0 ? Math.ceil(steps / c.evalInterval) : 0) + 1;
  const evalBatches = evals * 2 * c.evalBatches;
  const evalTokens = c.evalBatchSize * c.blockSize;
  const evaluation =
    evalBatches * (a.stepOverheadMs / 3000 + (evalTokens * run.flopsPerToken) / (a.gflops * 1e9));
  return train + evaluation;
}
