/**
 * The wasm backend's kernels trust the sizes they are given: a fused kernel reads d values of a
 * layerNorm weight, 4H of an LSTM bias, an index at idx·stride. A call whose inputs do not fit
 * must therefore be rejected before the kernel runs — with an error naming the public op — or
 * handed to the composition (the reference), never answered from whatever bytes lie next to an
 * operand in the module's memory. Each case runs on the JS reference backend and on wasm: wasm
 * must throw an error naming the op, throw the reference's own error, or give exactly the
 * reference's result.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

const wasm = tg.wasmBackend;

type Outcome = { values: number[][]; shapes: number[][] } | { error: string };

/** What `f` gives on `backend`: its outputs' values and shapes, or the message it throws. */
function outcome(backend: string, f: () => tg.Tensor | readonly tg.Tensor[]): Outcome {
  const prev = tg.getBackend().name;
  tg.setBackend(backend);
  try {
    const r = f();
    const ts = r instanceof tg.Tensor ? [r] : [...r];
    return {
      values: ts.map((t) => Array.from(t.dataSync())),
      shapes: ts.map((t) => [...t.shape]),
    };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  } finally {
    tg.setBackend(prev);
  }
}

/**
 * Whether two results agree as the wasm backend's kernels agree with the reference's: the same
 * shapes, NaN and infinities at the same places, finite values to float32 round-off (the wasm
 * primitives round exp, sums and products differently). Garbage read from next to an operand
 * is nowhere near that.
 */
function agree(a: { values: number[][]; shapes: number[][] }, b: typeof a): boolean {
  if (JSON.stringify(a.shapes) !== JSON.stringify(b.shapes)) return false;
  return a.values.every((vs, i) =>
    vs.every((v, k) => {
      const w = b.values[i]![k]!;
      if (!Number.isFinite(v) || !Number.isFinite(w)) return Object.is(v, w);
      return Math.abs(v - w) <= 1e-5 + 1e-4 * Math.abs(w);
    }),
  );
}

/**
 * `f` on wasm throws an error whose message starts with `op`, throws the reference's error, or
 * gives the reference's result (to round-off).
 */
function expectSafe(op: string, f: () => tg.Tensor | readonly tg.Tensor[]): void {
  const ref = outcome("js", f);
  const got = outcome("wasm", f);
  if ("error" in got) {
    const named = got.error.startsWith(`${op}:`);
    const same = "error" in ref && ref.error === got.error;
    expect(named || same, `wasm threw "${got.error}"; the reference ${JSON.stringify(ref)}`).toBe(
      true,
    );
  } else if ("error" in ref) {
    expect.fail(`wasm returned a result where the reference threw "${ref.error}"`);
  } else {
    expect(agree(got, ref), `wasm ${JSON.stringify(got)}\nreference ${JSON.stringify(ref)}`).toBe(
      true,
    );
  }
}

/**
 * `f` throws on wasm (and on the reference) an error whose message starts with one of `ops` (the
 * public op's own check, or the primitive's under it).
 */
function expectRejected(ops: string | readonly string[], f: () => unknown): void {
  const names = (typeof ops === "string" ? [ops] : ops).map((op) => op.replace(".", "\\."));
  for (const backend of ["js", "wasm"]) {
    const prev = tg.getBackend().name;
    tg.setBackend(backend);
    try {
      expect(f, backend).toThrow(new RegExp(`^(${names.join("|")}):`));
    } finally {
      tg.setBackend(prev);
    }
  }
}

/** Run `f` on wasm and say which wasm kernels ran. */
function wasmKernelsRun(f: () => unknown): string[] {
  const prev = tg.getBackend().name;
  tg.setBackend("wasm");
  tg.trackKernels(true);
  tg.kernelStats(true);
  try {
    f();
    return tg
      .kernelStats(true)
      .filter((r) => r.backend === "wasm")
      .map((r) => r.op);
  } finally {
    tg.trackKernels(false);
    tg.setBackend(prev);
  }
}

const i32 = (xs: number[]) => tg.tensor(xs, { dtype: "int32" });

