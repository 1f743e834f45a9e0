/**
 * The WebAssembly SIMD peak of a JS engine: `bench/wasm-peak.c` (twelve independent f32x4
 * multiply-add chains per thread) on 1 and N threads at once, each thread a worker with its own
 * instance of the module, started together through a SharedArrayBuffer. Two builds: "simd"
 * (f32x4.mul + f32x4.add) and "relaxed" (f32x4.relaxed_madd, an FMA where the engine has relaxed
 * SIMD); a wasm peer's sgemm is read against the peak of the build it ran, at its thread count.
 *
 * Nothing here touches Node or the DOM: Node (`bench/wasm-peak.ts`, worker_threads) and the
 * browser page (Web Workers) pass in how to start a worker from source text, and the worker
 * source itself runs in both.
 */
import type { CheckResult, Environment } from "./protocol.js";

/** f32x4 chains per thread and lanes per chain (wasm-peak.c). */
export const PEAK_CHAINS = 12;
const LANES = 4;
const FLOP_PER_ITER = PEAK_CHAINS * LANES * 2;
/** The chains' start, multiplier and addend: a converges to add / (1 − mul) = 0.1, no denormals. */
const SEED = 1;
const MUL = 0.999999;
const ADD = 1e-7;

export type WasmVariant = "simd" | "relaxed";

/**
 * One engine's peak: GFLOP/s by thread count (keys "1", "2", …) for each build, or why that
 * build could not run (an engine without relaxed SIMD).
 */
export interface WasmPeak {
  env: Environment;
  /** The engine it ran on (Node's version, the browser's user agent). */
  engine: string;
  simd: Record<string, number> | string;
  relaxed: Record<string, number> | string;
  /** Under `--check`: the chains' values against a float32 reference computed in JS. */
  checks?: CheckResult[];
}

/** A peak measurement, or why there is none in that environment. */
export type WasmPeakRun = WasmPeak | { env: Environment; unavailable: string };

/**
 * A module holding one f32x4.relaxed_madd: jax-js's own probe (`featureProbes["relaxed-madd"]`),
 * which tsgrad's loader and this bench use the same way, through `WebAssembly.validate`.
 */
export const RELAXED_SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0,
  32, 0, 32, 1, 32, 2, 253, 133, 2, 11,
]);

/** A started worker, whatever the environment. */
export interface PeakWorker {
  post(message: unknown): void;
  onMessage(f: (message: unknown) => void): void;
  onError(f: (message: string) => void): void;
  terminate(): void;
}

// Control words (Int32) in the shared block: generation, done count, threads taking part (−1:
// exit), build (0 simd, 1 relaxed), iterations. Results (Float32) from byte 64, one per thread.
const GEN = 0;
const DONE = 1;
const COUNT = 2;
const VARIANT = 3;
const ITERS = 4;
const RESULTS = 64;
const MAX_THREADS = 64;

/**
 * The worker: instantiate both builds, warm them up (V8 compiles a function with its baseline
 * compiler first and swaps in optimised code between calls), say it is ready, then run each task
 * the main thread posts in the control block. Works as a Node worker_threads script and as a
 * browser Web Worker.
 */
export const PEAK_WORKER_SOURCE = `
"use strict";
const send = typeof process === "object" && typeof process.getBuiltinModule === "function"
  ? (() => { const { parentPort } = process.getBuiltinModule("worker_threads");
      parentPort.once("message", start); return (m) => parentPort.postMessage(m); })()
  : ((self.onmessage = (e) => start(e.data)), (m) => self.postMessage(m));
function start({ modules, sab, tid }) {
  const fns = [modules.simd, modules.relaxed].map((m) =>
    m ? new WebAssembly.Instance(m, {}).exports.peak_chains : null);
  for (const f of fns) {
    if (!f) continue;
    const t0 = performance.now();
    for (let n = 0; n < 20 || performance.now() - t0 < 50; n++) f(20000, ${SEED}, ${MUL}, ${ADD});
  }
  const c = new Int32Array(sab, 0, 16);
  const out = new Float32Array(sab, ${RESULTS}, ${MAX_THREADS});
  let gen = Atomics.load(c, ${GEN});
  send({ ready: tid });
  for (;;) {
    Atomics.wait(c, ${GEN}, gen);
    gen = Atomics.load(c, ${GEN});
    const n = c[${COUNT}];
    if (n < 0) return;
    if (tid >= n) continue;
    out[tid] = fns[c[${VARIANT}]](c[${ITERS}], ${SEED}, ${MUL}, ${ADD});
    if (Atomics.add(c, ${DONE}, 1) + 1 === n) Atomics.notify(c, ${DONE});
  }
}
`;

/** What wasm-peak.c returns after `iters` rounds, in float32 as the module computes it. */
export function referenceChains(iters: number, fused: boolean): number {
  const f = Math.fround;
  const m = f(MUL);
  const c = f(ADD);
  const a = Array.from({ length: PEAK_CHAINS }, (_, i) => f(f(SEED) + f(i * f(1e-7))));
  for (let it = 0; it < iters; it++) {
    for (let i = 0; i < PEAK_CHAINS; i++) a[i] = fused ? f(a[i]! * m + c) : f(f(a[i]! * m) + c);
  }
  let s = a[0]!;
  for (let i = 1; i < PEAK_CHAINS; i++) s = f(s + a[i]!);
  return f(f(f(s + s) + s) + s);
}

