import { existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { TsgradError } from "../../src/index.js";
import * as w2s from "../../src/w2s/index.js";

const tmp = () => mkdtempSync(`${tmpdir()}/tsgrad-w2s-`);
const task = w2s.loadW2sTask("fashion-mnist-sample");

/** A few seconds' grid on the bundled sample: 1 seed, logistic → narrow MLP, both losses. */
const tinyConfig: w2s.W2sConfig = {
  ...w2s.w2sDefaults("fashion-mnist-sample", true).config,
  epochs: 2,
  batchSize: 32,
  weakSize: 300,
  transferSize: 600,
};
const tinyGrid: w2s.W2sGrid = {
  weak: ["logistic"],
  strong: ["mlp:0.0625"],
  seeds: [0],
  auxConf: "both",
};

/** result.json of every model in a run folder, without the wall-clock fields. */
function modelResults(dir: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of readdirSync(`${dir}/models`)) {
    const r = JSON.parse(readFileSync(`${dir}/models/${key}/result.json`, "utf8")) as Record<
      string,
      unknown
    >;
    delete r.seconds;
    delete r.examplesPerSec;
    out[key] = r;
  }
  return out;
}

describe("tg.w2s.splitPool", () => {
  it("draws disjoint weak and transfer parts with held-out tails, deterministic per seed", () => {
    const cfg = { weakSize: 100, transferSize: 300, heldoutFraction: 0.1 };
    const a = w2s.splitPool(1000, cfg, 4);
    const all = [...a.weakTrain, ...a.weakHeld, ...a.transferTrain, ...a.transferHeld];
    expect([
      a.weakTrain.length,
      a.weakHeld.length,
      a.transferTrain.length,
      a.transferHeld.length,
    ]).toEqual([90, 10, 270, 30]);
    expect(new Set(all).size).toBe(400);
    expect(all.every((i) => i >= 0 && i < 1000)).toBe(true);
    expect(w2s.splitPool(1000, cfg, 4)).toEqual(a);
    expect(Array.from(w2s.splitPool(1000, cfg, 5).weakTrain)).not.toEqual(Array.from(a.weakTrain));
    expect(() => w2s.splitPool(300, cfg, 0)).toThrow(/exceed the 300 pool examples/);
  });
});

describe("tg.w2s.planWeakToStrong", () => {
  it("pairs each weak model with every larger strong model and shares weak and ceiling trainings", () => {
    const plan = w2s.planWeakToStrong(task, tinyConfig, {
      weak: ["logistic", "mlp", "lenet5"],
      strong: ["mlp", "lenet5", "alexnet:0.5"],
      seeds: [0, 1, 2],
      auxConf: "both",
    });
    expect(plan.pairs.map((p) => `${w2s.modelLabel(p.weak)}→${w2s.modelLabel(p.strong)}`)).toEqual([
      "logistic→mlp",
      "logistic→lenet5",
      "logistic→alexnet:0.5",
      "mlp→lenet5",
      "mlp→alexnet:0.5",
      "lenet5→alexnet:0.5",
    ]);
    const count = (role: string) => plan.jobs.filter((j) => j.role === role).length;
    expect([count("weak"), count("ceiling"), count("student")]).toEqual([9, 9, 36]);
    expect(new Set(plan.jobs.map((j) => j.key)).size).toBe(plan.jobs.length);
  });

  it("rejects grids without a larger strong model, unknown models and widthless widths", () => {
    const grid = { ...tinyGrid, weak: ["lenet5"], strong: ["mlp"] };
    expect(() => w2s.planWeakToStrong(task, tinyConfig, grid)).toThrow(
      /no pair has a strong model larger/,
    );
    expect(() =>
      w2s.planWeakToStrong(task, tinyConfig, { ...tinyGrid, strong: ["resnet"] }),
    ).toThrow(/"resnet" is not on the fashion-mnist-sample ladder/);
    expect(() => task.createModel({ name: "lenet5", width: 0.5 })).toThrow(/lenet5 has no width/);
    expect(() =>
      w2s.validateW2sConfig({ ...tinyConfig, heldoutFraction: 0, earlyStop: "weak-agreement" }),
    ).toThrow(TsgradError);
  });
});

