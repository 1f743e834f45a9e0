/**
 * Reference elementwise kernels: unary math, binary arithmetic, comparisons, where and cast.
 * Operands are strided views already broadcast to the output shape. The op switch sits outside
 * the element loop: a per-element callback would be several times slower in V8.
 */
import type { CmpOp, Kernel, KernelTable, View } from "../../ops/primitives.js";
import { copyInto, forEachRow } from "./strided.js";

export type UnaryOp =
  | "neg"
  | "exp"
  | "log"
  | "sqrt"
  | "tanh"
  | "sigmoid"
  | "relu"
  | "abs"
  | "sin"
  | "cos"
  | "erf"
  | "log1p"
  | "expm1";
export type BinaryOp = "add" | "sub" | "mul" | "div" | "pow" | "maximum";

export function unaryKernel(op: UnaryOp): Kernel<UnaryOp> {
  return (out, [x], _p, shape) => {
    const d = x!.data;
    forEachRow(shape, [x!], (offs, o, n, [s]) => {
      const p = offs[0]!;
      const st = s!;
      switch (op) {
        case "neg":
          for (let i = 0; i < n; i++) out[o + i] = -d[p + i * st]!;
          break;
        case "exp":
          for (let i = 0; i < n; i++) out[o + i] = Math.exp(d[p + i * st]!);
          break;
        case "log":
          for (let i = 0; i < n; i++) out[o + i] = Math.log(d[p + i * st]!);
          break;
        case "sqrt":
          for (let i = 0; i < n; i++) out[o + i] = Math.sqrt(d[p + i * st]!);
          break;
        case "tanh":
          for (let i = 0; i < n; i++) out[o + i] = Math.tanh(d[p + i * st]!);
          break;
        case "sigmoid":
          for (let i = 0; i < n; i++) {
            const v = d[p + i * st]!;
            // Both branches only ever exponentiate a non-positive number, so neither overflows.
            if (v >= 0) out[o + i] = 1 / (1 + Math.exp(-v));
            else {
              const e = Math.exp(v);
              out[o + i] = e / (1 + e);
            }
          }
          break;
        case "relu":
          for (let i = 0; i < n; i++) {
            const v = d[p + i * st]!;
            out[o + i] = v > 0 ? v : v === v ? 0 : v;
          }
          break;
        case "abs":
          for (let i = 0; i < n; i++) out[o + i] = Math.abs(d[p + i * st]!);
          break;
        case "sin":
          for (let i = 0; i < n; i++) out[o + i] = Math.sin(d[p + i * st]!);
          break;
        case "cos":
          for (let i = 0; i < n; i++) out[o + i] = Math.cos(d[p + i * st]!);
          break;
        case "log1p":
          for (let i = 0; i < n; i++) out[o + i] = Math.log1p(d[p + i * st]!);
          break;
        case "expm1":
          for (let i = 0; i < n; i++) out[o + i] = Math.expm1(d[p + i * st]!);
          break;
        case "erf":
          // float32 too: erf64 rounded to float32 is odd, exact at ±0 and within an ulp, where a
          // float32-grade approximation (A&S 7.1.26, |error| 1.5e-7) gives erf(0) = 1e-9 and
          // loses all relative accuracy near 0.
          for (let i = 0; i < n; i++) out[o + i] = erf64(d[p + i * st]!);
          break;
      }
    });
  };
}

export function binaryKernel(op: BinaryOp): Kernel<BinaryOp> {
  return (out, [a, b], _p, shape) => {
    const ad = a!.data;
    const bd = b!.data;
    forEachRow(shape, [a!, b!], (offs, o, n, [sa, sb]) => {
      let pa = offs[0]!;
      let pb = offs[1]!;
      const ia = sa!;
      const ib = sb!;
      switch (op) {
        case "add":
          for (let i = 0; i < n; i++, pa += ia, pb += ib) out[o + i] = ad[pa]! + bd[pb]!;
          break;
        case "sub":
          for (let i = 0; i < n; i++, pa += ia, pb += ib) out[o + i] = ad[pa]! - bd[pb]!;
          break;
        case "mul":
          for (let i = 0; i < n; i++, pa += ia, pb += ib) out[o + i] = ad[pa]! * bd[pb]!;
          break;
        case "div":
          for (let i = 0; i < n; i++, pa += ia, pb += ib) out[o + i] = ad[pa]! / bd[pb]!;
          break;
        case "pow":
          for (let i = 0; i < n; i++, pa += ia, pb += ib) out[o + i] = Math.pow(ad[pa]!, bd[pb]!);
          break;
        case "maximum":
          for (let i = 0; i < n; i++, pa += ia, pb += ib) {
            const x = ad[pa]!;
            const y = bd[pb]!;
            out[o + i] = x > y || x !== x ? x : y;
          }
          break;
      }
    });
  };
}

