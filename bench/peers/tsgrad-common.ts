/**
 * tsgrad as a benchmark peer, on the backend the peer name says: `tsgrad-js` (the JS reference
 * backend, one thread), `tsgrad-native` (the oneDNN addon, `--threads` threads) or `tsgrad-wasm`
 * (the WebAssembly kernels; `tsgrad-wasm` on `--threads` threads, `tsgrad-wasm-1t` on one). The
 * models are built from the public API only: `tg.nn` modules for the CNN, `tg.models.AlexNet`
 * for the AlexNet recipe, `tg.nn.Embedding` + `tg.nn.LSTM` + `tg.nn.Linear` for the LSTM LM, and
 * `tg.optim` for the updates.
 *
 * The module is handed in (`tsgradPeer(tg)`): the Node child passes the Node entry
 * (`peers/tsgrad.ts`), the browser worker the browser entry, so that each measures the code its
 * users load.
 */
import type * as TG from "../../src/exports.js";
import { syntheticBatch } from "../lib/measure.js";
import { type ChildRequest, type ModelSpec, PeerAbsent, basePeer } from "../lib/protocol.js";
import { ALEXNET, LSTM_LM, type LayerSpec } from "../lib/specs.js";
import type { Peer, PeerSetup, Sgemm, Trainer } from "./peer.js";

/** What both entries export (`src/exports.ts`): the whole API but the native backend object. */
export type Tsgrad = typeof TG;

/** How long the wasm backend's worker threads may take to start before the run goes on. */
const THREAD_START_TIMEOUT_MS = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One layer of a bench model spec (`lib/specs.ts`) as a `tg.nn` module; also used by the wasm
 * backend's memory test, which trains the bench CNN.
 */
export function specLayer(tg: Tsgrad, l: LayerSpec): TG.nn.Layer {
  switch (l.kind) {
    case "conv":
      return new tg.nn.Conv2d(l.in, l.out, l.k, { padding: l.pad });
    case "relu":
      return new tg.nn.ReLU();
    case "maxpool":
      return new tg.nn.MaxPool2d(l.k, { stride: l.stride });
    case "lrn":
      return new tg.nn.LocalResponseNorm(l.size, l.alpha, l.beta, l.k);
    case "dropout":
      return new tg.nn.Dropout(l.p);
    case "flatten":
      return new tg.nn.Flatten();
    case "linear":
      return new tg.nn.Linear(l.in, l.out);
  }
}

