/**
 * The native backend's fused optimizer updates (`backend.optimizer`, used by `tg.optim` through
 * `runOptimizerKernel`): one OpenMP pass per parameter for SGD, Adam/AdamW and RMSprop, in place
 * on float32 arrays. Float64 parameters are declined (the JS reference loop runs). The
 * step-dependent constants are computed here exactly as the JS reference computes them, so the
 * two agree to round-off.
 */
import type {
  AdamKernelHyper,
  FloatArray,
  OptimizerKernels,
  RmspropKernelHyper,
  SgdKernelHyper,
} from "../../optim/kernels.js";
import { adamStepConstants } from "../../optim/kernels.js";
import { TsgradError } from "../../tensor/errors.js";
import type { NativeAddon } from "./loader.js";

export type NativeOptimizerKernels = OptimizerKernels;

type Call = (...args: unknown[]) => boolean;

/**
 * The optimizer kernels on top of a loaded addon (the native backend's `optimizer` field).
 *
 * @example
 * if (tg.findBackend("native")?.available()) {
 *   const prev = tg.getBackend().name;
 *   tg.setBackend("native");
 *   const p = new Float32Array([1, 2]);
 *   tg.optim.runOptimizerKernel("sgd", p, new Float32Array([0.5, -1]), null, {
 *     lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false,
 *     initBuffer: false,
 *   });
 *   console.log(Array.from(p)); // [0.95, 2.1]
 *   tg.setBackend(prev);
 * }
 */
export function nativeOptimizer(addon: NativeAddon): NativeOptimizerKernels {
  const h = new Float64Array(16);
  const call = (name: string, ...args: unknown[]) => (addon[name] as Call)(...args);
  /** All float32 (else decline); every buffer as long as the parameter (else throw). */
  const f32 = (op: string, names: string[], ...xs: (FloatArray | null)[]) => {
    const n = xs[0]!.length;
    xs.forEach((x, i) => {
      if (x !== null && x.length !== n) {
        throw new TsgradError(
          `optim.${op}`,
          `${names[i]} has ${x.length} elements, the parameter ${n}`,
        );
      }
    });
    return xs.every((x) => x === null || x instanceof Float32Array);
  };
  return {
    sgd(p: FloatArray, g: FloatArray, buf: FloatArray | null, hy: SgdKernelHyper) {
      if (!f32("sgd", ["param", "grad", "momentum buffer"], p, g, buf)) return false;
      h.set([
        hy.lr,
        hy.momentum,
        1 - hy.dampening,
        hy.weightDecay,
        +hy.nesterov,
        +hy.maximize,
        +hy.initBuffer,
      ]);
      return call("sgd", p, g, buf, h);
    },
    adam(
      p: FloatArray,
      g: FloatArray,
      m: FloatArray,
      v: FloatArray,
      vmax: FloatArray | null,
      hy: AdamKernelHyper,
    ) {
      if (!f32("adam", ["param", "grad", "expAvg", "expAvgSq", "maxExpAvgSq"], p, g, m, v, vmax)) {
        return false;
      }
      const c = adamStepConstants(hy);
      h.set([
        c.shrink,
        c.stepSize,
        c.bc2Sqrt,
        hy.beta1,
        hy.beta2,
        c.c1,
        c.c2,
        hy.eps,
        hy.weightDecay,
        +hy.decoupledWeightDecay,
        +hy.maximize,
      ]);
      return call("adam", p, g, m, v, vmax, h);
    },
    rmsprop(
      p: FloatArray,
      g: FloatArray,
      sq: FloatArray,
      ga: FloatArray | null,
      buf: FloatArray | null,
      hy: RmspropKernelHyper,
    ) {
      if (
        !f32(
          "rmsprop",
          ["param", "grad", "squareAvg", "gradAvg", "momentum buffer"],
          p,
          g,
          sq,
          ga,
          buf,
        )
      ) {
        return false;
      }
      h.set([hy.lr, hy.alpha, 1 - hy.alpha, hy.eps, hy.weightDecay, hy.momentum, +hy.maximize]);
      return call("rmsprop", p, g, sq, ga, buf, h);
    },
  };
}
