/**
 * The ops a PyTorch user reaches for beyond the basics (issue 19): log1p/expm1, rounding, cumsum /
 * cumprod / prod, sort / argsort / topk, any / all, norm, isnan & co, nanToNum, tril / triu, roll,
 * bmm, outer and einsum — values and float64 gradients against PyTorch 1.13, plus bad input.
 *
 * Expected values in TORCH_CASES were computed with /usr/bin/python3 (torch 1.13.0, float64
 * inputs): y = f(*xs); (y * w).sum().backward() with w = torch.arange(1, y.numel() + 1) reshaped
 * to y's shape; `value` is y and `grads` the inputs' .grad. The same weighting is applied here.
 */
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

type Nested = number | Nested[];

function flat(v: unknown): number[] {
  return Array.isArray(v) ? v.flatMap(flat) : [v as number];
}

function expectNear(actual: unknown, expected: unknown, label: string, tol = 1e-9): void {
  const a = flat(actual);
  const e = flat(expected);
  expect(a.length, label).toBe(e.length);
  a.forEach((x, i) => {
    const y = e[i]!;
    const ok = Number.isNaN(y)
      ? Number.isNaN(x)
      : x === y || Math.abs(x - y) <= tol * Math.max(1, Math.abs(y));
    expect(ok, `${label} element ${i}: got ${x}, PyTorch ${y}`).toBe(true);
  });
}

interface Case {
  name: string;
  f: (...xs: tg.Tensor[]) => tg.Tensor;
  inputs: Nested[];
  value: Nested;
  grads: Nested[];
}

