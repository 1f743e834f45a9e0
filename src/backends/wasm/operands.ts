/**
 * Moving operands between tensors (typed arrays in the JS heap) and the kernel module's memory:
 * a view's elements are copied as the one contiguous span they occupy, with one `set` (a
 * memcpy), and the kernel reads them through the view's own strides — a transposed or expanded
 * operand costs no more than a dense one.
 */
import type { View } from "../../ops/primitives.js";
import type { WasmRuntime } from "./runtime.js";

/** Where an uploaded float32 view landed: the byte address of its first element, its strides. */
export interface Operand {
  ptr: number;
  strides: readonly number[];
}

/** Copy the float32 elements `v` reaches into the arena. */
export function upload(rt: WasmRuntime, v: View): Operand {
  let lo = v.offset;
  let hi = v.offset;
  for (let i = 0; i < v.shape.length; i++) {
    const extent = (v.shape[i]! - 1) * v.strides[i]!;
    if (extent < 0) lo += extent;
    else hi += extent;
  }
  const at = rt.alloc(4 * (hi - lo + 1));
  rt.f32().set((v.data as Float32Array).subarray(lo, hi + 1), at >> 2);
  return { ptr: at + 4 * (v.offset - lo), strides: v.strides };
}

/** Copy `out.length` floats from byte address `ptr` into `out`. */
export function download(rt: WasmRuntime, ptr: number, out: Float32Array): void {
  out.set(rt.f32().subarray(ptr >> 2, (ptr >> 2) + out.length));
}

/** Whether the kernels can take these: float32 data, no empty operand. */
export function floatOperands(out: View["data"], inputs: readonly View[]): out is Float32Array {
  if (!(out instanceof Float32Array) || out.length === 0) return false;
  for (const v of inputs) {
    if (!(v.data instanceof Float32Array)) return false;
    for (const d of v.shape) if (d === 0) return false;
  }
  return true;
}
