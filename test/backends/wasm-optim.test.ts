/**
 * The wasm backend's fused optimizer kernels against the JS reference loops: several steps of
 * SGD, Adam/AdamW/AMSGrad and RMSprop on identical state must give the reference's parameters
 * and state to the bit (the C loops follow its double-precision operations), on one thread and
 * on two (past the parallel threshold), with a length that leaves an odd element.
 */
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import {
  type AdamKernelHyper,
  type OptimizerKernels,
  type RmspropKernelHyper,
  type SgdKernelHyper,
  jsOptimizerKernels,
} from "../../src/optim/kernels.js";

const wasm = tg.wasmBackend;

function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const g = new tg.Generator(seed);
  return Float32Array.from({ length: n }, () => (2 * g.uniform() - 1) * scale);
}

/** Wait until `n` threads can take part in a call (workers start in the background). */
async function threadsReady(n: number): Promise<void> {
  for (
    let t = 0;
    t < 200 && wasm.numThreads() >= n && (wasm.info().threadsRunning as number) < n;
    t++
  ) {
    await new Promise((r) => setTimeout(r, 10));
  }
}

type Step = (
  k: OptimizerKernels,
  p: Float32Array,
  g: Float32Array,
  s: Float32Array[],
  t: number,
) => void;

/**
 * Run `steps` updates with the wasm kernels and the JS reference on identical state; return the
 * first element index where any array differs (−1 when all agree to the bit).
 */
function firstDifference(n: number, nState: number, step: Step, steps = 4): number {
  const init = () => ({
    p: randomArray(n, 1),
    s: Array.from({ length: nState }, () => new Float32Array(n)),
  });
  const a = init();
  const b = init();
  for (let t = 1; t <= steps; t++) {
    // Large and small gradients, some exactly zero, so every branch of the update runs.
    const g = randomArray(n, 10 + t, t % 2 ? 1 : 1e-3);
    for (let i = 0; i < n; i += 97) g[i] = 0;
    step(wasm.optimizer as OptimizerKernels, a.p, g, a.s, t);
    step(jsOptimizerKernels, b.p, g, b.s, t);
  }
  const pairs = [[a.p, b.p], ...a.s.map((s, i) => [s, b.s[i]!])] as [Float32Array, Float32Array][];
  for (const [x, y] of pairs) {
    for (let i = 0; i < n; i++) if (!Object.is(x[i], y[i])) return i;
  }
  // The kernels did something: the parameter moved.
  const start = randomArray(n, 1);
  expect(a.p.some((v, i) => v !== start[i])).toBe(true);
  return -1;
}

const sgd =
  (
    momentum: number,
    dampening: number,
    nesterov: boolean,
    weightDecay: number,
    maximize = false,
  ): Step =>
  (k, p, g, [buf], t) => {
    const h: SgdKernelHyper = {
      lr: 0.1,
      momentum,
      dampening,
      weightDecay,
      nesterov,
      maximize,
      initBuffer: t === 1,
    };
    expect(k.sgd(p, g, momentum > 0 ? buf! : null, h)).not.toBe(false);
  };

const adam =
  (decoupled: boolean, maximize: boolean, weightDecay: number, amsgrad = false): Step =>
  (k, p, g, [m, v, vmax], t) => {
    const h: AdamKernelHyper = {
      lr: amsgrad ? 1e-2 : 1e-3,
      beta1: amsgrad ? 0.8 : 0.9,
      beta2: amsgrad ? 0.99 : 0.999,
      eps: amsgrad ? 1e-6 : 1e-8,
      weightDecay,
      decoupledWeightDecay: decoupled,
      maximize,
      step: t,
    };
    expect(k.adam(p, g, m!, v!, amsgrad ? vmax! : null, h)).not.toBe(false);
  };