/** layerNorm's composition, as src/nn/functional.ts has it (broadcasting its weight and bias). */
function layerNormComposition(
  ts: readonly tg.Tensor[],
  p: { k: number; eps: number; hasWeight: boolean; hasBias: boolean },
): tg.Tensor[] {
  const x = ts[0]!;
  const axes = Array.from({ length: p.k }, (_, i) => x.ndim - p.k + i);
  const d = x.sub(x.mean(axes, true));
  let y = d.mul(d.mul(d).mean(axes, true).add(p.eps).rsqrt());
  if (p.hasWeight) y = y.mul(ts[1]!);
  if (p.hasBias) y = y.add(ts[p.hasWeight ? 2 : 1]!);
  return [y];
}

/** `tg.fused("layerNorm", …)` straight to the backend's kernel, past F.layerNorm's checks. */
function fusedLayerNorm(x: tg.Tensor, k: number, w: tg.Tensor | null, b: tg.Tensor | null) {
  const inputs = [x, ...(w ? [w] : []), ...(b ? [b] : [])];
  const params = { k, eps: 1e-5, hasWeight: w !== null, hasBias: b !== null };
  return tg.fused("layerNorm", inputs, params, layerNormComposition);
}

beforeAll(() => {
  expect(wasm.available(), wasm.unavailableReason()).toBe(true);
});

describe("wasm fused kernels: inputs that do not fit", () => {
  tg.manualSeed(3);
  const x = tg.randn([2, 8]);

  it("layerNorm still runs its kernel on fitting inputs", () => {
    const [w, b] = [tg.randn([8]), tg.randn([8])];
    expect(wasmKernelsRun(() => tg.F.layerNorm(x, [8], w, b))).toContain("layerNorm");
    const ref = outcome("js", () => tg.F.layerNorm(x, [8], w, b));
    const got = outcome("wasm", () => tg.F.layerNorm(x, [8], w, b));
    if ("error" in ref || "error" in got) throw new Error("layerNorm failed");
    got.values[0]!.forEach((v, i) => expect(v).toBeCloseTo(ref.values[0]![i]!, 5));
  });

  it.each([
    ["bias of 2 for 8", [1, 8], null, [2]],
    ["weight of 2 for 8", [2, 8], [2], null],
    ["weight of 16 for 8", [2, 8], [16], null],
    ["weight [2, 1]", [2, 8], [2, 1], null],
    ["weight [1]", [2, 8], [1], [8]],
    ["bias [1, 8]", [3, 8], null, [1, 8]],
  ] as const)("F.layerNorm with a %s", (_name, xs, ws, bs) => {
    const w = ws ? tg.randn([...ws]) : null;
    const b = bs ? tg.randn([...bs]) : null;
    const xv = tg.randn([...xs]);
    expectSafe("layerNorm", () => tg.F.layerNorm(xv, [8], w, b));
    // Through tg.fused, the kernel gets the inputs without F.layerNorm's checks.
    expectSafe("layerNorm", () => fusedLayerNorm(xv, 1, w, b));
  });

  it("the original report: tg.F.layerNorm(ones [1, 8], [8], null, zeros [2])", () => {
    expectSafe("layerNorm", () => tg.F.layerNorm(tg.ones([1, 8]), [8], null, tg.zeros([2])));
    expectSafe("layerNorm", () => fusedLayerNorm(tg.ones([1, 8]), 1, null, tg.zeros([2])));
  });

  it.each([0, 3, 1.5, -1])("layerNorm's kernel declines k = %s", (k) => {
    expectSafe("layerNorm", () => fusedLayerNorm(x, k, null, null));
  });

  it("layerNorm's kernel declines an input list its flags do not describe", () => {
    // hasWeight says two inputs; the composition (which ignores the weight here) runs instead.
    const params = { k: 1, eps: 1e-5, hasWeight: true, hasBias: false };
    expectSafe("layerNorm", () =>
      tg.fused("layerNorm", [x], params, (ts, p) =>
        layerNormComposition(ts, { ...p, hasWeight: false }),
      ),
    );
  });

  it.each([7, -1, 1.5, 2])("softmax and logSoftmax kernels decline axis %s", (axis) => {
    const soft = (ts: readonly tg.Tensor[], p: { axis: number }) => [ts[0]!.softmax(p.axis)];
    const logSoft = (ts: readonly tg.Tensor[], p: { axis: number }) => [ts[0]!.logSoftmax(p.axis)];
    // On the reference the composition gets the axis (and rejects or normalizes it); the kernel
    // must not run with a geometry it cannot make from it.
    expectSafe("softmax", () => tg.fused("softmax", [x], { axis }, soft));
    expectSafe("logSoftmax", () => tg.fused("logSoftmax", [x], { axis }, logSoft));
  });

  it.each([2.5, 0, -1, Number.NaN, 2 ** 31, 2 ** 32 + 3])(
    "F.localResponseNorm with size %s",
    (size) => {
      const xv = tg.randn([1, 4, 2, 2]);
      expectSafe("localResponseNorm", () => tg.F.localResponseNorm(xv, size));
    },
  );

  it("localResponseNorm still runs its kernel on an integer size", () => {
    expect(wasmKernelsRun(() => tg.F.localResponseNorm(tg.randn([1, 4, 2, 2]), 3))).toContain(
      "localResponseNorm",
    );
  });
});

