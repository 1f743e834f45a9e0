/**
 * The native addon must never read or write outside the arrays it is given. Every entry point is
 * called here directly with arguments that do not fit one another (an output too short, a weight
 * of the wrong size, an axis past the rank, a workspace too small, an index out of range...) and
 * must throw (or, for index values, report the bad index) instead of touching memory; then the
 * public API is driven with the same misfits and must give an error or the composition's result.
 *
 * Without AddressSanitizer an out-of-bounds access may pass unnoticed (or crash the worker, which
 * fails the run). The audit ran this file with the addon built by `TSGRAD_NATIVE_ASAN=1 node
 * native/build.js`, as native/build.js describes.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { nativeBackend } from "../../src/backends/native/index.js";
import { loadAddon } from "../../src/backends/native/loader.js";
import { expectClose } from "../helpers/allclose.js";

if (!tg.findBackend("native")) tg.registerBackend(nativeBackend);
const available = nativeBackend.available();

type Fn = (...args: unknown[]) => unknown;
const call = (name: string, ...args: unknown[]): unknown => (loadAddon()![name] as Fn)(...args);

/** A dense view's meta fields: nd, shape, strides, offset. */
function view(shape: number[], offset = 0): number[] {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  return [shape.length, ...shape, ...strides, offset];
}
const meta = (...parts: (number | number[])[]) => new Float64Array(parts.flat());
const f32 = (n: number) => new Float32Array(n);
const i32 = (n: number) => new Int32Array(n);
const u8 = (n: number) => new Uint8Array(n);

// LSTM operands: T = 2, B = 1, I = 3, H = 2 (weights [4H, I] = [8, 3] and [4H, H] = [8, 2]).
const lstmViews = () => [view([2, 1, 3]), view([1, 2]), view([1, 2]), view([8, 3]), view([8, 2])];
const lstmInputs = () => [f32(6), f32(2), f32(2), f32(24), f32(16)];
/** A training forward of that LSTM; returns its workspace and outputs for the backward. */
function lstmForward(): { ws: Uint8Array; out: Float32Array; hN: Float32Array; cN: Float32Array } {
  const [out, hN, cN] = [f32(4), f32(2), f32(2)];
  const ws = call("lstm", out, hN, cN, ...lstmInputs(), f32(8), meta(...lstmViews(), 0, 1));
  expect(ws).toBeInstanceOf(Uint8Array);
  return { ws: ws as Uint8Array, out, hN, cN };
}
/** lstmBackward's arguments, with `patch` replacing some of them by index. */
function lstmBackwardArgs(
  patch: Record<number, unknown> = {},
  listPatch: Record<number, unknown> = {},
) {
  const { ws, out, hN, cN } = lstmForward();
  const list: unknown[] = [...lstmInputs(), f32(8), out, hN, cN, f32(4), f32(2), f32(2), ws];
  for (const [i, v] of Object.entries(listPatch)) list[Number(i)] = v;
  const m = meta(...lstmViews(), view([2, 1, 2]), view([1, 2]), view([1, 2]), 0);
  const args: unknown[] = [f32(6), f32(2), f32(2), f32(24), f32(16), f32(8), list, m];
  for (const [i, v] of Object.entries(patch)) args[Number(i)] = v;
  return args;
}

