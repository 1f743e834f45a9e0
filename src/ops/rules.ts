/**
 * The rule table: for every primitive, its shape rule (validation + output shape and dtype), its
 * reverse-mode gradient rule (a vjp written with tensor ops), and for movement primitives the
 * view rule that lets them run without copying.
 *
 * `rules` is typed `{ [P in Prim]: Rule<P> }`: a primitive without a rule does not compile.
 * Gradient rules are backend-independent: they call tensor ops, which dispatch to whatever
 * backend is active.
 */
import { type DType, isFloating } from "../tensor/dtype.js";
import { TsgradError, fmtShape } from "../tensor/errors.js";
import { zeros } from "../tensor/creation.js";
import { contiguousStrides, numel, sameShape } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import * as ops from "./ops.js";
import { run } from "./dispatch.js";
import type { Conv2dParams, Prim, PrimParams, View } from "./primitives.js";

export interface OutInfo {
  shape: number[];
  dtype: DType;
}

export interface VjpContext<P extends Prim> {
  inputs: readonly Tensor[];
  out: Tensor;
  params: PrimParams[P];
  /** Whether each input needs a gradient (a rule may skip the others). */
  needs: readonly boolean[];
}

export interface Rule<P extends Prim> {
  /** Validate the inputs and compute the output's shape and dtype; throws naming the op. */
  shape(inputs: readonly View[], params: PrimParams[P]): OutInfo;
  /** Input cotangents from the output cotangent `g`, or null for a non-differentiable primitive. */
  vjp: ((g: Tensor, ctx: VjpContext<P>) => (Tensor | null)[]) | null;
  /** For movement primitives: strides/offset of the output as a view of input 0, or null to copy. */
  view?: (
    x: View,
    params: PrimParams[P],
    outShape: readonly number[],
  ) => { strides: number[]; offset: number } | null;
}

// ------------------------------------------------------------------ shape-rule helpers

function arity(op: string, inputs: readonly View[], n: number): void {
  if (inputs.length !== n) throw new TsgradError(op, `expected ${n} inputs, got ${inputs.length}`);
}

function unaryFloat(op: string) {
  return (inputs: readonly View[]): OutInfo => {
    arity(op, inputs, 1);
    const x = inputs[0]!;
    if (!isFloating(x.dtype) && op !== "neg" && op !== "abs" && op !== "relu") {
      throw new TsgradError(op, `expected a floating tensor, got ${x.dtype}`);
    }
    return { shape: [...x.shape], dtype: x.dtype };
  };
}

/** Binary elementwise: the front end has already broadcast and promoted both operands. */
function sameShapes(op: string, n: number, outDtype?: DType) {
  return (inputs: readonly View[]): OutInfo => {
    arity(op, inputs, n);
    const first = inputs[inputs.length - 1]!;
    for (const t of inputs) {
      if (!sameShape(t.shape, first.shape)) {
        throw new TsgradError(
          op,
          `operand shapes differ: ${inputs.map((i) => fmtShape(i.shape)).join(", ")}`,
        );
      }
    }
    const a = inputs[n - 2]!;
    const b = inputs[n - 1]!;
    if (a.dtype !== b.dtype) {
      throw new TsgradError(op, `operand dtypes differ: ${a.dtype} and ${b.dtype}`);
    }
    return { shape: [...first.shape], dtype: outDtype ?? a.dtype };
  };
}

function reduced(shape: readonly number[], axes: readonly number[], keepdim: boolean): number[] {
  return keepdim
    ? shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : shape.filter((_, i) => !axes.includes(i));
}

/** Output size of a conv/pool window along one axis. */
export function windowOut(
  size: number,
  k: number,
  stride: number,
  pad: number,
  dil: number,
  ceil = false,
): number {
  const span = size + 2 * pad - dil * (k - 1) - 1;
  let o = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  // As PyTorch: with ceil mode, the last window must start inside the input or left padding.
  if (ceil && (o - 1) * stride >= size + pad) o--;
  return o;
}