/** Wait until `c[i]` reaches `target` without blocking a browser's main thread where possible. */
async function waitUntil(c: Int32Array, i: number, target: number): Promise<void> {
  const waitAsync = (
    Atomics as {
      waitAsync?: (
        a: Int32Array,
        i: number,
        v: number,
      ) => { async: boolean; value: Promise<string> | string };
    }
  ).waitAsync;
  for (let v = Atomics.load(c, i); v < target; v = Atomics.load(c, i)) {
    if (waitAsync) {
      const r = waitAsync(c, i, v);
      if (r.async) await r.value;
    } else {
      Atomics.wait(c, i, v);
    }
  }
}

export interface PeakOptions {
  env: Environment;
  engine: string;
  /** wasm-peak.c built without and with relaxed SIMD. */
  bytes: { simd: Uint8Array<ArrayBuffer>; relaxed: Uint8Array<ArrayBuffer> };
  /** Thread counts to measure at (e.g. [1, 2]). */
  threads: number[];
  /** Check the chains' values against `referenceChains` with a short run instead of timing. */
  check: boolean;
  /** Start a worker running `source` (PEAK_WORKER_SOURCE). */
  spawn(source: string): PeakWorker;
  /** Runs per figure; the best counts (default 5). */
  reps?: number;
  /** Seconds one run should last (default 0.2). */
  seconds?: number;
  log?(msg: string): void;
}

/** Measure the peak of each build the engine validates at each thread count. */
export async function measureWasmPeak(o: PeakOptions): Promise<WasmPeak> {
  const relaxedOk = WebAssembly.validate(o.bytes.relaxed);
  const modules = {
    simd: await WebAssembly.compile(o.bytes.simd),
    relaxed: relaxedOk ? await WebAssembly.compile(o.bytes.relaxed) : null,
  };
  const maxThreads = Math.min(Math.max(...o.threads), MAX_THREADS);
  const sab = new SharedArrayBuffer(RESULTS + 4 * MAX_THREADS);
  const c = new Int32Array(sab, 0, 16);
  const out = new Float32Array(sab, RESULTS, MAX_THREADS);
  const workers: PeakWorker[] = [];
  try {
    await Promise.all(
      Array.from({ length: maxThreads }, (_, tid) => {
        const w = o.spawn(PEAK_WORKER_SOURCE);
        workers.push(w);
        return new Promise<void>((resolve, reject) => {
          w.onMessage(() => resolve());
          w.onError((m) => reject(new Error(`wasm peak worker ${tid}: ${m}`)));
          w.post({ modules, sab, tid });
        });
      }),
    );
    /** One run of `iters` rounds on `n` threads: seconds, wall clock from start to last done. */
    const run = async (variant: WasmVariant, n: number, iters: number): Promise<number> => {
      c[COUNT] = n;
      c[VARIANT] = variant === "simd" ? 0 : 1;
      c[ITERS] = iters;
      Atomics.store(c, DONE, 0);
      const t0 = performance.now();
      Atomics.add(c, GEN, 1);
      Atomics.notify(c, GEN);
      await waitUntil(c, DONE, n);
      return (performance.now() - t0) / 1000;
    };
    const result: WasmPeak = {
      env: o.env,
      engine: o.engine,
      simd: {},
      relaxed: relaxedOk
        ? {}
        : "this engine does not validate relaxed SIMD" +
          (o.env === "node" ? " (Node 20: --experimental-wasm-relaxed-simd)" : ""),
    };
    const checks: CheckResult[] = [];
    for (const variant of ["simd", "relaxed"] as const) {
      const table = result[variant];
      if (typeof table === "string") continue;
      if (o.check) {
        const iters = 1000;
        for (const n of o.threads) {
          await run(variant, n, iters);
          const want = [referenceChains(iters, false), referenceChains(iters, true)];
          const got = Array.from(out.subarray(0, n));
          // relaxed_madd may or may not fuse: either rounding is right.
          const err = Math.max(
            ...got.map((g) => Math.min(...want.map((w) => Math.abs(g - w) / Math.abs(w)))),
          );
          const ok = err <= (variant === "simd" ? 1e-7 : 1e-6) && got.every(Number.isFinite);
          checks.push({
            name: `${o.env} wasm peak ${variant} ${n} thr`,
            ok,
            detail: `chains ${got.map((g) => g.toPrecision(8)).join(", ")} vs float32 reference ${want[0]!.toPrecision(8)} (rel. error ${err.toExponential(1)})`,
          });
        }
        continue;
      }
      // Size a run from a short one, so that a slow engine does not take minutes.
      const probe = 2_000_000;
      const rate = probe / (await run(variant, 1, probe));
      const iters = Math.max(probe, Math.min(2 ** 30, Math.round(rate * (o.seconds ?? 0.2))));
      for (const n of o.threads) {
        let best = 0;
        for (let r = 0; r < (o.reps ?? 5); r++) {
          const s = await run(variant, n, iters);
          best = Math.max(best, (n * iters * FLOP_PER_ITER) / s / 1e9);
        }
        table[String(n)] = best;
        o.log?.(`${o.env} wasm ${variant} peak, ${n} thr: ${best.toFixed(1)} GFLOP/s`);
      }
    }
    if (o.check) result.checks = checks;
    return result;
  } finally {
    c[COUNT] = -1;
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
    for (const w of workers) w.terminate();
  }
}
