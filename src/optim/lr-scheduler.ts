/**
 * Learning-rate schedulers, following `torch.optim.lr_scheduler` of PyTorch 1.13 exactly,
 * including its conventions:
 *
 * - Constructing a scheduler already takes the first step (epoch 0) and sets each group's `lr`;
 *   call `scheduler.step()` after `optimizer.step()`, once per epoch (or per batch for
 *   OneCycleLR and CosineWithWarmup).
 * - The first construction stores each group's starting lr as `initialLr` in the group (only if it
 *   is not already there, so several schedulers on one optimizer agree on it); schedules are
 *   relative to it. Resuming with `lastEpoch ≥ 0` requires it.
 * - Most schedules are "chainable": each step scales the group's current lr, so changes made by
 *   other code or schedulers compose. `step(epoch)` jumps using the closed form where one exists.
 */
import { TsgradError } from "../tensor/errors.js";
import type { Optimizer, StateObject, StateValue } from "./optimizer.js";
import { checkOptionKeys } from "./options.js";

/** Python's `%`, whose result takes the sign of the divisor (PyTorch's formulas rely on it). */
function pyMod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

function isStateValueLike(a: unknown, b: unknown): boolean {
  if (Array.isArray(b)) return Array.isArray(a);
  return typeof a === typeof b;
}

function copyValue(v: unknown): StateValue {
  return Array.isArray(v) ? v.map((x) => copyValue(x)) : (v as StateValue);
}

/**
 * Base class of the epoch-indexed schedulers (PyTorch's `_LRScheduler`). A subclass implements
 * `getLr()` (the chainable form), optionally `closedFormLr()`, lists its hyper-parameters in
 * `savedKeys()`, and ends its constructor with `this.initialStep()`.
 *
 * @example
 * const w = tg.zeros([1], { requiresGrad: true });
 * const opt = new tg.optim.SGD([w], { lr: 1 });
 * const sched = new tg.optim.StepLR(opt, { stepSize: 1, gamma: 0.5 });
 * console.log(sched instanceof tg.optim.LRScheduler, sched.lastEpoch); // true 0
 */
export abstract class LRScheduler {
  /** The lr each group's schedule is relative to (the groups' `initialLr`). */
  baseLrs: number[];
  /** Index of the last step taken (0 right after construction). */
  lastEpoch: number;
  /** How many times `step()` has run, including the one in the constructor. */
  protected stepCount = 0;
  protected lastLr: number[] = [];

  constructor(
    readonly optimizer: Optimizer,
    lastEpoch: number,
    protected readonly name: string,
  ) {
    if (!Number.isInteger(lastEpoch) || lastEpoch < -1) {
      throw new TsgradError(name, `lastEpoch must be an integer ≥ -1, got ${lastEpoch}`);
    }
    optimizer.paramGroups.forEach((g, i) => {
      if (lastEpoch === -1) g.initialLr ??= g.lr;
      else if (g.initialLr === undefined) {
        throw new TsgradError(
          name,
          `param group ${i} has no initialLr, which resuming (lastEpoch = ${lastEpoch}) requires`,
        );
      }
    });
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
    this.lastEpoch = lastEpoch;
  }

  /** The lrs for `lastEpoch`, computed from the groups' current lrs (chainable form). */
  protected abstract getLr(): number[];

  /** The lrs for `lastEpoch` computed from `baseLrs` alone, where the schedule has one. */
  protected closedFormLr?(): number[];

  /** Hyper-parameters saved in the state dict besides the common counters. */
  protected savedKeys(): string[] {
    return [];
  }

  /** Called after loading a state dict, to rebuild derived fields. */
  protected afterLoad(): void {}

