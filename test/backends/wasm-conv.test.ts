/**
 * The wasm backend's convolution and max-pooling kernels (wasm/src/conv.c, pool.c) beyond what
 * the conformance table covers: their scratch stays bounded on a large image (the column buffer
 * works through blocks of output columns), every thread count gives the same bits, and the
 * direct formulation (fewer than four output channels per group: depthwise, average pooling)
 * and grouped, strided, dilated and non-contiguous operands match the JS reference, gradients
 * included.
 */
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import type { Conv2dParams } from "../../src/ops/primitives.js";
import { PARALLEL_MIN_WORK } from "../../src/backends/wasm/runtime.js";
import { expectClose } from "../helpers/allclose.js";

const wasm = tg.wasmBackend;
const MiB = 1024 * 1024;
type Shape4 = [number, number, number, number];

/** Run `f` with backend `name` active, restoring the previous one. */
function on<T>(name: string, f: () => T): T {
  const prev = tg.getBackend().name;
  tg.setBackend(name);
  try {
    return f();
  } finally {
    tg.setBackend(prev);
  }
}

/** Run `f` on the wasm backend with `n` threads taking part, restoring the thread count. */
async function withThreads<T>(n: number, f: () => T): Promise<T> {
  const before = wasm.numThreads();
  // Workers start in the background: give them a moment to be ready.
  for (let t = 0; t < 100 && (wasm.info().threadsRunning as number) < n; t++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  wasm.setNumThreads(n);
  try {
    expect(wasm.info().threadsRunning).toBe(n);
    return on("wasm", f);
  } finally {
    wasm.setNumThreads(before);
  }
}

const conv = (stride: number, padding: number, dilation: number, groups: number) => ({
  stride: [stride, stride] as [number, number],
  padding: [padding, padding] as [number, number],
  dilation: [dilation, dilation] as [number, number],
  groups,
});

interface ConvCase {
  name: string;
  x: Shape4;
  w: Shape4;
  p: Conv2dParams;
}

/** The three convolution primitives on x, w and a fixed cotangent; the backend that ran each. */
function convAll(c: ConvCase, seed = 1) {
  tg.manualSeed(seed);
  const x = tg.randn(c.x);
  const w = tg.randn(c.w);
  const tracking = tg.trackKernels(true);
  tg.kernelStats(true);
  const y = tg.run("conv2d", [x, w], c.p);
  const dy = tg.randn([...y.shape]);
  const dx = tg.run("conv2dBackwardInput", [dy, w], { ...c.p, inputShape: c.x });
  const dw = tg.run("conv2dBackwardWeight", [x, dy], { ...c.p, weightShape: c.w });
  const ran = tg.kernelStats(true);
  tg.trackKernels(tracking);
  return { y: y.dataSync(), dx: dx.dataSync(), dw: dw.dataSync(), ran };
}

/** Multiply-adds of one convolution primitive (all three do the same number). */
function macs(c: ConvCase): number {
  const out = (size: number, k: number, axis: 0 | 1) =>
    Math.floor(
      (size + 2 * c.p.padding[axis] - c.p.dilation[axis] * (k - 1) - 1) / c.p.stride[axis],
    ) + 1;
  return (
    c.x[0] * c.w[0] * out(c.x[2], c.w[2], 0) * out(c.x[3], c.w[3], 1) * c.w[1] * c.w[2] * c.w[3]
  );
}

/** The first index where `a` and `b` differ in bits (NaN equals NaN), or -1. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

describe("wasm convolutions: bounded scratch", () => {
  // First in this file: the module's memory only grows, so this sees it as the call left it.
  it("keeps the module's memory near the operands' size on a large image", async () => {
    // im2col of this image would be K·P = 576 · 128² floats (38 MiB per thread); the column
    // buffer takes blocks of output columns of at most 2 MiB instead.
    const c: ConvCase = {
      name: "large",
      x: [1, 64, 128, 128],
      w: [64, 64, 3, 3],
      p: conv(1, 1, 1, 1),
    };
    const r = await withThreads(2, () => convAll(c));
    expect(r.ran.every((k) => k.backend === "wasm")).toBe(true);
    const operands = 4 * (2 * 64 * 128 * 128 + 2 * 64 * 64 * 9);
    // The fixed part (control block, worker stacks: ~4 MiB) + two threads' scratch (~5 MiB).
    expect(Number(wasm.info().memoryBytes)).toBeLessThan(operands + 24 * MiB);
    // And it computed the convolution: the top-left 6×6 outputs see only x[..., :8, :8].
    const ref = on("js", () => {
      tg.manualSeed(1);
      const x = tg.randn(c.x).narrow(2, 0, 8).narrow(3, 0, 8);
      return tg.F.conv2d(x, tg.randn(c.w), null, { padding: 1 }).narrow(2, 0, 6).narrow(3, 0, 6);
    });
    const got = tg
      .tensor(r.y, { shape: [1, 64, 128, 128] })
      .narrow(2, 0, 6)
      .narrow(3, 0, 6);
    expectClose(got, ref, { atol: 1e-3, rtol: 1e-3, label: "large image corner" });
  });

  it("matches the reference where the column buffer works in several blocks", () => {
    // K·P = 72 · 100² > 2^19: two column blocks per image (and per weight-gradient pass).
    const c: ConvCase = {
      name: "blocks",
      x: [3, 8, 100, 100],
      w: [8, 8, 3, 3],
      p: conv(1, 1, 1, 1),
    };
    const mine = on("wasm", () => convAll(c));
    const ref = on("js", () => convAll(c));
    expect(mine.ran.every((k) => k.backend === "wasm")).toBe(true);
    const tol = { atol: 2e-3, rtol: 1e-3 };
    expectClose(mine.y, ref.y, { ...tol, label: "forward" });
    expectClose(mine.dx, ref.dx, { ...tol, label: "input gradient" });
    // The weight gradient sums 3 · 100² products per entry.
    expectClose(mine.dw, ref.dw, { atol: 2e-2, rtol: 1e-3, label: "weight gradient" });
  });
});

describe("wasm convolutions: threads", () => {
  const cases: ConvCase[] = [
    { name: "GEMM, a batch", x: [6, 16, 12, 12], w: [24, 16, 3, 3], p: conv(1, 1, 1, 1) },
    // One image: the forward splits columns, the input gradient channel blocks.
    { name: "GEMM, one image", x: [1, 32, 20, 20], w: [32, 32, 3, 3], p: conv(1, 1, 1, 1) },
    { name: "GEMM, 1x1", x: [4, 64, 16, 16], w: [64, 64, 1, 1], p: conv(1, 0, 1, 1) },
    {
      name: "GEMM, grouped and strided",
      x: [8, 16, 24, 24],
      w: [32, 8, 3, 3],
      p: conv(2, 1, 1, 2),
    },
    { name: "direct, depthwise", x: [4, 64, 32, 32], w: [64, 1, 3, 3], p: conv(1, 1, 1, 64) },
    {
      name: "direct, two outputs per group, strided",
      x: [16, 32, 32, 32],
      w: [64, 1, 3, 3],
      p: conv(2, 1, 1, 32),
    },
  ];

  it.each(cases.map((c) => [c.name, c] as const))(
    "%s: the same bits on one thread and on two, and the reference's values",
    async (_name, c) => {
      // Enough work that the kernels do run on both threads.
      expect(macs(c)).toBeGreaterThanOrEqual(PARALLEL_MIN_WORK);
      const two = await withThreads(2, () => convAll(c));
      const one = await withThreads(1, () => convAll(c));
      expect(two.ran.every((k) => k.backend === "wasm")).toBe(true);
      expect(firstDifference(two.y, one.y), "forward").toBe(-1);
      expect(firstDifference(two.dx, one.dx), "input gradient").toBe(-1);
      expect(firstDifference(two.dw, one.dw), "weight gradient").toBe(-1);
      const ref = on("js", () => convAll(c));
      expectClose(two.y, ref.y, { atol: 1e-3, rtol: 1e-3, label: "forward" });
      expectClose(two.dx, ref.dx, { atol: 1e-3, rtol: 1e-3, label: "input gradient" });
      expectClose(two.dw, ref.dw, { atol: 1e-2, rtol: 1e-3, label: "weight gradient" });
    },
  );

  it("max pooling: the same indices on one thread and on two, and the reference's", async () => {
    const p = {
      kernel: [3, 3] as [number, number],
      stride: [1, 1] as [number, number],
      padding: [1, 1] as [number, number],
      dilation: [1, 1] as [number, number],
      ceilMode: false,
    };
    tg.manualSeed(2);
    const x = tg.randn([16, 64, 32, 32]);
    expect(16 * 64 * 32 * 32 * 9).toBeGreaterThanOrEqual(PARALLEL_MIN_WORK);
    const two = await withThreads(2, () => tg.run("maxPool2dIndices", [x], p).dataSync());
    const one = await withThreads(1, () => tg.run("maxPool2dIndices", [x], p).dataSync());
    const ref = on("js", () => tg.run("maxPool2dIndices", [x], p).dataSync());
    expect(firstDifference(two, one)).toBe(-1);
    expect(firstDifference(two, ref)).toBe(-1);
  });
});

describe("wasm convolutions against the reference", () => {
  const cases: ConvCase[] = [
    // The direct formulation (og < 4) in each of its paths.
    { name: "depthwise 3x3", x: [2, 6, 9, 11], w: [6, 1, 3, 3], p: conv(1, 1, 1, 6) },
    {
      name: "depthwise, stride 2, dilation 2",
      x: [2, 4, 13, 12],
      w: [4, 1, 3, 3],
      p: conv(2, 2, 2, 4),
    },
    { name: "depth multiplier 3", x: [2, 4, 8, 8], w: [12, 1, 3, 3], p: conv(1, 1, 1, 4) },
    { name: "one output channel", x: [3, 5, 7, 9], w: [1, 5, 3, 5], p: conv(1, 2, 1, 1) },
    { name: "average pooling 2x2", x: [2, 3, 8, 10], w: [3, 1, 2, 2], p: conv(2, 0, 1, 3) },
    // The GEMM formulation with groups and windows that leave the image.
    { name: "groups 2, 8 outputs each", x: [2, 6, 9, 9], w: [16, 3, 3, 3], p: conv(1, 1, 1, 2) },
    { name: "groups 3, stride 3, pad 2", x: [2, 6, 10, 11], w: [12, 2, 4, 4], p: conv(3, 2, 1, 3) },
    { name: "dilation 3, pad 0", x: [1, 4, 12, 12], w: [4, 4, 3, 3], p: conv(1, 0, 3, 1) },
    // 1×1 at stride 1 reads the image as the GEMM's operand and writes dx directly.
    { name: "1x1", x: [2, 8, 5, 5], w: [4, 8, 1, 1], p: conv(1, 0, 1, 1) },
    { name: "1x1, stride 2", x: [2, 8, 7, 7], w: [4, 8, 1, 1], p: conv(2, 0, 1, 1) },
  ];

  it.each(cases.map((c) => [c.name, c] as const))("%s: values and both gradients", (_name, c) => {
    const mine = on("wasm", () => convAll(c, 5));
    const ref = on("js", () => convAll(c, 5));
    expect(mine.ran.every((k) => k.backend === "wasm")).toBe(true);
    const tol = { atol: 1e-4, rtol: 1e-4 };
    expectClose(mine.y, ref.y, { ...tol, label: `${c.name} forward` });
    expectClose(mine.dx, ref.dx, { ...tol, label: `${c.name} input gradient` });
    expectClose(mine.dw, ref.dw, { atol: 1e-3, rtol: 1e-4, label: `${c.name} weight gradient` });
  });

  it("reads permuted, transposed and expanded operands", () => {
    const run = () => {
      tg.manualSeed(9);
      // x stored NHWC and viewed NCHW; w stored [KH, KW, C, O]; dy a broadcast of one row.
      const x = tg.randn([2, 7, 6, 5]).permute([0, 3, 1, 2]);
      const w = tg.randn([3, 3, 5, 8]).permute([3, 2, 0, 1]);
      const p = conv(1, 1, 1, 1);
      const y = tg.run("conv2d", [x, w], p);
      const dy = tg.randn([1, 8, 1, 6]).expand([...y.shape]);
      const dx = tg.run("conv2dBackwardInput", [dy, w], { ...p, inputShape: [2, 5, 7, 6] });
      const dw = tg.run("conv2dBackwardWeight", [x, dy], { ...p, weightShape: [8, 5, 3, 3] });
      // A 1×1 kernel over a sliced image (rows not contiguous with the next) and over NHWC.
      const w1 = tg.randn([4, 5, 1, 1]);
      const pw = conv(1, 0, 1, 1);
      const sliced = tg.run("conv2d", [tg.randn([2, 5, 9, 9]).narrow(3, 1, 6), w1], pw);
      const nhwc = tg.run("conv2d", [x, w1], pw);
      const dw1 = tg.run("conv2dBackwardWeight", [x, nhwc], { ...pw, weightShape: [4, 5, 1, 1] });
      return [y, dx, dw, sliced, nhwc, dw1];
    };
    const mine = on("wasm", run);
    const ref = on("js", run);
    mine.forEach((t, i) =>
      expectClose(t, ref[i]!, { atol: 1e-4, rtol: 1e-4, label: `output ${i}` }),
    );
  });

  it("pools NaN windows on the vector path as the reference does", () => {
    // 24 windows per row (the four-at-a-time path), NaN in one row or two rows of a window.
    const values = Array.from({ length: 2 * 6 * 48 }, (_, i) =>
      i % 29 === 5 || i % 31 === 7 ? NaN : Math.sin(i * 1.7),
    );
    for (const [k, s] of [
      [2, 2],
      [3, 1],
      [3, 2],
    ] as const) {
      const p = {
        kernel: [k, k] as [number, number],
        stride: [s, s] as [number, number],
        padding: [1, 1] as [number, number],
        dilation: [1, 1] as [number, number],
        ceilMode: true,
      };
      const [mine, ref] = ["wasm", "js"].map((b) =>
        on(b, () => {
          const x = tg.tensor(Float32Array.from(values), { shape: [1, 2, 6, 48] });
          return tg.run("maxPool2dIndices", [x], p).dataSync();
        }),
      );
      expect(firstDifference(mine!, ref!), `kernel ${k} stride ${s}`).toBe(-1);
    }
  });

  it("pools dilated, padded, ceil-mode windows of a strided view as the reference does", () => {
    const p = {
      kernel: [3, 2] as [number, number],
      stride: [2, 3] as [number, number],
      padding: [1, 1] as [number, number],
      dilation: [2, 1] as [number, number],
      ceilMode: true,
    };
    const run = () => {
      tg.manualSeed(4);
      const x = tg.randn([3, 19, 23, 2]).permute([0, 3, 1, 2]);
      return tg.run("maxPool2dIndices", [x], p).dataSync();
    };
    expect(firstDifference(on("wasm", run), on("js", run))).toBe(-1);
  });
});
