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

/** The gradient of Σ f(x)·up at `v` (float32 leaves), for upstream gradients that are ±inf or NaN. */
function gradUnder(f: (x: tg.Tensor) => tg.Tensor, v: number[], up: number): number[] {
  const x = tg.tensor(v, { requiresGrad: true });
  const y = f(x);
  y.backward(tg.full(y.shape, up));
  return x.grad!.toArray() as number[];
}

/** Both gradients of f(a, b) summed (float32 leaves). */
function grads2(f: (a: tg.Tensor, b: tg.Tensor) => tg.Tensor, va: number[], vb: number[]) {
  const a = tg.tensor(va, { requiresGrad: true });
  const b = tg.tensor(vb, { requiresGrad: true });
  f(a, b).sum().backward();
  return [a.grad!.toArray() as number[], b.grad!.toArray() as number[]];
}

// Issue 19, core tensor ops: the KNOWN divergences of test/differential fixed in src/ops. Expected
// figures are torch 1.13's in float64 (/usr/bin/python3), as noted at each.
describe.each(backends)("backend %s: core ops at torch's edge cases (issue 19)", (be) => {
  it("transpose and t() of 0-d and 1-D tensors return them; clamp needs a bound", () => {
    on(be, () => {
      // torch: tensor(3.).transpose(0, -1) and .t() → tensor(3.); tensor([1., 2.]).t() → [1, 2]
      const s = tg.scalar(3);
      expect([tg.transpose(s, 0, -1).shape, tg.transpose(s, 0, 0).item(), s.t().item()]).toEqual([
        [],
        3,
        3,
      ]);
      expect(tg.tensor([1, 2]).t().toArray()).toEqual([1, 2]);
      expect(() => tg.transpose(s, 0, 1)).toThrow(/^transpose: axis 1 is out of range/);
      // torch: clamp(x) raises "At least one of 'min' or 'max' must not be None"
      expect(() => tg.clamp(tg.tensor([1]))).toThrow(
        /^clamp: at least one of min and max must be given$/,
      );
    });
  });

  it("repeat copies, so its result can be viewed; argmax without dim keeps every axis", () => {
    on(be, () => {
      // torch: tensor([[1.], [2.]]).repeat(1, 3).view(6) → [1, 1, 1, 2, 2, 2]
      const r = tg.repeat(tg.tensor([[1], [2]]), [1, 3]);
      expect(r.isContiguous()).toBe(true);
      expect(r.view([6]).toArray()).toEqual([1, 1, 1, 2, 2, 2]);
      // torch: argmax(x, None, True) → [[2]], argmin → [[0]]; of a 0-d tensor, shape []
      const x = tg.tensor([
        [1, 5],
        [7, 2],
      ]);
      expect(tg.argmax(x, undefined, true).toArray()).toEqual([[2]]);
      expect(x.argmin(undefined, true).toArray()).toEqual([[0]]);
      expect(tg.argmax(tg.scalar(3), undefined, true).shape).toEqual([]);
    });
  });

  it("an empty dim list reduces nothing (NumPy's axis=(), deliberately not torch 1.13's)", () => {
    on(be, () => {
      // numpy: np.sum(x, axis=()) is x, and so are mean, max and min over ().
      const x = tg.tensor([
        [1, 2],
        [3, 4],
      ]);
      for (const y of [x.sum([]), x.mean([]), x.amax([]), x.amin([])]) {
        expect(y.toArray()).toEqual(x.toArray());
      }
    });
  });

  it("softmax, logSoftmax and logsumexp over an empty axis", () => {
    on(be, () => {
      // torch: logsumexp(zeros(2, 0), 1) → [-inf, -inf]; softmax/log_softmax keep the shape
      const x = tg.zeros([2, 0], { requiresGrad: true });
      const lse = tg.logsumexp(x, 1);
      expect(lse.toArray()).toEqual([-Infinity, -Infinity]);
      expect(tg.logsumexp(x, 1, true).shape).toEqual([2, 1]);
      expect(tg.softmax(x, 1).shape).toEqual([2, 0]);
      expect(tg.logSoftmax(x, -1).shape).toEqual([2, 0]);
      lse.sum().backward();
      expect(x.grad!.shape).toEqual([2, 0]);
    });
  });

  it("clamp, maximum and minimum pass the gradient at NaN by torch's masks", () => {
    on(be, () => {
      const v = [NaN, -1, 0, 1, Infinity, -Infinity];
      // torch: clamp(x, -0.5, 0.5) → [0, 0, 1, 0, 0, 0]; clamp(x, min=0) → [0, 0, 1, 1, 1, 0];
      // clamp(x, max=0) → [0, 1, 1, 0, 0, 1]
      expect(gradAt((x) => x.clamp(-0.5, 0.5).sum(), v)).toEqual([0, 0, 1, 0, 0, 0]);
      expect(gradAt((x) => x.clamp(0).sum(), v)).toEqual([0, 0, 1, 1, 1, 0]);
      expect(gradAt((x) => x.clamp(undefined, 0).sum(), v)).toEqual([0, 1, 1, 0, 0, 1]);
      // torch: min > max gives max everywhere, and no gradient
      expect(tg.clamp(tg.tensor([-1, 3]), 2, 1).toArray()).toEqual([1, 1]);
      expect(gradAt((x) => x.clamp(2, 1).sum(), [1.5, 0])).toEqual([0, 0]);
      // torch: maximum(a, b) and minimum(a, b) at a = [1, 1, nan, nan, 2, -inf],
      // b = [nan, 1, 1, nan, 1, 3]
      const a = [1, 1, NaN, NaN, 2, -Infinity];
      const b = [NaN, 1, 1, NaN, 1, 3];
      expect(grads2((p, q) => tg.maximum(p, q), a, b)).toEqual([
        [1, 0.5, 1, 1, 1, 0],
        [1, 0.5, 1, 1, 0, 1],
      ]);
      // (minimum is -maximum(-a, -b): its zeros are -0)
      const [ma, mb] = grads2((p, q) => tg.minimum(p, q), a, b);
      expectNear(ma!, [1, 0.5, 1, 1, 0, 1]);
      expectNear(mb!, [1, 0.5, 1, 1, 1, 0]);
      // torch: under an upstream gradient of inf the side not taken gets exactly 0
      const ga = tg.tensor(a, { requiresGrad: true });
      tg.maximum(ga, tg.tensor(b)).backward(tg.full([6], Infinity));
      expect(ga.grad!.toArray()).toEqual([Infinity, Infinity, Infinity, Infinity, Infinity, 0]);
      expect(gradUnder((x) => x.clamp(-0.5, 0.5), [0, 2, NaN], Infinity)).toEqual([Infinity, 0, 0]);
    });
  });

  it("max() and min() of all elements send the gradient to the NaNs, and exactly 0 elsewhere", () => {
    on(be, () => {
      // torch: x.max().backward() at [1, nan, 3, nan] → [0, 0.5, 0, 0.5] (min() the same);
      // at [1, 3, 3] under an upstream inf → [0, inf, inf]; min() at [1, 1, 3] → [0.5, 0.5, 0];
      // max() of [-inf, -inf] → [0.5, 0.5]
      expect(gradAt((x) => x.max(), [1, NaN, 3, NaN])).toEqual([0, 0.5, 0, 0.5]);
      // (min() is -max(-x): its zeros are -0, which torch's are not)
      expectNear(
        gradAt((x) => x.min(), [1, NaN, 3, NaN]),
        [0, 0.5, 0, 0.5],
      );
      expect(gradUnder((x) => x.max(), [1, 3, 3], Infinity)).toEqual([0, Infinity, Infinity]);
      expectNear(
        gradAt((x) => x.min(), [1, 1, 3]),
        [0.5, 0.5, 0],
      );
      expect(gradAt((x) => x.max(), [-Infinity, -Infinity])).toEqual([0.5, 0.5]);
      expect(Number.isNaN(tg.tensor([1, NaN]).max().item())).toBe(true);
      expect(
        tg
          .tensor([[4, -2]])
          .min()
          .item(),
      ).toBe(-2);
      // amax keeps torch.amax's rule: its 0/1 mask times an infinite gradient is NaN there.
      expect(gradUnder((x) => x.amax(), [1, 3, 3], Infinity)).toEqual([NaN, Infinity, Infinity]);
    });
  });

  it("var and std with a correction ≥ the reduced count", () => {
    on(be, () => {
      // torch: var(x, 0, correction=5) at [1, 2, 4] → inf, gradient 2(x − mean)/(3 − 5) =
      // [1.3333, 0.3333, -1.6667]; std → inf, gradient [0, 0, 0]; of [2, 2, 2] → nan, [0, 0, 0]
      expect(tg.var(tg.tensor([1, 2, 4]), 0, false, 5).item()).toBe(Infinity);
      expectNear(
        gradAt((x) => x.var(0, false, 5), [1, 2, 4]),
        [1.3333333, 0.3333333, -1.6666667],
      );
      expect(gradAt((x) => x.std(0, false, 5), [1, 2, 4])).toEqual([0, 0, 0]);
      expect(Number.isNaN(tg.var(tg.tensor([2, 2, 2]), 0, false, 5).item())).toBe(true);
      expectNear(
        gradAt((x) => x.var(0, false, 5), [2, 2, 2]),
        [0, 0, 0],
      );
      // torch: correction = n divides by 0 in the gradient too → [-inf, -inf, inf]; here the
      // mean's share of those infinities is inf − inf = NaN: non-finite either way.
      expect(gradAt((x) => x.var(0, false, 3), [1, 2, 4]).some(Number.isFinite)).toBe(false);
    });
  });
});

