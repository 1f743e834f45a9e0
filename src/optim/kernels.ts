/**
 * Optimizer update kernels: the per-element loops of SGD, Adam/AdamW and RMSprop over raw typed
 * arrays, updating the parameter and its state buffers in place.
 *
 * These JS loops are the reference (the spec a fused native version is checked against), and
 * they follow PyTorch 1.13's single-tensor code paths (`torch/optim/{sgd,adam,adamw,rmsprop}.py`)
 * operation by operation, in the same order, so float64 trajectories agree to round-off.
 *
 * A backend may supply faster versions through an `optimizer` field on its backend object
 * (`Partial<OptimizerKernels>`); `optimizerKernel(name)` picks the active backend's kernel and
 * falls back to these. Like primitive kernels, an override may return `false` to decline (for
 * example for a dtype it does not handle), and the JS loop runs instead.
 */
import { getBackend, noteKernel } from "../backends/backend.js";

/** The storage of a floating tensor. Every array passed to one kernel call has the same type. */
export type FloatArray = Float32Array | Float64Array;

/** SGD hyper-parameters for one parameter group (PyTorch's names, camelCased). */
export interface SgdKernelHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
  /**
   * True on a parameter's first step with momentum: the buffer is then set to the (decayed,
   * sign-adjusted) gradient itself instead of being decayed, as PyTorch does.
   */
  initBuffer: boolean;
}

/** Adam / AdamW hyper-parameters for one parameter group at one step. */
export interface AdamKernelHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: decay the parameter directly (p *= 1 − lr·wd) instead of adding wd·p to the gradient. */
  decoupledWeightDecay: boolean;
  maximize: boolean;
  /** The step count after this step (1 on the first step), for the bias corrections. */
  step: number;
}

/** RMSprop hyper-parameters for one parameter group. */
export interface RmspropKernelHyper {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
}

/**
 * The fused update loops an optimizer needs. Every array has the parameter's length; `param` and
 * the state buffers are updated in place, `grad` is only read. A kernel returns nothing (or
 * `true`) when it did the update and `false` to decline.
 */
export interface OptimizerKernels {
  /** SGD with optional momentum/Nesterov; `momentumBuf` is null when momentum is 0. */
  sgd: (
    param: FloatArray,
    grad: FloatArray,
    momentumBuf: FloatArray | null,
    hyper: SgdKernelHyper,
  ) => void | boolean;
  /** Adam or AdamW (see `decoupledWeightDecay`); `maxExpAvgSq` is non-null exactly for AMSGrad. */
  adam: (
    param: FloatArray,
    grad: FloatArray,
    expAvg: FloatArray,
    expAvgSq: FloatArray,
    maxExpAvgSq: FloatArray | null,
    hyper: AdamKernelHyper,
  ) => void | boolean;
  /** RMSprop; `gradAvg` is non-null exactly when centered, `momentumBuf` when momentum > 0. */
  rmsprop: (
    param: FloatArray,
    grad: FloatArray,
    squareAvg: FloatArray,
    gradAvg: FloatArray | null,
    momentumBuf: FloatArray | null,
    hyper: RmspropKernelHyper,
  ) => void | boolean;
}

// NOTE: values are read back from the state arrays after being stored, so a float32 buffer is
// rounded before it is used, as in PyTorch (the value of an assignment expression is not).
// Weight decay and maximize are applied only when set, like PyTorch's `if weight_decay != 0`.

function jsSgd(p: FloatArray, g: FloatArray, buf: FloatArray | null, h: SgdKernelHyper): void {
  const { lr, momentum, weightDecay: wd, nesterov, maximize, initBuffer } = h;
  const keep = 1 - h.dampening;
  const n = p.length;
  for (let i = 0; i < n; i++) {
    let d = g[i]!;
    if (maximize) d = -d;
    if (wd !== 0) d += wd * p[i]!;
    if (buf === null) {
      p[i] = p[i]! + -lr * d;
      continue;
    }
    // The first step copies the gradient into the buffer (no dampening), later ones decay it.
    buf[i] = initBuffer ? d : buf[i]! * momentum + keep * d;
    const b = buf[i]!;
    p[i] = p[i]! + -lr * (nesterov ? d + momentum * b : b);
  }
}

