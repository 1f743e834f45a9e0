/** ReduceLROnPlateau: cut the lr when a monitored metric stops improving. */
import { TsgradError } from "../tensor/errors.js";
import { Tensor } from "../tensor/tensor.js";
import type { Optimizer, StateObject } from "./optimizer.js";
import { checkOptionKeys } from "./options.js";

/** Options of `ReduceLROnPlateau` (PyTorch's defaults). */
export interface ReduceLROnPlateauOptions {
  /** "min" (default): the metric should decrease (a loss); "max": increase (an accuracy). */
  mode?: "min" | "max";
  /** Multiply the lr by this on a plateau, < 1 (default 0.1). */
  factor?: number;
  /** Epochs without improvement tolerated before reducing (default 10). */
  patience?: number;
  /** How much better counts as an improvement (default 1e-4). */
  threshold?: number;
  /** "rel" (default): better than best·(1 ∓ threshold); "abs": better than best ∓ threshold. */
  thresholdMode?: "rel" | "abs";
  /** Epochs to wait after a reduction before counting bad epochs again (default 0). */
  cooldown?: number;
  /** Lower bound on the lr, for all groups or one per group (default 0). */
  minLr?: number | readonly number[];
  /** Reductions smaller than this are skipped (default 1e-8). */
  eps?: number;
}

/** Non-finite numbers are saved as strings ("Infinity"), so the state dict stays JSON-safe. */
function encode(x: number): number | string {
  return Number.isFinite(x) ? x : String(x);
}

/**
 * Reduce each group's lr by `factor` once the metric passed to `step(metric)` has not improved
 * for more than `patience` epochs (like `torch.optim.lr_scheduler.ReduceLROnPlateau`).
 *
 * @example
 * const w = tg.zeros([1], { requiresGrad: true });
 * const opt = new tg.optim.SGD([w], { lr: 1 });
 * const sched = new tg.optim.ReduceLROnPlateau(opt, { patience: 1, factor: 0.5 });
 * for (const loss of [3, 2, 2, 2, 2]) sched.step(loss);
 * console.log(sched.getLastLr()); // [0.5]
 */
export class ReduceLROnPlateau {
  mode: "min" | "max";
  factor: number;
  patience: number;
  threshold: number;
  thresholdMode: "rel" | "abs";
  cooldown: number;
  cooldownCounter = 0;
  minLrs: number[];
  eps: number;
  /** The best metric so far (±Infinity before the first step). */
  best: number;
  numBadEpochs = 0;
  lastEpoch = 0;
  private lastLr: number[];