export const cmpKernel: Kernel<"cmp"> = (out, [a, b], { op }, shape) => {
  const ad = a!.data;
  const bd = b!.data;
  const code: Record<CmpOp, number> = { eq: 0, ne: 1, lt: 2, le: 3, gt: 4, ge: 5 };
  const c = code[op];
  forEachRow(shape, [a!, b!], (offs, o, n, [sa, sb]) => {
    let pa = offs[0]!;
    let pb = offs[1]!;
    for (let i = 0; i < n; i++, pa += sa!, pb += sb!) {
      const x = ad[pa]!;
      const y = bd[pb]!;
      let r: boolean;
      switch (c) {
        case 0:
          r = x === y;
          break;
        case 1:
          r = x !== y;
          break;
        case 2:
          r = x < y;
          break;
        case 3:
          r = x <= y;
          break;
        case 4:
          r = x > y;
          break;
        default:
          r = x >= y;
      }
      out[o + i] = r ? 1 : 0;
    }
  });
};

export const whereKernel: Kernel<"where"> = (out, [c, a, b], _p, shape) => {
  const cd = c!.data;
  const ad = a!.data;
  const bd = b!.data;
  forEachRow(shape, [c!, a!, b!], (offs, o, n, [sc, sa, sb]) => {
    let pc = offs[0]!;
    let pa = offs[1]!;
    let pb = offs[2]!;
    for (let i = 0; i < n; i++, pc += sc!, pa += sa!, pb += sb!) {
      out[o + i] = cd[pc] ? ad[pa]! : bd[pb]!;
    }
  });
};

/** Round half to even (torch.round): Math.round rounds halves up, so odd results step back. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export const roundKernel: Kernel<"round"> = (out, [x], { mode }, shape) => {
  const d = x!.data;
  const f =
    mode === "floor"
      ? Math.floor
      : mode === "ceil"
        ? Math.ceil
        : mode === "trunc"
          ? Math.trunc
          : roundHalfEven;
  forEachRow(shape, [x!], (offs, o, n, [s]) => {
    let p = offs[0]!;
    for (let i = 0; i < n; i++, p += s!) out[o + i] = f(d[p]!);
  });
};

export const castKernel: Kernel<"cast"> = (out, [x], { dtype }, shape) => {
  if (dtype === "bool") {
    const d = x!.data;
    forEachRow(shape, [x!], (offs, o, n, [s]) => {
      let p = offs[0]!;
      for (let i = 0; i < n; i++, p += s!) out[o + i] = d[p] !== 0 ? 1 : 0;
    });
  } else if (dtype === "int32" && (x!.dtype === "float32" || x!.dtype === "float64")) {
    // NOTE: truncation toward zero, as PyTorch; Int32Array assignment would wrap large values.
    const d = x!.data;
    forEachRow(shape, [x!], (offs, o, n, [s]) => {
      let p = offs[0]!;
      for (let i = 0; i < n; i++, p += s!) out[o + i] = Math.trunc(d[p]!);
    });
  } else {
    copyInto(out, x as View, shape);
  }
};

/**
 * erf to double precision: the all-positive series 2/√π e^(-x²) Σ (2x²)^n x / (2n+1)!! for
 * |x| < 3 (no cancellation), and erfc's continued fraction (modified Lentz) beyond.
 */
export function erf64(x: number): number {
  // NaN, and ±0 with its sign (erf is odd; the series would give +0 for -0).
  if (x !== x || x === 0) return x;
  const a = Math.abs(x);
  const s = x < 0 ? -1 : 1;
  if (a >= 6) return s;
  if (a < 3) {
    let term = a;
    let total = a;
    const x2 = 2 * a * a;
    for (let n = 1; n < 200; n++) {
      term *= x2 / (2 * n + 1);
      total += term;
      if (term < total * 1e-17) break;
    }
    return (s * 2 * Math.exp(-a * a) * total) / Math.sqrt(Math.PI);
  }
  // erfc(a) = e^(-a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + …)))))
  const tiny = 1e-300;
  let f = a;
  let c = a;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const an = n / 2;
    d = a + an * d;
    d = d === 0 ? tiny : d;
    c = a + an / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  return s * (1 - erfc);
}

export const elementwiseKernels: Pick<
  KernelTable,
  UnaryOp | BinaryOp | "round" | "cmp" | "where" | "cast"
> = {
  neg: unaryKernel("neg"),
  exp: unaryKernel("exp"),
  log: unaryKernel("log"),
  sqrt: unaryKernel("sqrt"),
  tanh: unaryKernel("tanh"),
  sigmoid: unaryKernel("sigmoid"),
  relu: unaryKernel("relu"),
  abs: unaryKernel("abs"),
  sin: unaryKernel("sin"),
  cos: unaryKernel("cos"),
  erf: unaryKernel("erf"),
  log1p: unaryKernel("log1p"),
  expm1: unaryKernel("expm1"),
  round: roundKernel,
  add: binaryKernel("add"),
  sub: binaryKernel("sub"),
  mul: binaryKernel("mul"),
  div: binaryKernel("div"),
  pow: binaryKernel("pow"),
  maximum: binaryKernel("maximum"),
  cmp: cmpKernel,
  where: whereKernel,
  cast: castKernel,
};
