/**
 * The wasm backend: tsgrad's kernels compiled from C (wasm/src/) to WebAssembly with SIMD —
 * packed GEMM, convolutions, pooling, fused optimizer updates — for browsers and for Node
 * without the oneDNN addon. Tensors stay GC-managed typed arrays: every call copies its operands
 * into the module's memory and the result back (see runtime.ts). Threads share that memory
 * where SharedArrayBuffer exists (Node; cross-origin-isolated pages); elsewhere it runs on one.
 */
import type { FusedKernels } from "../../ops/fused.js";
import type { KernelTable } from "../../ops/primitives.js";
import type { OptimizerKernels } from "../../optim/kernels.js";
import { TsgradError } from "../../tensor/errors.js";
import type { Backend } from "../backend.js";
import { FUSED_TASKS, wasmFused } from "./fused.js";
import { KERNEL_TASKS, wasmKernels } from "./kernels.js";
import { OPTIM_TASKS, wasmOptimizer } from "./optim.js";
import { type WasmRuntime, wasmError, wasmRuntime, wasmSettled } from "./runtime.js";

/** The exports `parallel` runs on every thread (each splits its work by thread index). */
const PARALLEL_KERNELS = [...KERNEL_TASKS, ...FUSED_TASKS, ...OPTIM_TASKS];

let kernelTable: Partial<KernelTable> | null = null;
let fusedTable: Partial<FusedKernels> | null = null;
let optimizerTable: Partial<OptimizerKernels> | null = null;

function runtime(): WasmRuntime {
  const rt = wasmRuntime(PARALLEL_KERNELS);
  if (rt === null) {
    throw new TsgradError(
      "wasm",
      `backend not available: ${wasmError() || "still compiling: await tg.ready() first"}`,
    );
  }
  return rt;
}

/** The wasm backend as registered with `tg.registerBackend`. */
export interface WasmBackend extends Backend {
  unavailableReason(): string;
  numThreads(): number;
  setNumThreads(n: number): void;
  info(): Record<string, string | number | boolean>;
  /** Fused in-place optimizer updates over Float32Array parameters. */
  readonly optimizer: Partial<OptimizerKernels>;
  /** Resolves once the module is compiled (at once, except on a browser's main thread). */
  ready(): Promise<void>;
}

/**
 * The WebAssembly backend. Both entries register it; Node prefers native, browsers prefer it.
 *
 * @example
 * const wasm = tg.findBackend("wasm");
 * if (wasm?.available()) {
 *   const prev = tg.getBackend().name;
 *   tg.setBackend("wasm");
 *   console.log(tg.tensor([[1, 2]]).matmul(tg.tensor([[3], [4]])).item()); // 11
 *   tg.setBackend(prev);
 * }
 */
export const wasmBackend: WasmBackend = {
  name: "wasm",
  get kernels(): Partial<KernelTable> {
    const rt = wasmRuntime(PARALLEL_KERNELS);
    if (rt === null) return {};
    kernelTable ??= wasmKernels(rt);
    return kernelTable;
  },
  get fused(): Partial<FusedKernels> {
    const rt = wasmRuntime(PARALLEL_KERNELS);
    if (rt === null) return {};
    fusedTable ??= wasmFused(rt);
    return fusedTable;
  },
  get optimizer(): Partial<OptimizerKernels> {
    optimizerTable ??= wasmOptimizer(runtime());
    return optimizerTable;
  },
  available: () => wasmRuntime(PARALLEL_KERNELS) !== null,
  unavailableReason: () =>
    wasmRuntime(PARALLEL_KERNELS) !== null
      ? ""
      : wasmError() || "the WebAssembly module is still compiling: await tg.ready() first",
  numThreads: () => runtime().numThreads(),
  setNumThreads: (n: number) => runtime().setNumThreads(n),
  info: () => {
    const rt = runtime();
    return {
      backend: "wasm",
      variant: rt.variant,
      relaxedSimd: rt.variant.startsWith("relaxed"),
      threads: rt.numThreads(),
      threadsRunning: rt.activeThreads(),
      singleThreadReason: rt.singleThreadReason,
      memoryBytes: rt.memory.buffer.byteLength,
      ...(rt.workerError === "" ? {} : { workerError: rt.workerError }),
    };
  },
  ready: () => wasmSettled(PARALLEL_KERNELS),
};