  /** Reset the step counter and take the step for epoch `lastEpoch + 1` (PyTorch's `_initial_step`). */
  initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /**
   * Advance the schedule by one epoch and set each group's lr. Passing `epoch` jumps to that epoch
   * (closed form where available; PyTorch deprecates this use, SequentialLR relies on it).
   *
   * @example
   * const w = tg.zeros([1], { requiresGrad: true });
   * const opt = new tg.optim.SGD([w], { lr: 1 });
   * const sched = new tg.optim.StepLR(opt, { stepSize: 2, gamma: 0.1 });
   * const lrs = [];
   * for (let epoch = 0; epoch < 5; epoch++) {
   *   lrs.push(sched.getLastLr()[0]);
   *   opt.step(); // (after backward) — parameters without gradients are skipped
   *   sched.step();
   * }
   * console.log(lrs); // [1, 1, 0.1, 0.1, 0.01]
   */
  step(epoch?: number): void {
    this.stepCount++;
    let values: number[];
    if (epoch === undefined) {
      this.lastEpoch++;
      values = this.getLr();
    } else {
      this.lastEpoch = epoch;
      values = this.closedFormLr?.() ?? this.getLr();
    }
    values.forEach((lr, i) => {
      if (!Number.isFinite(lr)) {
        throw new TsgradError(
          `${this.name}.step`,
          `the schedule gives lr ${lr} for param group ${i} at epoch ${this.lastEpoch}`,
        );
      }
    });
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = values[i]!));
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The lrs set by the last step, one per parameter group. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /**
   * The scheduler's state (counters and hyper-parameters; never the optimizer, and never user
   * functions such as LambdaLR's). Restore the optimizer's state dict alongside it.
   *
   * @example
   * const w = tg.zeros([1], { requiresGrad: true });
   * const opt = new tg.optim.SGD([w], { lr: 1 });
   * const sched = new tg.optim.StepLR(opt, { stepSize: 2 });
   * sched.step();
   * console.log(sched.stateDict()); // {lastEpoch: 1, stepCount: 2, baseLrs: [1], lastLr: [1], stepSize: 2, gamma: 0.1}
   */
  stateDict(): StateObject {
    const self = this as unknown as Record<string, unknown>;
    const out: StateObject = {};
    for (const k of ["lastEpoch", "stepCount", "baseLrs", "lastLr", ...this.savedKeys()]) {
      out[k] = copyValue(self[k]);
    }
    return out;
  }

  /**
   * Restore a state from `stateDict()`. A dict for a different number of parameter groups, or
   * missing a key, is rejected with a TsgradError naming it.
   *
   * @example
   * const w = tg.zeros([1], { requiresGrad: true });
   * const opt = new tg.optim.SGD([w], { lr: 1 });
   * const a = new tg.optim.StepLR(opt, { stepSize: 2 });
   * a.step();
   * a.step();
   * const b = new tg.optim.StepLR(opt, { stepSize: 2 });
   * b.loadStateDict(a.stateDict());
   * console.log(b.lastEpoch, b.getLastLr()); // 2 [0.1]
   */
  loadStateDict(sd: StateObject): void {
    const where = `${this.name}.loadStateDict`;
    const self = this as unknown as Record<string, unknown>;
    const keys = ["lastEpoch", "stepCount", "baseLrs", "lastLr", ...this.savedKeys()];
    checkKeys(where, sd, keys, self);
    const groups = this.optimizer.paramGroups.length;
    for (const k of ["baseLrs", "lastLr"]) {
      const v = sd[k] as unknown[];
      if (v.length !== groups) {
        throw new TsgradError(
          where,
          `${k} has ${v.length} entries but the optimizer has ${groups} param groups`,
        );
      }
    }
    for (const k of keys) self[k] = copyValue(sd[k]);
    this.afterLoad();
  }
}

function checkKeys(
  where: string,
  sd: StateObject,
  keys: readonly string[],
  current: Record<string, unknown>,
): void {
  if (sd === null || typeof sd !== "object") throw new TsgradError(where, "expected an object");
  for (const k of keys) {
    if (!(k in sd)) throw new TsgradError(where, `the state dict has no "${k}"`);
    if (!isStateValueLike(sd[k], current[k])) {
      throw new TsgradError(
        where,
        `"${k}" should be ${Array.isArray(current[k]) ? "a list" : `a ${typeof current[k]}`}, got ${JSON.stringify(sd[k])}`,
      );
    }
  }
}

