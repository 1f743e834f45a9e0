import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import * as lm from "../../src/lm/index.js";
import { QUIET, tempDir, tinyConfig } from "./helpers.js";

const LN_VOCAB = Math.log(65);

describe("tg.lm.trainLM", () => {
  it("--quick config: validation loss falls at least 0.75 nats below its start", async () => {
    const root = tempDir();
    const res = await lm.trainLM(lm.QUICK_LM_CONFIG, { ...QUIET, root });
    expect(res.status).toBe("finished");
    const metrics = tg.io.readMetrics(`${res.dir}/metrics.jsonl`);
    const start = metrics.find((m) => m.step === 0)!.valLoss as number;
    // An untrained model is close to uniform over the 65 characters.
    expect(Math.abs(start - LN_VOCAB)).toBeLessThan(0.1);
    const s = res.summary!;
    expect(start - s.finalValLoss).toBeGreaterThan(0.75);
    const cfg = lm.resolveLMConfig(lm.QUICK_LM_CONFIG);
    expect(s.tokens).toBe(lm.stepsOf(cfg) * cfg.batchSize * cfg.blockSize);
    expect(s.steps).toBe(80);
    const model = new tg.models.TransformerLM(lm.modelConfigOf(cfg, 65));
    expect(s.nonEmbeddingParams).toBe(model.parameterCount().nonEmbedding);
    expect(s.trainFlops).toBe(3 * model.flopsPerToken() * s.tokens);
    for (const f of ["config.json", "metrics.jsonl", "summary.json", "checkpoint-80.safetensors"]) {
      expect(existsSync(`${res.dir}/${f}`)).toBe(true);
    }
  });

  it("resumes exactly: stopped and resumed equals uninterrupted, metrics and all", async () => {
    const cfg = tinyConfig(30);
    const a = tempDir();
    const first = await lm.trainLM(cfg, {
      ...QUIET,
      root: a,
      stopAfter: 13,
      checkpointInterval: 5,
    });
    expect(first.status).toBe("interrupted");
    expect(first.step).toBe(13);
    // The metrics logged after the checkpoint are dropped and recomputed on resume.
    const resumed = await lm.trainLM(cfg, { ...QUIET, root: a, checkpointInterval: 5 });
    expect(resumed.status).toBe("finished");
    expect(resumed.summary!.resumedFrom).toEqual([13]);
    const b = tempDir();
    const straight = await lm.trainLM(cfg, { ...QUIET, root: b, checkpointInterval: 5 });
    expect(straight.summary!.resumedFrom).toEqual([]);
    expect(resumed.summary!.finalValLoss).toBe(straight.summary!.finalValLoss);
    expect(readFileSync(`${resumed.dir}/metrics.jsonl`, "utf8")).toBe(
      readFileSync(`${straight.dir}/metrics.jsonl`, "utf8"),
    );
  });

  it("skips a finished run and keeps only its final checkpoint", async () => {
    const root = tempDir();
    const cfg = tinyConfig(12, { evalInterval: 0 });
    const r = await lm.trainLM(cfg, { ...QUIET, root, checkpointInterval: 4 });
    expect(tg.io.latestCheckpoint(r.dir)!.step).toBe(12);
    expect(existsSync(`${r.dir}/checkpoint-8.safetensors`)).toBe(false);
    const again = await lm.trainLM(cfg, { ...QUIET, root });
    expect(again.status).toBe("skipped");
    expect(again.summary!.finalValLoss).toBe(r.summary!.finalValLoss);
  });

  it("refuses to resume on a text that changed since the run started", async () => {
    const root = tempDir();
    const text = `${root}/t.txt`;
    writeFileSync(text, "to be or not to be, that is the question. ".repeat(40));
    const cfg = tinyConfig(10, { text, evalInterval: 0 });
    await lm.trainLM(cfg, { ...QUIET, root, stopAfter: 4 });
    writeFileSync(text, "to be or not to be, that is the answer!!! ".repeat(40));
    await expect(lm.trainLM(cfg, { ...QUIET, root })).rejects.toThrow(/the text changed/);
  });

  it("waits for a live process holding the run's lock, and takes over a stale one", async () => {
    const root = tempDir();
    const cfg = tinyConfig(4, { evalInterval: 0 });
    const dir = tg.io.runDir(root, "lm", lm.resolveLMConfig(cfg));
    tg.io.openRun({ root, experiment: "lm", config: lm.resolveLMConfig(cfg), gitCwd: false });
    writeFileSync(`${dir}/lock`, `${process.ppid}\n`);
    await expect(lm.trainLM(cfg, { ...QUIET, root, lockWaitMs: 200 })).rejects.toThrow(
      new RegExp(`process ${process.ppid} is training this run`),
    );
    writeFileSync(`${dir}/lock`, "999999999\n");
    expect((await lm.trainLM(cfg, { ...QUIET, root })).status).toBe("finished");
    expect(existsSync(`${dir}/lock`)).toBe(false);
  });
});

