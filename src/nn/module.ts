/**
 * `Module`: the base of every layer and model, as torch.nn.Module. A module's parameters,
 * buffers and children are found by walking its own fields in definition order — fields holding
 * a parameter (made with `Parameter`), a buffer (made with `Buffer`), a `Module`, or an array of
 * modules — so state-dict names are the PyTorch-style dotted paths `features.0.weight`.
 */
import { noGrad } from "../tensor/autograd.js";
import { isFloating } from "../tensor/dtype.js";
import { TsgradError, fmtShape } from "../tensor/errors.js";
import { Tensor } from "../tensor/tensor.js";

const parameters = new WeakSet<Tensor>();
const buffers = new WeakSet<Tensor>();

/**
 * Mark `t` as a trainable parameter (it requires grad) and return it.
 *
 * @example
 * const w = tg.nn.Parameter(tg.zeros([3]));
 * console.log(w.requiresGrad, tg.nn.isParameter(w)); // true true
 */
export function Parameter(t: Tensor): Tensor {
  if (t._node !== null) t = t.detach();
  t.requiresGrad_(true);
  parameters.add(t);
  return t;
}

/**
 * Mark `t` as a buffer: module state saved in the state dict but not trained (running statistics).
 *
 * @example
 * const b = tg.nn.Buffer(tg.zeros([3]));
 * console.log(b.requiresGrad, tg.nn.isBuffer(b)); // false true
 */
export function Buffer(t: Tensor): Tensor {
  buffers.add(t);
  return t;
}

/**
 * True for tensors made trainable by `Parameter`.
 *
 * @example
 * console.log(tg.nn.isParameter(tg.nn.Parameter(tg.zeros([1]))), tg.nn.isParameter(tg.zeros([1]))); // true false
 */
export function isParameter(t: unknown): t is Tensor {
  return t instanceof Tensor && parameters.has(t);
}

/**
 * True for tensors registered as buffers by `Buffer`.
 *
 * @example
 * console.log(tg.nn.isBuffer(new tg.nn.BatchNorm1d(2).running_mean)); // true
 */
export function isBuffer(t: unknown): t is Tensor {
  return t instanceof Tensor && buffers.has(t);
}

export interface LoadStateDictOptions {
  /** Require an exact match of names (default true). Shapes must always match. */
  strict?: boolean;
  /** Named in error messages (e.g. the checkpoint file). */
  source?: string;
}

/**
 * Base class for layers and models. Subclasses assign parameters, buffers and child modules to
 * fields in their constructor and implement `forward`.
 *
 * @example
 * class Affine extends tg.nn.Module {
 *   w = tg.nn.Parameter(tg.ones([2]));
 *   b = tg.nn.Parameter(tg.zeros([2]));
 *   forward(x: tg.Tensor) {
 *     return x.mul(this.w).add(this.b);
 *   }
 * }
 * const m = new Affine();
 * console.log(Object.keys(m.stateDict()), m.numParameters()); // ["w", "b"] 4
 */
export abstract class Module {
  /** Training mode (dropout active, batch statistics) vs evaluation mode. */
  training = true;

  abstract forward(...args: never[]): unknown;

