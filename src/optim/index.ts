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
} from "./optimizer.ts";
export { SGD, type SGDHyper, type SGDOptions } from "./sgd.ts";
export { Adam, AdamW, type AdamHyper, type AdamOptions } from "./adam.ts";
export { RMSprop, type RMSpropHyper, type RMSpropOptions } from "./rmsprop.ts";
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
} from "./lr-scheduler.ts";
export { OneCycleLR, type OneCycleLROptions } from "./one-cycle.ts";
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from "./plateau.ts";
export { clipGradNorm, clipGradValue, type ClipGradNormOptions } from "./clip.ts";
export {
  jsOptimizerKernels,
  runOptimizerKernel,
  type FloatArray,
  type OptimizerKernels,
  type SgdKernelHyper,
  type AdamKernelHyper,
  type RmspropKernelHyper,
} from "./kernels.ts";
