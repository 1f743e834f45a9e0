/** Tensor creation: from data, constants, ranges, and seeded random draws. */
import {
  type DType,
  type TypedArray,
  allocate,
  dtypeOfArray,
  isDType,
  isFloating,
} from "./dtype.js";
import { TsgradError, fmtShape } from "./errors.js";
import { type Generator, defaultGenerator } from "./random.js";
import { numel } from "./shape.js";
import { type NestedArray, Tensor } from "./tensor.js";

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

export interface RandomOptions extends CreateOptions {
  /** Draw from this generator instead of the default one (seeded by `tg.manualSeed`). */
  generator?: Generator;
}

function checkShape(op: string, shape: readonly number[]): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new TsgradError(
      op,
      `shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`,
    );
  }
}

function finish(t: Tensor, opts: CreateOptions | undefined): Tensor {
  if (opts?.requiresGrad) t.requiresGrad_(true);
  return t;
}

function checkDtype(op: string, dtype: unknown): DType {
  if (dtype === undefined) return "float32";
  if (!isDType(dtype)) throw new TsgradError(op, `unknown dtype ${JSON.stringify(dtype)}`);
  return dtype;
}

/**
 * A tensor from a number, nested arrays of numbers or booleans, or a typed array (which is used
 * as storage without copying when its dtype matches).
 *
 * @example
 * const x = tg.tensor([[1, 2], [3, 4]]);
 * console.log(x.shape, x.dtype); // [2, 2] "float32"
 */
export function tensor(
  data: NestedArray | TypedArray,
  opts?: CreateOptions & { shape?: readonly number[] },
): Tensor {
  if (ArrayBuffer.isView(data)) {
    const src = data;
    const dtype = opts?.dtype ?? dtypeOfArray(src);
    const shape = opts?.shape ?? [src.length];
    checkShape("tensor", shape);
    if (numel(shape) !== src.length) {
      throw new TsgradError(
        "tensor",
        `shape ${fmtShape(shape)} needs ${numel(shape)} elements, got ${src.length}`,
      );
    }
    const store = dtypeOfArray(src) === dtype ? src : allocate(dtype, src.length);
    if (store !== src) for (let i = 0; i < src.length; i++) store[i] = src[i]!;
    return finish(new Tensor(store, dtype, [...shape]), opts);
  }
  const shape: number[] = [];
  let probe: NestedArray = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    if (probe.length === 0) break;
    probe = probe[0]!;
  }
  const inferred: DType = typeof probe === "boolean" ? "bool" : "float32";
  const dtype = checkDtype("tensor", opts?.dtype ?? inferred);
  const flat = allocate(dtype, numel(shape));
  let k = 0;
  const fill = (x: NestedArray, dim: number): void => {
    if (dim === shape.length) {
      if (Array.isArray(x) || (typeof x !== "number" && typeof x !== "boolean")) {
        throw new TsgradError(
          "tensor",
          `ragged or non-numeric data at depth ${dim} (expected shape ${fmtShape(shape)})`,
        );
      }
      flat[k++] = typeof x === "boolean" ? (x ? 1 : 0) : x;
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[dim]) {
      throw new TsgradError(
        "tensor",
        `ragged nested array: expected length ${shape[dim]} at depth ${dim} (shape ${fmtShape(shape)})`,
      );
    }
    for (const e of x) fill(e, dim + 1);
  };
  fill(data, 0);
  if (opts?.shape) return finish(new Tensor(flat, dtype, [...shape]).reshape(opts.shape), opts);
  return finish(new Tensor(flat, dtype, shape), opts);
}

/**
 * A tensor of `shape` filled with `value`.
 *
 * @example
 * console.log(tg.full([2], 7).toArray()); // [7, 7]
 */
export function full(shape: readonly number[], value: number, opts?: CreateOptions): Tensor {
  checkShape("full", shape);
  const dtype = checkDtype("full", opts?.dtype);
  const data = allocate(dtype, numel(shape));
  if (value !== 0) data.fill(value);
  return finish(new Tensor(data, dtype, [...shape]), opts);
}

/** @example console.log(tg.zeros([2, 3]).shape); // [2, 3] */
export function zeros(shape: readonly number[], opts?: CreateOptions): Tensor {
  return full(shape, 0, opts);
}

/** @example console.log(tg.ones([2]).toArray()); // [1, 1] */
export function ones(shape: readonly number[], opts?: CreateOptions): Tensor {
  return full(shape, 1, opts);
}

/**
 * Zeros with `like`'s shape and (unless overridden) dtype.
 *
 * @example
 * console.log(tg.zerosLike(tg.ones([2], { dtype: "int32" })).toArray()); // [0, 0]
 */
export function zerosLike(like: Tensor, opts?: CreateOptions): Tensor {
  return full(like.shape, 0, { dtype: like.dtype, ...opts });
}

/**
 * Ones with `like`'s shape and (unless overridden) dtype.
 *
 * @example
 * console.log(tg.onesLike(tg.zeros([2])).toArray()); // [1, 1]
 */
export function onesLike(like: Tensor, opts?: CreateOptions): Tensor {
  return full(like.shape, 1, { dtype: like.dtype, ...opts });
}

/**
 * A constant with `like`'s shape and (unless overridden) dtype.
 *
 * @example
 * console.log(tg.fullLike(tg.zeros([2]), 7).toArray()); // [7, 7]
 */
