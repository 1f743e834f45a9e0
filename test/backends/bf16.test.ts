/**
 * "medium" float32 matmul precision (`tg.setFloat32MatmulPrecision`): on a CPU with native
 * bfloat16 products the native backend's matmul and convolutions compute from bf16-rounded
 * operands with float32 accumulation. The reference is the JS backend on operands rounded to
 * bf16 here (round to nearest even): the products of bf16 values are exact in float32, so the two
 * differ only by accumulation order, far less than the rounding itself (which the tests also
 * check is there, so they cannot pass with a float32 kernel).
 */
import { afterEach, describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { nativeBackend } from "../../src/backends/native/index.js";

if (!tg.findBackend("native")) tg.registerBackend(nativeBackend);
const bf16 = nativeBackend.available() && nativeBackend.info().bf16 === true;

afterEach(() => {
  tg.setFloat32MatmulPrecision("highest");
  tg.setBackend("js");
});

/** Round float32 values to the nearest bfloat16 (ties to even), as float32. */
function roundBf16(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const o = new Uint32Array(out.buffer);
  for (let i = 0; i < x.length; i++) {
    const v = u[i]!;
    o[i] = (((v + 0x7fff + ((v >>> 16) & 1)) >>> 16) << 16) >>> 0;
  }
  return out;
}

function rounded(t: tg.Tensor): tg.Tensor {
  return tg.tensor(roundBf16(t.contiguous().dataSync() as Float32Array), { shape: t.shape });
}

/** max |a - b| over the largest |b|. */
function relErr(a: tg.Tensor, b: tg.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  let e = 0;
  let s = 1e-30;
  for (let i = 0; i < y.length; i++) {
    e = Math.max(e, Math.abs(x[i]! - y[i]!));
    s = Math.max(s, Math.abs(y[i]!));
  }
  return e / s;
}

function on<T>(name: string, f: () => T): T {
  tg.setBackend(name);
  return f();
}

describe("withFloat32MatmulPrecision", () => {
  it("restores the caller's setting after a return, a throw and a settled promise", async () => {
    tg.setFloat32MatmulPrecision("high");
    expect(tg.withFloat32MatmulPrecision("medium", () => tg.getFloat32MatmulPrecision())).toBe(
      "medium",
    );
    expect(tg.getFloat32MatmulPrecision()).toBe("high");
    expect(() =>
      tg.withFloat32MatmulPrecision("medium", () => {
        throw new Error("inside");
      }),
    ).toThrow("inside");
    expect(tg.getFloat32MatmulPrecision()).toBe("high");
    const pending = tg.withFloat32MatmulPrecision("medium", async () => {
      await new Promise((r) => setTimeout(r, 1));
      return tg.getFloat32MatmulPrecision();
    });
    // Still the run's precision while the promise is pending; the caller's once it settles.
    expect(tg.getFloat32MatmulPrecision()).toBe("medium");
    expect(await pending).toBe("medium");
    expect(tg.getFloat32MatmulPrecision()).toBe("high");
    await expect(
      tg.withFloat32MatmulPrecision("medium", () => Promise.reject(new Error("later"))),
    ).rejects.toThrow("later");
    expect(tg.getFloat32MatmulPrecision()).toBe("high");
    expect(() => tg.withFloat32MatmulPrecision("low" as tg.MatmulPrecision, () => 1)).toThrow(
      /unknown precision/,
    );
    expect(tg.getFloat32MatmulPrecision()).toBe("high");
  });

  it("says whether products run in bf16 on the active backend", () => {
    expect(on("js", () => tg.bf16Products("medium"))).toBe(false);
    if (!nativeBackend.available()) return;
    expect(on("native", () => tg.bf16Products("highest"))).toBe(false);
    expect(on("native", () => tg.bf16Products("medium"))).toBe(bf16);
    tg.setFloat32MatmulPrecision("medium");
    expect(on("native", () => tg.bf16Products())).toBe(bf16);
  });
});

describe("setFloat32MatmulPrecision", () => {
  it("rejects an unknown precision, naming the choices", () => {
    expect(() => tg.setFloat32MatmulPrecision("low" as tg.MatmulPrecision)).toThrow(
      /unknown precision "low"; one of highest, high, medium/,
    );
  });

  it("leaves the JS backend in float32", () => {
    const a = tg.randn([16, 24]);
    const b = tg.randn([24, 8]);
    const full = on("js", () => a.matmul(b).dataSync().slice());
    tg.setFloat32MatmulPrecision("medium");
    expect(on("js", () => a.matmul(b).dataSync())).toEqual(full);
  });
});

describe.runIf(bf16)("native bf16 compute (medium precision)", () => {
  const cases: [string, () => [tg.Tensor, tg.Tensor]][] = [
    ["dense [70, 130] @ [130, 90]", () => [tg.randn([70, 130]), tg.randn([130, 90])]],
    ["transposed operand", () => [tg.randn([64, 96]), tg.randn([80, 96]).t()]],
    ["transposed left operand", () => [tg.randn([96, 33]).t(), tg.randn([96, 40])]],
    ["batched, broadcast weights", () => [tg.randn([3, 17, 40]), tg.randn([40, 24])]],
    ["batched both", () => [tg.randn([2, 3, 20, 36]), tg.randn([2, 3, 36, 12])]],
    // Half of each row: not dense in any order, so oneDNN's reorder converts it.
    ["strided view", () => [tg.randn([48, 128]).narrow(1, 0, 64), tg.randn([64, 32])]],
    // Over 65,536 elements to convert: the threads split both operands' concatenation between
    // them, the split falling inside the first operand.
    ["large, both converted together", () => [tg.randn([200, 300]), tg.randn([150, 300]).t()]],
    [
      "large, one converted and one reordered",
      () => [tg.randn([256, 512]).narrow(1, 0, 300), tg.randn([300, 240])],
    ],
  ];
  for (const [name, make] of cases) {
    it(`matmul: ${name}`, () => {
      const [a, b] = make();
      const ref = on("js", () => rounded(a).matmul(rounded(b)));
      const full = on("js", () => a.matmul(b));
      tg.setFloat32MatmulPrecision("medium");
      const got = on("native", () => a.matmul(b));
      expect(got.shape).toEqual(ref.shape);
      expect(relErr(got, ref)).toBeLessThan(2e-6);
      // The rounding is really there: float32 operands give a result ~1e-3 away.
      expect(relErr(got, full)).toBeGreaterThan(1e-4);
    });
  }

  it("conv2d with bias: forward, input and weight gradients", () => {
    const x = tg.randn([4, 16, 9, 9]);
    const w = tg.randn([24, 16, 3, 3]).mul(0.2);
    const bias = tg.randn([24]);
    // The upstream gradient is a multiple of 1/4 in [-2, 2]: exact in bf16, so rounding it (as
    // the kernel does) changes nothing and the reference can use it as is.
    const G = tg.tensor(
      Float32Array.from({ length: 4 * 24 * 9 * 9 }, (_, i) => (((i * 7919) % 17) - 8) / 4),
      { shape: [4, 24, 9, 9] },
    );
    const opts = { stride: 1, padding: 1 };
    const grads = (x0: tg.Tensor, w0: tg.Tensor) => {
      const xv = x0.clone().requiresGrad_();
      const wv = w0.clone().requiresGrad_();
      const bv = bias.clone().requiresGrad_();
      const y = tg.F.conv2d(xv, wv, bv, opts);
      y.mul(G).sum().backward();
      return { y, dx: xv.grad!, dw: wv.grad!, db: bv.grad! };
    };
    const xr = rounded(x);
    const wr = rounded(w);
    const ref = on("js", () => ({
      y: tg.F.conv2d(xr, wr, bias, opts),
      dx: grads(x, wr).dx, // ∂/∂x reads the rounded weights
      dw: grads(xr, w).dw, // ∂/∂w reads the rounded input
      db: grads(x, w).db,
    }));
    const full = on("js", () => grads(x, w));
    tg.setFloat32MatmulPrecision("medium");
    const got = on("native", () => grads(x, w));
    expect(relErr(got.y, ref.y)).toBeLessThan(2e-6);
    expect(relErr(got.dx, ref.dx)).toBeLessThan(2e-6);
    expect(relErr(got.dw, ref.dw)).toBeLessThan(2e-6);
    expect(relErr(got.db, ref.db)).toBeLessThan(2e-6);
    expect(relErr(got.y, full.y)).toBeGreaterThan(1e-4);
    expect(relErr(got.dx, full.dx)).toBeGreaterThan(1e-4);
    expect(relErr(got.dw, full.dw)).toBeGreaterThan(1e-4);
  });

  it("trains: a small CNN's loss falls under medium precision, parameters stay float32", () => {
    tg.setFloat32MatmulPrecision("medium");
    tg.setBackend("native");
    tg.manualSeed(0);
    const net = new tg.nn.Sequential(
      new tg.nn.Conv2d(1, 8, 3, { padding: 1 }),
      new tg.nn.ReLU(),
      new tg.nn.Flatten(),
      new tg.nn.Linear(8 * 8 * 8, 4),
    );
    const opt = new tg.optim.SGD(net.parameters(), { lr: 0.05, momentum: 0.9 });
    const x = tg.randn([32, 1, 8, 8]);
    const y = tg.tensor(
      Int32Array.from({ length: 32 }, (_, i) => i % 4),
      { dtype: "int32" },
    );
    const losses: number[] = [];
    for (let i = 0; i < 15; i++) {
      opt.zeroGrad();
      const loss = tg.F.crossEntropy(net.forward(x), y);
      loss.backward();
      opt.step();
      losses.push(loss.item());
    }
    expect(losses[14]!).toBeLessThan(losses[0]! * 0.5);
    for (const p of net.parameters()) expect(p.dtype).toBe("float32");
  });
});
