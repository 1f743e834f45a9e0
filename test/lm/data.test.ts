import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import * as lm from "../../src/lm/index.js";

describe("tg.lm.charCorpus", () => {
  it("splits nanoGPT's way: the first 90% trains, the last 10% validates", () => {
    const c = lm.loadCharCorpus("", 0.1);
    expect(c.vocab.size).toBe(65);
    expect(c.train.length).toBe(Math.floor(1115394 * 0.9));
    expect(c.val.length).toBe(1115394 - Math.floor(1115394 * 0.9));
    expect(c.vocab.decode(c.train.subarray(0, 14))).toBe("First Citizen:");
    expect(c.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("tg.lm.randomBatch", () => {
  it("draws windows whose targets are the inputs shifted by one, reproducibly", () => {
    const data = Int32Array.from({ length: 50 }, (_, i) => i);
    const a = lm.randomBatch(data, 6, 5, new tg.Generator(3));
    const b = lm.randomBatch(data, 6, 5, new tg.Generator(3));
    expect(a.x.toArray()).toEqual(b.x.toArray());
    const x = a.x.toArray() as number[][];
    const y = a.y.toArray() as number[][];
    for (let r = 0; r < 6; r++) {
      expect(y[r]).toEqual(x[r]!.map((v) => v + 1));
      expect(y[r]![4]).toBeLessThanOrEqual(49);
    }
  });

  it("rejects data shorter than one window", () => {
    expect(() => lm.randomBatch(Int32Array.from([1, 2, 3]), 1, 3, new tg.Generator(0))).toThrow(
      /fewer than blockSize \+ 1 = 4/,
    );
    expect(() => lm.windowsAt(Int32Array.from([1, 2, 3]), [1], 2)).toThrow(/offset 1/);
  });
});

describe("tg.lm.evalOffsets", () => {
  it("gives the same windows for the same seed and different ones for another", () => {
    const a = lm.evalOffsets(1000, 16, 3, 4, 7);
    expect(lm.evalOffsets(1000, 16, 3, 4, 7)).toEqual(a);
    expect(lm.evalOffsets(1000, 16, 3, 4, 8)).not.toEqual(a);
    expect(a.flat().every((o) => o >= 0 && o + 17 <= 1000)).toBe(true);
  });
});