function positiveInt(op: string, what: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) {
    throw new TsgradError(op, `${what} must be a positive integer, got ${v}`);
  }
  return v;
}

/** Options of `LambdaLR`. */
export interface LambdaLROptions {
  lastEpoch?: number;
}

/**
 * lr = initialLr · lrLambda(epoch), with one function for all groups or one per group (like
 * `torch.optim.lr_scheduler.LambdaLR`). The functions are not part of the state dict.
 *
 * @example
 * const w = tg.zeros([1], { requiresGrad: true });
 * const opt = new tg.optim.SGD([w], { lr: 0.1 });
 * const sched = new tg.optim.LambdaLR(opt, (epoch) => 1 / (1 + epoch));
 * sched.step();
 * console.log(sched.getLastLr()); // [0.05]
 */
export class LambdaLR extends LRScheduler {
  private readonly lrLambdas: ((epoch: number) => number)[];

  constructor(
    optimizer: Optimizer,
    lrLambda: ((epoch: number) => number) | ((epoch: number) => number)[],
    opts: LambdaLROptions = {},
  ) {
    super(optimizer, opts.lastEpoch ?? -1, "LambdaLR");
    checkOptionKeys("LambdaLR", opts, ["lastEpoch"]);
    const n = optimizer.paramGroups.length;
    if (Array.isArray(lrLambda)) {
      if (lrLambda.length !== n) {
        throw new TsgradError("LambdaLR", `expected ${n} lr lambdas, got ${lrLambda.length}`);
      }
      this.lrLambdas = [...lrLambda];
    } else {
      if (typeof lrLambda !== "function") {
        throw new TsgradError("LambdaLR", "lrLambda must be a function or a list of functions");
      }
      this.lrLambdas = Array.from({ length: n }, () => lrLambda);
    }
    this.initialStep();
  }

  protected getLr(): number[] {
    return this.baseLrs.map((base, i) => base * this.lrLambdas[i]!(this.lastEpoch));
  }
}

/** Options of `StepLR`. */
export interface StepLROptions {
  /** Decay every this many epochs. */
  stepSize: number;
  /** Multiplicative decay factor (default 0.1). */
  gamma?: number;
  lastEpoch?: number;
}

/**
 * Multiply the lr by `gamma` every `stepSize` epochs (like `torch.optim.lr_scheduler.StepLR`).
 *
 * @example
 * const w = tg.zeros([1], { requiresGrad: true });
 * const opt = new tg.optim.SGD([w], { lr: 1 });
 * const sched = new tg.optim.StepLR(opt, { stepSize: 2, gamma: 0.5 });
 * for (let i = 0; i < 4; i++) sched.step();
 * console.log(sched.getLastLr()); // [0.25]
 */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;

  constructor(optimizer: Optimizer, opts: StepLROptions) {
    super(optimizer, opts.lastEpoch ?? -1, "StepLR");
    checkOptionKeys("StepLR", opts, ["stepSize", "gamma", "lastEpoch"]);
    this.stepSize = positiveInt("StepLR", "stepSize", opts.stepSize);
    this.gamma = opts.gamma ?? 0.1;
    this.initialStep();
  }

  protected override savedKeys(): string[] {
    return ["stepSize", "gamma"];
  }

  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) {
      return groups.map((g) => g.lr);
    }
    return groups.map((g) => g.lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }
}

/** Options of `MultiStepLR`. */
export interface MultiStepLROptions {
  /** Epochs at which to decay; a milestone listed k times decays by gamma^k. */
  milestones: readonly number[];
  /** Multiplicative decay factor (default 0.1). */
  gamma?: number;
  lastEpoch?: number;
}