const rmsprop =
  (centered: boolean, momentum: number): Step =>
  (k, p, g, [sq, ga, buf]) => {
    const h: RmspropKernelHyper = {
      lr: 1e-2,
      alpha: 0.99,
      eps: 1e-8,
      weightDecay: 1e-3,
      momentum,
      centered,
      maximize: true,
    };
    expect(k.rmsprop(p, g, sq!, centered ? ga! : null, momentum > 0 ? buf! : null, h)).not.toBe(
      false,
    );
  };

const cases: [string, number, Step][] = [
  ["sgd", 1, sgd(0, 0, false, 0)],
  ["sgd with momentum, dampening, weight decay, maximize", 1, sgd(0.9, 0.1, false, 1e-2, true)],
  ["sgd nesterov", 1, sgd(0.9, 0, true, 0)],
  ["adam", 2, adam(false, false, 0)],
  ["adam with L2 weight decay, maximize", 2, adam(false, true, 1e-2)],
  ["adamw", 2, adam(true, false, 1e-2)],
  ["adamw amsgrad", 3, adam(true, false, 1e-2, true)],
  ["rmsprop", 3, rmsprop(false, 0)],
  ["rmsprop centered with momentum", 3, rmsprop(true, 0.5)],
];

describe("wasmBackend.optimizer", () => {
  it.each(cases)("%s gives the reference's bits on one thread", (_name, nState, step) => {
    const threads = wasm.numThreads();
    wasm.setNumThreads(1);
    try {
      expect(firstDifference(1001, nState, step)).toBe(-1);
    } finally {
      wasm.setNumThreads(threads);
    }
  });

  it.each(cases)(
    "%s gives the reference's bits on two threads past the parallel threshold",
    async (_name, nState, step) => {
      const threads = wasm.numThreads();
      wasm.setNumThreads(2);
      await threadsReady(2);
      try {
        expect(wasm.info().threadsRunning).toBe(2);
        // 2^17 + 3: above the 2^17 elements from which the update runs on threads; odd.
        expect(firstDifference((1 << 17) + 3, nState, step, 3)).toBe(-1);
      } finally {
        wasm.setNumThreads(threads);
      }
    },
  );

  it("runs through tg.optim on the wasm backend", () => {
    const prev = tg.getBackend().name;
    tg.setBackend("wasm");
    const was = tg.trackKernels(true);
    tg.kernelStats(true);
    try {
      const w = tg.tensor([[1, -2, 3]]).requiresGrad_();
      const opt = new tg.optim.Adam([w], { lr: 0.1 });
      w.mul(w).sum().backward();
      opt.step();
      expect(tg.kernelStats(true)).toContainEqual({ backend: "wasm", op: "optim.adam", calls: 1 });
      // The first Adam step moves every coordinate by lr against its gradient's sign.
      expect(Array.from(w.dataSync()).map((v) => Math.round(v * 10) / 10)).toEqual([
        0.9, -1.9, 2.9,
      ]);
    } finally {
      tg.trackKernels(was);
      tg.setBackend(prev);
    }
  });

  it("declines float64 and rejects mismatched lengths by name", () => {
    const h: SgdKernelHyper = {
      lr: 0.1,
      momentum: 0,
      dampening: 0,
      weightDecay: 0,
      nesterov: false,
      maximize: false,
      initBuffer: false,
    };
    const opt = wasm.optimizer as OptimizerKernels;
    expect(opt.sgd(new Float64Array(3), new Float64Array(3), null, h)).toBe(false);
    expect(() => opt.sgd(new Float32Array(3), new Float32Array(2), null, h)).toThrow(
      "optim.sgd: grad has 2 elements, the parameter 3",
    );
    const a: AdamKernelHyper = {
      lr: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0,
      decoupledWeightDecay: false,
      maximize: false,
      step: 1,
    };
    const f = () => new Float32Array(4);
    expect(() => opt.adam(f(), f(), f(), new Float32Array(5), null, a)).toThrow(
      "optim.adam: expAvgSq has 5 elements, the parameter 4",
    );
  });
});