/** [entry point, what is wrong, the call, what the error says]. */
const misfits: [string, string, () => unknown, RegExp][] = [
  ["setNumThreads", "zero threads", () => call("setNumThreads", 0), /thread count below 1/],
  [
    "unary",
    "output too short",
    () => call("unary", 1, f32(3), f32(4), meta(view([4]))),
    /output size/,
  ],
  [
    "unary",
    "a view past its storage",
    () => call("unary", 1, f32(4), f32(4), meta(view([4], 1))),
    /a view reaches outside its storage/,
  ],
  [
    "unary",
    "a view whose element count overflows int64",
    () => call("unary", 1, f32(4), f32(4), meta(2, 2 ** 40, 2 ** 40, 0, 0, 0)),
    /a view reaches outside its storage/,
  ],
  [
    "unary",
    "a NaN size",
    () => call("unary", 1, f32(4), f32(4), meta(1, NaN, 1, 0)),
    /non-finite or too large/,
  ],
  [
    "unary",
    "a negative size",
    () => call("unary", 1, f32(4), f32(4), meta(1, -4, 1, 0)),
    /negative dimension/,
  ],
  [
    "unaryLoop",
    "output too short",
    () => call("unaryLoop", 8, f32(3), f32(4), meta(view([4]))),
    /output size/,
  ],
  [
    "binary",
    "operands of different shapes",
    () => call("binary", 0, f32(4), f32(4), f32(4), meta(view([4]), view([2, 2]))),
    /operand shapes/,
  ],
  [
    "binaryLoop",
    "output too short",
    () => call("binaryLoop", 0, f32(3), f32(4), f32(4), meta(view([4]), view([4]))),
    /operand shapes/,
  ],
  [
    "cmp",
    "output too short",
    () => call("cmp", 0, u8(3), f32(4), f32(4), meta(view([4]), view([4]))),
    /operand shapes/,
  ],
  [
    "where",
    "a branch of another shape",
    () => call("where", f32(4), u8(4), f32(4), f32(2), meta(view([4]), view([4]), view([2]))),
    /operand shapes/,
  ],
  ["cast", "output too short", () => call("cast", i32(3), f32(4), meta(view([4]))), /output size/],
  [
    "reduce",
    "an axis past the rank",
    () => call("reduce", 0, f32(1), f32(4), meta(view([2, 2]), 1, 2)),
    /reduction axis/,
  ],
  [
    "reduce",
    "output too short",
    () => call("reduce", 0, f32(1), f32(4), meta(view([2, 2]), 1, 1)),
    /output size/,
  ],
  [
    "argmax",
    "an axis past the rank",
    () => call("argmax", i32(2), f32(4), meta(view([2, 2]), 2)),
    /output size/,
  ],
  [
    "pad",
    "output shorter than the padded shape",
    () => call("pad", f32(5), f32(4), meta(view([4]), 6, 1, 0)),
    /pad output length is 5, expected 6/,
  ],
  [
    "concat",
    "an axis past the rank",
    () => call("concat", f32(8), [f32(4), f32(4)], meta(3, 1, 8, view([4]), view([4]))),
    /concat axis/,
  ],
  [
    "concat",
    "inputs that do not fill the output",
    () => call("concat", f32(9), [f32(4), f32(4)], meta(0, 1, 9, view([4]), view([4]))),
    /total size along the axis is 8, expected 9/,
  ],
  [
    "matmul",
    "inner dimensions that differ",
    () => call("matmul", f32(4), f32(4), f32(6), meta(view([2, 2]), view([3, 2]))),
    /inner dimensions/,
  ],
  [
    "matmul",
    "output too short",
    () => call("matmul", f32(3), f32(4), f32(4), meta(view([2, 2]), view([2, 2]))),
    /output size/,
  ],
  [
    "conv",
    "stride 0",
    () =>
      call(
        "conv",
        0,
        f32(4),
        f32(16),
        f32(9),
        meta(view([1, 1, 4, 4]), view([1, 1, 3, 3]), [1, 1, 2, 2], [0, 1, 0, 0, 1, 1, 1]),
      ),
    /conv geometry/,
  ],
  [
    "conv",
    "output too short",
    () =>
      call(
        "conv",
        0,
        f32(3),
        f32(16),
        f32(9),
        meta(view([1, 1, 4, 4]), view([1, 1, 3, 3]), [1, 1, 2, 2], [1, 1, 0, 0, 1, 1, 1]),
      ),
    /conv output length is 3, expected 4/,
  ],
  [
    "conv",
    "weight channels that do not match the input",
    () =>
      call(
        "conv",
        0,
        f32(4),
        f32(32),
        f32(9),
        meta(view([1, 2, 4, 4]), view([1, 1, 3, 3]), [1, 1, 2, 2], [1, 1, 0, 0, 1, 1, 1]),
      ),
    /convolution shapes/,
  ],
  [
    "conv",
    "a bias of the wrong length",
    () =>
      call(
        "conv",
        0,
        f32(4),
        f32(16),
        f32(9),
        meta(view([1, 1, 4, 4]), view([1, 1, 3, 3]), [1, 1, 2, 2], [1, 1, 0, 0, 1, 1, 1]),
        f32(2),
      ),
    /bias size/,
  ],
  [
    "maxPoolIndices",
    "dilation 0",
    () =>
      call(
        "maxPoolIndices",
        i32(4),
        f32(16),
        meta(view([1, 1, 4, 4]), [2, 2, 2, 2, 2, 2, 0, 0, 0, 1]),
      ),
    /max-pool geometry/,
  ],
  [
    "maxPoolIndices",
    "negative output sizes whose product is positive",
    () =>
      call(
        "maxPoolIndices",
        i32(1),
        f32(16),
        meta(view([1, 1, 4, 4]), [-1, -1, 2, 2, 2, 2, 0, 0, 1, 1]),
      ),
    /max-pool output size/,
  ],
  [
    "maxPoolIndices",
    "output too short",
    () =>
      call(
        "maxPoolIndices",
        i32(3),
        f32(16),
        meta(view([1, 1, 4, 4]), [2, 2, 2, 2, 2, 2, 0, 0, 1, 1]),
      ),
    /maxPoolIndices output length is 3, expected 4/,
  ],
  [
    "gather",
    "output too short",
    () => call("gather", f32(1), f32(4), i32(2), meta(view([4]), view([2]), 0)),
    /index shape/,
  ],
  [
    "scatterAdd",
    "output shorter than the target shape",
    () => call("scatterAdd", f32(3), f32(2), i32(2), meta(view([2]), view([2]), 0, 1, 4)),
    /index shape/,
  ],
  [
    "uniformFill",
    "a short state record",
    () => call("uniformFill", f32(4), new Float64Array(3)),
    /meta/,
  ],
  [
    "softmax",
    "output too short",
    () => call("softmax", false, f32(3), f32(4), meta(view([4]), 0)),
    /softmax output length is 3, expected 4/,
  ],
  [
    "softmax",
    "an axis past the rank",
    () => call("softmax", false, f32(4), f32(4), meta(view([4]), 1)),
    /softmax axis/,
  ],
  [
    "softmaxBackward",
    "a gradient of another shape",
    () => call("softmaxBackward", false, f32(4), f32(4), f32(3), meta(view([4]), view([3]), 0)),
    /gradient's shape/,
  ],
  [
    "softmaxBackward",
    "output too short",
    () => call("softmaxBackward", true, f32(3), f32(4), f32(4), meta(view([4]), view([4]), 0)),
    /output length is 3, expected 4/,
  ],
  [
    "layerNorm",
    "a weight of 1 element for 4 normalized",
    () =>
      call(
        "layerNorm",
        f32(8),
        f32(2),
        f32(2),
        f32(8),
        f32(1),
        null,
        meta(view([2, 4]), view([1]), 4, 1e-5),
      ),
    /layerNorm weight elements is 1, expected 4/,
  ],
  [
    "layerNorm",
    "a bias of 2 elements for 4 normalized",
    () =>
      call(
        "layerNorm",
        f32(8),
        f32(2),
        f32(2),
        f32(8),
        null,
        f32(2),
        meta(view([2, 4]), view([2]), 4, 1e-5),
      ),
    /layerNorm bias elements is 2, expected 4/,
  ],
  [
    "layerNorm",
    "a mean array too short",
    () =>
      call("layerNorm", f32(8), f32(1), f32(2), f32(8), null, null, meta(view([2, 4]), 4, 1e-5)),
    /mean length is 1, expected 2/,
  ],
  [
    "layerNorm",
    "d that is not the size of trailing axes",
    () =>
      call("layerNorm", f32(8), f32(2), f32(2), f32(8), null, null, meta(view([2, 4]), 3, 1e-5)),
    /not the size of the input's trailing axes/,
  ],
  [
    "layerNorm",
    "output too short",
    () =>
      call("layerNorm", f32(4), f32(2), f32(2), f32(8), null, null, meta(view([2, 4]), 4, 1e-5)),
    /layerNorm output length is 4, expected 8/,
  ],
  [
    "layerNormBackward",
    "a weight gradient too short",
    () =>
      call(
        "layerNormBackward",
        f32(8),
        f32(3),
        null,
        f32(8),
        f32(4),
        null,
        f32(2),
        f32(2),
        f32(8),
        meta(view([2, 4]), view([4]), view([2, 4]), 4, 1e-5),
      ),
    /weight gradient length is 3, expected 4/,
  ],
  [
    "layerNormBackward",
    "a gradient of another shape",
    () =>
      call(
        "layerNormBackward",
        f32(8),
        null,
        null,
        f32(8),
        null,
        null,
        f32(2),
        f32(2),
        f32(4),
        meta(view([2, 4]), view([4]), 4, 1e-5),
      ),
    /gradient's shape/,
  ],
  [
    "layerNormBackward",
    "a variance array too short",
    () =>
      call(
        "layerNormBackward",
        f32(8),
        null,
        null,
        f32(8),
        null,
        null,
        f32(2),
        f32(1),
        f32(8),
        meta(view([2, 4]), view([2, 4]), 4, 1e-5),
      ),
    /variance length is 1, expected 2/,
  ],
  [
    "lrn",
    "output too short",
    () => call("lrn", f32(3), f32(8), meta(view([1, 2, 2, 2]), 3, 1e-4, 0.75, 1)),
    /output length is 3, expected 8/,
  ],
  [
    "lrnBackward",
    "window size 0",
    () =>
      call(
        "lrnBackward",
        f32(8),
        f32(8),
        f32(8),
        f32(8),
        meta(view([1, 2, 2, 2]), view([1, 2, 2, 2]), 0, 1e-4, 0.75, 1),
      ),
    /size below 1/,
  ],
  [
    "lrnBackward",
    "a workspace too short",
    () =>
      call(
        "lrnBackward",
        f32(8),
        f32(8),
        f32(8),
        f32(4),
        meta(view([1, 2, 2, 2]), view([1, 2, 2, 2]), 3, 1e-4, 0.75, 1),
      ),
    /workspace length is 4, expected 8/,
  ],
  [
    "lrnBackward",
    "an input of rank 2 (no channel planes)",
    () =>
      call(
        "lrnBackward",
        f32(4),
        f32(4),
        f32(4),
        f32(4),
        meta(view([2, 2]), view([2, 2]), 3, 1e-4, 0.75, 1),
      ),
    /rank below 3/,
  ],
  [
    "gelu",
    "output too short",
    () => call("gelu", false, f32(3), f32(4), meta(view([4]))),
    /output length is 3/,
  ],
  [
    "geluBackward",
    "output too short",
    () => call("geluBackward", true, f32(3), f32(4), f32(4), meta(view([4]), view([4]))),
    /output length is 3/,
  ],
  [
    "geluBackward",
    "a gradient of another shape",
    () => call("geluBackward", true, f32(4), f32(4), f32(2), meta(view([4]), view([2]))),
    /gradient's shape/,
  ],
  [
    "reluBackward",
    "output too short",
    () => call("reluBackward", f32(3), f32(4), f32(4), meta(view([4]), view([4]))),
    /output length is 3/,
  ],
  [
    "lstm",
    "a bias too short",
    () => call("lstm", f32(4), f32(2), f32(2), ...lstmInputs(), f32(4), meta(...lstmViews(), 0, 1)),
    /bias length is 4, expected 8/,
  ],
  [
    "lstm",
    "an input weight of the wrong width",
    () => {
      const views = lstmViews();
      views[3] = view([8, 2]);
      return call("lstm", f32(4), f32(2), f32(2), ...lstmInputs(), f32(8), meta(...views, 0, 1));
    },
    /weights are not \[4H, I\]/,
  ],
  [
    "lstm",
    "an hN output too short",
    () => call("lstm", f32(4), f32(1), f32(2), ...lstmInputs(), f32(8), meta(...lstmViews(), 0, 0)),
    /hN length is 1, expected 2/,
  ],
  [
    "lstmBackward",
    "a bias gradient of bytes",
    () => call("lstmBackward", ...lstmBackwardArgs({ 5: u8(8) })),
    /bias gradient length is not a Float32Array/,
  ],
  [
    "lstmBackward",
    "a workspace too small",
    () => call("lstmBackward", ...lstmBackwardArgs({}, { 12: u8(1) })),
    /workspace size/,
  ],
  [
    "lstmBackward",
    "an input gradient too short",
    () => call("lstmBackward", ...lstmBackwardArgs({ 0: f32(5) })),
    /input gradient length is 5, expected 6/,
  ],
  [
    "sgd",
    "a gradient shorter than the parameter",
    () => call("sgd", f32(3), f32(2), null, new Float64Array(16)),
    /grad has 2 elements, the parameter 3/,
  ],
  [
    "adam",
    "a moment buffer shorter than the parameter",
    () => call("adam", f32(3), f32(3), f32(2), f32(3), null, new Float64Array(16)),
    /expAvg has 2 elements, the parameter 3/,
  ],
  [
    "rmsprop",
    "a square-average buffer shorter than the parameter",
    () => call("rmsprop", f32(3), f32(3), f32(1), null, null, new Float64Array(16)),
    /squareAvg has 1 elements, the parameter 3/,
  ],
];

