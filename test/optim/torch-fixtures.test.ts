/**
 * Optimizer trajectories, LR schedules and gradient clipping against PyTorch 1.13, from
 * test/optim/torch-optim.json (regenerate with `/usr/bin/python3 test/optim/generate_fixtures.py`).
 */
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { expectClose } from "../helpers/allclose.js";
import {
  type Dtype,
  fixture,
  initialParams,
  momentumOf,
  optimizers,
  schedulers,
  snapshot,
  stepScheduler,
  trainStep,
} from "./problem.js";

// float64 follows PyTorch's operation order, so only round-off (and fused multiply-adds in
// PyTorch's vectorised kernels) separates the two; float32 rounds intermediates differently.
const TOL: Record<Dtype, { atol: number; rtol: number }> = {
  float64: { atol: 1e-13, rtol: 1e-12 },
  float32: { atol: 2e-6, rtol: 2e-6 },
};

describe("tg.optim optimizers vs PyTorch", () => {
  it("cover every configuration in the fixture, and nothing else", () => {
    expect(Object.keys(optimizers).sort()).toEqual(fixture.optimizers.map((o) => o.name).sort());
  });

  for (const dtype of ["float64", "float32"] as const) {
    it.each(fixture.optimizers.map((o) => [o.name, o] as const))(
      `%s follows PyTorch's ${dtype} trajectory step by step`,
      (name, ref) => {
        const ws = initialParams(dtype);
        const opt = optimizers[name]!(ws);
        ref[dtype].forEach((expected, step) => {
          trainStep(opt, ws, dtype);
          snapshot(ws).forEach((w, k) =>
            expectClose(w, expected[k]!, {
              ...TOL[dtype],
              label: `${name} step ${step + 1} w${k}`,
            }),
          );
        });
        // The third parameter never gets a gradient: it must be untouched and stateless.
        expect(opt.state.has(ws[2]!)).toBe(false);
      },
    );
  }
});

describe("tg.optim schedulers vs PyTorch", () => {
  it("cover every schedule in the fixture, and nothing else", () => {
    expect(Object.keys(schedulers).sort()).toEqual(fixture.schedulers.map((s) => s.name).sort());
  });

  it.each(fixture.schedulers.map((s) => [s.name, s] as const))(
    "%s gives PyTorch's lr sequence",
    (name, ref) => {
      const c = schedulers[name]!;
      const { opt, sched } = c.make();
      const lrs = [sched.getLastLr()];
      const moms = c.momentum ? [momentumOf(opt, c.momentum)] : [];
      for (let i = 0; i < ref.lrs.length - 1; i++) {
        opt.step();
        stepScheduler(sched, c.metrics?.[i]);
        expect(sched.getLastLr()).toEqual(opt.paramGroups.map((g) => g.lr));
        lrs.push(sched.getLastLr());
        if (c.momentum) moms.push(momentumOf(opt, c.momentum));
      }
      expectClose(lrs.flat(), ref.lrs.flat(), { atol: 1e-15, rtol: 1e-13, label: name });
      if (ref.momentum) {
        expectClose(moms.flat(), ref.momentum.flat(), { atol: 1e-15, rtol: 1e-13, label: name });
      }
    },
  );
});

describe("tg.optim.clipGradNorm / clipGradValue vs PyTorch", () => {
  function params(dtype: Dtype): tg.Tensor[] {
    return fixture.clipGrads.map((g, k) => {
      const shape = fixture.clipShapes[k]!;
      const p = tg.zeros(shape, { dtype, requiresGrad: true });
      p.grad = tg.tensor(g, { dtype }).reshape(shape);
      return p;
    });
  }

  for (const dtype of ["float64", "float32"] as const) {
    const tol = dtype === "float64" ? { atol: 1e-14, rtol: 1e-13 } : { atol: 1e-6, rtol: 1e-6 };
    it.each(fixture.clip.map((c, i) => [`case ${i} (${c.kind})`, c] as const))(
      `%s matches in ${dtype}`,
      (_id, c) => {
        const ps = params(dtype);
        if (c.kind === "norm") {
          const normType = c.normType === "inf" ? Infinity : c.normType;
          const total = tg.optim.clipGradNorm(ps, c.maxNorm, normType);
          expectClose([total], [c.total], tol);
        } else {
          tg.optim.clipGradValue(ps, c.clipValue);
        }
        ps.forEach((p, k) => expectClose(p.grad!.dataSync(), c.grads[k]!, tol));
      },
    );
  }
});
