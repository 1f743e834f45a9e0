/**
 * The wasm backend's fused and elementwise kernels beyond the conformance tables: their threaded
 * paths give the same bits as one thread (each splits outputs, never a sum), and softmax rows
 * holding NaN or infinities come out exactly as the composition's.
 */
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

const wasm = tg.wasmBackend;

/** Run `f` on the wasm backend with `threads` threads (waiting for the workers to start). */
async function onWasm<T>(threads: number, f: () => T): Promise<T> {
  const prev = tg.getBackend().name;
  const was = wasm.numThreads();
  tg.setBackend("wasm");
  wasm.setNumThreads(threads);
  for (let t = 0; t < 200 && (wasm.info().threadsRunning as number) < threads; t++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  try {
    expect(wasm.info().threadsRunning).toBe(threads);
    return f();
  } finally {
    wasm.setNumThreads(was);
    tg.setBackend(prev);
  }
}

/** Values and gradients of `f` at fixed random inputs of `shapes`, as plain arrays. */
function valuesAndGrads(shapes: number[][], f: (xs: tg.Tensor[]) => tg.Tensor): number[][] {
  tg.manualSeed(11);
  const xs = shapes.map((s) => tg.randn(s).requiresGrad_());
  const y = f(xs);
  const w = tg.randn([...y.shape]);
  y.mul(w).sum().backward();
  return [Array.from(y.dataSync()), ...xs.map((x) => Array.from(x.grad!.dataSync()))];
}

describe("wasm kernels on threads", () => {
  // Each case is past PARALLEL_MIN_WORK (runtime.ts) for its kernels' cost estimates, so two
  // threads take part; each must give exactly what one thread gives.
  const cases: [string, number[][], (xs: tg.Tensor[]) => tg.Tensor][] = [
    [
      "lstmLayer (hidden 128, batch 32)",
      [[4, 32, 64], [32, 128], [32, 128], [512, 64], [512, 128], [512]],
      ([x, h, c, wi, wh, b]) =>
        tg.cat(
          tg.F.lstmLayer(x!, h!, c!, wi!.mul(0.1), wh!.mul(0.1), b!, null, { reverse: true }).map(
            (t) => t.reshape([-1]),
          ),
        ),
    ],
    [
      "gruLayer (hidden 160, batch 32)",
      [[4, 32, 64], [32, 160], [480, 64], [480, 160], [480]],
      ([x, h, wi, wh, b]) =>
        tg.cat(
          tg.F.gruLayer(x!, h!, wi!.mul(0.1), wh!.mul(0.1), null, b!).map((t) => t.reshape([-1])),
        ),
    ],
    ["softmax over rows of 1000", [[600, 1000]], ([x]) => x!.softmax(1)],
    ["logSoftmax over columns", [[300, 2000]], ([x]) => x!.logSoftmax(0)],
    ["layerNorm", [[4096, 512], [512], [512]], ([x, w, b]) => tg.F.layerNorm(x!, [512], w, b)],
    ["gelu", [[400, 400]], ([x]) => tg.F.gelu(x!)],
    ["localResponseNorm", [[32, 64, 16, 16]], ([x]) => tg.F.localResponseNorm(x!, 5)],
    ["exp of a transposed view", [[600, 600]], ([x]) => x!.t().exp()],
    ["sum over the first axis", [[1500, 1500]], ([x]) => x!.sum(0)],
    ["amax over the last axis", [[1500, 1500]], ([x]) => x!.amax(1)],
  ];

  it.each(cases)("%s: two threads give one thread's bits", async (_name, shapes, f) => {
    const one = await onWasm(1, () => valuesAndGrads(shapes, f));
    const two = await onWasm(2, () => valuesAndGrads(shapes, f));
    expect(two.length).toBe(one.length);
    two.forEach((a, i) => {
      const b = one[i]!;
      const same = a.length === b.length && a.every((v, k) => Object.is(v, b[k]));
      expect(same, `output ${i}`).toBe(true);
    });
  });
});

describe("wasm softmax on infinite and NaN inputs", () => {
  // Rows: +inf (softmax NaN throughout), -inf entries (masks), all -inf, NaN, large finite.
  const rows = [
    [Infinity, 1, 2, 0],
    [-Infinity, 1, 2, -Infinity],
    [-Infinity, -Infinity, -Infinity, -Infinity],
    [NaN, 1, 2, 3],
    [3e38, -3e38, 1, 0],
  ];
  const data = Float32Array.from(rows.flat());
  const run = (backend: string, f: (x: tg.Tensor) => tg.Tensor): number[] => {
    const prev = tg.getBackend().name;
    tg.setBackend(backend);
    try {
      return Array.from(f(tg.tensor(data, { shape: [5, 4] })).dataSync());
    } finally {
      tg.setBackend(prev);
    }
  };

  it.each([
    ["softmax along rows", (x: tg.Tensor) => x.softmax(1)],
    ["logSoftmax along rows", (x: tg.Tensor) => x.logSoftmax(1)],
    ["softmax along columns", (x: tg.Tensor) => x.t().contiguous().softmax(0)],
    ["logSoftmax along columns", (x: tg.Tensor) => x.t().contiguous().logSoftmax(0)],
  ] as const)("%s matches the composition", (_name, f) => {
    const mine = run("wasm", f);
    const ref = run("js", f);
    mine.forEach((v, i) => {
      const r = ref[i]!;
      const ok = Number.isNaN(r) ? Number.isNaN(v) : v === r || Math.abs(v - r) <= 1e-6;
      expect(ok, `element ${i}: wasm ${v}, reference ${r}`).toBe(true);
    });
  });

  it("makes a softmax row holding +inf NaN throughout, and keeps -inf entries as masks", () => {
    const y = run("wasm", (x) => x.softmax(1));
    expect(y.slice(0, 4).every(Number.isNaN)).toBe(true);
    expect(y.slice(4, 8)).toEqual([0, expect.closeTo(0.2689, 4), expect.closeTo(0.7311, 4), 0]);
  });
});
