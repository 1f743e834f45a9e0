/**
 * Random programs for the differential test against PyTorch (differential.test.ts).
 *
 * A program is a small expression DAG: a few float leaves (the tensors differentiated), a few
 * constants (int32 indices, bool masks, float targets and running statistics), and 1–4 nodes,
 * each one public tsgrad op applied to earlier values. Every node is written twice, from the same
 * parameters: as a JavaScript expression over `tg`/`F` (an `Expr` tree, which `evalExpr` runs and
 * `jsCode` prints) and as the PyTorch spelling (a Python expression that torch_eval.py evaluates).
 *
 * Programs are built by a seeded PRNG from the `OPS` table. Each entry knows the shapes it
 * accepts, picks valid arguments for them (axes, keepdim, broadcasting partners, reshape
 * targets, permutations, ranges, index tensors, kernel sizes…), and can ask for a fresh leaf of a
 * shape that suits it. Shapes have ranks 0–4 with sizes 1 and 0 common; a few reduction inputs
 * hold 1e5 elements. Leaf values are N(0,1) by default; per program a "flavour" quantises them
 * (exact ties and zeros), sprinkles NaN/±Inf/0, widens their range or makes them extreme.
 * Domain-restricted ops (log, sqrt, rsqrt, pow's base…) take positive inputs most of the time.
 * All leaf data is rounded to float32, so float32 and float64 runs start from the same numbers.
 */
import * as tg from "../../src/index.js";

// ------------------------------------------------------------------ PRNG

/** mulberry32: small, fast, and the same sequence everywhere. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  }
}

/** The seed of program `index` of a run: programs do not depend on how many there are. */
export function programSeed(seed: number, index: number): number {
  let h = Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Output weight i for the gradient seed sum(output · w): a hash of i, in ±2 and never 0, exact in
 * float32. torch_eval.py computes the same numbers (weight()).
 */
export function outputWeight(i: number): number {
  let h = Math.imul(i + 1, 0x9e3779b1) >>> 0;
  h = (h ^ (h >>> 15)) >>> 0;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h = (h ^ (h >>> 13)) >>> 0;
  return (((h >>> 8) & 0xff) - 127.5) / 64;
}

// ------------------------------------------------------------------ expressions

/** A JavaScript expression over the program's values, `tg` and `F`. */
export type Expr =
  | { $: "ref"; name: string }
  | { $: "call"; fn: string; args: Arg[] }
  | { $: "method"; on: Expr; name: string; args: Arg[] }
  | { $: "prop"; on: Expr; name: string }
  | { $: "at"; on: Expr; index: number }
  /** The run's float dtype: "float32" or "float64" (`DT` in the printed code). */
  | { $: "dtype" };
export type Arg =
  | Expr
  | number
  | boolean
  | string
  | null
  | undefined
  | readonly Arg[]
  | { readonly [key: string]: Arg };

const isExpr = (a: Arg): a is Expr => typeof a === "object" && a !== null && "$" in a;

/** The names an expression reads. */
function refsOf(a: Arg): string[] {
  if (a === null || typeof a !== "object") return [];
  if (Array.isArray(a)) return (a as readonly Arg[]).flatMap(refsOf);
  if (!isExpr(a)) return Object.values(a as Record<string, Arg>).flatMap(refsOf);
  switch (a.$) {
    case "ref":
      return [a.name];
    case "call":
      return a.args.flatMap(refsOf);
    case "method":
      return [...refsOf(a.on), ...a.args.flatMap(refsOf)];
    case "prop":
    case "at":
      return refsOf(a.on);
    case "dtype":
      return [];
  }
}

const ref = (name: string): Expr => ({ $: "ref", name });
const call = (fn: string, ...args: Arg[]): Expr => ({ $: "call", fn, args });
const method = (on: Expr, name: string, ...args: Arg[]): Expr => ({ $: "method", on, name, args });
const prop = (on: Expr, name: string): Expr => ({ $: "prop", on, name });
const at = (on: Expr, index: number): Expr => ({ $: "at", on, index });
const DT: Expr = { $: "dtype" };

function jsNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "Infinity";
  if (n === -Infinity) return "-Infinity";
  return String(n);
}

/** JavaScript source of an expression. */
export function jsCode(a: Arg): string {
  if (a === undefined) return "undefined";
  if (a === null) return "null";
  if (typeof a === "number") return jsNumber(a);
  if (typeof a === "boolean") return String(a);
  if (typeof a === "string") return JSON.stringify(a);
  if (Array.isArray(a)) return `[${(a as readonly Arg[]).map(jsCode).join(", ")}]`;
  if (isExpr(a)) {
    switch (a.$) {
      case "ref":
        return a.name;
      case "call":
        return `${a.fn}(${a.args.map(jsCode).join(", ")})`;
      case "method":
        return `${jsCode(a.on)}.${a.name}(${a.args.map(jsCode).join(", ")})`;
      case "prop":
        return `${jsCode(a.on)}.${a.name}`;
      case "at":
        return `${jsCode(a.on)}[${a.index}]`;
      case "dtype":
        return "DT";
    }
  }
  const entries = Object.entries(a as Record<string, Arg>).filter(([, v]) => v !== undefined);
  return `{ ${entries.map(([k, v]) => `${k}: ${jsCode(v)}`).join(", ")} }`;
}

type Fn = (...args: unknown[]) => unknown;
const ROOTS: Record<string, Record<string, unknown>> = {
  tg: tg,
  F: tg.F,
};

/** Evaluate an expression with `env` holding the program's values. */
export function evalExpr(a: Arg, env: ReadonlyMap<string, unknown>, dtype: tg.DType): unknown {
  if (a === null || a === undefined || typeof a !== "object") return a;
  if (Array.isArray(a)) return (a as readonly Arg[]).map((x) => evalExpr(x, env, dtype));
  if (!isExpr(a)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(a as Record<string, Arg>)) out[k] = evalExpr(v, env, dtype);
    return out;
  }
  const args = (xs: Arg[]) => xs.map((x) => evalExpr(x, env, dtype));
  switch (a.$) {
    case "ref":
      if (!env.has(a.name)) throw new Error(`program bug: ${a.name} is not defined`);
      return env.get(a.name);
    case "call": {
      const [root, name] = a.fn.split(".") as [string, string];
      return (ROOTS[root]![name] as Fn)(...args(a.args));
    }
    case "method": {
      const on = evalExpr(a.on, env, dtype) as Record<string, Fn>;
      return on[a.name]!.call(on, ...args(a.args));
    }
    case "prop":
      return (evalExpr(a.on, env, dtype) as Record<string, unknown>)[a.name];
    case "at":
      return (evalExpr(a.on, env, dtype) as unknown[])[a.index];
    case "dtype":
      return dtype;
  }
}

/** A Python literal. */
export function py(a: number | boolean | string | null | undefined | readonly unknown[]): string {
  if (a === undefined || a === null) return "None";
  if (typeof a === "boolean") return a ? "True" : "False";
  if (typeof a === "string") return JSON.stringify(a);
  if (typeof a === "number") {
    if (Number.isNaN(a)) return "float('nan')";
    if (a === Infinity) return "float('inf')";
    if (a === -Infinity) return "float('-inf')";
    return String(a);
  }
  return `[${a.map((x) => py(x as number)).join(", ")}]`;
}

// ------------------------------------------------------------------ programs

export type Kind = "float" | "int" | "bool";

export interface LeafSpec {
  name: string;
  shape: number[];
  data: number[];
}

export interface ConstSpec {
  name: string;
  kind: Kind;
  shape: number[];
  data: number[];
}

export type Params = Record<string, unknown>;

export interface NodeSpec {
  name: string;
  /** The OPS entry that made it (coverage and the KNOWN table refer to it). */
  op: string;
  params: Params;
  js: Expr;
  py: string;
  shape: number[];
  kind: Kind;
  /** Tolerance multiplier: accumulation over many terms (reductions, matmuls) loosens it. */
  tol: number;
  /** The leaves, constants and nodes it reads. */
  inputs: string[];
}

export interface Program {
  index: number;
  /** The data flavour of its leaves (see makeData). */
  flavour: Flavour;
  leaves: LeafSpec[];
  consts: ConstSpec[];
  nodes: NodeSpec[];
  /** Name of the node whose value is compared (the last). */
  output: string;
  /**
   * Some discontinuity (a comparison, max, clamp, relu…) is fed a rounded value in a program
   * whose data sits on exact ties and zeros ("ties", "special"): rounding then decides which side
   * of a tie a value falls on, differently in each library (see jumpOnRounded()).
   */
  tieOnRounded: boolean;
  /**
   * Some discontinuity is fed a rounded value, whatever the data: float32 comparisons and indices
   * of it can flip where two values are within rounding of each other.
   */
  jumpOnRounded: boolean;
}

export type Flavour = "normal" | "ties" | "special" | "wide" | "extreme";

interface Val {
  name: string;
  shape: number[];
  kind: Kind;
  /** Every element > 0 (leaves made positive, exp, sigmoid, softmax…), absent NaNs. */
  positive: boolean;
}