describe("wasm recurrent kernels: weights and states that do not fit the hidden size", () => {
  const [T, B, I, H] = [3, 2, 3, 4];
  tg.manualSeed(5);
  const r = (...s: number[]) => tg.randn(s).mul(0.3);
  const good = {
    x: r(T, B, I),
    h0: r(B, H),
    c0: r(B, H),
    wih4: r(4 * H, I),
    whh4: r(4 * H, H),
    b4: r(4 * H),
    wih3: r(3 * H, I),
    whh3: r(3 * H, H),
    b3: r(3 * H),
  };

  /** The LSTM layer through tg.fused: the kernel sees the inputs before F.lstmLayer checks them. */
  function fusedLstm(ins: tg.Tensor[], bih: tg.Tensor | null, bhh: tg.Tensor | null) {
    const params = { reverse: false, lengths: null, hasBiasIh: !!bih, hasBiasHh: !!bhh };
    const [x, h0, c0, wih, whh] = ins as [tg.Tensor, tg.Tensor, tg.Tensor, tg.Tensor, tg.Tensor];
    return tg.fused(
      "lstmLayer",
      [...ins, ...(bih ? [bih] : []), ...(bhh ? [bhh] : [])],
      params,
      () => tg.F.lstmLayer(x, h0, c0, wih, whh, bih, bhh),
    );
  }

  function fusedGru(ins: tg.Tensor[], bih: tg.Tensor | null, bhh: tg.Tensor | null) {
    const params = { reverse: false, lengths: null, hasBiasIh: !!bih, hasBiasHh: !!bhh };
    const [x, h0, wih, whh] = ins as [tg.Tensor, tg.Tensor, tg.Tensor, tg.Tensor];
    return tg.fused(
      "gruLayer",
      [...ins, ...(bih ? [bih] : []), ...(bhh ? [bhh] : [])],
      params,
      () => tg.F.gruLayer(x, h0, wih, whh, bih, bhh),
    );
  }

  it("the kernels still run on fitting inputs", () => {
    const { x, h0, c0, wih4, whh4, b4, wih3, whh3, b3 } = good;
    const ran = wasmKernelsRun(() => {
      fusedLstm([x, h0, c0, wih4, whh4], b4, b4);
      fusedGru([x, h0, wih3, whh3], b3, b3);
    });
    expect(ran).toEqual(expect.arrayContaining(["lstmLayer", "gruLayer"]));
  });

  const lstmCases: [string, Partial<typeof good>, tg.Tensor | null][] = [
    ["a bias of 3 for 4H = 16", {}, r(3)],
    ["a bias of 4H + 1", {}, r(4 * H + 1)],
    ["a bias [1, 4H]", {}, r(1, 4 * H)],
    ["weightIh of 2H rows", { wih4: r(2 * H, I) }, null],
    ["weightIh of I + 1 columns", { wih4: r(4 * H, I + 1) }, null],
    ["weightHh [4H, H + 1]", { whh4: r(4 * H, H + 1) }, null],
    ["weightHh [4H + 4, H]", { whh4: r(4 * H + 4, H) }, null],
    ["h0 [B, H - 1]", { h0: r(B, H - 1) }, null],
    ["h0 [B + 1, H]", { h0: r(B + 1, H) }, null],
    ["c0 [B, 2H]", { c0: r(B, 2 * H) }, null],
    ["a 2-D input", { x: r(T * B, I) }, null],
    ["weightHh of rank 1", { whh4: r(4 * H * H) }, null],
  ];

  it.each(lstmCases)("lstmLayer with %s", (_name, change, bias) => {
    const v = { ...good, ...change };
    const ins = [v.x, v.h0, v.c0, v.wih4, v.whh4];
    const [x, h0, c0, wih, whh] = ins as [tg.Tensor, tg.Tensor, tg.Tensor, tg.Tensor, tg.Tensor];
    expectSafe("lstmLayer", () => tg.F.lstmLayer(x, h0, c0, wih, whh, bias ?? v.b4, null));
    expectSafe("lstmLayer", () => tg.F.lstmLayer(x, h0, c0, wih, whh, null, bias));
    expectSafe("lstmLayer", () => fusedLstm(ins, bias ?? v.b4, null));
    expectSafe("lstmLayer", () => fusedLstm(ins, null, bias));
  });

  const gruCases: [string, Partial<typeof good>, tg.Tensor | null][] = [
    ["a bias of 2 for 3H = 12", {}, r(2)],
    ["a bias of 4H (an LSTM's)", {}, r(4 * H)],
    ["weightIh [4H, I]", { wih3: r(4 * H, I) }, null],
    ["weightHh [3H, H - 1]", { whh3: r(3 * H, H - 1) }, null],
    ["h0 [B, H + 2]", { h0: r(B, H + 2) }, null],
    ["h0 of rank 3", { h0: r(1, B, H) }, null],
  ];

  it.each(gruCases)("gruLayer with %s", (_name, change, bias) => {
    const v = { ...good, ...change };
    const ins = [v.x, v.h0, v.wih3, v.whh3];
    const [x, h0, wih, whh] = ins as [tg.Tensor, tg.Tensor, tg.Tensor, tg.Tensor];
    expectSafe("gruLayer", () => tg.F.gruLayer(x, h0, wih, whh, bias ?? v.b3, null));
    expectSafe("gruLayer", () => tg.F.gruLayer(x, h0, wih, whh, null, bias));
    expectSafe("gruLayer", () => fusedGru(ins, bias ?? v.b3, null));
    expectSafe("gruLayer", () => fusedGru(ins, null, bias));
  });
});

