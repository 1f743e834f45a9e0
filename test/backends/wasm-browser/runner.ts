/**
 * The page side of wasm-browser.test.ts, bundled by it with esbuild (its imports of
 * src/index.js resolved to the browser entry, src/browser.ts): the backend conformance checks
 * (test/helpers/conformance.ts) over the op-spec table and the fused specs, wasm against js,
 * plus one product large enough to be split across the worker threads. `?in=main` runs them on
 * the page's main thread (after `await tg.ready()`: a main thread compiles the module in the
 * background); `?in=worker` starts this same file as a module Web Worker and runs them there.
 * The outcome lands in `window.wasmConformance`.
 */
import * as tg from "../../../src/index.js";
import { closeMismatch } from "../../helpers/close.js";
import { type ConformanceReport, on, runConformance } from "../../helpers/conformance.js";
import { primSpecs } from "../../op-specs.js";
import { fusedSpecs } from "../fused-specs.js";

/** What a run reports back to the test. */
export interface PageOutcome {
  where: "main" | "worker";
  crossOriginIsolated: boolean;
  /** The backend the entry chose by itself (nothing had selected one). */
  defaultBackend: string;
  /** `tg.info()` once the worker threads are running (or after waiting 20 s for them). */
  info: Record<string, string | number | boolean>;
  /** The ops and fused ops the wasm backend has kernels for here. */
  kernels: string[];
  report: ConformanceReport;
  /** The threaded product: same bits on one thread and on all, close to the reference. */
  threaded: { threads: number; mismatches: string[] };
}

export type PageResult = PageOutcome | { error: string };

declare global {
  interface Window {
    wasmConformance?: PageResult;
  }
}

/** What is used of a dedicated worker's scope (the project's lib is DOM, not WebWorker). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<unknown>) => void) | null;
  postMessage(message: PageResult): void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * [3, 150, 200] × [200, 130]: 11.7 M multiply-adds, over the runtime's threshold for splitting a
 * call across threads (PARALLEL_MIN_WORK, 2 M). The spec rows are all far below it.
 */
function threadedProduct(): PageOutcome["threaded"] {
  const wasm = tg.findBackend("wasm")!;
  const threads = wasm.numThreads?.() ?? 1;
  tg.manualSeed(11);
  const a = tg.randn([3, 150, 200]);
  const b = tg.randn([200, 130]);
  const product = () => a.matmul(b).dataSync();
  const all = on("wasm", product);
  wasm.setNumThreads?.(1);
  let one: Float32Array | Float64Array | Int32Array | Uint8Array;
  try {
    one = on("wasm", product);
  } finally {
    wasm.setNumThreads?.(threads);
  }
  const ref = on("js", product);
  const mismatches: string[] = [];
  const split = closeMismatch(all, one, {
    atol: 0,
    rtol: 0,
    label: `matmul on ${threads} threads vs 1`,
  });
  if (split !== null) mismatches.push(split);
  // K = 200 products of O(1) terms accumulated in float32: the suite's loose tolerance.
  const close = closeMismatch(all, ref, {
    atol: 1e-4,
    rtol: 1e-4,
    label: "matmul vs the reference",
  });
  if (close !== null) mismatches.push(close);
  return { threads, mismatches };
}

async function conform(where: PageOutcome["where"]): Promise<PageOutcome> {
  await tg.ready();
  const defaultBackend = tg.getBackend().name;
  const wasm = tg.findBackend("wasm")!;
  // Worker threads start in the background (a nested worker in a worker): give them time.
  const started = performance.now();
  const running = () => Number(on("wasm", () => tg.info().threadsRunning));
  while (running() < (wasm.numThreads?.() ?? 1) && performance.now() - started < 20_000) {
    await sleep(20);
  }
  const info = on("wasm", () => tg.info());
  const kernels = [...Object.keys(wasm.kernels), ...Object.keys(wasm.fused ?? {})].sort();
  const report = runConformance("wasm", primSpecs, fusedSpecs);
  return {
    where,
    crossOriginIsolated: globalThis.crossOriginIsolated,
    defaultBackend,
    info,
    kernels,
    report,
    threaded: threadedProduct(),
  };
}

function failure(e: unknown): PageResult {
  return { error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
}

/** Run this same bundle as a module worker and wait for its outcome. */
function inWorker(): Promise<PageResult> {
  return new Promise((resolve) => {
    const w = new Worker(import.meta.url, { type: "module" });
    w.onmessage = (e: MessageEvent<PageResult>) => {
      resolve(e.data);
      w.terminate();
    };
    w.onerror = (e) => resolve({ error: `the worker failed: ${e.message || "it did not load"}` });
    w.postMessage("run");
  });
}

if (typeof document === "undefined") {
  const scope = self as unknown as WorkerScope;
  scope.onmessage = () => {
    conform("worker").then(
      (outcome) => scope.postMessage(outcome),
      (e: unknown) => scope.postMessage(failure(e)),
    );
  };
} else {
  const where = new URLSearchParams(location.search).get("in") === "worker" ? "worker" : "main";
  (where === "worker" ? inWorker() : conform("main"))
    .catch(failure)
    .then((result) => {
      window.wasmConformance = result;
    })
    .catch(() => {});
}
