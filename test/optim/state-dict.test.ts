/**
 * Optimizer and scheduler state dicts: a snapshot taken mid-run and loaded into fresh objects
 * continues the exact same trajectory (also after a JSON round trip of the non-tensor parts), and
 * mismatched dicts are rejected with errors that say what differs.
 */
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import {
  fixture,
  initialParams,
  momentumOf,
  optimizers,
  schedulers,
  snapshot,
  stepScheduler,
  trainStep,
} from "./problem.js";

/** Serialise as a checkpoint writer would: tensors aside (here inline), the rest as JSON. */
function roundTrip<T>(sd: T): T {
  const json = JSON.stringify(sd, (_k, v: unknown) =>
    v instanceof tg.Tensor
      ? { __tensor: v.dtype, shape: v.shape, data: Array.from(v.dataSync()) }
      : v,
  );
  return JSON.parse(json, (_k, v: unknown) => {
    const t = v as { __tensor?: "float32" | "float64"; shape: number[]; data: number[] };
    return t !== null && typeof t === "object" && t.__tensor
      ? tg.tensor(t.data, { dtype: t.__tensor }).reshape(t.shape)
      : v;
  }) as T;
}

/** Every leaf of a state dict is a number (finite), string, boolean or Tensor. */
function leavesAreJsonSafe(v: unknown): boolean {
  if (v instanceof tg.Tensor) return true;
  if (typeof v === "number") return Number.isFinite(v);
  if (typeof v === "string" || typeof v === "boolean") return true;
  if (Array.isArray(v)) return v.every(leavesAreJsonSafe);
  if (v !== null && typeof v === "object") return Object.values(v).every(leavesAreJsonSafe);
  return false;
}

describe("tg.optim.Optimizer.stateDict / loadStateDict", () => {
  it.each(Object.keys(optimizers))(
    "%s resumed from a mid-run state dict continues the same trajectory",
    (name) => {
      const dtype = "float64";
      const ws = initialParams(dtype);
      const opt = optimizers[name]!(ws);
      for (let i = 0; i < 3; i++) trainStep(opt, ws, dtype);
      const saved = opt.stateDict();
      const savedParams = snapshot(ws);
      expect(leavesAreJsonSafe(saved)).toBe(true);
      const rest: number[][][] = [];
      for (let i = 0; i < 3; i++) {
        trainStep(opt, ws, dtype);
        rest.push(snapshot(ws));
      }
      for (const [how, sd] of [
        ["as is", saved],
        ["after a JSON round trip", roundTrip(saved)],
      ] as const) {
        const fresh = initialParams(dtype).map((w, k) =>
          tg.tensor(savedParams[k]!, { dtype }).reshape(w.shape).requiresGrad_(),
        );
        const resumed = optimizers[name]!(fresh);
        resumed.loadStateDict(sd);
        for (let i = 0; i < 3; i++) {
          trainStep(resumed, fresh, dtype);
          expect(snapshot(fresh), `${how}, step ${i + 4}`).toEqual(rest[i]);
        }
      }
      // The trajectory is PyTorch's, too.
      const ref = fixture.optimizers.find((o) => o.name === name)!.float64;
      expect(Math.abs(rest[2]![0]![0]! - ref[5]![0]![0]!)).toBeLessThan(1e-12);
    },
  );

  it("takes a snapshot: later steps do not change a saved state dict", () => {
    const ws = initialParams("float64");
    const opt = new tg.optim.Adam(ws, { lr: 0.1 });
    trainStep(opt, ws, "float64");
    const sd = opt.stateDict();
    const m = (sd.state[0]!.expAvg as tg.Tensor).dataSync().slice();
    trainStep(opt, ws, "float64");
    expect((opt.state.get(ws[0]!)!.expAvg as tg.Tensor).dataSync()).not.toEqual(m);
    expect((sd.state[0]!.expAvg as tg.Tensor).dataSync()).toEqual(m);
  });

  it("lists the hyper-parameters and parameter indices of each group", () => {
    const [a, b, c] = initialParams("float32");
    const opt = new tg.optim.SGD(
      [{ params: [a!] }, { params: [b!, c!], lr: 0.01, momentum: 0.9 }],
      { lr: 0.1 },
    );
    expect(opt.stateDict().paramGroups).toEqual([
      {
        lr: 0.1,
        momentum: 0,
        dampening: 0,
        weightDecay: 0,
        nesterov: false,
        maximize: false,
        params: [0],
      },
      {
        lr: 0.01,
        momentum: 0.9,
        dampening: 0,
        weightDecay: 0,
        nesterov: false,
        maximize: false,
        params: [1, 2],
      },
    ]);
  });

  it("converts loaded state tensors to the parameter dtype", () => {
    const w64 = tg.tensor([1, 2], { dtype: "float64", requiresGrad: true });
    const opt64 = new tg.optim.Adam([w64]);
    w64.sum().backward();
    opt64.step();
    const w32 = tg.tensor([1, 2], { requiresGrad: true });
    const opt32 = new tg.optim.Adam([w32]);
    opt32.loadStateDict(opt64.stateDict());
    expect((opt32.state.get(w32)!.expAvg as tg.Tensor).dtype).toBe("float32");
  });

  describe("rejects mismatched state dicts", () => {
    const adamOn = (...shapes: number[][]) =>
      new tg.optim.Adam(shapes.map((s) => tg.zeros(s, { requiresGrad: true })));
    const stepped = (opt: tg.optim.Optimizer) => {
      for (const g of opt.paramGroups) for (const p of g.params) p.grad = p.onesLike();
      opt.step();
      return opt.stateDict();
    };

    it("with a different number of parameter groups", () => {
      const [a, b] = [tg.zeros([2], { requiresGrad: true }), tg.zeros([2], { requiresGrad: true })];
      const two = new tg.optim.SGD([{ params: [a] }, { params: [b] }], { lr: 0.1 });
      const one = new tg.optim.SGD([a, b], { lr: 0.1 });
      expect(() => one.loadStateDict(two.stateDict())).toThrow(
        /SGD.loadStateDict: the state dict has 2 parameter groups, this optimizer has 1/,
      );
    });

    it("with a group of a different size", () => {
      expect(() => adamOn([2]).loadStateDict(stepped(adamOn([2], [3])))).toThrow(
        /parameter group 0 has 2 parameters in the state dict, 1 in this optimizer/,
      );
    });

    it("with state tensors of another shape, naming the parameter", () => {
      expect(() => adamOn([2], [4]).loadStateDict(stepped(adamOn([2], [3])))).toThrow(
        /state\[1\]\.expAvg has shape \[3\] but parameter 1 has shape \[4\]/,
      );
    });

    it("with state for a parameter index no group lists", () => {
      const sd = stepped(adamOn([2]));
      sd.state[7] = sd.state[0]!;
      expect(() => adamOn([2]).loadStateDict(sd)).toThrow(/parameter index 7/);
    });

    it("with a missing or mistyped hyper-parameter", () => {
      const sd = stepped(adamOn([2]));
      delete sd.paramGroups[0]!.betas;
      expect(() => adamOn([2]).loadStateDict(sd)).toThrow(
        /paramGroups\[0\]\.betas should be a list of 2 numbers, got undefined/,
      );
      sd.paramGroups[0]!.betas = [0.9, 0.999];
      sd.paramGroups[0]!.lr = "fast";
      expect(() => adamOn([2]).loadStateDict(sd)).toThrow(
        /paramGroups\[0\]\.lr should be a number/,
      );
    });

    it("and leaves the optimizer untouched when it rejects one", () => {
      const target = adamOn([2], [4]);
      const before = stepped(target);
      expect(() => target.loadStateDict(stepped(adamOn([2], [3])))).toThrow();
      expect(target.stateDict()).toEqual(before);
    });

    it("and says so when the loaded state lacks a buffer the step needs", () => {
      const sd = stepped(adamOn([2]));
      const opt = new tg.optim.Adam([tg.zeros([2], { requiresGrad: true })], { amsgrad: true });
      sd.paramGroups[0]!.amsgrad = true;
      opt.loadStateDict(sd);
      opt.paramGroups[0]!.params[0]!.grad = tg.ones([2]);
      expect(() => opt.step()).toThrow(/Adam.step: state of parameter 0 has no "maxExpAvgSq"/);
    });
  });
});