describe.runIf(available)("native addon: arguments that do not fit one another", () => {
  for (const [entry, what, fn, message] of misfits) {
    it(`${entry}: ${what} is an error`, () => {
      expect(fn).toThrow(message);
    });
  }

  it("names the kernel in its errors", () => {
    expect(() => call("gelu", false, f32(3), f32(4), meta(view([4])))).toThrow(/^gelu: native: /);
    expect(() => call("unary", 1, f32(4), f32(4), meta(view([4], 1)))).toThrow(RangeError);
  });

  it("reports an index value outside the indexed axis instead of using it", () => {
    const idx = Int32Array.from([0, 7]);
    expect(call("gather", f32(2), f32(4), idx, meta(view([4]), view([2]), 0))).toBe(7);
    const neg = Int32Array.from([0, -1]);
    expect(call("scatterAdd", f32(4), f32(2), neg, meta(view([2]), view([2]), 0, 1, 4))).toBe(-1);
  });

  it("still computes after rejecting calls (the kernel lock is released)", () => {
    const y = f32(4);
    expect(call("softmax", false, y, f32(4), meta(view([4]), 0))).toBe(true);
    expectClose(y, [0.25, 0.25, 0.25, 0.25]);
    expect(call("lstmBackward", ...lstmBackwardArgs())).toBe(true);
  });
});