// prettier-ignore
const TORCH_CASES: Case[] = [
  {
    name: "log1p",
    f: (x) => tg.log1p(x),
    inputs: [[-0.5, 1e-10, 3.0]],
    value: [-0.6931471805599453, 9.999999999500001e-11, 1.3862943611198906],
    grads: [[2.0, 1.9999999998, 0.75]],
  },
  {
    name: "expm1",
    f: (x) => tg.expm1(x),
    inputs: [[-1e-10, 0.5, -3.0]],
    value: [-9.999999999500001e-11, 0.6487212707001282, -0.950212931632136],
    grads: [[0.9999999999, 3.2974425414002564, 0.14936120510359185]],
  },
  {
    name: "cumsum",
    f: (x) => tg.cumsum(x, -1),
    inputs: [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]],
    value: [[1.0, 3.0, 6.0], [4.0, 9.0, 15.0]],
    grads: [[[6.0, 5.0, 3.0], [15.0, 11.0, 6.0]]],
  },
  {
    name: "cumsum0",
    f: (x) => x.cumsum(0),
    inputs: [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]],
    value: [[1.0, 2.0, 3.0], [5.0, 7.0, 9.0]],
    grads: [[[5.0, 7.0, 9.0], [4.0, 5.0, 6.0]]],
  },
  {
    name: "cumprod",
    f: (x) => tg.cumprod(x, 0),
    inputs: [[2.0, 0.0, 3.0, 0.0, 5.0]],
    value: [2.0, 0.0, 0.0, 0.0, 0.0],
    grads: [[1.0, 22.0, 0.0, 0.0, 0.0]],
  },
  {
    name: "cumprod1",
    f: (x) => x.cumprod(1),
    inputs: [[[2.0, 0.5, 3.0], [0.0, 4.0, -1.0]]],
    value: [[2.0, 1.0, 3.0], [0.0, 0.0, -0.0]],
    grads: [[[6.5, 22.0, 3.0], [0.0, 0.0, 0.0]]],
  },
  {
    name: "prod1zero",
    f: (x) => tg.prod(x),
    inputs: [[2.0, 0.0, 3.0, 4.0]],
    value: 0.0,
    grads: [[0.0, 24.0, 0.0, 0.0]],
  },
  {
    name: "prod2zero",
    f: (x) => x.prod(),
    inputs: [[2.0, 0.0, 3.0, 0.0]],
    value: 0.0,
    grads: [[0.0, 0.0, 0.0, 0.0]],
  },
  {
    name: "proddim",
    f: (x) => tg.prod(x, 0, true),
    inputs: [[[1.0, 2.0, 0.0], [3.0, 4.0, 5.0], [6.0, 0.0, 7.0]]],
    value: [[18.0, 0.0, 0.0]],
    grads: [[[18.0, 0.0, 105.0], [6.0, 0.0, 0.0], [3.0, 16.0, 0.0]]],
  },
  {
    name: "sortvals",
    f: (x) => tg.sort(x, -1, true).values,
    inputs: [[[3.0, 1.0, 2.0], [0.0, 5.0, -1.0]]],
    value: [[3.0, 2.0, 1.0], [5.0, 0.0, -1.0]],
    grads: [[[1.0, 3.0, 2.0], [5.0, 4.0, 6.0]]],
  },
  {
    name: "topk",
    f: (x) => tg.topk(x, 2, 0, false).values,
    inputs: [[[3.0, 1.0], [0.0, 5.0], [2.0, -4.0]]],
    value: [[0.0, -4.0], [2.0, 1.0]],
    grads: [[[0.0, 4.0], [1.0, 0.0], [3.0, 2.0]]],
  },
  {
    name: "norm2",
    f: (x) => tg.norm(x, 2, 1),
    inputs: [[[0.0, 1.5, -2.0], [0.0, 0.0, 0.0], [3.0, -3.0, 1.0]]],
    value: [2.5, 0.0, 4.358898943540674],
    grads: [[[0.0, 0.6, -0.8], [0.0, 0.0, 0.0], [2.0647416048350555, -2.0647416048350555, 0.6882472016116852]]],
  },
  {
    name: "norm1",
    f: (x) => tg.norm(x, 1, 1),
    inputs: [[[0.0, 1.5, -2.0], [0.0, 0.0, 0.0], [3.0, -3.0, 1.0]]],
    value: [3.5, 0.0, 7.0],
    grads: [[[0.0, 1.0, -1.0], [0.0, 0.0, 0.0], [3.0, -3.0, 3.0]]],
  },
  {
    name: "norm3",
    f: (x) => tg.norm(x, 3, 1),
    inputs: [[[0.0, 1.5, -2.0], [0.0, 0.0, 0.0], [3.0, -3.0, 1.0]]],
    value: [2.2489707226377074, 0.0, 3.802952460761391],
    grads: [[[0.0, 0.4448513517305356, -0.7908468475209521], [0.0, 0.0, 0.0], [1.8669039352828656, -1.8669039352828656, 0.20743377058698506]]],
  },
  {
    name: "norm0.5",
    f: (x) => tg.norm(x, 0.5, 1),
    inputs: [[[0.0, 1.5, -2.0], [0.0, 0.0, 0.0], [3.0, -3.0, 1.0]]],
    value: [6.964101615137755, 0.0, 19.928203230275507],
    grads: [[[0.0, 2.154700538379252, -1.8660254037844386], [0.0, 0.0, 0.0], [7.7320508075688785, -7.7320508075688785, 13.392304845413264]]],
  },
  {
    name: "norminf",
    f: (x) => tg.norm(x, Infinity, 1),
    inputs: [[[0.0, 1.5, -2.0], [0.0, 0.0, 0.0], [3.0, -3.0, 1.0]]],
    value: [2.0, 0.0, 3.0],
    grads: [[[0.0, 0.0, -1.0], [0.0, 0.0, 0.0], [1.5, -1.5, 0.0]]],
  },
  {
    name: "norm-inf",
    f: (x) => x.norm(-Infinity, 1),
    inputs: [[[0.0, 1.5, -2.0], [0.0, 0.0, 0.0], [3.0, -3.0, 1.0]]],
    value: [0.0, 0.0, 1.0],
    grads: [[[0.0, 0.0, -0.0], [0.0, 0.0, 0.0], [0.0, -0.0, 3.0]]],
  },
  {
    name: "normall",
    f: (x) => tg.norm(x),
    inputs: [[[1.0, 2.0], [3.0, 4.0]]],
    value: 5.477225575051661,
    grads: [[[0.18257418583505536, 0.3651483716701107], [0.5477225575051661, 0.7302967433402214]]],
  },
  {
    name: "nan_to_num",
    f: (x) => tg.nanToNum(x, { posinf: 7 }),
    inputs: [[NaN, Infinity, -Infinity, 1.5]],
    value: [0.0, 7.0, -Number.MAX_VALUE, 1.5],
    grads: [[0.0, 0.0, 0.0, 4.0]],
  },
  {
    name: "tril",
    f: (x) => tg.tril(x, -1),
    inputs: [[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [[7.0, 8.0, 9.0], [1.0, 2.0, 3.0]]]],
    value: [[[0.0, 0.0, 0.0], [4.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]],
    grads: [[[[0.0, 0.0, 0.0], [4.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [10.0, 0.0, 0.0]]]],
  },
  {
    name: "triu",
    f: (x) => x.triu(1),
    inputs: [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]],
    value: [[0.0, 2.0, 3.0], [0.0, 0.0, 6.0], [0.0, 0.0, 0.0]],
    grads: [[[0.0, 2.0, 3.0], [0.0, 0.0, 6.0], [0.0, 0.0, 0.0]]],
  },
  {
    name: "roll",
    f: (x) => tg.roll(x, 2),
    inputs: [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]],
    value: [[5.0, 6.0, 1.0], [2.0, 3.0, 4.0]],
    grads: [[[3.0, 4.0, 5.0], [6.0, 1.0, 2.0]]],
  },
  {
    name: "roll2",
    f: (x) => x.roll([-1, 4], [0, 1]),
    inputs: [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]],
    value: [[6.0, 4.0, 5.0], [3.0, 1.0, 2.0]],
    grads: [[[5.0, 6.0, 4.0], [2.0, 3.0, 1.0]]],
  },
  {
    name: "einsum_mm",
    f: (a, b) => tg.einsum("ij,jk->ik", a, b),
    inputs: [[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], [[1.0, 2.0], [-1.0, 0.5], [0.0, 3.0]]],
    value: [[1.5, 6.5], [1.25, 0.875]],
    grads: [[[5.0, 0.0, 6.0], [11.0, -1.0, 12.0]], [[5.0, 7.0], [-0.25, -1.0], [-0.25, 1.0]]],
  },
  {
    name: "einsum_bilinear",
    f: (a, b, c) => tg.einsum("ij,jk,i->k", a, b, c),
    inputs: [[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], [[1.0, 2.0], [-1.0, 0.5], [0.0, 3.0]], [2.0, -1.0]],
    value: [1.75, 12.125],
    grads: [[[10.0, 0.0, 12.0], [-5.0, 0.0, -6.0]], [[-0.5, -1.0], [-2.25, -4.5], [4.75, 9.5]], [14.5, 3.0]],
  },
  {
    name: "einsum_diag",
    f: (a) => tg.einsum("ii->i", a),
    inputs: [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]],
    value: [1.0, 5.0, 9.0],
    grads: [[[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 3.0]]],
  },
  {
    name: "einsum_trace",
    f: (a) => tg.einsum("ii", a),
    inputs: [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]],
    value: 15.0,
    grads: [[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]],
  },
  {
    name: "einsum_ell",
    f: (a, b) => tg.einsum("...ij,...jk", a, b),
    inputs: [[[[1.0, 2.0], [3.0, 4.0]], [[0.5, 0.0], [1.0, -1.0]]], [[1.0, -1.0], [2.0, 0.0]]],
    value: [[[5.0, -1.0], [11.0, -3.0]], [[0.5, -0.5], [-1.0, -1.0]]],
    grads: [[[[-1.0, 2.0], [-1.0, 6.0]], [[-1.0, 10.0], [-1.0, 14.0]]], [[19.5, 25.0], [7.0, 12.0]]],
  },
  {
    name: "einsum_implicit",
    f: (a, b) => tg.einsum("ba,ca", a, b),
    inputs: [[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], [[1.0, 0.0, 2.0]]],
    value: [[4.5], [0.0]],
    grads: [[[1.0, 0.0, 2.0], [2.0, 0.0, 4.0]], [[3.5, -0.5, 0.5]]],
  },
  {
    name: "einsum_sumout",
    f: (a) => tg.einsum("ijk->j", a),
    inputs: [[[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]],
    value: [14.0, 22.0],
    grads: [[[[1.0, 1.0], [2.0, 2.0]], [[1.0, 1.0], [2.0, 2.0]]]],
  },
  {
    name: "einsum_bcast",
    f: (a, b) => tg.einsum("bi,bi->b", a, b),
    inputs: [[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [[1.0, -1.0]]],
    value: [-1.0, -1.0, -1.0],
    grads: [[[1.0, -1.0], [2.0, -2.0], [3.0, -3.0]], [[22.0, 28.0]]],
  },
  {
    name: "bmm",
    f: (a, b) => tg.bmm(a, b),
    inputs: [[[[1.0, 2.0]], [[3.0, 4.0]]], [[[1.0], [2.0]], [[-1.0], [0.5]]]],
    value: [[[5.0]], [[-1.0]]],
    grads: [[[[1.0, 2.0]], [[-2.0, 1.0]]], [[[1.0], [2.0]], [[6.0], [8.0]]]],
  },
  {
    name: "outer",
    f: (a, b) => a.outer(b),
    inputs: [[1.0, -2.0], [3.0, 4.0, 0.5]],
    value: [[3.0, 4.0, 0.5], [-6.0, -8.0, -1.0]],
    grads: [[12.5, 35.0], [-7.0, -8.0, -9.0]],
  },
  {
    name: "floor",
    f: (x) => tg.floor(x),
    inputs: [[-1.5, 0.3, 2.7]],
    value: [-2.0, 0.0, 2.0],
    grads: [[0.0, 0.0, 0.0]],
  },];

describe("values and float64 gradients match PyTorch 1.13", () => {
  it.each(TORCH_CASES.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const xs = c.inputs.map((v) =>
      tg.tensor(v as number[], { dtype: "float64", requiresGrad: true }),
    );
    const y = c.f(...xs);
    expect(y.dtype).toBe("float64");
    expectNear(y.toArray(), c.value, `${c.name} value`);
    const w = tg.arange(1, y.size + 1, 1, { dtype: "float64" }).reshape(y.shape);
    y.mul(w).sum().backward();
    xs.forEach((x, i) => expectNear(x.grad!.toArray(), c.grads[i], `${c.name} grad ${i}`));
  });
});

