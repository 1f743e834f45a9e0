/** Optimizer behaviour beyond the PyTorch trajectories: validation, in-place updates, kernels. */
import { afterEach, describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import type { OptimizerKernels } from "../../src/optim/index.js";

const leaf = (v: number[]) => tg.tensor(v, { requiresGrad: true });

describe("tg.optim.Optimizer construction", () => {
  it("rejects an empty parameter list or a bare tensor", () => {
    expect(() => new tg.optim.SGD([], { lr: 0.1 })).toThrow(/SGD: got an empty parameter list/);
    expect(() => new tg.optim.SGD(leaf([1]) as unknown as tg.Tensor[], { lr: 0.1 })).toThrow(
      /got a single tensor/,
    );
  });

  it("rejects non-contiguous, non-leaf and integer parameters, naming them", () => {
    const t = tg.zeros([2, 3]).t();
    expect(() => new tg.optim.SGD([t], { lr: 0.1 })).toThrow(
      /group 0 parameter 0 is not contiguous \(shape \[3,2\], strides \[1,3\]\)/,
    );
    const w = leaf([1, 2]);
    expect(() => new tg.optim.Adam([w, w.mul(2)])).toThrow(
      /parameter 1 \(shape \[2\]\) is not a leaf/,
    );
    expect(() => new tg.optim.Adam([tg.arange(3)])).toThrow(/has dtype int32/);
  });

  it("rejects a parameter listed twice or in two groups", () => {
    const w = leaf([1]);
    expect(() => new tg.optim.SGD([w, w], { lr: 1 })).toThrow(/more than once/);
    expect(() => new tg.optim.SGD([{ params: [w] }, { params: [w] }], { lr: 1 })).toThrow(
      /group 1 shares parameters with group 0/,
    );
  });

  it("rejects invalid hyper-parameters, per group", () => {
    const w = leaf([1]);
    expect(() => new tg.optim.SGD([w], { lr: -1 })).toThrow(/invalid learning rate -1/);
    expect(() => new tg.optim.SGD([w], { lr: 0.1, nesterov: true })).toThrow(
      /Nesterov momentum needs momentum > 0 and dampening 0/,
    );
    expect(() => new tg.optim.Adam([{ params: [w], betas: [0.9, 1] }])).toThrow(
      /parameter group 0: betas\[1\] must be in \[0, 1\), got 1/,
    );
    expect(() => new tg.optim.RMSprop([w], { momentum: NaN })).toThrow(/invalid momentum NaN/);
  });

  it("applies PyTorch's defaults", () => {
    const w = leaf([1]);
    expect(new tg.optim.Adam([w]).defaults).toEqual({
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0,
      amsgrad: false,
      maximize: false,
    });
    expect(new tg.optim.AdamW([w]).defaults.weightDecay).toBe(1e-2);
    expect(new tg.optim.RMSprop([w]).defaults).toMatchObject({ lr: 1e-2, alpha: 0.99 });
  });

  it("accepts any iterable of parameters", () => {
    function* params() {
      yield leaf([1]);
      yield leaf([2]);
    }
    expect(new tg.optim.SGD(params(), { lr: 1 }).paramGroups[0]!.params.length).toBe(2);
  });
});

describe("tg.optim.Optimizer.step", () => {
  it("updates parameter storage in place without recording the tape", () => {
    const w = leaf([1, 2]);
    const storage = w.data;
    const opt = new tg.optim.Adam([w], { lr: 0.1 });
    w.square().sum().backward();
    tg.trackKernels(true);
    tg.kernelStats(true);
    opt.step();
    const ran = tg.kernelStats(true).map((r) => r.op);
    tg.trackKernels(false);
    expect(ran).toEqual(["optim.adam"]);
    expect(w.data).toBe(storage);
    expect(w.isLeaf && w.requiresGrad).toBe(true);
    expect(Array.from(w.data)).not.toEqual([1, 2]);
  });

  it("updates only the window of a parameter that is a view into larger storage", () => {
    const storage = new Float64Array([10, 1, 2, 10]);
    const w = new tg.Tensor(storage, "float64", [2], [1], 1).requiresGrad_();
    const opt = new tg.optim.SGD([w], { lr: 0.5 });
    w.grad = tg.tensor([2, 4], { dtype: "float64" });
    opt.step();
    expect(Array.from(storage)).toEqual([10, 0, 0, 10]);
  });

  it("reads strided gradients (e.g. the expanded gradient of a sum)", () => {
    const w = leaf([1, 2, 3]);
    w.sum().backward(); // a stride-0 view of one 1
    expect(w.grad!.isContiguous()).toBe(false);
    new tg.optim.SGD([w], { lr: 0.5 }).step();
    expect(w.toArray()).toEqual([0.5, 1.5, 2.5]);
  });

  it("skips parameters without gradients and gives them no state", () => {
    const [a, b] = [leaf([1]), leaf([1])];
    const opt = new tg.optim.Adam([a, b], { lr: 0.1 });
    a.square().sum().backward();
    opt.step();
    expect(b.toArray()).toEqual([1]);
    expect([opt.state.has(a), opt.state.has(b)]).toEqual([true, false]);
  });

  it("rejects a gradient whose shape differs from its parameter's", () => {
    const w = leaf([1, 2]);
    w.grad = tg.ones([3]);
    expect(() => new tg.optim.SGD([w], { lr: 1 }).step()).toThrow(
      /SGD.step: group 0 parameter 0: gradient shape \[3\] differs from parameter shape \[2\]/,
    );
  });

  it("evaluates a closure with gradients enabled, even inside noGrad, and returns its result", () => {
    const w = leaf([3]);
    const opt = new tg.optim.SGD([w], { lr: 0.1 });
    const loss = tg.noGrad(() =>
      opt.step(() => {
        opt.zeroGrad();
        const l = w.square().sum();
        l.backward();
        return l.item();
      }),
    );
    expect(loss).toBe(9);
    expect(w.item()).toBeCloseTo(2.4, 6);
  });

  it("uses the group's current lr, so schedules and manual changes take effect", () => {
    const w = leaf([1]);
    const opt = new tg.optim.SGD([w], { lr: 1 });
    opt.paramGroups[0]!.lr = 0.25;
    w.grad = tg.ones([1]);
    opt.step();
    expect(w.item()).toBe(0.75);
  });
});

describe("tg.optim.Optimizer.zeroGrad", () => {
  it("sets gradients to null by default and to fresh zeros with setToNone = false", () => {
    const a = leaf([1, 2]);
    const b = leaf([3, 4]);
    a.add(b).sum().backward();
    const shared = a.grad!;
    const opt = new tg.optim.SGD([a, b], { lr: 1 });
    opt.zeroGrad(false);
    expect(a.grad!.toArray()).toEqual([0, 0]);
    expect(Array.from(shared.dataSync())).toEqual([1, 1]); // the old gradient is not overwritten
    opt.zeroGrad();
    expect([a.grad, b.grad]).toEqual([null, null]);
  });
});

describe("tg.optim optimizer kernels", () => {
  afterEach(() => tg.setBackend("js"));

  function fakeBackend(optimizer: Partial<OptimizerKernels>, name: string): void {
    const backend = { name, kernels: {}, available: () => true, optimizer };
    tg.registerBackend(backend);
    tg.setBackend(name);
  }

  it("runs the active backend's override when it has one", () => {
    const calls: number[] = [];
    fakeBackend(
      {
        adam: (p, g, m, v, vmax, h) => {
          calls.push(h.step);
          return tg.optim.jsOptimizerKernels.adam(p, g, m, v, vmax, h);
        },
      },
      "optim-override",
    );
    const w = leaf([1, 2]);
    const opt = new tg.optim.Adam([w], { lr: 0.1 });
    for (let i = 0; i < 2; i++) {
      w.grad = tg.ones([2]);
      opt.step();
    }
    expect(calls).toEqual([1, 2]);
    // SGD has no override here: the JS kernel runs.
    const u = leaf([1]);
    u.grad = tg.ones([1]);
    new tg.optim.SGD([u], { lr: 1 }).step();
    expect(u.item()).toBe(0);
  });

  it("falls back to the JS kernel when the override declines", () => {
    let asked = 0;
    fakeBackend(
      {
        rmsprop: () => {
          asked++;
          return false;
        },
      },
      "optim-declines",
    );
    const w = leaf([1, -2]);
    const opt = new tg.optim.RMSprop([w], { lr: 0.01 });
    w.grad = tg.tensor([2, -4]);
    opt.step();
    expect(asked).toBe(1);
    expect(w.toArray()).toEqual([0.9, -1.9].map(Math.fround));
  });
});

describe("tg.optim.clipGradNorm", () => {
  it("clips the shared gradient of x + y once, not once per owner", () => {
    const x = leaf([0, 0]);
    const y = leaf([0, 0]);
    x.add(y)
      .mul(tg.tensor([3, 4]))
      .sum()
      .backward();
    const total = tg.optim.clipGradNorm([x, y], 1);
    expect(total).toBeCloseTo(Math.sqrt(50), 5);
    const k = 1 / (Math.sqrt(50) + 1e-6);
    expect(Array.from(x.grad!.dataSync())).toEqual([3 * k, 4 * k].map(Math.fround));
    expect(Array.from(y.grad!.dataSync())).toEqual([3 * k, 4 * k].map(Math.fround));
  });

  it("computes the 1-, 2-, 3- and ∞-norms over all gradients", () => {
    const g = [
      [3, -4],
      [-1, 2, 2],
    ];
    const all = g.flat().map(Math.abs);
    const want: [number, number][] = [
      [1, all.reduce((a, b) => a + b, 0)],
      [2, Math.sqrt(all.reduce((a, b) => a + b * b, 0))],
      [3, all.reduce((a, b) => a + b ** 3, 0) ** (1 / 3)],
      [Infinity, Math.max(...all)],
    ];
    for (const [order, norm] of want) {
      const ws = g.map((v) => {
        const w = leaf(v.map(() => 0));
        w.grad = tg.tensor(v);
        return w;
      });
      expect(tg.optim.clipGradNorm(ws, 1, order)).toBeCloseTo(norm, 5);
      // Clipped to norm 1: every gradient scaled by 1 / norm.
      ws.forEach((w, i) => {
        Array.from(w.grad!.dataSync()).forEach((x, j) =>
          expect(x).toBeCloseTo(g[i]![j]! / norm, 5),
        );
      });
    }
  });

  it("leaves gradients alone when already within maxNorm", () => {
    const w = leaf([0, 0]);
    w.grad = tg.tensor([0.3, 0.4]);
    const g = w.grad;
    expect(tg.optim.clipGradNorm(w, 1)).toBeCloseTo(0.5, 6);
    expect(w.grad).toBe(g);
  });

  it("returns 0 when no parameter has a gradient", () => {
    expect(tg.optim.clipGradNorm([leaf([1])], 1)).toBe(0);
  });

  it("throws on a non-finite total norm unless told not to", () => {
    const w = leaf([0, 0]);
    w.grad = tg.tensor([Infinity, 1]);
    expect(() => tg.optim.clipGradNorm([w], 1)).toThrow(
      /clipGradNorm: the total norm of order 2 of the gradients is Infinity/,
    );
    expect(tg.optim.clipGradNorm([w], 1, 2, { errorIfNonfinite: false })).toBe(Infinity);
  });

  it("rejects a non-positive norm type", () => {
    expect(() => tg.optim.clipGradNorm([leaf([1])], 1, 0)).toThrow(/normType must be > 0/);
  });
});

describe("tg.optim.clipGradValue", () => {
  it("rejects a negative clip value", () => {
    expect(() => tg.optim.clipGradValue([leaf([1])], -1)).toThrow(
      /clipValue must be a non-negative/,
    );
  });
});

describe("tg.optim option objects", () => {
  it("reject unknown keys, which would otherwise be silently ignored", () => {
    const w = leaf([1]);
    const opts = { lr: 0.1, weight_decay: 0.1 } as unknown as tg.optim.SGDOptions;
    expect(() => new tg.optim.SGD([w], opts)).toThrow(
      /SGD: unknown option "weight_decay" \(known: lr, momentum, dampening, weightDecay, nesterov, maximize\)/,
    );
    const group = {
      params: [w],
      beta: 0.9,
    } as unknown as tg.optim.ParamGroupInit<tg.optim.AdamHyper>;
    expect(() => new tg.optim.Adam([group])).toThrow(/Adam.addParamGroup: unknown option "beta"/);
    const opt = new tg.optim.SGD([w], { lr: 1 });
    const sched = { stepSize: 2, gama: 0.5 } as unknown as tg.optim.StepLROptions;
    expect(() => new tg.optim.StepLR(opt, sched)).toThrow(/StepLR: unknown option "gama"/);
    const plateau = { patiense: 2 } as unknown as tg.optim.ReduceLROnPlateauOptions;
    expect(() => new tg.optim.ReduceLROnPlateau(opt, plateau)).toThrow(/unknown option "patiense"/);
  });
});
