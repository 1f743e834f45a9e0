/**
 * The Optimizer base class: parameter groups, per-parameter state, `zeroGrad`, and PyTorch-shaped
 * state dicts.
 *
 * An optimizer owns nothing but small state tensors (momentum buffers, moment estimates). `step()`
 * reads each parameter's `.grad` and updates `param.data` in place with a plain loop from
 * `kernels.ts`: no autodiff graph, no per-element allocation. That is why parameters must be
 * contiguous floating leaf tensors, which is checked when they are added.
 */
import { noGrad, enableGrad } from "../tensor/autograd.js";
import { allocate } from "../tensor/dtype.js";
import { TsgradError, fmtShape } from "../tensor/errors.js";
import { Tensor } from "../tensor/tensor.js";
import type { FloatArray } from "./kernels.js";
import { checkOptionKeys } from "./options.js";

const SCHEDULER_KEYS = ["initialLr", "maxLr", "minLr", "maxMomentum", "baseMomentum"];

/** A hyper-parameter value: a number, a flag, or a pair such as Adam's betas. */
export type HyperValue = number | boolean | readonly number[];

/** What every optimizer's hyper-parameters include. */
export interface BaseHyper {
  lr: number;
}

/**
 * Keys LR schedulers add to a parameter group (PyTorch's `initial_lr`, and OneCycleLR's
 * `max_lr`, `min_lr`, `max_momentum`, `base_momentum`). They are saved with the group.
 */
export interface SchedulerKeys {
  initialLr?: number;
  maxLr?: number;
  minLr?: number;
  maxMomentum?: number;
  baseMomentum?: number;
}

/** A parameter group: its tensors and its own copy of every hyper-parameter. */
export type ParamGroup<H extends BaseHyper = BaseHyper> = H & SchedulerKeys & { params: Tensor[] };

/** How a parameter group is given to a constructor: its tensors and any hyper-parameter overrides. */
export type ParamGroupInit<H extends BaseHyper = BaseHyper> = Partial<H> & {
  params: Iterable<Tensor> | Tensor;
};

/** What optimizers accept as parameters: tensors (one group) or parameter-group objects. */
export type Params<H extends BaseHyper = BaseHyper> =
  Iterable<Tensor> | Iterable<ParamGroupInit<H>>;

/** One parameter's optimizer state: tensors such as `expAvg`, and counters such as `step`. */
export type ParamState = Record<string, Tensor | number>;

/** A state-dict leaf or container. Leaves are numbers, strings, booleans or tensors. */
export type StateValue = number | string | boolean | Tensor | StateValue[] | StateObject;

/** A JSON-like object of state values. */
export interface StateObject {
  [key: string]: StateValue;
}

/**
 * An optimizer's state, shaped like PyTorch's: `state` maps a parameter's index (counting through
 * the groups in order) to its state, and `paramGroups` lists each group's hyper-parameters with
 * its parameters replaced by their indices.
 */
export interface OptimizerStateDict {
  state: Record<number, ParamState>;
  paramGroups: ({ params: number[] } & StateObject)[];
}

/** The parameter data and gradient one kernel call updates, as flat typed arrays. */
export interface ParamSlot {
  param: Tensor;
  /** The parameter's elements (a window on its storage, updated in place). */
  data: FloatArray;
  /** Its gradient's elements (read only; a contiguous copy when `.grad` is a strided view). */
  grad: FloatArray;
  /** Its index in the state dict. */
  index: number;
  state: ParamState;
}

function hyperEqualsType(a: unknown, b: HyperValue): boolean {
  if (Array.isArray(b)) {
    return Array.isArray(a) && a.length === b.length && a.every((x) => typeof x === "number");
  }
  return typeof a === typeof b;
}

function isHyperValue(v: unknown): v is HyperValue {
  return (
    typeof v === "number" ||
    typeof v === "boolean" ||
    (Array.isArray(v) && v.every((x) => typeof x === "number"))
  );
}

/** A contiguous element window on a tensor's storage (no copy). */
function window(t: Tensor): FloatArray {
  const data = t.data as FloatArray;
  return t.offset === 0 && data.length === t.size
    ? data
    : data.subarray(t.offset, t.offset + t.size);
}

function copyTensor(t: Tensor, dtype: "float32" | "float64"): Tensor {
  const out = allocate(dtype, t.size);
  const src = t.dataSync();
  for (let i = 0; i < out.length; i++) out[i] = src[i]!;
  return new Tensor(out, dtype, [...t.shape]);
}

/**
 * Base class of every optimizer (like `torch.optim.Optimizer`). Subclasses supply `defaults` and
 * `update`, which applies one step to one parameter group.
 *
 * @example
 * const w = tg.tensor([1, 2], { requiresGrad: true });
 * const opt = new tg.optim.SGD([w], { lr: 0.5 });
 * console.log(opt instanceof tg.optim.Optimizer, opt.paramGroups.length); // true 1
 */
