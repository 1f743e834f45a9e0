/**
 * `tsgrad experiment weak-to-strong`: the weak-to-strong generalization grid (Burns et al. 2023)
 * on Fashion-MNIST or the Multi30k masked-subject task, with PGR over seeds and a report.
 * Re-running the same command resumes (finished models are reused). Values: the data's defaults
 * (`w2sDefaults`) < `--quick` < explicit flags.
 */
import * as tg from "../index.js";
import * as w2s from "../w2s/index.js";
import { parseFlags, usage, UsageError } from "./args.js";
import { applyBackend, backendFlags } from "./common.js";
import type { Command } from "./main.js";

const full = w2s.w2sDefaults("fashion-mnist");
const text = w2s.w2sDefaults("multi30k-subject");
const both = (k: keyof w2s.W2sConfig) =>
  `(default: ${String(full.config[k])}${full.config[k] === text.config[k] ? "" : `; multi30k-subject ${String(text.config[k])}`})`;

const flags = {
  data: {
    type: "string",
    choices: [...w2s.IMAGE_TASKS, ...w2s.TEXT_TASKS],
    default: "fashion-mnist",
    help: "task: Fashion-MNIST (full or the bundled sample) or masked-subject captions",
  },
  dataPath: { type: "string", help: "folder holding the data (else the usual search)" },
  weak: {
    type: "list",
    help: `weak models, name[:width] (default: ${full.grid.weak.join(",")}; text ${text.grid.weak.join(",")})`,
  },
  strong: {
    type: "list",
    help: `strong models (default: ${full.grid.strong.join(",")}; text ${text.grid.strong.join(",")})`,
  },
  seeds: { type: "list", help: `seeds (default: ${full.grid.seeds.join(",")})` },
  auxConf: {
    type: "string",
    choices: ["off", "on", "both"],
    help: "auxiliary confidence loss for students (default: both)",
  },
  epochs: { type: "int", min: 1, max: 100_000, help: `epochs of every training ${both("epochs")}` },
  batchSize: { type: "int", min: 1, max: 65_536, help: `batch size ${both("batchSize")}` },
  lr: {
    type: "number",
    min: 0,
    exclusiveMin: true,
    max: 10,
    help: `Adam learning rate, cosine-decayed ${both("lr")}`,
  },
  weakSize: {
    type: "int",
    min: 1,
    help: `ground-truth examples for the weak model ${both("weakSize")}`,
  },
  transferSize: {
    type: "int",
    min: 1,
    help: `examples the weak model labels (ceiling/student training) ${both("transferSize")}`,
  },
  heldoutFraction: {
    type: "number",
    min: 0,
    max: 0.5,
    help: `fraction of each split held out for early stopping ${both("heldoutFraction")}`,
  },
  earlyStop: {
    type: "string",
    choices: ["final", "weak-agreement"],
    help: "use the last epoch, or the epoch agreeing best with its own supervision on held-out data (default: final)",
  },
  alphaMax: {
    type: "number",
    min: 0,
    max: 1,
    help: `α_max of the confidence loss ${both("alphaMax")}`,
  },
  alphaMaxLargest: {
    type: "number",
    min: 0,
    max: 1,
    help: `α_max for the top model of the ladder ${both("alphaMaxLargest")}`,
  },
  warmupFraction: {
    type: "number",
    min: 0,
    max: 1,
    help: `fraction of steps over which α rises from 0 ${both("warmupFraction")}`,
  },
  harden: {
    type: "string",
    choices: ["prior", "argmax"],
    help: "hardening of the student's predictions: prior-matched assignment or argmax (default: prior)",
  },
  quick: {
    type: "boolean",
    default: false,
    help: "smoke run: bundled sample, logistic → narrow mlp (text: bow → narrow mlp), 2 seeds, 2 epochs",
  },
  plan: {
    type: "boolean",
    default: false,
    help: "print the trainings and a time estimate from measured throughput, then exit",
  },
  out: { type: "string", help: "run folder (default runs/weak-to-strong/<config-hash>)" },
  ...backendFlags,
} as const;

