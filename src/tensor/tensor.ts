/**
 * The Tensor: a dtype, a shape and a strided view over a GC-managed typed array.
 *
 * Several tensors may share one storage array (views from reshape, permute, expand, slice…);
 * nothing is ever freed by hand — when no tensor refers to a storage array, the garbage
 * collector reclaims it. Methods mirror PyTorch's names and argument order and delegate to the
 * functional ops in `src/ops/ops.ts`.
 */
import * as ops from "../ops/ops.js";
import * as einsumOps from "../ops/einsum.js";
import * as layoutOps from "../ops/layout.js";
import * as mathOps from "../ops/math-extra.js";
import * as sortOps from "../ops/sorting.js";
import type { View } from "../ops/primitives.js";
import { type BackwardOptions, type Node, backward } from "./autograd.js";
import { type DType, type TypedArray, allocate } from "./dtype.js";
import { TsgradError } from "./errors.js";
import { formatTensor } from "./format.js";
import { contiguousStrides, isContiguous, numel } from "./shape.js";

/** A tensor or a plain number, which ops treat as a 0-d tensor of the other operand's dtype. */
export type TensorLike = Tensor | number;

/** Nested JavaScript arrays, as returned by `toArray()`. */
export type NestedArray = number | boolean | NestedArray[];

/**
 *
 *
 * @example
 * const t = new tg.Tensor(new Float32Array([1, 2, 3, 4]), "float32", [2, 2]);
 * console.log(t.t().toArray(), t.strides); // [[1, 3], [2, 4]] [2, 1]
 */
export class Tensor implements View {
  /** When true, ops on this tensor are recorded so `backward()` can compute its gradient. */
  requiresGrad = false;
  /** The accumulated gradient of a leaf tensor after `backward()`, else null. */
  grad: Tensor | null = null;
  /** @internal The tape node that produced this tensor (null for leaves). */
  _node: Node | null = null;
  /** @internal Which output of `_node` this tensor is. */
  _outputIndex = 0;

  /**
   * Low-level constructor over existing storage; most code uses `tg.tensor`, `tg.zeros`, etc.
   * `strides` and `offset` are in elements.
   */
  constructor(
    readonly data: TypedArray,
    readonly dtype: DType,
    readonly shape: readonly number[],
    readonly strides: readonly number[] = contiguousStrides(shape),
    readonly offset = 0,
  ) {}