export abstract class Optimizer<H extends BaseHyper = BaseHyper> {
  /** The hyper-parameters a group gets unless it overrides them. */
  readonly defaults: H;
  /** The parameter groups; a group's hyper-parameters (e.g. `lr`) may be changed between steps. */
  readonly paramGroups: ParamGroup<H>[] = [];
  /** Per-parameter state, created on a parameter's first step. */
  readonly state = new Map<Tensor, ParamState>();
  /** Name used in error messages ("SGD", "Adam", ...). */
  protected readonly name: string;

  /**
   * `defaults` holds every hyper-parameter; `given`, the caller's options object, is checked for
   * keys that are not hyper-parameters.
   */
  constructor(name: string, params: Params<H>, defaults: H, given: object = {}) {
    this.name = name;
    checkOptionKeys(name, given, Object.keys(defaults));
    this.defaults = defaults;
    if (params instanceof Tensor) {
      throw new TsgradError(
        name,
        "params must be a list of tensors or of parameter groups, got a single tensor (wrap it in [ ])",
      );
    }
    const list = [...(params as Iterable<Tensor | ParamGroupInit<H>>)];
    if (list.length === 0) throw new TsgradError(name, "got an empty parameter list");
    if (list[0] instanceof Tensor) {
      this.addParamGroup({ params: list as Tensor[] } as unknown as ParamGroupInit<H>);
    } else {
      for (const g of list as ParamGroupInit<H>[]) this.addParamGroup(g);
    }
  }

