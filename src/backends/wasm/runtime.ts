/**
 * The WebAssembly kernel module at run time: which build to load (relaxed SIMD where the engine
 * validates it; shared memory where threads can run), its memory, the per-call arena operands
 * are copied into, and the worker threads that share that memory.
 *
 * Memory: tensors stay GC-managed typed arrays in the JS heap. A kernel call copies its operands
 * into the module's memory, runs, and copies the result out; the arena is reset after every
 * call, so the module's memory only ever holds one call's operands and grows to the largest
 * call seen (it never shrinks: WebAssembly memories cannot). For the products and convolutions
 * that run here the copies are a few percent of the arithmetic.
 *
 * Layout from `__heap_base`: a 4 KiB control block for the threads, one 256 KiB stack per
 * worker (the main thread uses the module's own stack), then the arena.
 */
import { TsgradError } from "../../tensor/errors.js";
import { backendBecameAvailable } from "../backend.js";
import { nodeModule, nodeProcess } from "../../io/node.js";
import { WASM_VARIANTS } from "./binary.js";

/** The kernel functions the module exports (pointers and sizes are plain numbers). */
export type WasmExports = Record<string, (...args: number[]) => number | undefined>;

const PAGE = 65536;
const CONTROL_BYTES = 4096;
const STACK_BYTES = 256 * 1024;
/** Threads ever started (the pool is sized once; fewer may take part in a call). */
const MAX_THREADS = 16;

