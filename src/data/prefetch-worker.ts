/**
 * The DataLoader's prefetch worker (runs inside a `worker_threads` Worker, started through
 * `worker-entry.js`). It receives the dataset pixels once, on a SharedArrayBuffer, through
 * `workerData`, then answers batch requests with float32 pixels built by the same kernel as the
 * main thread (`buildBatchPixels`), transferring the result buffer back instead of copying it.
 * Internal to tg.data.
 */
import { parentPort, workerData } from "node:worker_threads";
import { type PixelSource, buildBatchPixels } from "./batch.js";
import type { TransformSpec } from "./transforms.js";

/** What the loader passes as `workerData`. */
export interface WorkerInit {
  source: PixelSource;
  transforms: TransformSpec[];
  seed: number;
}

/** One batch to build: storage indices and where the batch starts in the epoch's order. */
export interface WorkerRequest {
  id: number;
  storage: Int32Array;
  epoch: number;
  position: number;
}

/** The worker's answer: the pixels, or the error message when building failed. */
export type WorkerReply =
  | { id: number; data: Float32Array; shape: [number, number, number] }
  | { id: number; error: string };

const init = workerData as WorkerInit;
const port = parentPort!;
port.on("message", (req: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    const { data, shape } = buildBatchPixels(
      init.source,
      req.storage,
      init.transforms,
      init.seed,
      req.epoch,
      req.position,
    );
    reply = { id: req.id, data, shape };
    // buildBatchPixels allocates a fresh (non-shared) buffer, so it can be transferred.
    port.postMessage(reply, [data.buffer as ArrayBuffer]);
    return;
  } catch (e) {
    reply = { id: req.id, error: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage(reply);
});