describe("wasm kernels reading at data-dependent addresses", () => {
  // 64 rows of 4: an index of 8 or more elements covers 1/16 of the table, so the wasm gather
  // kernel takes it (sparser ones are left to the reference) and must check it itself.
  tg.manualSeed(7);
  const table = tg.randn([64, 4]);
  const dense = (bad: number) => i32([0, 5, 63, 2, bad, 7, 1, 9, 3, 4, 6, 8, 10, 11, 12, 13]);

  it("in-range lookups and scatters run on the wasm kernels", () => {
    expect(wasmKernelsRun(() => tg.F.embedding(dense(14), table))).toContain("gather");
    const idx = dense(14).reshape([16, 1]).expand([16, 4]).contiguous();
    expect(wasmKernelsRun(() => tg.gather(table, 0, idx))).toContain("gather");
    const scatter = () => tg.scatterAdd(tg.ones([8]), 0, dense(3).narrow(0, 0, 8), [64]);
    expect(wasmKernelsRun(scatter)).toContain("scatterAdd");
    expectSafe("embedding", () => tg.F.embedding(dense(14), table));
  });

  it.each([64, -1, 1000, -65, 2 ** 31 - 1, -(2 ** 31)])(
    "embedding, indexSelect and gather reject index %s",
    (bad) => {
      expectRejected(["embedding", "gather"], () => tg.F.embedding(dense(bad), table));
      expectRejected(["indexSelect", "gather"], () => tg.indexSelect(table, 0, dense(bad)));
      // One id: the sparse path (the reference's gather).
      expectRejected(["embedding", "gather"], () => tg.F.embedding(i32([bad]), table));
      const idx = dense(bad).reshape([16, 1]).expand([16, 4]).contiguous();
      expectRejected("gather", () => tg.gather(table, 0, idx));
      expectRejected("gather", () => tg.gather(table.t(), 1, idx.t()));
    },
  );

  it.each([4, -1, 99])("scatterAdd rejects index %s (it would write out of place)", (bad) => {
    const src = tg.ones([8]);
    const idx = i32([0, 1, 2, 3, bad, 1, 2, 3]);
    expectRejected("scatterAdd", () => tg.scatterAdd(src, 0, idx, [4]));
    // The gather's gradient is this scatter: the forward rejects the index first.
    const x = tg.randn([4]).requiresGrad_();
    expectRejected("gather", () => tg.gather(x, 0, idx).sum().backward());
  });

  it("gather through tg.run with an axis the tensor lacks gives the reference's answer", () => {
    const x = tg.arange(16).float();
    const idx = i32([3, 1, 2, 0, 5, 6, 7, 4, 8, 9, 10, 11, 12, 13, 14, 15]);
    for (const axis of [1, 5, -1]) expectSafe("gather", () => tg.run("gather", [x, idx], { axis }));
  });

  it.each([
    [2, -100, "a target equal to the class count"],
    [-1, -100, "a negative target"],
    [7, 7, "a target out of range that is the ignore index"],
    [-3, -100, "a target below zero"],
  ])("crossEntropy and nllLoss with target %s (ignoreIndex %s): %s", (bad, ignoreIndex) => {
    const logits = tg.randn([4, 2]);
    const target = i32([0, 1, bad, 1]);
    expectSafe("crossEntropy", () => tg.F.crossEntropy(logits, target, { ignoreIndex }));
    expectSafe("nllLoss", () => tg.F.nllLoss(logits.logSoftmax(1), target, { ignoreIndex }));
    const weight = tg.tensor([0.3, 0.7]);
    expectSafe("crossEntropy", () => tg.F.crossEntropy(logits, target, { ignoreIndex, weight }));
    expectSafe("nllLoss", () =>
      tg.F.nllLoss(logits.logSoftmax(1), target, { ignoreIndex, weight }),
    );
  });

  it("maxPool2d with a window wholly in the padding gives the reference's answer", () => {
    // Kernel 2, padding 1, dilation 3 over a 2×2 image: the one window's taps are at -1 and 2.
    const x = tg.arange(4).float().reshape([1, 1, 2, 2]);
    expectSafe("maxPool2d", () => tg.F.maxPool2d(x, 2, { padding: 1, dilation: 3 }));
  });

  it("maxPool2d's indices (NaN and -inf windows) give the reference's pooling", () => {
    const v = tg.randn([2, 3, 7, 9]).dataSync().slice();
    v[5] = Number.NaN;
    v.fill(-Infinity, 20, 40);
    const x = tg.tensor(Array.from(v)).reshape([2, 3, 7, 9]);
    for (const opts of [{}, { stride: 1 }, { padding: 1, ceilMode: true }, { dilation: 2 }]) {
      expectSafe("maxPool2d", () => tg.F.maxPool2d(x, 3, opts));
    }
  });

  it("the module's memory is intact after the rejected calls", () => {
    expectSafe("embedding", () => tg.F.embedding(dense(14), table));
    expectSafe("scatterAdd", () =>
      tg.scatterAdd(tg.ones([8]), 0, i32([0, 1, 2, 3, 3, 1, 2, 0]), [4]),
    );
    expectSafe("matmul", () => table.matmul(table.t()));
  });
});

