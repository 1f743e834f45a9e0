/**
 * Backend conformance: every available backend other than `js` is checked against the JS
 * reference over every row of the op-spec table (values and gradients, float32), every fused
 * kernel against its composition, and a set of odd shapes (1×1, batch 1, strided and expanded
 * views, 256 channels, empty tensors, bad shapes and indices).
 *
 * Tolerances: elementwise results are compared at atol 1e-5 / rtol 1e-4. oneDNN's vectorised
 * exp/tanh/logistic/log are polynomial approximations, not correctly rounded like the reference
 * (which computes in double): log is the worst, off by up to ~3e-6 near 1 (2e-5 relative).
 * Reductions, matmuls and convolutions accumulate in float32 in a different order than the
 * reference (which sums in double), so their error grows like √K·ε·Σ|terms|: they get atol 1e-4
 * (the operands are O(1) and K ≤ a few hundred here), and the big-shape cases a
 * bound scaled from their K.
 *
 * With TSGRAD_REQUIRE_NATIVE=1 (CI) an unavailable native backend is a failure, not a skip.
 */
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { nativeBackend } from "../../src/backends/native/index.js";
import { expectClose } from "../helpers/allclose.js";
import {
  checkFused,
  checkPrim,
  checkSecondOrder,
  compareOutcomes,
  evaluate,
  on,
} from "../helpers/conformance.js";
import { primSpecs, type PrimSpec } from "../op-specs.js";
import { fusedSpecs } from "./fused-specs.js";

if (!tg.findBackend("native")) tg.registerBackend(nativeBackend);

const requireNative = process.env.TSGRAD_REQUIRE_NATIVE === "1";

describe("native backend availability", () => {
  it.runIf(requireNative)("is available (TSGRAD_REQUIRE_NATIVE=1)", () => {
    expect(nativeBackend.available(), nativeBackend.unavailableReason()).toBe(true);
  });

  it.runIf(!nativeBackend.available())("explains how to install it when it is missing", () => {
    expect(nativeBackend.unavailableReason()).toMatch(/libdnnl-dev|Node/);
    expect(() => tg.setBackend("native")).toThrow(/not available/);
  });
});

const backends = tg
  .listBackends()
  .filter((b) => b.name !== "js" && b.available)
  .map((b) => b.name);

// The checks live in test/helpers/conformance.ts, shared with the browser run
// (wasm-browser.test.ts); each returns its mismatches by backend, op and spec name.

describe.each(backends)("backend %s: primitives against the JS reference", (backend) => {
  const prims = Object.keys(primSpecs) as tg.Prim[];
  describe.each(prims)("%s", (prim) => {
    const specs = primSpecs[prim] as PrimSpec<typeof prim>[];
    it.each(specs.map((s) => [s.name, s] as const))(
      "%s: values and gradients match",
      (_name, spec) => {
        expect(checkPrim(backend, prim, spec)).toEqual([]);
      },
    );
  });
});

describe.each(backends)("backend %s: fused kernels against their compositions", (backend) => {
  it.each(fusedSpecs.map((s) => [s.name, s] as const))(
    "%s: values and gradients match",
    (_name, spec) => {
      expect(checkFused(backend, spec)).toEqual([]);
    },
  );
});

describe.each(backends)("backend %s: fused kernels differentiated twice", (backend) => {
  it.each(fusedSpecs.filter((s) => !s.declines).map((s) => [s.name, s] as const))(
    "%s: second-order gradients match the composition's",
    (_name, spec) => {
      expect(checkSecondOrder(backend, spec)).toEqual([]);
    },
  );
});

