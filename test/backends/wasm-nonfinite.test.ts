/**
 * The fast backends at non-finite values (issue 19), where their kernels took shortcuts that the
 * reference and PyTorch do not: zero padding that a convolution never multiplies (0·inf = NaN in
 * PyTorch), and fused recurrent layers whose backward pass multiplied the zeros of an unused
 * output's cotangent by an infinite cell state or a NaN gate. Run on wasm and, where the addon
 * is built, native. Expected values: PyTorch 1.13 (/usr/bin/python3, float32, torch.conv2d and
 * torch.lstm as test/differential/torch_eval.py calls them).
 */
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { nativeBackend } from "../../src/backends/native/index.js";
import { on } from "../helpers/conformance.js";

if (!tg.findBackend("native")) tg.registerBackend(nativeBackend);
const backends = ["wasm", ...(nativeBackend.available() ? ["native"] : [])];

const f32 = (data: number[], shape: number[]) =>
  new tg.Tensor(Float32Array.from(data), "float32", shape);

/** `got` has NaN, ±inf and finite values where `want` has them, the finite ones within 1e-5. */
function expectLike(got: ArrayLike<number>, want: number[]) {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => {
    const g = got[i]!;
    if (Number.isNaN(w)) expect(g, `element ${i}`).toBeNaN();
    else if (!Number.isFinite(w)) expect(g, `element ${i}`).toBe(w);
    else {
      expect(Math.abs(g - w), `element ${i}: ${g} vs ${w}`).toBeLessThanOrEqual(
        1e-5 * (1 + Math.abs(w)),
      );
    }
  });
}