  /** Number of elements. */
  get size(): number {
    return numel(this.shape);
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** Number of elements (PyTorch's name). */
  numel(): number {
    return this.size;
  }

  /** Number of dimensions (PyTorch's name). */
  dim(): number {
    return this.shape.length;
  }

  /** True for tensors not produced by a recorded op (parameters, inputs). */
  get isLeaf(): boolean {
    return this._node === null;
  }

  /** True when the elements are laid out row-major with no gaps, starting anywhere in storage. */
  isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }

  // ---------------------------------------------------------------- autograd

  /**
   * Accumulate the gradient of this tensor into the `.grad` of every leaf it depends on.
   * A non-scalar tensor needs a seed gradient of its own shape.
   *
   * @example
   * const x = tg.tensor([1, 2, 3], { requiresGrad: true });
   * x.mul(x).sum().backward();
   * console.log(x.grad!.toArray()); // [2, 4, 6]
   */
  backward(seed?: Tensor, opts?: BackwardOptions): void {
    backward(this, seed, opts);
  }

  /**
   * A tensor sharing this one's storage but cut from the tape: no gradient flows through it.
   *
   * @example
   * const x = tg.ones([2], { requiresGrad: true });
   * console.log(x.mul(2).detach().requiresGrad); // false
   */
  detach(): Tensor {
    return new Tensor(this.data, this.dtype, this.shape, this.strides, this.offset);
  }

  /**
   * Set `requiresGrad` in place and return this tensor (only floating tensors can require grad).
   *
   * @example
   * const w = tg.zeros([3]).requiresGrad_();
   * console.log(w.requiresGrad); // true
   */
  requiresGrad_(requires = true): this {
    if (requires && this.dtype !== "float32" && this.dtype !== "float64") {
      throw new TsgradError(
        "requiresGrad_",
        `only floating tensors can require grad, got ${this.dtype}`,
      );
    }
    this.requiresGrad = requires;
    return this;
  }

  // ---------------------------------------------------------------- data access

  /**
   * The elements in row-major order as a typed array. When the tensor is contiguous this is (a
   * window on) its storage — no copy, and writes to it are visible in the tensor — otherwise a
   * fresh copy.
   *
   * @example
   * console.log(Array.from(tg.tensor([[1, 2], [3, 4]]).t().dataSync())); // [1, 3, 2, 4]
   */
  dataSync(): TypedArray {
    if (!this.isContiguous()) return ops.cast(this, this.dtype).data;
    if (this.offset === 0 && this.data.length === this.size) return this.data;
    return this.data.subarray(this.offset, this.offset + this.size);
  }

  /**
   * The elements as nested JavaScript arrays (booleans for bool tensors).
   *
   * @example
   * console.log(tg.arange(4).reshape([2, 2]).toArray()); // [[0, 1], [2, 3]]
   */
  toArray(): NestedArray {
    const flat = this.dataSync();
    const isBool = this.dtype === "bool";
    const build = (dim: number, start: number): NestedArray => {
      if (dim === this.shape.length) return isBool ? flat[start] !== 0 : flat[start]!;
      const n = this.shape[dim]!;
      const step = numel(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) out.push(build(dim + 1, start + i * step));
      return out;
    };
    return build(0, 0);
  }

  /**
   * The value of a one-element tensor as a number.
   *
   * @example
   * console.log(tg.tensor([[7]]).item()); // 7
   */
  item(): number {
    if (this.size !== 1) {
      throw new TsgradError(
        "item",
        `only one-element tensors can be converted, got shape [${this.shape.join(",")}]`,
      );
    }
    return this.data[this.offset]!;
  }

  /** PyTorch-style printout, summarised for large tensors. */
  toString(): string {
    return formatTensor(this);
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  // ---------------------------------------------------------------- creation helpers

  /** Zeros with this tensor's shape and dtype. */
  zerosLike(): Tensor {
    return new Tensor(allocate(this.dtype, this.size), this.dtype, [...this.shape]);
  }

  /** Ones with this tensor's shape and dtype. */
  onesLike(): Tensor {
    return new Tensor(allocate(this.dtype, this.size).fill(1), this.dtype, [...this.shape]);
  }

  /** A contiguous copy that shares nothing with this tensor (recorded on the tape). */
  clone(): Tensor {
    return ops.cast(this, this.dtype);
  }

  /** This tensor if it is contiguous, else a contiguous copy. */
  contiguous(): Tensor {
    return ops.contiguous(this);
  }

  /** Convert to another dtype (a no-op when the dtype already matches). */
  to(dtype: DType): Tensor {
    return dtype === this.dtype ? this : ops.cast(this, dtype);
  }

  float(): Tensor {
    return this.to("float32");
  }

  double(): Tensor {
    return this.to("float64");
  }

  int(): Tensor {
    return this.to("int32");
  }

  bool(): Tensor {
    return this.to("bool");
  }

  // ---------------------------------------------------------------- elementwise

  neg(): Tensor {
    return ops.neg(this);
  }
  exp(): Tensor {
    return ops.exp(this);
  }
  log(): Tensor {
    return ops.log(this);
  }
  sqrt(): Tensor {
    return ops.sqrt(this);
  }
  rsqrt(): Tensor {
    return ops.rsqrt(this);
  }
  tanh(): Tensor {
    return ops.tanh(this);
  }
  sigmoid(): Tensor {
    return ops.sigmoid(this);
  }
  relu(): Tensor {
    return ops.relu(this);
  }
  abs(): Tensor {
    return ops.abs(this);
  }
  sin(): Tensor {
    return ops.sin(this);
  }
  cos(): Tensor {
    return ops.cos(this);
  }
  erf(): Tensor {
    return ops.erf(this);
  }
  square(): Tensor {
    return ops.mul(this, this);
  }
  reciprocal(): Tensor {
    return ops.div(1, this);
  }
  sign(): Tensor {
    return ops.sign(this);
  }
  /** Clamp into [min, max] (either bound may be omitted with `undefined`). */
  clamp(min?: number, max?: number): Tensor {
    return ops.clamp(this, min, max);
  }

  add(other: TensorLike): Tensor {
    return ops.add(this, other);
  }
  sub(other: TensorLike): Tensor {
    return ops.sub(this, other);
  }
  mul(other: TensorLike): Tensor {
    return ops.mul(this, other);
  }
  div(other: TensorLike): Tensor {
    return ops.div(this, other);
  }
  pow(exponent: TensorLike): Tensor {
    return ops.pow(this, exponent);
  }
  maximum(other: TensorLike): Tensor {
    return ops.maximum(this, other);
  }
  minimum(other: TensorLike): Tensor {
    return ops.minimum(this, other);
  }
  eq(other: TensorLike): Tensor {
    return ops.cmp("eq", this, other);
  }
  ne(other: TensorLike): Tensor {
    return ops.cmp("ne", this, other);
  }
  lt(other: TensorLike): Tensor {
    return ops.cmp("lt", this, other);
  }
  le(other: TensorLike): Tensor {
    return ops.cmp("le", this, other);
  }
  gt(other: TensorLike): Tensor {
    return ops.cmp("gt", this, other);
  }
  ge(other: TensorLike): Tensor {
    return ops.cmp("ge", this, other);
  }
  /** Elementwise logical not of a bool tensor. */
  logicalNot(): Tensor {
    return ops.cmp("eq", this.to("bool"), 0);
  }

  // ---------------------------------------------------------------- reductions

  sum(dim?: number | readonly number[], keepdim = false): Tensor {
    return ops.sum(this, dim, keepdim);
  }
  mean(dim?: number | readonly number[], keepdim = false): Tensor {
    return ops.mean(this, dim, keepdim);
  }
  /** Variance; `correction` 1 (the default, like PyTorch) is the unbiased estimator. */
  var(dim?: number | readonly number[], keepdim = false, correction = 1): Tensor {
    return ops.variance(this, dim, keepdim, correction);
  }
  std(dim?: number | readonly number[], keepdim = false, correction = 1): Tensor {
    return ops.std(this, dim, keepdim, correction);
  }
  /** Maximum over `dim` (all axes by default). Ties share the gradient equally. */
  amax(dim?: number | readonly number[], keepdim = false): Tensor {
    return ops.amax(this, dim, keepdim);
  }
  amin(dim?: number | readonly number[], keepdim = false): Tensor {
    return ops.amin(this, dim, keepdim);
  }
  /**
   * Without `dim`: the maximum of all elements. With `dim`: `{ values, indices }` along it, like
   * PyTorch — the gradient goes to the element at `indices` (the first of tied maxima).
   *
   * @example
   * const { values, indices } = tg.tensor([[1, 5], [7, 2]]).max(1);
   * console.log(values.toArray(), indices.toArray()); // [5, 7] [1, 0]
   */
  max(): Tensor;
  max(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  max(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    if (dim === undefined) return ops.extremeAll(this, "max");
    return ops.extremeAlong(this, dim, "max", keepdim);
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  min(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    if (dim === undefined) return ops.extremeAll(this, "min");
    return ops.extremeAlong(this, dim, "min", keepdim);
  }
  /** Index of the maximum along `dim` (of the flattened tensor when omitted). */
  argmax(dim?: number, keepdim = false): Tensor {
    return ops.argmax(this, dim, keepdim);
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return ops.argmin(this, dim, keepdim);
  }
  logsumexp(dim: number | readonly number[], keepdim = false): Tensor {
    return ops.logsumexp(this, dim, keepdim);
  }
  softmax(dim: number): Tensor {
    return ops.softmax(this, dim);
  }
  logSoftmax(dim: number): Tensor {
    return ops.logSoftmax(this, dim);
  }

  // ---------------------------------------------------------------- movement (views when possible)

  /** A tensor with the same elements in a new shape (one entry may be -1). A view when possible. */
  reshape(shape: readonly number[]): Tensor {
    return ops.reshape(this, shape);
  }
  /** Like `reshape`, but throws instead of copying when the layout does not allow a view. */
  view(shape: readonly number[]): Tensor {
    return ops.view(this, shape);
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return ops.flatten(this, startDim, endDim);
  }
  permute(dims: readonly number[]): Tensor {
    return ops.permute(this, dims);
  }
  transpose(dim0: number, dim1: number): Tensor {
    return ops.transpose(this, dim0, dim1);
  }
  /**
   * Transpose of a 2-D tensor (or the last two axes of a batched one, where torch raises); a 0-d or
   * 1-D tensor is returned as it is, as torch's t().
   */
  t(): Tensor {
    return this.ndim < 2 ? this : ops.transpose(this, -2, -1);
  }
  /** Broadcast to `shape` without copying (-1 keeps a dimension). */
  expand(shape: readonly number[]): Tensor {
    return ops.expand(this, shape);
  }
  expandAs(other: Tensor): Tensor {
    return ops.expand(this, other.shape);
  }
  squeeze(dim?: number | readonly number[]): Tensor {
    return ops.squeeze(this, dim);
  }
  unsqueeze(dim: number): Tensor {
    return ops.unsqueeze(this, dim);
  }
  /** `length` elements along `dim` starting at `start` (a view). */
  narrow(dim: number, start: number, length: number): Tensor {
    return ops.narrow(this, dim, start, length);
  }
  /** Split along `dim` into pieces of `splitSize` (the last may be smaller), or of the given sizes. */
  split(splitSize: number | readonly number[], dim = 0): Tensor[] {
    return ops.split(this, splitSize, dim);
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return ops.chunk(this, chunks, dim);
  }
  /** Constant padding; `pad` lists (before, after) pairs starting from the last axis, as torch.nn.functional.pad. */
  pad(pad: readonly number[], value = 0): Tensor {
    return ops.pad(this, pad, value);
  }
  /** Reverse the order of elements along `dims`. */
  flip(dims: number | readonly number[]): Tensor {
    return ops.flip(this, dims);
  }
  /** Repeat the tensor `repeats[i]` times along each axis (torch.Tensor.repeat). */
  repeat(repeats: readonly number[]): Tensor {
    return ops.repeat(this, repeats);
  }

  // ---------------------------------------------------------------- indexing

  /** torch.gather: `out[i][j] = this[i][index[i][j]]` along `dim`. */
  gather(dim: number, index: Tensor): Tensor {
    return ops.gather(this, dim, index);
  }
  /** Select whole slices along `dim` at the given int32 indices. */
  indexSelect(dim: number, index: Tensor): Tensor {
    return ops.indexSelect(this, dim, index);
  }
  /** Elements where `mask` is true are replaced by `value`. */
  maskedFill(mask: Tensor, value: number): Tensor {
    return ops.where(mask, value, this);
  }

  // ---------------------------------------------------------------- linear algebra

  /** Matrix product with NumPy semantics (1-D operands, broadcast batch dimensions). */
  matmul(other: Tensor): Tensor {
    return ops.matmul(this, other);
  }
  /** Batched product of two 3-D tensors (no broadcasting), as torch.bmm. */
  bmm(other: Tensor): Tensor {
    return einsumOps.bmm(this, other);
  }
  /** Outer product of two 1-D tensors. */
  outer(other: Tensor): Tensor {
    return einsumOps.outer(this, other);
  }

  // ---------------------------------------------------------------- more math (tg.log1p, …)

  log1p(): Tensor {
    return ops.log1p(this);
  }
  expm1(): Tensor {
    return ops.expm1(this);
  }
  /** Rounding has a zero gradient (a zero tensor, as in PyTorch). */
  floor(): Tensor {
    return mathOps.floor(this);
  }
  ceil(): Tensor {
    return mathOps.ceil(this);
  }
  /** Halves round to the even neighbour, as torch.round. */
  round(): Tensor {
    return mathOps.round(this);
  }
  trunc(): Tensor {
    return mathOps.trunc(this);
  }
  isnan(): Tensor {
    return mathOps.isnan(this);
  }
  isinf(): Tensor {
    return mathOps.isinf(this);
  }
  isfinite(): Tensor {
    return mathOps.isfinite(this);
  }
  nanToNum(opts?: { nan?: number; posinf?: number; neginf?: number }): Tensor {
    return mathOps.nanToNum(this, opts);
  }
  cumsum(dim: number): Tensor {
    return mathOps.cumsum(this, dim);
  }
  cumprod(dim: number): Tensor {
    return mathOps.cumprod(this, dim);
  }
  /** Product over `dim` (all elements when omitted), with exact gradients at zeros. */
  prod(dim?: number, keepdim = false): Tensor {
    return mathOps.prod(this, dim, keepdim);
  }
  any(dim?: number | readonly number[], keepdim = false): Tensor {
    return mathOps.any(this, dim, keepdim);
  }
  all(dim?: number | readonly number[], keepdim = false): Tensor {
    return mathOps.all(this, dim, keepdim);
  }
  /** Vector p-norm over `dim` (all elements when omitted), as torch.norm with a numeric p. */
  norm(p: number | "fro" = 2, dim?: number | readonly number[], keepdim = false): Tensor {
    return mathOps.norm(this, p, dim, keepdim);
  }
  /** Stable sort along `dim` (NaN last ascending): `{ values, indices }`. */
  sort(dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    return sortOps.sort(this, dim, descending);
  }
  argsort(dim = -1, descending = false): Tensor {
    return sortOps.argsort(this, dim, descending);
  }
  topk(k: number, dim = -1, largest = true, sorted = true): { values: Tensor; indices: Tensor } {
    return sortOps.topk(this, k, dim, largest, sorted);
  }
  tril(diagonal = 0): Tensor {
    return layoutOps.tril(this, diagonal);
  }
  triu(diagonal = 0): Tensor {
    return layoutOps.triu(this, diagonal);
  }
  roll(shifts: number | readonly number[], dims?: number | readonly number[]): Tensor {
    return layoutOps.roll(this, shifts, dims);
  }
}
