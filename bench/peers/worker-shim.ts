/**
 * A minimal Web Worker on top of `node:worker_threads`, enough for jax-js's Wasm worker pool to
 * run in Node 20 (which has no global `Worker` and no `navigator`). jax-js creates its workers
 * from a Blob URL of self-contained script source, talks to them with `postMessage`/`onmessage`,
 * and shares one `SharedArrayBuffer`-backed `WebAssembly.Memory` with them; `worker_threads`
 * supports all three, so the shim only adapts the API: it resolves the Blob (asynchronously, so
 * messages sent before the worker exists are queued), prepends `self`/`postMessage`/`onmessage`
 * glue to the source, and sizes the pool through `navigator.hardwareConcurrency`.
 */
import { resolveObjectURL } from "node:buffer";
import { Worker as NodeWorker } from "node:worker_threads";

/** Glue that gives the worker script the Web Worker globals it uses. */
const PRELUDE = `const { parentPort } = require("node:worker_threads");
globalThis.self = globalThis;
globalThis.postMessage = (data) => parentPort.postMessage(data);
parentPort.on("message", (data) => {
  if (typeof self.onmessage === "function") self.onmessage({ data });
});
`;

class ShimWorker {
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onerror: ((e: { message: string }) => void) | null = null;
  #worker: NodeWorker | null = null;
  #queue: unknown[] = [];

  constructor(url: string | URL) {
    const blob = resolveObjectURL(String(url));
    if (!blob) throw new Error(`worker shim: ${String(url)} is not a live Blob URL`);
    blob.text().then(
      (source) => {
        const w = new NodeWorker(PRELUDE + source, { eval: true });
        w.on("message", (data: unknown) => this.onmessage?.({ data }));
        w.on("error", (e: Error) => this.onerror?.({ message: e.message }));
        this.#worker = w;
        for (const m of this.#queue) w.postMessage(m);
        this.#queue = [];
      },
      (e: Error) => this.onerror?.({ message: e.message }),
    );
  }

  postMessage(message: unknown): void {
    if (this.#worker) this.#worker.postMessage(message);
    else this.#queue.push(message);
  }

  terminate(): void {
    void this.#worker?.terminate();
  }
}

/** Install the global `Worker` and `navigator.hardwareConcurrency = threads` (before jax-js loads). */
export function installWorkerShim(threads: number): void {
  const g = globalThis as { Worker?: unknown; navigator?: object };
  g.Worker = ShimWorker;
  if (g.navigator === undefined) g.navigator = {};
  Object.defineProperty(g.navigator, "hardwareConcurrency", { value: threads, configurable: true });
}