/** The output shape of a conv2d of x by w, or a TsgradError naming `op` and the bad shapes. */
export function checkConv(
  op: string,
  x: readonly number[],
  w: readonly number[],
  p: Conv2dParams,
): number[] {
  if (x.length !== 4 || w.length !== 4) {
    throw new TsgradError(
      op,
      `expected 4-D input [N,C,H,W] and weight [O,C/groups,KH,KW], got ${fmtShape(x)} and ${fmtShape(w)}`,
    );
  }
  const [n, c, h, wd] = x as [number, number, number, number];
  const [o, cg, kh, kw] = w as [number, number, number, number];
  if (!(p.groups >= 1) || c % p.groups !== 0 || o % p.groups !== 0 || cg * p.groups !== c) {
    throw new TsgradError(
      op,
      `input ${fmtShape(x)} and weight ${fmtShape(w)} do not fit groups=${p.groups} (need C = weight[1]*groups and O divisible by groups)`,
    );
  }
  const nums = [...p.stride, ...p.padding, ...p.dilation];
  if (
    nums.some((v) => !Number.isInteger(v)) ||
    p.stride.some((v) => v < 1) ||
    p.dilation.some((v) => v < 1) ||
    p.padding.some((v) => v < 0)
  ) {
    throw new TsgradError(
      op,
      `invalid stride ${fmtShape(p.stride)}, padding ${fmtShape(p.padding)} or dilation ${fmtShape(p.dilation)}`,
    );
  }
  const oh = windowOut(h, kh, p.stride[0], p.padding[0], p.dilation[0]);
  const ow = windowOut(wd, kw, p.stride[1], p.padding[1], p.dilation[1]);
  if (oh < 1 || ow < 1) {
    throw new TsgradError(
      op,
      `kernel ${kh}x${kw} (dilation ${fmtShape(p.dilation)}) is larger than the padded input ${fmtShape(x)}`,
    );
  }
  return [n, o, oh, ow];
}

function floatPair(op: string, a: View, b: View): DType {
  if (a.dtype !== b.dtype || !isFloating(a.dtype)) {
    throw new TsgradError(
      op,
      `expected two floating tensors of one dtype, got ${a.dtype} and ${b.dtype}`,
    );
  }
  return a.dtype;
}

function checkIndexShape(op: string, idx: View, target: readonly number[], axis: number): void {
  if (idx.dtype !== "int32") throw new TsgradError(op, `index must be int32, got ${idx.dtype}`);
  // tg.gather normalises the axis; a direct run() must still name one the target has.
  if (!Number.isInteger(axis) || axis < 0 || axis >= Math.max(1, target.length)) {
    throw new TsgradError(op, `axis ${axis} is out of range for ${fmtShape(target)}`);
  }
  if (
    idx.shape.length !== target.length ||
    idx.shape.some((d, i) => i !== axis && d > target[i]!)
  ) {
    throw new TsgradError(
      op,
      `index shape ${fmtShape(idx.shape)} does not fit ${fmtShape(target)} along axis ${axis}`,
    );
  }
}

/** A scan/sort axis must be one the tensor has (the front end maps a 0-d tensor to shape [1]). */
function checkAxis(op: string, shape: readonly number[], axis: number): void {
  if (!Number.isInteger(axis) || axis < 0 || axis >= shape.length) {
    throw new TsgradError(op, `axis ${axis} is out of range for ${fmtShape(shape)}`);
  }
}

const mask = (t: Tensor, dtype: DType) => t.to(dtype);

/** The last two axes are stored column-major (as `w.t()` of a contiguous matrix `w`). */
function colMajor(t: Tensor): boolean {
  const r = t.ndim;
  return (
    t.shape[r - 2]! > 1 &&
    t.shape[r - 1]! > 1 &&
    t.strides[r - 2] === 1 &&
    t.strides[r - 1] === t.shape[r - 2]
  );
}

// ------------------------------------------------------------------ the table

