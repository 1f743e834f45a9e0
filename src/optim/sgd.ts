/** Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (torch.optim.SGD). */
import { TsgradError } from "../tensor/errors.js";
import { runOptimizerKernel } from "./kernels.js";
import { Optimizer, type ParamGroup, type ParamSlot, type Params } from "./optimizer.js";

/** SGD's hyper-parameters; `lr` is required, the rest default as in PyTorch. */
export interface SGDOptions {
  lr: number;
  /** Momentum factor (default 0: plain SGD). */
  momentum?: number;
  /** Dampening for momentum (default 0). */
  dampening?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize?: boolean;
}

/** Every SGD hyper-parameter, as stored in a parameter group. */
export type SGDHyper = Required<SGDOptions>;

/**
 * Stochastic gradient descent, optionally with momentum (like `torch.optim.SGD`, PyTorch 1.13
 * update rule): with d = g + wd·p, the buffer is b = d on the first step and
 * b = momentum·b + (1 − dampening)·d after; the step is d + momentum·b with Nesterov, else b.
 *
 * @example
 * const w = tg.tensor([1, -2], { requiresGrad: true });
 * const opt = new tg.optim.SGD([w], { lr: 0.1, momentum: 0.9 });
 * for (let i = 0; i < 2; i++) {
 *   opt.zeroGrad();
 *   w.square().sum().backward(); // gradient 2w
 *   opt.step();
 * }
 * console.log(w.toArray()); // [0.46, -0.92]
 */
export class SGD extends Optimizer<SGDHyper> {
  constructor(params: Params<SGDHyper>, opts: SGDOptions) {
    super(
      "SGD",
      params,
      {
        lr: opts.lr,
        momentum: opts.momentum ?? 0,
        dampening: opts.dampening ?? 0,
        weightDecay: opts.weightDecay ?? 0,
        nesterov: opts.nesterov ?? false,
        maximize: opts.maximize ?? false,
      },
      opts,
    );
  }

  protected override validateGroup(g: ParamGroup<SGDHyper>, i: number): void {
    const bad = (msg: string) => new TsgradError("SGD", `parameter group ${i}: ${msg}`);
    if (!(g.lr >= 0)) throw bad(`invalid learning rate ${g.lr}`);
    if (!(g.momentum >= 0)) throw bad(`invalid momentum ${g.momentum}`);
    if (!(g.weightDecay >= 0)) throw bad(`invalid weightDecay ${g.weightDecay}`);
    if (!Number.isFinite(g.dampening)) throw bad(`invalid dampening ${g.dampening}`);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
      throw bad(
        `Nesterov momentum needs momentum > 0 and dampening 0, got momentum ${g.momentum}, dampening ${g.dampening}`,
      );
    }
  }

  protected update(g: ParamGroup<SGDHyper>, slots: ParamSlot[]): void {
    for (const s of slots) {
      const useBuf = g.momentum !== 0;
      const initBuffer = useBuf && s.state.momentumBuffer === undefined;
      runOptimizerKernel(
        "sgd",
        s.data,
        s.grad,
        useBuf ? this.buffer(s, "momentumBuffer", true) : null,
        {
          lr: g.lr,
          momentum: g.momentum,
          dampening: g.dampening,
          weightDecay: g.weightDecay,
          nesterov: g.nesterov,
          maximize: g.maximize,
          initBuffer,
        },
      );
    }
  }
}
