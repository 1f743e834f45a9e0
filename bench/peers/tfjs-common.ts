/**
 * TensorFlow.js 4.22 as a benchmark peer: `tfjs-wasm` (XNNPACK kernels) or `tfjs-cpu` (plain JS
 * kernels). In Node the wasm backend is single-threaded: its threaded build needs Web Workers and
 * does not initialise there (the child asks for `--threads` and reports what it got); in a
 * cross-origin-isolated page's Web Worker (`chromium/tfjs-wasm`) it runs its threaded SIMD build.
 * `@tensorflow/tfjs-node` cannot be installed here (it downloads libtensorflow at install), so it
 * is not a peer.
 *
 * Best configuration, as tfjs-layers would run these models: NHWC layout, conv/dense + bias +
 * ReLU through the fused ops (`tf.fused.conv2d`, `tf.fused.matMul`), the fused softmax
 * cross-entropy (`tf.losses.softmaxCrossEntropy`), `tf.variableGrads` + the tf.train optimizers.
 * The LSTM precomputes the input projection for all steps in one matmul (as cuDNN/PyTorch do)
 * and runs only h·W_hh per step. On wasm, the gradient kernels it lacks are patched in
 * (`tfjs-wasm-kernels.ts`), in Node and in the browser alike.
 *
 * How tfjs is loaded is the host's business (`tfjsPeer(host)`): in Node one esbuild bundle with
 * its gradients (`lib/tfjs-bundle.ts`, see `tfjs.ts`), in the browser worker the page's bundle.
 */
import type * as T from "@tensorflow/tfjs-core";
import type * as TfCpu from "@tensorflow/tfjs-backend-cpu";
import type * as TfWasm from "@tensorflow/tfjs-backend-wasm";
import { syntheticBatch } from "../lib/measure.js";
import {
  type CheckResult,
  type ChildRequest,
  type ModelSpec,
  PeerAbsent,
  basePeer,
} from "../lib/protocol.js";
import { LSTM_LM } from "../lib/specs.js";
import type { Peer, PeerSetup, Sgemm, Trainer } from "./peer.js";
import { registerWasmTrainingKernels } from "./tfjs-wasm-kernels.js";

/** tfjs-core's API plus both backends' namespaces (`lib/tfjs-bundle.ts` builds this shape). */
export type Tfjs = typeof T & { wasmBackend: typeof TfWasm; cpuBackend: typeof TfCpu };

/** Where a tfjs peer runs: how to load tfjs, and where the wasm backend finds its binaries. */
export interface TfjsHost {
  load(req: ChildRequest): Promise<Tfjs>;
  /** The prefix `setWasmPaths` gets: a directory path in Node, a URL in a page. */
  wasmPaths(): string;
}

let tf: Tfjs;

let seed = 1;
/** PyTorch's default init for conv/dense/LSTM weights and biases: U(−1/√fanIn, 1/√fanIn). */
function uniform(shape: number[], fanIn: number): T.Variable {
  const b = 1 / Math.sqrt(fanIn);
  return tf.variable(tf.randomUniform(shape, -b, b, "float32", seed++));
}

async function setup(host: TfjsHost, req: ChildRequest): Promise<PeerSetup> {
  const name = basePeer(req.peer) === "tfjs-wasm" ? "wasm" : "cpu";
  try {
    tf = await host.load(req);
  } catch (e) {
    throw new PeerAbsent(`cannot build or load tfjs: ${(e as Error).message}`);
  }
  const info: Record<string, string | number | boolean> = { "tfjs-core": tf.version_core };
  // Production mode skips tfjs's debug-time checks (it is what a deployment runs).
  tf.enableProdMode();
  if (name === "wasm") {
    registerWasmTrainingKernels(tf);
    tf.wasmBackend.setWasmPaths(host.wasmPaths());
    tf.wasmBackend.setThreadsCount(req.threads);
    info["tfjs-backend-wasm"] = tf.wasmBackend.version_wasm;
  } else {
    info["tfjs-backend-cpu"] = tf.cpuBackend.version_cpu;
  }
  if (!(await tf.setBackend(name))) throw new PeerAbsent(`tf.setBackend("${name}") failed`);
  await tf.ready();
  let threads = 1;
  if (name === "wasm") {
    const simd = tf.env().getBool("WASM_HAS_SIMD_SUPPORT");
    const mt = tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT");
    info.simd = simd;
    info.multithread = mt;
    // Which of its three binaries it loaded; none of them uses relaxed SIMD.
    info.build = mt && simd ? "threaded-simd" : simd ? "simd" : "plain";
    info.wasmSimd = simd ? "simd" : "none";
    if (mt) threads = tf.wasmBackend.getThreadsCount();
    info.patchedKernels =
      "Conv2DBackpropFilter (XNNPACK composite), UnsortedSegmentSum (JS), " +
      "BatchMatMul with transposes (materialised, then XNNPACK)";
  }
  return { threadsUsed: threads, info };
}

