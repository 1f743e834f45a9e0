import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

const cfg = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16 };

describe("tg.models.TransformerLM", () => {
  it("is causal: the logits at position t do not depend on later tokens", () => {
    tg.manualSeed(0);
    const lm = new tg.models.TransformerLM(cfg);
    const a = tg.tensor(Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), { shape: [1, 8] });
    const b = tg.tensor(Int32Array.from([1, 2, 3, 4, 9, 9, 9, 9]), { shape: [1, 8] });
    const la = lm.forward(a).narrow(1, 0, 4).dataSync();
    const lb = lm.forward(b).narrow(1, 0, 4).dataSync();
    expect(Array.from(la)).toEqual(Array.from(lb));
  });

  it("counts parameters and FLOPs exactly", () => {
    const lm = new tg.models.TransformerLM(cfg);
    const d = 16;
    const perBlock =
      2 * 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d);
    expect(lm.parameterCount()).toEqual({
      total: 11 * d + 8 * d + 2 * perBlock + 2 * d,
      nonEmbedding: 2 * perBlock + 2 * d,
    });
    expect(lm.flopsPerToken()).toBe(
      2 * (2 * d * 3 * d + 2 * d * d + 4 * d * 4 * d + 4 * 8 * d) + 2 * d * 11,
    );
  });

  it("ties the output projection to the token embedding (one parameter, two uses)", () => {
    const lm = new tg.models.TransformerLM(cfg);
    const x = tg.randint(0, 11, [2, 8]);
    lm.loss(x, x).backward();
    expect(lm.parameters().filter((p) => p === lm.wte.weight).length).toBe(1);
    expect(lm.wte.weight.grad!.abs().sum().item()).toBeGreaterThan(0);
  });

  it("learns a deterministic sequence and samples it back", () => {
    tg.manualSeed(1);
    const lm = new tg.models.TransformerLM({ ...cfg, nLayer: 1 });
    const seq = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    const x = tg.tensor(Int32Array.from(seq.slice(0, 8)), { shape: [1, 8] });
    const y = tg.tensor(Int32Array.from(seq.slice(1)), { shape: [1, 8] });
    const params = lm.parameters();
    const m = params.map((p) => new Float32Array(p.size));
    let loss = 0;
    for (let step = 0; step < 150; step++) {
      const l = lm.loss(x, y);
      loss = l.item();
      lm.zeroGrad();
      l.backward();
      params.forEach((p, i) => {
        const g = p.grad!.dataSync();
        const d = p.data as Float32Array;
        for (let k = 0; k < d.length; k++) {
          m[i]![k] = 0.9 * m[i]![k]! + g[k]!;
          d[k]! -= 0.05 * m[i]![k]!;
        }
      });
    }
    expect(loss).toBeLessThan(0.05);
    const out = lm.generate(tg.tensor(Int32Array.from([1]), { shape: [1, 1] }), 7, { topK: 1 });
    expect(out.toArray()).toEqual([[1, 2, 3, 4, 5, 6, 7, 8]]);
  });
});