export const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const norm = (a: number, rank: number) => (a < 0 ? a + rank : a);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Broadcast two shapes, or null when they do not broadcast. */
export function broadcast(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

const MAX_SIZE = 200_000;
export const BIG = 100_000;

class Builder {
  readonly leaves: LeafSpec[] = [];
  readonly consts: ConstSpec[] = [];
  readonly nodes: NodeSpec[] = [];
  readonly vals: Val[] = [];
  constructor(
    readonly rng: Rng,
    readonly flavour: Flavour,
  ) {}

  // ---- shapes

  dim(): number {
    const u = this.rng.next();
    if (u < 0.04) return 0;
    if (u < 0.3) return 1;
    return this.rng.int(2, 5);
  }

  shape(minRank = 0, maxRank = 4): number[] {
    const rank = this.rng.int(minRank, maxRank);
    const s = range(rank).map(() => this.dim());
    while (numel(s) > 600) s[this.rng.int(0, rank - 1)] = this.rng.int(1, 2);
    return s;
  }

  /** A shape for one of the 1e5-element reduction inputs. */
  bigShape(): number[] {
    return this.rng.pick([[BIG], [20, 5000], [5000, 20], [4, 25, 1000], [1, BIG], [2, 50000]]);
  }

  /** A shape that broadcasts with `s`: some axes 1, leading axes dropped or added. */
  partnerShape(s: readonly number[], lead = true): number[] {
    let out = s.map((d) => (this.rng.chance(0.3) ? 1 : d));
    if (out.length > 0 && this.rng.chance(0.3)) out = out.slice(this.rng.int(1, out.length));
    if (lead && out.length < 4 && this.rng.chance(0.15)) out = [this.rng.int(1, 3), ...out];
    return out;
  }

  // ---- values

  /** Leaf data in this program's flavour, rounded to float32. */
  makeData(n: number, positive: boolean): number[] {
    const r = this.rng;
    const one = (): number => {
      let v = r.normal();
      switch (this.flavour) {
        case "ties":
          v = Math.round(v * 2) / 2;
          if (positive) v = Math.abs(v) + 0.5;
          return v;
        case "special":
          if (r.chance(0.1)) {
            return r.pick(positive ? [0, Infinity, NaN] : [NaN, Infinity, -Infinity, 0, -0]);
          }
          break;
        case "wide":
          v *= Math.exp(r.next() * 6 - 3);
          break;
        case "extreme":
          if (r.chance(0.3)) v = r.pick([1, -1]) * r.pick([30, 100, 1e4, 1e30]);
          break;
        case "normal":
          break;
      }
      return positive ? Math.abs(v) + 0.1 : v;
    };
    const data = range(n).map(() => Math.fround(one()));
    // A small tensor rarely catches a 10% chance: give some a special value for sure.
    if (this.flavour === "special" && n > 0 && n < 10 && r.chance(0.5)) {
      data[r.int(0, n - 1)] = r.pick(positive ? [0, Infinity] : [NaN, Infinity, -Infinity]);
    }
    return data;
  }

  leaf(shape: number[], positive = false): Val {
    const name = `x${this.leaves.length}`;
    this.leaves.push({ name, shape, data: this.makeData(numel(shape), positive) });
    const v: Val = { name, shape, kind: "float", positive: positive && this.flavour !== "special" };
    this.vals.push(v);
    return v;
  }

  private constant(kind: Kind, shape: number[], data: number[]): Expr {
    const name = `c${this.consts.length}`;
    this.consts.push({ name, kind, shape, data });
    return ref(name);
  }

  /** A float constant (not differentiated): targets, running statistics, additive masks. */
  floatConst(shape: number[], f: () => number): Expr {
    return this.constant(
      "float",
      shape,
      range(numel(shape)).map(() => Math.fround(f())),
    );
  }

  /** An int32 constant with values in [lo, hi], a fraction `pIgnore` of them `ignore`. */
  intConst(shape: number[], lo: number, hi: number, ignore?: number, pIgnore = 0.2): Expr {
    const data = range(numel(shape)).map(() =>
      ignore !== undefined && this.rng.chance(pIgnore) ? ignore : this.rng.int(lo, hi),
    );
    return this.constant("int", shape, data);
  }

  boolConst(shape: number[], pTrue = 0.6): Expr {
    return this.constant(
      "bool",
      shape,
      range(numel(shape)).map(() => (this.rng.chance(pTrue) ? 1 : 0)),
    );
  }

  /** A constant of `kind` (int in [0, 3]) as a value that ops can take as their input. */
  constVal(kind: Kind, shape: number[]): Val {
    const e =
      kind === "bool"
        ? this.boolConst(shape)
        : kind === "int"
          ? this.intConst(shape, 0, 3)
          : this.floatConst(shape, () => this.rng.normal());
    const v: Val = { name: jsCode(e), shape, kind, positive: false };
    this.vals.push(v);
    return v;
  }

  /** An existing float value whose shape passes `fits`, or null. */
  existing(fits: (s: number[]) => boolean, avoid?: Val): Val | null {
    const c = this.vals.filter((v) => v.kind === "float" && v !== avoid && fits(v.shape));
    return c.length > 0 ? this.rng.pick(c) : null;
  }

  /** A broadcasting partner for `x`: an existing value that broadcasts, x itself, or a new leaf. */
  partner(x: Val, positive = false): Val {
    if (this.rng.chance(0.1) && (!positive || x.positive)) return x;
    if (this.rng.chance(0.3)) {
      const e = this.existing(
        (s) => broadcast(s, x.shape) !== null && broadcast(s, x.shape)!.length <= 4,
        x,
      );
      if (e && (!positive || e.positive)) return e;
    }
    return this.leaf(this.partnerShape(x.shape), positive);
  }

  /** A partner of exactly `shape`: an existing value or a new leaf. */
  sameShape(shape: number[], avoid?: Val): Val {
    const e = this.rng.chance(0.3)
      ? this.existing((s) => s.length === shape.length && s.every((d, i) => d === shape[i]), avoid)
      : null;
    return e ?? this.leaf(shape);
  }

  node(
    op: string,
    params: Params,
    js: Expr,
    pyExpr: string,
    shape: number[],
    o: { kind?: Kind; positive?: boolean; tol?: number } = {},
  ): Val | null {
    if (numel(shape) > MAX_SIZE || shape.length > 6) return null;
    const name = `v${this.nodes.length + 1}`;
    const kind = o.kind ?? "float";
    const inputs = [...new Set(refsOf(js))];
    this.nodes.push({ name, op, params, js, py: pyExpr, shape, kind, tol: o.tol ?? 1, inputs });
    const v: Val = { name, shape, kind, positive: o.positive ?? false };
    this.vals.push(v);
    return v;
  }

  // ---- argument pickers

  axis(rank: number): number {
    const r = Math.max(rank, 1);
    return this.rng.int(-r, r - 1);
  }

  /** Axes for a reduction: undefined (all), one axis, or a list of distinct axes. */
  axes(rank: number, allowEmpty = false): number | number[] | undefined {
    const u = this.rng.next();
    if (u < 0.2) return undefined;
    if (u < 0.6 || rank <= 1) return this.axis(rank);
    if (allowEmpty && u < 0.63) return [];
    const all = this.rng.shuffle(range(rank));
    return all.slice(0, this.rng.int(1, rank)).map((a) => (this.rng.chance(0.3) ? a - rank : a));
  }
}

/** Normalised, sorted axes that `dim` names (all when undefined; none for a 0-d tensor). */
function axesOf(dim: number | number[] | undefined, rank: number): number[] {
  if (rank === 0) return [];
  if (dim === undefined) return range(rank);
  const list = typeof dim === "number" ? [dim] : dim;
  return list.map((a) => norm(a, rank)).sort((a, b) => a - b);
}

function reduced(shape: readonly number[], axes: readonly number[], keepdim: boolean): number[] {
  return keepdim
    ? shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : shape.filter((_, i) => !axes.includes(i));
}

/** Tolerance factor for sums of k terms: rounding error grows like √k. */
const accum = (k: number) => Math.max(1, Math.sqrt(k) / 10);

const pyDims = (d: number | number[] | undefined) =>
  d === undefined ? "None" : typeof d === "number" ? String(d) : py(d);

/** A random shape holding `n` elements, with `rank` axes (n = 0 keeps one axis 0). */
function factorShape(b: Builder, n: number, rank: number): number[] {
  if (rank === 0) return n === 1 ? [] : [n];
  const out = Array<number>(rank).fill(1);
  if (n === 0) {
    out[b.rng.int(0, rank - 1)] = 0;
    return out.map((d) => (d === 0 ? 0 : b.rng.int(1, 3)));
  }
  let m = n;
  for (let p = 2; m > 1;) {
    if (m % p === 0) {
      out[b.rng.int(0, rank - 1)]! *= p;
      m /= p;
    } else p = p * p > m ? m : p + 1;
  }
  return out;
}

// ------------------------------------------------------------------ the op table

export interface OpGen {
  name: string;
  /** Public functions and methods it exercises (the coverage test checks every one has a generator). */
  covers: string[];
  /** Kind of the primary input ("none": the op makes its own). Default float. */
  takes?: Kind | "none";
  /** Whether a value of this shape can be the primary input. Default: any. */
  fits?: (s: number[]) => boolean;
  /** A shape for a fresh primary leaf (used when nothing fits, and sometimes anyway). */
  fresh?: (b: Builder) => number[];
  /** Wants positive inputs (log, sqrt…): given them 85% of the time. */
  positive?: boolean;
  /** Relative frequency (default 1). */
  weight?: number;
  make(b: Builder, x: Val): Val | null;
}

const rank =
  (lo: number, hi = 99) =>
  (s: number[]) =>
    s.length >= lo && s.length <= hi;

/** Fresh input for a reduction-like op: sometimes one of the 1e5-element inputs. */
const reductionInput = (b: Builder) => (b.rng.chance(0.08) ? b.bigShape() : b.shape());

function unary(
  name: string,
  js: (x: Expr) => Expr,
  pyf: (x: string) => string,
  o: { positive?: boolean; keepsPositive?: boolean; covers?: string[]; weight?: number } = {},
): OpGen {
  return {
    name,
    covers: o.covers ?? [name],
    positive: o.positive,
    weight: o.weight ?? 0.6,
    make: (b, x) =>
      b.node(name, {}, js(ref(x.name)), pyf(x.name), x.shape, {
        positive: o.keepsPositive === true || (o.keepsPositive === undefined && x.positive),
      }),
  };
}

const tgUnary = (name: string, torchName: string, o: Parameters<typeof unary>[3] = {}) =>
  unary(
    name,
    (x) => call(`tg.${name}`, x),
    (x) => `torch.${torchName}(${x})`,
    { keepsPositive: false, ...o },
  );

/** A `tg.F` activation without parameters: F.name(x) ↔ F.torchName(x). */
const fUnary = (name: string, torchName: string, o: Parameters<typeof unary>[3] = {}) =>
  unary(
    name,
    (x) => call(`F.${name}`, x),
    (x) => `F.${torchName}(${x})`,
    o,
  );

const SCALARS = [0, 1, -1, 2, 0.5, -2.5, 3];
const EXPONENTS = [2, 3, 0.5, -1, 0, 1, -0.5, 1.5, -2];

function binaryOp(name: "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum"): OpGen {
  const isPow = name === "pow";
  const pyOp: Record<string, string> = { add: "+", sub: "-", mul: "*", div: "/", pow: "**" };
  return {
    name,
    covers: [name],
    positive: isPow,
    make: (b, x) => {
      const r = b.rng;
      const ours = ref(x.name);
      if (r.chance(0.3)) {
        // A plain number on one side.
        const s = isPow ? r.pick(EXPONENTS) : r.pick(SCALARS);
        const first = r.chance(0.3);
        if (first && isPow) {
          const base = r.pick([2, 0.5, 3, 0, -2]);
          return b.node(
            name,
            { scalar: base, first },
            call("tg.pow", base, ours),
            `torch.pow(${py(base)}, ${x.name})`,
            x.shape,
          );
        }
        const js = first ? call(`tg.${name}`, s, ours) : call(`tg.${name}`, ours, s);
        let p: string;
        if (name === "maximum" || name === "minimum") {
          const c = `torch.tensor(${py(s)}, dtype=DT)`;
          p = first ? `torch.${name}(${c}, ${x.name})` : `torch.${name}(${x.name}, ${c})`;
        } else {
          p = first ? `(${py(s)} ${pyOp[name]} ${x.name})` : `(${x.name} ${pyOp[name]} ${py(s)})`;
        }
        const positive = x.positive && s > 0 && ["add", "mul", "div", "maximum"].includes(name);
        return b.node(name, { scalar: s, first }, js, p, x.shape, { positive });
      }
      const y = b.partner(x, isPow ? false : name === "div" && r.chance(0.8));
      const shape = broadcast(x.shape, y.shape);
      if (!shape) return null;
      const [a1, a2] = r.chance(0.5) || isPow ? [x, y] : [y, x];
      const positive =
        x.positive && y.positive && ["add", "mul", "div", "maximum", "minimum"].includes(name);
      return b.node(
        name,
        {},
        call(`tg.${name}`, ref(a1.name), ref(a2.name)),
        `torch.${name}(${a1.name}, ${a2.name})`,
        shape,
        { positive },
      );
    },
  };
}

function compare(name: "eq" | "ne" | "lt" | "le" | "gt" | "ge"): OpGen {
  return {
    name,
    covers: [name, "cmp"],
    weight: 0.4,
    make: (b, x) => {
      if (b.rng.chance(0.4)) {
        const s = b.rng.pick([0, 0.5, 1, -1, Infinity]);
        return b.node(
          name,
          { scalar: s },
          method(ref(x.name), name, s),
          `torch.${name}(${x.name}, ${py(s)})`,
          x.shape,
          { kind: "bool" },
        );
      }
      const y = b.partner(x);
      const shape = broadcast(x.shape, y.shape);
      if (!shape) return null;
      return b.node(
        name,
        {},
        method(ref(x.name), name, ref(y.name)),
        `torch.${name}(${x.name}, ${y.name})`,
        shape,
        { kind: "bool" },
      );
    },
  };
}

/** sum, mean, amax, amin: tg.f(x, dim, keepdim) ↔ torch.f(x, dim, keepdim). */
function reduction(name: "sum" | "mean" | "amax" | "amin"): OpGen {
  return {
    name,
    covers: [name],
    fresh: reductionInput,
    make: (b, x) => {
      const dim = b.axes(x.shape.length, true);
      const keepdim = b.rng.chance(0.4);
      const axes = axesOf(dim, x.shape.length);
      const k = numel(axes.map((a) => x.shape[a]!));
      // torch spells "all axes" as dim=() for amax/amin, None for sum/mean.
      const all = name === "amax" || name === "amin" ? "()" : "None";
      const pd = dim === undefined ? all : pyDims(dim);
      return b.node(
        name,
        { dim, keepdim },
        call(`tg.${name}`, ref(x.name), dim, keepdim),
        `torch.${name}(${x.name}, ${pd}, keepdim=${py(keepdim)})`,
        Array.isArray(dim) && dim.length === 0
          ? reduced(x.shape, range(x.shape.length), keepdim)
          : reduced(x.shape, axes, keepdim),
        { tol: accum(k), positive: x.positive && name !== "sum" },
      );
    },
  };
}

function varStd(name: "var" | "std"): OpGen {
  return {
    name,
    covers: [name === "var" ? "variance" : "std"],
    fresh: reductionInput,
    make: (b, x) => {
      const dim = b.axes(x.shape.length);
      const keepdim = b.rng.chance(0.4);
      const correction = b.rng.pick([1, 1, 0, 2]);
      const axes = axesOf(dim, x.shape.length);
      const k = numel(axes.map((a) => x.shape[a]!));
      return b.node(
        name,
        { dim, keepdim, correction },
        call(`tg.${name}`, ref(x.name), dim, keepdim, correction),
        `torch.${name}(${x.name}, ${pyDims(dim)}, correction=${correction}, keepdim=${py(keepdim)})`,
        reduced(x.shape, axes, keepdim),
        { tol: accum(k) },
      );
    },
  };
}

function argExtreme(name: "argmax" | "argmin"): OpGen {
  return {
    name,
    covers: [name],
    weight: 0.6,
    fresh: reductionInput,
    make: (b, x) => {
      const dim = b.rng.chance(0.25) ? undefined : b.axis(x.shape.length);
      const keepdim = b.rng.chance(0.3);
      const axes = dim === undefined ? range(x.shape.length) : axesOf(dim, x.shape.length);
      // torch: argmax(x, None, keepdim=True) keeps every axis as 1.
      return b.node(
        name,
        { dim, keepdim },
        call(`tg.${name}`, ref(x.name), dim, keepdim),
        `torch.${name}(${x.name}, ${pyDims(dim)}, keepdim=${py(keepdim)})`,
        reduced(x.shape, axes, keepdim),
        { kind: "int" },
      );
    },
  };
}

/** x.max(dim) / x.min(dim): values (differentiable) or indices. */
function extremeAlong(name: "max" | "min"): OpGen {
  return {
    name: `${name}Dim`,
    covers: ["extremeAlong", `${name}(dim)`],
    weight: 0.7,
    fresh: reductionInput,
    make: (b, x) => {
      const dim = b.axis(x.shape.length);
      const keepdim = b.rng.chance(0.4);
      const field = b.rng.chance(0.8) ? "values" : "indices";
      return b.node(
        `${name}Dim`,
        { dim, keepdim, field },
        prop(method(ref(x.name), name, dim, keepdim), field),
        `torch.${name}(${x.name}, ${dim}, keepdim=${py(keepdim)}).${field}`,
        reduced(x.shape, axesOf(dim, x.shape.length), keepdim),
        { kind: field === "values" ? "float" : "int" },
      );
    },
  };
}

function softmaxLike(name: "softmax" | "logSoftmax" | "logsumexp"): OpGen {
  const torchName = { softmax: "softmax", logSoftmax: "log_softmax", logsumexp: "logsumexp" }[name];
  return {
    name,
    covers: [name],
    fresh: reductionInput,
    make: (b, x) => {
      const r = x.shape.length;
      if (name !== "logsumexp") {
        const dim = b.axis(r);
        const k = r === 0 ? 1 : x.shape[norm(dim, r)]!;
        return b.node(
          name,
          { dim },
          call(`tg.${name}`, ref(x.name), dim),
          `torch.${torchName}(${x.name}, ${dim})`,
          x.shape,
          { tol: accum(k), positive: name === "softmax" },
        );
      }
      let dim = b.axes(r);
      if (dim === undefined) dim = range(r);
      if (Array.isArray(dim) && dim.length === 0) dim = 0;
      const keepdim = b.rng.chance(0.4);
      const axes = axesOf(dim, r);
      return b.node(
        name,
        { dim, keepdim },
        call("tg.logsumexp", ref(x.name), dim, keepdim),
        `torch.logsumexp(${x.name}, ${pyDims(dim)}, ${py(keepdim)})`,
        reduced(x.shape, axes, keepdim),
        { tol: accum(numel(axes.map((a) => x.shape[a]!))) },
      );
    },
  };
}

/** Movement ops keep positivity and add no rounding. */
function move(
  b: Builder,
  x: Val,
  op: string,
  params: Params,
  js: Expr,
  pyExpr: string,
  shape: number[],
): Val | null {
  return b.node(op, params, js, pyExpr, shape, { positive: x.positive, kind: x.kind });
}

export const OPS: OpGen[] = [
  // ---------------------------------------------------------------- elementwise
  tgUnary("neg", "neg", { keepsPositive: false }),
  tgUnary("exp", "exp", { keepsPositive: true }),
  tgUnary("log", "log", { positive: true }),
  tgUnary("sqrt", "sqrt", { positive: true, keepsPositive: undefined }),
  tgUnary("rsqrt", "rsqrt", { positive: true, keepsPositive: undefined }),
  tgUnary("tanh", "tanh"),
  tgUnary("sigmoid", "sigmoid", { keepsPositive: true }),
  tgUnary("relu", "relu"),
  tgUnary("abs", "abs"),
  tgUnary("sin", "sin"),
  tgUnary("cos", "cos"),
  tgUnary("erf", "erf"),
  tgUnary("sign", "sign"),
  unary(
    "square",
    (x) => method(x, "square"),
    (x) => `torch.square(${x})`,
    { keepsPositive: undefined },
  ),
  unary(
    "reciprocal",
    (x) => method(x, "reciprocal"),
    (x) => `torch.reciprocal(${x})`,
    { positive: true, keepsPositive: undefined },
  ),
  unary(
    "softplus",
    (x) => call("F.softplus", x),
    (x) => `F.softplus(${x})`,
    { keepsPositive: true },
  ),
  unary(
    "logSigmoid",
    (x) => call("F.logSigmoid", x),
    (x) => `F.logsigmoid(${x})`,
    { keepsPositive: false },
  ),
  unary(
    "silu",
    (x) => call("F.silu", x),
    (x) => `F.silu(${x})`,
    { keepsPositive: undefined },
  ),
  unary(
    "contiguous",
    (x) => call("tg.contiguous", x),
    (x) => `${x}.contiguous()`,
    { weight: 0.3 },
  ),
  unary(
    "clone",
    (x) => method(x, "clone"),
    (x) => `${x}.clone()`,
    { weight: 0.2 },
  ),
  unary(
    "castDT",
    (x) => call("tg.cast", x, DT),
    (x) => `${x}.to(DT).clone()`,
    { covers: ["cast"], weight: 0.2 },
  ),
  {
    name: "castBool",
    covers: ["cast", "bool"],
    weight: 0.2,
    make: (b, x) =>
      b.node("castBool", {}, method(ref(x.name), "bool"), `${x.name}.to(torch.bool)`, x.shape, {
        kind: "bool",
      }),
  },
  {
    name: "gelu",
    covers: ["gelu"],
    weight: 0.6,
    make: (b, x) => {
      const approximate = b.rng.pick(["none", "tanh"]);
      return b.node(
        "gelu",
        { approximate },
        call("F.gelu", ref(x.name), approximate),
        `F.gelu(${x.name}, approximate=${py(approximate)})`,
        x.shape,
      );
    },
  },
  {
    name: "leakyRelu",
    covers: ["leakyRelu"],
    weight: 0.5,
    make: (b, x) => {
      const slope = b.rng.pick([0.01, 0.2, -0.5, 0]);
      return b.node(
        "leakyRelu",
        { slope },
        call("F.leakyRelu", ref(x.name), slope),
        `F.leaky_relu(${x.name}, ${py(slope)})`,
        x.shape,
      );
    },
  },
  {
    name: "dropout",
    covers: ["dropout"],
    weight: 0.3,
    make: (b, x) => {
      // p = 0 in training, or any p in eval mode: the identity (torch: the same).
      const [p, training] = b.rng.pick([
        [0, true],
        [0.5, false],
        [1, false],
      ] as const);
      return b.node(
        "dropout",
        { p, training },
        call("F.dropout", ref(x.name), p, training),
        `F.dropout(${x.name}, ${py(p)}, training=${py(training)})`,
        x.shape,
        { positive: x.positive },
      );
    },
  },
  binaryOp("add"),
  binaryOp("sub"),
  binaryOp("mul"),
  binaryOp("div"),
  binaryOp("pow"),
  binaryOp("maximum"),
  binaryOp("minimum"),
  compare("eq"),
  compare("ne"),
  compare("lt"),
  compare("le"),
  compare("gt"),
  compare("ge"),
  {
    name: "where",
    covers: ["where"],
    make: (b, x) => {
      const r = b.rng;
      // The condition: a comparison of x, an existing bool value, or a constant mask.
      let cond: string;
      let cshape: number[];
      const bools = b.vals.filter((v) => v.kind === "bool" && broadcast(v.shape, x.shape));
      if (bools.length > 0 && r.chance(0.5)) {
        const c = r.pick(bools);
        [cond, cshape] = [c.name, c.shape];
      } else if (r.chance(0.5)) {
        cshape = x.shape;
        const c = b.node(
          "gt",
          { scalar: 0 },
          method(ref(x.name), "gt", 0),
          `torch.gt(${x.name}, 0)`,
          cshape,
          { kind: "bool" },
        )!;
        cond = c.name;
      } else {
        cshape = b.partnerShape(x.shape);
        cond = jsCode(b.boolConst(cshape));
      }
      const other: Arg = r.chance(0.3) ? r.pick([0, -1, 2.5, -Infinity]) : undefined;
      const y = other === undefined ? b.partner(x) : null;
      const yjs: Arg = y ? ref(y.name) : other;
      const ypy = y ? y.name : py(other);
      let shape = broadcast(cshape, x.shape);
      if (shape && y) shape = broadcast(shape, y.shape);
      if (!shape) return null;
      const swap = r.chance(0.3);
      const [aj, bj] = swap ? [yjs, ref(x.name)] : [ref(x.name), yjs];
      const [ap, bp] = swap ? [ypy, x.name] : [x.name, ypy];
      return b.node(
        "where",
        { scalar: other },
        call("tg.where", ref(cond), aj, bj),
        `torch.where(${cond}, ${ap}, ${bp})`,
        shape,
      );
    },
  },
  {
    name: "maskedFill",
    covers: ["maskedFill"],
    weight: 0.4,
    make: (b, x) => {
      const ms = b.partnerShape(x.shape, false);
      const mask = b.boolConst(ms);
      const value = b.rng.pick([0, -1, -Infinity, 2]);
      return b.node(
        "maskedFill",
        { value },
        method(ref(x.name), "maskedFill", mask, value),
        `${x.name}.masked_fill(${jsCode(mask)}, ${py(value)})`,
        x.shape,
      );
    },
  },
  {
    name: "logicalNot",
    covers: ["logicalNot"],
    takes: "bool",
    weight: 0.4,
    make: (b, x) =>
      b.node(
        "logicalNot",
        {},
        method(ref(x.name), "logicalNot"),
        `torch.logical_not(${x.name})`,
        x.shape,
        { kind: "bool" },
      ),
  },
  {
    name: "toFloat",
    covers: ["to"],
    takes: "bool",
    weight: 0.6,
    make: (b, x) =>
      b.node("toFloat", {}, method(ref(x.name), "to", DT), `${x.name}.to(DT)`, x.shape),
  },
  {
    name: "intToFloat",
    covers: ["to"],
    takes: "int",
    weight: 0.6,
    make: (b, x) =>
      b.node("intToFloat", {}, method(ref(x.name), "to", DT), `${x.name}.to(DT)`, x.shape),
  },
  {
    name: "clamp",
    covers: ["clamp"],
    make: (b, x) => {
      const r = b.rng;
      const u = r.next();
      // Bounds on the ties grid (0, ±0.5, 1) hit elements exactly in the "ties" flavour.
      let lo: number | undefined = r.pick([-1, -0.5, 0, 0.5]);
      let hi: number | undefined = r.pick([0, 0.5, 1, 2]);
      if (u < 0.25) lo = undefined;
      else if (u < 0.5) hi = undefined;
      else if (u < 0.53) {
        [lo, hi] = [1, -1];
      } // min > max: everything is max (torch: the same)
      else if (u < 0.55) [lo, hi] = [undefined, undefined];
      return b.node(
        "clamp",
        { min: lo, max: hi },
        call("tg.clamp", ref(x.name), lo, hi),
        `torch.clamp(${x.name}, ${py(lo)}, ${py(hi)})`,
        x.shape,
      );
    },
  },
  // ---------------------------------------------------------------- reductions
  reduction("sum"),
  reduction("mean"),
  reduction("amax"),
  reduction("amin"),
  varStd("var"),
  varStd("std"),
  argExtreme("argmax"),
  argExtreme("argmin"),
  extremeAlong("max"),
  extremeAlong("min"),
  {
    name: "maxAll",
    covers: ["extremeAll", "max()", "min()"],
    weight: 0.4,
    fresh: reductionInput,
    make: (b, x) => {
      const which = b.rng.pick(["max", "min"]);
      return b.node("maxAll", { which }, method(ref(x.name), which), `${x.name}.${which}()`, [], {
        tol: 1,
      });
    },
  },
  softmaxLike("softmax"),
  softmaxLike("logSoftmax"),
  softmaxLike("logsumexp"),
  // ---------------------------------------------------------------- movement
  {
    name: "reshape",
    covers: ["reshape"],
    make: (b, x) => {
      const n = numel(x.shape);
      const target = factorShape(b, n, b.rng.int(0, 4));
      if (n === 1 && target.length > 0 && b.rng.chance(0.3)) target.length = 0;
      if (numel(target) !== n) return null;
      const shown = [...target];
      if (n > 0 && shown.length > 0 && b.rng.chance(0.4)) {
        shown[b.rng.int(0, shown.length - 1)] = -1;
      }
      return move(
        b,
        x,
        "reshape",
        { shape: shown },
        call("tg.reshape", ref(x.name), shown),
        `torch.reshape(${x.name}, ${py(shown)})`,
        target,
      );
    },
  },
  {
    name: "view",
    covers: ["view"],
    weight: 0.5,
    make: (b, x) => {
      const n = numel(x.shape);
      // Merge two neighbouring axes, or any shape: on a transposed tensor a view may not exist.
      let target: number[];
      if (x.shape.length >= 2 && b.rng.chance(0.6)) {
        const i = b.rng.int(0, x.shape.length - 2);
        target = [...x.shape];
        target.splice(i, 2, x.shape[i]! * x.shape[i + 1]!);
      } else target = factorShape(b, n, b.rng.int(1, 3));
      return move(
        b,
        x,
        "view",
        { shape: target },
        method(ref(x.name), "view", target),
        `${x.name}.view(${py(target)})`,
        target,
      );
    },
  },
  {
    name: "flatten",
    covers: ["flatten"],
    weight: 0.5,
    make: (b, x) => {
      const r = x.shape.length;
      if (r === 0) {
        return move(
          b,
          x,
          "flatten",
          {},
          call("tg.flatten", ref(x.name)),
          `torch.flatten(${x.name})`,
          [1],
        );
      }
      let s = b.rng.int(0, r - 1);
      let e = b.rng.int(s, r - 1);
      const shape = [
        ...x.shape.slice(0, s),
        numel(x.shape.slice(s, e + 1)),
        ...x.shape.slice(e + 1),
      ];
      if (b.rng.chance(0.3)) s -= r;
      if (b.rng.chance(0.3)) e -= r;
      return move(
        b,
        x,
        "flatten",
        { start: s, end: e },
        call("tg.flatten", ref(x.name), s, e),
        `torch.flatten(${x.name}, ${s}, ${e})`,
        shape,
      );
    },
  },
  {
    name: "permute",
    covers: ["permute"],
    fits: rank(2),
    fresh: (b) => b.shape(2, 4),
    make: (b, x) => {
      const perm = b.rng.shuffle(range(x.shape.length));
      return move(
        b,
        x,
        "permute",
        { perm },
        call("tg.permute", ref(x.name), perm),
        `${x.name}.permute(${perm.join(", ")})`,
        perm.map((p) => x.shape[p]!),
      );
    },
  },
  {
    name: "transpose",
    covers: ["transpose"],
    make: (b, x) => {
      const r = x.shape.length;
      const [d0, d1] = [b.axis(r), b.axis(r)];
      const shape = [...x.shape];
      if (r > 0) {
        [shape[norm(d0, r)], shape[norm(d1, r)]] = [x.shape[norm(d1, r)]!, x.shape[norm(d0, r)]!];
      }
      return move(
        b,
        x,
        "transpose",
        { dim0: d0, dim1: d1 },
        call("tg.transpose", ref(x.name), d0, d1),
        `torch.transpose(${x.name}, ${d0}, ${d1})`,
        shape,
      );
    },
  },
  {
    name: "t",
    covers: ["t"],
    weight: 0.5,
    fits: rank(1),
    fresh: (b) => b.shape(2, 2),
    make: (b, x) => {
      // tsgrad's t() swaps the last two axes of a batched tensor too (torch: x.mT).
      const r = x.shape.length;
      const pyExpr = r <= 2 ? `${x.name}.t()` : `${x.name}.transpose(-2, -1)`;
      const shape = r === 1 ? x.shape : [...x.shape.slice(0, -2), x.shape[r - 1]!, x.shape[r - 2]!];
      return move(b, x, "t", { rank: r }, method(ref(x.name), "t"), pyExpr, shape);
    },
  },
  {
    name: "expand",
    covers: ["expand", "expandAs"],
    make: (b, x) => {
      const r = b.rng;
      const target = x.shape.map((d) =>
        d === 1 ? r.pick([1, 2, 3, 4, -1, 0]) : r.chance(0.3) ? -1 : d,
      );
      if (target.length < 4 && r.chance(0.3)) target.unshift(r.int(1, 3));
      const lead = target.length - x.shape.length;
      const shape = target.map((d, i) => (d === -1 ? x.shape[i - lead]! : d));
      if (r.chance(0.2) && target.every((d) => d !== -1)) {
        const like = b.sameShape(shape);
        return move(
          b,
          x,
          "expand",
          { as: true },
          method(ref(x.name), "expandAs", ref(like.name)),
          `${x.name}.expand_as(${like.name})`,
          shape,
        );
      }
      return move(
        b,
        x,
        "expand",
        { shape: target },
        call("tg.expand", ref(x.name), target),
        `${x.name}.expand(${py(target)})`,
        shape,
      );
    },
  },
  {
    name: "squeeze",
    covers: ["squeeze"],
    weight: 0.6,
    make: (b, x) => {
      const rk = x.shape.length;
      const u = b.rng.next();
      let dim: number | number[] | undefined;
      if (u < 0.3 || rk === 0) dim = u < 0.3 ? undefined : b.axis(rk);
      else if (u < 0.7) dim = b.axis(rk);
      else dim = [...new Set([b.axis(rk), b.axis(rk)].map((a) => norm(a, rk)))];
      const axes = dim === undefined ? range(rk) : axesOf(dim, rk);
      const shape = x.shape.filter((d, i) => !(axes.includes(i) && d === 1));
      // torch 1.13 squeezes one axis at a time: chain them from the last.
      let p = x.name;
      if (dim === undefined) p = `${p}.squeeze()`;
      else if (rk === 0) p = `${p}.squeeze(${pyDims(dim)})`;
      else for (const a of [...axesOf(dim, rk)].reverse()) p = `${p}.squeeze(${a})`;
      return move(b, x, "squeeze", { dim }, call("tg.squeeze", ref(x.name), dim), p, shape);
    },
  },
  {
    name: "unsqueeze",
    covers: ["unsqueeze"],
    weight: 0.6,
    fits: rank(0, 3),
    make: (b, x) => {
      const d = b.axis(x.shape.length + 1);
      const shape = [...x.shape];
      shape.splice(norm(d, x.shape.length + 1), 0, 1);
      return move(
        b,
        x,
        "unsqueeze",
        { dim: d },
        call("tg.unsqueeze", ref(x.name), d),
        `torch.unsqueeze(${x.name}, ${d})`,
        shape,
      );
    },
  },
  {
    name: "narrow",
    covers: ["narrow"],
    fits: rank(1),
    fresh: (b) => b.shape(1, 4),
    make: (b, x) => {
      const r = x.shape.length;
      const dim = b.axis(r);
      const n = x.shape[norm(dim, r)]!;
      const s = b.rng.int(0, n);
      const length = b.rng.int(0, n - s);
      const start = s > 0 && b.rng.chance(0.2) ? s - n : s;
      const shape = [...x.shape];
      shape[norm(dim, r)] = length;
      return move(
        b,
        x,
        "narrow",
        { dim, start, length },
        call("tg.narrow", ref(x.name), dim, start, length),
        `torch.narrow(${x.name}, ${dim}, ${start}, ${length})`,
        shape,
      );
    },
  },
  {
    name: "split",
    covers: ["split"],
    weight: 0.6,
    fits: rank(1),
    fresh: (b) => b.shape(1, 4),
    make: (b, x) => {
      const r = x.shape.length;
      const dim = b.axis(r);
      const d = norm(dim, r);
      const n = x.shape[d]!;
      let sizes: number[];
      let arg: number | number[];
      if (b.rng.chance(0.6)) {
        arg = b.rng.int(1, 3);
        sizes = n === 0 ? [0] : [];
        for (let i = 0; i < n; i += arg) sizes.push(Math.min(arg, n - i));
      } else {
        sizes = [];
        for (let left = n; left > 0;) {
          const k = b.rng.int(1, left);
          sizes.push(k);
          left -= k;
        }
        if (b.rng.chance(0.3)) sizes.splice(b.rng.int(0, sizes.length), 0, 0);
        if (sizes.length === 0) sizes = [0];
        arg = sizes;
      }
      const i = b.rng.int(0, sizes.length - 1);
      const shape = [...x.shape];
      shape[d] = sizes[i]!;
      return move(
        b,
        x,
        "split",
        { arg, dim, i },
        at(call("tg.split", ref(x.name), arg, dim), i),
        `torch.split(${x.name}, ${py(arg)}, ${dim})[${i}]`,
        shape,
      );
    },
  },
  {
    name: "chunk",
    covers: ["chunk"],
    weight: 0.5,
    fits: rank(1),
    fresh: (b) => b.shape(1, 4),
    make: (b, x) => {
      const r = x.shape.length;
      const dim = b.axis(r);
      const d = norm(dim, r);
      const n = x.shape[d]!;
      const chunks = b.rng.int(1, 4);
      let sizes: number[];
      if (n === 0) sizes = Array<number>(chunks).fill(0);
      else {
        const size = Math.ceil(n / chunks);
        sizes = [];
        for (let s = 0; s < n; s += size) sizes.push(Math.min(size, n - s));
      }
      const i = b.rng.int(0, sizes.length - 1);
      const shape = [...x.shape];
      shape[d] = sizes[i]!;
      return move(
        b,
        x,
        "chunk",
        { chunks, dim, i },
        at(call("tg.chunk", ref(x.name), chunks, dim), i),
        `torch.chunk(${x.name}, ${chunks}, ${dim})[${i}]`,
        shape,
      );
    },
  },
  {
    name: "pad",
    covers: ["pad"],
    fits: rank(1),
    fresh: (b) => b.shape(1, 4),
    make: (b, x) => {
      const r = x.shape.length;
      const k = b.rng.int(1, Math.min(r, 3));
      const padding = range(2 * k).map(() => b.rng.int(0, 2));
      const value = b.rng.pick([0, 0, 1.5, -Infinity]);
      const shape = [...x.shape];
      for (let i = 0; i < k; i++) shape[r - 1 - i]! += padding[2 * i]! + padding[2 * i + 1]!;
      return b.node(
        "pad",
        { padding, value },
        call("tg.pad", ref(x.name), padding, value),
        `F.pad(${x.name}, ${py(padding)}, value=${py(value)})`,
        shape,
      );
    },
  },
  {
    name: "cat",
    covers: ["cat"],
    fits: rank(1),
    fresh: (b) => b.shape(1, 4),
    make: (b, x) => {
      const r = x.shape.length;
      const dim = b.axis(r);
      const d = norm(dim, r);
      const parts: Val[] = [x];
      for (let i = b.rng.int(1, 2); i > 0; i--) {
        if (b.rng.chance(0.2)) parts.push(x);
        else {
          const s = [...x.shape];
          s[d] = b.rng.int(0, 3);
          parts.push(b.leaf(s));
        }
      }
      b.rng.shuffle(parts);
      const shape = [...x.shape];
      shape[d] = parts.reduce((a, p) => a + p.shape[d]!, 0);
      const names = parts.map((p) => p.name);
      return b.node(
        "cat",
        { dim, n: parts.length },
        call("tg.cat", names.map(ref), dim),
        `torch.cat([${names.join(", ")}], ${dim})`,
        shape,
      );
    },
  },
  {
    name: "stack",
    covers: ["stack"],
    weight: 0.6,
    fits: rank(0, 3),
    make: (b, x) => {
      const parts: Val[] = [x];
      for (let i = b.rng.int(0, 2); i > 0; i--) {
        parts.push(b.rng.chance(0.3) ? x : b.sameShape(x.shape));
      }
      const dim = b.axis(x.shape.length + 1);
      const shape = [...x.shape];
      shape.splice(norm(dim, x.shape.length + 1), 0, parts.length);
      const names = parts.map((p) => p.name);
      return b.node(
        "stack",
        { dim, n: parts.length },
        call("tg.stack", names.map(ref), dim),
        `torch.stack([${names.join(", ")}], ${dim})`,
        shape,
      );
    },
  },
  {
    name: "flip",
    covers: ["flip"],
    weight: 0.6,
    fits: rank(1),
    fresh: (b) => b.shape(1, 4),
    make: (b, x) => {
      const r = x.shape.length;
      const dims = b.rng.chance(0.5)
        ? b.axis(r)
        : [
            ...new Set(
              range(b.rng.int(1, r))
                .map(() => b.axis(r))
                .map((a) => norm(a, r)),
            ),
          ];
      const pyd = typeof dims === "number" ? `[${dims}]` : py(dims);
      return move(
        b,
        x,
        "flip",
        { dims },
        call("tg.flip", ref(x.name), dims),
        `torch.flip(${x.name}, ${pyd})`,
        x.shape,
      );
    },
  },
  {
    name: "repeat",
    covers: ["repeat"],
    weight: 0.6,
    fits: rank(0, 3),
    make: (b, x) => {
      const extra = x.shape.length === 0 ? b.rng.int(1, 2) : b.rng.int(0, 1);
      const reps = range(x.shape.length + extra).map(() => b.rng.pick([1, 2, 3, 1, 0]));
      const full = [...Array<number>(extra).fill(1), ...x.shape];
      return move(
        b,
        x,
        "repeat",
        { repeats: reps },
        call("tg.repeat", ref(x.name), reps),
        `${x.name}.repeat(${reps.join(", ")})`,
        full.map((d, i) => d * reps[i]!),
      );
    },
  },
  {
    name: "sumTo",
    covers: ["sumTo"],
    weight: 0.4,
    make: (b, x) => {
      let target = x.shape.map((d) => (b.rng.chance(0.4) ? 1 : d));
      if (target.length > 0 && b.rng.chance(0.3)) {
        target = target.slice(b.rng.int(1, target.length));
      }
      const k = numel(x.shape) / Math.max(1, numel(target));
      return b.node(
        "sumTo",
        { shape: target },
        call("tg.sumTo", ref(x.name), target),
        `${x.name}.sum_to_size(${py(target)})`,
        target,
        { tol: accum(k) },
      );
    },
  },
  // ---------------------------------------------------------------- indexing
  {
    name: "gather",
    covers: ["gather"],
    weight: 0.7,
    fits: rank(1),
    fresh: (b) => b.shape(1, 4),
    make: (b, x) => {
      const r = x.shape.length;
      const dim = b.axis(r);
      const d = norm(dim, r);
      const n = x.shape[d]!;
      const ishape = x.shape.map((s, i) =>
        i === d ? (n === 0 ? 0 : b.rng.int(0, 4)) : b.rng.chance(0.7) ? s : b.rng.int(0, s),
      );
      const idx = b.intConst(ishape, 0, n - 1);
      return b.node(
        "gather",
        { dim },
        call("tg.gather", ref(x.name), dim, idx),
        `torch.gather(${x.name}, ${dim}, ${jsCode(idx)})`,
        ishape,
        { positive: x.positive },
      );
    },
  },
  {
    name: "indexSelect",
    covers: ["indexSelect"],
    weight: 0.6,
    fits: rank(1),
    fresh: (b) => b.shape(1, 4),
    make: (b, x) => {
      const r = x.shape.length;
      const dim = b.axis(r);
      const d = norm(dim, r);
      const n = x.shape[d]!;
      const k = n === 0 ? 0 : b.rng.int(0, 5);
      const idx = b.intConst([k], 0, n - 1);
      const shape = [...x.shape];
      shape[d] = k;
      return b.node(
        "indexSelect",
        { dim },
        call("tg.indexSelect", ref(x.name), dim, idx),
        `torch.index_select(${x.name}, ${dim}, ${jsCode(idx)})`,
        shape,
        { positive: x.positive },
      );
    },
  },
  {
    name: "scatterAdd",
    covers: ["scatterAdd"],
    weight: 0.5,
    fits: rank(1),
    fresh: (b) => b.shape(1, 4),
    make: (b, x) => {
      const r = x.shape.length;
      const dim = b.axis(r);
      const d = norm(dim, r);
      const m = b.rng.int(1, 4);
      const shape = [...x.shape];
      shape[d] = m;
      const idx = b.intConst([...x.shape], 0, m - 1);
      return b.node(
        "scatterAdd",
        { dim },
        call("tg.scatterAdd", ref(x.name), dim, idx, shape),
        `torch.zeros(${py(shape)}, dtype=DT).scatter_add(${dim}, ${jsCode(idx)}, ${x.name})`,
        shape,
      );
    },
  },
  // ---------------------------------------------------------------- linear algebra
  {
    name: "matmul",
    covers: ["matmul"],
    fits: rank(1),
    fresh: (b) => b.shape(1, 4),
    make: (b, x) => {
      const r = b.rng;
      const s = x.shape;
      let left: Val;
      let right: Val;
      if (s.length >= 2 && r.chance(0.3)) {
        // x on the right, [.., k, n]: the partner is [k], [m, k] or [b, m, k].
        const k = s[s.length - 2]!;
        const pr = r.pick([1, 2, 3]);
        left = b.leaf(pr === 1 ? [k] : [...(pr === 3 ? [r.int(1, 3)] : []), r.int(0, 3), k]);
        right = x;
      } else {
        // x on the left, [.., m, k]: the partner is [k], [k, n] or batched, broadcasting.
        const k = s[s.length - 1]!;
        const pr = r.pick([1, 2, 2, 3, 4]);
        let batch: number[] = [];
        if (pr > 2) {
          batch =
            s.length > 2
              ? b.partnerShape(s.slice(0, -2)).slice(-(pr - 2))
              : range(pr - 2).map(() => r.int(1, 3));
        }
        left = x;
        right = b.leaf(pr === 1 ? [k] : [...batch, k, r.pick([1, 2, 3, 0])]);
      }
      const a = left.shape;
      const c = right.shape;
      const a2 = a.length === 1 ? [1, ...a] : a;
      const c2 = c.length === 1 ? [...c, 1] : c;
      const batch = broadcast(a2.slice(0, -2), c2.slice(0, -2));
      if (!batch) return null;
      const out = [
        ...batch,
        ...(a.length === 1 ? [] : [a2[a2.length - 2]!]),
        ...(c.length === 1 ? [] : [c2[c2.length - 1]!]),
      ];
      const inner = a[a.length - 1]!;
      return b.node(
        "matmul",
        {},
        call("tg.matmul", ref(left.name), ref(right.name)),
        `torch.matmul(${left.name}, ${right.name})`,
        out,
        { tol: accum(inner) },
      );
    },
  },
  {
    name: "linear",
    covers: ["linear"],
    fits: rank(1),
    fresh: (b) => b.shape(1, 3),
    make: (b, x) => {
      const inF = x.shape[x.shape.length - 1]!;
      const outF = b.rng.pick([1, 2, 3, 4, 0]);
      const w = b.leaf([outF, inF]);
      const bias = b.rng.chance(0.6) ? b.leaf([outF]) : null;
      const shape = [...x.shape.slice(0, -1), outF];
      return b.node(
        "linear",
        { bias: !!bias },
        call("F.linear", ref(x.name), ref(w.name), bias ? ref(bias.name) : null),
        `F.linear(${x.name}, ${w.name}, ${bias ? bias.name : "None"})`,
        shape,
        { tol: accum(inF) },
      );
    },
  },
  // ---------------------------------------------------------------- nn functions
  {
    name: "layerNorm",
    covers: ["layerNorm"],
    fits: rank(1),
    fresh: (b) => (b.rng.chance(0.05) ? b.bigShape() : b.shape(1, 4)),
    make: (b, x) => {
      const k = b.rng.int(1, Math.min(2, x.shape.length));
      const ns = x.shape.slice(-k);
      const w = b.rng.chance(0.5) ? b.leaf(ns) : null;
      const bias = b.rng.chance(0.5) ? b.leaf(ns) : null;
      const eps = b.rng.pick([1e-5, 1e-3]);
      return b.node(
        "layerNorm",
        { k, eps },
        call(
          "F.layerNorm",
          ref(x.name),
          ns,
          w ? ref(w.name) : null,
          bias ? ref(bias.name) : null,
          eps,
        ),
        `F.layer_norm(${x.name}, ${py(ns)}, ${w?.name ?? "None"}, ${bias?.name ?? "None"}, ${eps})`,
        x.shape,
        { tol: accum(numel(ns)) },
      );
    },
  },
  {
    name: "batchNorm",
    covers: ["batchNorm"],
    fits: rank(2, 4),
    fresh: (b) => b.shape(2, 4),
    make: (b, x) => {
      const c = x.shape[1]!;
      const training = b.rng.chance(0.4);
      const rm = training ? null : b.floatConst([c], () => b.rng.normal());
      const rv = training ? null : b.floatConst([c], () => Math.abs(b.rng.normal()) + 0.1);
      const w = b.rng.chance(0.5) ? b.leaf([c]) : null;
      const bias = b.rng.chance(0.5) ? b.leaf([c]) : null;
      const eps = b.rng.pick([1e-5, 0.1]);
      const n = numel(x.shape) / Math.max(1, c);
      return b.node(
        "batchNorm",
        { training, eps },
        call(
          "F.batchNorm",
          ref(x.name),
          rm,
          rv,
          w ? ref(w.name) : null,
          bias ? ref(bias.name) : null,
          { training, eps },
        ),
        `F.batch_norm(${x.name}, ${rm ? jsCode(rm) : "None"}, ${rv ? jsCode(rv) : "None"}, ${w?.name ?? "None"}, ${bias?.name ?? "None"}, training=${py(training)}, eps=${eps})`,
        x.shape,
        { tol: accum(n) },
      );
    },
  },
  {
    name: "crossEntropy",
    covers: ["crossEntropy"],
    fits: rank(1, 4),
    fresh: (b) => b.shape(1, 4),
    make: (b, x) => {
      const r = b.rng;
      const cAxis = x.shape.length === 1 ? 0 : 1;
      const C = x.shape[cAxis]!;
      const rest = x.shape.filter((_, i) => i !== cAxis);
      const reduction = r.pick(["mean", "mean", "sum", "none"]);
      const ls = r.pick([0, 0, 0.1, 0.3]);
      const weight = r.chance(0.3) ? b.floatConst([C], () => r.next() + 0.5) : undefined;
      const probs = r.chance(0.25);
      const ignoreIndex = probs ? undefined : r.pick([undefined, undefined, 1]);
      const target = probs
        ? b.floatConst(x.shape, () => r.next())
        : b.intConst(rest, 0, Math.max(0, C - 1), ignoreIndex ?? -100, 0.2);
      const opts = { ignoreIndex, labelSmoothing: ls || undefined, weight, reduction };
      const shape = reduction === "none" ? rest : [];
      const pyArgs = `weight=${weight ? jsCode(weight) : "None"}, ignore_index=${ignoreIndex ?? -100}, reduction=${py(reduction)}, label_smoothing=${ls}`;
      return b.node(
        "crossEntropy",
        { reduction, labelSmoothing: ls, weight: !!weight, probs, ignoreIndex },
        call("F.crossEntropy", ref(x.name), target, opts),
        `F.cross_entropy(${x.name}, ${jsCode(target)}, ${pyArgs})`,
        shape,
        { tol: accum(numel(x.shape)) },
      );
    },
  },
  {
    name: "nllLoss",
    covers: ["nllLoss"],
    weight: 0.6,
    fits: rank(2, 2),
    fresh: (b) => b.shape(2, 2),
    make: (b, x) => {
      const r = b.rng;
      const [N, C] = x.shape as [number, number];
      const reduction = r.pick(["mean", "sum", "none"]);
      const weight = r.chance(0.3) ? b.floatConst([C], () => r.next() + 0.5) : undefined;
      const ignoreIndex = r.pick([undefined, undefined, 0]);
      const target = b.intConst([N], 0, Math.max(0, C - 1), ignoreIndex ?? -100, 0.2);
      return b.node(
        "nllLoss",
        { reduction, weight: !!weight, ignoreIndex },
        call("F.nllLoss", ref(x.name), target, { ignoreIndex, weight, reduction }),
        `F.nll_loss(${x.name}, ${jsCode(target)}, weight=${weight ? jsCode(weight) : "None"}, ignore_index=${ignoreIndex ?? -100}, reduction=${py(reduction)})`,
        reduction === "none" ? [N] : [],
        { tol: accum(N) },
      );
    },
  },
  {
    name: "mseLoss",
    covers: ["mseLoss"],
    weight: 0.6,
    make: (b, x) => {
      const y = b.rng.chance(0.1) ? x : b.sameShape(x.shape, x);
      const reduction = b.rng.pick(["mean", "sum", "none"]);
      return b.node(
        "mseLoss",
        { reduction },
        call("F.mseLoss", ref(x.name), ref(y.name), reduction),
        `F.mse_loss(${x.name}, ${y.name}, reduction=${py(reduction)})`,
        reduction === "none" ? x.shape : [],
        { tol: accum(numel(x.shape)) },
      );
    },
  },
  {
    name: "bceWithLogits",
    covers: ["binaryCrossEntropyWithLogits"],
    weight: 0.6,
    make: (b, x) => {
      const r = b.rng;
      const target = r.chance(0.5)
        ? b.floatConst(x.shape, () => r.pick([0, 1, r.next()]))
        : ref(b.leaf(x.shape).name);
      const reduction = r.pick(["mean", "sum", "none"]);
      return b.node(
        "bceWithLogits",
        { reduction },
        call("F.binaryCrossEntropyWithLogits", ref(x.name), target, reduction),
        `F.binary_cross_entropy_with_logits(${x.name}, ${jsCode(target)}, reduction=${py(reduction)})`,
        reduction === "none" ? x.shape : [],
        { tol: accum(numel(x.shape)) },
      );
    },
  },
  {
    name: "embedding",
    covers: ["embedding"],
    weight: 0.6,
    fits: (s) => s.length === 2 && s[0]! > 0,
    fresh: (b) => [b.rng.int(1, 6), b.rng.int(0, 4)],
    make: (b, x) => {
      const V = x.shape[0]!;
      const ids = b.intConst(b.shape(0, 2), 0, V - 1);
      const idShape = b.consts[b.consts.length - 1]!.shape;
      const paddingIdx = b.rng.chance(0.4) ? b.rng.int(-V, V - 1) : undefined;
      return b.node(
        "embedding",
        { paddingIdx },
        call("F.embedding", ids, ref(x.name), paddingIdx),
        `F.embedding(${jsCode(ids)}, ${x.name}, padding_idx=${py(paddingIdx)})`,
        [...idShape, x.shape[1]!],
      );
    },
  },
  {
    name: "oneHot",
    covers: ["oneHot"],
    takes: "none",
    weight: 0.2,
    make: (b) => {
      const C = b.rng.int(1, 4);
      const ids = b.intConst(b.shape(0, 2), 0, C - 1);
      const shape = [...b.consts[b.consts.length - 1]!.shape, C];
      return b.node(
        "oneHot",
        { C },
        call("F.oneHot", ids, C),
        `F.one_hot(${jsCode(ids)}, ${C})`,
        shape,
        { kind: "int" },
      );
    },
  },
  {
    name: "conv2d",
    covers: ["conv2d"],
    fits: rank(4, 4),
    fresh: (b) => [b.rng.int(1, 2), b.rng.int(1, 4), b.rng.int(1, 7), b.rng.int(1, 7)],
    make: (b, x) => {
      const r = b.rng;
      const [, C, H, W] = x.shape as [number, number, number, number];
      const groups = r.pick([1, 1, C].filter((g) => C % g === 0 && g > 0));
      const O = groups * r.int(1, 2);
      const [kh, kw] = [r.int(1, Math.min(3, H + 2)), r.int(1, Math.min(3, W + 2))];
      const stride = r.pick([1, 1, 2, [1, 2]] as const);
      const dilation = r.pick([1, 1, 2] as const);
      let padding: number | readonly [number, number] | "same" | "valid" = r.pick([
        0,
        1,
        2,
        [1, 0],
      ] as const);
      if (r.chance(0.15)) padding = stride === 1 ? "same" : "valid";
      const w = b.leaf([O, C / Math.max(groups, 1), kh, kw]);
      const bias = r.chance(0.5) ? b.leaf([O]) : null;
      const pair = (v: number | readonly number[]) => (typeof v === "number" ? [v, v] : [...v]);
      let pads: number[];
      if (padding === "same") pads = [(dilation * (kh - 1)) / 2, (dilation * (kw - 1)) / 2];
      else pads = padding === "valid" ? [0, 0] : pair(padding);
      const [sh, sw] = pair(stride);
      const oh = Math.floor((H + 2 * pads[0]! - dilation * (kh - 1) - 1) / sh!) + 1;
      const ow = Math.floor((W + 2 * pads[1]! - dilation * (kw - 1) - 1) / sw!) + 1;
      const opts = { stride, padding, dilation, groups };
      const pyPad = typeof padding === "string" ? py(padding) : py(pair(padding));
      return b.node(
        "conv2d",
        { ...opts, kernel: [kh, kw] },
        call("F.conv2d", ref(x.name), ref(w.name), bias ? ref(bias.name) : null, opts),
        `F.conv2d(${x.name}, ${w.name}, ${bias?.name ?? "None"}, stride=${py(pair(stride))}, padding=${pyPad}, dilation=${dilation}, groups=${groups})`,
        [x.shape[0]!, O, Math.max(oh, 0), Math.max(ow, 0)],
        { tol: accum((C / groups) * kh * kw) },
      );
    },
  },
  {
    name: "maxPool2d",
    covers: ["maxPool2d"],
    fits: rank(4, 4),
    fresh: (b) => [b.rng.int(1, 2), b.rng.int(1, 3), b.rng.int(1, 7), b.rng.int(1, 7)],
    make: (b, x) => {
      const r = b.rng;
      const k = r.pick([1, 2, 2, 3, [2, 3]] as const);
      const [kh, kw] = typeof k === "number" ? [k, k] : k;
      const stride = r.pick([undefined, 1, 2, 3] as const);
      const padding = r.pick([0, 0, 1]);
      const dilation = r.pick([1, 1, 2]);
      const ceilMode = r.chance(0.3);
      if (padding * 2 > Math.min(kh, kw)) return null;
      const [, , H, W] = x.shape as [number, number, number, number];
      const size = (n: number, kk: number) => {
        const s = stride ?? kk;
        const span = n + 2 * padding - dilation * (kk - 1) - 1;
        let o = Math[ceilMode ? "ceil" : "floor"](span / s) + 1;
        if (ceilMode && (o - 1) * s >= n + padding) o--;
        return o;
      };
      const shape = [x.shape[0]!, x.shape[1]!, size(H, kh), size(W, kw)];
      const opts = { stride, padding, dilation, ceilMode };
      return b.node(
        "maxPool2d",
        { kernel: k, ...opts },
        call("F.maxPool2d", ref(x.name), k, opts),
        `F.max_pool2d(${x.name}, ${py(typeof k === "number" ? k : [...k])}, stride=${py(stride ?? null)}, padding=${padding}, dilation=${dilation}, ceil_mode=${py(ceilMode)})`,
        shape,
        { positive: x.positive },
      );
    },
  },
  {
    name: "avgPool2d",
    covers: ["avgPool2d"],
    fits: rank(4, 4),
    fresh: (b) => [b.rng.int(1, 2), b.rng.int(1, 3), b.rng.int(1, 7), b.rng.int(1, 7)],
    make: (b, x) => {
      const r = b.rng;
      const k = r.pick([1, 2, 3]);
      const stride = r.pick([undefined, 1, 2]);
      const padding = r.pick([0, 0, 1]);
      const countIncludePad = r.chance(0.6);
      if (padding * 2 > k) return null;
      const [, , H, W] = x.shape as [number, number, number, number];
      const size = (n: number) => Math.floor((n + 2 * padding - k) / (stride ?? k)) + 1;
      const opts = { stride, padding, countIncludePad };
      return b.node(
        "avgPool2d",
        { kernel: k, ...opts },
        call("F.avgPool2d", ref(x.name), k, opts),
        `F.avg_pool2d(${x.name}, ${k}, stride=${py(stride ?? null)}, padding=${padding}, count_include_pad=${py(countIncludePad)})`,
        [x.shape[0]!, x.shape[1]!, size(H), size(W)],
      );
    },
  },
  {
    name: "adaptiveAvgPool2d",
    covers: ["adaptiveAvgPool2d"],
    weight: 0.5,
    fits: (s) => s.length === 4 && s[2]! > 0 && s[3]! > 0,
    fresh: (b) => [b.rng.int(1, 2), b.rng.int(1, 3), b.rng.int(1, 7), b.rng.int(1, 7)],
    make: (b, x) => {
      const out = [b.rng.int(1, 4), b.rng.int(1, 4)];
      return b.node(
        "adaptiveAvgPool2d",
        { out },
        call("F.adaptiveAvgPool2d", ref(x.name), out),
        `F.adaptive_avg_pool2d(${x.name}, ${py(out)})`,
        [x.shape[0]!, x.shape[1]!, out[0]!, out[1]!],
      );
    },
  },
  {
    name: "localResponseNorm",
    covers: ["localResponseNorm"],
    weight: 0.5,
    fits: rank(3, 4),
    fresh: (b) => [b.rng.int(1, 2), b.rng.int(1, 6), b.rng.int(1, 4), b.rng.int(1, 4)],
    make: (b, x) => {
      const size = b.rng.int(1, 5);
      const [alpha, beta, k] = b.rng.pick([
        [1e-4, 0.75, 1],
        [0.5, 0.5, 2],
        [1, 1, 0.5],
      ] as const);
      return b.node(
        "localResponseNorm",
        { size },
        call("F.localResponseNorm", ref(x.name), size, alpha, beta, k),
        `F.local_response_norm(${x.name}, ${size}, ${alpha}, ${beta}, ${k})`,
        x.shape,
      );
    },
  },
  {
    name: "attention",
    covers: ["scaledDotProductAttention"],
    fits: (s) => s.length >= 3 && s.length <= 4 && s[s.length - 1]! > 0,
    fresh: (b) => [
      ...(b.rng.chance(0.5) ? [b.rng.int(1, 2)] : []),
      b.rng.int(1, 2),
      b.rng.int(1, 4),
      b.rng.int(1, 4),
    ],
    make: (b, x) => {
      const r = b.rng;
      const s = x.shape;
      const [lq, e] = [s[s.length - 2]!, s[s.length - 1]!];
      const lk = r.int(1, 4);
      const batch = s.slice(0, -2);
      const k = b.leaf([...batch, lk, e]);
      const ev = r.int(1, 3);
      const v = b.leaf([...batch, lk, ev]);
      const isCausal = r.chance(0.4);
      const maskKind = r.pick(["none", "none", "bool", "float"]);
      const attnMask =
        maskKind === "bool"
          ? b.boolConst([lq, lk], 0.7)
          : maskKind === "float"
            ? b.floatConst([lq, lk], () => r.normal())
            : undefined;
      const scale = r.chance(0.3) ? 0.5 : undefined;
      return b.node(
        "attention",
        { isCausal, mask: maskKind, scale },
        call("F.scaledDotProductAttention", ref(x.name), ref(k.name), ref(v.name), {
          isCausal,
          attnMask,
          scale,
        }),
        `sdpa(${x.name}, ${k.name}, ${v.name}, ${attnMask ? jsCode(attnMask) : "None"}, ${py(isCausal)}, ${py(scale)})`,
        [...batch, lq, ev],
        { tol: accum(e * lk) },
      );
    },
  },
  {
    name: "lstmLayer",
    covers: ["lstmLayer"],
    weight: 0.4,
    fits: rank(3, 3),
    fresh: (b) => [b.rng.int(1, 4), b.rng.int(1, 3), b.rng.int(1, 4)],
    make: (b, x) => recurrent(b, x, "lstm"),
  },
  {
    name: "gruLayer",
    covers: ["gruLayer"],
    weight: 0.4,
    fits: rank(3, 3),
    fresh: (b) => [b.rng.int(1, 4), b.rng.int(1, 3), b.rng.int(1, 4)],
    make: (b, x) => recurrent(b, x, "gru"),
  },
  // ---------------------------------------------------------------- more tg.F (issue 19)
  fUnary("elu", "elu", { keepsPositive: undefined }),
  {
    name: "eluAlpha",
    covers: ["elu", "celu"],
    weight: 0.4,
    make: (b, x) => {
      const fn = b.rng.pick(["elu", "celu"] as const);
      const alpha = b.rng.pick([0.5, 2, 1.5]);
      return b.node(
        "eluAlpha",
        { fn, alpha },
        call(`F.${fn}`, ref(x.name), alpha),
        `F.${fn}(${x.name}, alpha=${alpha})`,
        x.shape,
        { positive: x.positive },
      );
    },
  },
  fUnary("selu", "selu", { keepsPositive: undefined }),
  fUnary("celu", "celu", { keepsPositive: undefined }),
  fUnary("mish", "mish", { keepsPositive: undefined }),
  fUnary("relu6", "relu6", { keepsPositive: false }),
  fUnary("hardsigmoid", "hardsigmoid", { keepsPositive: false }),
  fUnary("hardswish", "hardswish", { keepsPositive: false }),
  {
    name: "hardtanh",
    covers: ["hardtanh"],
    weight: 0.5,
    make: (b, x) => {
      const [lo, hi] = b.rng.pick([
        [-1, 1],
        [-2, 0.5],
        [0, 6],
        [0.5, 0.5],
      ] as const);
      const dflt = lo === -1 && hi === 1 && b.rng.chance(0.5);
      return b.node(
        "hardtanh",
        { lo, hi },
        dflt ? call("F.hardtanh", ref(x.name)) : call("F.hardtanh", ref(x.name), lo, hi),
        `F.hardtanh(${x.name}, ${lo}, ${hi})`,
        x.shape,
      );
    },
  },
  {
    name: "prelu",
    covers: ["prelu"],
    weight: 0.5,
    make: (b, x) => {
      const r = x.shape.length;
      // torch: one weight, or one per channel (axis 1) when the input has a channel axis.
      const perChannel = r >= 2 && b.rng.chance(0.6);
      const w = b.leaf(perChannel ? [x.shape[1]!] : [1]);
      return b.node(
        "prelu",
        { perChannel },
        call("F.prelu", ref(x.name), ref(w.name)),
        `F.prelu(${x.name}, ${w.name})`,
        x.shape,
      );
    },
  },
  ...(["l1Loss", "smoothL1Loss", "huberLoss"] as const).map((name): OpGen => ({
    name,
    covers: [name],
    weight: 0.5,
    make: (b, x) => {
      const y = b.rng.chance(0.1) ? x : b.sameShape(x.shape, x);
      const reduction = b.rng.pick(["mean", "sum", "none"]);
      const torchName = {
        l1Loss: "l1_loss",
        smoothL1Loss: "smooth_l1_loss",
        huberLoss: "huber_loss",
      }[name];
      const extra =
        name === "l1Loss"
          ? undefined
          : b.rng.pick([1, 0.5, 2, ...(name === "smoothL1Loss" ? [0] : [])]);
      const pyExtra =
        extra === undefined ? "" : `, ${name === "huberLoss" ? "delta" : "beta"}=${extra}`;
      const args: Arg[] = [
        ref(x.name),
        ref(y.name),
        reduction,
        ...(extra === undefined ? [] : [extra]),
      ];
      return b.node(
        name,
        { reduction, extra },
        call(`F.${name}`, ...args),
        `F.${torchName}(${x.name}, ${y.name}, reduction=${py(reduction)}${pyExtra})`,
        reduction === "none" ? x.shape : [],
        { tol: accum(numel(x.shape)) },
      );
    },
  })),
  {
    name: "klDiv",
    covers: ["klDiv"],
    weight: 0.5,
    make: (b, x) => {
      const r = b.rng;
      const logTarget = r.chance(0.4);
      const reduction = r.pick([
        "mean",
        "sum",
        "none",
        ...(x.shape.length > 0 ? ["batchmean"] : []),
      ]);
      // A probability target may hold exact zeros (torch: 0·log 0 = 0).
      const target = logTarget
        ? ref(b.leaf(x.shape).name)
        : r.chance(0.5)
          ? b.floatConst(x.shape, () => r.pick([0, r.next(), r.next()]))
          : ref(b.leaf(x.shape, true).name);
      return b.node(
        "klDiv",
        { reduction, logTarget },
        call("F.klDiv", ref(x.name), target, reduction, logTarget),
        `F.kl_div(${x.name}, ${jsCode(target)}, reduction=${py(reduction)}, log_target=${py(logTarget)})`,
        reduction === "none" ? x.shape : [],
        { tol: accum(numel(x.shape)) },
      );
    },
  },
  {
    name: "groupNorm",
    covers: ["groupNorm"],
    weight: 0.6,
    fits: (s) => s.length >= 2 && s.length <= 4 && s[1]! >= 1,
    fresh: (b) => [b.rng.int(1, 3), b.rng.pick([1, 2, 4, 6]), ...b.shape(0, 2)],
    make: (b, x) => {
      const C = x.shape[1]!;
      const divisors = range(C + 1).filter((g) => g > 0 && C % g === 0);
      const G = b.rng.pick(divisors);
      const w = b.rng.chance(0.5) ? b.leaf([C]) : null;
      // torch 1.13's group_norm backward fails ("tensor does not have a device") given a bias
      // without a weight, so that combination cannot be compared.
      const bias = w && b.rng.chance(0.5) ? b.leaf([C]) : null;
      const eps = b.rng.pick([1e-5, 1e-3]);
      return b.node(
        "groupNorm",
        { G, eps },
        call(
          "F.groupNorm",
          ref(x.name),
          G,
          w ? ref(w.name) : null,
          bias ? ref(bias.name) : null,
          eps,
        ),
        `F.group_norm(${x.name}, ${G}, ${w?.name ?? "None"}, ${bias?.name ?? "None"}, ${eps})`,
        x.shape,
        { tol: accum(numel(x.shape.slice(1)) / G) },
      );
    },
  },
  {
    name: "rmsNorm",
    covers: ["rmsNorm"],
    weight: 0.6,
    fits: rank(1),
    fresh: (b) => b.shape(1, 4),
    make: (b, x) => {
      const k = b.rng.int(1, Math.min(2, x.shape.length));
      const ns = x.shape.slice(-k);
      const w = b.rng.chance(0.5) ? b.leaf(ns) : null;
      // Always explicit: the default (the dtype's epsilon) differs between the float32 run and
      // torch's float64 reference.
      const eps = b.rng.pick([1e-5, 1e-3]);
      return b.node(
        "rmsNorm",
        { k, eps },
        call("F.rmsNorm", ref(x.name), ns, w ? ref(w.name) : null, eps),
        `rms_norm(${x.name}, ${py(ns)}, ${w?.name ?? "None"}, ${eps})`,
        x.shape,
        { tol: accum(numel(ns)) },
      );
    },
  },
  {
    name: "dropout2d",
    covers: ["dropout2d"],
    weight: 0.2,
    // tsgrad takes 4-D only (torch 1.13 and 2.x read a 3-D input differently).
    fits: rank(4, 4),
    fresh: (b) => b.shape(4, 4),
    make: (b, x) => {
      // As dropout: only the deterministic settings can be compared with torch's generator.
      const [p, training] = b.rng.pick([
        [0, true],
        [0.5, false],
        [1, false],
      ] as const);
      return b.node(
        "dropout2d",
        { p, training },
        call("F.dropout2d", ref(x.name), p, training),
        `F.dropout2d(${x.name}, ${py(p)}, training=${py(training)})`,
        x.shape,
        { positive: x.positive },
      );
    },
  },
  {
    name: "conv1d",
    covers: ["conv1d"],
    weight: 0.7,
    fits: rank(3, 3),
    fresh: (b) => [b.rng.int(1, 2), b.rng.int(1, 4), b.rng.int(1, 9)],
    make: (b, x) => {
      const r = b.rng;
      const [, C, L] = x.shape as [number, number, number];
      const groups = r.pick([1, 1, C].filter((g) => g > 0 && C % g === 0));
      const O = groups * r.int(1, 2);
      const k = r.int(1, Math.min(3, L + 2));
      const stride = r.pick([1, 1, 2]);
      const dilation = r.pick([1, 1, 2]);
      let padding: number | "same" | "valid" = r.pick([0, 1, 2]);
      if (r.chance(0.15)) padding = stride === 1 ? "same" : "valid";
      const w = b.leaf([O, C / Math.max(groups, 1), k]);
      const bias = r.chance(0.5) ? b.leaf([O]) : null;
      const pad = padding === "same" ? (dilation * (k - 1)) / 2 : padding === "valid" ? 0 : padding;
      const ol = Math.floor((L + 2 * pad - dilation * (k - 1) - 1) / stride) + 1;
      const opts = { stride, padding, dilation, groups };
      return b.node(
        "conv1d",
        { ...opts, k },
        call("F.conv1d", ref(x.name), ref(w.name), bias ? ref(bias.name) : null, opts),
        `F.conv1d(${x.name}, ${w.name}, ${bias?.name ?? "None"}, stride=${stride}, padding=${py(padding)}, dilation=${dilation}, groups=${groups})`,
        [x.shape[0]!, O, Math.max(ol, 0)],
        { tol: accum((C / groups) * k) },
      );
    },
  },
  {
    name: "convTranspose2d",
    covers: ["convTranspose2d"],
    weight: 0.7,
    fits: (s) => s.length === 4 && s[1]! > 0,
    fresh: (b) => [b.rng.int(1, 2), b.rng.int(1, 4), b.rng.int(1, 5), b.rng.int(1, 5)],
    make: (b, x) => {
      const r = b.rng;
      const [, C, H, W] = x.shape as [number, number, number, number];
      const groups = r.pick([1, 1, C].filter((g) => g > 0 && C % g === 0));
      const O = groups * r.int(1, 2);
      const [kh, kw] = [r.int(1, 3), r.int(1, 3)];
      const stride = r.pick([1, 2, [1, 2]] as const);
      const dilation = r.pick([1, 1, 2]);
      const padding = r.pick([0, 0, 1, [1, 0]] as const);
      const pair = (v: number | readonly number[]) => (typeof v === "number" ? [v, v] : [...v]);
      const [sh, sw] = pair(stride) as [number, number];
      // Output padding must be below the stride or the dilation (torch's rule).
      const op = [r.int(0, Math.max(sh, dilation) - 1), r.int(0, Math.max(sw, dilation) - 1)];
      const outputPadding = r.chance(0.5) ? 0 : op;
      const [ph, pw] = pair(padding) as [number, number];
      const [oph, opw] = pair(outputPadding) as [number, number];
      const oh = (H - 1) * sh - 2 * ph + dilation * (kh - 1) + oph + 1;
      const ow = (W - 1) * sw - 2 * pw + dilation * (kw - 1) + opw + 1;
      if (oh <= 0 || ow <= 0) return null;
      const w = b.leaf([C, O / groups, kh, kw]);
      const bias = r.chance(0.5) ? b.leaf([O]) : null;
      const opts = { stride, padding, outputPadding, groups, dilation };
      return b.node(
        "convTranspose2d",
        { ...opts, kernel: [kh, kw] },
        call("F.convTranspose2d", ref(x.name), ref(w.name), bias ? ref(bias.name) : null, opts),
        `F.conv_transpose2d(${x.name}, ${w.name}, ${bias?.name ?? "None"}, stride=${py(pair(stride))}, padding=${py(pair(padding))}, output_padding=${py(pair(outputPadding))}, groups=${groups}, dilation=${dilation})`,
        [x.shape[0]!, O, oh, ow],
        { tol: accum((C / groups) * kh * kw) },
      );
    },
  },
  {
    name: "interpolate",
    covers: ["interpolate"],
    weight: 0.7,
    fits: (s) => s.length === 4 && s[2]! > 0 && s[3]! > 0,
    fresh: (b) => [b.rng.int(1, 2), b.rng.int(1, 3), b.rng.int(1, 6), b.rng.int(1, 6)],
    make: (b, x) => {
      const r = b.rng;
      const [, , H, W] = x.shape as [number, number, number, number];
      const mode = r.pick(["nearest", "bilinear"] as const);
      const alignCorners = mode === "bilinear" ? r.pick([false, true]) : undefined;
      let out: [number, number];
      let jsOpts: Record<string, Arg>;
      let pyArg: string;
      if (r.chance(0.5)) {
        out = [r.int(1, 8), r.int(1, 8)];
        jsOpts = { size: out, mode, alignCorners };
        pyArg = `size=${py(out)}`;
      } else {
        const s = r.pick([2, 0.5, 1.5, 3] as const);
        out = [Math.floor(H * s), Math.floor(W * s)];
        if (out[0] === 0 || out[1] === 0) return null;
        jsOpts = { scaleFactor: s, mode, alignCorners };
        pyArg = `scale_factor=${s}`;
      }
      const ac = alignCorners === undefined ? "None" : py(alignCorners);
      return b.node(
        "interpolate",
        { mode, alignCorners },
        call("F.interpolate", ref(x.name), jsOpts),
        `F.interpolate(${x.name}, ${pyArg}, mode=${py(mode)}, align_corners=${ac})`,
        [x.shape[0]!, x.shape[1]!, ...out],
        { positive: x.positive },
      );
    },
  },
  // ---------------------------------------------------------------- more tensor ops (issue 19)
  tgUnary("log1p", "log1p", { positive: true }),
  tgUnary("expm1", "expm1", { keepsPositive: true }),
  tgUnary("floor", "floor", { weight: 0.4 }),
  tgUnary("ceil", "ceil", { weight: 0.4 }),
  tgUnary("round", "round", { weight: 0.4 }),
  tgUnary("trunc", "trunc", { weight: 0.4 }),
  ...(["isnan", "isinf", "isfinite"] as const).map((name): OpGen => ({
    name,
    covers: [name],
    weight: 0.3,
    make: (b, x) =>
      b.node(name, {}, call(`tg.${name}`, ref(x.name)), `torch.${name}(${x.name})`, x.shape, {
        kind: "bool",
      }),
  })),
  {
    name: "nanToNum",
    covers: ["nanToNum"],
    weight: 0.4,
    make: (b, x) => {
      // Explicit ±inf replacements: the defaults are the dtype's extremes, which differ between
      // the float32 run and torch's float64 reference.
      const nan = b.rng.pick([0, 0.5, -2]);
      const [posinf, neginf] = b.rng.pick([
        [10, -10],
        [1, 0],
      ] as const);
      return b.node(
        "nanToNum",
        { nan, posinf, neginf },
        call("tg.nanToNum", ref(x.name), { nan, posinf, neginf }),
        `torch.nan_to_num(${x.name}, nan=${nan}, posinf=${posinf}, neginf=${neginf})`,
        x.shape,
      );
    },
  },
  ...(["cumsum", "cumprod"] as const).map((name): OpGen => ({
    name,
    covers: [name],
    weight: 0.6,
    make: (b, x) => {
      const r = x.shape.length;
      const dim = b.axis(r);
      const k = r === 0 ? 1 : x.shape[norm(dim, r)]!;
      return b.node(
        name,
        { dim },
        call(`tg.${name}`, ref(x.name), dim),
        `torch.${name}(${x.name}, ${dim})`,
        x.shape,
        { tol: accum(k), positive: x.positive },
      );
    },
  })),
  {
    name: "prod",
    covers: ["prod"],
    weight: 0.6,
    make: (b, x) => {
      const r = x.shape.length;
      const dim = b.rng.chance(0.3) ? undefined : b.axis(r);
      const keepdim = dim !== undefined && b.rng.chance(0.4);
      const axes = dim === undefined ? range(r) : axesOf(dim, r);
      const pyCall =
        dim === undefined
          ? `torch.prod(${x.name})`
          : `torch.prod(${x.name}, ${dim}, keepdim=${py(keepdim)})`;
      return b.node(
        "prod",
        { dim, keepdim },
        dim === undefined
          ? call("tg.prod", ref(x.name))
          : call("tg.prod", ref(x.name), dim, keepdim),
        pyCall,
        reduced(x.shape, axes, keepdim),
        { tol: accum(numel(axes.map((a) => x.shape[a]!))) * 4, positive: x.positive },
      );
    },
  },
  ...(["any", "all"] as const).map((name): OpGen => ({
    name,
    covers: [name],
    weight: 0.3,
    make: (b, x) => {
      const r = x.shape.length;
      // torch 1.13 takes one dim (or none) here.
      const dim = b.rng.chance(0.3) ? undefined : b.axis(r);
      const keepdim = dim !== undefined && b.rng.chance(0.4);
      const axes = dim === undefined ? range(r) : axesOf(dim, r);
      return b.node(
        name,
        { dim, keepdim },
        dim === undefined
          ? call(`tg.${name}`, ref(x.name))
          : call(`tg.${name}`, ref(x.name), dim, keepdim),
        dim === undefined
          ? `torch.${name}(${x.name})`
          : `torch.${name}(${x.name}, ${dim}, keepdim=${py(keepdim)})`,
        reduced(x.shape, axes, keepdim),
        { kind: "bool" },
      );
    },
  })),
  {
    name: "norm",
    covers: ["norm"],
    fresh: reductionInput,
    make: (b, x) => {
      const r = x.shape.length;
      const p = b.rng.pick([2, 2, 1, Infinity, -Infinity, 3, 0.5, "fro"] as const);
      const dim = b.axes(r);
      const keepdim = b.rng.chance(0.4);
      const axes = axesOf(dim, r);
      const ord = p === "fro" ? 2 : p;
      return b.node(
        "norm",
        { p, dim, keepdim },
        call("tg.norm", ref(x.name), p, dim, keepdim),
        `torch.linalg.vector_norm(${x.name}, ${py(ord)}, ${pyDims(dim)}, keepdim=${py(keepdim)})`,
        reduced(x.shape, axes, keepdim),
        { tol: accum(numel(axes.map((a) => x.shape[a]!))), positive: true },
      );
    },
  },
  {
    name: "sort",
    covers: ["sort", "argsort"],
    weight: 0.7,
    make: (b, x) => {
      const r = x.shape.length;
      const dim = b.axis(r);
      const descending = b.rng.chance(0.4);
      const which = b.rng.pick(["values", "values", "indices", "argsort"] as const);
      // Stable on both sides, so ties order the same way.
      const tsort = `torch.sort(${x.name}, stable=True, dim=${dim}, descending=${py(descending)})`;
      const js =
        which === "argsort"
          ? call("tg.argsort", ref(x.name), dim, descending)
          : prop(call("tg.sort", ref(x.name), dim, descending), which);
      return b.node(
        "sort",
        { dim, descending, which },
        js,
        which === "values" ? `${tsort}.values` : `${tsort}.indices`,
        x.shape,
        { kind: which === "values" ? "float" : "int", positive: x.positive },
      );
    },
  },
  {
    name: "topk",
    covers: ["topk"],
    weight: 0.5,
    make: (b, x) => {
      const r = x.shape.length;
      const dim = b.axis(r);
      const n = r === 0 ? 1 : x.shape[norm(dim, r)]!;
      const k = b.rng.int(0, n);
      const largest = b.rng.chance(0.7);
      const shape = r === 0 ? [] : x.shape.map((d, i) => (i === norm(dim, r) ? k : d));
      return b.node(
        "topk",
        { k, dim, largest },
        prop(call("tg.topk", ref(x.name), k, dim, largest), "values"),
        `torch.topk(${x.name}, ${k}, ${dim}, ${py(largest)}).values`,
        shape,
        { positive: x.positive },
      );
    },
  },
  ...(["tril", "triu"] as const).map((name): OpGen => ({
    name,
    covers: [name],
    weight: 0.4,
    fits: rank(2),
    fresh: (b) => b.shape(2, 4),
    make: (b, x) => {
      const diagonal = b.rng.pick([0, 0, 1, -1, 2, -3]);
      return b.node(
        name,
        { diagonal },
        call(`tg.${name}`, ref(x.name), diagonal),
        `torch.${name}(${x.name}, ${diagonal})`,
        x.shape,
        { positive: false },
      );
    },
  })),
  {
    name: "roll",
    covers: ["roll"],
    weight: 0.5,
    make: (b, x) => {
      const r = x.shape.length;
      const flat = r === 0 || b.rng.chance(0.3);
      if (flat) {
        const s = b.rng.int(-4, 4);
        return move(
          b,
          x,
          "roll",
          { shifts: s },
          call("tg.roll", ref(x.name), s),
          `torch.roll(${x.name}, ${s})`,
          x.shape,
        );
      }
      const dims = [...new Set(range(b.rng.int(1, r)).map(() => norm(b.axis(r), r)))];
      const shifts = dims.map(() => b.rng.int(-5, 5));
      return move(
        b,
        x,
        "roll",
        { shifts, dims },
        call("tg.roll", ref(x.name), shifts, dims),
        `torch.roll(${x.name}, ${py(shifts)}, ${py(dims)})`,
        x.shape,
      );
    },
  },
  {
    name: "bmm",
    covers: ["bmm"],
    weight: 0.5,
    fits: rank(3, 3),
    fresh: (b) => [b.rng.int(1, 3), b.dim(), b.dim()],
    make: (b, x) => {
      const [B, n, m] = x.shape as [number, number, number];
      const y = b.leaf([B, m, b.dim()]);
      return b.node(
        "bmm",
        {},
        call("tg.bmm", ref(x.name), ref(y.name)),
        `torch.bmm(${x.name}, ${y.name})`,
        [B, n, y.shape[2]!],
        { tol: accum(m) },
      );
    },
  },
  {
    name: "outer",
    covers: ["outer"],
    weight: 0.4,
    fits: rank(1, 1),
    fresh: (b) => [b.dim()],
    make: (b, x) => {
      const y = b.leaf([b.dim()]);
      return b.node(
        "outer",
        {},
        call("tg.outer", ref(x.name), ref(y.name)),
        `torch.outer(${x.name}, ${y.name})`,
        [x.shape[0]!, y.shape[0]!],
      );
    },
  },
  {
    name: "einsum",
    covers: ["einsum"],
    fits: rank(1, 3),
    fresh: (b) => b.shape(1, 3),
    make: (b, x) => {
      const s = x.shape;
      const d = () => b.dim();
      // Equations that fit x's rank: [equation, shapes of the other operands, output shape, summed size].
      const forms: [string, number[][], number[], number][] = [];
      if (s.length === 1) {
        const [i] = s as [number];
        forms.push(["i->", [], [], i], ["i,i->", [[i]], [], i]);
        const j = d();
        forms.push(["i,j->ij", [[j]], [i, j], 1], ["i,j->ji", [[j]], [j, i], 1]);
      } else if (s.length === 2) {
        const [i, j] = s as [number, number];
        const k = d();
        forms.push(["ij->ji", [], [j, i], 1], ["ij->j", [], [j], i], ["ij->", [], [], i * j]);
        forms.push(["ij,jk->ik", [[j, k]], [i, k], j], ["ij,kj->ik", [[k, j]], [i, k], j]);
        forms.push(["ij,ij->i", [[i, j]], [i], j], ["ij,j->i", [[j]], [i], j]);
        forms.push(["...j,j->...", [[j]], [i], j]);
        if (i === j) forms.push(["ii->i", [], [i], 1], ["ii->", [], [], i]);
      } else {
        const [bb, i, j] = s as [number, number, number];
        const k = d();
        forms.push(["bij,bjk->bik", [[bb, j, k]], [bb, i, k], j], ["bij->bji", [], [bb, j, i], 1]);
        forms.push(
          ["bij,jk->bik", [[j, k]], [bb, i, k], j],
          ["...ij,...jk->...ik", [[bb, j, k]], [bb, i, k], j],
        );
        forms.push(["bij->j", [], [j], bb * i]);
      }
      const [eq, others, out, summed] = b.rng.pick(forms);
      const ys = others.map((sh) => b.leaf(sh));
      return b.node(
        "einsum",
        { eq },
        call("tg.einsum", eq, ref(x.name), ...ys.map((y) => ref(y.name))),
        `torch.einsum(${py(eq)}, ${[x.name, ...ys.map((y) => y.name)].join(", ")})`,
        out,
        { tol: accum(summed) },
      );
    },
  },
];

function recurrent(b: Builder, x: Val, cell: "lstm" | "gru"): Val | null {
  const r = b.rng;
  const [T, B, I] = x.shape as [number, number, number];
  const H = r.int(1, 3);
  const g = cell === "lstm" ? 4 : 3;
  const h0 = b.leaf([B, H]);
  const c0 = cell === "lstm" ? b.leaf([B, H]) : null;
  const wIh = b.leaf([g * H, I]);
  const wHh = b.leaf([g * H, H]);
  const bias = r.chance(0.6);
  const bIh = bias ? b.leaf([g * H]) : null;
  const bHh = bias ? b.leaf([g * H]) : null;
  const reverse = r.chance(0.3);
  const which = r.int(0, cell === "lstm" ? 2 : 1);
  const states = [h0, ...(c0 ? [c0] : []), wIh, wHh];
  const jsArgs: Arg[] = [
    ref(x.name),
    ...states.map((s) => ref(s.name)),
    bIh ? ref(bIh.name) : null,
    bHh ? ref(bHh.name) : null,
    { reverse },
  ];
  const pyArgs = [
    x.name,
    ...states.map((s) => s.name),
    bIh?.name ?? "None",
    bHh?.name ?? "None",
  ].join(", ");
  const name = `${cell}Layer`;
  return b.node(
    name,
    { reverse, which, bias },
    at(call(`F.${name}`, ...jsArgs), which),
    `${cell}(${pyArgs}, ${py(reverse)})[${which}]`,
    which === 0 ? [T, B, H] : [B, H],
    { tol: accum(T * (I + H)) },
  );
}

/**
 * Public functions of src/ops/ops.ts and tg.F with no generator, and why (none at present: the
 * coverage test fails when one is added without a generator or an entry here).
 */
export const NOT_COVERED: Record<string, string> = {};

// ------------------------------------------------------------------ generation

function chooseFlavour(r: Rng): Flavour {
  const u = r.next();
  if (u < 0.55) return "normal";
  if (u < 0.72) return "ties";
  if (u < 0.87) return "special";
  if (u < 0.96) return "wide";
  return "extreme";
}

/** Program `index` of the run with `seed`. */
export function generate(seed: number, index: number): Program {
  const rng = new Rng(programSeed(seed, index));
  const b = new Builder(rng, chooseFlavour(rng));
  const total = OPS.reduce((a, o) => a + (o.weight ?? 1), 0);
  const pickOp = () => {
    let u = rng.next() * total;
    for (const o of OPS) if ((u -= o.weight ?? 1) < 0) return o;
    return OPS[OPS.length - 1]!;
  };
  const nOps = rng.int(1, 4);
  for (let tries = 0; b.nodes.length < nOps && tries < 50; tries++) {
    const op = pickOp();
    const fits = (s: number[]) => op.fits?.(s) ?? true;
    let x: Val | undefined;
    if (op.takes === "none") x = { name: "", shape: [], kind: "int", positive: false };
    else {
      const kind = op.takes ?? "float";
      const wantPositive = op.positive === true && rng.chance(0.85);
      const cands = b.vals.filter(
        (v) => v.kind === kind && fits(v.shape) && (!wantPositive || v.positive),
      );
      const last = cands[cands.length - 1];
      if (last && rng.chance(0.7)) x = last;
      else if (cands.length > 0 && rng.chance(0.6)) x = rng.pick(cands);
      else if (kind === "float") x = b.leaf(op.fresh ? op.fresh(b) : b.shape(), wantPositive);
      else x = b.constVal(kind, b.shape());
    }
    if (!x) continue;
    const before = [b.leaves.length, b.consts.length, b.nodes.length, b.vals.length];
    const out = op.make(b, x);
    if (!out) {
      // Undo whatever the failed attempt added.
      b.leaves.length = before[0]!;
      b.consts.length = before[1]!;
      b.nodes.length = before[2]!;
      b.vals.length = before[3]!;
    }
  }
  if (b.nodes.length === 0) {
    const x = b.leaf(b.shape());
    b.node("neg", {}, call("tg.neg", ref(x.name)), `torch.neg(${x.name})`, x.shape);
  }
  return {
    index,
    flavour: b.flavour,
    leaves: b.leaves,
    consts: b.consts,
    nodes: b.nodes,
    output: b.nodes[b.nodes.length - 1]!.name,
    tieOnRounded: (b.flavour === "ties" || b.flavour === "special") && jumpOnRounded(b.nodes),
    jumpOnRounded: jumpOnRounded(b.nodes),
  };
}

/**
 * Ops whose result is exact when their inputs are (movement, selection, and sums and products of
 * the small dyadic numbers of the "ties" data: halves add and multiply exactly in float32).
 */
const EXACT = new Set([
  ...["neg", "abs", "relu", "sign", "square", "add", "sub", "mul", "maximum", "minimum", "clamp"],
  ...["where", "maskedFill", "toFloat", "intToFloat", "castDT", "castBool", "contiguous", "clone"],
  ...["dropout", "reshape", "view", "flatten", "permute", "transpose", "t", "expand", "squeeze"],
  ...["unsqueeze", "narrow", "split", "chunk", "pad", "cat", "stack", "flip", "repeat", "gather"],
  ...["indexSelect", "embedding", "oneHot", "sum", "sumTo", "scatterAdd", "amax", "amin", "maxDim"],
  ...["minDim", "maxAll", "argmax", "argmin", "eq", "ne", "lt", "le", "gt", "ge", "logicalNot"],
  ...["maxPool2d", "matmul", "linear", "conv2d", "floor", "ceil", "round", "trunc", "roll"],
  ...["tril", "triu", "sort", "topk", "nanToNum", "isnan", "isinf", "isfinite", "any", "all"],
  ...["cumsum", "bmm", "outer", "einsum", "hardtanh", "relu6"],
]);

/** Ops with a jump (in value or gradient) at some input: ties decide which side. */
const DISCONTINUOUS = new Set([
  ...["relu", "abs", "sign", "clamp", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge"],
  ...["amax", "amin", "maxDim", "minDim", "maxAll", "argmax", "argmin", "maxPool2d", "leakyRelu"],
  ...["castBool", "std", "floor", "ceil", "round", "trunc", "sort", "topk", "any", "all"],
  ...["isnan", "isinf", "isfinite", "hardtanh", "relu6", "hardsigmoid", "hardswish", "prelu"],
  ...["l1Loss", "smoothL1Loss", "huberLoss", "norm", "elu", "eluAlpha", "celu"],
]);

/** Whether some discontinuous node reads a value that float32 has rounded. */
function jumpOnRounded(nodes: readonly NodeSpec[]): boolean {
  const rounded = new Set<string>();
  let risk = false;
  for (const n of nodes) {
    const reads = n.inputs.some((i) => rounded.has(i));
    if (reads && DISCONTINUOUS.has(n.op)) risk = true;
    if (reads || !EXACT.has(n.op)) rounded.add(n.name);
  }
  return risk;
}

// ------------------------------------------------------------------ printing

function fmtData(data: readonly number[], max = 8): string {
  const shown = data.slice(0, max).map(jsNumber).join(", ");
  return data.length > max ? `[${shown}, … ${data.length} values]` : `[${shown}]`;
}

/** The program as JavaScript (what tsgrad ran) and Python (what torch ran). */
export function programCode(p: Program, maxValues = 12): { js: string; py: string } {
  const js: string[] = [];
  const pyl: string[] = [];
  for (const l of p.leaves) {
    js.push(
      `const ${l.name} = leaf(${py(l.shape)}, ${fmtData(l.data, maxValues)}); // requiresGrad`,
    );
  }
  for (const c of p.consts) {
    js.push(`const ${c.name} = ${c.kind}Const(${py(c.shape)}, ${fmtData(c.data, maxValues)});`);
  }
  for (const n of p.nodes) {
    js.push(`const ${n.name} = ${jsCode(n.js)};`);
    pyl.push(`${n.name} = ${n.py}`);
  }
  return { js: js.join("\n"), py: pyl.join("\n") };
}
