import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import * as w2s from "../../src/w2s/index.js";

const task = w2s.loadSubjectTask();

describe("tg.w2s.subjectExample", () => {
  const words = w2s.SUBJECT_WORDS;

  it("masks every occurrence of the single subject word and labels the caption with it", () => {
    expect(w2s.subjectExample(["a", "dog", "chases", "another", "dog", "."], words)).toEqual({
      tokens: ["a", "<mask>", "chases", "another", "<mask>", "."],
      label: words.indexOf("dog"),
    });
  });

  it("drops captions with no subject word or with two different ones", () => {
    expect(w2s.subjectExample(["two", "cats", "sleep"], words)).toBeNull();
    expect(w2s.subjectExample(["a", "girl", "and", "a", "boy"], words)).toBeNull();
    // Plurals and compounds are other words: "men" does not count as "man".
    expect(w2s.subjectExample(["men", "watch", "a", "man"], words)!.tokens).toEqual([
      "men",
      "watch",
      "a",
      "<mask>",
    ]);
  });
});

describe("tg.w2s.loadSubjectTask", () => {
  it("builds 16,826 masked captions: 4,000 fixed test examples and the pool", () => {
    expect(task.poolLabels.length + task.testLabels.length).toBe(16826);
    expect(task.testLabels.length).toBe(4000);
    expect(task.classes).toEqual(["man", "woman", "boy", "girl", "dog", "people"]);
    const counts = new Array<number>(6).fill(0);
    for (const l of [...task.poolLabels, ...task.testLabels]) counts[l]!++;
    expect(counts).toEqual([6635, 3034, 1425, 1434, 1392, 2906]);
    // The same test set on every load (it does not depend on the experiment's seeds).
    expect(Array.from(w2s.loadSubjectTask().testLabels.subarray(0, 50))).toEqual(
      Array.from(task.testLabels.subarray(0, 50)),
    );
  });

  it("gives right-padded int32 ids with a <mask> in every row", () => {
    const x = task.inputs("pool", [0, 1, 2, 3]);
    expect(x.dtype).toBe("int32");
    const [B, T] = x.shape as [number, number];
    const ids = x.dataSync();
    for (let b = 0; b < B; b++) {
      const row = Array.from(ids.subarray(b * T, (b + 1) * T));
      expect(row).toContain(w2s.MASK_ID);
      const firstPad = row.indexOf(0);
      if (firstPad >= 0) expect(row.slice(firstPad).every((v) => v === 0)).toBe(true);
    }
    expect(() => task.inputs("test", [4000])).toThrow(/outside \[0, 4000\)/);
  });
});

describe("tg.w2s.createTextModel", () => {
  const dims = { vocabSize: 30, numClasses: 3, maxLen: 6 };
  const ids = tg.tensor(
    [
      [5, 4, 7, 8, 0, 0],
      [4, 9, 9, 6, 10, 11],
      [12, 13, 4, 0, 0, 0],
    ],
    { dtype: "int32" },
  );
  const y = tg.tensor([0, 2, 1], { dtype: "int32" });

  it("builds every model of the ladder, each trainable end to end", () => {
    for (const name of w2s.TEXT_MODELS) {
      tg.manualSeed(0);
      const m = w2s.createTextModel({ name, width: name === "bow" ? 1 : 0.25 }, dims);
      const loss = tg.F.crossEntropy(m.forward(ids), y);
      loss.backward();
      expect(m.forward(ids).shape, name).toEqual([3, 3]);
      for (const [pname, p] of m.namedParameters()) {
        expect(p.grad, `${name}.${pname}`).not.toBeNull();
      }
      // A few Adam steps fit three examples.
      const opt = new tg.optim.Adam(m.parameters(), { lr: 0.05 });
      let last = loss.item();
      for (let i = 0; i < 30; i++) {
        opt.zeroGrad();
        const l = tg.F.crossEntropy(m.forward(ids), y);
        l.backward();
        opt.step();
        last = l.item();
      }
      expect(last, name).toBeLessThan(0.5 * loss.item());
    }
  });

  it("ignores padding: the output of a row does not change with extra padding", () => {
    for (const name of ["bow", "mlp", "attn", "bilstm"]) {
      tg.manualSeed(0);
      const m = w2s.createTextModel(
        { name, width: name === "bow" ? 1 : 0.25 },
        { ...dims, maxLen: 8 },
      );
      m.eval();
      const a = m.forward(tg.tensor([[5, 4, 7]], { dtype: "int32" })).toArray() as number[][];
      const b = m.forward(tg.tensor([[5, 4, 7, 0, 0]], { dtype: "int32" })).toArray() as number[][];
      a[0]!.forEach((v, k) => expect(b[0]![k], name).toBeCloseTo(v, 5));
    }
  });

  it("rejects unknown models, widths on bow and rows without a mask", () => {
    expect(() => w2s.createTextModel({ name: "gpt", width: 1 }, dims)).toThrow(
      /unknown text model "gpt"/,
    );
    expect(() => w2s.createTextModel({ name: "bow", width: 2 }, dims)).toThrow(/bow has no width/);
    const m = w2s.createTextModel({ name: "mlp", width: 0.25 }, dims);
    expect(() => m.forward(tg.tensor([[5, 6]], { dtype: "int32" }))).toThrow(/has no <mask>/);
  });
});

describe("tg.w2s.runWeakToStrong on multi30k-subject", () => {
  it("runs the quick text grid: the ceiling beats the weak bag of words and the majority class", async () => {
    const d = w2s.w2sDefaults("multi30k-subject", true);
    const out = await w2s.runWeakToStrong(
      d.config,
      { ...d.grid, seeds: [0] },
      {
        dir: mkdtempSync(`${tmpdir()}/tsgrad-w2s-text-`),
        task,
        progress: null,
      },
    );
    expect(out.status).toBe("finished");
    const majority = 6635 / 16826; // "man"; the test set is a random sample of the same captions
    for (const p of out.results!.pairs) {
      const s = p.seeds[0]!;
      expect(s.ceiling).toBeGreaterThan(majority + 0.1);
      expect(s.ceiling).toBeGreaterThan(s.weak + 0.04);
    }
  }, 60_000);
});
