/** Messages between the page (main.ts) and the training worker (worker.ts). */

/** The models the demo trains (the narrow AlexNet is offered only in a narrow width). */
export type DemoModel = "lenet5" | "alexnet";

/** The backends the page offers: WebAssembly (the default) or the JS reference, to compare. */
export type DemoBackend = "wasm" | "js";

/** What runs the training: `tg.info()` in the worker once its threads are up. */
export interface BackendInfo {
  backend: string;
  /** The wasm build: "relaxedThreads", "simdThreads", "relaxed" or "simd" ("" on js). */
  variant: string;
  /** Threads the kernels run on (1 on js). */
  threads: number;
  /** Why wasm runs on one thread ("" when it has threads, or on js). */
  singleThreadReason: string;
}

/** What the page asks the worker to train. */
export interface TrainSettings {
  backend: DemoBackend;
  model: DemoModel;
  /** AlexNet's channel multiplier (ignored by LeNet-5). */
  width: number;
  /** How long to train: optimizer steps, or epochs over the 5,000 training images. */
  length: { unit: "steps" | "epochs"; value: number };
  batchSize: number;
  optimizer: "adam" | "sgd";
  lr: number;
  /** Evaluate on the held-out test images every this many steps (and at the end). */
  evalEvery: number;
  /** Held-out test images per evaluation (spread evenly over the 1,000). */
  evalImages: number;
  seed: number;
}

export type ToWorker = { type: "start"; settings: TrainSettings } | { type: "stop" };

export type FromWorker =
  | { type: "status"; text: string }
  | { type: "backend"; info: BackendInfo }
  | {
      type: "step";
      step: number;
      steps: number;
      epoch: number;
      loss: number;
      /** Training throughput since this run started. */
      imagesPerSec: number;
    }
  | { type: "eval"; step: number; accuracy: number; loss: number; images: number }
  /** A snapshot of the model as a safetensors checkpoint (the CLI's `model.safetensors` layout). */
  | { type: "model"; step: number; bytes: Uint8Array }
  | { type: "done"; reason: "finished" | "stopped"; step: number; seconds: number }
  /** `ended`: the run stopped because of it (else training goes on). */
  | { type: "error"; message: string; ended: boolean };