// Control block words (Int32): generation, done count, task index, threads taking part, argc.
const GEN = 0;
const DONE = 1;
const TASK = 2;
const COUNT = 3;
const ARGC = 4;
/** Set to the tid of a worker whose kernel threw (a trap), 0 otherwise; then FAULT_LEN, the message's bytes. */
const FAULT = 5;
const FAULT_LEN = 6;
/** Word READY + tid is 1 while worker tid waits for tasks; 2 once it has exited. */
const READY = 8;
/** Where a faulting worker leaves its message (UTF-8), and its room. */
const FAULT_TEXT = 1024;
const FAULT_ROOM = 2048;
const ARGS_OFFSET = 64; // bytes: the arguments, as float64
const MAX_ARGS = 32;
/** Below this much work (about 100 µs of it) a call stays on the calling thread. */
export const PARALLEL_MIN_WORK = 1 << 21;

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(base64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Whether this thread may block in `Atomics.wait` (not a browser's main thread). */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether shared WebAssembly memory can be made here (Node; cross-origin-isolated pages). */
function sharedMemoryWorks(): boolean {
  if (typeof SharedArrayBuffer !== "function") return false;
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}

/** Cores this process may use (Node's availableParallelism, a browser's hardwareConcurrency). */
function cores(): number {
  if (nodeProcess()) return nodeModule("wasm backend", "node:os").availableParallelism();
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
    ?.hardwareConcurrency;
  return typeof n === "number" && n > 0 ? n : 1;
}

/** TSGRAD_NUM_THREADS where it is set (Node), else every core, at most MAX_THREADS. */
function defaultThreads(): number {
  const raw = nodeProcess()?.env.TSGRAD_NUM_THREADS;
  if (raw !== undefined && raw !== "") {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) {
      throw new TsgradError(
        "wasm backend",
        `TSGRAD_NUM_THREADS must be a positive integer, got "${raw}"`,
      );
    }
    return Math.min(n, MAX_THREADS);
  }
  return Math.min(cores(), MAX_THREADS);
}

/**
 * The worker's program: instantiate the module on the shared memory with a stack of its own,
 * then run each task the main thread posts in the control block, forever (the worker is
 * unreferenced in Node and ends with its page in a browser). The same source serves Node's
 * worker_threads (evaluated as a script) and browsers' Web Workers (a Blob URL).
 */
const WORKER_SOURCE = `
"use strict";
function start(init) {
  const { module, memory, stackTop, control, names, tid } = init;
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  instance.exports.__stack_pointer.value = stackTop;
  const c = new Int32Array(memory.buffer, control, ${CONTROL_BYTES / 4});
  const args = new Float64Array(memory.buffer, control + ${ARGS_OFFSET}, ${MAX_ARGS});
  // Should this thread end for any reason, the caller must not wait for it: mark it gone and
  // count it done.
  const gone = () => {
    Atomics.store(c, ${READY} + tid, 2);
    Atomics.add(c, ${DONE}, 1);
    Atomics.notify(c, ${DONE});
  };
  if (typeof process === "object") process.on("exit", gone);
  const fns = names.map((name) => instance.exports[name]);
  const byArity = [];
  let gen = Atomics.load(c, ${GEN});
  Atomics.store(c, ${READY} + tid, 1);
  for (;;) {
    Atomics.wait(c, ${GEN}, gen);
    gen = Atomics.load(c, ${GEN});
    const task = c[${TASK}];
    if (task < 0) return;
    const n = c[${COUNT}];
    if (tid >= n) continue;
    try {
      // No allocation per call: this thread never returns to its event loop, so it should make
      // no garbage for a collector that may not get the tasks it posts to run. One argument
      // array per arity, reused.
      const argc = c[${ARGC}];
      const a = (byArity[argc] ??= new Array(argc + 2));
      for (let i = 0; i < argc; i++) a[i] = args[i];
      a[argc] = tid;
      a[argc + 1] = n;
      fns[task].apply(null, a);
    } catch (e) {
      // A trap (out-of-bounds access, say): report it through the control block, where the
      // caller, blocked in Atomics.wait, reads it, and go on serving.
      if (Atomics.compareExchange(c, ${FAULT}, 0, tid) === 0) {
        const text = new TextEncoder().encode(names[task] + ": " + String(e && e.message || e));
        const room = new Uint8Array(memory.buffer, control + ${FAULT_TEXT}, ${FAULT_ROOM});
        const len = Math.min(text.length, ${FAULT_ROOM});
        room.set(text.subarray(0, len));
        Atomics.store(c, ${FAULT_LEN}, len);
      }
    }
    if (Atomics.add(c, ${DONE}, 1) + 1 === n - 1) Atomics.notify(c, ${DONE});
  }
}
if (typeof process === "object" && typeof process.getBuiltinModule === "function") {
  const { parentPort } = process.getBuiltinModule("worker_threads");
  parentPort.once("message", (init) => {
    try {
      start(init);
    } catch (e) {
      // Instantiation failed: never ready, so no call counts on this thread.
      process.exitCode = 1;
      throw e;
    }
  });
} else {
  self.onmessage = (e) => start(e.data);
}
`;

interface PoolWorker {
  post(message: unknown): void;
  onError(f: (message: string) => void): void;
}

/** Start one worker thread running WORKER_SOURCE, in Node or in a browser. */
function spawnWorker(): PoolWorker {
  if (nodeProcess()) {
    const { Worker } = nodeModule("wasm backend", "node:worker_threads");
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.unref();
    return {
      post: (m) => w.postMessage(m),
      onError: (f) => w.once("error", (e) => f(e.message)),
    };
  }
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
  const w = new Worker(url);
  return {
    post: (m) => w.postMessage(m),
    onError: (f) => w.addEventListener("error", (e) => f(e.message), { once: true }),
  };
}

/**
 * The module's memory as the kernels' callers see it. Structural rather than
 * `WebAssembly.Memory` so that the published .d.ts files compile in a consumer project whose
 * `lib` has no WebAssembly declarations (ES only, no DOM).
 */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}

/** A compiled kernel module (a `WebAssembly.Module`, typed opaquely for the same reason). */
export type WasmModule = object;