describe("tg.w2s.runWeakToStrong", () => {
  it("resumes a killed run without repeating finished trainings, with identical results", async () => {
    const whole = tmp();
    const full = await w2s.runWeakToStrong(tinyConfig, tinyGrid, {
      dir: whole,
      task,
      progress: null,
      report: false,
    });
    expect(full.status).toBe("finished");
    expect(full.trained).toHaveLength(4);

    // Weak: 270/32 = 8 steps/epoch; ceiling and students: 540/32 = 16. Stop 10 steps into the
    // plain-CE student, i.e. mid-epoch, after weak (16 steps) and ceiling (32 steps) finished.
    const dir = tmp();
    const first = await w2s.runWeakToStrong(tinyConfig, tinyGrid, {
      dir,
      task,
      progress: null,
      report: false,
      stopAfterSteps: 16 + 32 + 10,
    });
    expect(first.status).toBe("stopped");
    expect(first.trained).toEqual(["weak-logistic-s0", "ceiling-mlp-w0.0625-s0"]);
    const ce = "student-logistic-to-mlp-w0.0625-ce-s0";
    expect(readdirSync(`${dir}/models/${ce}`)).toContain("checkpoint-10.safetensors");
    expect(existsSync(`${dir}/results.json`)).toBe(false);

    const second = await w2s.runWeakToStrong(tinyConfig, tinyGrid, {
      dir,
      task,
      progress: null,
      report: false,
    });
    expect(second.status).toBe("finished");
    expect(second.cached).toEqual(["weak-logistic-s0", "ceiling-mlp-w0.0625-s0"]);
    expect(second.resumed).toEqual([{ key: ce, step: 10 }]);
    expect(second.trained).toEqual([ce, "student-logistic-to-mlp-w0.0625-aux-s0"]);
    expect(modelResults(dir)).toEqual(modelResults(whole));
    expect(readFileSync(`${dir}/models/weak-logistic-s0/labels.safetensors`)).toEqual(
      readFileSync(`${whole}/models/weak-logistic-s0/labels.safetensors`),
    );
    expect(readdirSync(`${dir}/models/${ce}`).filter((f) => f.startsWith("checkpoint"))).toEqual(
      [],
    );

    // The PGR is computed from exactly the trained models' test accuracies.
    const pair = second.results!.pairs.find((p) => p.variant === "ce")!;
    const acc = (key: string) => second.results!.trainings.find((t) => t.key === key)!.testAccuracy;
    const [weak, ceiling, student] = [
      acc("weak-logistic-s0"),
      acc("ceiling-mlp-w0.0625-s0"),
      acc(ce),
    ];
    expect([pair.seeds[0]!.weak, pair.seeds[0]!.ceiling, pair.seeds[0]!.student]).toEqual([
      weak,
      ceiling,
      student,
    ]);
    const pgr = pair.summary.perSeed[0]!;
    if (pgr.defined) expect(pgr.value).toBeCloseTo((student - weak) / (ceiling - weak), 12);
    else expect(ceiling - weak).toBeLessThanOrEqual(1.96 * pair.seeds[0]!.gapSe);
  });

  it("selects the epoch agreeing best with the weak labels when asked, never the test set", async () => {
    const cfg: w2s.W2sConfig = { ...tinyConfig, epochs: 3, earlyStop: "weak-agreement" };
    const out = await w2s.runWeakToStrong(
      cfg,
      { ...tinyGrid, auxConf: "off" },
      {
        dir: tmp(),
        task,
        progress: null,
        report: false,
      },
    );
    for (const t of out.results!.trainings) {
      const held = t.history.map((h) => h.heldAgreement!);
      const best = Math.max(...held);
      expect(t.selectedEpoch).toBe(held.lastIndexOf(best) + 1);
      expect(t.usedEpoch).toBe(t.selectedEpoch);
      expect(t.testAccuracy).toBe(t.selectedTestAccuracy);
      if (t.selectedEpoch === cfg.epochs) expect(t.selectedTestAccuracy).toBe(t.finalTestAccuracy);
    }
    // Students' held-out slice is scored against the weak labels: their agreement is not
    // ground-truth accuracy (the weak model is wrong on part of it).
    expect(
      out.results!.trainings.find((t) => t.role === "student")!.history[0]!.heldAgreement,
    ).not.toBeNull();
  });
});

describe("tg.w2s.estimatePlan", () => {
  it("adds examples per model and divides by the throughputs", () => {
    const plan = w2s.planWeakToStrong(task, tinyConfig, tinyGrid);
    const est = w2s.estimatePlan(plan, {
      logistic: { trainPerSec: 100, evalPerSec: 1000 },
      "mlp:0.0625": { trainPerSec: 50, evalPerSec: 500 },
    });
    const weak = est.rows.find((r) => r.model === "logistic")!;
    // 2 epochs × 8 steps × 32; evaluation: 30 held out × 2 epochs + 1000 test + 600 labelled.
    expect([weak.trainings, weak.trainExamples, weak.evalExamples]).toEqual([1, 512, 1660]);
    expect(weak.seconds).toBeCloseTo(512 / 100 + 1660 / 1000, 12);
    expect(est.totalSeconds).toBeCloseTo(
      est.rows.reduce((a, r) => a + r.seconds, 0),
      12,
    );
    expect(() => w2s.estimatePlan(plan, {})).toThrow(/no throughput for model logistic/);
  });
});