/**
 * Multiply the lr by `gamma` at each milestone epoch (like `torch.optim.lr_scheduler.MultiStepLR`).
 *
 * @example
 * const w = tg.zeros([1], { requiresGrad: true });
 * const opt = new tg.optim.SGD([w], { lr: 1 });
 * const sched = new tg.optim.MultiStepLR(opt, { milestones: [1, 3], gamma: 0.1 });
 * const lrs = [sched.getLastLr()[0]];
 * for (let i = 0; i < 3; i++) { sched.step(); lrs.push(sched.getLastLr()[0]); }
 * console.log(lrs); // [1, 0.1, 0.1, 0.01]
 */
export class MultiStepLR extends LRScheduler {
  milestones: number[];
  gamma: number;

  constructor(optimizer: Optimizer, opts: MultiStepLROptions) {
    super(optimizer, opts.lastEpoch ?? -1, "MultiStepLR");
    checkOptionKeys("MultiStepLR", opts, ["milestones", "gamma", "lastEpoch"]);
    const milestones: readonly unknown[] = Array.isArray(opts.milestones)
      ? opts.milestones
      : [null];
    if (milestones.some((m) => !Number.isInteger(m))) {
      throw new TsgradError(
        "MultiStepLR",
        `milestones must be a list of integers, got ${JSON.stringify(opts.milestones)}`,
      );
    }
    this.milestones = (milestones as number[]).slice().sort((a, b) => a - b);
    this.gamma = opts.gamma ?? 0.1;
    this.initialStep();
  }

  protected override savedKeys(): string[] {
    return ["milestones", "gamma"];
  }

  protected getLr(): number[] {
    const times = this.milestones.filter((m) => m === this.lastEpoch).length;
    const groups = this.optimizer.paramGroups;
    if (times === 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma ** times);
  }

  protected override closedFormLr(): number[] {
    const passed = this.milestones.filter((m) => m <= this.lastEpoch).length;
    return this.baseLrs.map((b) => b * this.gamma ** passed);
  }
}

/** Options of `ExponentialLR`. */
export interface ExponentialLROptions {
  /** Multiplicative decay factor per epoch. */
  gamma: number;
  lastEpoch?: number;
}

/**
 * Multiply the lr by `gamma` every epoch (like `torch.optim.lr_scheduler.ExponentialLR`).
 *
 * @example
 * const w = tg.zeros([1], { requiresGrad: true });
 * const opt = new tg.optim.SGD([w], { lr: 1 });
 * const sched = new tg.optim.ExponentialLR(opt, { gamma: 0.5 });
 * sched.step();
 * sched.step();
 * console.log(sched.getLastLr()); // [0.25]
 */
export class ExponentialLR extends LRScheduler {
  gamma: number;

  constructor(optimizer: Optimizer, opts: ExponentialLROptions) {
    super(optimizer, opts.lastEpoch ?? -1, "ExponentialLR");
    checkOptionKeys("ExponentialLR", opts, ["gamma", "lastEpoch"]);
    this.gamma = opts.gamma;
    this.initialStep();
  }

  protected override savedKeys(): string[] {
    return ["gamma"];
  }

  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** this.lastEpoch);
  }
}

/** Options of `LinearLR`. */
export interface LinearLROptions {
  /** Factor applied to the lr at epoch 0, in (0, 1] (default 1/3). */
  startFactor?: number;
  /** Factor reached at `totalIters`, in [0, 1] (default 1). */
  endFactor?: number;
  /** Epochs over which the factor changes linearly (default 5). */
  totalIters?: number;
  lastEpoch?: number;
}

/**
 * Scale the lr by a factor moving linearly from `startFactor` to `endFactor` over `totalIters`
 * epochs, then constant (like `torch.optim.lr_scheduler.LinearLR`; the usual linear warmup).
 *
 * @example
 * const w = tg.zeros([1], { requiresGrad: true });
 * const opt = new tg.optim.SGD([w], { lr: 1 });
 * const sched = new tg.optim.LinearLR(opt, { startFactor: 0.25, totalIters: 3 });
 * const lrs = [sched.getLastLr()[0]];
 * for (let i = 0; i < 4; i++) { sched.step(); lrs.push(sched.getLastLr()[0]); }
 * console.log(lrs); // [0.25, 0.5, 0.75, 1, 1]
 */
