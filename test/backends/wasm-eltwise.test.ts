/**
 * The wasm backend's elementwise, reduction and indexing kernels where they must give the
 * reference's bits (copies, conversions, double-precision sums, scatter order) and where they
 * leave the work to the reference on purpose (sparse gathers).
 */
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

/** Run `f` on `backend` with kernel tracking; returns its result and the kernels that ran. */
function traced<T>(
  backend: string,
  f: () => T,
): { value: T; ran: { backend: string; op: string }[] } {
  const prev = tg.getBackend().name;
  tg.setBackend(backend);
  const was = tg.trackKernels(true);
  tg.kernelStats(true);
  try {
    const value = f();
    return { value, ran: tg.kernelStats(true) };
  } finally {
    tg.trackKernels(was);
    tg.setBackend(prev);
  }
}

const bits = (t: tg.Tensor): number[] => Array.from(t.dataSync());

describe("wasm indexing kernels", () => {
  it("look up an embedding and scatter its gradient as the reference does, to the bit", () => {
    const run = (backend: string) =>
      traced(backend, () => {
        tg.manualSeed(4);
        const emb = new tg.nn.Embedding(50, 16);
        // Repeated indices: their gradients add up in the reference's order.
        const ids = tg.tensor(Int32Array.from([3, 7, 3, 49, 0, 7, 7, 12]), { shape: [2, 4] });
        const y = emb.forward(ids);
        y.mul(tg.randn([2, 4, 16]))
          .sum()
          .backward();
        return [bits(y), bits(emb.weight.grad!)];
      });
    const mine = run("wasm");
    const ref = run("js");
    expect(mine.value).toEqual(ref.value);
    expect(mine.ran).toContainEqual({ backend: "wasm", op: "gather", calls: 1 });
  });

  it("leaves a sparse gather (one class in thousands) to the reference", () => {
    const logits = tg.randn([4, 3000]);
    const target = tg.tensor(Int32Array.from([5, 2999, 0, 17]));
    const mine = traced("wasm", () => tg.F.crossEntropy(logits, target).item());
    const ref = traced("js", () => tg.F.crossEntropy(logits, target).item());
    expect(mine.value).toBeCloseTo(ref.value, 5);
    expect(mine.ran).toContainEqual({ backend: "js", op: "gather", calls: 1 });
  });

  it("names the op and the bad index", () => {
    const prev = tg.getBackend().name;
    tg.setBackend("wasm");
    try {
      const idx = tg.tensor(Int32Array.from([0, 9, 1, 2]), { shape: [2, 2] });
      expect(() => tg.gather(tg.randn([2, 3]), 1, idx)).toThrow(
        "gather: index 9 is out of range for axis 1 of size 3",
      );
      expect(() => tg.scatterAdd(tg.ones([2, 2]), 1, idx, [2, 3])).toThrow(
        "scatterAdd: index 9 is out of range for axis 1 of size 3",
      );
    } finally {
      tg.setBackend(prev);
    }
  });
});

describe("wasm conversions and reductions", () => {
  it("convert float32 to int32 as an Int32Array store of Math.trunc does (wrapping)", () => {
    const values = [-1.7, 0.9, 2.5e9, -2.5e9, 3e38, -Infinity, NaN, 2 ** 31, -(2 ** 31), 1e20];
    const f = () => tg.tensor(Float32Array.from(values)).to("int32");
    const mine = traced("wasm", f);
    expect(bits(mine.value)).toEqual(bits(traced("js", f).value));
    expect(mine.ran).toContainEqual({ backend: "wasm", op: "cast", calls: 1 });
  });

  it("sum in double precision: within a float32 rounding of the reference, columns to the bit", () => {
    // Many small terms after a large one: a float32 running sum would drift by hundreds of ulp.
    const data = Float32Array.from({ length: 64 * 4099 }, (_, i) =>
      i % 4099 === 0 ? 3e7 : 0.1 + Math.sin(i) * 1e-3,
    );
    const x = () => tg.tensor(data, { shape: [64, 4099] });
    const ulp = (v: number) => 2 ** (Math.floor(Math.log2(Math.abs(v))) - 23);
    // Rows (contiguous: four double lanes, then their sum) and the whole tensor.
    for (const f of [() => x().sum(1), () => x().t().sum(0), () => x().sum()]) {
      const mine = bits(traced("wasm", f).value);
      const ref = bits(traced("js", f).value);
      mine.forEach((v, i) => expect(Math.abs(v - ref[i]!)).toBeLessThanOrEqual(ulp(ref[i]!)));
    }
    // Columns: one double accumulator per output, in the reference's order.
    const cols = () => x().sum(0);
    expect(bits(traced("wasm", cols).value)).toEqual(bits(traced("js", cols).value));
  });

  it("compare, select and take maxima with NaN where the reference puts it", () => {
    const a = Float32Array.from([NaN, 1, -0, 0, Infinity, -2]);
    const b = Float32Array.from([1, NaN, 0, -0, Infinity, -3]);
    const ops: ((x: tg.Tensor, y: tg.Tensor) => tg.Tensor)[] = [
      (x, y) => x.maximum(y),
      (x, y) => tg.where(x.gt(y), x, y),
      (x, y) => x.ne(y).to("float32"),
      (x, y) => x.le(y).to("float32"),
      (x) => x.amax(0, true),
    ];
    for (const op of ops) {
      const run = (backend: string) =>
        bits(traced(backend, () => op(tg.tensor(a), tg.tensor(b))).value);
      expect(run("wasm").map(String)).toEqual(run("js").map(String));
    }
  });
});
