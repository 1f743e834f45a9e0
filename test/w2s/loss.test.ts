import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import * as w2s from "../../src/w2s/index.js";

describe("tg.w2s.auxAlpha", () => {
  it("rises linearly from 0 to alphaMax over the warmup fraction, then stays", () => {
    const s = { alphaMax: 0.75, warmupFraction: 0.2 };
    expect([0, 0.05, 0.1, 0.2, 0.5, 1].map((p) => w2s.auxAlpha(p, s))).toEqual([
      0, 0.1875, 0.375, 0.75, 0.75, 0.75,
    ]);
    expect(w2s.auxAlpha(0, { alphaMax: 0.5, warmupFraction: 0 })).toBe(0.5);
    expect(() => w2s.auxAlpha(0.5, { alphaMax: 1.5, warmupFraction: 0.2 })).toThrow(/alphaMax/);
  });
});

describe("tg.w2s.priorCounts", () => {
  it("rounds n·prior by largest remainder to counts summing to n", () => {
    expect(Array.from(w2s.priorCounts([0.25, 0.25, 0.5], 7))).toEqual([2, 2, 3]);
    expect(Array.from(w2s.priorCounts([1, 1, 1], 10))).toEqual([4, 3, 3]);
    expect(Array.from(w2s.priorCounts([3, 0, 1], 4))).toEqual([3, 0, 1]);
    expect(() => w2s.priorCounts([0, 0], 3)).toThrow(/sums to 0/);
  });
});

/** Best Σ log p over all assignments with the given class counts (exhaustive). */
function bruteForce(p: number[], n: number, K: number, counts: number[]): number {
  let best = -Infinity;
  const left = [...counts];
  const rec = (i: number, acc: number) => {
    if (i === n) {
      best = Math.max(best, acc);
      return;
    }
    for (let k = 0; k < K; k++) {
      if (left[k] === 0) continue;
      left[k]!--;
      rec(i + 1, acc + Math.log(p[i * K + k]!));
      left[k]!++;
    }
  };
  rec(0, 0);
  return best;
}

describe("tg.w2s.priorMatchedAssignment", () => {
  it("finds the optimal assignment under class counts (checked exhaustively)", () => {
    const g = new tg.Generator(3);
    for (let trial = 0; trial < 25; trial++) {
      const n = 4 + (trial % 4);
      const K = 2 + (trial % 3);
      const p = Array.from({ length: n * K }, () => 0.01 + g.uniform());
      const counts = Array.from(
        w2s.priorCounts(
          Array.from({ length: K }, () => g.uniform()),
          n,
        ),
      );
      const cls = w2s.priorMatchedAssignment(p, n, K, counts);
      const got = Array.from(cls).reduce((a, k, i) => a + Math.log(p[i * K + k]!), 0);
      expect(got).toBeCloseTo(bruteForce(p, n, K, counts), 9);
      const hist = new Array<number>(K).fill(0);
      for (const k of cls) hist[k]!++;
      expect(hist).toEqual(counts);
    }
  });

  it("is the paper's quantile threshold for two classes", () => {
    const g = new tg.Generator(5);
    const n = 40;
    const p0 = Array.from({ length: n }, () => g.uniform());
    const probs = p0.flatMap((a) => [a, 1 - a]);
    const n1 = 13;
    const cls = w2s.priorMatchedAssignment(probs, n, 2, [n - n1, n1]);
    // The n1 examples with the smallest p(class 0) go to class 1.
    const threshold = [...p0].sort((a, b) => a - b)[n1 - 1]!;
    p0.forEach((a, i) => expect(cls[i]).toBe(a <= threshold ? 1 : 0));
  });

  it("rejects counts that do not add up to the batch", () => {
    expect(() => w2s.priorMatchedAssignment([0.5, 0.5, 0.5, 0.5], 2, 2, [2, 1])).toThrow(
      /sum to 3/,
    );
  });
});

