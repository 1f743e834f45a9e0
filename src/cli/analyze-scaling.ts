/**
 * `tsgrad analyze scaling runs/<sweep>`: fit scaling laws to a sweep's finished runs (reading the
 * run folders only), predict the largest model from the smaller ones, and write the plots (SVG and
 * PNG), an HTML and a Markdown report, and analysis.json.
 */
import { join } from "node:path";
import * as lm from "../lm/index.js";
import { UsageError, parseFlags, usage } from "./args.js";
import type { Command } from "./main.js";

const flags = {
  out: { type: "string", help: "output folder (default: <sweep>/analysis)" },
  bootstrap: {
    type: "int",
    max: 1_000_000,
    help: "bootstrap resamples for the power laws",
    default: 1000,
  },
  bootstrapChinchilla: {
    type: "int",
    max: 1_000_000,
    help: "bootstrap resamples for the Chinchilla fit",
    default: 200,
  },
  seed: { type: "int", max: 2 ** 32 - 1, help: "bootstrap seed", default: 0 },
  json: { type: "boolean", help: "print analysis.json to stdout", default: false },
} as const;

const f4 = (v: number) => (Number.isFinite(v) ? Number(v.toPrecision(4)).toString() : "—");
const ci = (c: { low: number; high: number } | null) =>
  c ? ` [95% CI ${f4(c.low)}, ${f4(c.high)}]` : "";

export const command: Command = {
  name: "analyze scaling",
  summary:
    "Fit L(N) (and L(N, D)) to a sweep's runs, predict the largest model from the rest, and write plots and reports.",
  run(argv) {
    const { flags: f, positionals, help } = parseFlags(argv, flags);
    if (help) {
      console.log(usage("analyze scaling", this.summary, flags, "<runs/sweep>"));
      return 0;
    }
    if (positionals.length !== 1) {
      throw new UsageError("give exactly one sweep folder, e.g. runs/scaling");
    }
    const dir = positionals[0]!;
    if (f.bootstrap < 0 || f.bootstrapChinchilla < 0) {
      throw new UsageError("bootstrap sample counts must be >= 0");
    }
    const a = lm.analyzeScaling(dir, {
      bootstrap: f.bootstrap,
      bootstrapChinchilla: f.bootstrapChinchilla,
      seed: f.seed,
    });
    const out = f.out ?? join(dir, "analysis");
    const files = lm.writeScalingReport(a, out);
    if (f.json) {
      console.log(JSON.stringify(lm.analysisJson(a), null, 2));
      return 0;
    }
    console.log(`${a.runs.length} finished runs (${a.unfinished.length} unfinished) in ${a.dir}`);
    const h = a.sizeSeries?.holdout;
    if (a.sizeSeries?.fitAll) {
      const fa = a.sizeSeries.fitAll;
      console.log(
        `L(N), all sizes:       E ${f4(fa.E)}, A ${f4(fa.A)}, α ${f4(fa.alpha)}${ci(fa.alphaCI)}, R² ${f4(fa.r2)}`,
      );
    }
    if (h) {
      console.log(
        `L(N) without ${h.size}: ${h.fit.form.replace("x", "N")}: E ${f4(h.fit.E)}, A ${f4(h.fit.A)}, α ${f4(h.fit.alpha)}${ci(h.fit.alphaCI)}`,
      );
      console.log(
        `held-out ${h.size} (N = ${h.N}, D = ${h.D}): predicted ${f4(h.predicted)}, measured ${f4(h.measured)}, relative error ${(100 * h.relativeError).toFixed(2)}%`,
      );
    }
    if (a.dataSeries) {
      const d = a.dataSeries.fit;
      console.log(
        `L(D), ${a.dataSeries.size}:  E ${f4(d.E)}, B ${f4(d.A)}, β ${f4(d.alpha)}${ci(d.alphaCI)}`,
      );
    }
    if (a.chinchilla) {
      const c = a.chinchilla;
      console.log(
        `L(N, D): E ${f4(c.E)}, A ${f4(c.A)}, α ${f4(c.alpha)}${ci(c.alphaCI)}, B ${f4(c.B)}, β ${f4(c.beta)}${ci(c.betaCI)}, R² ${f4(c.r2)}`,
      );
      if (c.holdout) {
        console.log(
          `  held-out prediction ${f4(c.holdout.predicted)} vs ${f4(c.holdout.measured)} (${(100 * c.holdout.relativeError).toFixed(2)}%)`,
        );
      }
    }
    for (const n of a.notes) console.log(`note: ${n}`);
    console.log(
      `wrote ${files.length} files to ${out}: report.html, report.md, analysis.json, figures/`,
    );
    return 0;
  },
};