export class LinearLR extends LRScheduler {
  startFactor: number;
  endFactor: number;
  totalIters: number;

  constructor(optimizer: Optimizer, opts: LinearLROptions = {}) {
    super(optimizer, opts.lastEpoch ?? -1, "LinearLR");
    checkOptionKeys("LinearLR", opts, ["startFactor", "endFactor", "totalIters", "lastEpoch"]);
    this.startFactor = opts.startFactor ?? 1 / 3;
    this.endFactor = opts.endFactor ?? 1;
    this.totalIters = positiveInt("LinearLR", "totalIters", opts.totalIters ?? 5);
    // A zero start factor would make the chainable form divide by zero.
    if (!(this.startFactor > 0 && this.startFactor <= 1)) {
      throw new TsgradError("LinearLR", `startFactor must be in (0, 1], got ${this.startFactor}`);
    }
    if (!(this.endFactor >= 0 && this.endFactor <= 1)) {
      throw new TsgradError("LinearLR", `endFactor must be in [0, 1], got ${this.endFactor}`);
    }
    this.initialStep();
  }

  protected override savedKeys(): string[] {
    return ["startFactor", "endFactor", "totalIters"];
  }

  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    const { startFactor: s, endFactor: e, totalIters: n } = this;
    if (this.lastEpoch === 0) return groups.map((g) => g.lr * s);
    if (this.lastEpoch > n) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * (1 + (e - s) / (n * s + (this.lastEpoch - 1) * (e - s))));
  }

  protected override closedFormLr(): number[] {
    const { startFactor: s, endFactor: e, totalIters: n } = this;
    return this.baseLrs.map((b) => b * (s + ((e - s) * Math.min(n, this.lastEpoch)) / n));
  }
}

/** Options of `CosineAnnealingLR`. */
export interface CosineAnnealingLROptions {
  /** Half-period of the cosine, in epochs. */
  tMax: number;
  /** Minimum lr (default 0). */
  etaMin?: number;
  lastEpoch?: number;
}

/**
 * Cosine annealing from the initial lr down to `etaMin` over `tMax` epochs (and back up over the
 * next `tMax`, as PyTorch's chainable form does; like
 * `torch.optim.lr_scheduler.CosineAnnealingLR`).
 *
 * @example
 * const w = tg.zeros([1], { requiresGrad: true });
 * const opt = new tg.optim.SGD([w], { lr: 1 });
 * const sched = new tg.optim.CosineAnnealingLR(opt, { tMax: 2 });
 * sched.step();
 * console.log(sched.getLastLr()); // [0.5]
 */
export class CosineAnnealingLR extends LRScheduler {
  tMax: number;
  etaMin: number;

  constructor(optimizer: Optimizer, opts: CosineAnnealingLROptions) {
    super(optimizer, opts.lastEpoch ?? -1, "CosineAnnealingLR");
    checkOptionKeys("CosineAnnealingLR", opts, ["tMax", "etaMin", "lastEpoch"]);
    if (!(opts.tMax > 0)) {
      throw new TsgradError("CosineAnnealingLR", `tMax must be positive, got ${opts.tMax}`);
    }
    this.tMax = opts.tMax;
    this.etaMin = opts.etaMin ?? 0;
    this.initialStep();
  }