/** The loaded kernel module: exports, memory, arena and threads. */
export class WasmRuntime {
  readonly exports: WasmExports;
  readonly memory: WasmMemory;
  /** "simd" or "relaxed" (fused multiply-add), plus "Threads" for the shared-memory builds. */
  readonly variant: keyof typeof WASM_VARIANTS;
  /** Why the runtime has no worker threads ("" when it has them). */
  readonly singleThreadReason: string;
  private readonly control: number;
  private readonly arenaBase: number;
  private top: number;
  private view: { buffer: ArrayBufferLike; f32: Float32Array; i32: Int32Array; u8: Uint8Array };
  private readonly taskIndex: Map<string, number>;
  private threads: number;
  /** Why a worker thread stopped, if one did ("" otherwise). */
  workerError = "";
  private readonly spinWait: boolean;

  /**
   * @param tasks the exports `parallel` may run (fixed here: the workers are told them once)
   * @param why why there are no threads, for a single-threaded variant
   */
  constructor(
    module: WasmModule,
    variant: keyof typeof WASM_VARIANTS,
    tasks: readonly string[],
    threads: number,
    why: string,
  ) {
    this.taskIndex = new Map(tasks.map((t, i) => [t, i]));
    this.variant = variant;
    const shared = variant.endsWith("Threads");
    this.singleThreadReason = why;
    const memory = new WebAssembly.Memory({
      initial: 256,
      maximum: 65536,
      ...(shared ? { shared: true } : {}),
    });
    this.memory = memory;
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    this.exports = instance.exports as unknown as WasmExports;
    const heapBase = (instance.exports.__heap_base as WebAssembly.Global).value as number;
    this.control = (heapBase + 63) & ~63;
    const workers = shared ? MAX_THREADS - 1 : 0;
    this.arenaBase = this.control + CONTROL_BYTES + workers * STACK_BYTES;
    this.top = this.arenaBase;
    this.view = this.views();
    this.threads = shared ? threads : 1;
    this.spinWait = shared && !canBlock();
    if (shared && threads > 1) this.startWorkers(module, tasks, Math.min(threads, MAX_THREADS) - 1);
  }

  private views(): WasmRuntime["view"] {
    const buffer = this.memory.buffer;
    return {
      buffer,
      f32: new Float32Array(buffer),
      i32: new Int32Array(buffer),
      u8: new Uint8Array(buffer),
    };
  }

  /** Float32 view of the whole memory (renewed after growth). */
  f32(): Float32Array {
    if (this.view.buffer !== this.memory.buffer) this.view = this.views();
    return this.view.f32;
  }

  /** Int32 view of the whole memory (renewed after growth). */
  i32(): Int32Array {
    if (this.view.buffer !== this.memory.buffer) this.view = this.views();
    return this.view.i32;
  }

  /** Byte view of the whole memory (renewed after growth). */
  u8(): Uint8Array {
    if (this.view.buffer !== this.memory.buffer) this.view = this.views();
    return this.view.u8;
  }

  /** Forget every arena allocation (after each kernel call). */
  reset(): void {
    this.top = this.arenaBase;
  }

