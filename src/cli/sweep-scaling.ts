/**
 * `tsgrad sweep scaling`: launch the single `train lm` runs of a scaling sweep (model sizes ×
 * token budgets × seeds, plus a data-size series), each in a child process by default. Re-running
 * skips finished runs and resumes interrupted ones. Defaults: the experiment of
 * experiments/scaling-laws/README.md; `--quick`: three tiny models for CI.
 */
import { fileURLToPath } from "node:url";
import * as tg from "../index.js";
import * as lm from "../lm/index.js";
import { UsageError, parseFlags, usage } from "./args.js";
import type { Command } from "./main.js";

const F = lm.FULL_SWEEP;
const Q = lm.QUICK_SWEEP;
/** Help text with the defaults of the full design and of --quick. */
const both = (help: string, full: unknown, quick: unknown) =>
  `${help} (default: ${String(full)}; --quick: ${String(quick)})`;

/** A shared run setting's default in the full design and in --quick. */
const baseHelp = (help: string, key: keyof lm.LMConfig) =>
  both(help, F.base[key] ?? lm.LM_DEFAULTS[key], Q.base[key] ?? lm.LM_DEFAULTS[key]);

/** A shared run setting's bounds, from the LM config schema. */
const bounds = (key: keyof lm.LMConfig) => {
  const s: lm.LMFieldSpec = lm.LM_CONFIG_SCHEMA[key];
  return {
    ...(s.min !== undefined ? { min: s.min } : {}),
    ...(s.max !== undefined ? { max: s.max } : {}),
    ...(s.positive ? { exclusiveMin: true } : {}),
  };
};

const flags = {
  quick: { type: "boolean", help: "three tiny models, 240 steps in all (CI)", default: false },
  name: { type: "string", help: both("sweep name: runs go to <root>/<name>/", F.name, Q.name) },
  root: { type: "string", help: "folder of all run folders", default: "runs" },
  sizes: { type: "list", help: both("model sizes <layers>x<width>[x<heads>]", F.sizes, Q.sizes) },
  tokens: { type: "list", help: both("token budgets D of the size series", F.tokens, Q.tokens) },
  dataSize: {
    type: "string",
    help: both("model size of the data series ('' for none)", F.dataSize, Q.dataSize),
  },
  dataTokens: {
    type: "list",
    help: both("extra token budgets of the data series", F.dataTokens, Q.dataTokens),
  },
  seeds: { type: "list", help: both("seeds; every run is repeated per seed", F.seeds, Q.seeds) },
  text: { type: "string", help: "UTF-8 text file (default: Tiny Shakespeare)" },
  blockSize: {
    type: "int",
    ...bounds("blockSize"),
    help: baseHelp("context length of every run", "blockSize"),
  },
  batchSize: {
    type: "int",
    ...bounds("batchSize"),
    help: baseHelp("batch size of every run", "batchSize"),
  },
  lr: { type: "number", ...bounds("lr"), help: baseHelp("peak learning rate of every run", "lr") },
  dropout: {
    type: "number",
    ...bounds("dropout"),
    help: baseHelp("dropout of every run", "dropout"),
  },
  warmupFraction: {
    type: "number",
    min: 0,
    max: 1,
    help: both("warmup as a fraction of each run's steps", F.warmupFraction, Q.warmupFraction),
  },
  evalInterval: {
    type: "int",
    ...bounds("evalInterval"),
    help: baseHelp("evaluate every N steps", "evalInterval"),
  },
  evalBatches: {
    type: "int",
    ...bounds("evalBatches"),
    help: baseHelp("fixed evaluation batches per split", "evalBatches"),
  },
  checkpointInterval: { type: "int", help: "checkpoint every N steps", default: 250 },
  inline: { type: "boolean", help: "train in this process instead of child processes" },
  backend: { type: "string", help: "compute backend for the runs (sets TSGRAD_BACKEND)" },
  plan: { type: "boolean", help: "print the runs and an estimated duration, then exit" },
  assumeGflops: {
    type: "number",
    min: 0,
    exclusiveMin: true,
    help: "--plan: sustained training GFLOP/s",
    default: 60,
  },
  assumeStepMs: {
    type: "number",
    min: 0,
    help: "--plan: fixed milliseconds per step",
    default: 30,
  },
} as const;