describe("tg.w2s.hardenPredictions", () => {
  it("matches the weak labels' class prior (soft labels averaged)", () => {
    const probs = tg.tensor([
      [0.7, 0.2, 0.1],
      [0.6, 0.3, 0.1],
      [0.5, 0.1, 0.4],
      [0.8, 0.1, 0.1],
    ]);
    // Mean weak label: [0.5, 0.25, 0.25] → counts [2, 1, 1].
    const weak = tg.tensor([
      [1, 0, 0],
      [0.5, 0.5, 0],
      [0, 0.5, 0.5],
      [0.5, 0, 0.5],
    ]);
    expect(w2s.hardenPredictions(probs, "argmax").argmax(1).toArray()).toEqual([0, 0, 0, 0]);
    // Row 1 has the best relative p(class 1), row 2 the best p(class 2).
    expect(w2s.hardenPredictions(probs, "prior", weak).argmax(1).toArray()).toEqual([0, 1, 2, 0]);
    expect(() => w2s.hardenPredictions(probs, "prior")).toThrow(/needs the prior/);
  });
});

describe("tg.w2s.auxConfidenceLoss", () => {
  it("matches a hand-computed value and gradient", () => {
    // logits [[1, 2, 0], [0, 0, 3]]; softmax rows p0 = e^[1,2,0]/(e+e²+1), p1 = e^[0,0,3]/(2+e³).
    const logits = tg.tensor(
      [
        [1, 2, 0],
        [0, 0, 3],
      ],
      { requiresGrad: true },
    );
    const weak = tg.tensor([
      [0.6, 0.3, 0.1],
      [0.2, 0.2, 0.6],
    ]);
    const alpha = 0.25;
    const loss = w2s.auxConfidenceLoss(logits, weak, alpha, "argmax");
    loss.backward();
    const z0 = Math.E + Math.E ** 2 + 1;
    const z1 = 2 + Math.E ** 3;
    const p0 = [Math.E / z0, Math.E ** 2 / z0, 1 / z0];
    const p1 = [1 / z1, 1 / z1, Math.E ** 3 / z1];
    // Argmax hardening: row 0 → class 1, row 1 → class 2. Target t = 0.75·weak + 0.25·onehot.
    const t0 = [0.45, 0.225 + 0.25, 0.075];
    const t1 = [0.15, 0.15, 0.45 + 0.25];
    const ce = (p: number[], t: number[]) => -t.reduce((a, ti, k) => a + ti * Math.log(p[k]!), 0);
    expect(loss.item()).toBeCloseTo((ce(p0, t0) + ce(p1, t1)) / 2, 5);
    // d/dlogits of mean CE with a fixed target: (softmax − target) / B.
    const grad = logits.grad!.toArray() as number[][];
    [p0, p1].forEach((p, i) => {
      const t = i === 0 ? t0 : t1;
      p.forEach((pk, k) => expect(grad[i]![k]).toBeCloseTo((pk - t[k]!) / 2, 5));
    });
  });

  it("is (1 − α)·CE(weak) + α·CE(hardened) and plain CE at α = 0", () => {
    tg.manualSeed(1);
    const logits = tg.randn([6, 4]);
    const weak = tg.randn([6, 4]).softmax(1);
    const hard = w2s.hardenPredictions(logits.softmax(1), "prior", weak);
    const a = 0.4;
    const twoTerms =
      (1 - a) * tg.F.crossEntropy(logits, weak).item() + a * tg.F.crossEntropy(logits, hard).item();
    expect(w2s.auxConfidenceLoss(logits, weak, a, "prior").item()).toBeCloseTo(twoTerms, 5);
    expect(w2s.auxConfidenceLoss(logits, weak, 0).item()).toBeCloseTo(
      tg.F.crossEntropy(logits, weak).item(),
      6,
    );
  });

  it("does not differentiate through the hardened targets", () => {
    const logits = tg.tensor([[0.3, -0.2]], { requiresGrad: true });
    const weak = tg.tensor([[0.5, 0.5]]);
    w2s.auxConfidenceLoss(logits, weak, 1, "argmax").backward();
    // With α = 1 the target is the one-hot [1, 0]: gradient softmax − [1, 0].
    const p = logits.detach().softmax(1).toArray() as number[][];
    const g = logits.grad!.toArray() as number[][];
    expect(g[0]![0]).toBeCloseTo(p[0]![0]! - 1, 5);
    expect(g[0]![1]).toBeCloseTo(p[0]![1]!, 5);
  });

  it("rejects mismatched shapes and α outside [0, 1]", () => {
    const logits = tg.zeros([2, 3]);
    expect(() => w2s.auxConfidenceLoss(logits, tg.zeros([2, 2]), 0.5)).toThrow(/do not match/);
    expect(() => w2s.auxConfidenceLoss(logits, tg.zeros([2, 3]), 2)).toThrow(/alpha/);
  });
});
