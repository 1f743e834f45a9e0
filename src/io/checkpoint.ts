/**
 * Training checkpoints as single safetensors files.
 *
 * The model's state dict is stored under its own names (`features.0.weight`), so PyTorch can load
 * the file into the equivalent `torch.nn` model. Everything else (optimizer and scheduler state,
 * RNG state, counters, config) is a JSON-like object that may hold tensors at any depth: each
 * such tensor is stored under its path as a JSON Pointer behind `#` (`#/optimizer/state/0/expAvg`;
 * `~` and `/` inside keys escaped as `~0` and `~1`), and the rest of the object goes to the
 * `tsgrad.state` metadata entry as JSON with `{"$tensor": name}` where the tensors were. Model
 * names may not start with `#` (no PyTorch attribute name can), so the two never collide.
 *
 * Skeleton encoding: non-finite numbers become `{"$number": "NaN" | "Infinity" | "-Infinity"}`
 * (JSON has no literal for them, and silently writing `null` would lose a diverged loss); a plain
 * object with a key starting with `$` is wrapped as `{"$object": {...}}` so that it can never be
 * mistaken for one of these markers. A tensor reachable twice (e.g. a model parameter also held
 * by the optimizer) is stored once and comes back as one object in both places.
 */
import { Tensor } from "../tensor/tensor.js";
import { TsgradError } from "../tensor/errors.js";
import { decodeSafetensors, encodeSafetensors } from "./safetensors.js";
import { type FileSource, sourceBytes, writeFileAtomic } from "./atomic.js";

/** What a checkpoint holds: a model state dict plus any JSON-like values, tensors allowed inside. */
export interface CheckpointState {
  /** The model's state dict, parameter name → tensor (PyTorch naming). */
  model: Record<string, Tensor>;
  /** Optimizer/scheduler state, RNG state, counters, config…: JSON-like, may contain tensors. */
  [key: string]: unknown;
}

const VERSION = "1";
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function pointer(path: readonly string[]): string {
  return "#/" + path.map((s) => s.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");
}

function isPlainObject(x: object): x is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/**
 * Serialise a checkpoint to safetensors bytes (the pure part of `saveCheckpoint`).
 *
 * @example
 * const bytes = tg.io.encodeCheckpoint({ model: { w: tg.ones([2]) }, step: 7 });
 * const back = tg.io.decodeCheckpoint(bytes);
 * console.log(back.model.w!.toArray(), back.step); // [1, 1] 7
 */
export function encodeCheckpoint(state: Readonly<CheckpointState>): Uint8Array {
  const op = "saveCheckpoint";
  const { model, ...rest } = state;
  if (typeof model !== "object" || model === null) {
    throw new TsgradError(op, "state.model must be a record of tensors (the model's state dict)");
  }
  const tensors: Record<string, Tensor> = {};
  const nameOf = new Map<Tensor, string>();
  const tied: Record<string, string> = {};
  for (const [name, t] of Object.entries(model)) {
    if (!(t instanceof Tensor)) throw new TsgradError(op, `model entry "${name}" is not a Tensor`);
    if (name.startsWith("#")) {
      throw new TsgradError(
        op,
        `model name "${name}" starts with "#", which marks non-model state`,
      );
    }
    const first = nameOf.get(t);
    // Tied weights: PyTorch wants every name present, so the data is written twice, and the tie
    // is recorded so that loading gives back one tensor.
    if (first !== undefined) tied[name] = first;
    else nameOf.set(t, name);
    tensors[name] = t;
  }

  const pack = (value: unknown, path: string[]): Json => {
    if (value === null || typeof value === "boolean" || typeof value === "string") return value;
    if (typeof value === "number") {
      return Number.isFinite(value) ? value : { $number: String(value) };
    }
    if (value instanceof Tensor) {
      let name = nameOf.get(value);
      if (name === undefined) {
        name = pointer(path);
        nameOf.set(value, name);
        tensors[name] = value;
      }
      return { $tensor: name };
    }
    if (Array.isArray(value)) {
      return value.map((v: unknown, i) => {
        if (v === undefined) {
          throw new TsgradError(op, `${pointer([...path, String(i)])} is undefined`);
        }
        return pack(v, [...path, String(i)]);
      });
    }
    if (typeof value === "object" && isPlainObject(value)) {
      const entries = Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]): [string, Json] => [k, pack(v, [...path, k])]);
      const obj: { [key: string]: Json } = Object.fromEntries(entries);
      return entries.some(([k]) => k.startsWith("$")) ? { $object: obj } : obj;
    }
    const kind = typeof value === "object" ? (value.constructor?.name ?? "object") : typeof value;
    throw new TsgradError(op, `${pointer(path)} is a ${kind}, which a checkpoint cannot hold`);
  };
  const skeleton = pack(rest, []);

  return encodeSafetensors(tensors, {
    format: "pt",
    "tsgrad.version": VERSION,
    "tsgrad.model": JSON.stringify(Object.keys(model)),
    "tsgrad.tied": JSON.stringify(tied),
    "tsgrad.state": JSON.stringify(skeleton),
  });
}

/**
 * Rebuild a checkpoint from safetensors bytes (the pure part of `loadCheckpoint`). A plain
 * safetensors file without tsgrad metadata (e.g. a PyTorch state dict) loads as `{ model }`.
 *
 * @example
 * const bytes = tg.io.encodeSafetensors({ "fc.weight": tg.zeros([1, 2]) });
 * console.log(Object.keys(tg.io.decodeCheckpoint(bytes).model)); // ["fc.weight"]
 */