type Forward = (x: T.Tensor4D, training: boolean) => T.Tensor2D;

/** The spec's layers as one forward function over NHWC input, plus its variables. */
function buildModel(spec: ModelSpec): { forward: Forward; vars: T.Variable[] } {
  const vars: T.Variable[] = [];
  const ops: ((h: T.Tensor, training: boolean) => T.Tensor)[] = [];
  const layers = spec.layers;
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i]!;
    const relu = layers[i + 1]?.kind === "relu";
    const activation = relu ? "relu" : "linear";
    if (l.kind === "conv") {
      const w = uniform([l.k, l.k, l.in, l.out], l.in * l.k * l.k);
      const b = uniform([l.out], l.in * l.k * l.k);
      vars.push(w, b);
      const pad = l.pad;
      ops.push((h) =>
        tf.fused.conv2d({
          x: h as T.Tensor4D,
          filter: w as T.Tensor4D,
          strides: 1,
          pad,
          bias: b,
          activation,
        }),
      );
      if (relu) i++;
    } else if (l.kind === "linear") {
      const w = uniform([l.in, l.out], l.in);
      const b = uniform([l.out], l.in);
      vars.push(w, b);
      ops.push((h) => tf.fused.matMul({ a: h, b: w, bias: b, activation }));
      if (relu) i++;
    } else if (l.kind === "relu") {
      ops.push((h) => tf.relu(h));
    } else if (l.kind === "maxpool") {
      const { k, stride } = l;
      ops.push((h) => tf.maxPool(h as T.Tensor4D, k, stride, "valid"));
    } else if (l.kind === "lrn") {
      // torch.nn.LocalResponseNorm divides alpha by the window size; tfjs does not.
      const { size, alpha, beta, k } = l;
      ops.push((h) =>
        tf.localResponseNormalization(h as T.Tensor4D, (size - 1) / 2, k, alpha / size, beta),
      );
    } else if (l.kind === "dropout") {
      const p = l.p;
      ops.push((h, training) => (training ? tf.dropout(h, p) : h));
    } else {
      ops.push((h) => tf.reshape(h, [h.shape[0], -1]));
    }
  }
  return {
    vars,
    forward: (x, training) => ops.reduce<T.Tensor>((h, f) => f(h, training), x) as T.Tensor2D,
  };
}

function makeOptimizer(spec: ModelSpec["optimizer"]): T.Optimizer {
  // epsilon 1e-8 as in PyTorch (tfjs defaults to 1e-7).
  return spec.kind === "adam"
    ? tf.train.adam(spec.lr, 0.9, 0.999, 1e-8)
    : tf.train.momentum(spec.lr, spec.momentum);
}

/** A step: gradients of `loss` w.r.t. `vars` (plus L2 decay, PyTorch-style), applied; the loss. */
function trainStep(
  loss: () => T.Scalar,
  vars: T.Variable[],
  opt: T.Optimizer,
  weightDecay: number,
): () => Promise<number> {
  return async () => {
    const value = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(loss, vars);
      if (weightDecay > 0) {
        for (const v of vars) grads[v.name] = tf.add(grads[v.name]!, tf.mul(v, weightDecay));
      }
      opt.applyGradients(grads);
      return value;
    });
    const [l] = await value.data();
    value.dispose();
    return l!;
  };
}

function imageTrainer(spec: ModelSpec): Trainer {
  const { forward, vars } = buildModel(spec);
  const [c, h, w] = spec.input;
  const { x, y } = syntheticBatch(1, spec.batch * c * h * w, spec.batch, spec.classes);
  // The shared batch is NCHW; tfjs convolutions want NHWC.
  const xs = tf.tidy(() => tf.transpose(tf.tensor4d(x, [spec.batch, c, h, w]), [0, 2, 3, 1]));
  const labels = tf.tidy(() => tf.oneHot(tf.tensor1d(y, "int32"), spec.classes));
  const opt = makeOptimizer(spec.optimizer);
  const wd = spec.optimizer.kind === "sgd" ? spec.optimizer.weightDecay : 0;
  const loss = () => tf.losses.softmaxCrossEntropy<T.Tensor, T.Scalar>(labels, forward(xs, true));
  return { step: trainStep(loss, vars, opt, wd) };
}

