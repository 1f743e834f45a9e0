/** RMSprop, optionally centered and with momentum (torch.optim.RMSprop). */
import { TsgradError } from "../tensor/errors.js";
import { runOptimizerKernel } from "./kernels.js";
import { Optimizer, type ParamGroup, type ParamSlot, type Params } from "./optimizer.js";

/** RMSprop's hyper-parameters, all optional. */
export interface RMSpropOptions {
  /** Learning rate (default 1e-2). */
  lr?: number;
  /** Smoothing constant of the squared-gradient average (default 0.99). */
  alpha?: number;
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Momentum factor (default 0). */
  momentum?: number;
  /** Normalize by the estimated variance of the gradient instead of its second moment (default false). */
  centered?: boolean;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize?: boolean;
}

/** Every RMSprop hyper-parameter, as stored in a parameter group. */
export type RMSpropHyper = Required<RMSpropOptions>;

/**
 * RMSprop (like `torch.optim.RMSprop`, PyTorch 1.13 update rule): divides the gradient by the
 * root of a running average of its square (minus the squared running mean when centered).
 *
 * @example
 * const w = tg.tensor([1, -2], { requiresGrad: true });
 * const opt = new tg.optim.RMSprop([w], { lr: 0.01 });
 * w.square().sum().backward();
 * opt.step(); // first step: g / sqrt(0.01·g²) = 10·sign(g)
 * console.log(w.toArray()); // [0.9, -1.9]
 */
export class RMSprop extends Optimizer<RMSpropHyper> {
  constructor(params: Params<RMSpropHyper>, opts: RMSpropOptions = {}) {
    super(
      "RMSprop",
      params,
      {
        lr: opts.lr ?? 1e-2,
        alpha: opts.alpha ?? 0.99,
        eps: opts.eps ?? 1e-8,
        weightDecay: opts.weightDecay ?? 0,
        momentum: opts.momentum ?? 0,
        centered: opts.centered ?? false,
        maximize: opts.maximize ?? false,
      },
      opts,
    );
  }

  protected override validateGroup(g: ParamGroup<RMSpropHyper>, i: number): void {
    const bad = (msg: string) => new TsgradError("RMSprop", `parameter group ${i}: ${msg}`);
    if (!(g.lr >= 0)) throw bad(`invalid learning rate ${g.lr}`);
    if (!(g.eps >= 0)) throw bad(`invalid eps ${g.eps}`);
    if (!(g.momentum >= 0)) throw bad(`invalid momentum ${g.momentum}`);
    if (!(g.weightDecay >= 0)) throw bad(`invalid weightDecay ${g.weightDecay}`);
    if (!(g.alpha >= 0)) throw bad(`invalid alpha ${g.alpha}`);
  }

  protected update(g: ParamGroup<RMSpropHyper>, slots: ParamSlot[]): void {
    for (const s of slots) {
      const fresh = s.state.step === undefined;
      const prev = fresh ? 0 : s.state.step;
      if (typeof prev !== "number") {
        throw new TsgradError(
          "RMSprop.step",
          `state "step" of parameter ${s.index} must be a number`,
        );
      }
      const squareAvg = this.buffer(s, "squareAvg", fresh);
      // Buffers are also created when momentum or centering is switched on after the first step
      // (e.g. by OneCycleLR cycling momentum), where PyTorch would fail on the missing key.
      const momentumBuf = g.momentum > 0 ? this.buffer(s, "momentumBuffer", true) : null;
      const gradAvg = g.centered ? this.buffer(s, "gradAvg", true) : null;
      s.state.step = prev + 1;
      runOptimizerKernel("rmsprop", s.data, s.grad, squareAvg, gradAvg, momentumBuf, {
        lr: g.lr,
        alpha: g.alpha,
        eps: g.eps,
        weightDecay: g.weightDecay,
        momentum: g.momentum,
        centered: g.centered,
        maximize: g.maximize,
      });
    }
  }
}