describe("js backend: relu's gradient and float32 erf (issue 19)", () => {
  it("relu passes the gradient at NaN and gives exactly 0 where x ≤ 0", () => {
    // The native and wasm fused relu kernels keep their own backward (g · [y > 0]); this is the
    // composition's rule, which their kernels are to follow.
    on("js", () => {
      // torch: relu'(x) at [nan, -1, 0, 1, inf, -inf] → [1, 0, 0, 1, 1, 0]; under an upstream inf
      // → [inf, 0, 0, inf, inf, 0]
      const v = [NaN, -1, 0, 1, Infinity, -Infinity];
      expect(gradAt((x) => x.relu().sum(), v)).toEqual([1, 0, 0, 1, 1, 0]);
      expect(gradUnder((x) => x.relu(), v, Infinity)).toEqual([
        Infinity,
        0,
        0,
        Infinity,
        Infinity,
        0,
      ]);
    });
  });

  it("float32 erf is odd and exact at ±0", () => {
    on("js", () => {
      // torch.erf in float32 at [-0, 0, 1e-3, -1e-3, 0.5, 2, -3.5, 1e-30]
      const got = tg
        .erf(tg.tensor([-0, 0, 1e-3, -1e-3, 0.5, 2, -3.5, 1e-30]))
        .toArray() as number[];
      expect(Object.is(got[0], -0) && Object.is(got[1], 0)).toBe(true);
      expect(got.slice(2)).toEqual(
        [
          0.001128378789871931, -0.001128378789871931, 0.5204998850822449, 0.9953222870826721,
          -0.9999992847442627, 1.1283791266481092e-30,
        ].map(Math.fround),
      );
    });
  });
});

