/** Adam and AdamW (torch.optim.Adam, torch.optim.AdamW), with AMSGrad. */
import { TsgradError } from "../tensor/errors.js";
import { runOptimizerKernel } from "./kernels.js";
import { Optimizer, type ParamGroup, type ParamSlot, type Params } from "./optimizer.js";

/** Adam's / AdamW's hyper-parameters, all optional. */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps?: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay (default 1e-2). */
  weightDecay?: number;
  /** Use the AMSGrad variant (default false). */
  amsgrad?: boolean;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize?: boolean;
}

/** Every Adam/AdamW hyper-parameter, as stored in a parameter group. */
export interface AdamHyper {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

function adamDefaults(opts: AdamOptions, weightDecay: number): AdamHyper {
  const betas = opts.betas ?? [0.9, 0.999];
  return {
    lr: opts.lr ?? 1e-3,
    betas: [betas[0], betas[1]],
    eps: opts.eps ?? 1e-8,
    weightDecay: opts.weightDecay ?? weightDecay,
    amsgrad: opts.amsgrad ?? false,
    maximize: opts.maximize ?? false,
  };
}

/** The shared step of Adam and AdamW; they differ only in how weight decay is applied. */
abstract class AdamFamily extends Optimizer<AdamHyper> {
  protected abstract readonly decoupled: boolean;

  protected override validateGroup(g: ParamGroup<AdamHyper>, i: number): void {
    const bad = (msg: string) => new TsgradError(this.name, `parameter group ${i}: ${msg}`);
    if (!(g.lr >= 0)) throw bad(`invalid learning rate ${g.lr}`);
    if (!(g.eps >= 0)) throw bad(`invalid eps ${g.eps}`);
    if (!Array.isArray(g.betas) || g.betas.length !== 2) {
      throw bad(`betas must be a pair of numbers, got ${JSON.stringify(g.betas)}`);
    }
    g.betas.forEach((b, k) => {
      if (!(b >= 0 && b < 1)) throw bad(`betas[${k}] must be in [0, 1), got ${b}`);
    });
    if (!(g.weightDecay >= 0)) throw bad(`invalid weightDecay ${g.weightDecay}`);
  }

  protected update(g: ParamGroup<AdamHyper>, slots: ParamSlot[]): void {
    for (const s of slots) {
      const fresh = s.state.step === undefined;
      const prev = fresh ? 0 : s.state.step;
      if (typeof prev !== "number") {
        throw new TsgradError(
          `${this.name}.step`,
          `state "step" of parameter ${s.index} must be a number`,
        );
      }
      const step = prev + 1;
      const expAvg = this.buffer(s, "expAvg", fresh);
      const expAvgSq = this.buffer(s, "expAvgSq", fresh);
      const maxExpAvgSq = g.amsgrad ? this.buffer(s, "maxExpAvgSq", fresh) : null;
      s.state.step = step;
      runOptimizerKernel("adam", s.data, s.grad, expAvg, expAvgSq, maxExpAvgSq, {
        lr: g.lr,
        beta1: g.betas[0],
        beta2: g.betas[1],
        eps: g.eps,
        weightDecay: g.weightDecay,
        decoupledWeightDecay: this.decoupled,
        maximize: g.maximize,
        step,
      });
    }
  }
}

/**
 * Adam (like `torch.optim.Adam`, PyTorch 1.13 update rule), with optional L2 weight decay added
 * to the gradient and the AMSGrad variant.
 *
 * @example
 * const w = tg.tensor([1, -2], { requiresGrad: true });
 * const opt = new tg.optim.Adam([w], { lr: 0.1 });
 * w.square().sum().backward();
 * opt.step(); // the first Adam step moves every coordinate by about lr
 * console.log(w.toArray()); // [0.9, -1.9]
 */
export class Adam extends AdamFamily {
  protected readonly decoupled = false;

  constructor(params: Params<AdamHyper>, opts: AdamOptions = {}) {
    super("Adam", params, adamDefaults(opts, 0), opts);
  }
}

/**
 * AdamW: Adam with decoupled weight decay, p ← p·(1 − lr·weightDecay) before the Adam step
 * (like `torch.optim.AdamW`; weightDecay defaults to 1e-2).
 *
 * @example
 * const w = tg.tensor([1, -2], { requiresGrad: true });
 * const opt = new tg.optim.AdamW([w], { lr: 0.1, weightDecay: 0.5 });
 * w.square().sum().backward();
 * opt.step(); // decay by 1 − 0.05, then the Adam step of about lr
 * console.log(w.toArray()); // [0.85, -1.8]
 */
export class AdamW extends AdamFamily {
  protected readonly decoupled = true;

  constructor(params: Params<AdamHyper>, opts: AdamOptions = {}) {
    super("AdamW", params, adamDefaults(opts, 1e-2), opts);
  }
}