describe("log1p / expm1", () => {
  it("are accurate for tiny float32 inputs", () => {
    const x = tg.tensor([1e-7, 1e-20, -1e-30, 0.3]);
    // torch.log1p / torch.expm1 of the same float32 tensor.
    expectNear(
      tg.log1p(x).toArray(),
      [9.999999406318238e-8, 9.999999682655225e-21, -1.0000000031710769e-30, 0.2623642683029175],
      "log1p",
      1e-7,
    );
    expectNear(
      x.expm1().toArray(),
      [1.000000082740371e-7, 9.999999682655225e-21, -1.0000000031710769e-30, 0.349858820438385],
      "expm1",
      1e-7,
    );
  });

  it("promote integers to float32", () => {
    expect(tg.log1p(tg.tensor([0, 1], { dtype: "int32" })).dtype).toBe("float32");
    expect(tg.expm1(tg.tensor([true])).dtype).toBe("float32");
  });
});

describe("rounding", () => {
  it("rounds halves to even and keeps the sign of zero, as torch.round", () => {
    const x = tg.tensor([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, -0.4, 0.49999997, 2.5000002]);
    // torch.round(x) for the same float32 values.
    const want = [0, 2, 2, -0, -2, -2, -0, 0, 3];
    const got = flat(tg.round(x).toArray());
    got.forEach((v, i) => expect(Object.is(v, want[i]), `element ${i}: ${v}`).toBe(true));
  });

  it("floor / ceil / trunc, with NaN and infinities passing through", () => {
    const x = tg.tensor([-1.5, -0.2, 0.7, NaN, Infinity, -Infinity]);
    expect(tg.floor(x).toArray()).toEqual([-2, -1, 0, NaN, Infinity, -Infinity]);
    expect(x.ceil().toArray()).toEqual([-1, -0, 1, NaN, Infinity, -Infinity]);
    expect(x.trunc().toArray()).toEqual([-1, -0, 0, NaN, Infinity, -Infinity]);
  });

  it("has a zero gradient tensor, not none (a loss through it still backpropagates)", () => {
    const x = tg.tensor([[0.3, -2.6]], { requiresGrad: true });
    const y = tg.round(x).add(tg.floor(x)).add(x.ceil()).add(x.trunc());
    expect(y.requiresGrad).toBe(true);
    y.sum().backward();
    expect(x.grad!.toArray()).toEqual([[0, 0]]);
  });

  it("copies integer tensors and rejects bool, as PyTorch", () => {
    const i = tg.tensor([3, -4], { dtype: "int32" });
    const f = tg.floor(i);
    expect(f.dtype).toBe("int32");
    expect(f.toArray()).toEqual([3, -4]);
    expect(() => tg.ceil(tg.tensor([true]))).toThrow(tg.TsgradError);
    expect(() => tg.ceil(tg.tensor([true]))).toThrow(/^ceil: /);
  });
});