export function decodeCheckpoint(bytes: Uint8Array, source = "<bytes>"): CheckpointState {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  const fail = (message: string): never => {
    throw new TsgradError(source, message);
  };
  const parse = (key: string, fallback: string): unknown => {
    try {
      return JSON.parse(metadata[key] ?? fallback);
    } catch (e) {
      return fail(`metadata "${key}" is not valid JSON (${(e as Error).message})`);
    }
  };
  const version = metadata["tsgrad.version"];
  if (version !== undefined && version !== VERSION) {
    fail(`checkpoint format version ${version} is not supported (this tsgrad reads ${VERSION})`);
  }
  const stored = Object.keys(tensors).filter((k) => !k.startsWith("#"));
  const order = parse("tsgrad.model", JSON.stringify(stored));
  if (!Array.isArray(order) || order.some((k) => typeof k !== "string" || !(k in tensors))) {
    fail(`metadata "tsgrad.model" does not list the model tensors in the file`);
  }
  const model = Object.fromEntries((order as string[]).map((k) => [k, tensors[k]!]));
  const tied = parse("tsgrad.tied", "{}");
  if (typeof tied !== "object" || tied === null || Array.isArray(tied)) {
    fail(`metadata "tsgrad.tied" is not an object`);
  }
  for (const [alias, target] of Object.entries(tied as Record<string, unknown>)) {
    if (typeof target !== "string" || !(target in model) || !(alias in model)) {
      fail(`metadata "tsgrad.tied" entry ${alias} → ${String(target)} names no model tensor`);
    }
    model[alias] = model[target as string]!;
  }

  const used = new Set<string>();
  // Stored state is a few levels deep (optimizer groups, scheduler state); an edited or corrupt
  // file may nest arbitrarily, and recursing through that would overflow the stack.
  const MAX_DEPTH = 64;
  const unpack = (v: unknown, depth = 0): unknown => {
    if (depth > MAX_DEPTH) fail(`metadata "tsgrad.state" nests deeper than ${MAX_DEPTH} levels`);
    if (Array.isArray(v)) return v.map((x) => unpack(x, depth + 1));
    if (typeof v !== "object" || v === null) return v;
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1 && typeof obj.$tensor === "string") {
      const t = tensors[obj.$tensor];
      if (t === undefined) {
        fail(`state refers to tensor "${obj.$tensor}", which is not in the file`);
      }
      used.add(obj.$tensor);
      return model[obj.$tensor] ?? t;
    }
    if (keys.length === 1 && typeof obj.$number === "string") return Number(obj.$number);
    const inner = keys.length === 1 && "$object" in obj ? obj.$object : obj;
    if (
      typeof inner !== "object" ||
      inner === null ||
      (inner === obj && keys.some((k) => k.startsWith("$")))
    ) {
      fail(`metadata "tsgrad.state" has a malformed marker object ${JSON.stringify(obj)}`);
    }
    return Object.fromEntries(
      Object.entries(inner as object).map(([k, x]) => [k, unpack(x, depth + 1)]),
    );
  };
  const skeleton = unpack(parse("tsgrad.state", "{}"));
  if (typeof skeleton !== "object" || skeleton === null || Array.isArray(skeleton)) {
    return fail(`metadata "tsgrad.state" is not an object`);
  }
  const orphan = Object.keys(tensors).find((k) => k.startsWith("#") && !used.has(k));
  if (orphan !== undefined) fail(`tensor "${orphan}" is not referenced by the stored state`);
  return { ...(skeleton as Record<string, unknown>), model };
}

/**
 * Save a training checkpoint atomically: the model state dict under its own names, plus any
 * JSON-like state with tensors inside (see the file header for the layout). PyTorch loads the
 * model part with `model.load_state_dict({k: v for k, v in load_file(path).items() if not
 * k.startswith("#")})`.
 *
 * @example
 * const { mkdtempSync } = process.getBuiltinModule("node:fs");
 * const dir = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * const w = tg.randn([2, 2]);
 * tg.io.saveCheckpoint(dir + "/ckpt.safetensors", {
 *   model: { "fc.weight": w },
 *   optimizer: { step: 10, state: [{ expAvg: tg.zeros([2, 2]) }] },
 *   rng: new tg.Generator(1).getState(),
 * });
 * const ck = tg.io.loadCheckpoint(dir + "/ckpt.safetensors");
 * const opt = ck.optimizer as { step: number; state: { expAvg: tg.Tensor }[] };
 * console.log(opt.step, opt.state[0]!.expAvg.shape); // 10 [2, 2]
 */
export function saveCheckpoint(path: string, state: Readonly<CheckpointState>): void {
  writeFileAtomic(path, encodeCheckpoint(state));
}

/**
 * Load a checkpoint written by `saveCheckpoint` (or any safetensors state dict), with tensors
 * back in place: from a path in Node, or from the file's bytes anywhere (in a browser,
 * `loadCheckpoint(await file.arrayBuffer())`). Errors name the file (or `name`, for bytes).
 *
 * @example
 * const { mkdtempSync } = process.getBuiltinModule("node:fs");
 * const dir = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * tg.io.saveCheckpoint(dir + "/c.safetensors", { model: { b: tg.ones([3]) }, epoch: 2 });
 * const { model, epoch } = tg.io.loadCheckpoint(dir + "/c.safetensors");
 * console.log(model.b!.toArray(), epoch); // [1, 1, 1] 2
 * const bytes = tg.io.encodeCheckpoint({ model: { b: tg.zeros([2]) } }); // e.g. a fetched file
 * console.log(tg.io.loadCheckpoint(bytes).model.b!.toArray()); // [0, 0]
 */
export function loadCheckpoint(source: FileSource, name?: string): CheckpointState {
  const file = sourceBytes(source, "loadCheckpoint", name);
  return decodeCheckpoint(file.bytes, file.name);
}
