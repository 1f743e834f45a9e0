/**
 * The native backend's primitive kernels: thin wrappers that describe each operand (its typed
 * array, plus shape, strides and offset written into one reused Float64Array) and call the addon,
 * which computes on the arrays in place. A kernel returns false to decline (dtype or rank it does
 * not handle, empty tensors); the dispatcher then runs the JS reference kernel.
 */
import type { CmpOp, Kernel, KernelTable, View } from "../../ops/primitives.js";
import { TsgradError, fmtShape } from "../../tensor/errors.js";
import type { NativeAddon } from "./loader.js";
import { getFloat32MatmulPrecision } from "../backend.js";

/**
 * Whether matmul and convolution may compute from bfloat16 operands now ("medium" precision);
 * the addon also needs a CPU with native bfloat16 products, else it computes in float32.
 */
export const bf16 = (): boolean => getFloat32MatmulPrecision() === "medium";

/**
 * Packs the shapes, strides and offsets of one kernel call into a reused Float64Array (one
 * allocation for the process instead of arrays per call); grows when a call needs more room.
 * Every native kernel call goes through one, e.g. this transposed (strided) matmul operand:
 *
 * @example
 * const native = tg.findBackend("native");
 * if (native?.available()) {
 *   const prev = tg.getBackend().name;
 *   tg.setBackend("native");
 *   console.log(tg.tensor([[1, 2], [3, 4]]).t().matmul(tg.eye(2)).toArray()); // [[1, 3], [2, 4]]
 *   tg.setBackend(prev);
 * }
 */
export class MetaWriter {
  buf = new Float64Array(1024);
  pos = 0;
  /** The op being described, for errors. */
  private op = "";

  reset(op: string): this {
    this.pos = 0;
    this.op = op;
    return this;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Float64Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf);
    this.buf = next;
  }

  num(...xs: number[]): this {
    this.room(xs.length);
    for (const x of xs) this.buf[this.pos++] = x;
    return this;
  }

  list(xs: readonly number[]): this {
    this.room(xs.length);
    for (const x of xs) this.buf[this.pos++] = x;
    return this;
  }

  /**
   * nd, shape, strides, offset. The addon computes on the view's array in place, so the view must
   * lie inside it: a tensor built over storage it does not fit (`new Tensor(data, ...)` checks
   * nothing) is an error here, before the call. The addon checks again.
   */
  view(v: View): this {
    const nd = v.shape.length;
    this.room(2 * nd + 2);
    const b = this.buf;
    b[this.pos++] = nd;
    let lo = v.offset;
    let hi = v.offset;
    let empty = false;
    for (let i = 0; i < nd; i++) {
      const d = v.shape[i]!;
      const reach = (d - 1) * v.strides[i]!;
      if (reach > 0) hi += reach;
      else lo += reach;
      empty ||= d === 0;
      b[this.pos++] = d;
    }
    for (let i = 0; i < nd; i++) b[this.pos++] = v.strides[i]!;
    b[this.pos++] = v.offset;
    // Written as a negation so that NaN sizes or offsets fail too.
    if (
      !empty &&
      !(Number.isSafeInteger(lo) && Number.isSafeInteger(hi) && lo >= 0 && hi < v.data.length)
    ) {
      throw new TsgradError(
        this.op,
        `a ${fmtShape(v.shape)} view with strides ${fmtShape(v.strides)} and offset ${v.offset} reaches outside its storage of ${v.data.length} elements`,
      );
    }
    return this;
  }
}

const UNARY = { neg: 0, exp: 1, log: 2, sqrt: 3, tanh: 4, sigmoid: 5, relu: 6, abs: 7 } as const;
const UNARY_LOOP = { sin: 8, cos: 9, erf: 10 } as const;
const BINARY = { add: 0, sub: 1, mul: 2, div: 3, pow: 4, maximum: 5 } as const;
const CMP: Record<CmpOp, number> = { eq: 0, ne: 1, lt: 2, le: 3, gt: 4, ge: 5 };
/** The addon's conv kinds 0, 1, 2. */
const CONV_OPS = ["conv2d", "conv2dBackwardInput", "conv2dBackwardWeight"];

function isEmpty(v: View): boolean {
  for (const d of v.shape) if (d === 0) return true;
  return false;
}

/** Declines every call with an empty operand: the reference kernels handle those edge cases. */
function anyEmpty(out: ArrayLike<number>, inputs: readonly View[]): boolean {
  if (out.length === 0) return true;
  for (const v of inputs) if (isEmpty(v)) return true;
  return false;
}

/**
 * The primitive kernels on top of a loaded addon (the native backend's `kernels` table).
 *
 * @example
 * const native = tg.findBackend("native");
 * if (native?.available()) console.log(native.kernels.conv2d !== undefined); // true
 */
