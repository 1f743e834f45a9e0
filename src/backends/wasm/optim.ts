/**
 * The wasm backend's fused optimizer updates (the loops of `src/optim/kernels.ts` in SIMD C,
 * wasm/src/optim.c): parameters and state are copied in, updated and copied back in one call per
 * tensor. The C loops follow the reference's operations in double precision, so the results are
 * the reference's bit for bit; they are several times faster than the JS loops even with the
 * copies. Float64 parameters are declined (the JS loop runs).
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
import type { WasmRuntime } from "./runtime.js";

/** The exports these kernels run through `parallel`. */
export const OPTIM_TASKS: string[] = ["optim_sgd", "optim_adam", "optim_rmsprop"];

/**
 * Work units per element for `parallel`: an update reads and writes several buffers and takes a
 * square root and a division in double precision, so threads pay from about 2^17 elements (the
 * native backend's measured threshold for the same loops).
 */
const UNITS_PER_ELEMENT = 16;

// Flag bits of wasm/src/optim.c.
const MAXIMIZE = 1;
const NESTEROV = 2;
const INIT = 4;
const DECOUPLED = 8;

/**
 * The optimizer-kernel table over a loaded runtime.
 *
 * @example
 * const wasm = tg.findBackend("wasm");
 * if (wasm?.available()) {
 *   const prev = tg.getBackend().name;
 *   tg.setBackend("wasm");
 *   const p = new Float32Array([1, 2]);
 *   tg.optim.runOptimizerKernel("sgd", p, new Float32Array([0.5, -1]), null, {
 *     lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false,
 *     initBuffer: false,
 *   });
 *   console.log(Array.from(p)); // [0.949999988079071, 2.0999999046325684]
 *   tg.setBackend(prev);
 * }
 */
export function wasmOptimizer(rt: WasmRuntime): Partial<OptimizerKernels> {
  /**
   * Whether every array is float32 (else the kernel declines); throws naming the op when one of
   * the first `required` arrays is missing (the C loop would update memory at address 0) or a
   * buffer's length differs from the parameter's (it would read or write past the buffer: every
   * array is copied in as n elements).
   */
  const f32 = (
    op: string,
    names: string[],
    required: number,
    xs: (FloatArray | null)[],
  ): boolean => {
    xs.forEach((x, i) => {
      if (i < required && (x === null || typeof x !== "object")) {
        throw new TsgradError(`optim.${op}`, `${names[i]} is missing (got ${String(x)})`);
      }
    });
    const n = xs[0]!.length;
    xs.forEach((x, i) => {
      if (x !== null && x.length !== n) {
        throw new TsgradError(
          `optim.${op}`,
          `${names[i]} has ${x.length} elements, the parameter ${n}`,
        );
      }
    });
    return n > 0 && xs.every((x) => x === null || x instanceof Float32Array);
  };

  /** Copy the arrays in (null stays address 0), run `name`, copy the updated ones back. */
  const update = (
    name: string,
    arrays: (FloatArray | null)[],
    written: boolean[],
    hyper: number[],
  ): boolean => {
    rt.reset();
    const n = arrays[0]!.length;
    const ptrs = arrays.map((a) => {
      if (a === null) return 0;
      const at = rt.alloc(4 * n);
      rt.f32().set(a, at >> 2);
      return at;
    });
    rt.parallel(name, [...ptrs, n, ...hyper], n * UNITS_PER_ELEMENT);
    const f32 = rt.f32();
    arrays.forEach((a, i) => {
      if (a !== null && written[i]) a.set(f32.subarray(ptrs[i]! >> 2, (ptrs[i]! >> 2) + n));
    });
    return true;
  };

  return {
    sgd(p: FloatArray, g: FloatArray, buf: FloatArray | null, h: SgdKernelHyper) {
      if (!f32("sgd", ["param", "grad", "momentum buffer"], 2, [p, g, buf])) return false;
      const flags =
        (h.maximize ? MAXIMIZE : 0) | (h.nesterov ? NESTEROV : 0) | (h.initBuffer ? INIT : 0);
      return update(
        "optim_sgd",
        [p, g, buf],
        [true, false, true],
        [h.lr, h.momentum, 1 - h.dampening, h.weightDecay, flags],
      );
    },
    adam(
      p: FloatArray,
      g: FloatArray,
      m: FloatArray,
      v: FloatArray,
      vmax: FloatArray | null,
      h: AdamKernelHyper,
    ) {
      const names = ["param", "grad", "expAvg", "expAvgSq", "maxExpAvgSq"];
      if (!f32("adam", names, 4, [p, g, m, v, vmax])) return false;
      const flags = (h.maximize ? MAXIMIZE : 0) | (h.decoupledWeightDecay ? DECOUPLED : 0);
      const c = adamStepConstants(h);
      return update(
        "optim_adam",
        [p, g, m, v, vmax],
        [true, false, true, true, true],
        [
          c.shrink,
          c.stepSize,
          c.bc2Sqrt,
          h.beta1,
          h.beta2,
          c.c1,
          c.c2,
          h.eps,
          h.weightDecay,
          flags,
        ],
      );
    },
    rmsprop(
      p: FloatArray,
      g: FloatArray,
      sq: FloatArray,
      ga: FloatArray | null,
      buf: FloatArray | null,
      h: RmspropKernelHyper,
    ) {
      const names = ["param", "grad", "squareAvg", "gradAvg", "momentum buffer"];
      if (!f32("rmsprop", names, 3, [p, g, sq, ga, buf])) return false;
      return update(
        "optim_rmsprop",
        [p, g, sq, ga, buf],
        [true, false, true, true, true],
        [h.lr, h.alpha, 1 - h.alpha, h.eps, h.weightDecay, h.momentum, h.maximize ? MAXIMIZE : 0],
      );
    },
  };
}
