/**
 * tg.optim — optimizers, learning-rate schedulers and gradient clipping (like torch.optim and
 * torch.nn.utils.clip_grad_*), matching PyTorch 1.13's update rules.
 */
export {
  Optimizer,
  type BaseHyper,
  type HyperValue,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupInit,
  type ParamSlot,
  type ParamState,
  type Params,
  type SchedulerKeys,
  type StateObject,
  type StateValue,
} from "./optimizer.js";
export { SGD, type SGDHyper, type SGDOptions } from "./sgd.js";
export { Adam, AdamW, type AdamHyper, type AdamOptions } from "./adam.js";
export { RMSprop, type RMSpropHyper, type RMSpropOptions } from "./rmsprop.js";
export {
  LRScheduler,
  LambdaLR,
  StepLR,
  MultiStepLR,
  ExponentialLR,
  LinearLR,
  CosineAnnealingLR,
  CosineWithWarmup,
  SequentialLR,
  type LambdaLROptions,
  type StepLROptions,
  type MultiStepLROptions,
  type ExponentialLROptions,
  type LinearLROptions,
  type CosineAnnealingLROptions,
  type CosineWithWarmupOptions,
  type SequentialLROptions,
} from "./lr-scheduler.js";
export { OneCycleLR, type OneCycleLROptions } from "./one-cycle.js";
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from "./plateau.js";
export { clipGradNorm, clipGradValue, type ClipGradNormOptions } from "./clip.js";
export {
  jsOptimizerKernels,
  adamStepConstants,
  runOptimizerKernel,
  type FloatArray,
  type OptimizerKernels,
  type SgdKernelHyper,
  type AdamKernelHyper,
  type RmspropKernelHyper,
} from "./kernels.js";