export function nativeKernels(addon: NativeAddon): Partial<KernelTable> {
  const meta = new MetaWriter();

  const unary =
    (name: string, op: number, loop: boolean): Kernel<"neg"> =>
    (out, [x]) => {
      if (!(out instanceof Float32Array) || anyEmpty(out, [x!])) return false;
      const m = meta.reset(name).view(x!);
      return loop ? addon.unaryLoop(op, out, x!.data, m.buf) : addon.unary(op, out, x!.data, m.buf);
    };
  const binary =
    (name: string, op: number): Kernel<"add"> =>
    (out, [a, b]) => {
      if (anyEmpty(out, [a!, b!])) return false;
      const m = meta.reset(name).view(a!).view(b!);
      return addon.binary(op, out, a!.data, b!.data, m.buf);
    };
  const checked = (op: string, axis: number, size: number, res: boolean | number): boolean => {
    if (typeof res === "number") {
      throw new TsgradError(op, `index ${res} is out of range for axis ${axis} of size ${size}`);
    }
    return res;
  };

  const table: Partial<KernelTable> = {
    cmp: (out, [a, b], { op }) => {
      if (anyEmpty(out, [a!, b!])) return false;
      const m = meta.reset("cmp").view(a!).view(b!);
      return addon.cmp(CMP[op], out, a!.data, b!.data, m.buf);
    },
    where: (out, [c, a, b]) => {
      if (anyEmpty(out, [c!, a!, b!])) return false;
      const m = meta.reset("where").view(c!).view(a!).view(b!);
      return addon.where(out, c!.data, a!.data, b!.data, m.buf);
    },
    cast: (out, [x]) => {
      if (anyEmpty(out, [x!])) return false;
      return addon.cast(out, x!.data, meta.reset("cast").view(x!).buf);
    },
    reshape: (out, [x]) => {
      if (anyEmpty(out, [x!])) return false;
      return addon.cast(out, x!.data, meta.reset("reshape").view(x!).buf);
    },
    sum: (out, [x], { axes }) => {
      if (!(out instanceof Float32Array) || anyEmpty(out, [x!])) return false;
      const m = meta.reset("sum").view(x!).num(axes.length).list(axes);
      return addon.reduce(0, out, x!.data, m.buf);
    },
    max: (out, [x], { axes }) => {
      if (!(out instanceof Float32Array) || anyEmpty(out, [x!])) return false;
      const m = meta.reset("max").view(x!).num(axes.length).list(axes);
      return addon.reduce(1, out, x!.data, m.buf);
    },
    argmax: (out, [x], { axis }) => {
      if (anyEmpty(out, [x!])) return false;
      return addon.argmax(out, x!.data, meta.reset("argmax").view(x!).num(axis).buf);
    },
    pad: (out, [x], { pads, value }, shape) => {
      if (anyEmpty(out, [x!])) return false;
      const m = meta
        .reset("pad")
        .view(x!)
        .list(shape)
        .list(pads.map((p) => p[0]))
        .num(value);
      return addon.pad(out, x!.data, m.buf);
    },
    concat: (out, inputs, { axis }, shape) => {
      if (out.length === 0) return false;
      // Empty inputs contribute nothing; the rest are copied into place.
      const parts = inputs.filter((v) => !isEmpty(v));
      const m = meta.reset("concat").num(axis, shape.length).list(shape);
      for (const v of parts) m.view(v);
      return addon.concat(
        out,
        parts.map((v) => v.data),
        m.buf,
      );
    },
    matmul: (out, [a, b], _p, shape) => {
      if (!(out instanceof Float32Array) || anyEmpty(out, [a!, b!])) return false;
      const m = meta.reset("matmul").view(a!).view(b!).num(shape.length).list(shape);
      return addon.matmul(out, a!.data, b!.data, m.buf, bf16());
    },
    conv2d: (out, [x, w], p, shape) => conv(0, out, x!, w!, shape, p),
    conv2dBackwardInput: (out, [dy, w], p) => conv(1, out, dy!, w!, p.inputShape, p),
    conv2dBackwardWeight: (out, [x, dy], p) => conv(2, out, x!, dy!, p.weightShape, p),
    maxPool2dIndices: (out, [x], p, shape) => {
      if (anyEmpty(out, [x!])) return false;
      const m = meta
        .reset("maxPool2dIndices")
        .view(x!)
        .num(shape[2]!, shape[3]!)
        .list(p.kernel)
        .list(p.stride)
        .list(p.padding)
        .list(p.dilation);
      return addon.maxPoolIndices(out, x!.data, m.buf);
    },
    gather: (out, [x, idx], { axis }) => {
      if (anyEmpty(out, [x!, idx!])) return false;
      const m = meta.reset("gather").view(x!).view(idx!).num(axis);
      return checked("gather", axis, x!.shape[axis]!, addon.gather(out, x!.data, idx!.data, m.buf));
    },
    scatterAdd: (out, [src, idx], { axis, shape }) => {
      if (anyEmpty(out, [src!, idx!])) return false;
      const m = meta.reset("scatterAdd").view(src!).view(idx!).num(axis, shape.length).list(shape);
      return checked(
        "scatterAdd",
        axis,
        shape[axis]!,
        addon.scatterAdd(out, src!.data, idx!.data, m.buf),
      );
    },
  };

  function conv(
    kind: number,
    out: View["data"],
    p: View,
    q: View,
    outShape: readonly number[],
    g: { stride: number[]; padding: number[]; dilation: number[]; groups: number },
  ): boolean {
    if (!(out instanceof Float32Array) || anyEmpty(out, [p, q])) return false;
    const m = meta
      .reset(CONV_OPS[kind]!)
      .view(p)
      .view(q)
      .list(outShape)
      .list(g.stride)
      .list(g.padding)
      .list(g.dilation)
      .num(g.groups);
    return addon.conv(kind, out, p.data, q.data, m.buf, undefined, bf16());
  }

  for (const [name, op] of Object.entries(UNARY)) {
    (table as Record<string, Kernel<"neg">>)[name] = unary(name, op, false);
  }
  for (const [name, op] of Object.entries(UNARY_LOOP)) {
    (table as Record<string, Kernel<"neg">>)[name] = unary(name, op, true);
  }
  for (const [name, op] of Object.entries(BINARY)) {
    (table as Record<string, Kernel<"add">>)[name] = binary(name, op);
  }
  return table;
}