export const rules: { [P in Prim]: Rule<P> } = {
  neg: { shape: unaryFloat("neg"), vjp: (g) => [ops.neg(g)] },
  // d/dx e^x = e^x (the output)
  exp: { shape: unaryFloat("exp"), vjp: (g, { out }) => [ops.mul(g, out)] },
  // d/dx log x = 1/x
  log: { shape: unaryFloat("log"), vjp: (g, { inputs }) => [ops.div(g, inputs[0]!)] },
  // d/dx sqrt x = 1 / (2 sqrt x)
  sqrt: { shape: unaryFloat("sqrt"), vjp: (g, { out }) => [ops.div(g, ops.mul(out, 2))] },
  // d/dx tanh x = 1 - tanh² x
  tanh: {
    shape: unaryFloat("tanh"),
    vjp: (g, { out }) => [ops.mul(g, ops.sub(1, ops.mul(out, out)))],
  },
  // d/dx σ(x) = σ(x)(1 - σ(x))
  sigmoid: {
    shape: unaryFloat("sigmoid"),
    vjp: (g, { out }) => [ops.mul(g, ops.mul(out, ops.sub(1, out)))],
  },
  // PyTorch's threshold_backward: 0 where x ≤ 0 (at exactly 0 too), else g — NaN included. A
  // select, not g · [x > 0], so an infinite or NaN g gives 0 rather than NaN where x ≤ 0.
  relu: {
    shape: unaryFloat("relu"),
    vjp: (g, { inputs }) => [ops.where(ops.cmp("le", inputs[0]!, 0), 0, g)],
  },
  // d/dx |x| = sign(x), 0 at 0
  abs: { shape: unaryFloat("abs"), vjp: (g, { inputs }) => [ops.mul(g, ops.sign(inputs[0]!))] },
  sin: { shape: unaryFloat("sin"), vjp: (g, { inputs }) => [ops.mul(g, ops.cos(inputs[0]!))] },
  cos: {
    shape: unaryFloat("cos"),
    vjp: (g, { inputs }) => [ops.neg(ops.mul(g, ops.sin(inputs[0]!)))],
  },
  // d/dx erf x = 2/√π · e^(-x²)
  erf: {
    shape: unaryFloat("erf"),
    vjp: (g, { inputs }) => {
      const x = inputs[0]!;
      return [ops.mul(g, ops.mul(ops.exp(ops.neg(ops.mul(x, x))), 2 / Math.sqrt(Math.PI)))];
    },
  },
  // d/dx log(1 + x) = 1 / (1 + x)
  log1p: {
    shape: unaryFloat("log1p"),
    vjp: (g, { inputs }) => [ops.div(g, ops.add(inputs[0]!, 1))],
  },
  // d/dx (e^x - 1) = e^x = out + 1
  expm1: { shape: unaryFloat("expm1"), vjp: (g, { out }) => [ops.mul(g, ops.add(out, 1))] },
  // Piecewise constant: the gradient is zero everywhere, a real zero tensor (as PyTorch's
  // floor/ceil/round/trunc backward) rather than no gradient, so a loss through it still backprops.
  round: {
    shape: (inputs, { mode }) => {
      if (!["floor", "ceil", "round", "trunc"].includes(mode)) {
        throw new TsgradError("round", `unknown rounding mode ${JSON.stringify(mode)}`);
      }
      return unaryFloat(mode)(inputs);
    },
    vjp: (g) => [zeros(g.shape, { dtype: g.dtype })],
  },

  add: { shape: sameShapes("add", 2), vjp: (g) => [g, g] },
  sub: { shape: sameShapes("sub", 2), vjp: (g, { needs }) => [g, needs[1] ? ops.neg(g) : null] },
  mul: {
    shape: sameShapes("mul", 2),
    vjp: (g, { inputs: [a, b], needs }) => [
      needs[0] ? ops.mul(g, b!) : null,
      needs[1] ? ops.mul(g, a!) : null,
    ],
  },
  // d(a/b)/da = 1/b, d(a/b)/db = -a/b² = -out/b
  div: {
    shape: sameShapes("div", 2),
    vjp: (g, { inputs: [, b], out, needs }) => [
      needs[0] ? ops.div(g, b!) : null,
      needs[1] ? ops.neg(ops.div(ops.mul(g, out), b!)) : null,
    ],
  },
  // d(a^b)/da = b a^(b-1); d(a^b)/db = a^b log a, taken as 0 where a = 0 (as PyTorch)
  // The degenerate points follow PyTorch: d/da is 0 where b = 0 (a^0 is constant, even at a = 0
  // where b·a^(b-1) is 0·inf); d/db is 0 where a = 0 and b ≥ 0, and a^b·log(a) = -inf·sign where
  // a = 0 and b < 0 (the value is inf there).
  pow: {
    shape: sameShapes("pow", 2),
    vjp: (g, { inputs: [a, b], out, needs }) => {
      let db: Tensor | null = null;
      if (needs[1]) {
        const t = ops.mul(g, ops.mul(out, ops.log(a!)));
        db = ops.where(ops.cmp("eq", a!, 0), ops.where(ops.cmp("ge", b!, 0), 0, t), t);
      }
      return [
        needs[0]
          ? ops.where(ops.cmp("eq", b!, 0), 0, ops.mul(g, ops.mul(b!, ops.pow(a!, ops.sub(b!, 1)))))
          : null,
        db,
      ];
    },
  },
  // PyTorch's rule: ties split the gradient half and half; the smaller side gets exactly 0 (a
  // select, so an infinite or NaN g does not make it 0 · inf = NaN); where either is NaN no
  // comparison holds and both get g.
  maximum: {
    shape: sameShapes("maximum", 2),
    vjp: (g, { inputs: [a, b], needs }) => {
      const split = ops.where(ops.cmp("eq", a!, b!), ops.mul(g, 0.5), g);
      return [
        needs[0] ? ops.where(ops.cmp("lt", a!, b!), 0, split) : null,
        needs[1] ? ops.where(ops.cmp("gt", a!, b!), 0, split) : null,
      ];
    },
  },
  cmp: { shape: sameShapes("cmp", 2, "bool"), vjp: null },
  where: {
    shape: (inputs) => {
      const info = sameShapes("where", 3)(inputs);
      if (inputs[0]!.dtype !== "bool") {
        throw new TsgradError("where", `condition must be bool, got ${inputs[0]!.dtype}`);
      }
      return info;
    },
    vjp: (g, { inputs: [c], needs }) => [
      null,
      needs[1] ? ops.where(c!, g, 0) : null,
      needs[2] ? ops.where(c!, 0, g) : null,
    ],
  },
  cast: {
    shape: ([x], { dtype }) => ({ shape: [...x!.shape], dtype }),
    vjp: (g, { inputs: [x] }) => [isFloating(x!.dtype) ? g.to(x!.dtype) : null],
  },

  sum: {
    shape: ([x], { axes, keepdim }) => ({
      shape: reduced(x!.shape, axes, keepdim),
      dtype: x!.dtype,
    }),
    vjp: (g, { inputs: [x], params: { axes } }) => [
      ops.expand(ops.reshape(g, reduced(x!.shape, axes, true)), x!.shape),
    ],
  },
  // NOTE: every tied maximum receives an equal share of the gradient (torch.amax semantics).
  max: {
    shape: ([x], { axes, keepdim }) => ({
      shape: reduced(x!.shape, axes, keepdim),
      dtype: x!.dtype,
    }),
    vjp: (g, { inputs: [x], out, params: { axes } }) => {
      const kept = reduced(x!.shape, axes, true);
      const isMax = mask(ops.cmp("eq", x!, ops.reshape(out, kept)), g.dtype);
      return [ops.mul(isMax, ops.div(ops.reshape(g, kept), ops.sum(isMax, axes, true)))];
    },
  },
  argmax: {
    shape: ([x], { axis, keepdim }) => ({
      shape: reduced(x!.shape, [axis], keepdim),
      dtype: "int32",
    }),
    vjp: null,
  },
  // Each input element x_j reaches every output y_i with i on its far side, so the gradient is the
  // running sum of g taken in the opposite direction.
  cumsum: {
    shape: ([x], { axis }) => {
      checkAxis("cumsum", x!.shape, axis);
      if (x!.dtype === "bool") {
        throw new TsgradError("cumsum", "expected a numeric tensor, got bool");
      }
      return { shape: [...x!.shape], dtype: x!.dtype };
    },
    vjp: (g, { params: { axis, reverse } }) => [run("cumsum", [g], { axis, reverse: !reverse })],
  },
  argsort: {
    shape: ([x], { axis }) => {
      checkAxis("argsort", x!.shape, axis);
      return { shape: [...x!.shape], dtype: "int32" };
    },
    vjp: null,
  },

  reshape: {
    shape: ([x], { shape }) => {
      if (numel(shape) !== numel(x!.shape)) {
        throw new TsgradError(
          "reshape",
          `cannot reshape ${fmtShape(x!.shape)} into ${fmtShape(shape)}`,
        );
      }
      return { shape: [...shape], dtype: x!.dtype };
    },
    vjp: (g, { inputs: [x] }) => [ops.reshape(g, x!.shape)],
    view: (x, _p, outShape) => reshapeView(x, outShape),
  },
  permute: {
    shape: ([x], { perm }) => ({ shape: perm.map((p) => x!.shape[p]!), dtype: x!.dtype }),
    vjp: (g, { params: { perm } }) => {
      const inv = new Array<number>(perm.length);
      perm.forEach((p, i) => (inv[p] = i));
      return [ops.permute(g, inv)];
    },
    view: (x, { perm }) => ({ strides: perm.map((p) => x.strides[p]!), offset: x.offset }),
  },
  expand: {
    shape: ([x], { shape }) => {
      const lead = shape.length - x!.shape.length;
      const bad = shape.find((d) => !Number.isInteger(d) || d < 0);
      if (bad !== undefined) {
        // -1 ("keep this size") is resolved by tg.expand for existing axes; a new leading axis
        // has no size to keep.
        throw new TsgradError(
          "expand",
          `invalid size ${bad} in ${fmtShape(shape)} for ${fmtShape(x!.shape)} (-1 only keeps an existing axis)`,
        );
      }
      if (lead < 0 || x!.shape.some((d, i) => d !== 1 && d !== shape[i + lead])) {
        throw new TsgradError(
          "expand",
          `cannot expand ${fmtShape(x!.shape)} to ${fmtShape(shape)}`,
        );
      }
      return { shape: [...shape], dtype: x!.dtype };
    },
    vjp: (g, { inputs: [x] }) => [ops.sumTo(g, x!.shape)],
    view: (x, { shape }) => {
      const lead = shape.length - x.shape.length;
      const strides = shape.map((d, i) =>
        i < lead || (x.shape[i - lead] === 1 && d !== 1) ? 0 : x.strides[i - lead]!,
      );
      return { strides, offset: x.offset };
    },
  },
  slice: {
    shape: ([x], { starts, ends }) => {
      const bad = x!.shape.some(
        (d, i) => !(0 <= starts[i]! && starts[i]! <= ends[i]! && ends[i]! <= d),
      );
      if (bad || starts.length !== x!.shape.length || ends.length !== x!.shape.length) {
        throw new TsgradError(
          "slice",
          `range [${starts.join(",")}]..[${ends.join(",")}] is outside ${fmtShape(x!.shape)}`,
        );
      }
      return { shape: starts.map((s, i) => ends[i]! - s), dtype: x!.dtype };
    },
    vjp: (g, { inputs: [x], params: { starts, ends } }) => [
      run("pad", [g], {
        pads: starts.map((s, i) => [s, x!.shape[i]! - ends[i]!] as [number, number]),
        value: 0,
      }),
    ],
    view: (x, { starts }) => ({
      strides: [...x.strides],
      offset: x.offset + starts.reduce((o, s, i) => o + s * x.strides[i]!, 0),
    }),
  },
  pad: {
    shape: ([x], { pads }) => {
      if (pads.length !== x!.shape.length) {
        throw new TsgradError(
          "pad",
          `expected ${x!.shape.length} (before, after) pairs, got ${pads.length}`,
        );
      }
      return { shape: x!.shape.map((d, i) => d + pads[i]![0] + pads[i]![1]), dtype: x!.dtype };
    },
    vjp: (g, { inputs: [x], params: { pads } }) => [
      run("slice", [g], {
        starts: pads.map((p) => p[0]),
        ends: pads.map((p, i) => p[0] + x!.shape[i]!),
      }),
    ],
  },
  concat: {
    shape: (inputs, { axis }) => {
      const first = inputs[0]!;
      let total = 0;
      for (const t of inputs) {
        if (
          t.dtype !== first.dtype ||
          t.shape.length !== first.shape.length ||
          t.shape.some((d, i) => i !== axis && d !== first.shape[i])
        ) {
          throw new TsgradError(
            "cat",
            `tensors must match except along axis ${axis}: ${inputs.map((i) => `${fmtShape(i.shape)} ${i.dtype}`).join(", ")}`,
          );
        }
        total += t.shape[axis]!;
      }
      return { shape: first.shape.map((d, i) => (i === axis ? total : d)), dtype: first.dtype };
    },
    vjp: (g, { inputs, params: { axis } }) =>
      ops.split(
        g,
        inputs.map((t) => t.shape[axis]!),
        axis,
      ),
  },

  // C = A B: dA = dC Bᵀ, dB = Aᵀ dC (batch axes were broadcast by `expand`, whose rule sums them back)
  matmul: {
    shape: ([a, b]) => {
      const dtype = floatPair("matmul", a!, b!);
      const r = a!.shape.length;
      if (
        r < 2 ||
        b!.shape.length !== r ||
        !sameShape(a!.shape.slice(0, -2), b!.shape.slice(0, -2)) ||
        a!.shape[r - 1] !== b!.shape[r - 2]
      ) {
        throw new TsgradError(
          "matmul",
          `shapes ${fmtShape(a!.shape)} and ${fmtShape(b!.shape)} do not multiply`,
        );
      }
      return { shape: [...a!.shape.slice(0, -1), b!.shape[r - 1]!], dtype };
    },
    // An operand stored transposed (a Linear weight used as Wᵀ) gets its gradient computed
    // transposed too, (Bᵀ's gradient)ᵀ = (dCᵀ A)ᵀ, so it lands in the operand's own layout: the
    // weight's gradient is then contiguous and the optimizer needs no copy of it.
    vjp: (g, { inputs: [a, b], needs }) => [
      needs[0]
        ? colMajor(a!)
          ? ops.transpose(run("matmul", [b!, ops.transpose(g, -2, -1)], {}), -2, -1)
          : run("matmul", [g, ops.transpose(b!, -2, -1)], {})
        : null,
      needs[1]
        ? colMajor(b!)
          ? ops.transpose(run("matmul", [ops.transpose(g, -2, -1), a!], {}), -2, -1)
          : run("matmul", [ops.transpose(a!, -2, -1), g], {})
        : null,
    ],
  },
  // With B(x, w, dy) = <dy, conv(x, w)> bilinear, the three conv primitives are its three partial
  // adjoints, so each one's gradient is given by the other two.
  conv2d: {
    shape: ([x, w], p) => ({
      shape: checkConv("conv2d", x!.shape, w!.shape, p),
      dtype: floatPair("conv2d", x!, w!),
    }),
    vjp: (g, { inputs: [x, w], params, needs }) => [
      needs[0]
        ? run("conv2dBackwardInput", [g, w!], { ...params, inputShape: shape4(x!.shape) })
        : null,
      needs[1]
        ? run("conv2dBackwardWeight", [x!, g], { ...params, weightShape: shape4(w!.shape) })
        : null,
    ],
  },
  conv2dBackwardInput: {
    shape: ([dy, w], p) => {
      const expected = checkConv("conv2dBackwardInput", p.inputShape, w!.shape, p);
      if (!sameShape(expected, dy!.shape)) {
        throw new TsgradError(
          "conv2dBackwardInput",
          `gradient shape ${fmtShape(dy!.shape)} does not match conv output ${fmtShape(expected)}`,
        );
      }
      return { shape: [...p.inputShape], dtype: floatPair("conv2dBackwardInput", dy!, w!) };
    },
    vjp: (g, { inputs: [dy, w], params, needs }) => [
      needs[0] ? run("conv2d", [g, w!], convOnly(params)) : null,
      needs[1]
        ? run("conv2dBackwardWeight", [g, dy!], {
            ...convOnly(params),
            weightShape: shape4(w!.shape),
          })
        : null,
    ],
  },
  conv2dBackwardWeight: {
    shape: ([x, dy], p) => {
      const expected = checkConv("conv2dBackwardWeight", x!.shape, p.weightShape, p);
      if (!sameShape(expected, dy!.shape)) {
        throw new TsgradError(
          "conv2dBackwardWeight",
          `gradient shape ${fmtShape(dy!.shape)} does not match conv output ${fmtShape(expected)}`,
        );
      }
      return { shape: [...p.weightShape], dtype: floatPair("conv2dBackwardWeight", x!, dy!) };
    },
    vjp: (g, { inputs: [x, dy], params, needs }) => [
      needs[0]
        ? run("conv2dBackwardInput", [dy!, g], {
            ...convOnly(params),
            inputShape: shape4(x!.shape),
          })
        : null,
      needs[1] ? run("conv2d", [x!, g], convOnly(params)) : null,
    ],
  },
  maxPool2dIndices: {
    shape: ([x], p) => {
      if (x!.shape.length !== 4) {
        throw new TsgradError(
          "maxPool2d",
          `expected a 4-D input [N,C,H,W], got ${fmtShape(x!.shape)}`,
        );
      }
      const [n, c, h, w] = x!.shape as [number, number, number, number];
      const [kh, kw] = p.kernel;
      if (
        [kh, kw, ...p.stride, ...p.dilation].some((v) => !Number.isInteger(v) || v < 1) ||
        p.padding.some((v) => !Number.isInteger(v) || v < 0)
      ) {
        throw new TsgradError(
          "maxPool2d",
          `invalid kernel ${fmtShape(p.kernel)}, stride ${fmtShape(p.stride)}, padding ${fmtShape(p.padding)} or dilation ${fmtShape(p.dilation)}`,
        );
      }
      if (2 * p.padding[0] > kh || 2 * p.padding[1] > kw) {
        throw new TsgradError(
          "maxPool2d",
          `padding ${fmtShape(p.padding)} must be at most half the kernel ${fmtShape(p.kernel)}`,
        );
      }
      const oh = windowOut(h, kh, p.stride[0], p.padding[0], p.dilation[0], p.ceilMode);
      const ow = windowOut(w, kw, p.stride[1], p.padding[1], p.dilation[1], p.ceilMode);
      if (oh < 1 || ow < 1) {
        throw new TsgradError(
          "maxPool2d",
          `kernel ${fmtShape(p.kernel)} is larger than the padded input ${fmtShape(x!.shape)}`,
        );
      }
      return { shape: [n, c, oh, ow], dtype: "int32" };
    },
    vjp: null,
  },
  gather: {
    shape: ([x, idx], { axis }) => {
      checkIndexShape("gather", idx!, x!.shape, axis);
      return { shape: [...idx!.shape], dtype: x!.dtype };
    },
    vjp: (g, { inputs: [x, idx], params: { axis } }) => [
      run("scatterAdd", [g, idx!], { axis, shape: [...x!.shape] }),
      null,
    ],
  },
  scatterAdd: {
    shape: ([src, idx], { axis, shape }) => {
      checkIndexShape("scatterAdd", idx!, shape, axis);
      if (!sameShape(src!.shape, idx!.shape)) {
        throw new TsgradError(
          "scatterAdd",
          `source shape ${fmtShape(src!.shape)} differs from index shape ${fmtShape(idx!.shape)}`,
        );
      }
      return { shape: [...shape], dtype: src!.dtype };
    },
    vjp: (g, { inputs: [, idx], params: { axis } }) => [run("gather", [g, idx!], { axis }), null],
  },
};

