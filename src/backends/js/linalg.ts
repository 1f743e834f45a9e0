/** Reference batched matmul and 2-D convolution (im2col + GEMM) kernels. */
import type { Conv2dParams, Kernel, KernelTable, View } from "../../ops/primitives.js";
import { gemm } from "./gemm.js";
import { contiguousData } from "./strided.js";

/** Storage offsets of each matrix in a batch of strided matrices (leading axes = batch). */
function batchOffsets(x: View, batchShape: readonly number[]): number[] {
  let offs = [x.offset];
  batchShape.forEach((d, axis) => {
    const next: number[] = [];
    for (const o of offs) for (let i = 0; i < d; i++) next.push(o + i * x.strides[axis]!);
    offs = next;
  });
  return offs;
}

export const matmulKernel: Kernel<"matmul"> = (out, [a, b], _p, shape) => {
  const r = shape.length;
  const m = shape[r - 2]!;
  const n = shape[r - 1]!;
  const k = a!.shape[r - 1]!;
  const batch = shape.slice(0, -2);
  const ao = batchOffsets(a!, batch);
  const bo = batchOffsets(b!, batch);
  for (let i = 0; i < ao.length; i++) {
    gemm(
      m,
      n,
      k,
      { data: a!.data, offset: ao[i]!, rs: a!.strides[r - 2]!, cs: a!.strides[r - 1]! },
      { data: b!.data, offset: bo[i]!, rs: b!.strides[r - 2]!, cs: b!.strides[r - 1]! },
      out,
      i * m * n,
      n,
      false,
    );
  }
};

interface ConvGeom {
  n: number;
  c: number;
  h: number;
  w: number;
  o: number;
  kh: number;
  kw: number;
  oh: number;
  ow: number;
  g: number;
  cg: number;
  og: number;
  p: Conv2dParams;
}

function geom(
  x: readonly number[],
  w: readonly number[],
  y: readonly number[],
  p: Conv2dParams,
): ConvGeom {
  const [n, c, h, wd] = x as [number, number, number, number];
  const [o, cg, kh, kw] = w as [number, number, number, number];
  return { n, c, h, w: wd, o, kh, kw, oh: y[2]!, ow: y[3]!, g: p.groups, cg, og: o / p.groups, p };
}

/**
 * im2col for image `img` (contiguous [C, H, W] at `base`), channels [c0, c0+cg): writes
 * col[(ci*KH*KW + i*KW + j) * OH*OW + oy*OW + ox].
 */
function im2col(
  src: ArrayLike<number>,
  base: number,
  G: ConvGeom,
  c0: number,
  col: Float64Array,
): void {
  const { h, w, kh, kw, oh, ow, cg } = G;
  const [sh, sw] = G.p.stride;
  const [ph, pw] = G.p.padding;
  const [dh, dw] = G.p.dilation;
  let q = 0;
  for (let ci = 0; ci < cg; ci++) {
    const plane = base + (c0 + ci) * h * w;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * sh - ph + i * dh;
          if (iy < 0 || iy >= h) {
            for (let ox = 0; ox < ow; ox++) col[q++] = 0;
            continue;
          }
          const row = plane + iy * w;
          for (let ox = 0; ox < ow; ox++) {
            const ix = ox * sw - pw + j * dw;
            col[q++] = ix >= 0 && ix < w ? src[row + ix]! : 0;
          }
        }
      }
    }
  }
}

/** The transpose of im2col: accumulate col back into image `dst` ([C, H, W] at `base`). */
function col2im(
  col: Float64Array,
  G: ConvGeom,
  c0: number,
  dst: { [i: number]: number },
  base: number,
): void {
  const { h, w, kh, kw, oh, ow, cg } = G;
  const [sh, sw] = G.p.stride;
  const [ph, pw] = G.p.padding;
  const [dh, dw] = G.p.dilation;
  let q = 0;
  for (let ci = 0; ci < cg; ci++) {
    const plane = base + (c0 + ci) * h * w;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * sh - ph + i * dh;
          if (iy < 0 || iy >= h) {
            q += ow;
            continue;
          }
          const row = plane + iy * w;
          for (let ox = 0; ox < ow; ox++, q++) {
            const ix = ox * sw - pw + j * dw;
            if (ix >= 0 && ix < w) dst[row + ix] = dst[row + ix]! + col[q]!;
          }
        }
      }
    }
  }
}