describe("cumsum / cumprod", () => {
  it("accept negative dims and 0-d tensors, and reject bad dims", () => {
    expect(tg.cumsum(tg.tensor(3), 0).toArray()).toEqual(3);
    expect(tg.cumprod(tg.tensor(3), -1).toArray()).toEqual(3);
    expect(() => tg.cumsum(tg.ones([2, 3]), 2)).toThrow(/cumsum: axis 2 is out of range/);
    expect(() => tg.cumprod(tg.ones([2, 3]), -3)).toThrow(/cumprod: axis -3 is out of range/);
  });

  it("count bools and keep int32 (PyTorch gives int64)", () => {
    const b = tg.cumsum(tg.tensor([true, false, true]), 0);
    expect(b.dtype).toBe("int32");
    expect(b.toArray()).toEqual([1, 1, 2]);
    expect(tg.cumprod(tg.tensor([2, 3, 4], { dtype: "int32" }), 0).toArray()).toEqual([2, 6, 24]);
  });

  it("handle empty axes", () => {
    expect(tg.cumsum(tg.zeros([2, 0]), 1).shape).toEqual([2, 0]);
    expect(tg.cumprod(tg.zeros([0, 3]), 0).shape).toEqual([0, 3]);
  });

  it("cumprod over a long axis matches a sequential product", () => {
    const v = Array.from({ length: 37 }, (_, i) => 1 + ((i * 7) % 5) / 10);
    let acc = 1;
    const want = v.map((x) => (acc *= x));
    expectNear(tg.cumprod(tg.tensor(v, { dtype: "float64" }), 0).toArray(), want, "cumprod", 1e-13);
  });
});