export function fullLike(like: Tensor, value: number, opts?: CreateOptions): Tensor {
  return full(like.shape, value, { dtype: like.dtype, ...opts });
}

/**
 * Evenly spaced values in [start, end) (one argument: [0, end)). Integer arguments give int32,
 * as torch.arange gives integers.
 *
 * @example
 * console.log(tg.arange(1, 7, 2).toArray()); // [1, 3, 5]
 */
export function arange(start: number, end?: number, step = 1, opts?: CreateOptions): Tensor {
  const [lo, hi] = end === undefined ? [0, start] : [start, end];
  if (step === 0 || !Number.isFinite(lo) || !Number.isFinite(hi) || !Number.isFinite(step)) {
    throw new TsgradError("arange", `invalid range start=${lo} end=${hi} step=${step}`);
  }
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  const allInt = [lo, hi, step].every(Number.isInteger);
  const dtype = opts?.dtype ?? (allInt ? "int32" : "float32");
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) data[i] = lo + i * step;
  return finish(new Tensor(data, dtype, [n]), opts);
}

/**
 * `steps` evenly spaced values from start to end inclusive.
 *
 * @example
 * console.log(tg.linspace(0, 1, 5).toArray()); // [0, 0.25, 0.5, 0.75, 1]
 */
export function linspace(start: number, end: number, steps: number, opts?: CreateOptions): Tensor {
  if (!Number.isInteger(steps) || steps < 0) {
    throw new TsgradError("linspace", `steps must be a non-negative integer, got ${steps}`);
  }
  const dtype = checkDtype("linspace", opts?.dtype);
  const data = allocate(dtype, steps);
  const delta = steps > 1 ? (end - start) / (steps - 1) : 0;
  for (let i = 0; i < steps; i++) data[i] = i === steps - 1 ? end : start + i * delta;
  return finish(new Tensor(data, dtype, [steps]), opts);
}

/**
 * The n×m identity matrix.
 *
 * @example
 * console.log(tg.eye(2).toArray()); // [[1, 0], [0, 1]]
 */
export function eye(n: number, m = n, opts?: CreateOptions): Tensor {
  const t = zeros([n, m], { ...opts, requiresGrad: false });
  for (let i = 0; i < Math.min(n, m); i++) t.data[i * m + i] = 1;
  return finish(t, opts);
}

function randomFill(
  op: string,
  shape: readonly number[],
  opts: RandomOptions | undefined,
  fill: (g: Generator, out: Float32Array | Float64Array) => void,
): Tensor {
  checkShape(op, shape);
  const dtype = checkDtype(op, opts?.dtype);
  if (!isFloating(dtype)) throw new TsgradError(op, `needs a floating dtype, got ${dtype}`);
  const g = opts?.generator ?? defaultGenerator;
  const data = allocate(dtype, numel(shape)) as Float32Array | Float64Array;
  fill(g, data);
  return finish(new Tensor(data, dtype, [...shape]), opts);
}

/**
 * Uniform samples in [0, 1) from the default (or given) generator.
 *
 * @example
 * tg.manualSeed(1);
 * const u = tg.rand([1000]);
 * console.log(u.min().item() >= 0 && u.max().item() < 1); // true
 */
export function rand(shape: readonly number[], opts?: RandomOptions): Tensor {
  return randomFill("rand", shape, opts, (g, out) => g.fillUniform(out));
}

/**
 * Standard normal samples.
 *
 * @example
 * tg.manualSeed(0);
 * console.log(Math.abs(tg.randn([10000]).mean().item()) < 0.05); // true
 */
export function randn(shape: readonly number[], opts?: RandomOptions): Tensor {
  return randomFill("randn", shape, opts, (g, out) => g.fillNormal(out));
}

/**
 * Uniform integers in [low, high) (int32 unless another dtype is given).
 *
 * @example
 * tg.manualSeed(0);
 * const r = tg.randint(0, 10, [100]);
 * console.log(r.dtype, r.min().item() >= 0, r.max().item() < 10); // "int32" true true
 */
export function randint(
  low: number,
  high: number,
  shape: readonly number[],
  opts?: RandomOptions,
): Tensor {
  checkShape("randint", shape);
  const dtype = opts?.dtype ?? "int32";
  const g = opts?.generator ?? defaultGenerator;
  const data = allocate(dtype, numel(shape));
  for (let i = 0; i < data.length; i++) data[i] = g.int(low, high);
  return finish(new Tensor(data, dtype, [...shape]), opts);
}

/**
 * A random permutation of 0..n-1 (int32).
 *
 * @example
 * const p = tg.randperm(5);
 * console.log(p.dtype, p.sum().item()); // "int32" 10
 */
export function randperm(n: number, opts?: { generator?: Generator }): Tensor {
  const p = (opts?.generator ?? defaultGenerator).permutation(n);
  return new Tensor(p, "int32", [n]);
}

/**
 * Uniform samples shaped like `like`.
 *
 * @example
 * console.log(tg.randLike(tg.zeros([2, 3])).shape); // [2, 3]
 */
export function randLike(like: Tensor, opts?: RandomOptions): Tensor {
  return rand(like.shape, { dtype: like.dtype, ...opts });
}

/**
 * Normal samples shaped like `like`.
 *
 * @example
 * console.log(tg.randnLike(tg.zeros([4], { dtype: "float64" })).dtype); // "float64"
 */
export function randnLike(like: Tensor, opts?: RandomOptions): Tensor {
  return randn(like.shape, { dtype: like.dtype, ...opts });
}