function shape4(s: readonly number[]): [number, number, number, number] {
  return [s[0]!, s[1]!, s[2]!, s[3]!];
}

function convOnly(p: Conv2dParams): Conv2dParams {
  return { stride: p.stride, padding: p.padding, dilation: p.dilation, groups: p.groups };
}

/**
 * Strides for viewing `x` as `shape` without copying, or null when impossible. Works by matching
 * groups of input axes that are contiguous among themselves against groups of output axes with
 * the same element count (PyTorch's computeStride).
 */
function reshapeView(
  x: View,
  shape: readonly number[],
): { strides: number[]; offset: number } | null {
  if (numel(shape) === 0) return { strides: contiguousStrides(shape), offset: x.offset };
  const inShape = x.shape.filter((d) => d !== 1);
  const inStrides = x.strides.filter((_, i) => x.shape[i] !== 1);
  const out = new Array<number>(shape.length);
  let oi = 0;
  let ii = 0;
  while (ii < inShape.length) {
    // Take a maximal run of input axes that is contiguous in memory.
    let count = inShape[ii]!;
    let j = ii;
    while (j + 1 < inShape.length && inStrides[j] === inStrides[j + 1]! * inShape[j + 1]!) {
      j++;
      count *= inShape[j]!;
    }
    // Lay output axes over that run.
    let stride = inStrides[j]!;
    let acc = 1;
    const start = oi;
    while (oi < shape.length && acc * shape[oi]! <= count && (acc < count || shape[oi] === 1)) {
      acc *= shape[oi]!;
      oi++;
      if (acc === count) break;
    }
    if (acc !== count) return null;
    for (let k = oi - 1; k >= start; k--) {
      out[k] = stride;
      stride *= shape[k]!;
    }
    ii = j + 1;
  }
  while (oi < shape.length) {
    if (shape[oi] !== 1) return null;
    out[oi++] = 1;
  }
  // Size-1 output axes get any stride; give them one that keeps the view contiguous-looking.
  for (let k = shape.length - 1; k >= 0; k--) {
    if (shape[k] === 1) out[k] = k + 1 < shape.length ? out[k + 1]! * shape[k + 1]! : 1;
  }
  return { strides: out, offset: x.offset };
}
