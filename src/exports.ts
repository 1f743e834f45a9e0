/**
 * What both entries export: `src/index.ts` (Node.js) and `src/browser.ts` (browsers and other
 * runtimes without Node's built-ins) re-export this module, then each adds its own
 * `nativeBackend`, so the two have the same names and types.
 */
export { Tensor, type TensorLike, type NestedArray } from "./tensor/tensor.js";
export { type DType, type TypedArray } from "./tensor/dtype.js";
export { TsgradError } from "./tensor/errors.js";
export {
  Generator,
  manualSeed,
  defaultGenerator,
  setBulkUniformKernel,
  type BulkUniformKernel,
  type GeneratorState,
} from "./tensor/random.js";
export {
  tensor,
  zeros,
  ones,
  full,
  zerosLike,
  onesLike,
  fullLike,
  arange,
  linspace,
  eye,
  rand,
  randn,
  randint,
  randperm,
  randLike,
  randnLike,
  type CreateOptions,
  type RandomOptions,
} from "./tensor/creation.js";
export { scalar } from "./tensor/scalar.js";
export { noGrad, enableGrad, isGradEnabled, type BackwardOptions } from "./tensor/autograd.js";
export { grad, valueAndGrad, type Differentiable } from "./tensor/transforms.js";
export {
  neg,
  exp,
  log,
  sqrt,
  rsqrt,
  tanh,
  sigmoid,
  relu,
  abs,
  sin,
  cos,
  erf,
  sign,
  add,
  sub,
  mul,
  div,
  pow,
  maximum,
  minimum,
  where,
  clamp,
  sum,
  mean,
  amax,
  amin,
  argmax,
  argmin,
  logsumexp,
  softmax,
  logSoftmax,
  reshape,
  flatten,
  permute,
  transpose,
  expand,
  squeeze,
  unsqueeze,
  narrow,
  split,
  chunk,
  pad,
  cat,
  stack,
  flip,
  repeat,
  gather,
  scatterAdd,
  indexSelect,
  matmul,
  contiguous,
  cast,
  sumTo,
  std,
} from "./ops/ops.js";
export { variance as var } from "./ops/ops.js";
export { log1p, expm1 } from "./ops/ops.js";
export {
  floor,
  ceil,
  round,
  trunc,
  isnan,
  isinf,
  isfinite,
  nanToNum,
  cumsum,
  cumprod,
  prod,
  any,
  all,
  norm,
} from "./ops/math-extra.js";
export { sort, argsort, topk } from "./ops/sorting.js";
export { tril, triu, roll } from "./ops/layout.js";
export { bmm, outer, einsum } from "./ops/einsum.js";
export {
  type Prim,
  type PrimParams,
  type CmpOp,
  type RoundMode,
  type Window2d,
  type Conv2dParams,
  type View,
  type Kernel,
  type KernelTable,
} from "./ops/primitives.js";
export { rules, type Rule, type OutInfo, type VjpContext } from "./ops/rules.js";
export { run } from "./ops/dispatch.js";
export { fused, type FusedKernel, type FusedKernels, type FusedResult } from "./ops/fused.js";
export {
  type Backend,
  registerBackend,
  setBackend,
  getBackend,
  listBackends,
  findBackend,
  ready,
  info,
  trackKernels,
  kernelStats,
  type MatmulPrecision,
  MATMUL_PRECISIONS,
  setFloat32MatmulPrecision,
  getFloat32MatmulPrecision,
  withFloat32MatmulPrecision,
  bf16Products,
} from "./backends/backend.js";
export { jsBackend } from "./backends/js/index.js";
export type { NativeBackend } from "./backends/native/index.js";
export { wasmBackend, type WasmBackend } from "./backends/wasm/index.js";
export * as F from "./nn/functional.js";
export * as nn from "./nn/index.js";
export * as optim from "./optim/index.js";
export * as data from "./data/index.js";
export * as io from "./io/index.js";
export * as text from "./text/index.js";
export * as report from "./report/index.js";
export * as models from "./models/index.js";
export * as analysis from "./analysis/index.js";
export * as train from "./train/index.js";
export * as vision from "./vision/index.js";
export * as lm from "./lm/index.js";
export * as w2s from "./w2s/index.js";
export * as translate from "./translate/index.js";