describe("sort / argsort / topk", () => {
  // torch.sort(x) / torch.sort(x, descending=True) (stable=True gives the same).
  const x = tg.tensor([3, 1, NaN, 1, -0, 0, 2]);

  it("sort stably with NaN as the largest value", () => {
    const asc = tg.sort(x);
    expect(asc.indices.toArray()).toEqual([4, 5, 1, 3, 6, 0, 2]);
    expect(asc.values.toArray()).toEqual([-0, 0, 1, 1, 2, 3, NaN]);
    expect(asc.indices.dtype).toBe("int32");
    expect(x.sort(-1, true).indices.toArray()).toEqual([2, 0, 6, 1, 3, 4, 5]);
    expect(tg.argsort(x, 0, true).toArray()).toEqual([2, 0, 6, 1, 3, 4, 5]);
    // torch.argsort(torch.tensor([True, False, True]))
    expect(tg.argsort(tg.tensor([true, false, true])).toArray()).toEqual([1, 0, 2]);
  });

  it("sorts along any dim, 0-d and empty tensors", () => {
    const m = tg.tensor([
      [3, 1],
      [1, 2],
      [2, 0],
    ]);
    expect(tg.argsort(m, 0).toArray()).toEqual([
      [1, 2],
      [2, 0],
      [0, 1],
    ]);
    const s = tg.sort(tg.tensor(5));
    expect([s.values.toArray(), s.indices.toArray(), s.indices.shape]).toEqual([5, 0, []]);
    expect(tg.sort(tg.zeros([2, 0])).values.shape).toEqual([2, 0]);
    expect(tg.argsort(tg.zeros([0]), 0).shape).toEqual([0]);
    expect(() => tg.sort(m, 2)).toThrow(/sort: axis 2 is out of range/);
  });

  it("topk picks the largest or smallest, NaN counting as largest", () => {
    const t = tg.tensor([1, NaN, 3, 2]);
    const big = tg.topk(t, 2);
    expect(big.values.toArray()).toEqual([NaN, 3]);
    expect(big.indices.toArray()).toEqual([1, 2]);
    const small = t.topk(3, 0, false);
    expect(small.values.toArray()).toEqual([1, 2, 3]);
    expect(small.indices.toArray()).toEqual([0, 3, 2]);
    // With ties the values agree with torch.topk; which tied index comes first is unspecified there.
    expect(tg.topk(tg.tensor([1, 3, 3, 2, 3]), 2).values.toArray()).toEqual([3, 3]);
    expect(tg.topk(t, 0).values.shape).toEqual([0]);
  });

  it("topk rejects k outside [0, size]", () => {
    expect(() => tg.topk(tg.tensor([1, 2]), 3)).toThrow(/topk: k = 3 is out of range/);
    expect(() => tg.topk(tg.tensor([1, 2]), -1)).toThrow(tg.TsgradError);
  });
});

