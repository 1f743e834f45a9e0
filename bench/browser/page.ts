/**
 * The browser bench page's script: the Node side (`driver.ts`, through Playwright) calls
 * `benchPair` to run one framework × workload in a fresh module Web Worker (`worker-*.js`), and
 * `benchPeak` to measure the engine's Wasm SIMD peak on Web Workers. The page is served
 * cross-origin isolated (COOP/COEP), so SharedArrayBuffer — and with it every peer's threads —
 * is available.
 */
import type { ChildRequest, ChildResult } from "../lib/protocol.js";
import { type PeakWorker, type WasmPeakRun, measureWasmPeak } from "../lib/wasm-peak.js";
import type { WorkerMessage } from "./worker.js";

/** What the page offers the driver (on `window`). */
export interface BenchPage {
  benchPair(req: ChildRequest, workerScript: string): Promise<ChildResult>;
  benchPeak(threads: number[], check: boolean): Promise<WasmPeakRun>;
  /** Exposed by the driver: a log line for the terminal. */
  benchLog(msg: string): Promise<void>;
}

const page = window as unknown as BenchPage;

page.benchPair = (req, workerScript) =>
  new Promise((resolve) => {
    const w = new Worker(workerScript, { type: "module" });
    w.onmessage = (e: MessageEvent<WorkerMessage>) => {
      if ("log" in e.data) {
        void page.benchLog(e.data.log);
      } else {
        resolve(e.data.result);
        w.terminate();
      }
    };
    w.onerror = (e) => {
      resolve({ status: "failed", reason: `worker error: ${e.message || "failed to load"}` });
      w.terminate();
    };
    w.postMessage(req);
  });

function spawn(source: string): PeakWorker {
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const w = new Worker(url);
  return {
    post: (m) => w.postMessage(m),
    onMessage: (f) => w.addEventListener("message", (e) => f(e.data)),
    onError: (f) => w.addEventListener("error", (e) => f(e.message)),
    terminate: () => w.terminate(),
  };
}

page.benchPeak = async (threads, check) => {
  try {
    const load = async (v: string) => {
      const r = await fetch(`peak/${v}.wasm`);
      if (!r.ok) throw new Error(`peak/${v}.wasm: HTTP ${r.status} (not built: see the bench log)`);
      return new Uint8Array(await r.arrayBuffer());
    };
    return await measureWasmPeak({
      env: "chromium",
      engine: navigator.userAgent.match(/(Headless)?Chrome\/[\d.]+/)?.[0] ?? navigator.userAgent,
      bytes: { simd: await load("simd"), relaxed: await load("relaxed") },
      threads,
      check,
      spawn,
      log: (m) => void page.benchLog(m),
    });
  } catch (e) {
    return { env: "chromium", unavailable: (e as Error).message };
  }
};
