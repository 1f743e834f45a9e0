/**
 * The wasm backend's elementwise kernels and the strided helpers the fused kernels share: an
 * operand is uploaded as the span its view covers (operands.ts) and walked through its own
 * strides over the coalesced output shape (wasm/src/eltwise.c).
 */
import type { CmpOp, Kernel, KernelTable, Prim, View } from "../../ops/primitives.js";
import type { DType } from "../../tensor/dtype.js";
import { sameShape } from "../../tensor/shape.js";
import { checkIndices } from "../js/indexing.js";
import { coalesce, contiguousData } from "../js/strided.js";
import { download, floatOperands, upload } from "./operands.js";
import type { WasmRuntime } from "./runtime.js";

/** The exports these kernels run through `parallel`. */
export const ELTWISE_TASKS = ["unary", "binary", "compare", "where", "cast", "reduce", "gather"];

/** Axes the module's strided walk holds (TSG_MAX_RANK in wasm/src/eltwise.h). */
export const MAX_RANK = 16;

/** Codes of the unary ops in eltwise.c. */
const UNARY = { neg: 0, exp: 1, log: 2, sqrt: 3, tanh: 4, sigmoid: 5, relu: 6, abs: 7, erf: 8 };
const COPY = 9;
/** Codes of the binary ops in eltwise.c. */
const BINARY = { add: 0, sub: 1, mul: 2, div: 3, maximum: 4 };
const CMP: Record<CmpOp, number> = { eq: 0, ne: 1, lt: 2, le: 3, gt: 4, ge: 5 };
/** Codes of the conversions in eltwise.c, by "from>to". */
const CAST: Partial<Record<`${DType}>${DType}`, number>> = {
  "float32>int32": 0,
  "float32>bool": 1,
  "int32>float32": 2,
  "bool>float32": 3,
  "float32>float64": 4,
  "float64>float32": 5,
};
/** Codes of the reductions in reduce.c. */
const REDUCE = { sum: 0, max: 1 };

/**
 * Relative cost per element (`parallel`'s work units) of each op: a worker's wake-up is worth it
 * from about 2^21 units (PARALLEL_MIN_WORK), so transcendental ops go parallel at a few hundred
 * thousand elements and plain arithmetic, which is bound by the copies anyway, only beyond that.
 */
const COST: Record<string, number> = { exp: 8, log: 8, tanh: 12, sigmoid: 12, erf: 12 };

/** A coalesced shape and the operands' strides over it, written into the arena (Int32). */
interface Layout {
  nd: number;
  shape: number;
  strides: number;
  total: number;
}

/** Coalesce `shape` for `views` (already broadcast to it) and write the result into the arena. */
function layout(rt: WasmRuntime, shape: readonly number[], views: readonly View[]): Layout {
  const c = coalesce(
    shape,
    views.map((v) => v.strides),
  );
  // A scalar (or all-ones shape) is one row of one element.
  if (c.shape.length === 0) {
    c.shape.push(1);
    for (const s of c.strides) s.push(0);
  }
  const nd = c.shape.length;
  const at = rt.alloc(4 * nd * (1 + views.length));
  const i32 = rt.i32();
  i32.set(c.shape, at >> 2);
  c.strides.forEach((s, q) => i32.set(s, (at >> 2) + nd * (1 + q)));
  return { nd, shape: at, strides: at + 4 * nd, total: c.shape.reduce((a, b) => a * b, 1) };
}

/** The storage range [lo, hi] (inclusive) a view's elements lie in. */
function spanOf(v: View): [number, number] {
  let lo = v.offset;
  let hi = v.offset;
  v.shape.forEach((d, i) => {
    const extent = (d - 1) * v.strides[i]!;
    if (extent < 0) lo += extent;
    else hi += extent;
  });
  return [lo, hi];
}

/**
 * gather and scatterAdd copy a whole tensor through the module (the gathered-from one, or the
 * scattered-into output) while the reference touches only the indexed elements, at some tens of
 * nanoseconds each against about one for a copied element: they run here when the index covers
 * at least 1/SPARSE of that tensor (an embedding lookup over a batch, its gradient), and decline
 * sparser ones (a loss picking one class in thousands), which the reference does faster.
 */
