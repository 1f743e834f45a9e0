/** Reference gather / scatter-add kernels. Index values are checked before anything is read or written. */
import type { Kernel, KernelTable, View } from "../../ops/primitives.js";
import { TsgradError } from "../../tensor/errors.js";
import { contiguousData, forEachRow } from "./strided.js";

/** Throws naming `op` if any index is outside [0, size). */
export function checkIndices(op: string, idx: ArrayLike<number>, size: number, axis: number): void {
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i]!;
    if (v < 0 || v >= size) {
      throw new TsgradError(op, `index ${v} is out of range for axis ${axis} of size ${size}`);
    }
  }
}

/**
 * Visit each index element with the matching offset into `x` (ignoring x's axis `axis`, which the
 * index value selects): f(position in row-major index order, index value, offset into x).
 */
function walk(
  x: View,
  idx: View,
  axis: number,
  f: (q: number, v: number, base: number) => void,
): void {
  // A view of x with the index's shape, where the gathered axis has stride 0 (added per element).
  const xs: View = {
    data: x.data,
    dtype: x.dtype,
    shape: idx.shape,
    strides: x.strides.map((s, i) => (i === axis ? 0 : s)),
    offset: x.offset,
  };
  const id = idx.data;
  const s = x.strides[axis]!;
  forEachRow(idx.shape, [idx, xs], (offs, o, n, [si, sx]) => {
    let pi = offs[0]!;
    let px = offs[1]!;
    for (let i = 0; i < n; i++, pi += si!, px += sx!) {
      const v = id[pi]!;
      f(o + i, v, px + v * s);
    }
  });
}

function checkView(op: string, idx: View, size: number, axis: number): void {
  checkIndices(op, contiguousData(idx), size, axis);
}

export const gatherKernel: Kernel<"gather"> = (out, [x, idx], { axis }) => {
  checkView("gather", idx!, x!.shape[axis]!, axis);
  const xd = x!.data;
  walk(x!, idx!, axis, (q, _v, p) => (out[q] = xd[p]!));
};

export const scatterAddKernel: Kernel<"scatterAdd"> = (out, [src, idx], { axis, shape }) => {
  checkView("scatterAdd", idx!, shape[axis]!, axis);
  const sd = contiguousData(src!);
  // `out` is a fresh contiguous zeros array of `shape`.
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  const target: View = { data: out, dtype: src!.dtype, shape, strides, offset: 0 };
  walk(target, idx!, axis, (q, _v, p) => (out[p] = out[p]! + sd[q]!));
};

export const indexingKernels: Pick<KernelTable, "gather" | "scatterAdd"> = {
  gather: gatherKernel,
  scatterAdd: scatterAddKernel,
};
