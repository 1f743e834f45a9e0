/**
 * Reference kernels that walk whole lines along one axis: the running sum and the sorting
 * permutation. Each line is visited as a (start offset, stride) pair of the input view and of the
 * contiguous output.
 */
import type { Kernel, KernelTable, View } from "../../ops/primitives.js";
import { forEachRow } from "./strided.js";

/** Call `line(inStart, inStride, outStart, outStride, n)` for every line of `x` along `axis`. */
function forEachLine(
  x: View,
  axis: number,
  line: (p: number, ps: number, o: number, os: number, n: number) => void,
): void {
  const n = x.shape[axis]!;
  if (n === 0) return;
  const outer = x.shape.map((d, i) => (i === axis ? 1 : d));
  let os = 1;
  for (let i = x.shape.length - 1; i > axis; i--) os *= x.shape[i]!;
  // Output strides of the other axes, so each line's start in the contiguous output is known.
  const outStrides = new Array<number>(x.shape.length);
  let s = 1;
  for (let i = x.shape.length - 1; i >= 0; i--) {
    outStrides[i] = s;
    s *= x.shape[i]!;
  }
  const outView: View = {
    data: x.data,
    dtype: x.dtype,
    shape: outer,
    strides: outStrides,
    offset: 0,
  };
  const inView: View = { ...x, shape: outer };
  forEachRow(outer, [inView, outView], (offs, _o, m, [si, so]) => {
    for (let k = 0; k < m; k++) {
      line(offs[0]! + k * si!, x.strides[axis]!, offs[1]! + k * so!, os, n);
    }
  });
}

export const cumsumKernel: Kernel<"cumsum"> = (out, [x], { axis, reverse }) => {
  const d = x!.data;
  forEachLine(x!, axis, (p, ps, o, os, n) => {
    // Double-precision accumulator, rounded on each store (PyTorch's CPU cumsum does the same).
    let acc = 0;
    if (reverse) {
      for (let i = n - 1; i >= 0; i--) {
        acc += d[p + i * ps]!;
        out[o + i * os] = acc;
      }
    } else {
      for (let i = 0; i < n; i++) {
        acc += d[p + i * ps]!;
        out[o + i * os] = acc;
      }
    }
  });
};

export const argsortKernel: Kernel<"argsort"> = (out, [x], { axis, descending }) => {
  const d = x!.data;
  const sign = descending ? -1 : 1;
  forEachLine(x!, axis, (p, ps, o, os, n) => {
    const vals = new Float64Array(n);
    for (let i = 0; i < n; i++) vals[i] = d[p + i * ps]!;
    const idx = Array.from({ length: n }, (_, i) => i);
    // NaN is the largest value; equal values keep their order (stable, also when descending).
    idx.sort((a, b) => {
      const va = vals[a]!;
      const vb = vals[b]!;
      const na = va !== va;
      const nb = vb !== vb;
      const c = na || nb ? (na ? 1 : 0) - (nb ? 1 : 0) : va < vb ? -1 : va > vb ? 1 : 0;
      return c !== 0 ? sign * c : a - b;
    });
    for (let i = 0; i < n; i++) out[o + i * os] = idx[i]!;
  });
};

export const scanKernels: Pick<KernelTable, "cumsum" | "argsort"> = {
  cumsum: cumsumKernel,
  argsort: argsortKernel,
};