  /** `bytes` of arena, 64-byte aligned; grows the memory when needed. Returns a byte address. */
  alloc(bytes: number): number {
    const at = this.top;
    const end = at + ((bytes + 63) & ~63);
    if (end > 4 * 1024 * 1024 * 1024 - PAGE) {
      throw new TsgradError(
        "wasm backend",
        `a kernel needs ${end} bytes of memory, over WebAssembly's 4 GiB`,
      );
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
    this.top = end;
    return at;
  }

  /**
   * Threads a call may use now: the configured count, as far as workers have started (a call
   * uses worker tids 1…k only when every one of them waits for tasks; the flags are in shared
   * memory, so this needs no turn of the event loop).
   */
  activeThreads(): number {
    if (this.threads === 1) return 1;
    const c = this.i32();
    const base = (this.control >> 2) + READY;
    let n = 1;
    while (n < this.threads && Atomics.load(c, base + n) === 1) n++;
    return n;
  }

  /** The configured thread count (1 where the runtime is single-threaded). */
  numThreads(): number {
    return this.threads;
  }

  setNumThreads(n: number): void {
    if (!Number.isInteger(n) || n < 1) {
      throw new TsgradError("setNumThreads", `expected a positive integer, got ${n}`);
    }
    if (n > 1 && !this.variant.endsWith("Threads")) {
      throw new TsgradError(
        "setNumThreads",
        `the wasm backend runs on one thread here: ${this.singleThreadReason}`,
      );
    }
    this.threads = Math.min(n, MAX_THREADS);
  }

  /**
   * Run export `name` on every active thread: `exports[name](...args, tid, nthreads)`, the
   * calling thread as tid 0; returns when all have finished. Kernels split their work by `tid`.
   * A call of less than `PARALLEL_MIN_WORK` units of `work` (multiply-adds, say) runs on this
   * thread alone: waking a worker costs tens of microseconds.
   */
  parallel(name: string, args: readonly number[], work = Infinity): void {
    const fn = this.exports[name];
    if (fn === undefined) throw new TsgradError("wasm backend", `the module has no kernel ${name}`);
    const n = work < PARALLEL_MIN_WORK ? 1 : this.activeThreads();
    if (n === 1) {
      fn(...args, 0, 1);
      return;
    }
    const task = this.taskIndex.get(name);
    if (task === undefined) {
      throw new TsgradError("wasm backend", `${name} is not a registered task`);
    }
    const c = this.i32();
    const base = this.control >> 2;
    const a = new Float64Array(this.memory.buffer, this.control + ARGS_OFFSET, MAX_ARGS);
    for (let i = 0; i < args.length; i++) a[i] = args[i]!;
    c[base + TASK] = task;
    c[base + COUNT] = n;
    c[base + ARGC] = args.length;
    Atomics.store(c, base + DONE, 0);
    Atomics.add(c, base + GEN, 1);
    Atomics.notify(c, base + GEN);
    // This thread's share may trap too; the workers must still finish theirs before the next
    // call reuses the control block.
    let failure: { error: unknown } | null = null;
    try {
      fn(...args, 0, n);
    } catch (error) {
      failure = { error };
    }
    for (
      let done = Atomics.load(c, base + DONE);
      done < n - 1;
      done = Atomics.load(c, base + DONE)
    ) {
      if (!this.spinWait) Atomics.wait(c, base + DONE, done);
    }
    if (failure !== null) {
      Atomics.store(c, base + FAULT, 0);
      throw failure.error;
    }
    this.checkWorkers(name, n);
  }

  /**
   * After a parallel call: a worker whose kernel trapped, or that exited during the call, made
   * its share wrong. Say so (a worker that exited takes no further calls: `activeThreads` stops
   * below it).
   */
  private checkWorkers(name: string, n: number): void {
    const c = this.i32();
    const base = this.control >> 2;
    const tid = Atomics.load(c, base + FAULT);
    if (tid !== 0) {
      const len = Atomics.load(c, base + FAULT_LEN);
      const text = new TextDecoder().decode(
        new Uint8Array(this.memory.buffer, this.control + FAULT_TEXT, len).slice(),
      );
      Atomics.store(c, base + FAULT_LEN, 0);
      Atomics.store(c, base + FAULT, 0);
      throw new TsgradError(
        "wasm backend",
        `kernel ${name} failed on worker thread ${tid}: ${text}`,
      );
    }
    for (let t = 1; t < n; t++) {
      if (Atomics.load(c, base + READY + t) === 2) {
        throw new TsgradError(
          "wasm backend",
          `worker thread ${t} exited during kernel ${name}; later calls run without it`,
        );
      }
    }
  }

  private startWorkers(module: WasmModule, tasks: readonly string[], count: number): void {
    for (let i = 0; i < count; i++) {
      let w: PoolWorker;
      try {
        w = spawnWorker();
      } catch {
        return; // no workers here: the calls run on this thread alone
      }
      // A worker that fails to start never sets its ready flag: calls then stop below its tid. One
      // that fails later (its heap exhausted, say) is marked gone, so that later calls run
      // without it, and the reason is kept for tg.info().
      const tid = i + 1;
      w.onError((message) => {
        this.workerError ||= `worker thread ${tid}: ${message}`;
        Atomics.store(this.i32(), (this.control >> 2) + READY + tid, 2);
      });
      w.post({
        module,
        memory: this.memory,
        stackTop: this.control + CONTROL_BYTES + (i + 1) * STACK_BYTES,
        control: this.control,
        names: [...tasks],
        tid: i + 1,
      });
    }
  }
}

let state: { runtime: WasmRuntime } | { error: string } | { pending: Promise<void> } | null = null;

/** The build to load here: relaxed SIMD where the engine validates it, shared where threads work. */
function chooseVariant(): {
  variant: keyof typeof WASM_VARIANTS;
  bytes: Uint8Array<ArrayBuffer>;
  why: string;
} {
  let why = "";
  if (!sharedMemoryWorks()) {
    why =
      typeof SharedArrayBuffer !== "function"
        ? "SharedArrayBuffer is unavailable (a page must be cross-origin isolated: COOP/COEP headers)"
        : "shared WebAssembly memory is unavailable";
  }
  const threads = why === "";
  const relaxed = decode(WASM_VARIANTS[threads ? "relaxedThreads" : "relaxed"]);
  if (WebAssembly.validate(relaxed)) {
    return { variant: threads ? "relaxedThreads" : "relaxed", bytes: relaxed, why };
  }
  const variant = threads ? "simdThreads" : "simd";
  return { variant, bytes: decode(WASM_VARIANTS[variant]), why };
}

function whyUnavailable(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return `the WebAssembly kernels cannot run here (${m}); this engine needs WebAssembly SIMD (Chrome 91+, Firefox 89+, Safari 16.4+, Node 16.4+)`;
}

/**
 * The runtime, loading it on first call; null while it compiles asynchronously (a browser's main
 * thread may not compile large modules synchronously: `await tg.ready()` waits) or where it
 * cannot run (see `wasmError`).
 */
export function wasmRuntime(tasks: readonly string[]): WasmRuntime | null {
  if (state === null) {
    if (typeof WebAssembly !== "object") {
      state = { error: "this JavaScript engine has no WebAssembly" };
      return null;
    }
    const { variant, bytes, why } = chooseVariant();
    const make = (module: WebAssembly.Module) => {
      try {
        const threads = why === "" ? defaultThreads() : 1;
        state = { runtime: new WasmRuntime(module, variant, tasks, threads, why) };
      } catch (e) {
        state = { error: e instanceof TsgradError ? e.message : whyUnavailable(e) };
      }
    };
    let module: WebAssembly.Module;
    try {
      module = new WebAssembly.Module(bytes);
    } catch (e) {
      if (!(e instanceof RangeError)) {
        state = { error: whyUnavailable(e) };
        return null;
      }
      // Too large to compile synchronously on this thread: compile in the background.
      state = {
        pending: WebAssembly.compile(bytes).then(
          (m) => {
            make(m);
            backendBecameAvailable();
          },
          (err: unknown) => {
            state = { error: whyUnavailable(err) };
          },
        ),
      };
      return null;
    }
    make(module);
  }
  return state !== null && "runtime" in state ? state.runtime : null;
}

/** Why the runtime is unavailable ("" when it loaded or is still compiling). */
export function wasmError(): string {
  return state !== null && "error" in state ? state.error : "";
}

/** Resolves when an asynchronous compile (if one started) has finished, either way. */
export async function wasmSettled(tasks: readonly string[]): Promise<void> {
  wasmRuntime(tasks);
  if (state !== null && "pending" in state) await state.pending;
}