const SPARSE = 16;

/** Copy a view's span into the arena whatever its dtype. */
function uploadAny(rt: WasmRuntime, v: View): number {
  if (v.data instanceof Float32Array) return upload(rt, v).ptr;
  const [lo, hi] = spanOf(v);
  const size = v.data.BYTES_PER_ELEMENT;
  const at = rt.alloc(size * (hi - lo + 1));
  const src = v.data.subarray(lo, hi + 1);
  if (v.data instanceof Int32Array) rt.i32().set(src, at >> 2);
  else if (v.data instanceof Float64Array) new Float64Array(rt.memory.buffer).set(src, at >> 3);
  else rt.u8().set(src, at);
  return at + size * (v.offset - lo);
}

/**
 * Whether an index of shape `idx` may select along `axis` of a tensor of shape `target`: the axis
 * exists, the ranks agree and the index is no longer than the target on every other axis. The op
 * layer's rule checks the shapes (gather's and scatterAdd's); the axis comes normalized from
 * the ops, but a direct `tg.run` could pass any number, and the kernel would then read x with no
 * index applied where the reference reads NaN. Such a call is declined: the reference handles it.
 */
function indexFits(idx: readonly number[], target: readonly number[], axis: number): boolean {
  return (
    Number.isInteger(axis) &&
    axis >= 0 &&
    axis < target.length &&
    idx.length === target.length &&
    idx.every((d, i) => i === axis || d <= target[i]!)
  );
}

/** Whether a view has elements (the kernels decline empty ones). */
const nonEmpty = (v: View) => v.shape.every((d) => d > 0);

/** Whether a view's elements are laid out row-major and dense (at any offset). */
function isDense(v: View): boolean {
  let expected = 1;
  for (let i = v.shape.length - 1; i >= 0; i--) {
    if (v.shape[i] !== 1 && v.strides[i] !== expected) return false;
    expected *= v.shape[i]!;
  }
  return true;
}

/**
 * Put a float32 view's elements into the arena dense and row-major; returns the byte address. A
 * dense view is one copy; any other (transposed, broadcast) is uploaded as its span and then
 * gathered by the module.
 *
 * @example
 * // A transposed view's copy (cast to its own dtype) on the wasm backend is this gather.
 * if (tg.findBackend("wasm")?.available()) {
 *   const prev = tg.getBackend().name;
 *   tg.setBackend("wasm");
 *   console.log(tg.tensor([[1, 2], [3, 4]]).t().contiguous().toArray()); // [[1, 3], [2, 4]]
 *   tg.setBackend(prev);
 * }
 */
export function uploadDense(rt: WasmRuntime, v: View): number {
  if (isDense(v)) return upload(rt, v).ptr;
  const src = upload(rt, v);
  const l = layout(rt, v.shape, [v]);
  const out = rt.alloc(4 * l.total);
  rt.parallel("unary", [COPY, l.nd, l.shape, l.strides, src.ptr, out], l.total);
  return out;
}

/**
 * Run unary op `op` over a float32 view into a new dense arena array; returns its byte address.
 *
 * @example
 * // The wasm backend's unary primitives are this call plus the copies in and out.
 * if (tg.findBackend("wasm")?.available()) {
 *   const prev = tg.getBackend().name;
 *   tg.setBackend("wasm");
 *   console.log(tg.tensor([[0, -1], [2, -3]]).t().relu().toArray()); // [[0, 2], [0, 0]]
 *   tg.setBackend(prev);
 * }
 */
export function unaryInto(rt: WasmRuntime, op: keyof typeof UNARY, x: View): number {
  const xs = upload(rt, x);
  const l = layout(rt, x.shape, [x]);
  const y = rt.alloc(4 * l.total);
  rt.parallel("unary", [UNARY[op], l.nd, l.shape, l.strides, xs.ptr, y], l.total * (COST[op] ?? 1));
  return y;
}

/**
 * The elementwise kernel table: float32 unary math and binary arithmetic over strided, broadcast
 * operands. Other dtypes and empty tensors are declined (the reference runs).
 *
 * @example
 * const wasm = tg.findBackend("wasm");
 * if (wasm?.available()) console.log(wasm.kernels.exp !== undefined); // true
 */
