/**
 * Timing for the Node children: warm-up steps (excluded), then timed windows of whole steps; the
 * figure is the median window throughput. `peers/torch_peer.py` implements the same loop.
 */
import type { Figure, TimingOptions } from "./protocol.js";

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface MeasureSpec {
  name: string;
  unit: Figure["unit"];
  /** Work items (images, tokens) per step; for GFLOP/s figures pass `flopsPerStep / 1e9`. */
  itemsPerStep: number;
  flopsPerStep: number;
  /** One step; resolves once its results are computed (async peers must sync inside). */
  step: () => unknown;
  /** Called with each step's return value (e.g. to record losses). */
  onStep?: (value: unknown) => void;
}

/**
 * Warm up (at least one step, then until `warmupSeconds` have passed, at most three steps), then
 * time windows of at least `windowSeconds` each until `budget` seconds and `minWindows` windows
 * are done — or, for slow peers, until `maxSeconds` have passed with at least one window.
 */
export async function measure(spec: MeasureSpec, t: TimingOptions): Promise<Figure> {
  const now = () => performance.now() / 1000;
  const run = async () => {
    const v: unknown = await spec.step();
    spec.onStep?.(v);
  };
  const w0 = now();
  for (let i = 0; i < 3; i++) {
    await run();
    if (now() - w0 >= t.warmupSeconds) break;
  }
  const rates: number[] = [];
  const perStep: number[] = [];
  let steps = 0;
  const start = now();
  for (;;) {
    const ws = now();
    let n = 0;
    do {
      await run();
      n++;
    } while (now() - ws < t.windowSeconds);
    const dt = now() - ws;
    rates.push((n * spec.itemsPerStep) / dt);
    perStep.push(dt / n);
    steps += n;
    const elapsed = now() - start;
    if (elapsed >= t.maxSeconds) break;
    if (elapsed >= t.budget && rates.length >= t.minWindows) break;
  }
  return {
    name: spec.name,
    unit: spec.unit,
    median: median(rates),
    min: Math.min(...rates),
    max: Math.max(...rates),
    windows: rates.length,
    steps,
    itemsPerStep: spec.itemsPerStep,
    secondsPerStep: median(perStep),
    flopsPerStep: spec.flopsPerStep,
  };
}

/** Deterministic uniform [0, 1) generator (mulberry32) for benchmark inputs shared by JS peers. */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` floats uniform in [-1, 1) and `m` integer labels in [0, classes), from one seed. */
export function syntheticBatch(
  seed: number,
  n: number,
  m: number,
  classes: number,
): { x: Float32Array; y: Int32Array } {
  const u = seededUniform(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = 2 * u() - 1;
  const y = new Int32Array(m);
  for (let i = 0; i < m; i++) y[i] = Math.floor(u() * classes);
  return { x, y };
}