  /**
   * Add a parameter group (e.g. layers unfrozen during fine-tuning); hyper-parameters it does not
   * set come from `defaults`.
   *
   * @example
   * const a = tg.zeros([2], { requiresGrad: true });
   * const b = tg.zeros([3], { requiresGrad: true });
   * const opt = new tg.optim.SGD([a], { lr: 0.1 });
   * opt.addParamGroup({ params: [b], lr: 0.01 });
   * console.log(opt.paramGroups.map((g) => g.lr)); // [0.1, 0.01]
   */
  addParamGroup(group: ParamGroupInit<H>): void {
    const where = `${this.name}.addParamGroup`;
    if (group === null || typeof group !== "object" || !("params" in group)) {
      throw new TsgradError(where, "a parameter group must be an object with a `params` field");
    }
    const params = group.params instanceof Tensor ? [group.params] : [...group.params];
    const gi = this.paramGroups.length;
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) {
        throw new TsgradError(where, `group ${gi} entry ${i} is not a Tensor`);
      }
      if (p.dtype !== "float32" && p.dtype !== "float64") {
        throw new TsgradError(
          where,
          `group ${gi} parameter ${i} has dtype ${p.dtype}; only float32/float64 tensors can be optimized`,
        );
      }
      if (!p.isLeaf) {
        throw new TsgradError(
          where,
          `group ${gi} parameter ${i} (shape ${fmtShape(p.shape)}) is not a leaf tensor; optimize the leaf it was computed from`,
        );
      }
      if (!p.isContiguous()) {
        throw new TsgradError(
          where,
          `group ${gi} parameter ${i} is not contiguous (shape ${fmtShape(p.shape)}, strides ${fmtShape(p.strides)}); ` +
            "optimizers update storage in place, so pass contiguous leaves (x.contiguous().detach().requiresGrad_())",
        );
      }
    });
    if (new Set(params).size !== params.length) {
      throw new TsgradError(where, `group ${gi} lists the same parameter more than once`);
    }
    for (const [k, g] of this.paramGroups.entries()) {
      if (g.params.some((p) => params.includes(p))) {
        throw new TsgradError(where, `group ${gi} shares parameters with group ${k}`);
      }
    }
    const full = { ...this.defaults } as Record<string, unknown>;
    checkOptionKeys(where, group, ["params", ...Object.keys(this.defaults), ...SCHEDULER_KEYS]);
    for (const [k, v] of Object.entries(group)) {
      if (k === "params" || v === undefined) continue;
      if (!isHyperValue(v)) {
        throw new TsgradError(where, `group ${gi}: ${k} must be a number, boolean or number list`);
      }
      full[k] = Array.isArray(v) ? [...(v as number[])] : v;
    }
    full.params = params;
    const built = full as unknown as ParamGroup<H>;
    this.validateGroup(built, gi);
    this.paramGroups.push(built);
  }

  /**
   * Clear every parameter's gradient. With `setToNone` (the default, as in PyTorch 2) `.grad`
   * becomes null, so the next `backward()` starts afresh and parameters that get no gradient are
   * skipped by `step()`. Otherwise each gradient is replaced by zeros.
   *
   * @example
   * const w = tg.tensor([1, 2], { requiresGrad: true });
   * w.sum().backward();
   * const opt = new tg.optim.SGD([w], { lr: 0.1 });
   * opt.zeroGrad();
   * console.log(w.grad); // null
   */
  zeroGrad(setToNone = true): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (p.grad === null) continue;
        // A fresh zero tensor rather than zeroing in place: the gradient may share storage with
        // another leaf's gradient or with the seed passed to backward().
        p.grad = setToNone ? null : p.zerosLike();
      }
    }
  }

  /**
   * Apply one update to every parameter that has a gradient. With a `closure` (which must
   * recompute the loss, calling `backward()`), it is evaluated first with gradients enabled, and
   * its result is returned.
   *
   * @example
   * const w = tg.tensor([1, -2], { requiresGrad: true });
   * const opt = new tg.optim.SGD([w], { lr: 0.25 });
   * const loss = opt.step(() => {
   *   opt.zeroGrad();
   *   const l = w.square().sum();
   *   l.backward();
   *   return l.item();
   * });
   * console.log(loss, w.toArray()); // 5 [0.5, -1]
   */
  step<L = undefined>(closure?: () => L): L | undefined {
    const loss = closure ? enableGrad(closure) : undefined;
    noGrad(() => {
      let index = 0;
      this.paramGroups.forEach((group, gi) => {
        const slots: ParamSlot[] = [];
        group.params.forEach((param, pi) => {
          const i = index + pi;
          if (param.grad === null) return;
          let state = this.state.get(param);
          if (state === undefined) {
            state = {};
            this.state.set(param, state);
          }
          slots.push({
            param,
            data: window(param),
            grad: this.gradOf(param, gi, pi),
            index: i,
            state,
          });
        });
        index += group.params.length;
        if (slots.length > 0) this.update(group, slots);
      });
    });
    return loss;
  }

  /** Apply one step to the parameters of `group` that have gradients. */
  protected abstract update(group: ParamGroup<H>, slots: ParamSlot[]): void;

  /** Reject invalid hyper-parameters in a group (called when a group is added or loaded). */
  protected validateGroup(_group: ParamGroup<H>, _index: number): void {}

  /**
   * A state tensor of `param`'s shape and dtype, created as zeros on first use. Throws if a
   * loaded state lacks it (a state dict from a different optimizer configuration).
   */
  protected buffer(slot: ParamSlot, key: string, create: boolean): FloatArray {
    let t = slot.state[key];
    if (t === undefined) {
      if (!create) {
        throw new TsgradError(
          `${this.name}.step`,
          `state of parameter ${slot.index} has no "${key}" (was it loaded from a different optimizer configuration?)`,
        );
      }
      t = slot.param.zerosLike();
      slot.state[key] = t;
    }
    if (!(t instanceof Tensor)) {
      throw new TsgradError(
        `${this.name}.step`,
        `state "${key}" of parameter ${slot.index} should be a tensor, got ${typeof t}`,
      );
    }
    return window(t);
  }

  private gradOf(param: Tensor, gi: number, pi: number): FloatArray {
    let g = param.grad!;
    if (g.shape.length !== param.shape.length || g.shape.some((d, k) => d !== param.shape[k])) {
      throw new TsgradError(
        `${this.name}.step`,
        `group ${gi} parameter ${pi}: gradient shape ${fmtShape(g.shape)} differs from parameter shape ${fmtShape(param.shape)}`,
      );
    }
    if (g.dtype !== param.dtype) g = g.to(param.dtype);
    if (!g.isContiguous()) g = g.contiguous();
    return window(g);
  }

  // ---------------------------------------------------------------- state dicts

  /**
   * The optimizer's state as a plain object (see `OptimizerStateDict`). State tensors are copies,
   * so the snapshot does not change as training continues. Non-tensor leaves are JSON-safe.
   *
   * @example
   * const w = tg.tensor([1, 2], { requiresGrad: true });
   * const opt = new tg.optim.SGD([w], { lr: 0.1, momentum: 0.9 });
   * w.sum().backward();
   * opt.step();
   * const sd = opt.stateDict();
   * console.log(Object.keys(sd.state[0]!), sd.paramGroups[0]!.params); // ["momentumBuffer"] [0]
   */
  stateDict(): OptimizerStateDict {
    const state: Record<number, ParamState> = {};
    const paramGroups: OptimizerStateDict["paramGroups"] = [];
    let index = 0;
    for (const group of this.paramGroups) {
      const packed: StateObject = {};
      for (const [k, v] of Object.entries(group)) {
        if (k === "params" || v === undefined) continue;
        packed[k] = Array.isArray(v) ? [...(v as number[])] : (v as number | boolean);
      }
      const ids: number[] = [];
      for (const p of group.params) {
        const s = this.state.get(p);
        if (s !== undefined) {
          const copy: ParamState = {};
          for (const [k, v] of Object.entries(s)) {
            copy[k] = v instanceof Tensor ? copyTensor(v, v.dtype as "float32" | "float64") : v;
          }
          state[index] = copy;
        }
        ids.push(index++);
      }
      paramGroups.push({ ...packed, params: ids });
    }
    return { state, paramGroups };
  }

  /**
   * Restore a state from `stateDict()` (possibly from another process: state keys may be strings,
   * and tensors may have another dtype, which is converted to the parameter's). The groups must
   * match this optimizer's in number and size, and state tensors the shapes of their parameters;
   * otherwise a TsgradError says which. Hyper-parameters (including `lr`) are taken from the dict.
   *
   * @example
   * const w = tg.tensor([1, 2], { requiresGrad: true });
   * const opt = new tg.optim.Adam([w], { lr: 0.1 });
   * w.sum().backward();
   * opt.step();
   * const fresh = new tg.optim.Adam([w], { lr: 0.5 });
   * fresh.loadStateDict(opt.stateDict());
   * console.log(fresh.paramGroups[0]!.lr, fresh.state.get(w)!.step); // 0.1 1
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const where = `${this.name}.loadStateDict`;
    if (sd === null || typeof sd !== "object" || !Array.isArray(sd.paramGroups) || !sd.state) {
      throw new TsgradError(where, "expected an object with `state` and `paramGroups`");
    }
    const saved = sd.paramGroups;
    if (saved.length !== this.paramGroups.length) {
      throw new TsgradError(
        where,
        `the state dict has ${saved.length} parameter groups, this optimizer has ${this.paramGroups.length}`,
      );
    }
    const byIndex: Tensor[] = [];
    const savedIds = new Map<number, Tensor>();
    saved.forEach((sg, gi) => {
      const group = this.paramGroups[gi]!;
      if (!Array.isArray(sg.params) || sg.params.length !== group.params.length) {
        throw new TsgradError(
          where,
          `parameter group ${gi} has ${Array.isArray(sg.params) ? sg.params.length : "no"} parameters in the state dict, ${group.params.length} in this optimizer`,
        );
      }
      sg.params.forEach((id, k) => savedIds.set(Number(id), group.params[k]!));
      byIndex.push(...group.params);
      for (const [k, dv] of Object.entries(this.defaults)) {
        if (!hyperEqualsType(sg[k], dv as HyperValue)) {
          throw new TsgradError(
            where,
            `paramGroups[${gi}].${k} should be ${Array.isArray(dv) ? `a list of ${(dv as number[]).length} numbers` : `a ${typeof dv}`}, got ${JSON.stringify(sg[k])}`,
          );
        }
      }
      for (const [k, v] of Object.entries(sg)) {
        if (k !== "params" && !isHyperValue(v)) {
          throw new TsgradError(
            where,
            `paramGroups[${gi}].${k} is not a number, boolean or number list`,
          );
        }
      }
    });
    // Validate every state entry before changing anything, so a failed load leaves no trace.
    const newState = new Map<Tensor, ParamState>();
    for (const [key, entry] of Object.entries(sd.state)) {
      const param = savedIds.get(Number(key));
      if (param === undefined) {
        throw new TsgradError(
          where,
          `state for parameter index ${key}, which no parameter group lists (${byIndex.length} parameters)`,
        );
      }
      if (entry === null || typeof entry !== "object") {
        throw new TsgradError(where, `state[${key}] is not an object`);
      }
      const restored: ParamState = {};
      for (const [k, v] of Object.entries(entry)) {
        if (v instanceof Tensor) {
          if (
            v.shape.length !== param.shape.length ||
            v.shape.some((d, j) => d !== param.shape[j])
          ) {
            throw new TsgradError(
              where,
              `state[${key}].${k} has shape ${fmtShape(v.shape)} but parameter ${key} has shape ${fmtShape(param.shape)}`,
            );
          }
          restored[k] = copyTensor(v, param.dtype as "float32" | "float64");
        } else if (typeof v === "number") {
          restored[k] = v;
        } else {
          throw new TsgradError(where, `state[${key}].${k} must be a tensor or a number`);
        }
      }
      newState.set(param, restored);
    }
    const groups = saved.map((sg, gi) => {
      const g: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(sg)) {
        if (k !== "params") g[k] = Array.isArray(v) ? [...(v as number[])] : v;
      }
      g.params = this.paramGroups[gi]!.params;
      this.validateGroup(g as unknown as ParamGroup<H>, gi);
      return g;
    });
    // Replace each group's contents but keep the group objects, which callers may hold.
    groups.forEach((g, gi) => {
      const group = this.paramGroups[gi]! as unknown as Record<string, unknown>;
      for (const k of Object.keys(group)) delete group[k];
      Object.assign(group, g);
    });
    this.state.clear();
    for (const [p, s] of newState) this.state.set(p, s);
  }
}