describe("trainLM after a kill (issue 19, item 14)", () => {
  it("restarts from scratch with empty metrics and no leftover temp files when no checkpoint was written", async () => {
    const cfg = tinyConfig(12, { evalInterval: 4 });
    const straight = await lm.trainLM(cfg, { ...QUIET, root: tempDir() });
    const root = tempDir();
    // What a run killed before its first checkpoint leaves: logged lines and a torn atomic write.
    const run = tg.io.openRun({
      root,
      experiment: "lm",
      config: lm.resolveLMConfig(cfg),
      gitCwd: false,
    });
    run.log({ step: 0, tokens: 0, valLoss: 9, trainLoss: 9 });
    run.log({ step: 4, tokens: 256, loss: 8, lr: 0.01, gradNorm: 1 });
    run.close();
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    writeFileSync(`${run.dir}/.checkpoint-4.safetensors.${dead}.ab12cd34.tmp`, "torn");
    const again = await lm.trainLM(cfg, { ...QUIET, root });
    expect(again.dir).toBe(run.dir);
    expect(again.summary!.resumedFrom).toEqual([]);
    expect(readFileSync(`${run.dir}/metrics.jsonl`, "utf8")).toBe(
      readFileSync(`${straight.dir}/metrics.jsonl`, "utf8"),
    );
    expect(readdirSync(run.dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("says so when resuming under another thread count, which is not part of the run's identity", async () => {
    const cfg = tinyConfig(10, { evalInterval: 0 });
    const root = tempDir();
    await lm.trainLM(cfg, { ...QUIET, root, stopAfter: 4 });
    const messages: string[] = [];
    const backend = tg.getBackend() as { numThreads?: () => number };
    const had = Object.prototype.hasOwnProperty.call(backend, "numThreads");
    const saved = backend.numThreads;
    const threads = (saved?.() ?? 1) + 1;
    backend.numThreads = () => threads;
    try {
      const r = await lm.trainLM(cfg, { ...QUIET, root, log: (m) => void messages.push(m) });
      expect(r.status).toBe("finished");
      expect(r.summary!.threads).toBe(threads);
    } finally {
      if (had) backend.numThreads = saved;
      else delete backend.numThreads;
    }
    const warning = messages.find((m) => m.startsWith("warning:"));
    expect(warning).toMatch(new RegExp(`threads ${threads - 1} → ${threads}`));
    expect(warning).toMatch(/not be bit-identical/);
    // Resuming under the same count says nothing.
    messages.length = 0;
    await lm.trainLM(tinyConfig(10, { evalInterval: 0, seed: 1 }), {
      ...QUIET,
      root,
      stopAfter: 4,
    });
    await lm.trainLM(tinyConfig(10, { evalInterval: 0, seed: 1 }), {
      ...QUIET,
      root,
      log: (m) => void messages.push(m),
    });
    expect(messages.some((m) => m.startsWith("warning:"))).toBe(false);
  });
});