describe.each(backends)("%s at non-finite values", (backend) => {
  // x = (arange(9) / 4 − 1) as [1, 1, 3, 3], a 3×3 kernel, padding 1.
  const x = () =>
    f32(
      [0, 1, 2, 3, 4, 5, 6, 7, 8].map((v) => v / 4 - 1),
      [1, 1, 3, 3],
    );

  it("conv2d multiplies the zero padding by an infinite weight, as PyTorch (0·inf = NaN)", () => {
    const w = f32([0.5, Infinity, -0.25, 1, 2, 0.5, 0.25, -1, 0.75], [1, 1, 3, 3]);
    const y = on(backend, () => tg.F.conv2d(x(), w, null, { padding: 1 }).dataSync());
    // torch: conv2d(x, w, padding=1)
    expectLike(y, [NaN, NaN, NaN, -Infinity, -Infinity, -Infinity, -Infinity, NaN, Infinity]);
  });

  it("and the padding by an infinite output gradient in the weight gradient", () => {
    const w = f32([0.5, 1.5, -0.25, 1, 2, 0.5, 0.25, -1, 0.75], [1, 1, 3, 3]).requiresGrad_();
    const xs = x().requiresGrad_();
    const g = new Float32Array(9).fill(1);
    g[0] = Infinity;
    on(backend, () => {
      const y = tg.F.conv2d(xs, w, null, { padding: 1 });
      y.mul(new tg.Tensor(g, "float32", [1, 1, 3, 3]))
        .sum()
        .backward();
    });
    // torch: y.backward(g) with g = ones, g[0, 0, 0, 0] = inf
    expectLike(w.grad!.dataSync(), [NaN, NaN, NaN, NaN, -Infinity, -Infinity, NaN, -Infinity, NaN]);
    expectLike(xs.grad!.dataSync(), [
      Infinity,
      Infinity,
      3.75,
      -Infinity,
      Infinity,
      3.5,
      2.25,
      3.5,
      2.25,
    ]);
  });

  it("conv2d with finite operands still skips nothing it must not (padding 0 vs 1 agree inside)", () => {
    const w = f32([0.5, 1.5, -0.25, 1, 2, 0.5, 0.25, -1, 0.75], [1, 1, 3, 3]);
    const padded = on(backend, () => tg.F.conv2d(x(), w, null, { padding: 1 }).dataSync());
    const valid = on(backend, () => tg.F.conv2d(x(), w, null, { padding: 0 }).dataSync());
    expect(padded.every(Number.isFinite)).toBe(true);
    expect(padded[4]).toBeCloseTo(valid[0]!, 5);
  });

  it("lstmLayer's gradients through the cell state only stay finite beside an inf or NaN state", () => {
    const leaves = [
      f32([0.5, -0.3], [1, 2, 1]),
      f32([0.1, -0.2, 0.3, 0.4], [2, 2]),
      f32([Infinity, 0.5, NaN, -0.5], [2, 2]),
      f32([0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8], [8, 1]),
      f32(
        Array.from({ length: 16 }, (_, i) => i / 10 - 0.7),
        [8, 2],
      ),
    ].map((t) => t.requiresGrad_());
    const [xs, h0, c0, wih, whh] = leaves as [
      tg.Tensor,
      tg.Tensor,
      tg.Tensor,
      tg.Tensor,
      tg.Tensor,
    ];
    on(backend, () => {
      const [, , cN] = tg.F.lstmLayer(xs, h0, c0, wih, whh, null, null);
      cN.mul(f32([1, 2, 3, 4], [2, 2]))
        .sum()
        .backward();
    });
    // torch: c[0].backward([[1, 2], [3, 4]]) of torch.lstm(x, (h0, c0), [wih, whh], no bias)
    expectLike(xs.grad!.dataSync(), [-Infinity, NaN]);
    expectLike(h0.grad!.dataSync(), [-Infinity, -Infinity, NaN, NaN]);
    expectLike(
      c0.grad!.dataSync(),
      [0.46505704522132874, 1.0947152376174927, 1.4400320053100586, 1.8502806425094604],
    );
    expectLike(wih.grad!.dataSync(), [
      0.035493552684783936,
      -0.20126748085021973,
      NaN,
      0.27303802967071533,
      -0.09329298138618469,
      0.062499433755874634,
      0,
      0,
    ]);
    expectLike(whh.grad!.dataSync(), [
      -0.0030969022773206234,
      -0.022127341479063034,
      0.10077998042106628,
      0.19019970297813416,
      NaN,
      NaN,
      -0.12438367307186127,
      -0.24843065440654755,
      0.39351385831832886,
      0.35789576172828674,
      0.5041500329971313,
      0.3573947548866272,
      0,
      0,
      0,
      0,
    ]);
  });

  it("lstmLayer and gruLayer decline non-finite inputs (the composition runs), not finite ones", () => {
    const h0 = f32([0, 0, 0, 0], [2, 2]);
    const w = (r: number, c: number) =>
      f32(
        Array.from({ length: r * c }, (_, i) => i / 20 - 0.3),
        [r, c],
      );
    /** Whether the backend's fused `op` ran for input x, and its output. */
    const run = (op: "gruLayer" | "lstmLayer", x: tg.Tensor, where = backend) => {
      const was = tg.trackKernels(true);
      tg.kernelStats(true);
      try {
        const y = on(where, () =>
          op === "gruLayer"
            ? tg.F.gruLayer(x, h0, w(6, 1), w(6, 2), null, null)[0]
            : tg.F.lstmLayer(x, h0, h0, w(8, 1), w(8, 2), null, null)[0],
        ).dataSync();
        const fused = tg.kernelStats(true).some((r) => r.backend === where && r.op === op);
        return { y: Array.from(y), fused };
      } finally {
        tg.trackKernels(was);
      }
    };
    const ops =
      backend === "wasm" ? (["gruLayer", "lstmLayer"] as const) : (["lstmLayer"] as const);
    for (const op of ops) {
      const fin = f32([0.1, 0.2], [1, 2, 1]);
      const bad = f32([0.1, Infinity], [1, 2, 1]);
      expect(run(op, fin).fused, op).toBe(true);
      const got = run(op, bad);
      expect(got.fused, op).toBe(false);
      expectLike(got.y, run(op, bad, "js").y);
    }
  });
});
