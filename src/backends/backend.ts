/**
 * The backend interface and registry.
 *
 * Tensor storage is always a GC-managed typed array in the JS heap, so a backend owns no memory
 * and needs no allocate/free/read/write methods: it is a set of kernels that compute on those
 * arrays (a native addon reads and writes them in place, zero-copy). A backend implements any
 * subset of the primitive kernels — the rest run on the JS reference backend, which implements
 * all of them and is the specification the conformance suite checks every other backend
 * against — plus optional fused kernels for composite ops (`src/ops/fused.ts`).
 */
import type { KernelTable } from "../ops/primitives.js";
import { TsgradError } from "../tensor/errors.js";
import type { FusedKernels } from "../ops/fused.js";
import type { OptimizerKernels } from "../optim/kernels.js";
import { jsBackend } from "./js/index.js";

export interface Backend {
  /** Registry name, e.g. "js" or "native". */
  readonly name: string;
  /** Primitive kernels this backend implements. Missing ones run on the JS reference. */
  readonly kernels: Partial<KernelTable>;
  /** Fused kernels for composite ops, keyed by fused-op name. */
  readonly fused?: Partial<FusedKernels>;
  /**
   * In-place optimizer updates (see `src/optim/kernels.ts`); a kernel may return `false` to hand
   * the call back to the JS loop (e.g. for float64 parameters).
   */
  readonly optimizer?: {
    [K in keyof OptimizerKernels]?: (...args: Parameters<OptimizerKernels[K]>) => void | boolean;
  };
  /** Whether the backend can run in this process. */
  available(): boolean;
  /** When unavailable: why, and exactly how to make it available. */
  unavailableReason?(): string;
  /** Worker threads the backend's kernels use (for backends that have threads). */
  numThreads?(): number;
  setNumThreads?(n: number): void;
  /** Human-readable build and runtime details (library versions, ISA, threads). */
  info?(): Record<string, string | number | boolean>;
  /** Resolves when the backend has finished loading (a module compiling in the background). */
  ready?(): Promise<void>;
}

// The reference backend is always registered, so kernels run even when a module is imported
// without the public entry point (which adds the optional backends).
const registry = new Map<string, Backend>([["js", jsBackend]]);
let current: Backend | null = null;
/** Whether `current` was picked by the platform default rather than by `setBackend`. */
let currentIsDefault = false;
let defaultChooser: (() => Backend) | null = null;

/**
 * Make a backend selectable by name.
 *
 * @example
 * tg.registerBackend({ name: "demo", kernels: {}, available: () => true });
 * tg.setBackend("demo");
 * console.log(tg.add(tg.ones([2]), 1).toArray()); // [2, 2]
 * tg.setBackend("js");
 */
export function registerBackend(backend: Backend): void {
  registry.set(backend.name, backend);
}

/**
 * The registered backends' names, whether or not they are available here.
 *
 * @example
 * console.log(tg.listBackends().some((b) => b.name === "js" && b.available)); // true
 */
export function listBackends(): { name: string; available: boolean; reason?: string }[] {
  return [...registry.values()].map((b) => {
    const available = b.available();
    return available
      ? { name: b.name, available }
      : { name: b.name, available, reason: b.unavailableReason?.() ?? "" };
  });
}

/** Set how the default backend is chosen (the Node entry prefers native when available). */
export function setDefaultBackendChooser(choose: () => Backend): void {
  defaultChooser = choose;
}

/**
 * Select the backend that runs kernels from now on. Selecting a backend that cannot run here is
 * an error (never a silent fallback) whose message says how to install it.
 *
 * @example
 * tg.setBackend("js");
 * console.log(tg.getBackend().name); // "js"
 */
export function setBackend(name: string): void {
  const b = registry.get(name);
  if (!b) {
    throw new TsgradError(
      "setBackend",
      `unknown backend "${name}"; registered: ${[...registry.keys()].join(", ")}`,
    );
  }
  if (!b.available()) {
    throw new TsgradError(
      "setBackend",
      `backend "${name}" is not available: ${b.unavailableReason?.() ?? "unknown reason"}`,
    );
  }
  current = b;
  currentIsDefault = false;
}

/**
 * The active backend (chosen on first use: `TSGRAD_BACKEND` if set, else the platform default).
 *
 * @example
 * console.log(typeof tg.getBackend().name); // "string"
 */
export function getBackend(): Backend {
  if (current === null) {
    const env = typeof process !== "undefined" ? process.env.TSGRAD_BACKEND : undefined;
    if (env) setBackend(env);
    else {
      current = defaultChooser ? defaultChooser() : registry.get("js")!;
      currentIsDefault = true;
    }
  }
  return current!;
}

/**
 * Called by a backend that has just become available (a module that finished compiling in the
 * background): if the active backend was the platform default, the default is chosen again at
 * the next op, so that the first ops of a page that did not `await tg.ready()` run on the
 * reference and the rest on the faster backend. A backend the user selected stays.
 */
export function backendBecameAvailable(): void {
  if (currentIsDefault) current = null;
}

/**
 * Wait until every registered backend has loaded. Only a browser's main thread ever waits (there
 * the WebAssembly module compiles in the background); call it before the first tensor op there:
 * ops that run before the module is ready use the js backend.
 *
 * @example
 * await tg.ready();
 * console.log(tg.getBackend().available()); // true
 */
export async function ready(): Promise<void> {
  for (const b of registry.values()) await b.ready?.();
}