export function wasmEltwiseKernels(rt: WasmRuntime): Partial<KernelTable> {
  const unary =
    (op: keyof typeof UNARY) =>
    (out: View["data"], [x]: readonly View[]) => {
      if (!floatOperands(out, [x!])) return false;
      rt.reset();
      download(rt, unaryInto(rt, op, x!), out);
      return true;
    };
  const binary =
    (op: keyof typeof BINARY) =>
    (out: View["data"], [a, b]: readonly View[], _p: unknown, shape: readonly number[]) => {
      if (!floatOperands(out, [a!, b!])) return false;
      rt.reset();
      const as = upload(rt, a!);
      const bs = upload(rt, b!);
      const l = layout(rt, shape, [a!, b!]);
      const y = rt.alloc(4 * out.length);
      const args = [BINARY[op], l.nd, l.shape, l.strides, as.ptr, bs.ptr, y];
      rt.parallel("binary", args, l.total);
      download(rt, y, out);
      return true;
    };
  const reduce =
    (op: keyof typeof REDUCE) =>
    (out: View["data"], [x]: readonly View[], { axes }: { axes: number[] }) => {
      if (!floatOperands(out, [x!])) return false;
      rt.reset();
      const xs = upload(rt, x!);
      const kept: number[] = [];
      const red: number[] = [];
      x!.shape.forEach((_, i) => (axes.includes(i) ? red : kept).push(i));
      const k = coalesce(
        kept.map((i) => x!.shape[i]!),
        [kept.map((i) => x!.strides[i]!)],
      );
      const r = coalesce(
        red.map((i) => x!.shape[i]!),
        [red.map((i) => x!.strides[i]!)],
      );
      // Reducing over nothing but axes of length 1: one element per output.
      if (r.shape.length === 0) {
        r.shape.push(1);
        r.strides[0]!.push(0);
      }
      const nk = k.shape.length;
      const nr = r.shape.length;
      const meta = rt.alloc(8 * (nk + nr));
      const i32 = rt.i32();
      i32.set([...k.shape, ...k.strides[0]!, ...r.shape, ...r.strides[0]!], meta >> 2);
      const y = rt.alloc(4 * out.length);
      const m = meta + 8 * nk;
      const args = [REDUCE[op], nk, meta, meta + 4 * nk, nr, m, m + 4 * nr, xs.ptr, y];
      rt.parallel(
        "reduce",
        args,
        x!.shape.reduce((a, b) => a * b, 1),
      );
      download(rt, y, out);
      return true;
    };
  const table: Partial<KernelTable> = {
    sum: reduce("sum"),
    max: reduce("max"),
    cmp: (out, [a, b], { op }, shape) => {
      const floats = [a!, b!].every((v) => v.data instanceof Float32Array && nonEmpty(v));
      if (!(out instanceof Uint8Array) || out.length === 0 || !floats) return false;
      rt.reset();
      const as = upload(rt, a!);
      const bs = upload(rt, b!);
      const l = layout(rt, shape, [a!, b!]);
      const y = rt.alloc(out.length);
      rt.parallel("compare", [CMP[op], l.nd, l.shape, l.strides, as.ptr, bs.ptr, y], l.total);
      out.set(rt.u8().subarray(y, y + out.length));
      return true;
    },
    gather: (out, [x, idx], { axis }) => {
      if (!floatOperands(out, [x!]) || !(idx!.data instanceof Int32Array)) return false;
      // The kernel reads x at idx·stride along `axis` and at the index's position on the others:
      // it needs the axis to exist and the index to fit x there (the rule's checks), and every
      // index value in [0, size) (checked below, before anything is read).
      if (!indexFits(idx!.shape, x!.shape, axis)) return false;
      const [lo, hi] = spanOf(x!);
      if (out.length * SPARSE < hi - lo + 1) return false;
      checkIndices("gather", contiguousData(idx!), x!.shape[axis]!, axis);
      rt.reset();
      const is = uploadAny(rt, idx!);
      const xs = upload(rt, x!);
      // x seen with the index's shape, stride 0 on the gathered axis (the index value adds it).
      const strides = x!.strides.map((s, i) => (i === axis ? 0 : s));
      const l = layout(rt, idx!.shape, [idx!, { ...x!, shape: idx!.shape, strides }]);
      const y = rt.alloc(4 * out.length);
      rt.parallel("gather", [l.nd, l.shape, l.strides, is, xs.ptr, x!.strides[axis]!, y], l.total);
      download(rt, y, out);
      return true;
    },
    scatterAdd: (out, [src, idx], { axis, shape }) => {
      if (!floatOperands(out, [src!]) || !(idx!.data instanceof Int32Array)) return false;
      // As gather's, for the writes into the dense output of `shape` (out's own length).
      const fits =
        indexFits(idx!.shape, shape, axis) &&
        sameShape(src!.shape, idx!.shape) &&
        out.length === shape.reduce((a, b) => a * b, 1);
      if (!fits) return false;
      if (src!.shape.reduce((a, b) => a * b, 1) * SPARSE < out.length) return false;
      checkIndices("scatterAdd", contiguousData(idx!), shape[axis]!, axis);
      rt.reset();
      const is = uploadAny(rt, idx!);
      const ss = upload(rt, src!);
      // The dense output seen with the index's shape, stride 0 on the scattered axis.
      const dense = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
      const strides = dense.map((s, i) => (i === axis ? 0 : s));
      const l = layout(rt, idx!.shape, [idx!, { ...src!, shape: idx!.shape, strides }, src!]);
      const y = rt.alloc(4 * out.length);
      rt.exports.scatter_add!(l.nd, l.shape, l.strides, is, ss.ptr, dense[axis]!, y, out.length);
      download(rt, y, out);
      return true;
    },
    where: (out, [c, a, b], _p, shape) => {
      if (c!.dtype !== "bool" || !nonEmpty(c!) || !floatOperands(out, [a!, b!])) return false;
      rt.reset();
      const cs = uploadAny(rt, c!);
      const as = upload(rt, a!);
      const bs = upload(rt, b!);
      const l = layout(rt, shape, [c!, a!, b!]);
      const y = rt.alloc(4 * out.length);
      rt.parallel("where", [l.nd, l.shape, l.strides, cs, as.ptr, bs.ptr, y], l.total);
      download(rt, y, out);
      return true;
    },
    cast: (out, [x], { dtype }, shape) => {
      if (out.length === 0 || !nonEmpty(x!)) return false;
      const code = CAST[`${x!.dtype}>${dtype}`];
      if (dtype === "float32" && x!.dtype === "float32") {
        rt.reset();
        const y = uploadDense(rt, x!);
        download(rt, y, out as Float32Array);
        return true;
      }
      if (code === undefined) return false;
      rt.reset();
      const xs = uploadAny(rt, x!);
      const l = layout(rt, shape, [x!]);
      const y = rt.alloc(out.BYTES_PER_ELEMENT * out.length);
      rt.parallel("cast", [code, l.nd, l.shape, l.strides, xs, y], l.total);
      if (out instanceof Uint8Array) out.set(rt.u8().subarray(y, y + out.length));
      else if (out instanceof Int32Array) out.set(rt.i32().subarray(y >> 2, (y >> 2) + out.length));
      else if (out instanceof Float64Array) {
        out.set(new Float64Array(rt.memory.buffer, y, out.length));
      } else download(rt, y, out);
      return true;
    },
  };
  for (const op of Object.keys(UNARY) as (keyof typeof UNARY)[]) table[op] = unary(op);
  for (const op of Object.keys(BINARY) as (keyof typeof BINARY)[]) table[op] = binary(op);
  // The module's strided walk holds MAX_RANK axes: decline anything of higher rank.
  const guarded: Record<string, Kernel<Prim>> = {};
  for (const [name, k] of Object.entries(table) as [string, Kernel<Prim>][]) {
    guarded[name] = (out, inputs, params, shape) =>
      shape.length <= MAX_RANK && inputs.every((v) => v.shape.length <= MAX_RANK)
        ? k(out, inputs, params, shape)
        : false;
  }
  return guarded;
}
