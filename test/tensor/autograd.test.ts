import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

describe("Tensor.backward", () => {
  it("accumulates gradients across backward calls and through reused tensors", () => {
    const x = tg.tensor([1, 2, 3], { requiresGrad: true });
    const y = x.mul(x).add(x); // dy/dx = 2x + 1
    y.sum().backward();
    expect(x.grad!.toArray()).toEqual([3, 5, 7]);
    x.mul(2).sum().backward();
    expect(x.grad!.toArray()).toEqual([5, 7, 9]);
  });

  it("needs a seed for non-scalar outputs, and checks its shape", () => {
    const x = tg.ones([2, 2], { requiresGrad: true });
    expect(() => x.mul(2).backward()).toThrow(
      /backward: a seed gradient is required for a non-scalar output of shape \[2,2\]/,
    );
    expect(() => x.mul(2).backward(tg.ones([3]))).toThrow(
      /seed gradient shape \[3\] differs from output shape \[2,2\]/,
    );
    x.mul(3).backward(
      tg.tensor([
        [1, 2],
        [3, 4],
      ]),
    );
    expect(x.grad!.toArray()).toEqual([
      [3, 6],
      [9, 12],
    ]);
  });

  it("refuses tensors that are not on the tape", () => {
    expect(() => tg.ones([1]).sum().backward()).toThrow(
      /backward: the tensor does not require grad/,
    );
  });

  it("noGrad, detach and enableGrad control recording", () => {
    const x = tg.ones([2], { requiresGrad: true });
    expect(tg.noGrad(() => x.mul(2)).requiresGrad).toBe(false);
    expect(x.detach().requiresGrad).toBe(false);
    expect(tg.noGrad(() => tg.enableGrad(() => x.mul(2))).requiresGrad).toBe(true);
    const y = x.mul(x.detach().add(1)); // gradient only through the first factor: d/dx = x + 1
    y.sum().backward();
    expect(x.grad!.toArray()).toEqual([2, 2]);
  });

  it("sums gradients over broadcast axes and passes them through views", () => {
    const b = tg.tensor([1, 2, 3], { requiresGrad: true });
    const m = tg.ones([4, 3]).mul(b).t().reshape([12]).narrow(0, 0, 8);
    m.sum().backward();
    // the first 8 elements of the [3, 4] transpose cover rows 0 and 1 completely
    expect(b.grad!.toArray()).toEqual([4, 4, 0]);
  });

  it("handles long chains without recursion limits", () => {
    let x = tg.tensor([1], { requiresGrad: true });
    const leaf = x;
    for (let i = 0; i < 20000; i++) x = x.mul(1);
    x.sum().backward();
    expect(leaf.grad!.toArray()).toEqual([1]);
  });
});

describe("tg.grad and tg.valueAndGrad", () => {
  it("differentiate a function of a record of tensors without touching .grad", () => {
    const w = tg.tensor([1, 2], { requiresGrad: true });
    const f = (p: { w: tg.Tensor; b: tg.Tensor }) => p.w.mul(p.b).sum().add(p.b.square().sum());
    const [v, g] = tg.valueAndGrad(f)({ w, b: tg.tensor([3, 4]) });
    expect(v.item()).toBe(36);
    expect(g.w.toArray()).toEqual([3, 4]);
    expect(g.b.toArray()).toEqual([7, 10]); // w + 2b
    expect(w.grad).toBeNull();
  });

  it("nests for higher derivatives", () => {
    const f = (x: tg.Tensor) => x.sin().sum();
    const d1 = tg.grad(f);
    const d2 = tg.grad((x: tg.Tensor) => d1(x).sum());
    const d3 = tg.grad((x: tg.Tensor) => d2(x).sum());
    const x = tg.tensor([0.3, 1.2], { dtype: "float64" });
    const close = (a: tg.Tensor, b: number[]) =>
      (a.toArray() as number[]).forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 12));
    close(d1(x), [Math.cos(0.3), Math.cos(1.2)]);
    close(d2(x), [-Math.sin(0.3), -Math.sin(1.2)]);
    close(d3(x), [-Math.cos(0.3), -Math.cos(1.2)]);
  });

  it("returns zeros for inputs the function ignores and rejects non-scalar results", () => {
    expect(
      tg
        .grad((p: Record<string, tg.Tensor>) => p.a!.sum())({ a: tg.ones([2]), b: tg.ones([3]) })
        .b!.toArray(),
    ).toEqual([0, 0, 0]);
    expect(() => tg.grad((x: tg.Tensor) => x.mul(2))(tg.ones([2]))).toThrow(
      /grad: the function must return a one-element tensor/,
    );
    expect(() => tg.grad((x: tg.Tensor) => x.sum())(tg.ones([2], { dtype: "int32" }))).toThrow(
      /cannot differentiate with respect to int32/,
    );
  });

  it("create a graph from backward when asked (gradient penalties)", () => {
    const x = tg.tensor([2], { dtype: "float64", requiresGrad: true });
    const y = x.pow(3);
    const [gx] = [tg.grad((t: tg.Tensor) => t.pow(3).sum())(x)];
    expect(gx.requiresGrad).toBe(true); // x requires grad, so the inner gradient is differentiable
    gx.sum().backward(); // d/dx 3x² = 6x
    expect(x.grad!.item()).toBeCloseTo(12, 12);
    void y;
  });
});
