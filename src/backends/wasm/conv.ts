/**
 * The wasm backend's convolution and max-pooling kernels (wasm/src/conv.c, wasm/src/pool.c).
 * Each call uploads its operands — x at its own strides (the C kernels read it through them),
 * the weight and the output gradient as dense arrays (gathered when they arrive as views) —
 * runs on every thread, and copies the result out.
 *
 * Zero padding follows PyTorch and the reference kernel: it is multiplied like any input, so a
 * ±inf or NaN weight (forward) or output gradient (weight gradient) gives 0·inf = NaN where it
 * meets the padding. The C kernels skip the padding, so `conv2d_pad_nan` scans that operand once
 * (about 1% of a padded 3×3 weight gradient) and writes those NaNs when it holds a non-finite
 * value. The input gradient never multiplies padding.
 */
import type { Conv2dParams, KernelTable, View } from "../../ops/primitives.js";
import { TsgradError } from "../../tensor/errors.js";
import { download, floatOperands, upload } from "./operands.js";
import type { WasmRuntime } from "./runtime.js";

/** The exports these kernels run through `parallel`. */
export const CONV_TASKS = [
  "conv2d_forward",
  "conv2d_backward_input",
  "conv2d_backward_weight",
  "maxpool2d_indices",
];

/** conv2d_work's kinds of call (CONV_FORWARD… in conv.c). */
const FORWARD = 0;
const BACKWARD_INPUT = 1;
const BACKWARD_WEIGHT = 2;

/** The module's single-threaded export `name` (a missing one is a build mismatch). */
function single(rt: WasmRuntime, name: string): (...args: number[]) => number {
  const f = rt.exports[name];
  if (f === undefined) throw new TsgradError("wasm backend", `the module has no export ${name}`);
  return (...args) => f(...args) ?? 0;
}

/** Whether `v`'s strides are row-major over its shape (axes of length 1 may have any stride). */
function rowMajor(v: View): boolean {
  let expected = 1;
  for (let i = v.shape.length - 1; i >= 0; i--) {
    if (v.shape[i] !== 1 && v.strides[i] !== expected) return false;
    expected *= v.shape[i]!;
  }
  return true;
}

/**
 * Copy a 4-D float32 view into the arena as a dense row-major array (its span as it is when it
 * is row-major already, else gathered by the `dense4` export); returns the byte address.
 */
function uploadDense(rt: WasmRuntime, v: View): number {
  const src = upload(rt, v);
  if (rowMajor(v)) return src.ptr;
  const [s0, s1, s2, s3] = v.shape as [number, number, number, number];
  const dst = rt.alloc(4 * s0 * s1 * s2 * s3);
  single(rt, "dense4")(src.ptr, s0, s1, s2, s3, ...src.strides, dst);
  return dst;
}

/**
 * Write a convolution's geometry (conv.c's ConvGeom: the x, weight and output shapes, the
 * window, x's element strides) into the arena; returns its byte address.
 */
function convGeometry(
  rt: WasmRuntime,
  x: readonly number[],
  w: readonly number[],
  y: readonly number[],
  p: Conv2dParams,
  xStrides: readonly number[],
): number {
  const fields = [
    ...x,
    w[0]!,
    w[2]!,
    w[3]!,
    y[2]!,
    y[3]!,
    p.groups,
    ...p.stride,
    ...p.padding,
    ...p.dilation,
    ...xStrides,
  ];
  const at = rt.alloc(4 * fields.length);
  rt.i32().set(fields, at >> 2);
  return at;
}

/** Multiply-adds of a convolution (the work `parallel` weighs), from the weight and output shapes. */
function convWork(w: readonly number[], y: readonly number[]): number {
  return y[0]! * y[1]! * y[2]! * y[3]! * w[1]! * w[2]! * w[3]!;
}

/**
 * Scratch for a call of `kind`: conv2d_work's floats for every thread that may take part. Sized
 * by the configured thread count, not the threads running now: a worker that becomes ready
 * between this and the call joins it, and must find its share.
 */
