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
import { jsBackend } from "./backends/js/index.ts";
import { nativeBackend, nativeBulkUniform } from "./backends/native/index.ts";
import { registerBackend, setDefaultBackendChooser } from "./backends/backend.ts";
import { setBulkUniformKernel } from "./tensor/random.ts";

// The oneDNN addon is optional: it is probed lazily, and where it cannot load (a browser, a
// machine without libdnnl) the reference backend is the default.
registerBackend(nativeBackend);
setDefaultBackendChooser(() => (nativeBackend.available() ? nativeBackend : jsBackend));
// Long float32 draws (dropout masks above all) take the addon's copy of the generator loop when
// it is there, whatever the backend: the numbers are the same, drawn several times sooner.
setBulkUniformKernel(nativeBulkUniform);

export { Tensor, type TensorLike, type NestedArray } from "./tensor/tensor.ts";
export { type DType, type TypedArray } from "./tensor/dtype.ts";
export { TsgradError } from "./tensor/errors.ts";
export {
  Generator,
  manualSeed,
  defaultGenerator,
  setBulkUniformKernel,
  type BulkUniformKernel,
  type GeneratorState,
} from "./tensor/random.ts";
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
} from "./tensor/creation.ts";
export { scalar } from "./tensor/scalar.ts";
export { noGrad, enableGrad, isGradEnabled, type BackwardOptions } from "./tensor/autograd.ts";
export { grad, valueAndGrad, type Differentiable } from "./tensor/transforms.ts";
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
} from "./ops/ops.ts";
export { variance as var } from "./ops/ops.ts";
export {
  type Prim,
  type PrimParams,
  type View,
  type Kernel,
  type KernelTable,
} from "./ops/primitives.ts";
export { rules } from "./ops/rules.ts";
export { run } from "./ops/dispatch.ts";
export { fused, type FusedKernel, type FusedResult } from "./ops/fused.ts";
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
} from "./backends/backend.ts";
export { jsBackend } from "./backends/js/index.ts";
export { nativeBackend } from "./backends/native/index.ts";
export * as F from "./nn/functional.ts";
export * as nn from "./nn/index.ts";
export * as optim from "./optim/index.ts";
export * as data from "./data/index.ts";
export * as io from "./io/index.ts";
export * as text from "./text/index.ts";
export * as report from "./report/index.ts";
export * as models from "./models/index.ts";
export * as analysis from "./analysis/index.ts";
export * as train from "./train/index.ts";
export * as vision from "./vision/index.ts";
export * as lm from "./lm/index.ts";
export * as w2s from "./w2s/index.ts";
export * as translate from "./translate/index.ts";