function numbers(flag: string, values: string[]): number[] {
  return values.map((v) => {
    const n = Number(v.replaceAll("_", ""));
    if (!Number.isSafeInteger(n) || n <= 0) {
      throw new UsageError(`--${flag} takes positive integers, got "${v}"`);
    }
    return n;
  });
}

export const command: Command = {
  name: "sweep scaling",
  summary:
    "Train a grid of character LMs over model size and token budget (resumable), for `tsgrad analyze scaling`.",
  async run(argv) {
    const { flags: f, positionals, help } = parseFlags(argv, flags);
    if (help) {
      console.log(usage("sweep scaling", this.summary, flags));
      return 0;
    }
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const preset = f.quick ? lm.QUICK_SWEEP : lm.FULL_SWEEP;
    const base: Record<string, unknown> = { ...preset.base };
    for (const k of [
      "text",
      "blockSize",
      "batchSize",
      "lr",
      "dropout",
      "evalInterval",
      "evalBatches",
    ] as const) {
      if (f[k] !== undefined) base[k] = f[k];
    }
    const spec: lm.SweepSpec = {
      name: f.name ?? preset.name,
      sizes: f.sizes ?? preset.sizes,
      tokens: f.tokens ? numbers("tokens", f.tokens) : preset.tokens,
      dataSize: f.dataSize === undefined ? preset.dataSize : f.dataSize || undefined,
      dataTokens: f.dataTokens ? numbers("data-tokens", f.dataTokens) : preset.dataTokens,
      seeds: f.seeds ? f.seeds.map((s) => Number(s)) : preset.seeds,
      base,
      warmupFraction: f.warmupFraction ?? preset.warmupFraction,
    };
    if (spec.seeds.some((s) => !Number.isSafeInteger(s) || s < 0)) {
      throw new UsageError(`--seeds takes non-negative integers, got ${f.seeds?.join(",")}`);
    }
    if (f.backend !== undefined) {
      tg.setBackend(f.backend); // in this process (--inline), and checked before anything runs
      process.env.TSGRAD_BACKEND = f.backend; // for the child processes
    }

    if (f.plan) {
      const plan = lm.planSweep(spec, f.root);
      const assume = { gflops: f.assumeGflops, stepOverheadMs: f.assumeStepMs };
      let total = 0;
      console.log("size       N(non-emb)   D            seed  series     C=6ND      est. time");
      for (const r of plan) {
        const s = lm.estimateRunSeconds(r, assume);
        total += s;
        console.log(
          `${r.size.padEnd(10)} ${String(r.nonEmbeddingParams).padStart(10)}   ${String(r.tokens).padEnd(12)} ${String(r.seed).padEnd(5)} ${r.series.join("+").padEnd(10)} ${(6 * r.nonEmbeddingParams * r.tokens).toExponential(2)}   ${(s / 60).toFixed(1)} min`,
        );
      }
      console.log(
        `${plan.length} runs, about ${(total / 60).toFixed(0)} minutes at ${f.assumeGflops} GFLOP/s + ${f.assumeStepMs} ms/step`,
      );
      return 0;
    }
    const bin = fileURLToPath(new URL("../../bin/tsgrad.js", import.meta.url));
    const launcher = f.inline
      ? lm.inProcessLauncher({ checkpointInterval: f.checkpointInterval })
      : lm.childProcessLauncher(
          [bin, "train", "lm"],
          ["--checkpoint-interval", String(f.checkpointInterval)],
        );
    const res = await lm.runSweep(spec, { root: f.root, launcher });
    console.log(
      `sweep ${spec.name}: ${res.finished.length} trained, ${res.skipped.length} already done, ` +
        `${res.resumed.length} resumed, ${res.failed.length} failed${res.interrupted ? ", interrupted" : ""}`,
    );
    if (!res.interrupted && res.failed.length === 0) {
      console.log(`next: tsgrad analyze scaling ${f.root}/${spec.name}`);
    }
    return res.interrupted ? 130 : res.failed.length ? 1 : 0;
  },
};
