/** Loss modules (torch.nn names) over the `tg.F` loss functions. */
import * as F from "./functional.js";
import { Module } from "./module.js";
import type { Tensor } from "../tensor/tensor.js";

/**
 * Cross-entropy on logits, with `ignoreIndex`, `labelSmoothing` and class `weight`.
 *
 * @example
 * const loss = new tg.nn.CrossEntropyLoss({ labelSmoothing: 0.1 });
 * console.log(loss.forward(tg.zeros([2, 4]), tg.tensor([1, 3], { dtype: "int32" })).item().toFixed(4)); // "1.3863"
 */
export class CrossEntropyLoss extends Module {
  constructor(readonly opts: F.CrossEntropyOptions = {}) {
    super();
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.crossEntropy(input, target, this.opts);
  }
}

/**
 * Negative log-likelihood of class targets under log-probabilities.
 *
 * @example
 * const nll = new tg.nn.NLLLoss();
 * console.log(nll.forward(tg.tensor([[-1, -2]]), tg.tensor([1], { dtype: "int32" })).item()); // 2
 */
export class NLLLoss extends Module {
  constructor(
    readonly opts: { ignoreIndex?: number; weight?: Tensor; reduction?: F.Reduction } = {},
  ) {
    super();
  }
  forward(logp: Tensor, target: Tensor): Tensor {
    return F.nllLoss(logp, target, this.opts);
  }
}

/**
 * Mean squared error.
 *
 * @example
 * console.log(new tg.nn.MSELoss().forward(tg.tensor([0, 2]), tg.tensor([0, 0])).item()); // 2
 */
export class MSELoss extends Module {
  constructor(readonly reduction: F.Reduction = "mean") {
    super();
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.mseLoss(input, target, this.reduction);
  }
}

/**
 * Mean absolute error (torch.nn.L1Loss). Shapes must match.
 *
 * @example
 * console.log(new tg.nn.L1Loss().forward(tg.tensor([0, 2]), tg.tensor([1, 1])).item()); // 1
 */
export class L1Loss extends Module {
  constructor(readonly reduction: F.Reduction = "mean") {
    super();
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.l1Loss(input, target, this.reduction);
  }
}

/**
 * Smooth L1 loss with threshold β (torch.nn.SmoothL1Loss). Shapes must match.
 *
 * @example
 * console.log(new tg.nn.SmoothL1Loss("sum", 0.5).forward(tg.tensor([0.25, 2]), tg.tensor([0, 0])).item()); // 1.8125
 */
export class SmoothL1Loss extends Module {
  constructor(
    readonly reduction: F.Reduction = "mean",
    readonly beta = 1,
  ) {
    super();
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.smoothL1Loss(input, target, this.reduction, this.beta);
  }
}

/**
 * Huber loss with threshold δ (torch.nn.HuberLoss). Shapes must match.
 *
 * @example
 * console.log(new tg.nn.HuberLoss("sum", 0.5).forward(tg.tensor([0.25, 2]), tg.tensor([0, 0])).item()); // 0.90625
 */
export class HuberLoss extends Module {
  constructor(
    readonly reduction: F.Reduction = "mean",
    readonly delta = 1,
  ) {
    super();
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.huberLoss(input, target, this.reduction, this.delta);
  }
}

/**
 * KL divergence of targets from the model's log-probabilities (torch.nn.KLDivLoss); use
 * reduction "batchmean" for the true per-example divergence.
 *
 * @example
 * const kl = new tg.nn.KLDivLoss("batchmean");
 * console.log(kl.forward(tg.tensor([[0.5, 0.5]]).log(), tg.tensor([[1, 0]])).item().toFixed(4)); // "0.6931"
 */
export class KLDivLoss extends Module {
  constructor(
    readonly reduction: F.Reduction | "batchmean" = "mean",
    readonly logTarget = false,
  ) {
    super();
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.klDiv(input, target, this.reduction, this.logTarget);
  }
}