describe("prod / any / all", () => {
  it("prod: empty is 1, integers stay int32, dims and keepdim", () => {
    expect(tg.prod(tg.zeros([0])).item()).toBe(1);
    expect(tg.prod(tg.zeros([2, 0]), 1).toArray()).toEqual([1, 1]);
    const i = tg.prod(
      tg.tensor(
        [
          [2, 3],
          [4, 5],
        ],
        { dtype: "int32" },
      ),
      -1,
    );
    expect([i.dtype, i.toArray()]).toEqual(["int32", [6, 20]]);
    expect(tg.prod(tg.tensor([true, true])).dtype).toBe("int32");
    expect(tg.prod(tg.ones([2, 3]), 1, true).shape).toEqual([2, 1]);
    expect(() => tg.prod(tg.ones([2]), 1)).toThrow(/prod: axis 1 is out of range/);
  });

  it("any / all give bools; NaN is true; empty any is false and empty all true", () => {
    // torch.any(torch.tensor([0., nan])), torch.all(torch.empty(0)), torch.any(torch.empty(0))
    expect(tg.any(tg.tensor([0, NaN])).toArray()).toBe(true);
    expect(tg.all(tg.zeros([0])).toArray()).toBe(true);
    expect(tg.any(tg.zeros([0])).toArray()).toBe(false);
    const m = tg.tensor([
      [0, 1],
      [0, 0],
    ]);
    expect(m.any(0).toArray()).toEqual([false, true]);
    expect(m.all(-1, true).toArray()).toEqual([[false], [false]]);
    expect(tg.all(tg.tensor([1, 2], { dtype: "int32" })).dtype).toBe("bool");
    expect(() => tg.any(m, 2)).toThrow(/any: axis 2/);
  });
});