function convScratch(rt: WasmRuntime, geometry: number, kind: number): number {
  return rt.alloc(4 * single(rt, "conv2d_work")(geometry, kind) * rt.numThreads());
}

/**
 * The convolution and max-pooling kernels over a loaded runtime (part of the wasm backend's
 * kernel table).
 *
 * @example
 * const wasm = tg.findBackend("wasm");
 * if (wasm?.available()) console.log(wasm.kernels.conv2d !== undefined); // true
 */
export function wasmConvKernels(
  rt: WasmRuntime,
): Pick<
  KernelTable,
  "conv2d" | "conv2dBackwardInput" | "conv2dBackwardWeight" | "maxPool2dIndices"
> {
  return {
    conv2d: (out, [x, w], p, shape) => {
      if (!floatOperands(out, [x!, w!])) return false;
      rt.reset();
      const X = upload(rt, x!);
      const W = uploadDense(rt, w!);
      const g = convGeometry(rt, x!.shape, w!.shape, shape, p, X.strides);
      const Y = rt.alloc(4 * out.length);
      const work = convScratch(rt, g, FORWARD);
      rt.parallel("conv2d_forward", [g, X.ptr, W, Y, work], convWork(w!.shape, shape));
      single(rt, "conv2d_pad_nan")(g, FORWARD, W, Y);
      download(rt, Y, out);
      return true;
    },

    conv2dBackwardInput: (out, [dy, w], p) => {
      if (!floatOperands(out, [dy!, w!])) return false;
      rt.reset();
      const DY = uploadDense(rt, dy!);
      let W = uploadDense(rt, w!);
      const g = convGeometry(rt, p.inputShape, w!.shape, dy!.shape, p, [0, 0, 0, 0]);
      if (single(rt, "conv2d_uses_gemm")(g) !== 0) {
        // The GEMM formulation multiplies by Wᵀ: rearrange the weight once, not per image.
        const wt = rt.alloc(4 * w!.shape.reduce((a, d) => a * d, 1));
        single(rt, "conv2d_transpose_weight")(g, W, wt);
        W = wt;
      }
      const DX = rt.alloc(4 * out.length);
      const work = convScratch(rt, g, BACKWARD_INPUT);
      rt.parallel("conv2d_backward_input", [g, DY, W, DX, work], convWork(w!.shape, dy!.shape));
      download(rt, DX, out);
      return true;
    },

    conv2dBackwardWeight: (out, [x, dy], p) => {
      if (!floatOperands(out, [x!, dy!])) return false;
      rt.reset();
      const X = upload(rt, x!);
      const DY = uploadDense(rt, dy!);
      const g = convGeometry(rt, x!.shape, p.weightShape, dy!.shape, p, X.strides);
      const DW = rt.alloc(4 * out.length);
      const work = convScratch(rt, g, BACKWARD_WEIGHT);
      rt.parallel(
        "conv2d_backward_weight",
        [g, X.ptr, DY, DW, work],
        convWork(p.weightShape, dy!.shape),
      );
      single(rt, "conv2d_pad_nan")(g, BACKWARD_WEIGHT, DY, DW);
      download(rt, DW, out);
      return true;
    },

    maxPool2dIndices: (out, [x], p, shape) => {
      const float = x!.data instanceof Float32Array && !x!.shape.includes(0);
      if (!(out instanceof Int32Array) || out.length === 0 || !float) return false;
      rt.reset();
      const X = upload(rt, x!);
      // pool.c's PoolGeom: x's shape, the output's height and width, the window, x's strides.
      const fields = [
        ...x!.shape,
        shape[2]!,
        shape[3]!,
        ...p.kernel,
        ...p.stride,
        ...p.padding,
        ...p.dilation,
        ...X.strides,
      ];
      const g = rt.alloc(4 * fields.length);
      rt.i32().set(fields, g >> 2);
      const I = rt.alloc(4 * out.length);
      rt.parallel("maxpool2d_indices", [g, X.ptr, I], out.length * p.kernel[0] * p.kernel[1]);
      out.set(rt.i32().subarray(I >> 2, (I >> 2) + out.length));
      return true;
    },
  };
}
