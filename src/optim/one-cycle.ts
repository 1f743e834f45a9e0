/** The 1cycle learning-rate policy (torch.optim.lr_scheduler.OneCycleLR). */
import { TsgradError } from "../tensor/errors.js";
import { LRScheduler } from "./lr-scheduler.js";
import type { Optimizer } from "./optimizer.js";
import { checkOptionKeys } from "./options.js";

function positiveInt(op: string, what: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) {
    throw new TsgradError(op, `${what} must be a positive integer, got ${v}`);
  }
  return v;
}

/** Options of `OneCycleLR` (PyTorch's defaults). */
export interface OneCycleLROptions {
  /** Peak lr, for all groups or one per group. */
  maxLr: number | readonly number[];
  /** Total number of steps; or give `epochs` and `stepsPerEpoch`. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing the lr (default 0.3). */
  pctStart?: number;
  /** "cos" (default) or "linear". */
  annealStrategy?: "cos" | "linear";
  /** Cycle momentum (SGD/RMSprop `momentum`, Adam's beta1) inversely to the lr (default true). */
  cycleMomentum?: boolean;
  /** Lowest momentum, reached at the peak lr (default 0.85). */
  baseMomentum?: number | readonly number[];
  /** Highest momentum (default 0.95). */
  maxMomentum?: number | readonly number[];
  /** initialLr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** minLr = initialLr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Add a third phase annealing from initialLr down to minLr (default false). */
  threePhase?: boolean;
  lastEpoch?: number;
}

const OPTION_KEYS = (
  "maxLr totalSteps epochs stepsPerEpoch pctStart annealStrategy cycleMomentum baseMomentum " +
  "maxMomentum divFactor finalDivFactor threePhase lastEpoch"
).split(" ");

type LrKey = "initialLr" | "maxLr" | "minLr";
type MomentumKey = "maxMomentum" | "baseMomentum";

interface Phase {
  endStep: number;
  startLr: LrKey;
  endLr: LrKey;
  startMomentum: MomentumKey;
  endMomentum: MomentumKey;
}

function perGroup(op: string, what: string, v: number | readonly number[], n: number): number[] {
  if (typeof v === "number") return Array.from({ length: n }, () => v);
  if (!Array.isArray(v) || v.length !== n) {
    throw new TsgradError(op, `expected ${n} values for ${what}, got ${JSON.stringify(v)}`);
  }
  return Array.from(v as readonly number[]);
}

/** A group's momentum-like hyper-parameter, as OneCycleLR sees it. */
type MomentumGroup = { momentum?: number; betas?: [number, number] };

/**
 * The 1cycle policy (like `torch.optim.lr_scheduler.OneCycleLR`), stepped once per batch: the lr
 * rises from maxLr/divFactor to maxLr over the first pctStart of the steps, then anneals to
 * initialLr/finalDivFactor, while momentum moves the opposite way. Stepping more than
 * `totalSteps` times is an error.
 *
 * @example
 * const w = tg.zeros([1], { requiresGrad: true });
 * const opt = new tg.optim.SGD([w], { lr: 0.1, momentum: 0.9 });
 * const sched = new tg.optim.OneCycleLR(opt, { maxLr: 1, totalSteps: 10, pctStart: 0.5 });
 * const lrs = [sched.getLastLr()[0]!];
 * for (let i = 1; i < 10; i++) { sched.step(); lrs.push(sched.getLastLr()[0]!); }
 * // lr: 0.04 up to 1 at step 4, then down to 4e-6 at step 9; momentum: 0.95 → 0.85 → 0.95
 * console.log(lrs[0], lrs[4], lrs[9], opt.paramGroups[0]!.momentum); // 0.04 1 0.000004 0.95
 */
export class OneCycleLR extends LRScheduler {
  totalSteps: number;
  pctStart: number;
  annealStrategy: "cos" | "linear";
  cycleMomentum: boolean;
  threePhase: boolean;
  useBeta1: boolean;
  private phases: Phase[] = [];