export const command: Command = {
  name: "experiment weak-to-strong",
  summary:
    "Weak-to-strong generalization: train weak supervisors, strong ceilings and strong students on weak labels; report PGR with intervals over seeds.",
  async run(argv) {
    const { flags: f, help, positionals } = parseFlags(argv, flags);
    if (help) {
      console.log(usage("experiment weak-to-strong", this.summary, flags));
      return 0;
    }
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const backend = applyBackend(f);
    const given = argv.some((a) => a === "--data" || a.startsWith("--data="));
    const data = f.quick && !given ? "fashion-mnist-sample" : f.data;
    const d = w2s.w2sDefaults(data, f.quick);
    const pick = <T>(v: T | undefined, dflt: T): T => (v === undefined ? dflt : v);
    const config: w2s.W2sConfig = {
      ...d.config,
      ...(f.dataPath !== undefined ? { dataPath: f.dataPath } : {}),
      epochs: pick(f.epochs, d.config.epochs),
      batchSize: pick(f.batchSize, d.config.batchSize),
      lr: pick(f.lr, d.config.lr),
      weakSize: pick(f.weakSize, d.config.weakSize),
      transferSize: pick(f.transferSize, d.config.transferSize),
      heldoutFraction: pick(f.heldoutFraction, d.config.heldoutFraction),
      earlyStop: pick(f.earlyStop, d.config.earlyStop) as w2s.W2sConfig["earlyStop"],
      alphaMax: pick(f.alphaMax, d.config.alphaMax),
      alphaMaxLargest: pick(f.alphaMaxLargest, d.config.alphaMaxLargest),
      warmupFraction: pick(f.warmupFraction, d.config.warmupFraction),
      hardening: pick(f.harden, d.config.hardening) as w2s.Hardening,
    };
    const seeds = f.seeds?.map((s) => {
      const v = Number(s);
      if (!(Number.isInteger(v) && v >= 0)) {
        throw new UsageError(`--seeds: "${s}" is not an integer >= 0`);
      }
      return v;
    });
    const grid: w2s.W2sGrid = {
      weak: pick(f.weak, d.grid.weak),
      strong: pick(f.strong, d.grid.strong),
      seeds: pick(seeds, d.grid.seeds),
      auxConf: pick(f.auxConf, d.grid.auxConf) as w2s.W2sGrid["auxConf"],
    };
    w2s.validateW2sConfig(config);
    const task = w2s.loadW2sTask(config.data, config.dataPath);
    const plan = w2s.planWeakToStrong(task, config, grid);
    console.error(
      `tsgrad experiment weak-to-strong: ${task.name}, ${plan.pairs.length} pairs × ${plan.variants.length} losses × ${plan.seeds.length} seeds = ${plan.jobs.length} trainings, early stopping ${config.earlyStop}, backend ${backend}`,
    );
    if (f.plan) {
      const rates: Record<string, w2s.Throughput> = {};
      for (const s of [...plan.weak, ...plan.strong]) {
        const label = w2s.modelLabel(s);
        rates[label] ??= w2s.measureThroughput(task, s, config.batchSize, f.quick ? 0.5 : 3);
      }
      const est = w2s.estimatePlan(plan, rates);
      const cpu = w2s.estimatePlan(
        plan,
        Object.fromEntries(
          Object.values(rates).map((r) => [
            r.model,
            { trainPerSec: r.trainPerCpuSec, evalPerSec: r.evalPerCpuSec },
          ]),
        ),
      );
      console.log(
        "model           trainings  train ex   eval ex  train ex/s  (per CPU-s)  eval ex/s  (per CPU-s)",
      );
      for (const r of est.rows) {
        const t = rates[r.model]!;
        const n = (v: number, w: number) => v.toFixed(0).padStart(w);
        console.log(
          `${r.model.padEnd(15)} ${n(r.trainings, 9)} ${n(r.trainExamples, 9)} ${n(r.evalExamples, 9)} ${n(t.trainPerSec, 11)} ${n(t.trainPerCpuSec, 12)} ${n(t.evalPerSec, 10)} ${n(t.evalPerCpuSec, 12)}`,
        );
      }
      const threads = tg.getBackend().numThreads?.() ?? 1;
      console.log(
        `estimate at the measured wall-clock speed: ${(est.totalSeconds / 60).toFixed(1)} min on ${backend}; ` +
          `CPU time ${(cpu.totalSeconds / 60).toFixed(1)} CPU-min (idle machine: ${(cpu.totalSeconds / 60 / threads).toFixed(1)}–${(cpu.totalSeconds / 60).toFixed(1)} min with ${threads} thread${threads === 1 ? "" : "s"})`,
      );
      return 0;
    }
    const res = await w2s.runWeakToStrong(config, grid, {
      task,
      ...(f.out !== undefined ? { dir: f.out } : {}),
      log: (line) => console.error(line),
    });
    if (res.status !== "finished") {
      console.log(
        `interrupted: ${res.trained.length} trainings finished in this call, state saved in ${res.dir}; run the same command again to resume`,
      );
      return 130;
    }
    console.log(
      `weak → strong (loss): weak / student / ceiling accuracy %, PGR [95% t-interval over seeds]`,
    );
    for (const p of res.results!.pairs) {
      const s = p.summary;
      const pgr = s.pgr
        ? `${s.pgr.mean.toFixed(3)}${s.pgr.low !== null ? ` [${s.pgr.low.toFixed(3)}, ${s.pgr.high!.toFixed(3)}]` : ""}`
        : `undefined (${s.undefinedReason ?? ""})`;
      console.log(
        `${p.weak} → ${p.strong} (${p.variant}): ${(100 * s.weak.mean).toFixed(2)} / ${(100 * s.student.mean).toFixed(2)} / ${(100 * s.ceiling.mean).toFixed(2)}, PGR ${pgr}`,
      );
    }
    console.log(
      `run folder: ${res.dir} (report.html, report.md, results.json; ${res.trained.length} trained, ${res.cached.length} reused)`,
    );
    return 0;
  },
};
