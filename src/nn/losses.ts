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