function lstmTrainer(): Trainer {
  const { vocab, embedding: E, hidden: H, seq: T, batch: B, lr } = LSTM_LM;
  seed = 100;
  // nn.Embedding initialises N(0, 1).
  const emb = tf.variable(tf.randomNormal([vocab, E], 0, 1, "float32", seed++));
  const wih = uniform([E, 4 * H], H);
  const whh = uniform([H, 4 * H], H);
  const bih = uniform([4 * H], H);
  const bhh = uniform([4 * H], H);
  const wout = uniform([H, vocab], H);
  const bout = uniform([vocab], H);
  const vars = [emb, wih, whh, bih, bhh, wout, bout];
  const { y } = syntheticBatch(2, 0, 2 * T * B, vocab);
  const tokens = tf.tensor1d(y.slice(0, T * B), "int32");
  const labels = tf.tidy(() => tf.oneHot(tf.tensor1d(y.slice(T * B), "int32"), vocab));
  const loss = (): T.Scalar => {
    const xs = tf.gather(emb, tokens); // [T·B, E], time-major
    const xp = tf.fused.matMul({ a: xs, b: wih, bias: tf.add(bih, bhh) });
    const steps = tf.split(xp, T, 0);
    let h: T.Tensor2D = tf.zeros([B, H]);
    let c: T.Tensor2D = tf.zeros([B, H]);
    const hs: T.Tensor2D[] = [];
    for (let t = 0; t < T; t++) {
      const g = tf.add(steps[t]!, tf.matMul(h, whh));
      const [i, f, gg, o] = tf.split(g, 4, 1) as [T.Tensor2D, T.Tensor2D, T.Tensor2D, T.Tensor2D];
      c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(gg)));
      h = tf.mul(tf.sigmoid(o), tf.tanh(c));
      hs.push(h);
    }
    const logits = tf.fused.matMul({ a: tf.concat(hs, 0), b: wout, bias: bout });
    return tf.losses.softmaxCrossEntropy<T.Tensor, T.Scalar>(labels, logits);
  };
  return { step: trainStep(loss, vars, tf.train.adam(lr, 0.9, 0.999, 1e-8), 0) };
}

/** The patched wasm kernels the workload uses, checked against direct loops. */
function referenceChecks(workload: ChildRequest["workload"]): CheckResult[] {
  const out: CheckResult[] = [];
  if (workload === "sgemm") return [];
  out.push(...transposedMatMulChecks());
  if (workload === "lstm") return [...out, segmentSumCheck()];
  type Shape4 = [number, number, number, number];
  const cases: { x: Shape4; f: Shape4; s: number; pad: "same" | "valid" | number }[] = [
    { x: [2, 7, 7, 3], f: [3, 3, 3, 4], s: 1, pad: "same" },
    { x: [2, 9, 8, 2], f: [3, 2, 2, 3], s: 2, pad: "valid" },
    { x: [1, 6, 6, 2], f: [5, 5, 2, 2], s: 1, pad: 2 },
  ];
  for (const cs of cases) {
    const x = tf.randomUniform<T.Rank.R4>(cs.x, -1, 1, "float32", 11);
    const filterShape = cs.f;
    const info = tf.backend_util.computeConv2DInfo(cs.x, filterShape, cs.s, 1, cs.pad);
    const dy = tf.randomUniform(info.outShape, -1, 1, "float32", 12);
    const got = tf.engine().runKernel<T.Tensor>(
      "Conv2DBackpropFilter",
      { x, dy },
      {
        strides: cs.s,
        pad: cs.pad,
        dataFormat: "NHWC",
        filterShape,
      },
    );
    const [N, Hh, Ww, C] = cs.x;
    const [KH, KW, , CO] = filterShape;
    const [, OH, OW] = info.outShape;
    const xv = x.dataSync();
    const dv = dy.dataSync();
    const ref = new Float64Array(KH * KW * C * CO);
    for (let n = 0; n < N; n++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          for (let kh = 0; kh < KH; kh++) {
            for (let kw = 0; kw < KW; kw++) {
              const ih = oh * cs.s + kh - info.padInfo.top;
              const iw = ow * cs.s + kw - info.padInfo.left;
              if (ih < 0 || ih >= Hh || iw < 0 || iw >= Ww) continue;
              for (let ci = 0; ci < C; ci++) {
                for (let co = 0; co < CO; co++) {
                  ref[((kh * KW + kw) * C + ci) * CO + co]! +=
                    xv[((n * Hh + ih) * Ww + iw) * C + ci]! *
                    dv[((n * OH + oh) * OW + ow) * CO + co]!;
                }
              }
            }
          }
        }
      }
    }
    const err = maxDiff(got.dataSync(), ref);
    out.push({
      name: `Conv2DBackpropFilter x${JSON.stringify(cs.x)} f${JSON.stringify(cs.f)} s${cs.s} pad ${cs.pad}`,
      ok: err < 1e-4 && got.shape.join() === filterShape.join(),
      detail: `max abs error ${err.toExponential(2)} vs direct loop`,
    });
  }
  return out;
}

