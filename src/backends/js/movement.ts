/** Reference kernels for the movement primitives that copy: reshape (when no view fits), pad, concat. */
import type { Kernel, KernelTable, View } from "../../ops/primitives.js";
import { copyInto, forEachRow } from "./strided.js";

/** Copy view `x` into the box of contiguous array `out` (of shape `shape`) that starts at `starts`. */
function copyToBox(
  out: View["data"],
  shape: readonly number[],
  starts: readonly number[],
  x: View,
): void {
  const strides = new Array<number>(shape.length);
  let s = 1;
  let offset = 0;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    offset += starts[i]! * s;
    s *= shape[i]!;
  }
  const dst: View = { data: out, dtype: x.dtype, shape: x.shape, strides, offset };
  const src = x.data;
  forEachRow(x.shape, [dst, x], (offs, _o, n, [so, sx]) => {
    let po = offs[0]!;
    let px = offs[1]!;
    for (let i = 0; i < n; i++, po += so!, px += sx!) out[po] = src[px]!;
  });
}

export const reshapeKernel: Kernel<"reshape"> = (out, [x]) => copyInto(out, x!);

export const padKernel: Kernel<"pad"> = (out, [x], { pads, value }, shape) => {
  if (value !== 0) out.fill(value);
  copyToBox(
    out,
    shape,
    pads.map((p) => p[0]),
    x!,
  );
};

export const concatKernel: Kernel<"concat"> = (out, inputs, { axis }, shape) => {
  let at = 0;
  for (const x of inputs) {
    copyToBox(
      out,
      shape,
      shape.map((_, i) => (i === axis ? at : 0)),
      x,
    );
    at += x.shape[axis]!;
  }
};

/** Movement primitives that always run as views never reach a kernel. */
const viewOnly = () => {
  throw new Error("internal: a view primitive reached a kernel");
};

export const movementKernels: Pick<
  KernelTable,
  "reshape" | "permute" | "expand" | "slice" | "pad" | "concat"
> = {
  reshape: reshapeKernel,
  permute: viewOnly,
  expand: viewOnly,
  slice: viewOnly,
  pad: padKernel,
  concat: concatKernel,
};