  /** Direct children as [name, module] pairs (arrays of modules are numbered `name.i`). */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [k, v] of Object.entries(this)) {
      if (v instanceof Module) out.push([k, v]);
      else if (Array.isArray(v) && v.length > 0 && v.every((m) => m instanceof Module)) {
        v.forEach((m, i) => out.push([`${k}.${i}`, m]));
      }
    }
    return out;
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** Every module in the tree, this one first, with dotted names. */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [k, m] of this.namedChildren()) {
      out.push(...m.namedModules(prefix ? `${prefix}.${k}` : k));
    }
    return out;
  }

  private ownTensors(pred: (t: unknown) => t is Tensor): [string, Tensor][] {
    return Object.entries(this).filter((e): e is [string, Tensor] => pred(e[1]));
  }

  /**
   * Parameters with their dotted names, in definition order. A parameter shared by several
   * modules (tied weights) is listed once, under its first name, so optimizers update it once.
   */
  namedParameters(): [string, Tensor][] {
    const seen = new Set<Tensor>();
    return this.namedModules()
      .flatMap(([p, m]) =>
        m.ownTensors(isParameter).map(([k, t]) => [p ? `${p}.${k}` : k, t] as [string, Tensor]),
      )
      .filter(([, t]) => !seen.has(t) && seen.add(t) !== undefined);
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(): [string, Tensor][] {
    return this.namedModules().flatMap(([p, m]) =>
      m.ownTensors(isBuffer).map(([k, t]) => [p ? `${p}.${k}` : k, t] as [string, Tensor]),
    );
  }

  /** Total number of parameter elements. */
  numParameters(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }

  /** Set training mode on this module and all its descendants. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Clear every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Call `fn` on every module in the tree (children first, as PyTorch's `apply`). */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /**
   * Parameters and buffers by dotted name. The tensors are the module's own (not copies): save
   * them, or copy them before mutating.
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [k, t] of [...this.namedParameters(), ...this.namedBuffers()]) out[k] = t;
    return out;
  }

  /**
   * Copy tensors into this module's parameters and buffers by name. Every mismatch — a missing or
   * unexpected name (when strict), or a different shape — is reported at once, before anything
   * is modified.
   */
  loadStateDict(state: Readonly<Record<string, Tensor>>, opts: LoadStateDictOptions = {}): void {
    const { strict = true, source } = opts;
    const own = this.stateDict();
    const problems: string[] = [];
    const missing = Object.keys(own).filter((k) => !(k in state));
    const unexpected = Object.keys(state).filter((k) => !(k in own));
    if (strict && missing.length) problems.push(`missing: ${missing.join(", ")}`);
    if (strict && unexpected.length) problems.push(`unexpected: ${unexpected.join(", ")}`);
    for (const [k, t] of Object.entries(own)) {
      const s = state[k];
      if (s && (s.shape.length !== t.shape.length || s.shape.some((d, i) => d !== t.shape[i]))) {
        problems.push(`${k}: checkpoint has ${fmtShape(s.shape)}, model has ${fmtShape(t.shape)}`);
      }
      // Values are cast to the model's dtype, as PyTorch's copy_ does (float64 weights into
      // float32, a count written as a float into an int32 buffer) — except integers or bools
      // into a floating tensor: ids or a mask where the model keeps weights is not the same
      // quantity, and casting it would load nonsense silently.
      if (s && isFloating(t.dtype) && !isFloating(s.dtype)) {
        problems.push(`${k}: checkpoint has ${s.dtype}, model has ${t.dtype}`);
      }
    }
    if (problems.length) {
      throw new TsgradError(
        "loadStateDict",
        `${source ? `${source}: ` : ""}state dict does not match the model (${problems.join("; ")})`,
      );
    }
    noGrad(() => {
      for (const [k, t] of Object.entries(own)) {
        const s = state[k];
        if (!s) continue;
        const src = s.contiguous().to(t.dtype).dataSync();
        if (!t.isContiguous()) throw new TsgradError("loadStateDict", `${k} is not contiguous`);
        t.data.set(src, t.offset);
      }
    });
  }

  /** A PyTorch-like tree printout of the module. */
  toString(): string {
    const name = this.constructor.name;
    const kids = this.namedChildren();
    const extra = this.extraRepr();
    if (kids.length === 0) return `${name}(${extra})`;
    const inner = kids
      .map(([k, m]) => `  (${k}): ${m.toString().replace(/\n/g, "\n  ")}`)
      .join("\n");
    return `${name}(${extra ? extra + "\n" : "\n"}${inner}\n)`;
  }

  /** Subclasses describe their configuration here (shown by `toString`). */
  protected extraRepr(): string {
    return "";
  }
}