describe("norm", () => {
  it("norm over several dims and keepdim", () => {
    const x = tg.arange(24, undefined, 1, { dtype: "float64" }).reshape([2, 3, 4]);
    const n = tg.norm(x, 3, [0, 1], true);
    expect(n.shape).toEqual([1, 1, 4]);
    const want = [0, 1, 2, 3].map(
      (k) => [0, 4, 8, 12, 16, 20].reduce((s, b) => s + (b + k) ** 3, 0) ** (1 / 3),
    );
    expectNear(n.toArray(), [[want]], "norm 3", 1e-12);
    expect(tg.norm(tg.ones([2, 2]), "fro").item()).toBe(2);
  });

  it("p = 0 counts non-zeros with a zero gradient; ±inf over an empty axis is an error (PyTorch 1.13)", () => {
    const x = tg.tensor([0, 2, -3, NaN], { dtype: "float64", requiresGrad: true });
    const n = tg.norm(x, 0);
    expect(n.item()).toBe(3);
    n.backward();
    expect(x.grad!.toArray()).toEqual([0, 0, 0, 0]);
    expect(tg.norm(tg.zeros([0])).item()).toBe(0);
    expect(() => tg.norm(tg.zeros([0]), Infinity)).toThrow(/norm: the inf norm of \[0\]/);
    expect(() => tg.norm(tg.zeros([5, 0]), -Infinity, 1)).toThrow(/-inf norm/);
    expect(tg.norm(tg.zeros([0, 5]), Infinity, 1).shape).toEqual([0]);
  });

  it("rejects integer tensors and a bad p", () => {
    expect(() => tg.norm(tg.tensor([1, 2], { dtype: "int32" }))).toThrow(
      /norm: expected a floating tensor/,
    );
    expect(() => tg.norm(tg.ones([2]), NaN)).toThrow(/norm: p must be/);
  });
});

describe("isnan / isinf / isfinite / nanToNum", () => {
  const x = tg.tensor([1, NaN, Infinity, -Infinity, -0]);
  it("classify elements (bool)", () => {
    expect(tg.isnan(x).toArray()).toEqual([false, true, false, false, false]);
    expect(x.isinf().toArray()).toEqual([false, false, true, true, false]);
    expect(tg.isfinite(x).toArray()).toEqual([true, false, false, false, true]);
    const i = tg.tensor([1, 2], { dtype: "int32" });
    expect([tg.isnan(i).toArray(), tg.isinf(i).toArray(), i.isfinite().toArray()]).toEqual([
      [false, false],
      [false, false],
      [true, true],
    ]);
  });

  it("nanToNum defaults to the dtype's finite extremes", () => {
    // torch.nan_to_num(x) for float32: torch.finfo(torch.float32).max = 3.4028234663852886e+38.
    expect(tg.nanToNum(x).toArray()).toEqual([
      1, 0, 3.4028234663852886e38, -3.4028234663852886e38, -0,
    ]);
    expect(x.nanToNum({ nan: -1, neginf: -5 }).toArray()).toEqual([
      1, -1, 3.4028234663852886e38, -5, -0,
    ]);
    const i = tg.nanToNum(tg.tensor([3], { dtype: "int32" }));
    expect([i.dtype, i.toArray()]).toEqual(["int32", [3]]);
  });
});

describe("tril / triu / roll", () => {
  it("tril / triu need at least 2 dimensions and keep the dtype", () => {
    expect(() => tg.tril(tg.ones([3]))).toThrow(/tril: expected at least 2 dimensions, got \[3\]/);
    expect(() => tg.triu(tg.ones([2, 2]), 0.5)).toThrow(/triu: diagonal must be an integer/);
    const b = tg.triu(tg.ones([2, 2], { dtype: "bool" }));
    expect([b.dtype, b.toArray()]).toEqual([
      "bool",
      [
        [true, true],
        [false, true],
      ],
    ]);
    expect(tg.tril(tg.ones([2, 3]), 5).toArray()).toEqual([
      [1, 1, 1],
      [1, 1, 1],
    ]);
    expect(tg.tril(tg.ones([0, 3])).shape).toEqual([0, 3]);
  });

  it("roll: shifts larger than the axis, empty tensors and mismatched dims", () => {
    // torch.roll(torch.arange(6).reshape(2, 3), (1, 1), (0, 1))
    expect(tg.roll(tg.arange(6).reshape([2, 3]), [1, 1], [0, 1]).toArray()).toEqual([
      [5, 3, 4],
      [2, 0, 1],
    ]);
    expect(tg.roll(tg.tensor([1, 2, 3]), 7).toArray()).toEqual([3, 1, 2]);
    expect(tg.roll(tg.zeros([0, 2]), 1, 0).shape).toEqual([0, 2]);
    expect(() => tg.roll(tg.ones([3]), [1, 2])).toThrow(/roll: without dims, shifts must be one/);
    expect(() => tg.roll(tg.ones([3, 3]), [1, 2], [0])).toThrow(
      /roll: shifts \[1,2\] and dims \[0\]/,
    );
    expect(() => tg.roll(tg.ones([3]), 1, 1)).toThrow(/roll: axis 1 is out of range/);
  });
});

