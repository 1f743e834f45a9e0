/**
 * The wasm backend's primitive kernels: each uploads its operands into the module's memory,
 * runs the C kernel on every thread, and copies the result out. A kernel declines (returns
 * false) what it does not handle — other dtypes, empty tensors — and the JS reference runs.
 */
import type { KernelTable, View } from "../../ops/primitives.js";
import { CONV_TASKS, wasmConvKernels } from "./conv.js";
import { download, floatOperands, upload } from "./operands.js";
import { ELTWISE_TASKS, wasmEltwiseKernels } from "./eltwise.js";
import type { WasmRuntime } from "./runtime.js";

/** The exports these kernels run through `parallel`. */
export const KERNEL_TASKS = [
  "matmul",
  // Convolutions and max pooling (conv.ts).
  ...CONV_TASKS,
  // Elementwise math, comparisons, casts and reductions (eltwise.ts).
  ...ELTWISE_TASKS,
];

/** Floats of GEMM scratch each thread needs (TSG_GEMM_WORK in wasm/src/common.h). */
export const GEMM_WORK = 256 * 256 + 96 * 256;

/** Element offsets of every batch of a [..., m, k] view, batch dims as in `batch`. */
function batchOffsets(v: View, batch: readonly number[], origin: number): Int32Array {
  let count = 1;
  for (const d of batch) count *= d;
  const offs = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    let rest = i;
    let o = origin;
    for (let axis = batch.length - 1; axis >= 0; axis--) {
      const d = batch[axis]!;
      o += (rest % d) * v.strides[axis]!;
      rest = Math.floor(rest / d);
    }
    offs[i] = o;
  }
  return offs;
}

/**
 * The kernel table over a loaded runtime.
 *
 * @example
 * const wasm = tg.findBackend("wasm");
 * if (wasm?.available()) console.log(wasm.kernels.matmul !== undefined); // true
 */
export function wasmKernels(rt: WasmRuntime): Partial<KernelTable> {
  return {
    // Elementwise math, comparisons, casts and reductions (eltwise.ts).
    ...wasmEltwiseKernels(rt),
    // Convolutions and max pooling (conv.ts).
    ...wasmConvKernels(rt),
    matmul: (out, [a, b], _p, shape) => {
      if (!floatOperands(out, [a!, b!])) return false;
      rt.reset();
      const r = shape.length;
      const M = shape[r - 2]!;
      const N = shape[r - 1]!;
      const K = a!.shape[r - 1]!;
      const batch = shape.slice(0, -2);
      const A = upload(rt, a!);
      const B = upload(rt, b!);
      // Batch offsets in elements from each operand's first element, interleaved (a, b).
      const ao = batchOffsets(a!, batch, 0);
      const bo = batchOffsets(b!, batch, 0);
      const offs = rt.alloc(8 * ao.length);
      const i32 = rt.i32();
      for (let i = 0; i < ao.length; i++) {
        i32[(offs >> 2) + 2 * i] = ao[i]!;
        i32[(offs >> 2) + 2 * i + 1] = bo[i]!;
      }
      const C = rt.alloc(4 * out.length);
      const work = rt.alloc(4 * GEMM_WORK * rt.numThreads());
      rt.parallel(
        "matmul",
        [
          ao.length,
          offs,
          M,
          N,
          K,
          A.ptr,
          A.strides[r - 2]!,
          A.strides[r - 1]!,
          B.ptr,
          B.strides[r - 2]!,
          B.strides[r - 1]!,
          C,
          work,
        ],
        ao.length * M * N * K,
      );
      download(rt, C, out);
      return true;
    },
  };
}