describe.runIf(available)("native backend: misfits through the public API", () => {
  const onNative = <T>(f: () => T): T => {
    const prev = tg.getBackend().name;
    tg.setBackend("native");
    try {
      return f();
    } finally {
      tg.setBackend(prev);
    }
  };
  const onJs = <T>(f: () => T): T => {
    const prev = tg.getBackend().name;
    tg.setBackend("js");
    try {
      return f();
    } finally {
      tg.setBackend(prev);
    }
  };

  it("layerNorm: a weight or bias not of the normalized shape is an error", () => {
    onNative(() => {
      expect(() => tg.F.layerNorm(tg.ones([1, 8]), [8], null, tg.zeros([2]))).toThrow(
        /layerNorm: bias shape \[2\] must equal the normalized shape \[8\]/,
      );
      expect(() => tg.F.layerNorm(tg.ones([2, 8]), [8], tg.ones([1]), null)).toThrow(
        /layerNorm: weight shape \[1\]/,
      );
    });
  });

  it("layerNorm: the audit's reproduction (2 × 2e7, weight [1]) is an error, not a crash", () => {
    // In a child process: this crashed the process (exit 139) before the fix.
    const code = `import(${JSON.stringify(new URL("../../src/index.ts", import.meta.url).pathname)}).then((tg) => {
      try { tg.F.layerNorm(tg.randn([2, 2e7]), [2e7], tg.ones([1]), tg.zeros([1])); console.log("no error"); }
      catch (e) { console.log(e.message); }
    })`;
    const r = spawnSync(process.execPath, ["--import", "tsx", "-e", code], {
      encoding: "utf8",
      env: { ...process.env, TSGRAD_BACKEND: "native" },
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/layerNorm: weight shape \[1\] must equal the normalized shape/);
  });

  it("tg.fused layerNorm with a broadcast weight declines to the composition", () => {
    const x = tg.randn([2, 8], { generator: new tg.Generator(1) });
    // Written out, so that the only layerNorm kernel that could run is the one declining here.
    const composite = ([xs, w, b]: readonly tg.Tensor[]) => {
      const d = xs!.sub(xs!.mean(1, true));
      const std = d.mul(d).mean(1, true).add(1e-5).sqrt();
      return [d.div(std).mul(w!).add(b!)];
    };
    const params = { k: 1, eps: 1e-5, hasWeight: true, hasBias: true };
    const inputs = [x, tg.full([1], 2), tg.full([1], 0.5)];
    const expected = onJs(() => tg.fused("layerNorm", inputs, params, composite)[0]!.dataSync());
    const was = tg.trackKernels(true);
    tg.kernelStats(true);
    const got = onNative(() => tg.fused("layerNorm", inputs, params, composite)[0]!.dataSync());
    const ran = tg.kernelStats().map((r) => `${r.backend}:${r.op}`);
    tg.trackKernels(was);
    expect(ran).not.toContain("native:layerNorm");
    expect(ran).toContain("native:sqrt");
    expectClose(got, expected);
    // Inconsistent flags (a weight announced but not passed) decline too.
    const bad = { k: 1, eps: 1e-5, hasWeight: true, hasBias: false };
    const plain = (ts: readonly tg.Tensor[]) => [tg.F.layerNorm(ts[0]!, [8])];
    expectClose(
      onNative(() => tg.fused("layerNorm", [x], bad, plain)[0]!),
      onJs(() => plain([x])[0]!),
    );
  });

  it("tg.fused softmax, localResponseNorm, conv2dBias and lstmLayer decline what they do not fit", () => {
    const x = tg.randn([1, 4, 3, 3], { generator: new tg.Generator(2) });
    const ident = (ts: readonly tg.Tensor[]) => [ts[0]!.mul(1)];
    onNative(() => {
      // An axis past the rank: the composition (here the identity) runs.
      expectClose(tg.fused("softmax", [x], { axis: 7 }, ident)[0]!, x);
      // A fractional LRN window.
      const lrn = { size: 2.5, alpha: 1, beta: 0.75, k: 1 };
      expectClose(tg.fused("localResponseNorm", [x], lrn, ident)[0]!, x);
      // A bias with the wrong number of channels.
      const conv = { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 };
      const w = tg.ones([2, 4, 1, 1]);
      expectClose(tg.fused("conv2dBias", [x, w, tg.zeros([3])], conv, ident)[0]!, x);
      // An LSTM bias of the wrong length.
      const lstm = { reverse: false, lengths: null, hasBiasIh: true, hasBiasHh: false };
      const lx = tg.randn([2, 1, 3]);
      const inputs = [
        lx,
        tg.zeros([1, 2]),
        tg.zeros([1, 2]),
        tg.ones([8, 3]),
        tg.ones([8, 2]),
        tg.ones([4]),
      ];
      expectClose(tg.fused("lstmLayer", inputs, lstm, ident)[0]!, lx);
    });
  });

  it("a tensor built over storage it does not fit is an error naming the op", () => {
    const t = new tg.Tensor(new Float32Array(2), "float32", [4]);
    onNative(() => {
      expect(() => t.exp()).toThrow(
        /exp: a \[4\] view with strides \[1\] and offset 0 reaches outside its storage of 2 elements/,
      );
      const shifted = new tg.Tensor(new Float32Array(4), "float32", [2, 2], [2, 1], 1);
      expect(() => shifted.matmul(tg.eye(2))).toThrow(/matmul: .*reaches outside its storage/);
    });
  });

  it("negative and zero strides inside the storage compute as the reference does", () => {
    // A reversed view (negative stride) and a broadcast one (stride 0), large enough for the
    // addon's oneDNN reorder path (4096+ elements, transposing).
    const n = 64 * 80;
    const data = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
    const rev = new tg.Tensor(data, "float32", [64, 80], [-80, 1], n - 80);
    const tr = new tg.Tensor(data, "float32", [80, 64], [1, 80], 0);
    const bc = new tg.Tensor(data, "float32", [64, 80], [0, 1], 0);
    for (const t of [rev, tr, bc]) {
      const want = onJs(() => [t.exp().dataSync(), t.sum(0).dataSync(), t.softmax(1).dataSync()]);
      const got = onNative(() => [
        t.exp().dataSync(),
        t.sum(0).dataSync(),
        t.softmax(1).dataSync(),
      ]);
      got.forEach((g, i) => expectClose(g, want[i]!, { rtol: 1e-4, atol: 1e-5 }));
    }
  });
});
