/**
 * Seeded randomness. One generator type (xoshiro128**, seeded through splitmix32) drives every
 * random draw in tsgrad: initialisers, dropout masks, shuffling, augmentation, sampling. The same
 * seed gives the same bits on every backend and platform, and a generator's state can be saved
 * into a checkpoint and restored to resume a run exactly.
 */
import { TsgradError } from "./errors.js";

/** Serializable generator state (four 32-bit words). */
export type GeneratorState = [number, number, number, number];

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A seeded random number generator.
 *
 * @example
 * const g = new tg.Generator(42);
 * const a = g.uniform();
 * const b = new tg.Generator(42).uniform();
 * console.log(a === b); // true
 */
export class Generator {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  constructor(seed = 0) {
    this.seed(seed);
  }

  /** Reset the generator to the state derived from `seed` (an integer; fractional bits are ignored). */
  seed(seed: number): void {
    if (!Number.isFinite(seed)) {
      throw new TsgradError("manualSeed", `seed must be a finite number, got ${seed}`);
    }
    const hi = Math.floor(seed / 2 ** 32);
    const next = splitmix32((seed >>> 0) ^ Math.imul(hi, 0x27d4eb2d));
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /**
   * Fill `out` with uniform samples: the same values as `out.length` calls of `uniform()`, with the
   * generator state kept in locals (several times faster for dropout masks and initialisers).
   *
   * @example
   * const a = new Float32Array(3);
   * new tg.Generator(7).fillUniform(a);
   * const g = new tg.Generator(7);
   * console.log(Array.from(a).every((v) => v === Math.fround(g.uniform()))); // true
   */
  fillUniform(out: { length: number; [i: number]: number }): void {
    if (out instanceof Float32Array && this.bulk(out, false, 0, 0)) return;
    let s0 = this.s0;
    let s1 = this.s1;
    let s2 = this.s2;
    let s3 = this.s3;
    for (let i = 0; i < out.length; i++) {
      const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
      out[i] = result / 4294967296;
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  /**
   * Fill `out` with dropout's scaled keep-mask: `u ≥ p ? 1/(1 − p) : 0` for the next `out.length`
   * uniforms `u`, with `p` and the scale rounded to `out`'s precision, the same numbers as
   * comparing `fillUniform`'s values to `p`.
   *
   * @example
   * const m = new Float32Array(1000);
   * new tg.Generator(1).fillKeepMask(m, 0.25);
   * console.log(m.every((v) => v === 0 || v === Math.fround(4 / 3))); // true
   */
  fillKeepMask(out: Float32Array | Float64Array, p: number): void {
    const round = out instanceof Float32Array ? Math.fround : (v: number) => v;
    const threshold = round(p);
    const scale = round(1 / (1 - p));
    if (out instanceof Float32Array && this.bulk(out, true, threshold, scale)) return;
    this.fillUniform(out);
    for (let i = 0; i < out.length; i++) out[i] = out[i]! >= threshold ? scale : 0;
  }

  /** Long float32 fills go to the registered bulk kernel when there is one (same numbers). */
  private bulk(out: Float32Array, masked: boolean, threshold: number, scale: number): boolean {
    const kernel = out.length >= BULK_MIN ? bulkUniform?.() : undefined;
    if (kernel === undefined) return false;
    const meta = new Float64Array([
      this.s0 >>> 0,
      this.s1 >>> 0,
      this.s2 >>> 0,
      this.s3 >>> 0,
      masked ? 1 : 0,
      threshold,
      scale,
    ]);
    if (!kernel(out, meta)) return false;
    this.s0 = meta[0]! | 0;
    this.s1 = meta[1]! | 0;
    this.s2 = meta[2]! | 0;
    this.s3 = meta[3]! | 0;
    return true;
  }

  /**
   * Fill `out` with standard normal samples: the same values as `out.length` calls of `normal()`.
   *
   * @example
   * const a = new Float64Array(4);
   * new tg.Generator(3).fillNormal(a);
   * const g = new tg.Generator(3);
   * console.log(Array.from(a).every((v) => v === g.normal())); // true
   */
  fillNormal(out: { length: number; [i: number]: number }): void {
    for (let i = 0; i < out.length; i++) out[i] = this.normal();
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Standard normal (Box–Muller on two uniforms; the first uniform is kept away from 0). */
  normal(): number {
    const u1 = (this.nextU32() + 0.5) / 4294967296;
    const u2 = this.nextU32() / 4294967296;
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Uniform integer in [low, high). */
  int(low: number, high: number): number {
    const span = high - low;
    if (!(span >= 1) || span > 2 ** 32) {
      throw new TsgradError(
        "randint",
        `need low < high with high - low <= 2^32, got [${low}, ${high})`,
      );
    }
    // Rejection sampling avoids modulo bias.
    const limit = 4294967296 - (4294967296 % span);
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return low + (x % span);
  }

  /** A random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }

  getState(): GeneratorState {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  setState(state: readonly number[]): void {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w))) {
      throw new TsgradError(
        "Generator.setState",
        `expected four 32-bit integers, got [${state.join(",")}]`,
      );
    }
    [this.s0, this.s1, this.s2, this.s3] = state.map((w) => w >>> 0) as GeneratorState;
  }
}

/**
 * A kernel that fills float32 arrays from xoshiro128** exactly as `fillUniform` (or
 * `fillKeepMask`) would: `meta` = [s0, s1, s2, s3 (unsigned), masked (0/1), threshold, scale],
 * and it writes the advanced state back to meta[0..3]. Returns false to decline.
 */
export type BulkUniformKernel = (out: Float32Array, meta: Float64Array) => boolean;

// Below this a call costs more than the loop it replaces.
const BULK_MIN = 4096;
let bulkUniform: (() => BulkUniformKernel | undefined) | undefined;

/**
 * Register where long float32 uniform fills go (the Node entry points this at the native addon
 * when it loads); returns the previous provider. The numbers do not change, only the speed;
 * `undefined` keeps every draw in the JS loop.
 *
 * @example
 * const previous = tg.setBulkUniformKernel(undefined); // JS loop only
 * const a = new Float32Array(5000);
 * new tg.Generator(3).fillUniform(a);
 * tg.setBulkUniformKernel(previous);
 * const b = new Float32Array(5000);
 * new tg.Generator(3).fillUniform(b);
 * console.log(a.every((v, i) => v === b[i])); // true
 */
export function setBulkUniformKernel(
  provider: (() => BulkUniformKernel | undefined) | undefined,
): (() => BulkUniformKernel | undefined) | undefined {
  const previous = bulkUniform;
  bulkUniform = provider;
  return previous;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The generator used when no explicit one is passed. */
export const defaultGenerator = new Generator(0);

/**
 * Seed the default generator (like `torch.manual_seed`).
 *
 * @example
 * tg.manualSeed(0);
 * const a = tg.randn([3]).toArray();
 * tg.manualSeed(0);
 * const b = tg.randn([3]).toArray();
 * console.log(JSON.stringify(a) === JSON.stringify(b)); // true
 */
export function manualSeed(seed: number): void {
  defaultGenerator.seed(seed);
}