describe.each(backends)("backend %s: odd shapes", (backend) => {
  const both = (
    name: string,
    inputs: PrimSpec<tg.Prim>["inputs"],
    f: (xs: tg.Tensor[]) => tg.Tensor,
    tol = { atol: 1e-5, rtol: 1e-4 },
  ) => {
    const mine = evaluate(backend, inputs, f);
    expect(compareOutcomes(mine, evaluate("js", inputs, f), tol, name)).toEqual([]);
    // Nothing here should fall back to the reference where the backend has the kernel: these
    // are all float32 and non-empty.
    const b = tg.findBackend(backend)!;
    const has = (op: string) =>
      (b.kernels as Record<string, unknown>)[op] !== undefined || b.fused?.[op] !== undefined;
    expect(
      mine.ran.filter((r) => r.backend === "js" && has(r.op)).map((r) => r.op),
      name,
    ).toEqual([]);
  };

  it("computes 1×1 and batch-1 convolutions and pooling", () => {
    both("conv 1x1 image", [{ shape: [1, 1, 1, 1] }, { shape: [1, 1, 1, 1] }], ([x, w]) =>
      tg.F.conv2d(x!, w!),
    );
    both(
      "conv batch 1, 5x5 same",
      [{ shape: [1, 3, 9, 7] }, { shape: [5, 3, 5, 5] }],
      ([x, w]) => tg.F.conv2d(x!, w!, null, { padding: "same" }).relu(),
      { atol: 1e-4, rtol: 1e-4 },
    );
    both("max pool", [{ shape: [1, 2, 5, 5] }], ([x]) => tg.F.maxPool2d(x!, 2));
  });

  it("propagates NaN where the reference does", () => {
    const values = Array.from({ length: 32 }, (_, i) => (i % 7 === 3 ? NaN : Math.sin(i)));
    const forward = (f: (x: tg.Tensor) => tg.Tensor) => {
      const [mine, ref] = [backend, "js"].map((b) =>
        on(b, () => f(tg.tensor(Float32Array.from(values), { shape: [1, 2, 4, 4] })).dataSync()),
      );
      expectClose(mine!, ref!, { atol: 1e-5, rtol: 1e-4, label: f.toString() });
    };
    forward((x) =>
      tg.run("maxPool2dIndices", [x], {
        kernel: [2, 2],
        stride: [2, 2],
        padding: [0, 0],
        dilation: [1, 1],
        ceilMode: false,
      }),
    );
    // 3×3 stride 2: windows holding a NaN leave the fast path for the reference's NaN rules.
    forward((x) =>
      tg.run("maxPool2dIndices", [x], {
        kernel: [3, 3],
        stride: [2, 2],
        padding: [1, 1],
        dilation: [1, 1],
        ceilMode: false,
      }),
    );
    for (const op of ["relu", "exp", "log", "sqrt", "tanh", "sigmoid", "abs", "neg"] as const) {
      forward((x) => x[op]());
    }
    forward((x) => x.softmax(3));
    forward((x) => x.logSoftmax(1));
    forward((x) => x.add(1).mul(2).div(3).sub(x.transpose(2, 3)));
    forward((x) => tg.F.gelu(x));
    forward((x) => tg.F.layerNorm(x, [4]));
    forward((x) => tg.F.localResponseNorm(x, 3));
    forward((x) => x.amax([2, 3]));
    forward((x) => x.argmax(3));
    forward((x) => x.maximum(tg.zeros([1, 2, 4, 4])));
    forward((x) => x.sum([0, 1]));
  });

  it("splits elementwise work across threads above the parallel threshold", () => {
    // 520² = 270,400 elements: past kParallelMin (2^18, native/src/common.h), so these kernels
    // and their gradients run on every thread; the other cases here are small enough for one.
    const big = { shape: [520, 520] };
    both("tanh", [big], ([x]) => x!.tanh());
    both("add of a broadcast row", [big, { shape: [520] }], ([x, b]) => x!.add(b!));
    both("exp of a transposed view", [big], ([x]) => x!.t().exp());
    both("relu", [big], ([x]) => x!.relu());
    both("sum over rows", [big], ([x]) => x!.sum(1), { atol: 1e-4, rtol: 1e-4 });
    both("amax over columns", [big], ([x]) => x!.amax(0));
  });

  it("handles 256 channels", () => {
    // K = 256·3·3 = 2304 products of O(1) terms: float32 error ~ √K·ε·K ≈ 1e-2 worst case.
    both(
      "conv 256 -> 256",
      [{ shape: [2, 256, 6, 6] }, { shape: [256, 256, 3, 3] }],
      ([x, w]) => tg.F.conv2d(x!, w!, null, { padding: 1 }),
      { atol: 5e-3, rtol: 1e-3 },
    );
  });

  it("follows non-contiguous and broadcast operands", () => {
    both("sum of a permuted view", [{ shape: [3, 4, 5] }], ([x]) =>
      x!.permute([2, 0, 1]).sum([0, 2]),
    );
    both("bias-style broadcast add", [{ shape: [4, 3, 2, 2] }, { shape: [3] }], ([x, b]) =>
      x!.add(b!.reshape([1, 3, 1, 1])),
    );
    both("broadcast on the left of a sub", [{ shape: [5] }, { shape: [3, 5] }], ([a, b]) =>
      a!.sub(b!),
    );
    both(
      "matmul of a sliced, transposed view",
      [{ shape: [6, 8] }, { shape: [5, 3] }],
      ([a, b]) => a!.narrow(0, 1, 5).narrow(1, 2, 3).t().matmul(b!),
      { atol: 1e-4, rtol: 1e-4 },
    );
    both(
      "batched matmul broadcasting a matrix",
      [{ shape: [4, 3, 5] }, { shape: [5, 2] }],
      ([a, b]) => a!.matmul(b!),
      { atol: 1e-4, rtol: 1e-4 },
    );
    both("unary on a transposed view", [{ shape: [7, 9] }], ([x]) => x!.t().tanh().exp());
    // Large enough for the tiled (oneDNN reorder) transposing copy.
    both("copy of a large transposed view", [{ shape: [96, 80] }], ([x]) => x!.t().contiguous());
    both("unary on a large permuted view", [{ shape: [6, 40, 50] }], ([x]) =>
      x!.permute([2, 0, 1]).exp(),
    );
  });

  it("reads huge-stride expanded views without copying them", () => {
    both("expanded scalar times a matrix", [{ shape: [1, 1] }, { shape: [300, 200] }], ([s, x]) =>
      s!.expand([300, 200]).mul(x!),
    );
    both("every 512th column", [{ shape: [8, 4096] }], ([x]) =>
      x!.reshape([8, 8, 512]).narrow(2, 0, 1).exp(),
    );
    both(
      "matmul with an expanded batch operand",
      [{ shape: [1, 3, 4] }, { shape: [6, 4, 2] }],
      ([a, b]) => a!.expand([6, 3, 4]).matmul(b!),
      { atol: 1e-4, rtol: 1e-4 },
    );
  });

  it("handles empty tensors and zero-size dims", () => {
    on(backend, () => {
      expect(tg.zeros([0, 3]).add(tg.ones([3])).shape).toEqual([0, 3]);
      expect(tg.zeros([2, 0]).sum(1).toArray()).toEqual([0, 0]);
      expect(tg.zeros([0, 4]).matmul(tg.ones([4, 5])).shape).toEqual([0, 5]);
      expect(
        tg
          .zeros([3, 0])
          .matmul(tg.ones([0, 2]))
          .toArray(),
      ).toEqual([
        [0, 0],
        [0, 0],
        [0, 0],
      ]);
      expect(tg.F.conv2d(tg.zeros([0, 2, 4, 4]), tg.ones([3, 2, 3, 3])).shape).toEqual([
        0, 3, 2, 2,
      ]);
      expect(tg.cat([tg.zeros([0, 2]), tg.ones([1, 2])], 0).toArray()).toEqual([[1, 1]]);
    });
  });

  it("rejects mismatched shapes and bad indices with a clear error", () => {
    on(backend, () => {
      expect(() => tg.randn([2, 3]).matmul(tg.randn([4, 5]))).toThrow(tg.TsgradError);
      expect(() => tg.F.conv2d(tg.randn([1, 3, 5, 5]), tg.randn([2, 4, 3, 3]))).toThrow(/conv2d/);
      expect(() => tg.randn([2, 3]).add(tg.randn([4]))).toThrow(tg.TsgradError);
      const idx = tg.tensor(Int32Array.from([0, 7]), { shape: [1, 2] });
      expect(() => tg.gather(tg.randn([1, 4]), 1, idx)).toThrow(
        "gather: index 7 is out of range for axis 1 of size 4",
      );
      expect(() => tg.scatterAdd(tg.ones([1, 2]), 1, idx, [1, 4])).toThrow(
        /scatterAdd: index 7 is out of range/,
      );
    });
  });
});
