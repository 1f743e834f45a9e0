/**
 * tsgrad: deep learning in TypeScript.
 *
 * @example
 * import * as tg from "tsgrad";
 * const x = tg.tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * const y = x.matmul(x).relu().sum();
 * y.backward();
 * console.log(x.grad!.toArray()); // [[7, 11], [9, 13]]
 */
import { jsBackend } from "./backends/js/index.js";
import { nativeBackend, nativeBulkUniform } from "./backends/native/index.js";
import { registerBackend, setDefaultBackendChooser } from "./backends/backend.js";
import { setBulkUniformKernel } from "./tensor/random.js";

// The oneDNN addon is optional: it is probed lazily, and where it cannot load (a browser, a
// machine without libdnnl) the reference backend is the default.
registerBackend(nativeBackend);
setDefaultBackendChooser(() => (nativeBackend.available() ? nativeBackend : jsBackend));
// Long float32 draws (dropout masks above all) take the addon's copy of the generator loop when
// it is there, whatever the backend: the numbers are the same, drawn several times sooner.
setBulkUniformKernel(nativeBulkUniform);

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
} from "./ops/ops.js";
export { variance as var } from "./ops/ops.js";
export {
  type Prim,
  type PrimParams,
  type View,
  type Kernel,
  type KernelTable,
} from "./ops/primitives.js";
export { rules } from "./ops/rules.js";
export { run } from "./ops/dispatch.js";
export { fused, type FusedKernel, type FusedResult } from "./ops/fused.js";
export {
  type Backend,
  registerBackend,
  setBackend,
  getBackend,
  listBackends,
  findBackend,
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
export { nativeBackend } from "./backends/native/index.js";
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
