/**
 * The wasm backend's fused kernels for composite ops (see `src/ops/fused.ts`): each returns the
 * outputs and a backward closure, or null to let the composition run.
 */
import type { FusedKernels } from "../../ops/fused.js";
import type { WasmRuntime } from "./runtime.js";

/** The exports these kernels run through `parallel`. */
export const FUSED_TASKS: string[] = [];

/**
 * The fused-kernel table over a loaded runtime.
 *
 * @example
 * const wasm = tg.findBackend("wasm");
 * if (wasm?.available()) console.log(typeof wasm.fused); // "object"
 */
export function wasmFused(_rt: WasmRuntime): Partial<FusedKernels> {
  return {};
}
