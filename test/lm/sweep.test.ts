import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import "../../src/index.js";
import * as lm from "../../src/lm/index.js";
import { QUIET, tempDir } from "./helpers.js";

const LN_VOCAB = Math.log(65);

describe("tg.lm.planSweep", () => {
  it("orders runs seed-major, shares the size run with the data series, and derives warmup", () => {
    const plan = lm.planSweep({ ...lm.QUICK_SWEEP, seeds: [0, 1] }, "runs");
    expect(plan.map((r) => `${r.size}@${r.tokens}/${r.seed}:${r.series.join("+")}`)).toEqual([
      "1x8x1@3840/0:size",
      "1x16x1@3840/0:size+data",
      "1x32x2@3840/0:size",
      "1x16x1@1280/0:data",
      "1x16x1@2560/0:data",
      "1x8x1@3840/1:size",
      "1x16x1@3840/1:size+data",
      "1x32x2@3840/1:size",
      "1x16x1@1280/1:data",
      "1x16x1@2560/1:data",
    ]);
    expect(plan[0]!.config.warmupSteps).toBe(6);
    expect(new Set(plan.map((r) => r.hash)).size).toBe(10);
  });

  it("fails before running anything on a bad size or a budget that is not whole steps", () => {
    expect(() => lm.planSweep({ ...lm.QUICK_SWEEP, sizes: ["1x8", "big"] })).toThrow(
      /model size "big"/,
    );
    expect(() => lm.planSweep({ ...lm.QUICK_SWEEP, tokens: [1000] })).toThrow(
      /tokens 1000 is not a whole number of steps of batchSize × blockSize = 64/,
    );
  });

  it("spans over 100x in non-embedding parameters in the full design", () => {
    const Ns = lm.planSweep(lm.FULL_SWEEP).map((r) => r.nonEmbeddingParams);
    expect(new Set(Ns).size).toBeGreaterThanOrEqual(6);
    expect(Math.max(...Ns) / Math.min(...Ns)).toBeGreaterThan(100);
  });
});

describe("tg.lm.runSweep (--quick, in process)", () => {
  it("trains three tiny models and a data series, skips them when re-run, and fits and plots", async () => {
    const root = tempDir();
    const quiet = {
      root,
      launcher: lm.inProcessLauncher(QUIET),
      log: () => {},
      handleSignals: false,
    };
    const first = await lm.runSweep(lm.QUICK_SWEEP, quiet);
    expect(first.finished.length).toBe(5);
    const again = await lm.runSweep(lm.QUICK_SWEEP, quiet);
    expect(again.skipped.length).toBe(5);
    expect(again.finished.length).toBe(0);
    const a = lm.analyzeScaling(`${root}/${lm.QUICK_SWEEP.name}`, { bootstrap: 50 });
    expect(a.runs.length).toBe(5);
    // Every model learned something: its loss is well below the uniform ln 65 = 4.17 nats.
    for (const r of a.runs) expect(r.loss).toBeLessThan(LN_VOCAB - 0.5);
    const h = a.sizeSeries!.holdout!;
    expect(h.size).toBe("1x32x2");
    expect(Number.isFinite(h.predicted)).toBe(true);
    expect(Math.abs(h.relativeError)).toBeLessThan(0.5);
    expect(a.dataSeries!.points.map((p) => p.D)).toEqual([1280, 2560, 3840]);
    expect(a.chinchilla).not.toBeNull();
    const out = `${root}/analysis`;
    lm.writeScalingReport(a, out);
    for (const f of ["loss-vs-params", "loss-vs-tokens", "loss-vs-compute"]) {
      for (const ext of ["svg", "png"]) expect(existsSync(`${out}/figures/${f}.${ext}`)).toBe(true);
    }
    for (const f of ["report.html", "report.md", "analysis.json"]) {
      expect(existsSync(`${out}/${f}`)).toBe(true);
    }
    // The fits table names each fit with its own variable and exponent.
    const md = readFileSync(`${out}/report.md`, "utf8");
    expect(md).toMatch(/\| L\(N\), without the largest \| 2 \| [^|]*N[^|]*α[^|]*\|.*\| α = /);
    expect(md).toMatch(/\| L\(D\), model 1x16x1 \| 3 \| [^|]*B·D\^-β[^|]*\|.*\| β = /);
  });
});
