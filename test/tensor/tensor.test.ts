import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

describe("tg.tensor and creation", () => {
  it("infers shape and dtype from nested arrays and typed arrays", () => {
    const a = tg.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect([a.shape, a.dtype, a.strides]).toEqual([[2, 3], "float32", [3, 1]]);
    expect(tg.tensor([true, false]).dtype).toBe("bool");
    const data = new Int32Array([1, 2, 3, 4]);
    const b = tg.tensor(data, { shape: [2, 2] });
    expect(b.dtype).toBe("int32");
    expect(b.data).toBe(data); // no copy when the dtype matches
    expect(tg.tensor(5).shape).toEqual([]);
  });

  it("rejects ragged data and impossible shapes with the op name", () => {
    expect(() => tg.tensor([[1, 2], [3]])).toThrow(/tensor: ragged/);
    expect(() => tg.tensor(new Float32Array(5), { shape: [2, 2] })).toThrow(
      /tensor: shape \[2,2\] needs 4 elements, got 5/,
    );
    expect(() => tg.zeros([2, -1])).toThrow(/full: shape must be/);
  });

  it("creates ranges, constants and identities", () => {
    expect(tg.arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(tg.arange(5).dtype).toBe("int32");
    expect(tg.arange(0, 1, 0.25).toArray()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(tg.linspace(-1, 1, 3).toArray()).toEqual([-1, 0, 1]);
    expect(tg.eye(2, 3).toArray()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    expect(tg.full([2], 3, { dtype: "int32" }).toArray()).toEqual([3, 3]);
    expect(tg.zerosLike(tg.ones([2, 2], { dtype: "float64" })).dtype).toBe("float64");
  });
});

describe("views", () => {
  const x = tg.arange(24).reshape([2, 3, 4]);

  it("reshape, permute, transpose, expand, narrow, squeeze share storage", () => {
    for (const v of [
      x.reshape([6, 4]),
      x.permute([2, 0, 1]),
      x.transpose(0, 2),
      x.narrow(1, 1, 2),
      x.unsqueeze(0),
      x.reshape([1, 24]).squeeze(0),
    ]) {
      expect(v.data).toBe(x.data);
    }
    expect(x.narrow(2, 1, 2).offset).toBe(1);
    const e = tg.tensor([1, 2, 3]).reshape([3, 1]).expand([3, 4]);
    expect(e.strides).toEqual([1, 0]);
  });

  it("reads the right elements through strided views", () => {
    expect(x.permute([2, 0, 1]).toArray()).toEqual(
      [0, 1, 2, 3].map((k) => [0, 1].map((i) => [0, 1, 2].map((j) => i * 12 + j * 4 + k))),
    );
    expect(x.narrow(1, 1, 2).narrow(2, 2, 2).toArray()).toEqual([
      [
        [6, 7],
        [10, 11],
      ],
      [
        [18, 19],
        [22, 23],
      ],
    ]);
    expect(tg.tensor([1, 2, 3]).reshape([3, 1]).expand([3, 2]).toArray()).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
  });

  it("reshapes a view without copying when the layout allows it, and copies otherwise", () => {
    const t = x.transpose(1, 2); // [2, 4, 3]
    expect(t.reshape([8, 3]).data).not.toBe(x.data); // needs a copy
    const split = x.narrow(0, 1, 1).reshape([3, 2, 2]); // contiguous slice: a view
    expect(split.data).toBe(x.data);
    expect(split.toArray()).toEqual([
      [
        [12, 13],
        [14, 15],
      ],
      [
        [16, 17],
        [18, 19],
      ],
      [
        [20, 21],
        [22, 23],
      ],
    ]);
    const tt = x.permute([1, 0, 2]).reshape([3, 2, 2, 2]); // splitting the last axis of a permuted view
    expect(tt.data).toBe(x.data);
    expect(tt.contiguous().toArray()).toEqual(
      x.permute([1, 0, 2]).contiguous().reshape([3, 2, 2, 2]).toArray(),
    );
    expect(() => x.transpose(1, 2).view([24])).toThrow(
      /view: .* cannot be viewed as \[24\]; use reshape/,
    );
  });

  it("contiguous() copies only non-contiguous tensors", () => {
    expect(x.contiguous()).toBe(x);
    const c = x.t().contiguous();
    expect(c.isContiguous()).toBe(true);
    expect(c.toArray()).toEqual(x.t().toArray());
  });

  it("splits, chunks, flips, repeats and concatenates", () => {
    const v = tg.arange(6);
    expect(v.split(4).map((t) => t.toArray())).toEqual([
      [0, 1, 2, 3],
      [4, 5],
    ]);
    expect(v.chunk(3).map((t) => t.toArray())).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    expect(v.flip(0).toArray()).toEqual([5, 4, 3, 2, 1, 0]);
    expect(tg.tensor([1, 2]).repeat([2, 2]).toArray()).toEqual([
      [1, 2, 1, 2],
      [1, 2, 1, 2],
    ]);
    expect(tg.stack([tg.tensor([1, 2]), tg.tensor([3, 4])], 1).toArray()).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect(
      tg
        .tensor([[1, 2]])
        .pad([1, 0, 0, 1], 9)
        .toArray(),
    ).toEqual([
      [9, 1, 2],
      [9, 9, 9],
    ]);
  });
});

describe("data access and printing", () => {
  it("item, toArray and dataSync", () => {
    expect(tg.tensor([[3]]).item()).toBe(3);
    expect(() => tg.tensor([1, 2]).item()).toThrow(/item: only one-element tensors/);
    expect(tg.tensor([true, false]).toArray()).toEqual([true, false]);
    const t = tg.arange(6).reshape([2, 3]);
    expect(t.dataSync()).toBe(t.data);
    expect(Array.from(t.t().dataSync())).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it("prints like PyTorch and summarises large tensors", () => {
    expect(
      String(
        tg.tensor([
          [1, 2],
          [3, 4],
        ]),
      ),
    ).toBe("tensor([[1.0000, 2.0000],\n        [3.0000, 4.0000]])");
    expect(String(tg.tensor([1], { requiresGrad: true }))).toBe(
      "tensor([1.0000], requiresGrad=true)",
    );
    expect(String(tg.arange(3))).toBe("tensor([0, 1, 2], dtype=int32)");
    const big = String(tg.zeros([2000]));
    expect(big).toContain("...");
    expect(big.length).toBeLessThan(200);
  });
});

describe("dtypes", () => {
  it("promotes in binary ops as PyTorch (bool < int32 < float32 < float64)", () => {
    const i = tg.tensor([1, 2], { dtype: "int32" });
    expect(i.add(1).dtype).toBe("int32");
    expect(i.add(0.5).dtype).toBe("float32");
    expect(i.div(2).toArray()).toEqual([0.5, 1]);
    expect(i.add(tg.tensor([1, 1], { dtype: "float64" })).dtype).toBe("float64");
    expect(i.gt(1).dtype).toBe("bool");
    expect(i.exp().dtype).toBe("float32");
  });

  it("casts truncate toward zero and booleans are nonzero", () => {
    expect(tg.tensor([-1.7, 2.9]).int().toArray()).toEqual([-1, 2]);
    expect(tg.tensor([0, -0.5]).bool().toArray()).toEqual([false, true]);
  });
});

describe("seeded randomness", () => {
  it("the same seed gives the same bits; generators are independent and restorable", () => {
    tg.manualSeed(7);
    const a = tg.randn([5]).toArray();
    tg.manualSeed(7);
    expect(tg.randn([5]).toArray()).toEqual(a);
    const g = new tg.Generator(3);
    const state = g.getState();
    const first = [g.nextU32(), g.nextU32()];
    g.setState(state);
    expect([g.nextU32(), g.nextU32()]).toEqual(first);
    expect(tg.rand([3], { generator: new tg.Generator(1) }).toArray()).toEqual(
      tg.rand([3], { generator: new tg.Generator(1) }).toArray(),
    );
  });

  it("draws have the right distributions", () => {
    tg.manualSeed(0);
    const n = tg.randn([20000]);
    expect(Math.abs(n.mean().item())).toBeLessThan(0.03);
    expect(Math.abs(n.std().item() - 1)).toBeLessThan(0.03);
    const u = tg.rand([20000]);
    expect(Math.abs(u.mean().item() - 0.5)).toBeLessThan(0.01);
    const r = tg.randint(3, 6, [3000]);
    const counts = [3, 4, 5].map((v) => r.eq(v).sum().item());
    expect(counts.every((c) => c > 900 && c < 1100)).toBe(true);
    expect([...(tg.randperm(10).toArray() as number[])].sort((p, q) => p - q)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
  });
});