function transposedMatMulChecks(): CheckResult[] {
  const cases: { a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
    { a: [5, 3], b: [5, 4], ta: true, tb: false },
    { a: [3, 5], b: [4, 5], ta: false, tb: true },
    { a: [2, 5, 3], b: [2, 4, 5], ta: true, tb: true },
  ];
  return cases.map(({ a: sa, b: sb, ta, tb }) => {
    const a = tf.randomUniform(sa, -1, 1, "float32", 14);
    const b = tf.randomUniform(sb, -1, 1, "float32", 15);
    const got = tf.matMul(a, b, ta, tb).dataSync();
    const av = a.dataSync();
    const bv = b.dataSync();
    const batch = sa.length === 3 ? sa[0]! : 1;
    const [ar, ac] = sa.slice(-2) as [number, number];
    const [br, bc] = sb.slice(-2) as [number, number];
    const [m, k] = ta ? [ac, ar] : [ar, ac];
    const n = tb ? br : bc;
    const ref = new Float64Array(batch * m * n);
    for (let z = 0; z < batch; z++) {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let q = 0; q < k; q++) {
            const x = av[z * ar * ac + (ta ? q * ac + i : i * ac + q)]!;
            const y = bv[z * br * bc + (tb ? j * bc + q : q * bc + j)]!;
            acc += x * y;
          }
          ref[(z * m + i) * n + j] = acc;
        }
      }
    }
    const err = maxDiff(got, ref);
    return {
      name: `BatchMatMul ${JSON.stringify(sa)}${ta ? "ᵀ" : ""}·${JSON.stringify(sb)}${tb ? "ᵀ" : ""}`,
      ok: err < 1e-5,
      detail: `max abs error ${err.toExponential(2)} vs direct loop`,
    };
  });
}

function segmentSumCheck(): CheckResult {
  const data = tf.randomUniform([6, 3], -1, 1, "float32", 13);
  const ids = tf.tensor1d([4, 0, 4, 2, -1, 0], "int32");
  const got = tf.unsortedSegmentSum(data, ids, 5).dataSync();
  const dv = data.dataSync();
  const ref = new Float64Array(15);
  [4, 0, 4, 2, -1, 0].forEach((s, i) => {
    if (s >= 0) for (let j = 0; j < 3; j++) ref[s * 3 + j]! += dv[i * 3 + j]!;
  });
  const err = maxDiff(got, ref);
  return {
    name: "UnsortedSegmentSum",
    ok: err < 1e-6,
    detail: `max abs error ${err.toExponential(2)}`,
  };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The tfjs peer, loading tfjs as `host` says. */
export function tfjsPeer(host: TfjsHost): Peer {
  return {
    setup: (req) => setup(host, req),
    sgemm,
    trainer,
    selfChecks,
  };
}

function sgemm(n: number, a: Float32Array, b: Float32Array): Promise<Sgemm> {
  const A = tf.tensor2d(a, [n, n]);
  const B = tf.tensor2d(b, [n, n]);
  return Promise.resolve({
    // The cpu and wasm backends compute eagerly: the product is done when matMul returns.
    run: () => tf.matMul(A, B).dispose(),
    result: async () => {
      const c = tf.matMul(A, B);
      const v = (await c.data()) as Float32Array;
      c.dispose();
      return v;
    },
  });
}

function trainer(req: ChildRequest): Promise<Trainer> {
  if (req.workload === "lstm") return Promise.resolve(lstmTrainer());
  if (!req.model) throw new Error(`workload ${req.workload} needs a model spec`);
  return Promise.resolve(imageTrainer(req.model));
}

function selfChecks(req: ChildRequest): Promise<CheckResult[]> {
  return Promise.resolve(basePeer(req.peer) === "tfjs-wasm" ? referenceChecks(req.workload) : []);
}