describe.each(backends)("backend %s: tg.F at torch's edge cases (issue 19)", (be) => {
  /** Output and input gradient of sum(f(x) · [1, 2, …]) for a float64 leaf x. */
  function weighted(
    f: (x: tg.Tensor) => tg.Tensor,
    data: number[],
    shape: number[],
  ): { y: number[]; g: number[] } {
    const x = tg.tensor(data, { dtype: "float64", requiresGrad: true });
    const y = f(x.reshape(shape));
    y.mul(
      tg
        .arange(1, y.size + 1)
        .to("float64")
        .reshape(y.shape),
    )
      .sum()
      .backward();
    return { y: Array.from(y.dataSync()), g: Array.from(x.grad!.dataSync()) };
  }
  /** The non-zero entries of a gradient, as [index, value] pairs. */
  const nonZero = (g: number[]) => g.flatMap((v, i) => (v === 0 ? [] : [[i, v]]));

  it("maxPool2d keeps the last NaN of a window and the first of a window of -inf", () => {
    on(be, () => {
      // torch (float64, weights 1, 2, …): [1, nan, nan, 2] over (1, 4) → nan, gradient to the
      // second NaN; [[nan, 1], [nan, 2]] over 2 → to index 2; four -inf → -inf, to index 0
      const a = weighted((x) => tg.F.maxPool2d(x, [1, 4]), [1, NaN, NaN, 2], [1, 1, 1, 4]);
      expect(a.y).toEqual([NaN]);
      expect(a.g).toEqual([0, 0, 1, 0]);
      expect(weighted((x) => tg.F.maxPool2d(x, 2), [NaN, 1, NaN, 2], [1, 1, 2, 2]).g).toEqual([
        0, 0, 1, 0,
      ]);
      const inf = weighted(
        (x) => tg.F.maxPool2d(x, 2),
        [-Infinity, -Infinity, -Infinity, -Infinity],
        [1, 1, 2, 2],
      );
      expect(inf).toEqual({ y: [-Infinity], g: [1, 0, 0, 0] });
      // The vectorised paths (3x3 stride 2 inside a 6x14 plane; 2x2 stride 2) on the same rule.
      // torch: x = arange(84) as [1, 1, 6, 14], NaN at (1,2) (2,3) (3,9) (3,10) (5,13) (flat 16 31 51 52 83),
      // max_pool2d(x, 3, stride=2, padding=1)
      const big = Array.from({ length: 84 }, (_, i) => i);
      for (const i of [16, 31, 51, 52, 83]) big[i] = NaN;
      const b = weighted(
        (x) => tg.F.maxPool2d(x, 3, { stride: 2, padding: 1 }),
        big,
        [1, 1, 6, 14],
      );
      expect(b.y).toEqual([
        15,
        NaN,
        19,
        21,
        23,
        25,
        27,
        43,
        NaN,
        NaN,
        49,
        NaN,
        NaN,
        55,
        71,
        73,
        75,
        77,
        NaN,
        NaN,
        NaN,
      ]);
      expect(nonZero(b.g)).toEqual([
        [15, 1],
        [16, 2],
        [19, 3],
        [21, 4],
        [23, 5],
        [25, 6],
        [27, 7],
        [31, 19],
        [43, 8],
        [49, 11],
        [51, 31],
        [52, 33],
        [55, 14],
        [71, 15],
        [73, 16],
        [75, 17],
        [77, 18],
        [83, 21],
      ]);
      // torch: arange(32) as [1, 1, 4, 8], NaN at (0,0) (1,1) (2,5) (3,4), max_pool2d(x, 2)
      const two = Array.from({ length: 32 }, (_, i) => i);
      for (const i of [0, 9, 21, 28]) two[i] = NaN;
      const c = weighted((x) => tg.F.maxPool2d(x, 2), two, [1, 1, 4, 8]);
      expect(c.y).toEqual([NaN, 11, 13, 15, 25, 27, NaN, 31]);
      expect(nonZero(c.g)).toEqual([
        [9, 1],
        [11, 2],
        [13, 3],
        [15, 4],
        [25, 5],
        [27, 6],
        [28, 7],
        [31, 8],
      ]);
    });
  });

  it("maxPool2d gives -inf for a window of padding only, and it no gradient", () => {
    on(be, () => {
      // torch: max_pool2d(x [1, 2, 3, 1], (3, 3), stride=(1, 3), padding=(1, 1), dilation=(1, 2),
      // ceil_mode=True) → six -inf. torch's gradient, [0, 3, 3, 0, 9, 6], goes to the element
      // its index names past the row (ih0·W + iw0); tsgrad deliberately sends none.
      const opts = { stride: [1, 3], padding: [1, 1], dilation: [1, 2], ceilMode: true } as const;
      const r = weighted((x) => tg.F.maxPool2d(x, 3, opts), [7, 8, 9, 1, 2, 3], [1, 2, 3, 1]);
      expect(r).toEqual({ y: Array(6).fill(-Infinity), g: [0, 0, 0, 0, 0, 0] });
      // torch: one padding-only window next to a real one (x [1, 1, 1, 1] → [-inf])
      const one = { stride: 3, padding: 1, dilation: 2, ceilMode: true };
      expect(weighted((x) => tg.F.maxPool2d(x, 3, one), [7], [1, 1, 1, 1])).toEqual({
        y: [-Infinity],
        g: [0],
      });
    });
  });

  it("adaptiveAvgPool2d averages each window alone, so a NaN or inf stays in its windows", () => {
    on(be, () => {
      // torch: adaptive_avg_pool2d([[1, nan, 3], [4, 5, inf], [7, 8, 9]], [2, 2])
      const x = tg.tensor([1, NaN, 3, 4, 5, Infinity, 7, 8, 9], { dtype: "float64" });
      expect(Array.from(tg.F.adaptiveAvgPool2d(x.reshape([1, 1, 3, 3]), 2).dataSync())).toEqual([
        NaN,
        NaN,
        6,
        Infinity,
      ]);
      // torch: x = arange(35) as [1, 1, 5, 7] → [2, 3] (overlapping windows)
      const r = weighted(
        (v) => tg.F.adaptiveAvgPool2d(v, [2, 3]),
        Array.from({ length: 35 }, (_, i) => i),
        [1, 1, 5, 7],
      );
      expectNear(r.y, [8, 10, 12, 22, 24, 26], 1e-12);
      expectNear(r.g.slice(14, 21), [5 / 9, 5 / 9, 12 / 9, 7 / 9, 16 / 9, 1, 1], 1e-12);
    });
  });

  it("binaryCrossEntropyWithLogits at infinite logits and targets", () => {
    on(be, () => {
      // torch (float64, reduction "none", unit upstream): loss, d/dx, d/dt at
      // (x, t) = (inf, 0) (inf, 0.5) (inf, 1) (-inf, 0) (30, 0.3) (-30, 0.3) (2, inf)
      const x = tg.tensor([Infinity, Infinity, Infinity, -Infinity, 30, -30, 2], {
        dtype: "float64",
        requiresGrad: true,
      });
      const t = tg.tensor([0, 0.5, 1, 0, 0.3, 0.3, Infinity], {
        dtype: "float64",
        requiresGrad: true,
      });
      const loss = tg.F.binaryCrossEntropyWithLogits(x, t, "none");
      loss.sum().backward();
      expectNear(
        Array.from(loss.dataSync()),
        [Infinity, Infinity, NaN, NaN, 21.000000000000092, 9.000000000000094, -Infinity],
        1e-12,
      );
      expectNear(Array.from(x.grad!.dataSync()), [1, 0.5, 0, 0, 0.7, -0.3, -Infinity], 1e-12);
      expect(Array.from(t.grad!.dataSync())).toEqual([
        -Infinity,
        -Infinity,
        -Infinity,
        Infinity,
        -30,
        30,
        -2,
      ]);
      // Deliberately not torch (NaN there): at x = -inf the loss is its limit, -t·x.
      const low = tg.F.binaryCrossEntropyWithLogits(
        tg.tensor([-Infinity, -Infinity]),
        tg.tensor([0.5, 1]),
        "none",
      );
      expect(low.toArray()).toEqual([Infinity, Infinity]);
    });
  });

  it("softplus and logSigmoid keep their relative accuracy in float32 for large |x|", () => {
    on(be, () => {
      // torch (float32): softplus([-10, -17, -30, 12]); logsigmoid([10, 17, 30, -12])
      const want = [
        4.5398901420412585e-5, 4.139937814784389e-8, 9.357622912219837e-14, 12.000005722045898,
      ];
      const sp = Array.from(tg.F.softplus(tg.tensor([-10, -17, -30, 12])).dataSync());
      const ls = Array.from(tg.F.logSigmoid(tg.tensor([10, 17, 30, -12])).dataSync());
      want.forEach((w, i) => {
        expect(Math.abs(sp[i]! - w) / w, `softplus element ${i}`).toBeLessThan(1e-6);
        expect(Math.abs(ls[i]! + w) / w, `logSigmoid element ${i}`).toBeLessThan(1e-6);
      });
    });
  });

  it("crossEntropy and nllLoss leave ignored rows out whatever they hold", () => {
    on(be, () => {
      const logits = [1, 2, 3, Infinity, 0, 1, NaN, 1, 2];
      const ce = (reduction: "none" | "mean") => (x: tg.Tensor) =>
        tg.F.crossEntropy(x, tg.tensor([2, -100, -100], { dtype: "int32" }), { reduction });
      // torch: cross_entropy(…, [2, -100, -100], reduction="none") → [0.40760596444438, 0, 0];
      // its row-0 gradient (unit weights) [0.0900305731704, 0.2447284710548, -0.3347590442252]
      const none = tg.F.crossEntropy(
        tg.tensor(logits, { dtype: "float64" }).reshape([3, 3]),
        tg.tensor([2, -100, -100], { dtype: "int32" }),
        { reduction: "none" },
      );
      const v = Array.from(none.dataSync());
      expectNear(v, [0.4076059644443804, 0, 0], 1e-12);
      expect(Object.is(v[1], 0) && Object.is(v[2], 0)).toBe(true);
      const x = tg.tensor(logits, { dtype: "float64", requiresGrad: true });
      const mean = ce("mean")(x.reshape([3, 3]));
      expectNear([mean.item()], [0.4076059644443804], 1e-12);
      mean.backward();
      expectNear(
        Array.from(x.grad!.dataSync()).slice(0, 3),
        [0.09003057317038043, 0.24472847105479764, -0.3347590442251782],
        1e-12,
      );
      // torch: nll_loss(logp, [2, 1, 0], ignore_index=0, reduction="none") with NaN in the
      // ignored row and a NaN upstream gradient for it → [-3, -0, 0], gradient
      // [[0, 0, -1], [0, -2, 0], [0, 0, 0]] (upstream [1, 2, nan])
      const lp = tg.tensor(logits, { dtype: "float64", requiresGrad: true });
      const nll = tg.F.nllLoss(lp.reshape([3, 3]), tg.tensor([2, 1, 0], { dtype: "int32" }), {
        ignoreIndex: 0,
        reduction: "none",
      });
      expect(Array.from(nll.dataSync())).toEqual([-3, -0, 0]);
      expect(Object.is(nll.dataSync()[2], 0)).toBe(true);
      nll
        .mul(tg.tensor([1, 2, NaN], { dtype: "float64" }))
        .sum()
        .backward();
      expect(Array.from(lp.grad!.dataSync())).toEqual([0, 0, -1, 0, -2, 0, 0, 0, 0]);
      // torch: with weight [1, 2, 3], reduction "mean" → -1.8
      const w = tg.tensor([1, 2, 3], { dtype: "float64" });
      const m = tg.F.nllLoss(
        tg.tensor(logits, { dtype: "float64" }).reshape([3, 3]),
        tg.tensor([2, 1, 0], { dtype: "int32" }),
        { ignoreIndex: 0, weight: w },
      );
      expectNear([m.item()], [-1.8], 1e-12);
    });
  });

  it("crossEntropy and nllLoss over 0 classes, every target ignored", () => {
    on(be, () => {
      // torch: cross_entropy / nll_loss of [2, 0] logits, targets [-100, -100] → mean nan,
      // sum 0, none [0, 0]; cross_entropy of [0] logits, target -100 → nan / 0 / 0; probability
      // targets [2, 0] → mean nan, none [-0, -0]
      const x = tg.zeros([2, 0], { dtype: "float64" });
      const t = tg.tensor([-100, -100], { dtype: "int32" });
      for (const f of [
        (r: tg.F.Reduction) => tg.F.crossEntropy(x, t, { reduction: r, labelSmoothing: 0.1 }),
        (r: tg.F.Reduction) => tg.F.nllLoss(x, t, { reduction: r }),
      ]) {
        expect(Number.isNaN(f("mean").item())).toBe(true);
        expect(f("sum").item()).toBe(0);
        expect(f("none").toArray()).toEqual([0, 0]);
      }
      const one = tg.tensor(-100, { dtype: "int32" });
      expect(Number.isNaN(tg.F.crossEntropy(tg.zeros([0]), one).item())).toBe(true);
      expect(tg.F.crossEntropy(tg.zeros([0]), one, { reduction: "sum" }).item()).toBe(0);
      // Deliberately not torch 1.13 (which raises 'size mismatch' here): [N, 0, d] as [N, 0].
      const spatial = tg.F.crossEntropy(
        tg.zeros([2, 0, 3]),
        tg.full([2, 3], -100, { dtype: "int32" }),
        {
          reduction: "none",
        },
      );
      expect(spatial.toArray()).toEqual([
        [0, 0, 0],
        [0, 0, 0],
      ]);
      const probs = tg.zeros([2, 0], { dtype: "float64" });
      expect(Number.isNaN(tg.F.crossEntropy(x, probs).item())).toBe(true);
      expect(tg.F.crossEntropy(x, probs, { reduction: "none" }).toArray()).toEqual([-0, -0]);
    });
  });

  it("empty inputs: conv2d, localResponseNorm and pooling keep torch's shapes", () => {
    on(be, () => {
      // torch: conv2d of [0, 2, 0, 3] by [2, 2, 3, 3], padding 2 → [0, 2, 2, 5];
      // local_response_norm of an empty input returns it; pooling an empty batch → [0, 2, 1, 1]
      const w = tg.zeros([2, 2, 3, 3]);
      expect(tg.F.conv2d(tg.zeros([0, 2, 0, 3]), w, null, { padding: 2 }).shape).toEqual([
        0, 2, 2, 5,
      ]);
      for (const s of [
        [1, 2, 0, 3],
        [0, 2, 3],
        [1, 0, 3],
        [2, 3, 2, 0, 4],
      ]) {
        expect(tg.F.localResponseNorm(tg.zeros(s), 3).shape).toEqual(s);
      }
      expect(tg.F.maxPool2d(tg.zeros([0, 2, 3, 3]), 2).shape).toEqual([0, 2, 1, 1]);
      expect(tg.F.avgPool2d(tg.zeros([0, 2, 3, 3]), 2, { padding: 1 }).shape).toEqual([0, 2, 2, 2]);
    });
  });
});