describe("bmm / outer / einsum: bad input", () => {
  it("bmm needs two 3-D tensors with matching batch and inner sizes", () => {
    expect(() => tg.bmm(tg.ones([2, 3]), tg.ones([3, 2]))).toThrow(/bmm: expected two 3-D tensors/);
    expect(() => tg.bmm(tg.ones([2, 3, 4]), tg.ones([3, 4, 2]))).toThrow(
      /bmm: shapes \[2,3,4\] and \[3,4,2\] do not multiply/,
    );
    expect(() => tg.bmm(tg.ones([1, 2, 2]), tg.ones([1, 2, 2], { dtype: "float64" }))).toThrow(
      /bmm: expected floating tensors of one dtype/,
    );
  });

  it("outer needs 1-D tensors", () => {
    expect(() => tg.outer(tg.ones([2, 2]), tg.ones([2]))).toThrow(/outer: expected two 1-D/);
  });

  it("einsum names what is wrong with the equation", () => {
    const a = tg.ones([2, 3]);
    expect(() => tg.einsum("ij,jk", a)).toThrow(/einsum: .* names 2 operand\(s\) but 1/);
    expect(() => tg.einsum("ijk", a)).toThrow(/einsum: operand 0 has shape \[2,3\]/);
    expect(() => tg.einsum("i1", a)).toThrow(/einsum: invalid character '1'/);
    expect(() => tg.einsum("ij,ij", a, tg.ones([3, 2]))).toThrow(
      /einsum: subscript 'i' has sizes 2 and 3/,
    );
    expect(() => tg.einsum("ij->k", a)).toThrow(/einsum: output subscript 'k' does not appear/);
    expect(() => tg.einsum("ij->ii", a)).toThrow(/einsum: output subscript 'i' appears twice/);
    expect(() => tg.einsum("ii", a)).toThrow(/einsum: subscript 'i' is repeated in operand 0/);
    expect(() => tg.einsum("i->i->i", tg.ones([2]))).toThrow(/more than one "->"/);
    expect(() => tg.einsum("...i...", a)).toThrow(/more than one "..."/);
  });
});

describe("einsum", () => {
  it("follows torch for implicit output, spaces, ellipsis sums, broadcasting and integers", () => {
    // torch.einsum('...i->i', torch.ones(2, 3)) = [2, 2, 2]; einsum('i,i->', ones(3), ones(1)) = 3
    expect(tg.einsum("...i -> i", tg.ones([2, 3])).toArray()).toEqual([2, 2, 2]);
    expect(tg.einsum("i,i->", tg.ones([3]), tg.ones([1])).item()).toBe(3);
    // Uppercase letters sort before lowercase in the implicit output, as in torch.
    expect(tg.einsum("aB", tg.ones([2, 3])).shape).toEqual([3, 2]);
    const i = tg.einsum(
      "i,j",
      tg.tensor([1, 2], { dtype: "int32" }),
      tg.tensor([3, 4, 5], { dtype: "int32" }),
    );
    expect([i.dtype, i.toArray()]).toEqual([
      "int32",
      [
        [3, 4, 5],
        [6, 8, 10],
      ],
    ]);
    const mixed = tg.einsum("i,i->", tg.tensor([1, 2], { dtype: "int32" }), tg.tensor([0.5, 0.25]));
    expect([mixed.dtype, mixed.item()]).toEqual(["float32", 1]);
    expect(tg.einsum("ij,jk->ik", tg.ones([2, 0]), tg.ones([0, 3])).toArray()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });

  it("matches matmul on a batched product with a transposed operand", () => {
    const a = tg.randn([2, 3, 4], { dtype: "float64" });
    const b = tg.randn([2, 5, 4], { dtype: "float64" });
    expectNear(
      tg.einsum("bij,bkj->bik", a, b).toArray(),
      a.matmul(b.transpose(1, 2)).toArray(),
      "einsum",
      1e-12,
    );
  });
});
