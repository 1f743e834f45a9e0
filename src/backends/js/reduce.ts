/**
 * Reference reductions. The input is viewed with the kept axes first and the reduced axes last
 * (a stride permutation, no copy); each output element then reduces one strided block.
 * Accumulation is in double precision.
 */
import type { Kernel, KernelTable, View } from "../../ops/primitives.js";
import { forEachRow } from "./strided.js";

/** Split x's axes into kept (outer, in order) and reduced (inner); call `block` per output element. */
function reduceBlocks(
  x: View,
  axes: readonly number[],
  block: (o: number, base: number, rshape: number[], rstrides: number[]) => void,
): void {
  const keptShape: number[] = [];
  const keptStrides: number[] = [];
  const rshape: number[] = [];
  const rstrides: number[] = [];
  x.shape.forEach((d, i) => {
    if (axes.includes(i)) {
      rshape.push(d);
      rstrides.push(x.strides[i]!);
    } else {
      keptShape.push(d);
      keptStrides.push(x.strides[i]!);
    }
  });
  const outer: View = {
    data: x.data,
    dtype: x.dtype,
    shape: keptShape,
    strides: keptStrides,
    offset: x.offset,
  };
  if (keptShape.length === 0) {
    block(0, x.offset, rshape, rstrides);
    return;
  }
  forEachRow(keptShape, [outer], (offs, o, n, [s]) => {
    for (let i = 0; i < n; i++) block(o + i, offs[0]! + i * s!, rshape, rstrides);
  });
}

/** Visit every offset of a reduced block as rows: `row(start, n, stride)`. */
function blockRows(
  data: View["data"],
  base: number,
  rshape: number[],
  rstrides: number[],
  row: (start: number, n: number, stride: number) => void,
): void {
  const v: View = { data, dtype: "float64", shape: rshape, strides: rstrides, offset: base };
  forEachRow(rshape, [v], (offs, _o, n, [s]) => row(offs[0]!, n, s!));
}

export const sumKernel: Kernel<"sum"> = (out, [x], { axes }) => {
  const d = x!.data;
  if (out.length === 0) return;
  reduceBlocks(x!, axes, (o, base, rshape, rstrides) => {
    let acc = 0;
    blockRows(d, base, rshape, rstrides, (p, n, s) => {
      for (let i = 0; i < n; i++, p += s) acc += d[p]!;
    });
    out[o] = acc;
  });
};

export const maxKernel: Kernel<"max"> = (out, [x], { axes }) => {
  const d = x!.data;
  if (out.length === 0) return;
  reduceBlocks(x!, axes, (o, base, rshape, rstrides) => {
    let best = -Infinity;
    blockRows(d, base, rshape, rstrides, (p, n, s) => {
      for (let i = 0; i < n; i++, p += s) {
        const v = d[p]!;
        // NaN propagates, as in PyTorch.
        if (v > best || v !== v) best = v;
      }
    });
    out[o] = best;
  });
};

export const argmaxKernel: Kernel<"argmax"> = (out, [x], { axis }) => {
  const d = x!.data;
  const n = x!.shape[axis]!;
  const s = x!.strides[axis]!;
  if (out.length === 0) return;
  reduceBlocks(x!, [axis], (o, base) => {
    let best = d[base]!;
    let at = 0;
    for (let i = 1, p = base + s; i < n && best === best; i++, p += s) {
      const v = d[p]!;
      // The first maximum wins; a NaN counts as the maximum (PyTorch semantics).
      if (v > best || v !== v) {
        best = v;
        at = i;
      }
    }
    out[o] = at;
  });
};

export const reduceKernels: Pick<KernelTable, "sum" | "max" | "argmax"> = {
  sum: sumKernel,
  max: maxKernel,
  argmax: argmaxKernel,
};
