import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import * as lm from "../../src/lm/index.js";
import { tempDir } from "./helpers.js";

/** Write a fake finished run folder with the summary fields the analysis reads. */
function fakeRun(dir: string, name: string, N: number, D: number, loss: number, seed = 0): void {
  mkdirSync(`${dir}/${name}`, { recursive: true });
  writeFileSync(`${dir}/${name}/config.json`, JSON.stringify({ seed }));
  writeFileSync(
    `${dir}/${name}/summary.json`,
    JSON.stringify({
      finalValLoss: loss,
      finalTrainLoss: loss - 0.01,
      nonEmbeddingParams: N,
      params: N + 1000,
      tokens: D,
      trainFlops: 3 * 2 * N * D,
      size: `n${N}`,
      tokensPerSecond: 1000,
      trainSeconds: D / 1000,
      backend: "js",
    }),
  );
}

// A known law with multiplicative noise (fixed pattern), so fits have something to recover.
const law = (N: number, D: number) => 1.6 + 300 * N ** -0.45 + 90 * D ** -0.3;
const noise = (i: number) => 1 + 0.004 * Math.sin(1.7 * i + 0.3);

describe("tg.lm.analyzeScaling", () => {
  it("predicts a held-out largest model from the smaller ones and recovers the exponents", () => {
    const dir = `${tempDir()}/sweep`;
    const Ns = [3e3, 1e4, 3e4, 1e5, 3e5, 1e6];
    let i = 0;
    for (const seed of [0, 1]) {
      for (const N of Ns) fakeRun(dir, `s${seed}-${N}`, N, 4e6, law(N, 4e6) * noise(i++), seed);
      for (const D of [5e5, 1e6, 2e6]) {
        fakeRun(dir, `d${seed}-${D}`, 1e5, D, law(1e5, D) * noise(i++), seed);
      }
    }
    const a = lm.analyzeScaling(dir, { bootstrap: 200, bootstrapChinchilla: 40 });
    expect(a.runs.length).toBe(18);
    const h = a.sizeSeries!.holdout!;
    expect(h.N).toBe(1e6);
    expect(h.runs).toBe(2);
    expect(h.fit.form).toBe("E + A·x^-α");
    expect(h.fit.points).toBe(10);
    expect(Math.abs(h.relativeError)).toBeLessThan(0.01);
    expect(h.measured).toBeCloseTo((law(1e6, 4e6) * (noise(5) + noise(14))) / 2, 10);
    const ci = a.sizeSeries!.fitAll!.alphaCI!;
    expect(ci.low).toBeLessThan(ci.high);
    expect(a.dataSeries!.N).toBe(1e5);
    expect(a.dataSeries!.points.length).toBe(8);
    const c = a.chinchilla!;
    expect(c.alpha).toBeGreaterThan(0.3);
    expect(c.alpha).toBeLessThan(0.6);
    expect(c.r2).toBeGreaterThan(0.99);
    expect(c.holdout).not.toBeNull();
    expect(Math.abs(c.holdout!.relativeError)).toBeLessThan(0.02);
  });

  it("writes SVG and PNG plots, HTML and Markdown reports and analysis.json", () => {
    const dir = `${tempDir()}/sweep`;
    [1e3, 1e4, 1e5, 1e6].forEach((N, i) => fakeRun(dir, `r${i}`, N, 1e6, law(N, 1e6)));
    [2e5, 5e5].forEach((D, i) => fakeRun(dir, `d${i}`, 1e4, D, law(1e4, D)));
    const a = lm.analyzeScaling(dir, { bootstrap: 50, bootstrapChinchilla: 10 });
    const out = `${dir}/analysis`;
    lm.writeScalingReport(a, out);
    for (const fig of ["loss-vs-params", "loss-vs-tokens", "loss-vs-compute"]) {
      expect(readFileSync(`${out}/figures/${fig}.svg`, "utf8")).toMatch(/^<svg/);
      expect(readFileSync(`${out}/figures/${fig}.png`).subarray(1, 4).toString()).toBe("PNG");
    }
    const md = readFileSync(`${out}/report.md`, "utf8");
    expect(md).toContain("Held-out prediction of the largest model");
    expect(md).toContain("![");
    expect(readFileSync(`${out}/report.html`, "utf8")).toContain("<svg");
    const json = JSON.parse(readFileSync(`${out}/analysis.json`, "utf8")) as lm.ScalingAnalysis;
    expect(json.sizeSeries!.holdout!.N).toBe(1e6);
    // The analysis folder is not mistaken for a run.
    expect(lm.analyzeScaling(dir, { bootstrap: 0 }).runs.length).toBe(6);
    expect(existsSync(`${out}/figures/learning-curves.svg`)).toBe(false);
  });

  it("falls back to a pure power law when only two sizes lie below the largest", () => {
    const dir = `${tempDir()}/sweep`;
    [1e3, 1e4, 1e5].forEach((N, i) => fakeRun(dir, `r${i}`, N, 1e6, 5 * N ** -0.1));
    const a = lm.analyzeScaling(dir, { bootstrap: 0 });
    const h = a.sizeSeries!.holdout!;
    expect(h.fit.form).toBe("A·x^-α");
    expect(h.fit.alpha).toBeCloseTo(0.1, 10);
    expect(Math.abs(h.relativeError)).toBeLessThan(1e-9);
    expect(a.notes.join(" ")).toMatch(/too few to identify E/);
    expect(a.chinchilla).toBeNull();
  });

  it("leaves out unfinished runs, saying so, and rejects a folder with none finished", () => {
    const dir = `${tempDir()}/sweep`;
    mkdirSync(`${dir}/pending`, { recursive: true });
    writeFileSync(`${dir}/pending/config.json`, "{}");
    expect(() => lm.analyzeScaling(dir)).toThrow(/has no finished runs/);
    [1e3, 1e4, 1e5, 1e6].forEach((N, i) => fakeRun(dir, `r${i}`, N, 1e6, law(N, 1e6)));
    const a = lm.analyzeScaling(dir, { bootstrap: 0 });
    expect(a.unfinished).toEqual(["pending"]);
    expect(a.notes[0]).toMatch(/1 run folder\(s\) have no summary yet/);
    expect(() => lm.analyzeScaling(`${dir}/nope`)).toThrow(tg.TsgradError);
  });
});
