import { describe, expect, it } from "vitest";
import "../../src/index.js";
import * as lm from "../../src/lm/index.js";
import { QUIET, tempDir, tinyConfig } from "./helpers.js";

describe("tg.lm.loadLM / tg.lm.sampleText", () => {
  it("restores model and vocabulary from a run folder and samples reproducibly", async () => {
    const root = tempDir();
    const res = await lm.trainLM(tinyConfig(6, { evalInterval: 0 }), { ...QUIET, root });
    const { model, vocab, step, config } = lm.loadLM(res.dir);
    expect(step).toBe(6);
    expect(vocab.size).toBe(65);
    expect(config.nEmbd).toBe(16);
    const opts = { tokens: 40, temperature: 0.8, topK: 5, seed: 3 };
    const a = lm.sampleText(model, vocab, "ROMEO:", opts);
    expect(a.startsWith("ROMEO:")).toBe(true);
    expect([...a].length).toBe(46);
    expect(lm.sampleText(model, vocab, "ROMEO:", opts)).toBe(a);
    expect(lm.sampleText(model, vocab, "ROMEO:", { ...opts, seed: 4 })).not.toBe(a);
    expect(lm.sampleText(model, vocab, "", { ...opts, tokens: 5 }).length).toBe(5);
  });

  it("names the prompt characters outside the vocabulary", async () => {
    const root = tempDir();
    const res = await lm.trainLM(tinyConfig(2, { evalInterval: 0 }), { ...QUIET, root });
    const { model, vocab } = lm.loadLM(res.dir);
    expect(() => lm.sampleText(model, vocab, "ROMÉO{")).toThrow(
      /the prompt uses "É", "\{", not in the model's 65-character vocabulary/,
    );
  });

  it("rejects a folder without checkpoints and a checkpoint that is not an LM's", () => {
    const dir = tempDir();
    expect(() => lm.loadLM(dir)).toThrow(/no checkpoint-<step>.safetensors/);
  });
});
