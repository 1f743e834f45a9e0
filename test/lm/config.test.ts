import { describe, expect, it } from "vitest";
import "../../src/index.js";
import * as lm from "../../src/lm/index.js";

describe("tg.lm.resolveLMConfig", () => {
  it("fills in nanoGPT's CPU baby GPT defaults", () => {
    const c = lm.resolveLMConfig({});
    expect([c.nLayer, c.nHead, c.nEmbd, c.blockSize, c.batchSize, c.lr, c.dropout]).toEqual([
      4, 4, 128, 64, 12, 1e-3, 0,
    ]);
    expect(lm.stepsOf(c)).toBe(2000);
  });

  it("rejects unknown keys, wrong types and out-of-range values, naming the source and key", () => {
    expect(() => lm.resolveLMConfig({ nLayers: 2 }, "r.json")).toThrow(
      /r\.json: unknown config key "nLayers"/,
    );
    expect(() => lm.resolveLMConfig({ nLayer: "2" })).toThrow(/"nLayer" must be a finite number/);
    expect(() => lm.resolveLMConfig({ nLayer: 1.5 })).toThrow(/"nLayer" must be an integer/);
    expect(() => lm.resolveLMConfig({ lr: 0 })).toThrow(/"lr" must be > 0/);
    expect(() => lm.resolveLMConfig({ dropout: 1 })).toThrow(/"dropout" must be <= 0.9/);
    expect(() => lm.resolveLMConfig({ bias: 1 })).toThrow(/"bias" must be true or false/);
    expect(() => lm.resolveLMConfig({ nEmbd: 30, nHead: 4 })).toThrow(/not divisible by nHead 4/);
  });

  it("requires the token budget to be a whole number of steps and says which budgets would be", () => {
    expect(() => lm.resolveLMConfig({ tokens: 1_000_000 })).toThrow(
      /not a whole number of steps of batchSize × blockSize = 768 tokens; the nearest budgets are 999936 and 1000704/,
    );
    expect(() => lm.resolveLMConfig({ tokens: 768 * 10, warmupSteps: 11 })).toThrow(
      /warmupSteps 11 exceeds the run's 10 steps/,
    );
  });
});

describe("tg.lm.parseModelSize", () => {
  it("reads LxE with about one head per 32 channels, or explicit heads", () => {
    expect(lm.parseModelSize("6x128")).toEqual({ nLayer: 6, nEmbd: 128, nHead: 4 });
    expect(lm.parseModelSize("1x16")).toEqual({ nLayer: 1, nEmbd: 16, nHead: 1 });
    expect(lm.parseModelSize("2x48x3")).toEqual({ nLayer: 2, nEmbd: 48, nHead: 3 });
  });

  it("rejects malformed sizes and heads that do not divide the width", () => {
    expect(() => lm.parseModelSize("4-128")).toThrow(/must look like <layers>x<width>/);
    expect(() => lm.parseModelSize("2x50x3")).toThrow(/not divisible by 3 heads/);
    expect(() => lm.parseModelSize("0x16")).toThrow(/must be >= 1/);
  });
});