describe("wasm primitive kernels: shapes the op rules reject first", () => {
  it.each([
    ["conv2d", () => tg.F.conv2d(tg.ones([1, 2, 5, 5]), tg.ones([4, 3, 3, 3]))],
    [
      "conv2d",
      () => tg.F.conv2d(tg.ones([1, 4, 5, 5]), tg.ones([4, 3, 3, 3]), null, { groups: 2 }),
    ],
    ["conv2d", () => tg.F.conv2d(tg.ones([1, 3, 5, 5]), tg.ones([4, 3, 3, 3]), tg.ones([3]))],
    ["matmul", () => tg.ones([2, 3]).matmul(tg.ones([4, 2]))],
    [
      "gather",
      () => tg.gather(tg.ones([4, 2]), 0, i32([0, 1, 2, 3, 0, 1, 2, 3, 0]).reshape([3, 3])),
    ],
  ] as const)("%s rejects mismatched operands", (op, f) => {
    expectRejected(op, f);
  });
});

describe("wasm optimizer kernels: state arrays of the parameter's length", () => {
  let prev = "";
  beforeAll(() => {
    prev = tg.getBackend().name;
    tg.setBackend("wasm");
  });
  afterAll(() => tg.setBackend(prev));

  const sgd = {
    lr: 0.1,
    momentum: 0.9,
    dampening: 0,
    weightDecay: 0,
    nesterov: false,
    maximize: false,
    initBuffer: false,
  };
  const adam = {
    lr: 0.1,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: 0,
    decoupledWeightDecay: false,
    maximize: false,
    step: 1,
  };
  const rms = {
    lr: 0.01,
    alpha: 0.99,
    eps: 1e-8,
    weightDecay: 0,
    momentum: 0.9,
    centered: true,
    maximize: false,
  };
  const f = (n: number) => new Float32Array(n).fill(0.5);

  /** The call throws an error naming `optim.<name>` and leaves the parameter as it was. */
  function rejects(name: string, p: Float32Array, call: () => void): void {
    const before = p.slice();
    expect(call).toThrow(new RegExp(`^optim\\.${name}:`));
    expect(p).toEqual(before);
  }

  it("the kernels run on fitting arrays", () => {
    const p = f(6);
    const ran = wasmKernelsRun(() => {
      tg.optim.runOptimizerKernel("sgd", p, f(6), f(6), sgd);
      tg.optim.runOptimizerKernel("adam", p, f(6), f(6), f(6), f(6), adam);
      tg.optim.runOptimizerKernel("rmsprop", p, f(6), f(6), f(6), f(6), rms);
    });
    expect(ran).toEqual(expect.arrayContaining(["optim.sgd", "optim.adam", "optim.rmsprop"]));
  });

  it("sgd: a gradient or momentum buffer of another length", () => {
    const p = f(6);
    rejects("sgd", p, () => tg.optim.runOptimizerKernel("sgd", p, f(5), null, sgd));
    rejects("sgd", p, () => tg.optim.runOptimizerKernel("sgd", p, f(7), f(6), sgd));
    rejects("sgd", p, () => tg.optim.runOptimizerKernel("sgd", p, f(6), f(2), sgd));
  });

  it("adam: moments of another length, or missing", () => {
    const p = f(6);
    const run = (m: Float32Array | null, v: Float32Array | null, vmax: Float32Array | null) =>
      tg.optim.runOptimizerKernel(
        "adam",
        p,
        f(6),
        m as Float32Array,
        v as Float32Array,
        vmax,
        adam,
      );
    rejects("adam", p, () => run(f(3), f(6), null));
    rejects("adam", p, () => run(f(6), f(8), null));
    rejects("adam", p, () => run(f(6), f(6), f(1)));
    rejects("adam", p, () => run(null, f(6), null));
    rejects("adam", p, () => run(f(6), null, f(6)));
  });

  it("rmsprop: averages or buffer of another length, or a missing square average", () => {
    const p = f(6);
    const run = (sq: Float32Array | null, ga: Float32Array | null, buf: Float32Array | null) =>
      tg.optim.runOptimizerKernel("rmsprop", p, f(6), sq as Float32Array, ga, buf, rms);
    rejects("rmsprop", p, () => run(f(4), f(6), f(6)));
    rejects("rmsprop", p, () => run(f(6), f(9), null));
    rejects("rmsprop", p, () => run(f(6), null, f(5)));
    rejects("rmsprop", p, () => run(null, null, null));
  });
});
