/**
 * The closed set of primitives. Every tensor operation in tsgrad is either one of these, or a
 * composition of them (see `src/ops/composite.ts` and `src/nn/functional.ts`), or a fused kernel
 * that is gradient-checked against its composition (`src/ops/fused.ts`).
 *
 * `PrimParams` maps each primitive to its parameter record. The rule table
 * (`src/ops/rules.ts`) and the JS reference kernels (`src/backends/js/`) are typed
 * `{ [P in Prim]: ... }`, so adding a key here without a shape rule, a gradient rule and a
 * reference kernel is a compile error.
 *
 * This file imports nothing from the tensor front end: backends depend only on it.
 */
import type { DType, TypedArray } from "../tensor/dtype.js";

export type CmpOp = "eq" | "ne" | "lt" | "le" | "gt" | "ge";

/** How the `round` primitive rounds: toward -inf, toward +inf, half to even (torch.round), toward 0. */
export type RoundMode = "floor" | "ceil" | "round" | "trunc";

/** 2-D window geometry shared by convolution and pooling: [height, width] pairs. */
export interface Window2d {
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
}

export interface Conv2dParams extends Window2d {
  groups: number;
}

export interface PrimParams {
  // Unary elementwise (float in, same dtype out).
  neg: Record<string, never>;
  exp: Record<string, never>;
  log: Record<string, never>;
  sqrt: Record<string, never>;
  tanh: Record<string, never>;
  sigmoid: Record<string, never>;
  relu: Record<string, never>;
  abs: Record<string, never>;
  sin: Record<string, never>;
  cos: Record<string, never>;
  erf: Record<string, never>;
  /** log(1 + x), accurate for small x. */
  log1p: Record<string, never>;
  /** e^x - 1, accurate for small x. */
  expm1: Record<string, never>;
  /** floor / ceil / round-half-to-even / trunc; same dtype out; the gradient is zero. */
  round: { mode: RoundMode };
  // Binary elementwise; inputs arrive already broadcast to the output shape (stride-0 views).
  add: Record<string, never>;
  sub: Record<string, never>;
  mul: Record<string, never>;
  div: Record<string, never>;
  pow: Record<string, never>;
  maximum: Record<string, never>;
  cmp: { op: CmpOp };
  /** where(cond, a, b): cond is bool; all three arrive broadcast to the output shape. */
  where: Record<string, never>;
  /** Convert dtype; with the same dtype it is a contiguous copy. */
  cast: { dtype: DType };
  // Reductions over sorted, distinct axes.
  sum: { axes: number[]; keepdim: boolean };
  max: { axes: number[]; keepdim: boolean };
  /** Index of the first maximum along one axis (int32, no gradient). */
  argmax: { axis: number; keepdim: boolean };
  /** Inclusive running sum along `axis`, from the end when `reverse` (accumulated in double). */
  cumsum: { axis: number; reverse: boolean };
  /**
   * The permutation that stably sorts each line along `axis` (int32, no gradient); NaN sorts as
   * the largest value, as in torch.sort.
   */
  argsort: { axis: number; descending: boolean };
  // Movement. reshape/permute/expand/slice are views whenever the layout allows (no kernel runs).
  reshape: { shape: number[] };
  permute: { perm: number[] };
  expand: { shape: number[] };
  /** Contiguous range [starts[i], ends[i]) along every axis. */
  slice: { starts: number[]; ends: number[] };
  /** Constant padding: `pads[i] = [before, after]` for axis i. */
  pad: { pads: [number, number][]; value: number };
  concat: { axis: number };
  /** Batched matmul: [..., m, k] @ [..., k, n]; batch dims arrive broadcast to the output's. */
  matmul: Record<string, never>;
  /** x [N, C, H, W] * w [O, C/groups, KH, KW] -> [N, O, OH, OW]. */
  conv2d: Conv2dParams;
  /** The transpose of conv2d in x: (dy [N,O,OH,OW], w) -> dx with shape `inputShape`. */
  conv2dBackwardInput: Conv2dParams & { inputShape: [number, number, number, number] };
  /** The transpose of conv2d in w: (x, dy) -> dw with shape `weightShape`. */
  conv2dBackwardWeight: Conv2dParams & { weightShape: [number, number, number, number] };
  /**
   * For each max-pooling window of x [N, C, H, W], the flat index (h * W + w) of its first maximum:
   * int32 [N, C, OH, OW]. Max pooling is a gather at these indices, so its gradient is a scatter-add.
   */
  maxPool2dIndices: Window2d & { kernel: [number, number]; ceilMode: boolean };
  /** torch.gather: out[..i..] = x[..index[..i..]..] along `axis`; index has the output's shape. */
  gather: { axis: number };
  /** The transpose of gather: zeros(`shape`) with src scattered and summed at index along `axis`. */
  scatterAdd: { axis: number; shape: number[] };
}

export type Prim = keyof PrimParams;

/** Primitives that may be executed as views of their input (no kernel runs when they are). */
export type ViewPrim = "reshape" | "permute" | "expand" | "slice";

/**
 * What a kernel sees of a tensor: its storage and an arbitrary strided layout over it.
 * `Tensor` satisfies this interface structurally.
 */
export interface View {
  readonly data: TypedArray;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/**
 * A forward kernel writes the primitive's result into `out`, a fresh contiguous array of the
 * output's dtype and size (computed by the shape rule). Inputs may be arbitrary strided views.
 * A fast backend may return `false` to decline (e.g. an unsupported dtype); the dispatcher then
 * runs the JS reference kernel instead.
 */
export type Kernel<P extends Prim> = (
  out: TypedArray,
  inputs: readonly View[],
  params: PrimParams[P],
  outShape: readonly number[],
) => void | boolean;

/** A complete kernel table: the JS reference backend must implement every primitive. */
export type KernelTable = { [P in Prim]: Kernel<P> };