  protected override savedKeys(): string[] {
    return ["tMax", "etaMin"];
  }

  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    const { tMax: T, etaMin: eta, lastEpoch: t } = this;
    if (t === 0) return groups.map((g) => g.lr);
    if (this.stepCount === 1 && t > 0) {
      return this.baseLrs.map((b) => eta + ((b - eta) * (1 + Math.cos((t * Math.PI) / T))) / 2);
    }
    if (pyMod(t - 1 - T, 2 * T) === 0) {
      return groups.map(
        (g, i) => g.lr + ((this.baseLrs[i]! - eta) * (1 - Math.cos(Math.PI / T))) / 2,
      );
    }
    return groups.map(
      (g) =>
        ((1 + Math.cos((Math.PI * t) / T)) / (1 + Math.cos((Math.PI * (t - 1)) / T))) *
          (g.lr - eta) +
        eta,
    );
  }

  protected override closedFormLr(): number[] {
    const { tMax: T, etaMin: eta, lastEpoch: t } = this;
    return this.baseLrs.map((b) => eta + ((b - eta) * (1 + Math.cos((Math.PI * t) / T))) / 2);
  }
}

/** Options of `CosineWithWarmup`. */
export interface CosineWithWarmupOptions {
  /** Steps of linear warmup from 0 to the initial lr. */
  warmupSteps: number;
  /** Total steps; the cosine decays from `warmupSteps` to here and stays at its floor after. */
  totalSteps: number;
  /** The floor, as a fraction of the initial lr (default 0). */
  minFactor?: number;
  lastEpoch?: number;
}

/**
 * Linear warmup then cosine decay, stepped once per batch: lr = initialLr · f(step) with
 * f = step / warmupSteps during warmup, then minFactor + (1 − minFactor)·½(1 + cos(π·progress)).
 * With minFactor 0 this is transformers' `get_cosine_schedule_with_warmup`; the same schedule is
 * `SequentialLR` of `LinearLR` and `CosineAnnealingLR`, in one object.
 *
 * @example
 * const w = tg.zeros([1], { requiresGrad: true });
 * const opt = new tg.optim.AdamW([w], { lr: 1 });
 * const sched = new tg.optim.CosineWithWarmup(opt, { warmupSteps: 2, totalSteps: 4 });
 * const lrs = [sched.getLastLr()[0]];
 * for (let i = 0; i < 5; i++) { sched.step(); lrs.push(sched.getLastLr()[0]); }
 * console.log(lrs); // [0, 0.5, 1, 0.5, 0, 0]
 */
export class CosineWithWarmup extends LRScheduler {
  warmupSteps: number;
  totalSteps: number;
  minFactor: number;

  constructor(optimizer: Optimizer, opts: CosineWithWarmupOptions) {
    super(optimizer, opts.lastEpoch ?? -1, "CosineWithWarmup");
    checkOptionKeys("CosineWithWarmup", opts, [
      "warmupSteps",
      "totalSteps",
      "minFactor",
      "lastEpoch",
    ]);
    const { warmupSteps, totalSteps } = opts;
    if (!Number.isInteger(warmupSteps) || warmupSteps < 0) {
      throw new TsgradError(
        "CosineWithWarmup",
        `warmupSteps must be an integer ≥ 0, got ${warmupSteps}`,
      );
    }
    if (!Number.isInteger(totalSteps) || totalSteps < warmupSteps) {
      throw new TsgradError(
        "CosineWithWarmup",
        `totalSteps must be an integer ≥ warmupSteps (${warmupSteps}), got ${totalSteps}`,
      );
    }
    this.warmupSteps = warmupSteps;
    this.totalSteps = totalSteps;
    this.minFactor = opts.minFactor ?? 0;
    this.initialStep();
  }

  protected override savedKeys(): string[] {
    return ["warmupSteps", "totalSteps", "minFactor"];
  }

  private factor(step: number): number {
    const { warmupSteps: w, totalSteps: n, minFactor: m } = this;
    if (step < w) return step / w;
    const progress = Math.min(1, (step - w) / Math.max(1, n - w));
    return m + (1 - m) * 0.5 * (1 + Math.cos(Math.PI * progress));
  }

  protected getLr(): number[] {
    return this.baseLrs.map((b) => b * this.factor(this.lastEpoch));
  }
}