/**
 * What runs tensor ops here: the active backend's name and its details (threads, instruction
 * set, library versions; for wasm the build variant and, when it runs on one thread, why).
 *
 * @example
 * console.log(tg.info().backend === tg.getBackend().name); // true
 */
export function info(): Record<string, string | number | boolean> {
  const b = getBackend();
  return { ...(b.info?.() ?? {}), backend: b.name };
}

/**
 * How float32 matrix products (matmul, and the convolutions) may be computed — PyTorch's
 * `torch.set_float32_matmul_precision`. "highest" and "high": in float32. "medium": a backend
 * with a faster bfloat16 path may round both operands to bfloat16 (8 significant bits) and
 * accumulate in float32; the result, the tensors and every other op stay float32, so parameters
 * and optimizer state keep full precision (mixed precision with float32 master weights). The
 * native backend does this on CPUs with AVX512-BF16 or AMX (`info().bf16`); the JS backend and
 * other CPUs compute in float32 at every setting.
 */
export type MatmulPrecision = "highest" | "high" | "medium";

/** Every `MatmulPrecision` value. */
export const MATMUL_PRECISIONS = ["highest", "high", "medium"] as const;

let matmulPrecision: MatmulPrecision = "highest";

/**
 * Allow (or forbid) bfloat16 compute for float32 matrix products; see `MatmulPrecision`.
 *
 * @example
 * tg.setFloat32MatmulPrecision("medium");
 * console.log(tg.getFloat32MatmulPrecision()); // "medium"
 * tg.setFloat32MatmulPrecision("highest");
 */
export function setFloat32MatmulPrecision(precision: MatmulPrecision): void {
  if (!(MATMUL_PRECISIONS as readonly string[]).includes(precision)) {
    throw new TsgradError(
      "setFloat32MatmulPrecision",
      `unknown precision "${String(precision)}"; one of ${MATMUL_PRECISIONS.join(", ")}`,
    );
  }
  matmulPrecision = precision;
}

/**
 * The current `MatmulPrecision` ("highest" unless set).
 *
 * @example
 * console.log(tg.getFloat32MatmulPrecision()); // "highest"
 */
export function getFloat32MatmulPrecision(): MatmulPrecision {
  return matmulPrecision;
}

/**
 * Run `f` at `precision`, then restore the previous setting — when `f` returns, throws, or (if
 * it returns a promise) settles. A training run or an evaluation that fixes its own precision
 * uses this, so the process-wide setting is the caller's again afterwards.
 *
 * @example
 * const a = tg.randn([64, 64]);
 * const y = tg.withFloat32MatmulPrecision("medium", () => a.matmul(a));
 * console.log(y.shape, tg.getFloat32MatmulPrecision()); // [64, 64] "highest"
 */
export function withFloat32MatmulPrecision<T>(precision: MatmulPrecision, f: () => T): T {
  const before = matmulPrecision;
  setFloat32MatmulPrecision(precision);
  let result: T;
  try {
    result = f();
  } catch (e) {
    matmulPrecision = before;
    throw e;
  }
  if (result instanceof Promise) {
    return result.finally(() => {
      matmulPrecision = before;
    }) as T;
  }
  matmulPrecision = before;
  return result;
}

/**
 * Whether float32 products at `precision` (default: the current setting) really run in
 * bfloat16 on the active backend: "medium" on a backend that reports `info().bf16` (the native
 * backend on an AVX512-BF16 or AMX CPU). Elsewhere "medium" computes in float32.
 *
 * @example
 * console.log(tg.bf16Products("highest")); // false
 */
export function bf16Products(precision: MatmulPrecision = matmulPrecision): boolean {
  return precision === "medium" && getBackend().info?.().bf16 === true;
}

/**
 * Look up a registered backend by name (available or not).
 *
 * @example
 * console.log(tg.findBackend("js")?.available()); // true
 */
export function findBackend(name: string): Backend | undefined {
  return registry.get(name);
}

// ------------------------------------------------------------------ kernel accounting

let tracking = false;
const counts = new Map<string, number>();

/**
 * Count which backend ran each primitive or fused kernel from now on (`TSGRAD_DEBUG=kernels`
 * turns this on at startup). Returns the previous setting.
 *
 * @example
 * const was = tg.trackKernels(true);
 * tg.ones([2]).mul(3);
 * console.log(tg.kernelStats().some((r) => r.op === "mul")); // true
 * tg.trackKernels(was);
 */
export function trackKernels(on = true): boolean {
  const prev = tracking;
  tracking = on;
  return prev;
}

if (typeof process !== "undefined" && process.env.TSGRAD_DEBUG?.split(",").includes("kernels")) {
  tracking = true;
}

/** @internal Called by the dispatcher for every kernel it runs. */
export function noteKernel(backend: string, op: string): void {
  if (!tracking) return;
  const key = `${backend}:${op}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/**
 * Which kernels ran where since tracking started: rows of backend, op and call count, most
 * frequent first. Pass `reset` to clear the counts.
 *
 * @example
 * tg.trackKernels(true);
 * tg.ones([2]).add(1);
 * console.log(tg.kernelStats().some((r) => r.op === "add")); // true
 */
export function kernelStats(reset = false): { backend: string; op: string; calls: number }[] {
  const rows = [...counts.entries()]
    .map(([k, calls]) => {
      const i = k.indexOf(":");
      return { backend: k.slice(0, i), op: k.slice(i + 1), calls };
    })
    .sort((a, b) => b.calls - a.calls);
  if (reset) counts.clear();
  return rows;
}
