/**
 * The wasm backend's fused optimizer updates (the loops of `src/optim/kernels.ts` in SIMD C):
 * parameters and state are copied in, updated and copied back in one call per tensor.
 */
import type { OptimizerKernels } from "../../optim/kernels.js";
import type { WasmRuntime } from "./runtime.js";

/** The exports these kernels run through `parallel`. */
export const OPTIM_TASKS: string[] = [];

/** The optimizer kernels the wasm backend implements. */
export type WasmOptimizerKernels = Partial<OptimizerKernels>;

/**
 * The optimizer-kernel table over a loaded runtime.
 *
 * @example
 * const wasm = tg.findBackend("wasm");
 * if (wasm?.available()) console.log(typeof wasm.optimizer); // "object"
 */
export function wasmOptimizer(_rt: WasmRuntime): WasmOptimizerKernels {
  return {};
}
