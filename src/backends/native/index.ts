/**
 * The native backend: kernels in a Node-API addon on oneDNN (matmul, convolutions, eltwise,
 * binary, reductions, softmax, layer norm, LRN, GELU, LSTM) and OpenMP loops, computing in place
 * on the tensors' own typed arrays. The addon is optional at install (built from source when
 * oneDNN is present) and explicit at run time: `available()` loads it lazily and
 * `unavailableReason()` says what is missing and how to get it. Kernels it does not implement or
 * declines (float64, int inputs to float kernels, empty tensors) run on the JS reference, visibly
 * in `tg.kernelStats()`.
 *
 * Threads: TSGRAD_NUM_THREADS (default: all cores) or `setNumThreads(n)`. OMP_WAIT_POLICY is set
 * to PASSIVE before the addon loads unless the user set it or GOMP_SPINCOUNT (see loader.ts).
 */
import type { FusedKernels } from "../../ops/fused.js";
import type { KernelTable } from "../../ops/primitives.js";
import { TsgradError } from "../../tensor/errors.js";
import type { BulkUniformKernel } from "../../tensor/random.js";
import type { Backend } from "../backend.js";
import { nativeFused } from "./fused.js";
import { nativeKernels } from "./kernels.js";
import { type NativeAddon, addonError, loadAddon } from "./loader.js";
import { type NativeOptimizerKernels, nativeOptimizer } from "./optim.js";

let kernelTable: Partial<KernelTable> | null = null;
let fusedTable: Partial<FusedKernels> | null = null;
let optimizerTable: NativeOptimizerKernels | null = null;

function addon(): NativeAddon {
  const a = loadAddon();
  if (a === null) throw new TsgradError("native", `backend not available: ${addonError()}`);
  return a;
}

/**
 * The addon's xoshiro128** fill for long float32 uniform draws and dropout masks (the same
 * numbers as the JS loop), or undefined without the addon. The Node entry registers it with
 * `setBulkUniformKernel`.
 *
 * @example
 * const a = new Float32Array(8192); // long enough for the addon's loop, when it is loaded
 * new tg.Generator(5).fillUniform(a);
 * const g = new tg.Generator(5);
 * console.log(a.every((v) => v === Math.fround(g.uniform()))); // true
 */
export function nativeBulkUniform(): BulkUniformKernel | undefined {
  const a = loadAddon();
  return a === null ? undefined : (out, meta) => a.uniformFill(out, meta);
}

/** The native backend as registered with `tg.registerBackend`. */
export interface NativeBackend extends Backend {
  unavailableReason(): string;
  numThreads(): number;
  setNumThreads(n: number): void;
  info(): Record<string, string | number | boolean>;
  /** Fused in-place optimizer updates (Adam/AdamW, SGD) over Float32Array parameters. */
  readonly optimizer: NativeOptimizerKernels;
  /** Drop cached oneDNN primitives (they are rebuilt on demand). */
  clearCaches(): void;
}

/**
 * The native (oneDNN) backend. The Node entry registers it; select it when it is available.
 *
 * @example
 * const native = tg.findBackend("native");
 * if (native?.available()) {
 *   const prev = tg.getBackend().name;
 *   tg.setBackend("native");
 *   console.log(tg.tensor([[1, 2]]).matmul(tg.tensor([[3], [4]])).item()); // 11
 *   tg.setBackend(prev);
 * }
 * console.log(native === undefined || native.available() || native.unavailableReason!() !== ""); // true
 */
/** The most threads `setNumThreads` accepts. */
const MAX_THREADS = 1024;

export const nativeBackend: NativeBackend = {
  name: "native",
  get kernels(): Partial<KernelTable> {
    kernelTable ??= loadAddon() ? nativeKernels(addon()) : {};
    return kernelTable;
  },
  get fused(): Partial<FusedKernels> {
    fusedTable ??= loadAddon() ? nativeFused(addon()) : {};
    return fusedTable;
  },
  get optimizer(): NativeOptimizerKernels {
    optimizerTable ??= nativeOptimizer(addon());
    return optimizerTable;
  },
  available: () => loadAddon() !== null,
  unavailableReason: () => addonError(),
  numThreads: () => addon().numThreads(),
  setNumThreads(n: number): void {
    // The addon takes an int32 (2^32 + 2 wrapped to 2), and OpenMP starts that many threads.
    if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
      throw new TsgradError(
        "setNumThreads",
        `expected an integer in [1, ${MAX_THREADS}], got ${n}`,
      );
    }
    addon().setNumThreads(n);
  },
  clearCaches: () => addon().clearCaches(),
  info: () => ({ backend: "native", ...addon().info() }),
};
