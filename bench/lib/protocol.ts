/**
 * What the orchestrator (`bench/run.ts`) and a measuring child process say to each other.
 *
 * Every framework × workload pair runs in a child process of its own, so that its peak RSS is its
 * own and one peer's threads, heaps or crashes cannot disturb another's figures. The request
 * travels as one JSON command-line argument; the child prints exactly one line starting with
 * `RESULT_MARKER` on stdout (its logs go to stderr). The Python child (`peers/torch_peer.py`)
 * speaks the same protocol.
 */
import type { LayerSpec } from "./specs.js";

/** Frameworks (and configurations of them) the benchmark runs in Node (or Python) processes. */
export const PEERS = [
  "tsgrad-native",
  "tsgrad-wasm",
  "tsgrad-wasm-1t",
  "tsgrad-js",
  "pytorch",
  "tfjs-wasm",
  "tfjs-cpu",
  "jax-js",
  "jax-js-workers",
] as const;
export type NodePeerName = (typeof PEERS)[number];

/**
 * The peers measured in headless Chromium (`--browser`), each in a Web Worker of a
 * cross-origin-isolated page: the same frameworks, named `chromium/<peer>`.
 */
export const BROWSER_PEERS = [
  "chromium/tsgrad-wasm",
  "chromium/tsgrad-wasm-1t",
  "chromium/tfjs-wasm",
  "chromium/jax-js",
  "chromium/jax-js-workers",
] as const;
export type BrowserPeerName = (typeof BROWSER_PEERS)[number];

export type PeerName = NodePeerName | BrowserPeerName;

/** Where a peer runs: a Node/Python child process, or a page in headless Chromium. */
export type Environment = "node" | "chromium";

export function environmentOf(peer: PeerName): Environment {
  return peer.startsWith("chromium/") ? "chromium" : "node";
}

/** The framework configuration a peer name stands for, without its environment. */
export function basePeer(peer: PeerName): NodePeerName {
  return (peer.startsWith("chromium/") ? peer.slice("chromium/".length) : peer) as NodePeerName;
}

/** The peers whose products run in WebAssembly: their sgemm is read against the Wasm SIMD peak. */
export function isWasmPeer(peer: PeerName): boolean {
  const b = basePeer(peer);
  return b.startsWith("tsgrad-wasm") || b === "tfjs-wasm" || b.startsWith("jax-js");
}

export const WORKLOADS = ["sgemm", "cnn", "alexnet", "lstm"] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

/** How long a child measures: see `measure()` in `measure.ts`. */
export interface TimingOptions {
  /** Timed seconds to aim for (after warm-up), per figure. */
  budget: number;
  /** At least this many timed windows when they fit in `maxSeconds`. */
  minWindows: number;
  /** Seconds one window lasts at least (a window is a whole number of steps). */
  windowSeconds: number;
  /** Stop after this many timed seconds once one window is done (slow peers). */
  maxSeconds: number;
  /** Warm-up: at least one step, and more until this many seconds have passed (at most 3). */
  warmupSeconds: number;
}

/** The request a child receives. */
export interface ChildRequest {
  peer: PeerName;
  workload: WorkloadName;
  threads: number;
  /** `--check`: train a few steps on one batch and report the losses instead of timing. */
  check: boolean;
  checkSteps: number;
  timing: TimingOptions;
  /** sgemm sizes. */
  sizes: number[];
  /** The model for cnn/alexnet, as a framework-neutral layer list (see `specs.ts`). */
  model?: ModelSpec;
  /**
   * `--bf16`: compute products in bfloat16 where the peer can (tsgrad native at matmul precision
   * "medium", PyTorch under CPU autocast); the child reports `info.bf16` (whether it did).
   */
  bf16?: boolean;
}

export interface ModelSpec {
  name: string;
  /** Batch size. */
  batch: number;
  /** Input [channels, height, width]. */
  input: [number, number, number];
  classes: number;
  layers: LayerSpec[];
  optimizer:
    | { kind: "adam"; lr: number }
    | { kind: "sgd"; lr: number; momentum: number; weightDecay: number };
}

/** One measured figure: a median over timed windows, with the spread. */
export interface Figure {
  /** e.g. "sgemm-1024", "cnn". */
  name: string;
  unit: "GFLOP/s" | "images/s" | "tokens/s";
  median: number;
  min: number;
  max: number;
  windows: number;
  steps: number;
  /** Work items (images, tokens; GFLOP for sgemm) per step. */
  itemsPerStep: number;
  /** Median seconds per step. */
  secondsPerStep: number;
  /** Floating-point work per step (analytic count), for achieved GFLOP/s. */
  flopsPerStep: number;
  /** With `--rounds` > 1: each round's median, in round order (`median` is their median). */
  roundMedians?: number[];
}

/** A correctness check done by the child (`--check`), e.g. a patched kernel vs a reference. */
export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

export type ChildResult =
  | {
      status: "ok";
      figures: Figure[];
      /** Loss after each step: the timed run's first and last, or every step under --check. */
      losses: number[];
      checks: CheckResult[];
      /** Threads the framework actually computes with. */
      threadsUsed: number;
      /** Library versions, ISA, configuration notes. */
      info: Record<string, string | number | boolean>;
      /** Peak resident set size of the child process, KiB (none in a browser). */
      maxRssKiB?: number;
    }
  | {
      /** "absent": the peer cannot run here (not installed, not registered); "failed": it broke. */
      status: "absent" | "failed";
      reason: string;
      maxRssKiB?: number;
    };

/** Prefix of the one stdout line carrying a child's result. */
export const RESULT_MARKER = "@@tsgrad-bench-result ";

/** Thrown by a peer that cannot run here; becomes an "absent" result with this reason. */
export class PeerAbsent extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "PeerAbsent";
  }
}
