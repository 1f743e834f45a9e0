/**
 * The optimisation problem and the optimizer/scheduler configurations of
 * test/optim/generate_fixtures.py, rebuilt with tsgrad (names must match the fixture's).
 */
import { readFileSync } from "node:fs";
import * as tg from "../../src/index.js";
import type { Tensor } from "../../src/index.js";

export interface Fixture {
  version: number;
  steps: number;
  problem: {
    w0: number[][];
    shapes: number[][];
    target: number[][];
    coef: number[][];
    frozen0: number[];
  };
  optimizers: { name: string; float64: number[][][]; float32: number[][][] }[];
  plateauMetrics: number[];
  schedulers: { name: string; lrs: number[][]; momentum?: number[][] }[];
  clipGrads: number[][];
  clipShapes: number[][];
  clip: (
    | { kind: "norm"; maxNorm: number; normType: number | "inf"; total: number; grads: number[][] }
    | { kind: "value"; clipValue: number; grads: number[][] }
  )[];
}

export const fixture = JSON.parse(
  readFileSync(new URL("./torch-optim.json", import.meta.url), "utf8"),
) as Fixture;

export type Dtype = "float32" | "float64";

/** Fresh parameters [w1, w2, frozen] at the fixture's starting point. */
export function initialParams(dtype: Dtype): Tensor[] {
  const { w0, shapes, frozen0 } = fixture.problem;
  return [
    ...w0.map((v, k) => tg.tensor(v, { dtype }).reshape(shapes[k]!).requiresGrad_()),
    tg.tensor(frozen0, { dtype }).requiresGrad_(),
  ];
}

/** loss(w) = Σ_k sum(c_k (w_k − t_k)²) + sum(sin w_k) over the first two parameters. */
export function loss(ws: Tensor[], dtype: Dtype): Tensor {
  const { target, coef, shapes } = fixture.problem;
  let total: Tensor | null = null;
  for (let k = 0; k < 2; k++) {
    const t = tg.tensor(target[k]!, { dtype }).reshape(shapes[k]!);
    const c = tg.tensor(coef[k]!, { dtype }).reshape(shapes[k]!);
    const w = ws[k]!;
    const term = w.sub(t).square().mul(c).sum().add(w.sin().sum());
    total = total === null ? term : total.add(term);
  }
  return total!;
}

/** One training step as the generator does it: zeroGrad, backward, step. */
export function trainStep(opt: tg.optim.Optimizer, ws: Tensor[], dtype: Dtype): void {
  opt.zeroGrad();
  loss(ws, dtype).backward();
  opt.step();
}

export const snapshot = (ws: Tensor[]): number[][] => ws.map((w) => Array.from(w.dataSync()));

const O = tg.optim;

export const optimizers: Record<string, (ws: Tensor[]) => tg.optim.Optimizer> = {
  sgd: (ws) => new O.SGD(ws, { lr: 0.1 }),
  "sgd momentum": (ws) => new O.SGD(ws, { lr: 0.1, momentum: 0.9 }),
  "sgd momentum dampening": (ws) => new O.SGD(ws, { lr: 0.1, momentum: 0.9, dampening: 0.5 }),
  "sgd nesterov": (ws) => new O.SGD(ws, { lr: 0.1, momentum: 0.9, nesterov: true }),
  "sgd weight decay": (ws) => new O.SGD(ws, { lr: 0.1, momentum: 0.5, weightDecay: 0.1 }),
  "sgd maximize": (ws) => new O.SGD(ws, { lr: 0.05, momentum: 0.9, maximize: true }),
  "sgd param groups": ([a, b, c]) =>
    new O.SGD(
      [
        { params: [a!], lr: 0.2 },
        { params: [b!, c!], lr: 0.01, momentum: 0.9, nesterov: true },
      ],
      { lr: 0.1, momentum: 0.5 },
    ),
  adam: (ws) => new O.Adam(ws, { lr: 0.1 }),
  "adam weight decay": (ws) => new O.Adam(ws, { lr: 0.1, weightDecay: 0.1 }),
  "adam amsgrad": (ws) => new O.Adam(ws, { lr: 0.1, betas: [0.8, 0.9], amsgrad: true }),
  "adam maximize": (ws) => new O.Adam(ws, { lr: 0.05, maximize: true, eps: 1e-3 }),
  "adam param groups": ([a, b, c]) =>
    new O.Adam(
      [{ params: [a!, c!] }, { params: [b!], lr: 0.01, betas: [0.5, 0.6], weightDecay: 0.2 }],
      { lr: 0.1 },
    ),
  adamw: (ws) => new O.AdamW(ws, { lr: 0.1 }),
  "adamw amsgrad": (ws) => new O.AdamW(ws, { lr: 0.1, weightDecay: 0.1, amsgrad: true }),
  "adamw maximize": (ws) => new O.AdamW(ws, { lr: 0.05, weightDecay: 0.5, maximize: true }),
  rmsprop: (ws) => new O.RMSprop(ws, { lr: 0.01 }),
  "rmsprop momentum": (ws) => new O.RMSprop(ws, { lr: 0.01, momentum: 0.9 }),
  "rmsprop centered momentum weight decay": (ws) =>
    new O.RMSprop(ws, {
      lr: 0.01,
      alpha: 0.9,
      eps: 1e-6,
      centered: true,
      momentum: 0.5,
      weightDecay: 0.1,
    }),
  "rmsprop maximize": (ws) => new O.RMSprop(ws, { lr: 0.01, centered: true, maximize: true }),
};

