/**
 * The workloads, defined once and framework-neutrally, so that every peer builds the same model:
 * a layer list (`ModelSpec`) that each peer turns into its own modules, the LSTM LM's sizes, the
 * analytic FLOP counts behind "achieved GFLOP/s", and which peer runs which workload.
 */
import {
  type ModelSpec,
  type PeerName,
  type WorkloadName,
  basePeer,
  environmentOf,
} from "./protocol.js";

/** One layer of a feed-forward model (PyTorch semantics; NCHW). */
export type LayerSpec =
  | { kind: "conv"; in: number; out: number; k: number; pad: number }
  | { kind: "relu" }
  | { kind: "maxpool"; k: number; stride: number }
  /** Local response normalisation as `torch.nn.LocalResponseNorm(size, alpha, beta, k)`. */
  | { kind: "lrn"; size: number; alpha: number; beta: number; k: number }
  | { kind: "dropout"; p: number }
  | { kind: "flatten" }
  | { kind: "linear"; in: number; out: number };

/**
 * The CNN of PEERS.md: conv5×5 1→32 same + ReLU + maxpool2, conv5×5 32→64 same + ReLU +
 * maxpool2, dense 3136→1024 + ReLU, dense 1024→10; softmax cross-entropy; Adam; batch 64.
 */
export function cnnSpec(): ModelSpec {
  return {
    name: "cnn",
    batch: 64,
    input: [1, 28, 28],
    classes: 10,
    layers: [
      { kind: "conv", in: 1, out: 32, k: 5, pad: 2 },
      { kind: "relu" },
      { kind: "maxpool", k: 2, stride: 2 },
      { kind: "conv", in: 32, out: 64, k: 5, pad: 2 },
      { kind: "relu" },
      { kind: "maxpool", k: 2, stride: 2 },
      { kind: "flatten" },
      { kind: "linear", in: 3136, out: 1024 },
      { kind: "relu" },
      { kind: "linear", in: 1024, out: 10 },
    ],
    optimizer: { kind: "adam", lr: 1e-3 },
  };
}

/** Sizes of the LSTM language-model step (PEERS.md): one layer, cross-entropy at every step. */
export const LSTM_LM = {
  vocab: 8000,
  embedding: 256,
  hidden: 512,
  seq: 32,
  batch: 32,
  lr: 1e-3,
} as const;
export type LstmLmConfig = typeof LSTM_LM;

/** AlexNet recipe settings: `tg.models.AlexNet({ inChannels: 1, imageSize: 28, numClasses: 10 })`. */
export const ALEXNET = {
  config: { inChannels: 1, imageSize: 28, numClasses: 10 },
  batch: 128,
  optimizer: { kind: "sgd", lr: 0.01, momentum: 0.9, weightDecay: 5e-4 },
} as const;

/**
 * Forward + backward FLOPs of one image through a feed-forward spec: convolutions and dense
 * layers only (2 per multiply-add), three products each (output, weight gradient, input
 * gradient) except that the first layer's input gradient is never needed. Pooling, ReLU, LRN
 * and the loss are left out: they are a rounding error next to the products.
 */
export function modelFlopsPerImage(spec: ModelSpec): number {
  let [c, h, w] = spec.input;
  let flops = 0;
  let first = true;
  for (const l of spec.layers) {
    if (l.kind === "conv") {
      const oh = h + 2 * l.pad - l.k + 1;
      const ow = w + 2 * l.pad - l.k + 1;
      const macs = l.out * oh * ow * l.in * l.k * l.k;
      flops += 2 * macs * (first ? 2 : 3);
      [c, h, w] = [l.out, oh, ow];
      first = false;
    } else if (l.kind === "maxpool") {
      h = Math.floor((h - l.k) / l.stride) + 1;
      w = Math.floor((w - l.k) / l.stride) + 1;
    } else if (l.kind === "flatten") {
      [c, h, w] = [c * h * w, 1, 1];
    } else if (l.kind === "linear") {
      flops += 2 * l.in * l.out * (first ? 2 : 3);
      [c, h, w] = [l.out, 1, 1];
      first = false;
    }
  }
  return flops;
}

/** Forward + backward FLOPs per token of the LSTM LM (input projection, recurrence, output). */
export function lstmFlopsPerToken(cfg: LstmLmConfig = LSTM_LM): number {
  const g = 4 * cfg.hidden;
  return 3 * 2 * (cfg.embedding * g + cfg.hidden * g + cfg.hidden * cfg.vocab);
}

/** Whether a peer runs a workload by default, only when asked (`--all`), or never (and why). */
export type Support =
  { run: "default" } | { run: "optional"; why: string } | { run: "never"; why: string };

const TFJS_CPU_SLOW =
  "optional (--all): tfjs-cpu computes in plain JS at ~0.5 GFLOP/s, so a training step takes " +
  "from half a minute (CNN) to minutes; tfjs-wasm is tfjs's best configuration here";

/** The benchmark matrix. */
export function support(peer: PeerName, workload: WorkloadName): Support {
  const base = basePeer(peer);
  if (workload === "sgemm") return { run: "default" };
  if (base === "tfjs-cpu") return { run: "optional", why: TFJS_CPU_SLOW };
  if (workload === "alexnet") {
    if (base.startsWith("jax-js")) {
      return {
        run: "never",
        why: "not implemented for jax-js (optional in issue 4; jax-js has no LRN op)",
      };
    }
    if (base === "tfjs-wasm") {
      return { run: "optional", why: "optional in issue 4 (--all runs it)" };
    }
    if (environmentOf(peer) === "chromium") {
      return {
        run: "optional",
        why: "optional in the browser (--all runs it): no other browser peer runs AlexNet by default",
      };
    }
  }
  return { run: "default" };
}