const mat = (data: ArrayLike<number>, offset: number, rs: number, cs = 1) => ({
  data,
  offset,
  rs,
  cs,
});

export const conv2dKernel: Kernel<"conv2d"> = (out, [x, w], p, shape) => {
  const G = geom(x!.shape, w!.shape, shape, p);
  const xd = contiguousData(x!);
  const wd = contiguousData(w!);
  const K = G.cg * G.kh * G.kw;
  const P = G.oh * G.ow;
  const col = new Float64Array(K * P);
  for (let b = 0; b < G.n; b++) {
    for (let g = 0; g < G.g; g++) {
      im2col(xd, b * G.c * G.h * G.w, G, g * G.cg, col);
      // out[b, g*og:(g+1)*og] = W_g [og × K] · col [K × P]
      gemm(
        G.og,
        P,
        K,
        mat(wd, g * G.og * K, K),
        mat(col, 0, P),
        out,
        (b * G.o + g * G.og) * P,
        P,
        false,
      );
    }
  }
};

export const conv2dBackwardInputKernel: Kernel<"conv2dBackwardInput"> = (out, [dy, w], p) => {
  const G = geom(p.inputShape, w!.shape, dy!.shape, p);
  const dyd = contiguousData(dy!);
  const wd = contiguousData(w!);
  const K = G.cg * G.kh * G.kw;
  const P = G.oh * G.ow;
  const col = new Float64Array(K * P);
  for (let b = 0; b < G.n; b++) {
    for (let g = 0; g < G.g; g++) {
      // col [K × P] = W_gᵀ [K × og] · dy_g [og × P]
      gemm(
        K,
        P,
        G.og,
        mat(wd, g * G.og * K, 1, K),
        mat(dyd, (b * G.o + g * G.og) * P, P),
        col,
        0,
        P,
        false,
      );
      col2im(col, G, g * G.cg, out, b * G.c * G.h * G.w);
    }
  }
};

export const conv2dBackwardWeightKernel: Kernel<"conv2dBackwardWeight"> = (out, [x, dy], p) => {
  const G = geom(x!.shape, p.weightShape, dy!.shape, p);
  const xd = contiguousData(x!);
  const dyd = contiguousData(dy!);
  const K = G.cg * G.kh * G.kw;
  const P = G.oh * G.ow;
  const col = new Float64Array(K * P);
  for (let b = 0; b < G.n; b++) {
    for (let g = 0; g < G.g; g++) {
      im2col(xd, b * G.c * G.h * G.w, G, g * G.cg, col);
      // dW_g [og × K] += dy_g [og × P] · colᵀ [P × K]
      gemm(
        G.og,
        K,
        P,
        mat(dyd, (b * G.o + g * G.og) * P, P),
        mat(col, 0, 1, P),
        out,
        g * G.og * K,
        K,
        true,
      );
    }
  }
};

export const maxPool2dIndicesKernel: Kernel<"maxPool2dIndices"> = (out, [x], p, shape) => {
  const [n, c, h, w] = x!.shape as [number, number, number, number];
  const [, , oh, ow] = shape as [number, number, number, number];
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  const xd = contiguousData(x!);
  let q = 0;
  for (let plane = 0; plane < n * c; plane++) {
    const base = plane * h * w;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let best = -Infinity;
        let at = -1;
        for (let i = 0; i < kh; i++) {
          const iy = oy * sh - ph + i * dh;
          if (iy < 0 || iy >= h) continue;
          for (let j = 0; j < kw; j++) {
            const ix = ox * sw - pw + j * dw;
            if (ix < 0 || ix >= w) continue;
            const v = xd[base + iy * w + ix]!;
            // PyTorch's scan: the first tap, then each greater one or NaN (so the last NaN).
            if (v > best || at < 0 || v !== v) {
              best = v;
              at = iy * w + ix;
            }
          }
        }
        out[q++] = at;
      }
    }
  }
};

export const linalgKernels: Pick<
  KernelTable,
  "matmul" | "conv2d" | "conv2dBackwardInput" | "conv2dBackwardWeight" | "maxPool2dIndices"
> = {
  matmul: matmulKernel,
  conv2d: conv2dKernel,
  conv2dBackwardInput: conv2dBackwardInputKernel,
  conv2dBackwardWeight: conv2dBackwardWeightKernel,
  maxPool2dIndices: maxPool2dIndicesKernel,
};
