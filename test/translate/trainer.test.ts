import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import * as translate from "../../src/translate/index.js";

const tmp = () => mkdtempSync(`${tmpdir()}/tg-translate-`);

/** Two epochs of four batches on 16 pairs: enough steps to interrupt mid-epoch, and fast. */
const config: Partial<translate.TranslateConfig> = {
  ...translate.QUICK_CONFIG,
  trainLimit: 16,
  validLimit: 4,
  embed: 8,
  hidden: 8,
  epochs: 2,
  batchSize: 4,
  dropout: 0.2, // so that resuming must restore the random generator too
  lrDecay: "step",
  decayStart: 2,
};

const quiet = { progress: false as const, log: () => {}, warn: () => {}, gitCwd: false as const };

type Rec = Record<string, unknown>;
const TIMING = ["trainSeconds", "evalSeconds", "elapsedSeconds", "tokensPerSecond"];
const untimed = (records: Rec[]) =>
  records
    .filter((r) => r.kind !== "step")
    .map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !TIMING.includes(k))));

function weights(dir: string): number[] {
  const ck = tg.io.loadCheckpoint(`${dir}/best.safetensors`);
  return Object.values(ck.model).flatMap((t) => Array.from(t.dataSync()));
}

describe("tg.translate.trainTranslation", () => {
  it("writes a complete run folder and skips the run once finished", async () => {
    const out = tmp();
    const r = await translate.trainTranslation(config, { out, ...quiet });
    expect(r.status).toBe("finished");
    const files = readdirSync(r.runDir);
    for (const f of [
      "config.json",
      "metrics.jsonl",
      "summary.json",
      "best.safetensors",
      "vocab.json",
      "report.html",
      "report.md",
      "translations.train.fr",
    ]) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.startsWith("checkpoint-"))).toEqual([]);
    for (const fig of ["loss", "perplexity", "bleu"]) {
      expect(existsSync(`${r.runDir}/figures/${fig}.svg`)).toBe(true);
      expect(existsSync(`${r.runDir}/figures/${fig}.png`)).toBe(true);
    }
    const epochs = tg.io.readMetrics(`${r.runDir}/metrics.jsonl`).filter((m) => m.kind === "epoch");
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
    // The step schedule halves the lr from epoch 2 on.
    expect(epochs.map((e) => e.lr)).toEqual([0.02, 0.01]);
    expect(r.summary).toMatchObject({ epochs: 2, steps: 8, stopReason: "2 epochs" });
    const again = await translate.trainTranslation(config, { out, ...quiet });
    expect(again.status).toBe("skipped");
    expect(again.summary).toEqual(r.summary);
  });

  it("resumes an interrupted run exactly where it stopped", async () => {
    const straight = await translate.trainTranslation(config, { out: tmp(), ...quiet });
    const out = tmp();
    const interrupt = { requested: false };
    const first = await translate.trainTranslation(config, {
      out,
      ...quiet,
      interrupt,
      onStep: ({ step }) => {
        if (step === 3) interrupt.requested = true;
      },
    });
    expect(first.status).toBe("interrupted");
    expect(first.checkpoint).toMatch(/checkpoint-3\.safetensors$/);
    const resumed = await translate.trainTranslation(config, { out, ...quiet });
    expect(resumed.status).toBe("finished");
    const metrics = (dir: string) => untimed(tg.io.readMetrics(`${dir}/metrics.jsonl`));
    expect(metrics(resumed.runDir)).toEqual(metrics(straight.runDir));
    expect(weights(resumed.runDir)).toEqual(weights(straight.runDir));
  });

  it("resumes exactly after an interrupt during validation, validating that epoch again", async () => {
    const straight = await translate.trainTranslation(config, { out: tmp(), ...quiet });
    const out = tmp();
    // After the last step of epoch 1, let the loop's own check pass, then interrupt at the
    // first check inside the validation.
    let armed = 0;
    const interrupt = {
      get requested() {
        if (armed === 1) {
          armed = 2;
          return false;
        }
        return armed === 2;
      },
    };
    const onStep = ({ step }: { step: number }) => {
      if (step === 4) armed = 1;
    };
    const first = await translate.trainTranslation(config, { out, ...quiet, interrupt, onStep });
    expect(first.status).toBe("interrupted");
    expect(
      tg.io.readMetrics(`${first.runDir}/metrics.jsonl`).filter((m) => m.kind === "epoch"),
    ).toEqual([]);
    const resumed = await translate.trainTranslation(config, { out, ...quiet });
    expect(resumed.status).toBe("finished");
    const metrics = (dir: string) => untimed(tg.io.readMetrics(`${dir}/metrics.jsonl`));
    expect(metrics(resumed.runDir)).toEqual(metrics(straight.runDir));
    expect(weights(resumed.runDir)).toEqual(weights(straight.runDir));
  });

  it("validates a stopped epoch after resuming from an interrupt at the step limit", async () => {
    const c = { ...config, maxSteps: 6 };
    const straight = await translate.trainTranslation(c, { out: tmp(), ...quiet });
    expect(straight.summary).toMatchObject({ steps: 6, epochs: 2, stopReason: "reached 6 steps" });
    const out = tmp();
    const interrupt = { requested: false };
    const onStep = ({ step }: { step: number }) => {
      if (step === 6) interrupt.requested = true;
    };
    expect((await translate.trainTranslation(c, { out, ...quiet, interrupt, onStep })).status).toBe(
      "interrupted",
    );
    const resumed = await translate.trainTranslation(c, { out, ...quiet });
    const metrics = (dir: string) => untimed(tg.io.readMetrics(`${dir}/metrics.jsonl`));
    expect(metrics(resumed.runDir)).toEqual(metrics(straight.runDir));
    expect(
      metrics(resumed.runDir)
        .filter((r) => r.kind === "epoch")
        .map((r) => r.partial),
    ).toEqual([false, true]);
  });

  it("refuses to resume when the data gives another vocabulary than the checkpoint's", async () => {
    const dir = tmp();
    const write = (name: string, lines: string[]) =>
      writeFileSync(`${dir}/${name}`, lines.join("\n") + "\n");
    const en = ["a dog runs", "a cat sleeps", "two men walk", "a bird sings"];
    const fr = ["un chien court", "un chat dort", "deux hommes marchent", "un oiseau chante"];
    write("train.en", en);
    write("train.fr", fr);
    const out = tmp();
    const interrupt = { requested: true };
    const c = { ...config, trainLimit: 0, trainMaxWords: 0, batchSize: 2 };
    const first = await translate.trainTranslation(c, { out, dataDir: dir, interrupt, ...quiet });
    expect(first.status).toBe("interrupted");
    write("train.fr", [
      "un chien court",
      "un chat dort",
      "deux hommes marchent",
      "une poule chante",
    ]);
    await expect(translate.trainTranslation(c, { out, dataDir: dir, ...quiet })).rejects.toThrow(
      /target vocabulary of this run's data, refitted for resuming from .*checkpoint-1\.safetensors \(did the data change\?\) does not match/,
    );
  });

  it("still reports a run whose loss blew up (infinite perplexity stays out of the charts)", async () => {
    // lr 1e6 takes the loss to ~1e6 nats: exp() of it is Infinity, yet every value stays far inside
    // float32. (At lr 1e30 the products overflow float32, and whether a kernel's overflowed sum
    // is ±inf or NaN depends on its summation order, so on the CPU.)
    const c = { ...config, optimizer: "sgd" as const, lr: 1e6, clip: 0, epochs: 1 };
    const r = await translate.trainTranslation(c, { out: tmp(), ...quiet });
    const [epoch] = tg.io
      .readMetrics(`${r.runDir}/metrics.jsonl`)
      .filter((m) => m.kind === "epoch");
    expect(epoch!.trainPerplexity).toBe(Infinity);
    expect(readFileSync(`${r.runDir}/report.md`, "utf8")).toMatch(/\| 1 \| 4 \| \d/);
  });
});
