/**
 * Values and gradients at the points where tsgrad used to differ from PyTorch (issue 19: found by
 * differential testing against PyTorch 1.13 in float64). Expected figures are PyTorch's, computed
 * with /usr/bin/python3 and torch in float64; every available backend must give them.
 */
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { nativeBackend } from "../../src/backends/native/index.js";
import { on } from "../helpers/conformance.js";

if (!tg.findBackend("native")) tg.registerBackend(nativeBackend);

const backends = tg
  .listBackends()
  .filter((b) => b.available)
  .map((b) => b.name);

/** The gradient of `f` at `v` (float32 leaves). */
function gradAt(f: (x: tg.Tensor) => tg.Tensor, v: number[]): number[] {
  const x = tg.tensor(v, { requiresGrad: true });
  f(x).backward();
  return x.grad!.toArray() as number[];
}

function expectNear(got: number[], want: number[], tol = 1e-6): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    const w = want[i]!;
    if (!Number.isFinite(w)) expect(g).toBe(w);
    else expect(Math.abs(g - w), `element ${i}: ${g} vs ${w}`).toBeLessThanOrEqual(tol);
  });
}

describe.each(backends)("backend %s: PyTorch's values and gradients at degenerate points", (be) => {
  it("softplus, logSigmoid and bceWithLogits have gradient σ(x) at exactly 0", () => {
    on(be, () => {
      // torch: softplus' = [0.5, 0.26894, 0.73106]; logsigmoid' = [0.5, 1, 0]; bce' = [0.5, -0.5]
      expectNear(
        gradAt((x) => tg.F.softplus(x).sum(), [0, -1, 1]),
        [0.5, 0.2689414, 0.7310586],
      );
      expectNear(
        gradAt((x) => tg.F.logSigmoid(x).sum(), [0, -1000, 1000]),
        [0.5, 1, 0],
      );
      const bce = (x: tg.Tensor) => tg.F.binaryCrossEntropyWithLogits(x, tg.tensor([0, 1]), "sum");
      expectNear(gradAt(bce, [0, 0]), [0.5, -0.5]);
      expectNear(tg.F.softplus(tg.tensor([0, 1000])).toArray() as number[], [Math.LN2, 1000]);
    });
  });

  it("max(dim) and min(dim) send the gradient to the selected index only", () => {
    on(be, () => {
      // torch: x.max(1).values.sum().backward() on [[3, 3, 1]] → [[1, 0, 0]]
      expectNear(
        gradAt((x) => x.reshape([1, 3]).max(1).values.sum(), [3, 3, 1]),
        [1, 0, 0],
      );
      expectNear(
        gradAt((x) => x.reshape([1, 3]).min(1).values.sum(), [1, 1, 3]),
        [1, 0, 0],
      );
      const { values, indices } = tg.tensor([[1, NaN, 2]]).max(1, true);
      expect(values.shape).toEqual([1, 1]);
      expect(Number.isNaN(values.item())).toBe(true);
      expect(indices.item()).toBe(1);
      // amax keeps its documented sharing among ties (torch.amax does the same).
      expectNear(
        gradAt((x) => x.amax(), [3, 3, 1]),
        [0.5, 0.5, 0],
      );
    });
  });

  it("embedding normalises a negative paddingIdx and rejects one out of range", () => {
    on(be, () => {
      const w = tg.randn([4, 2], { requiresGrad: true });
      tg.F.embedding(tg.tensor([3, 1], { dtype: "int32" }), w, -1)
        .sum()
        .backward();
      // torch: F.embedding(ids, w, padding_idx=-1) gives row 3 no gradient.
      expect(w.grad!.toArray()).toEqual([
        [0, 0],
        [1, 1],
        [0, 0],
        [0, 0],
      ]);
      expect(() => tg.F.embedding(tg.tensor([0], { dtype: "int32" }), w, 4)).toThrow(
        /^embedding: paddingIdx 4 is out of range for 4 embeddings/,
      );
    });
  });

  it("std of a constant, x^0 at 0 and the exponent gradient of 0^b", () => {
    on(be, () => {
      expectNear(
        gradAt((x) => x.std(), [2, 2, 2]),
        [0, 0, 0],
      );
      expectNear(
        gradAt((x) => x.std(), [1, 2, 3]),
        [-0.5, 0, 0.5],
      );
      expect(Number.isNaN(tg.std(tg.tensor([NaN, 1])).item())).toBe(true);
      expectNear(
        gradAt((x) => x.pow(0).sum(), [0, 1]),
        [0, 0],
      );
      // torch: d/de Σ [0,0,0,2]^e at e = [-1, 0, 2, 1] → [-inf, 0, 0, 2·ln 2]
      const base = tg.tensor([0, 0, 0, 2]);
      expectNear(
        gradAt((e) => tg.pow(base, e).sum(), [-1, 0, 2, 1]),
        [-Infinity, 0, 0, 1.3862944],
        1e-5,
      );
    });
  });

  it("causal attention is aligned at the top left, so Lq > Lk has no NaN rows", () => {
    on(be, () => {
      const q = tg.arange(24).reshape([1, 3, 8]).div(10);
      const k = tg.arange(16).reshape([1, 2, 8]).div(20);
      const v = tg.arange(4).reshape([1, 2, 2]).to("float32");
      const y = tg.F.scaledDotProductAttention(q, k, v, { isCausal: true });
      // torch 1.13 _scaled_dot_product_attention(q, k, v, None, 0.0, False, True)
      expectNear(
        y.reshape([-1]).toArray() as number[],
        [0, 1, 1.5720321933563273, 2.5720321933563275, 1.8016049887356074, 2.8016049887356074],
        1e-5,
      );
    });
  });

  it("split and chunk of an empty axis give torch's 1 and n empty pieces", () => {
    on(be, () => {
      const x = tg.zeros([0, 3]);
      expect(tg.split(x, 2).map((t) => t.shape)).toEqual([[0, 3]]);
      expect(tg.chunk(x, 3).map((t) => t.shape)).toEqual([
        [0, 3],
        [0, 3],
        [0, 3],
      ]);
      expect(tg.chunk(tg.zeros([5]), 3).map((t) => t.size)).toEqual([2, 2, 1]);
      expect(() => tg.chunk(x, 0)).toThrow(/^chunk: chunks must be a positive integer, got 0$/);
    });
  });

  it("the mean loss over targets that are all ignored is NaN, with gradient 0", () => {
    on(be, () => {
      const t = tg.tensor([-100, -100], { dtype: "int32" });
      expect(Number.isNaN(tg.F.nllLoss(tg.zeros([2, 3]), t).item())).toBe(true);
      const x = tg.zeros([2, 3], { requiresGrad: true });
      const loss = tg.F.crossEntropy(x, t);
      expect(Number.isNaN(loss.item())).toBe(true);
      loss.backward();
      expect(x.grad!.toArray()).toEqual([
        [0, 0, 0],
        [0, 0, 0],
      ]);
      // With some targets kept, the mean is over those (torch: 1.0986 = log 3).
      const some = tg.F.crossEntropy(tg.zeros([2, 3]), tg.tensor([1, -100], { dtype: "int32" }));
      expectNear([some.item()], [Math.log(3)], 1e-6);
    });
  });

  it("logSoftmax and softmax of a row holding +inf are NaN throughout", () => {
    on(be, () => {
      const x = tg.tensor([
        [1, Infinity, 2],
        [1, 2, -Infinity],
      ]);
      const ls = tg.logSoftmax(x, 1).toArray() as number[][];
      const sm = x.softmax(1).toArray() as number[][];
      expect(ls[0]!.every(Number.isNaN)).toBe(true);
      expect(sm[0]!.every(Number.isNaN)).toBe(true);
      // torch: [-1.3133, -0.3133, -inf] and [0.2689, 0.7311, 0]
      expectNear(ls[1]!, [-1.3132616, -0.3132617, -Infinity], 1e-5);
      expectNear(sm[1]!, [0.2689414, 0.7310586, 0], 1e-6);
    });
  });

  it("reducing a 0-d tensor over dim 0 reduces nothing (torch: sum, mean, max are x; var NaN)", () => {
    on(be, () => {
      const x = tg.scalar(3);
      expect([x.sum(0).item(), x.mean(0).item(), x.amax(-1).item(), x.argmax(0).item()]).toEqual([
        3, 3, 3, 0,
      ]);
      expect(Number.isNaN(x.var(0).item())).toBe(true);
      const { values, indices } = x.max(0);
      expect([values.shape, values.item(), indices.item()]).toEqual([[], 3, 0]);
      expect(() => x.sum(1)).toThrow(/^sum: axis 1 is out of range for a tensor of rank 0$/);
    });
  });
});