/** Options of `SequentialLR`. */
export interface SequentialLROptions {
  /** The schedulers to run one after another (all on this optimizer). */
  schedulers: LRScheduler[];
  /** The epochs at which to switch to the next scheduler (one fewer than schedulers). */
  milestones: readonly number[];
  lastEpoch?: number;
}

/**
 * Run schedulers one after another, switching at the milestone epochs (like
 * `torch.optim.lr_scheduler.SequentialLR`). On reaching a milestone the next scheduler restarts
 * from its epoch 0. Construct the child schedulers first, on the same optimizer.
 *
 * @example
 * const w = tg.zeros([1], { requiresGrad: true });
 * const opt = new tg.optim.SGD([w], { lr: 1 });
 * const warmup = new tg.optim.LinearLR(opt, { startFactor: 0.5, totalIters: 2 });
 * const decay = new tg.optim.CosineAnnealingLR(opt, { tMax: 2 });
 * const sched = new tg.optim.SequentialLR(opt, { schedulers: [warmup, decay], milestones: [2] });
 * const lrs = [sched.getLastLr()[0]];
 * for (let i = 0; i < 4; i++) { sched.step(); lrs.push(sched.getLastLr()[0]); }
 * console.log(lrs); // [0.5, 0.75, 1, 0.5, 0]
 */
export class SequentialLR extends LRScheduler {
  private readonly schedulers: LRScheduler[];
  milestones: number[];

  constructor(optimizer: Optimizer, opts: SequentialLROptions) {
    super(optimizer, opts.lastEpoch ?? -1, "SequentialLR");
    checkOptionKeys("SequentialLR", opts, ["schedulers", "milestones", "lastEpoch"]);
    const { schedulers, milestones } = opts;
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) {
        throw new TsgradError(
          "SequentialLR",
          `scheduler ${i} belongs to a different optimizer than the one passed in`,
        );
      }
    });
    if (schedulers.length === 0 || milestones.length !== schedulers.length - 1) {
      throw new TsgradError(
        "SequentialLR",
        `expected one milestone fewer than schedulers, got ${schedulers.length} schedulers and ${milestones.length} milestones`,
      );
    }
    this.schedulers = [...schedulers];
    this.milestones = [...milestones];
    this.lastEpoch = (opts.lastEpoch ?? -1) + 1;
    // As PyTorch: undo the children's constructor steps and restart the first one.
    for (const g of optimizer.paramGroups) g.lr = g.initialLr!;
    for (const s of this.schedulers) s.lastEpoch -= 1;
    this.schedulers[0]!.initialStep();
    this.lastLr = this.schedulers[0]!.getLastLr();
  }

  protected getLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  override step(): void {
    this.lastEpoch++;
    const idx = this.milestones.filter((m) => m <= this.lastEpoch).length;
    const scheduler = this.schedulers[idx]!;
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) scheduler.step(0);
    else scheduler.step();
    this.lastLr = scheduler.getLastLr();
  }

  override stateDict(): StateObject {
    return {
      lastEpoch: this.lastEpoch,
      milestones: [...this.milestones],
      lastLr: [...this.lastLr],
      schedulers: this.schedulers.map((s) => s.stateDict()),
    };
  }

  override loadStateDict(sd: StateObject): void {
    const where = "SequentialLR.loadStateDict";
    checkKeys(where, sd, ["lastEpoch", "milestones", "lastLr", "schedulers"], {
      lastEpoch: 0,
      milestones: [],
      lastLr: [],
      schedulers: [],
    });
    const children = sd.schedulers as StateObject[];
    if (children.length !== this.schedulers.length) {
      throw new TsgradError(
        where,
        `the state dict has ${children.length} schedulers, this SequentialLR has ${this.schedulers.length}`,
      );
    }
    this.schedulers.forEach((s, i) => s.loadStateDict(children[i]!));
    this.lastEpoch = sd.lastEpoch as number;
    this.milestones = [...(sd.milestones as number[])];
    this.lastLr = [...(sd.lastLr as number[])];
  }
}