  constructor(
    readonly optimizer: Optimizer,
    opts: ReduceLROnPlateauOptions = {},
  ) {
    const op = "ReduceLROnPlateau";
    const known = "mode factor patience threshold thresholdMode cooldown minLr eps".split(" ");
    checkOptionKeys(op, opts, known);
    this.factor = opts.factor ?? 0.1;
    if (!(this.factor < 1 && this.factor >= 0)) {
      throw new TsgradError(op, `factor must be in [0, 1), got ${this.factor}`);
    }
    const n = optimizer.paramGroups.length;
    const minLr = opts.minLr ?? 0;
    if (typeof minLr === "number") this.minLrs = Array.from({ length: n }, () => minLr);
    else if (Array.isArray(minLr) && minLr.length === n) {
      this.minLrs = Array.from(minLr as readonly number[]);
    } else throw new TsgradError(op, `expected ${n} minLr values, got ${JSON.stringify(minLr)}`);
    this.patience = opts.patience ?? 10;
    this.cooldown = opts.cooldown ?? 0;
    this.threshold = opts.threshold ?? 1e-4;
    this.eps = opts.eps ?? 1e-8;
    this.mode = opts.mode ?? "min";
    this.thresholdMode = opts.thresholdMode ?? "rel";
    this.checkModes(op);
    this.best = this.modeWorse();
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  private checkModes(op: string): void {
    if (this.mode !== "min" && this.mode !== "max") {
      throw new TsgradError(op, `mode must be "min" or "max", got ${JSON.stringify(this.mode)}`);
    }
    if (this.thresholdMode !== "rel" && this.thresholdMode !== "abs") {
      throw new TsgradError(
        op,
        `thresholdMode must be "rel" or "abs", got ${JSON.stringify(this.thresholdMode)}`,
      );
    }
  }

  private modeWorse(): number {
    return this.mode === "min" ? Infinity : -Infinity;
  }

  private isBetter(a: number, best: number): boolean {
    if (this.mode === "min") {
      return this.thresholdMode === "rel"
        ? a < best * (1 - this.threshold)
        : a < best - this.threshold;
    }
    return this.thresholdMode === "rel"
      ? a > best * (this.threshold + 1)
      : a > best + this.threshold;
  }

  /**
   * Record this epoch's metric (a number or a one-element tensor) and reduce the lrs if it has
   * plateaued. A NaN metric is an error rather than a silent "no improvement".
   */
  step(metric: number | Tensor): void {
    const current = metric instanceof Tensor ? metric.item() : metric;
    if (typeof current !== "number" || Number.isNaN(current)) {
      throw new TsgradError(
        "ReduceLROnPlateau.step",
        `the metric must be a number, got ${String(current)} at epoch ${this.lastEpoch + 1}`,
      );
    }
    this.lastEpoch += 1;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0; // bad epochs during cooldown do not count
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const newLr = Math.max(g.lr * this.factor, this.minLrs[i]!);
        if (g.lr - newLr > this.eps) g.lr = newLr;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The lrs after the last step (the groups' lrs before the first), one per parameter group. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /**
   * The scheduler's state: its settings, counters and best metric (±Infinity saved as a string).
   *
   * @example
   * const w = tg.zeros([1], { requiresGrad: true });
   * const sched = new tg.optim.ReduceLROnPlateau(new tg.optim.SGD([w], { lr: 1 }));
   * console.log(sched.stateDict().best); // "Infinity"
   */
  stateDict(): StateObject {
    return {
      mode: this.mode,
      factor: this.factor,
      patience: this.patience,
      threshold: this.threshold,
      thresholdMode: this.thresholdMode,
      cooldown: this.cooldown,
      cooldownCounter: this.cooldownCounter,
      minLrs: [...this.minLrs],
      eps: this.eps,
      best: encode(this.best),
      numBadEpochs: this.numBadEpochs,
      lastEpoch: this.lastEpoch,
      lastLr: [...this.lastLr],
    };
  }

  /**
   * Restore a state from `stateDict()`; a missing key, a wrong type or a different number of
   * parameter groups is a TsgradError.
   */
  loadStateDict(sd: StateObject): void {
    const where = "ReduceLROnPlateau.loadStateDict";
    if (sd === null || typeof sd !== "object") throw new TsgradError(where, "expected an object");
    const num = (k: string): number => {
      const v = sd[k];
      const x = typeof v === "string" ? Number(v) : v;
      if (typeof x !== "number" || (typeof v === "string" && Number.isNaN(x))) {
        throw new TsgradError(where, `"${k}" should be a number, got ${JSON.stringify(v)}`);
      }
      return x;
    };
    const list = (k: string): number[] => {
      const v = sd[k];
      const n = this.optimizer.paramGroups.length;
      if (!Array.isArray(v) || v.length !== n || v.some((x) => typeof x !== "number")) {
        throw new TsgradError(
          where,
          `"${k}" should be a list of ${n} numbers (one per param group), got ${JSON.stringify(v)}`,
        );
      }
      return [...(v as number[])];
    };
    const values = {
      factor: num("factor"),
      patience: num("patience"),
      threshold: num("threshold"),
      cooldown: num("cooldown"),
      cooldownCounter: num("cooldownCounter"),
      eps: num("eps"),
      best: num("best"),
      numBadEpochs: num("numBadEpochs"),
      lastEpoch: num("lastEpoch"),
      minLrs: list("minLrs"),
      lastLr: list("lastLr"),
    };
    const mode = sd.mode as "min" | "max";
    const thresholdMode = sd.thresholdMode as "rel" | "abs";
    const before = { mode: this.mode, thresholdMode: this.thresholdMode };
    this.mode = mode;
    this.thresholdMode = thresholdMode;
    try {
      this.checkModes(where);
    } catch (e) {
      Object.assign(this, before);
      throw e;
    }
    Object.assign(this, values);
  }
}