describe("tg.optim LR schedulers' stateDict / loadStateDict", () => {
  it.each(Object.keys(schedulers))(
    "%s resumed mid-schedule (with its optimizer) continues the same lrs",
    (name) => {
      const c = schedulers[name]!;
      const run = (
        opt: tg.optim.Optimizer,
        sched: ReturnType<typeof c.make>["sched"],
        from: number,
      ) => {
        const out: number[][] = [];
        for (let i = from; i < 20; i++) {
          opt.step();
          stepScheduler(sched, c.metrics?.[i]);
          out.push([...sched.getLastLr(), ...(c.momentum ? momentumOf(opt, c.momentum) : [])]);
        }
        return out;
      };
      const a = c.make();
      const first = run(a.opt, a.sched, 0).slice(8);
      const c1 = c.make();
      for (let i = 0; i < 8; i++) {
        c1.opt.step();
        stepScheduler(c1.sched, c.metrics?.[i]);
      }
      const optSd = roundTrip(c1.opt.stateDict());
      const schedSd = roundTrip(c1.sched.stateDict());
      expect(leavesAreJsonSafe(schedSd)).toBe(true);
      const fresh = c.make();
      fresh.opt.loadStateDict(optSd);
      fresh.sched.loadStateDict(schedSd);
      expect(run(fresh.opt, fresh.sched, 8)).toEqual(first);
    },
  );

  it("rejects a dict for a different number of param groups", () => {
    const two = schedulers.StepLR!.make().sched.stateDict();
    const w = tg.zeros([1], { requiresGrad: true });
    const one = new tg.optim.StepLR(new tg.optim.SGD([w], { lr: 1 }), { stepSize: 2 });
    expect(() => one.loadStateDict(two)).toThrow(
      /StepLR.loadStateDict: baseLrs has 2 entries but the optimizer has 1 param groups/,
    );
  });

  it("rejects a dict missing a key, naming it", () => {
    const { sched } = schedulers.CosineAnnealingLR!.make();
    const sd = sched.stateDict();
    delete sd.tMax;
    expect(() => schedulers.CosineAnnealingLR!.make().sched.loadStateDict(sd)).toThrow(
      /the state dict has no "tMax"/,
    );
  });

  it("rejects a SequentialLR dict with another number of schedulers", () => {
    const sd = schedulers["SequentialLR warmup cosine"]!.make().sched.stateDict();
    sd.schedulers = [(sd.schedulers as tg.optim.StateObject[])[0]!];
    expect(() => schedulers["SequentialLR warmup cosine"]!.make().sched.loadStateDict(sd)).toThrow(
      /the state dict has 1 schedulers, this SequentialLR has 2/,
    );
  });

  it("rejects a ReduceLROnPlateau dict with the wrong number of minLrs", () => {
    const sd = schedulers["ReduceLROnPlateau min rel"]!.make().sched.stateDict();
    sd.minLrs = [0];
    expect(() => schedulers["ReduceLROnPlateau min rel"]!.make().sched.loadStateDict(sd)).toThrow(
      /"minLrs" should be a list of 2 numbers/,
    );
  });
});
