/**
 * The main-thread side of DataLoader prefetching: a small pool of `worker_threads` workers that
 * build batches while the main thread trains. Dataset pixels are shared with the workers through
 * a SharedArrayBuffer (copied there once if they were not on one already); each finished batch's
 * buffer is transferred back. Workers are unref'd while idle, so an open loader never keeps a
 * process alive, and ref'd while a batch is outstanding, so awaiting one does.
 *
 * Any failure of a worker (it cannot start, it crashes) ends the pool; the loader then builds
 * the affected and all later batches on the main thread, with identical results.
 */
import type { Worker } from "node:worker_threads";
import type { PixelSource } from "./batch.js";
import { nodeWorkerThreads } from "../io/node.js";
import type { WorkerInit, WorkerReply, WorkerRequest } from "./prefetch-worker.js";
import type { TransformSpec } from "./transforms.js";

// Compiled (dist/), the worker module itself; run from the TypeScript sources (tests, tsx), a
// JavaScript bootstrap that gives the new thread a TypeScript loader first. A variable, not a
// literal: bundlers that rewrite `new URL("literal", import.meta.url)` must not try to bundle a
// Node-only worker into a web build.
const ENTRY = import.meta.url.endsWith(".ts") ? "worker-entry.js" : "prefetch-worker.js";

const shared = new WeakMap<Uint8Array, Uint8Array>();

/** `pixels` itself when it lives on a SharedArrayBuffer, else a shared copy (made once). */
function sharedPixels(pixels: Uint8Array): Uint8Array {
  if (pixels.buffer instanceof SharedArrayBuffer) return pixels;
  let copy = shared.get(pixels);
  if (!copy) {
    copy = new Uint8Array(new SharedArrayBuffer(pixels.length));
    copy.set(pixels);
    shared.set(pixels, copy);
  }
  return copy;
}

interface Pending {
  resolve: (r: { data: Float32Array; shape: [number, number, number] }) => void;
  reject: (e: Error) => void;
  worker: number;
}

/** The prefetch workers of one DataLoader. Internal to tg.data. */
export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly inFlight: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private turn = 0;
  /** Why the pool stopped, once it has. */
  failure: string | null = null;

  private constructor() {}

  /** Start `count` workers, or return null where worker threads or shared memory are missing. */
  static start(
    source: PixelSource,
    transforms: TransformSpec[],
    seed: number,
    count: number,
  ): WorkerPool | null {
    const wt = nodeWorkerThreads();
    if (!wt || typeof SharedArrayBuffer !== "function" || count < 1) return null;
    const init: WorkerInit = {
      // Only what the kernel reads: spreading a whole dataset would clone its labels too.
      source: {
        pixels: sharedPixels(source.pixels),
        channels: source.channels,
        height: source.height,
        width: source.width,
      },
      transforms,
      seed,
    };
    const pool = new WorkerPool();
    try {
      for (let w = 0; w < count; w++) {
        const worker = new wt.Worker(new URL(ENTRY, import.meta.url), { workerData: init });
        worker.unref();
        worker.on("message", (m: WorkerReply) => pool.onReply(w, m));
        worker.on("error", (e: Error) => pool.fail(`worker ${w}: ${e.message}`));
        worker.on("exit", (code) => pool.fail(`worker ${w} exited with code ${code}`));
        pool.workers.push(worker);
        pool.inFlight.push(0);
      }
    } catch (e) {
      pool.fail((e as Error).message);
      return null;
    }
    return pool;
  }

  /** Build a batch on the next worker in turn. Rejects if the pool has failed. */
  run(
    storage: Int32Array,
    epoch: number,
    position: number,
  ): Promise<{ data: Float32Array; shape: [number, number, number] }> {
    if (this.failure !== null) return Promise.reject(new Error(this.failure));
    const w = this.turn;
    this.turn = (this.turn + 1) % this.workers.length;
    const id = this.nextId++;
    const req: WorkerRequest = { id, storage, epoch, position };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: w });
      if (this.inFlight[w]!++ === 0) this.workers[w]!.ref();
      this.workers[w]!.postMessage(req);
    });
  }

  private onReply(w: number, m: WorkerReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (--this.inFlight[w]! === 0) this.workers[w]?.unref();
    if ("error" in m) p.reject(new Error(m.error));
    else p.resolve({ data: m.data, shape: m.shape });
  }

  /** Stop every worker and reject what is outstanding (the loader rebuilds it in-thread). */
  fail(reason: string): void {
    if (this.failure !== null) return;
    this.failure = reason;
    for (const worker of this.workers) void worker.terminate();
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
  }

  /** Terminate the workers. */
  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    this.fail("closed");
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