/** A scheduler of either kind (ReduceLROnPlateau is not an LRScheduler, as in PyTorch). */
export type AnyScheduler = tg.optim.LRScheduler | tg.optim.ReduceLROnPlateau;

/** Step a scheduler, passing the metric to ReduceLROnPlateau. */
export function stepScheduler(s: AnyScheduler, metric: number | undefined): void {
  if (s instanceof tg.optim.ReduceLROnPlateau) s.step(metric!);
  else s.step();
}

export interface SchedulerCase {
  make: () => { opt: tg.optim.Optimizer; sched: AnyScheduler };
  metrics?: number[];
  momentum?: "momentum" | "betas";
}

function twoGroupSgd(momentum = 0): tg.optim.SGD {
  const a = tg.zeros([1], { requiresGrad: true });
  const b = tg.zeros([1], { requiresGrad: true });
  return new O.SGD([{ params: [a] }, { params: [b], lr: 0.01 }], { lr: 0.1, momentum });
}

function withSgd(f: (o: tg.optim.SGD) => AnyScheduler, momentum = 0): SchedulerCase["make"] {
  return () => {
    const opt = twoGroupSgd(momentum);
    return { opt, sched: f(opt) };
  };
}

export const schedulers: Record<string, SchedulerCase> = {
  StepLR: { make: withSgd((o) => new O.StepLR(o, { stepSize: 3, gamma: 0.5 })) },
  MultiStepLR: {
    make: withSgd((o) => new O.MultiStepLR(o, { milestones: [2, 5, 5, 9], gamma: 0.3 })),
  },
  ExponentialLR: { make: withSgd((o) => new O.ExponentialLR(o, { gamma: 0.9 })) },
  CosineAnnealingLR: {
    make: withSgd((o) => new O.CosineAnnealingLR(o, { tMax: 7, etaMin: 0.001 })),
  },
  LinearLR: { make: withSgd((o) => new O.LinearLR(o, { startFactor: 0.25, totalIters: 4 })) },
  "LinearLR decay": {
    make: withSgd((o) => new O.LinearLR(o, { startFactor: 1, endFactor: 0.1, totalIters: 10 })),
  },
  "SequentialLR warmup cosine": {
    make: withSgd((o) => {
      const warm = new O.LinearLR(o, { startFactor: 0.1, totalIters: 5 });
      const cos = new O.CosineAnnealingLR(o, { tMax: 15, etaMin: 0 });
      return new O.SequentialLR(o, { schedulers: [warm, cos], milestones: [5] });
    }),
  },
  LambdaLR: {
    make: withSgd((o) => new O.LambdaLR(o, [(e) => 0.9 ** e, (e) => 1 / (1 + e)])),
  },
  CosineWithWarmup: {
    make: withSgd(
      (o) => new O.CosineWithWarmup(o, { warmupSteps: 5, totalSteps: 20, minFactor: 0.1 }),
    ),
  },
  OneCycleLR: {
    make: withSgd((o) => new O.OneCycleLR(o, { maxLr: 1, totalSteps: 20 }), 0.9),
    momentum: "momentum",
  },
  "OneCycleLR adam three-phase linear": {
    make: () => {
      const a = tg.zeros([1], { requiresGrad: true });
      const b = tg.zeros([1], { requiresGrad: true });
      const opt = new O.Adam([{ params: [a] }, { params: [b] }], { lr: 0.1 });
      const sched = new O.OneCycleLR(opt, {
        maxLr: [0.5, 0.05],
        totalSteps: 20,
        pctStart: 0.25,
        annealStrategy: "linear",
        threePhase: true,
        divFactor: 10,
        finalDivFactor: 100,
        baseMomentum: 0.8,
        maxMomentum: 0.9,
      });
      return { opt, sched };
    },
    momentum: "betas",
  },
  "ReduceLROnPlateau min rel": {
    make: withSgd(
      (o) =>
        new O.ReduceLROnPlateau(o, {
          mode: "min",
          factor: 0.5,
          patience: 2,
          threshold: 0.01,
          cooldown: 1,
          minLr: [0.02, 0.001],
        }),
    ),
    metrics: fixture.plateauMetrics,
  },
  "ReduceLROnPlateau max abs": {
    make: withSgd(
      (o) =>
        new O.ReduceLROnPlateau(o, {
          mode: "max",
          factor: 0.3,
          patience: 1,
          threshold: 0.05,
          thresholdMode: "abs",
          minLr: 0.004,
        }),
    ),
    metrics: fixture.plateauMetrics.map((m) => -m),
  },
};

/** The cycled momentum of each group (SGD's momentum or Adam's beta1). */
export function momentumOf(opt: tg.optim.Optimizer, key: "momentum" | "betas"): number[] {
  return opt.paramGroups.map((g) => {
    const h = g as unknown as { momentum: number; betas: [number, number] };
    return key === "betas" ? h.betas[0] : h.momentum;
  });
}