export function tsgradPeer(tg: Tsgrad): Peer {
  async function selectBackend(req: ChildRequest): Promise<PeerSetup> {
    const base = basePeer(req.peer);
    const name = base === "tsgrad-native" ? "native" : base === "tsgrad-js" ? "js" : "wasm";
    // The wasm module compiles in the background on a browser's main thread; elsewhere at once.
    await tg.ready();
    const entry = tg.listBackends().find((b) => b.name === name);
    if (entry === undefined) {
      const names = tg.listBackends().map((b) => b.name);
      throw new PeerAbsent(`backend "${name}" is not registered (registered: ${names.join(", ")})`);
    }
    if (!entry.available) throw new PeerAbsent(`backend "${name}" unavailable: ${entry.reason}`);
    tg.setBackend(name);
    const backend = tg.getBackend();
    const info: Record<string, string | number | boolean> = { backend: name };
    if (name === "wasm") {
      await startWasmThreads(req.threads, info);
    } else if (backend.setNumThreads) {
      backend.setNumThreads(req.threads);
    }
    if (req.bf16) tg.setFloat32MatmulPrecision("medium");
    for (const [k, v] of Object.entries(tg.info())) info[k] = v;
    // Whether products really run in bfloat16: only the native backend on a CPU that has them.
    info.matmulPrecision = tg.getFloat32MatmulPrecision();
    info.bf16 = req.bf16 === true && info.bf16 === true;
    const threads =
      name === "wasm" ? Number(tg.info().threadsRunning) : (backend.numThreads?.() ?? 1);
    return { threadsUsed: threads, info };
  }

  /**
   * Ask the wasm backend for `threads` threads and wait until they run: its workers start in the
   * background, and a call uses only those already waiting for work, so timing before they are
   * up would measure fewer threads. Records which kernels the backend has (ops it lacks run on
   * the JS reference), and which build runs (relaxed SIMD or not).
   */
  async function startWasmThreads(
    threads: number,
    info: Record<string, string | number | boolean>,
  ): Promise<void> {
    const wasm = tg.wasmBackend;
    try {
      wasm.setNumThreads(threads);
    } catch (e) {
      // A build without shared memory (no SharedArrayBuffer): it runs on one thread, and the
      // report shows threadsUsed 1 with the reason from tg.info().
      info.threadsError = (e as Error).message;
    }
    const t0 = performance.now();
    while (Number(tg.info().threadsRunning) < wasm.numThreads()) {
      if (performance.now() - t0 > THREAD_START_TIMEOUT_MS) {
        info.threadsError = `only ${String(tg.info().threadsRunning)} of ${wasm.numThreads()} threads started in ${THREAD_START_TIMEOUT_MS / 1000} s`;
        break;
      }
      await sleep(5);
    }
    info.threadStartMs = Math.round(performance.now() - t0);
    info.wasmSimd = String(tg.info().variant).startsWith("relaxed") ? "relaxed" : "simd";
    info.wasmKernels = Object.keys(wasm.kernels).join(" ");
    info.wasmFused = Object.keys(wasm.fused ?? {}).join(" ");
    info.wasmOptimizer = Object.keys(wasm.optimizer).join(" ");
  }

  const layer = (l: LayerSpec) => specLayer(tg, l);

  function optimizer(params: TG.Tensor[], spec: ModelSpec["optimizer"]): TG.optim.Optimizer {
    return spec.kind === "adam"
      ? new tg.optim.Adam(params, { lr: spec.lr })
      : new tg.optim.SGD(params, {
          lr: spec.lr,
          momentum: spec.momentum,
          weightDecay: spec.weightDecay,
        });
  }

  function imageTrainer(spec: ModelSpec): Trainer {
    // The AlexNet workload is the library's model itself, not a rebuild of its layer list.
    const net: TG.nn.Layer =
      spec.name === "alexnet"
        ? new tg.models.AlexNet({ ...ALEXNET.config })
        : new tg.nn.Sequential(...spec.layers.map(layer));
    net.train();
    const opt = optimizer(net.parameters(), spec.optimizer);
    const [c, h, w] = spec.input;
    const { x, y } = syntheticBatch(1, spec.batch * c * h * w, spec.batch, spec.classes);
    const xs = tg.tensor(x, { shape: [spec.batch, c, h, w] });
    const ys = tg.tensor(y);
    return {
      step() {
        opt.zeroGrad();
        const loss = tg.F.crossEntropy(net.forward(xs), ys);
        loss.backward();
        opt.step();
        return loss.item();
      },
    };
  }

  function lstmTrainer(): Trainer {
    const { vocab, embedding, hidden, seq, batch, lr } = LSTM_LM;
    const emb = new tg.nn.Embedding(vocab, embedding);
    const lstm = new tg.nn.LSTM(embedding, hidden);
    const head = new tg.nn.Linear(hidden, vocab);
    const params = [...emb.parameters(), ...lstm.parameters(), ...head.parameters()];
    const opt = new tg.optim.Adam(params, { lr });
    const { y } = syntheticBatch(2, 0, 2 * seq * batch, vocab);
    const tokens = tg.tensor(y.slice(0, seq * batch), { shape: [seq, batch] });
    const targets = tg.tensor(y.slice(seq * batch));
    return {
      step() {
        opt.zeroGrad();
        const [out] = lstm.forward(emb.forward(tokens));
        const logits = head.forward(out).reshape([seq * batch, vocab]);
        const loss = tg.F.crossEntropy(logits, targets);
        loss.backward();
        opt.step();
        return loss.item();
      },
    };
  }

  return {
    setup: selectBackend,

    sgemm(n: number, a: Float32Array, b: Float32Array): Promise<Sgemm> {
      const A = tg.tensor(a, { shape: [n, n] });
      const B = tg.tensor(b, { shape: [n, n] });
      return Promise.resolve({
        run: () => A.matmul(B),
        result: () => Promise.resolve(A.matmul(B).contiguous().data as Float32Array),
      });
    },

    trainer(req: ChildRequest): Promise<Trainer> {
      if (req.workload === "lstm") return Promise.resolve(lstmTrainer());
      if (!req.model) throw new Error(`workload ${req.workload} needs a model spec`);
      return Promise.resolve(imageTrainer(req.model));
    },
  };
}
