/** LR scheduler behaviour beyond the PyTorch sequences: conventions and invalid input. */
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

const sgd = (lr = 1, momentum = 0) =>
  new tg.optim.SGD([tg.zeros([1], { requiresGrad: true })], { lr, momentum });

describe("tg.optim.LRScheduler", () => {
  it("records initialLr once, so a second scheduler on the optimizer shares the base lr", () => {
    const opt = sgd(1);
    new tg.optim.ExponentialLR(opt, { gamma: 0.5 }).step();
    const second = new tg.optim.StepLR(opt, { stepSize: 10 });
    expect(opt.paramGroups[0]!.initialLr).toBe(1);
    expect(second.baseLrs).toEqual([1]);
    expect(second.getLastLr()).toEqual([0.5]);
  });

  it("requires initialLr in every group when resuming with lastEpoch >= 0", () => {
    expect(() => new tg.optim.StepLR(sgd(), { stepSize: 2, lastEpoch: 3 })).toThrow(
      /StepLR: param group 0 has no initialLr, which resuming \(lastEpoch = 3\) requires/,
    );
  });

  it("jumps with the closed form when given an epoch", () => {
    const opt = sgd(1);
    const s = new tg.optim.MultiStepLR(opt, { milestones: [2, 4], gamma: 0.5 });
    s.step(5);
    expect(s.getLastLr()).toEqual([0.25]);
  });

  it("rejects a schedule that produces a non-finite lr", () => {
    const s = new tg.optim.LambdaLR(sgd(), (e) => (e === 2 ? NaN : 1));
    s.step();
    expect(() => s.step()).toThrow(
      /LambdaLR.step: the schedule gives lr NaN for param group 0 at epoch 2/,
    );
  });

  it("rejects invalid options", () => {
    expect(() => new tg.optim.StepLR(sgd(), { stepSize: 0 })).toThrow(
      /stepSize must be a positive integer/,
    );
    expect(() => new tg.optim.LinearLR(sgd(), { startFactor: 0 })).toThrow(
      /startFactor must be in \(0, 1\]/,
    );
    expect(() => new tg.optim.LambdaLR(sgd(), [(e) => e, (e) => e])).toThrow(
      /expected 1 lr lambdas, got 2/,
    );
    expect(() => new tg.optim.CosineAnnealingLR(sgd(), { tMax: 0 })).toThrow(
      /tMax must be positive/,
    );
    expect(() => new tg.optim.MultiStepLR(sgd(), { milestones: [1.5] })).toThrow(
      /milestones must be a list of integers/,
    );
    expect(() => new tg.optim.CosineWithWarmup(sgd(), { warmupSteps: 5, totalSteps: 3 })).toThrow(
      /totalSteps must be an integer ≥ warmupSteps \(5\)/,
    );
    const other = sgd();
    const child = new tg.optim.StepLR(other, { stepSize: 1 });
    expect(() => new tg.optim.SequentialLR(sgd(), { schedulers: [child], milestones: [] })).toThrow(
      /scheduler 0 belongs to a different optimizer/,
    );
  });
});

describe("tg.optim.OneCycleLR", () => {
  it("throws when stepped past totalSteps", () => {
    const s = new tg.optim.OneCycleLR(sgd(0.1, 0.9), { maxLr: 1, totalSteps: 3 });
    for (let i = 0; i < 3; i++) s.step();
    expect(() => s.step()).toThrow(
      /OneCycleLR.step: tried to step 5 times; the schedule has totalSteps 3/,
    );
  });

  it("accepts epochs × stepsPerEpoch and needs momentum to cycle it", () => {
    const s = new tg.optim.OneCycleLR(sgd(), { maxLr: 1, epochs: 2, stepsPerEpoch: 5 });
    expect(s.totalSteps).toBe(10);
    const rms = new tg.optim.RMSprop([tg.zeros([1], { requiresGrad: true })]);
    expect(new tg.optim.OneCycleLR(rms, { maxLr: 1, totalSteps: 4 }).useBeta1).toBe(false);
    expect(() => new tg.optim.OneCycleLR(sgd(), { maxLr: 1 })).toThrow(
      /give either totalSteps or both/,
    );
  });
});

describe("tg.optim.ReduceLROnPlateau", () => {
  it("accepts a one-element tensor metric and rejects NaN", () => {
    const s = new tg.optim.ReduceLROnPlateau(sgd(), { patience: 0 });
    s.step(tg.tensor([1]));
    expect(s.best).toBe(1);
    expect(() => s.step(NaN)).toThrow(
      /ReduceLROnPlateau.step: the metric must be a number, got NaN at epoch 2/,
    );
  });

  it("rejects invalid options", () => {
    expect(() => new tg.optim.ReduceLROnPlateau(sgd(), { factor: 1 })).toThrow(
      /factor must be in \[0, 1\)/,
    );
    expect(() => new tg.optim.ReduceLROnPlateau(sgd(), { mode: "up" as "min" })).toThrow(
      /mode must be "min" or "max"/,
    );
    expect(() => new tg.optim.ReduceLROnPlateau(sgd(), { minLr: [0, 0] })).toThrow(
      /expected 1 minLr values/,
    );
  });

  it("saves an infinite best as a string and restores it", () => {
    const a = new tg.optim.ReduceLROnPlateau(sgd(), { mode: "max" });
    const sd = JSON.parse(JSON.stringify(a.stateDict())) as tg.optim.StateObject;
    expect(sd.best).toBe("-Infinity");
    const b = new tg.optim.ReduceLROnPlateau(sgd());
    b.loadStateDict(sd);
    expect([b.mode, b.best]).toEqual(["max", -Infinity]);
  });
});
