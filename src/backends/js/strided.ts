/**
 * Strided iteration for the reference kernels: walk an output shape in row-major order while
 * tracking the matching offset in each operand (operands may be permuted, sliced or broadcast
 * views). Axes are coalesced first, so a contiguous or simply-broadcast operand is walked in a few
 * long rows rather than element by element.
 */
import type { View } from "../../ops/primitives.js";

/** Merge adjacent axes that are contiguous for every operand; drop size-1 axes. */
export function coalesce(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (d === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[i]! * d)) {
      outShape[last]! *= d;
      strides.forEach((s, k) => (outStrides[k]![last] = s[i]!));
    } else {
      outShape.push(d);
      strides.forEach((s, k) => outStrides[k]!.push(s[i]!));
    }
  }
  return { shape: outShape, strides: outStrides };
}

/**
 * Call `row(offsets, outStart, n, innerStrides)` for each innermost row of `shape`, where
 * `offsets[k]` is operand k's storage offset for the row's first element and `innerStrides[k]`
 * its step along the row. `outStart` is the row's position in row-major order.
 */
export function forEachRow(
  shape: readonly number[],
  views: readonly View[],
  row: (offsets: number[], outStart: number, n: number, innerStrides: number[]) => void,
): void {
  const total = shape.reduce((a, b) => a * b, 1);
  if (total === 0) return;
  const c = coalesce(
    shape,
    views.map((v) => v.strides),
  );
  const nd = c.shape.length;
  const offsets = views.map((v) => v.offset);
  if (nd === 0) {
    row(
      offsets,
      0,
      1,
      views.map(() => 0),
    );
    return;
  }
  const inner = c.shape[nd - 1]!;
  const innerStrides = c.strides.map((s) => s[nd - 1]!);
  const counter = new Array<number>(nd - 1).fill(0);
  for (let outStart = 0; outStart < total; outStart += inner) {
    row(offsets, outStart, inner, innerStrides);
    for (let d = nd - 2; d >= 0; d--) {
      const size = c.shape[d]!;
      if (++counter[d]! < size) {
        for (let k = 0; k < offsets.length; k++) offsets[k]! += c.strides[k]![d]!;
        break;
      }
      counter[d] = 0;
      for (let k = 0; k < offsets.length; k++) offsets[k]! -= c.strides[k]![d]! * (size - 1);
    }
  }
}

/** Copy a strided view into `out` in row-major order (with dtype conversion by assignment). */
export function copyInto(
  out: { [i: number]: number },
  x: View,
  shape: readonly number[] = x.shape,
): void {
  const d = x.data;
  forEachRow(shape, [x], (offs, o, n, [s]) => {
    let p = offs[0]!;
    for (let i = 0; i < n; i++, p += s!) out[o + i] = d[p]!;
  });
}

/** A contiguous array holding the view's elements (the storage itself when already laid out so). */
export function contiguousData<T extends View["data"]>(x: View & { data: T }): T {
  const n = x.shape.reduce((a, b) => a * b, 1);
  let s = 1;
  let ok = true;
  for (let i = x.shape.length - 1; i >= 0; i--) {
    if (x.shape[i] !== 1 && x.strides[i] !== s) ok = false;
    s *= x.shape[i]!;
  }
  if (ok) {
    return (
      x.offset === 0 && x.data.length === n ? x.data : x.data.subarray(x.offset, x.offset + n)
    ) as T;
  }
  const out = new (x.data.constructor as new (n: number) => T)(n);
  copyInto(out, x);
  return out;
}
