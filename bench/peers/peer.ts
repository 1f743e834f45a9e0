/**
 * The interface each JS peer (tsgrad, tfjs, jax-js) implements for `lib/pair.ts`, which a Node
 * child process (`bench/child.ts`) and a browser Web Worker (`bench/browser/worker.ts`) run.
 */
import type { CheckResult, ChildRequest } from "../lib/protocol.js";

export interface PeerSetup {
  /** Threads the framework computes with (after applying `--threads`). */
  threadsUsed: number;
  info: Record<string, string | number | boolean>;
}

/** C = A·B for fixed n×n float32 operands, set up once and run many times. */
export interface Sgemm {
  /** One product; resolves when C is computed. */
  run(): unknown;
  /** The product's values, row-major (for the correctness check). */
  result(): Promise<Float32Array>;
}

/** One training configuration; `step()` runs forward + backward + update and returns the loss. */
export interface Trainer {
  step(): number | Promise<number>;
}

export interface Peer {
  /** Initialise the framework; throw `PeerAbsent` when it cannot run here. */
  setup(req: ChildRequest): Promise<PeerSetup>;
  sgemm(n: number, a: Float32Array, b: Float32Array): Promise<Sgemm>;
  trainer(req: ChildRequest): Promise<Trainer>;
  /** Extra correctness checks run under `--check` (e.g. patched kernels vs a reference). */
  selfChecks?(req: ChildRequest): Promise<CheckResult[]>;
}
