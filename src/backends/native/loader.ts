/**
 * Loading the native addon (`native/build/Release/tsgrad_native.node`, built from source at
 * install by `native/build.js`). Nothing here touches Node's modules until `loadAddon()` is
 * called, and then only through `process.getBuiltinModule`, so bundling this file for a browser
 * is harmless: there the backend reports itself unavailable. (The `node:` imports below are
 * type-only and vanish at compile time.)
 */
import type * as NodeFs from "node:fs";
import type * as NodeModule from "node:module";
import type * as NodeOs from "node:os";
import type * as NodeUrl from "node:url";

/** The addon's functions. Views travel as typed arrays plus a Float64Array of shapes/strides. */
export interface NativeAddon {
  setNumThreads(n: number): void;
  numThreads(): number;
  /** glibc's mallopt thresholds (bytes); false where not applied (not glibc). */
  tuneMalloc(mmapThreshold: number, trimThreshold: number): boolean;
  clearCaches(): void;
  info(): Record<string, string | number | boolean>;
  unary(op: number, out: ArrayBufferView, x: ArrayBufferView, meta: Float64Array): boolean;
  unaryLoop(op: number, out: ArrayBufferView, x: ArrayBufferView, meta: Float64Array): boolean;
  binary(
    op: number,
    out: ArrayBufferView,
    a: ArrayBufferView,
    b: ArrayBufferView,
    meta: Float64Array,
  ): boolean;
  cmp(
    op: number,
    out: ArrayBufferView,
    a: ArrayBufferView,
    b: ArrayBufferView,
    meta: Float64Array,
  ): boolean;
  where(
    out: ArrayBufferView,
    c: ArrayBufferView,
    a: ArrayBufferView,
    b: ArrayBufferView,
    meta: Float64Array,
  ): boolean;
  cast(out: ArrayBufferView, x: ArrayBufferView, meta: Float64Array): boolean;
  reduce(op: number, out: ArrayBufferView, x: ArrayBufferView, meta: Float64Array): boolean;
  argmax(out: ArrayBufferView, x: ArrayBufferView, meta: Float64Array): boolean;
  pad(out: ArrayBufferView, x: ArrayBufferView, meta: Float64Array): boolean;
  concat(out: ArrayBufferView, xs: ArrayBufferView[], meta: Float64Array): boolean;
  /** `bf16`: compute from bfloat16-rounded operands (honoured where `info().bf16`). */
  matmul(
    out: ArrayBufferView,
    a: ArrayBufferView,
    b: ArrayBufferView,
    meta: Float64Array,
    bf16?: boolean,
  ): boolean;
  conv(
    kind: number,
    out: ArrayBufferView,
    p: ArrayBufferView,
    q: ArrayBufferView,
    meta: Float64Array,
    /** Dense [O]: the bias added by the forward (kind 0), or the bias gradient (kind 2). */
    bias?: Float32Array,
    /** Compute from bfloat16-rounded inputs (honoured where `info().bf16`). */
    bf16?: boolean,
  ): boolean;
  maxPoolIndices(out: ArrayBufferView, x: ArrayBufferView, meta: Float64Array): boolean;
  /** true when done, false to decline, or the first out-of-range index value. */
  gather(
    out: ArrayBufferView,
    x: ArrayBufferView,
    idx: ArrayBufferView,
    meta: Float64Array,
  ): boolean | number;
  scatterAdd(
    out: ArrayBufferView,
    src: ArrayBufferView,
    idx: ArrayBufferView,
    meta: Float64Array,
  ): boolean | number;
  /** xoshiro128** float32 fill (see `BulkUniformKernel` in src/tensor/random.ts). */
  uniformFill(out: Float32Array, meta: Float64Array): boolean;
  [fused: string]: unknown;
}

const ADDON = "../../../native/build/Release/tsgrad_native.node";
const INSTALL_HINT =
  "install oneDNN and a C++ toolchain (Debian/Ubuntu: apt-get install libdnnl-dev build-essential python3), " +
  "then rebuild the addon: `npm rebuild tsgrad` in a project that depends on tsgrad, or `npm run build:native` in a checkout";

let state: { addon: NativeAddon } | { error: string } | null = null;

interface NodeProcess {
  versions?: { node?: string };
  env: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}

function nodeProcess(): NodeProcess | null {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p?.versions?.node !== undefined && typeof p.getBuiltinModule === "function" ? p : null;
}