/**
 * Adam's per-step constants, computed once here for every backend (the fast kernels take them as
 * arguments), so that all of them update with the same numbers as this reference.
 *
 * @example
 * const c = tg.optim.adamStepConstants({ lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8,
 *   weightDecay: 0, step: 1, maximize: false, decoupledWeightDecay: false });
 * console.log(c.stepSize.toFixed(3)); // "1.000"
 */
export function adamStepConstants(h: AdamKernelHyper): {
  shrink: number;
  stepSize: number;
  bc2Sqrt: number;
  c1: number;
  c2: number;
} {
  const { lr, beta1, beta2, weightDecay: wd, step } = h;
  return {
    shrink: 1 - lr * wd,
    stepSize: lr / (1 - beta1 ** step),
    bc2Sqrt: Math.sqrt(1 - beta2 ** step),
    c1: 1 - beta1,
    c2: 1 - beta2,
  };
}

function jsAdam(
  p: FloatArray,
  g: FloatArray,
  m: FloatArray,
  v: FloatArray,
  vmax: FloatArray | null,
  h: AdamKernelHyper,
): void {
  const { beta1, beta2, eps, weightDecay: wd, maximize } = h;
  const decoupled = h.decoupledWeightDecay;
  const { shrink, stepSize, bc2Sqrt, c1, c2 } = adamStepConstants(h);
  const n = p.length;
  // AdamW multiplies by (1 − lr·wd) even when wd is 0 (a no-op), so this only skips a no-op.
  if (decoupled && shrink !== 1) for (let i = 0; i < n; i++) p[i] = p[i]! * shrink;
  for (let i = 0; i < n; i++) {
    let gi = g[i]!;
    if (maximize) gi = -gi;
    if (!decoupled && wd !== 0) gi += wd * p[i]!;
    m[i] = m[i]! * beta1 + c1 * gi;
    v[i] = v[i]! * beta2 + c2 * gi * gi;
    let second = v[i]!;
    if (vmax !== null) {
      if (second > vmax[i]!) vmax[i] = second;
      second = vmax[i]!;
    }
    p[i] = p[i]! + -stepSize * (m[i]! / (Math.sqrt(second) / bc2Sqrt + eps));
  }
}

function jsRmsprop(
  p: FloatArray,
  g: FloatArray,
  sq: FloatArray,
  ga: FloatArray | null,
  buf: FloatArray | null,
  h: RmspropKernelHyper,
): void {
  const { lr, alpha, eps, weightDecay: wd, momentum, maximize } = h;
  const c = 1 - alpha;
  const n = p.length;
  for (let i = 0; i < n; i++) {
    let gi = g[i]!;
    if (maximize) gi = -gi;
    if (wd !== 0) gi += wd * p[i]!;
    sq[i] = sq[i]! * alpha + c * gi * gi;
    let avg: number;
    if (ga !== null) {
      ga[i] = ga[i]! * alpha + c * gi;
      const a = ga[i]!;
      avg = Math.sqrt(sq[i]! + -1 * a * a) + eps;
    } else {
      avg = Math.sqrt(sq[i]!) + eps;
    }
    if (buf !== null) {
      buf[i] = buf[i]! * momentum + gi / avg;
      p[i] = p[i]! + -lr * buf[i]!;
    } else {
      p[i] = p[i]! + -lr * (gi / avg);
    }
  }
}

/** The JS reference implementations (the spec for fused backend kernels). */
export const jsOptimizerKernels: OptimizerKernels = {
  sgd: jsSgd,
  adam: jsAdam,
  rmsprop: jsRmsprop,
};

/**
 * Run optimizer kernel `name` on the active backend, or on the JS reference when the backend has
 * no such kernel or declines.
 *
 * @example
 * const p = new Float64Array([1, 2]);
 * tg.optim.runOptimizerKernel("sgd", p, new Float64Array([0.5, -1]), null, {
 *   lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false,
 *   initBuffer: false,
 * });
 * console.log(Array.from(p)); // [0.95, 2.1]
 */
export function runOptimizerKernel<K extends keyof OptimizerKernels>(
  name: K,
  ...args: Parameters<OptimizerKernels[K]>
): void {
  const backend = getBackend();
  const fast = backend.optimizer?.[name];
  if (fast !== undefined && fast(...args) !== false) {
    noteKernel(backend.name, `optim.${name}`);
    return;
  }
  (jsOptimizerKernels[name] as (...a: Parameters<OptimizerKernels[K]>) => void)(...args);
  noteKernel("js", `optim.${name}`);
}