  constructor(optimizer: Optimizer, opts: OneCycleLROptions) {
    super(optimizer, opts.lastEpoch ?? -1, "OneCycleLR");
    const op = "OneCycleLR";
    checkOptionKeys(op, opts, OPTION_KEYS);
    if (opts.totalSteps !== undefined) {
      this.totalSteps = positiveInt(op, "totalSteps", opts.totalSteps);
    } else if (opts.epochs !== undefined && opts.stepsPerEpoch !== undefined) {
      this.totalSteps =
        positiveInt(op, "epochs", opts.epochs) *
        positiveInt(op, "stepsPerEpoch", opts.stepsPerEpoch);
    } else {
      throw new TsgradError(op, "give either totalSteps or both epochs and stepsPerEpoch");
    }
    this.pctStart = opts.pctStart ?? 0.3;
    if (!(this.pctStart >= 0 && this.pctStart <= 1)) {
      throw new TsgradError(op, `pctStart must be in [0, 1], got ${this.pctStart}`);
    }
    this.annealStrategy = opts.annealStrategy ?? "cos";
    if (this.annealStrategy !== "cos" && this.annealStrategy !== "linear") {
      throw new TsgradError(
        op,
        `annealStrategy must be "cos" or "linear", got ${JSON.stringify(this.annealStrategy)}`,
      );
    }
    this.threePhase = opts.threePhase ?? false;
    this.cycleMomentum = opts.cycleMomentum ?? true;
    this.buildPhases();

    const groups = optimizer.paramGroups;
    const lastEpoch = opts.lastEpoch ?? -1;
    const maxLrs = perGroup(op, "maxLr", opts.maxLr, groups.length);
    const divFactor = opts.divFactor ?? 25;
    const finalDivFactor = opts.finalDivFactor ?? 1e4;
    if (lastEpoch === -1) {
      groups.forEach((g, i) => {
        g.initialLr = maxLrs[i]! / divFactor;
        g.maxLr = maxLrs[i]!;
        g.minLr = g.initialLr / finalDivFactor;
      });
      this.baseLrs = groups.map((g) => g.initialLr!);
    }
    const defaults = optimizer.defaults as MomentumGroup;
    this.useBeta1 = defaults.betas !== undefined;
    if (this.cycleMomentum) {
      if (defaults.momentum === undefined && defaults.betas === undefined) {
        throw new TsgradError(op, "cycleMomentum needs an optimizer with momentum or betas");
      }
      const maxM = perGroup(op, "maxMomentum", opts.maxMomentum ?? 0.95, groups.length);
      const baseM = perGroup(op, "baseMomentum", opts.baseMomentum ?? 0.85, groups.length);
      if (lastEpoch === -1) {
        groups.forEach((g, i) => {
          this.setMomentum(g as MomentumGroup, maxM[i]!);
          g.maxMomentum = maxM[i]!;
          g.baseMomentum = baseM[i]!;
        });
      }
    }
    this.initialStep();
  }

  private buildPhases(): void {
    const n = this.totalSteps;
    const p = this.pctStart;
    // [end step, lr from, lr to, momentum from, momentum to], as PyTorch's _schedule_phases.
    const rows: [number, LrKey, LrKey, MomentumKey, MomentumKey][] = this.threePhase
      ? [
          [p * n - 1, "initialLr", "maxLr", "maxMomentum", "baseMomentum"],
          [2 * p * n - 2, "maxLr", "initialLr", "baseMomentum", "maxMomentum"],
          [n - 1, "initialLr", "minLr", "maxMomentum", "maxMomentum"],
        ]
      : [
          [p * n - 1, "initialLr", "maxLr", "maxMomentum", "baseMomentum"],
          [n - 1, "maxLr", "minLr", "baseMomentum", "maxMomentum"],
        ];
    this.phases = rows.map(([endStep, startLr, endLr, startMomentum, endMomentum]) => ({
      endStep,
      startLr,
      endLr,
      startMomentum,
      endMomentum,
    }));
  }

  private setMomentum(g: MomentumGroup, m: number): void {
    if (this.useBeta1) g.betas = [m, g.betas![1]];
    else g.momentum = m;
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === "linear") return (end - start) * pct + start;
    return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
  }

  protected override savedKeys(): string[] {
    return ["totalSteps", "pctStart", "annealStrategy", "cycleMomentum", "threePhase", "useBeta1"];
  }

  protected override afterLoad(): void {
    this.buildPhases();
  }

  protected getLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw new TsgradError(
        "OneCycleLR.step",
        `tried to step ${stepNum + 1} times; the schedule has totalSteps ${this.totalSteps}`,
      );
    }
    return this.optimizer.paramGroups.map((group, gi) => {
      let start = 0;
      for (const [i, phase] of this.phases.entries()) {
        if (stepNum <= phase.endStep || i === this.phases.length - 1) {
          const pct = (stepNum - start) / (phase.endStep - start);
          const value = (k: string) => {
            const v = (group as unknown as Record<string, unknown>)[k];
            if (typeof v !== "number") {
              throw new TsgradError("OneCycleLR.step", `param group ${gi} has no ${k}`);
            }
            return v;
          };
          if (this.cycleMomentum) {
            const m = this.anneal(value(phase.startMomentum), value(phase.endMomentum), pct);
            this.setMomentum(group as MomentumGroup, m);
          }
          return this.anneal(value(phase.startLr), value(phase.endLr), pct);
        }
        start = phase.endStep;
      }
      throw new TsgradError("OneCycleLR.step", "internal: no phase matched");
    });
  }
}