/** The thread count from TSGRAD_NUM_THREADS (default: every core this process may use). */
function threadSetting(proc: NodeProcess): number {
  const os = proc.getBuiltinModule!("node:os") as typeof NodeOs;
  const raw = proc.env.TSGRAD_NUM_THREADS;
  if (raw === undefined || raw === "") return os.availableParallelism();
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`TSGRAD_NUM_THREADS must be a positive integer, got "${raw}"`);
  }
  return n;
}

/**
 * glibc heap settings applied when the addon loads (`TSGRAD_MALLOC_TUNING=0` leaves glibc's
 * defaults). Tensor storage up to 32 MiB (glibc's largest allowed mmap threshold) comes from the
 * heap, and up to 256 MiB of freed heap stays mapped for the next step's tensors rather than
 * being returned to the kernel. Measured on the benchmark's LSTM LM (2 threads, 11 steps, two
 * runs each way): page faults 279–288k → 182k, system time 1.03–1.25 → 0.71–0.80 s, peak RSS
 * 509–532 → 529–536 MB; CNN 123k → 87k faults, AlexNet 288k → 167k. The change in step time was
 * within the development machine's run-to-run noise.
 */
const MALLOC_MMAP_THRESHOLD = 32 << 20;
const MALLOC_TRIM_THRESHOLD = 256 << 20;

function tryLoad(): { addon: NativeAddon } | { error: string } {
  const proc = nodeProcess();
  if (proc === null) {
    return {
      error:
        "the native backend needs Node.js (>= 20.16); in a browser or another runtime use the js backend",
    };
  }
  const { createRequire } = proc.getBuiltinModule!("node:module") as typeof NodeModule;
  const { existsSync, readFileSync } = proc.getBuiltinModule!("node:fs") as typeof NodeFs;
  const { fileURLToPath } = proc.getBuiltinModule!("node:url") as typeof NodeUrl;
  const path = fileURLToPath(new URL(ADDON, import.meta.url));
  if (!existsSync(path)) {
    const log = fileURLToPath(new URL("../../../native/build/build-error.log", import.meta.url));
    const why = existsSync(log)
      ? readFileSync(log, "utf8").split("\n")[0]!
      : "it was never built (installed with --ignore-scripts, or TSGRAD_SKIP_NATIVE=1)";
    return { error: `the native addon is not built: ${why}. To enable it, ${INSTALL_HINT}` };
  }
  // OpenMP reads its wait policy once, when libgomp loads with the addon. Passive: a worker thread
  // sleeps as soon as a kernel ends, rather than spinning on a core that another process, a data
  // worker or Node's own threads (GC, I/O) could use. Spinning pays only for one process alone on
  // the machine: measured on a 2-core AMD EPYC, GOMP_SPINCOUNT=3000 took sgemm 256 from 148 to
  // 192 GFLOP/s (wake-up latency is most of a 0.2 ms product) but the test suite's two parallel
  // workers from 69 to 93 s, and libgomp's default spin to 204 s. So the user may opt in with
  // either variable; the default is passive.
  if (proc.env.OMP_WAIT_POLICY === undefined && proc.env.GOMP_SPINCOUNT === undefined) {
    proc.env.OMP_WAIT_POLICY = "PASSIVE";
  }
  let threads: number;
  try {
    threads = threadSetting(proc);
  } catch (e) {
    return { error: (e as Error).message };
  }
  try {
    const addon = createRequire(import.meta.url)(path) as NativeAddon;
    addon.setNumThreads(threads);
    if (proc.env.TSGRAD_MALLOC_TUNING !== "0") {
      addon.tuneMalloc(MALLOC_MMAP_THRESHOLD, MALLOC_TRIM_THRESHOLD);
    }
    return { addon };
  } catch (e) {
    return {
      error: `loading ${path} failed (${(e as Error).message.split("\n")[0]}); ${INSTALL_HINT}`,
    };
  }
}

/**
 * The loaded addon, or null (see `addonError()`). Loads on first call; `nativeBackend.available()`
 * is this check.
 *
 * @example
 * const native = tg.findBackend("native");
 * console.log(typeof (native?.available() ?? false)); // "boolean"
 */
export function loadAddon(): NativeAddon | null {
  state ??= tryLoad();
  return "addon" in state ? state.addon : null;
}

/**
 * Why the addon could not be loaded, and what to do about it ("" when it loaded); this is
 * `nativeBackend.unavailableReason()`.
 *
 * @example
 * const native = tg.findBackend("native");
 * if (native && !native.available()) console.log(native.unavailableReason!().length > 0); // true
 */
export function addonError(): string {
  state ??= tryLoad();
  return "error" in state ? state.error : "";
}
