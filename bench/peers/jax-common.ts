/**
 * jax-js 0.1.25 as a benchmark peer, on its Wasm backend. Its host (`jaxPeer(host)`) loads it:
 * in Node on the main thread (`jax-js`) or with a Web Worker shim (`jax-js-workers`, see
 * `jax.ts`); in a browser page's worker with the Web Workers it starts itself (`chromium/jax-js`).
 *
 * Best configuration: the whole training step — forward, `valueAndGrad`, and the Adam update —
 * is one `jit`-compiled function, so jax-js fuses and compiles it once (in the warm-up). The one
 * exception is the LSTM LM's embedding: jax-js's `jit` cannot compile the gradient of a gather
 * (its scatter "input is not imm"), so the gather and its scatter-add gradient run eagerly,
 * outside the compiled step (they are 0.3% of the step's FLOPs), and the embedding's Adam
 * update is a second compiled function.
 * jax-js arrays are reference-counted with move semantics: a function consumes the arrays passed
 * to it, so `.ref` marks every use that must leave the array alive.
 */
import { syntheticBatch } from "../lib/measure.js";
import { type ChildRequest, type ModelSpec, PeerAbsent } from "../lib/protocol.js";
import { LSTM_LM } from "../lib/specs.js";
import { RELAXED_SIMD_PROBE } from "../lib/wasm-peak.js";
import type { Peer, PeerSetup, Sgemm, Trainer } from "./peer.js";

import type * as JaxModule from "@jax-js/jax";

export type Jax = typeof JaxModule;
type JArray = JaxModule.Array;
type Params = Record<string, JArray>;

/** How jax-js is loaded and on how many threads it runs. */
export interface JaxHost {
  load(req: ChildRequest): Promise<{ jax: Jax; threadsUsed: number; info: PeerSetup["info"] }>;
}

let jax: Jax;

async function setup(host: JaxHost, req: ChildRequest): Promise<PeerSetup> {
  let loaded: Awaited<ReturnType<JaxHost["load"]>>;
  try {
    loaded = await host.load(req);
  } catch (e) {
    throw new PeerAbsent(`cannot load @jax-js/jax: ${(e as Error).message}`);
  }
  jax = loaded.jax;
  const devices = await jax.init("wasm");
  if (!devices.includes("wasm")) {
    throw new PeerAbsent(`jax-js wasm backend unavailable (${devices.join(", ")})`);
  }
  jax.defaultDevice("wasm");
  // jax-js emits relaxed_madd in its matmul kernels where the engine validates it.
  const wasmSimd = WebAssembly.validate(RELAXED_SIMD_PROBE) ? "relaxed" : "simd";
  return { threadsUsed: loaded.threadsUsed, info: { device: "wasm", wasmSimd, ...loaded.info } };
}

/** Uniform init U(−1/√fanIn, 1/√fanIn), PyTorch's default for conv and dense layers. */
function uniform(key: JArray, shape: number[], fanIn: number): JArray {
  const b = 1 / Math.sqrt(fanIn);
  return jax.random.uniform(key, shape, { minval: -b, maxval: b });
}

/**
 * Adam (PyTorch's formulation, eps 1e-8) over a parameter tree, for use inside `jit`; consumes
 * every argument. c1 = lr / (1 − β1^t) and c2 = 1 / √(1 − β2^t) are the bias corrections.
 */
function adam(
  p: Params,
  m: Params,
  v: Params,
  g: Params,
  c1: JArray,
  c2: JArray,
): [Params, Params, Params] {
  const { numpy: np, tree } = jax;
  const m2 = tree.map((mi: JArray, gi: JArray) => mi.mul(0.9).add(gi.mul(0.1)), m, tree.ref(g));
  const v2 = tree.map(
    (vi: JArray, gi: JArray) => vi.mul(0.999).add(gi.ref.mul(gi).mul(0.001)),
    v,
    g,
  );
  const p2 = tree.map(
    (pi: JArray, mi: JArray, vi: JArray) =>
      pi.sub(mi.mul(c1.ref).div(np.sqrt(vi).mul(c2.ref).add(1e-8))),
    p,
    tree.ref(m2),
    tree.ref(v2),
  );
  c1.dispose();
  c2.dispose();
  return [p2, m2, v2];
}

/** Adam state and the bias-correction scalars of step t. */
function adamState(params: Params, lr: number) {
  const { numpy: np, tree } = jax;
  let t = 0;
  const zeros = (): Params => tree.map((a: JArray) => np.zerosLike(a.ref), params);
  return {
    m: zeros(),
    v: zeros(),
    corrections(): [JArray, JArray] {
      t++;
      return [np.array(lr / (1 - 0.9 ** t)), np.array(1 / Math.sqrt(1 - 0.999 ** t))];
    },
  };
}

function imageTrainer(spec: ModelSpec): Trainer {
  const { numpy: np, lax, nn, jit, valueAndGrad, random, tree } = jax;
  if (spec.optimizer.kind !== "adam") throw new Error("jax-js peer: only the Adam workloads");
  const B = spec.batch;
  const keys = random.split(random.key(0), 2 * spec.layers.length);
  let params: Params = {};
  type Op = (p: Params, h: JArray) => JArray;
  const ops: Op[] = [];
  spec.layers.forEach((l, i) => {
    const kw = keys.ref.slice(2 * i);
    const kb = keys.ref.slice(2 * i + 1);
    if (l.kind === "conv") {
      const fan = l.in * l.k * l.k;
      params[`w${i}`] = uniform(kw, [l.out, l.in, l.k, l.k], fan);
      params[`b${i}`] = uniform(kb, [l.out, 1, 1], fan);
      const pad: [number, number][] = [
        [l.pad, l.pad],
        [l.pad, l.pad],
      ];
      ops.push((p, h) => lax.convGeneralDilated(h, p[`w${i}`]!, [1, 1], pad).add(p[`b${i}`]!));
    } else if (l.kind === "linear") {
      params[`w${i}`] = uniform(kw, [l.in, l.out], l.in);
      params[`b${i}`] = uniform(kb, [l.out], l.in);
      ops.push((p, h) => np.dot(h, p[`w${i}`]!).add(p[`b${i}`]!));
    } else {
      kw.dispose();
      kb.dispose();
      if (l.kind === "relu") ops.push((_p, h) => nn.relu(h));
      else if (l.kind === "maxpool") {
        ops.push((_p, h) => lax.reduceWindow(h, np.max, [l.k, l.k], [l.stride, l.stride]));
      } else if (l.kind === "flatten") ops.push((_p, h) => h.reshape([B, -1]));
      else throw new Error(`jax-js peer: no ${l.kind} layer`);
    }
  });
  keys.dispose();
  const [c, h, w] = spec.input;
  const batch = syntheticBatch(1, B * c * h * w, B, spec.classes);
  const x = np.array(batch.x).reshape([B, c, h, w]);
  const y = nn.oneHot(np.array(batch.y, { dtype: np.int32 }), spec.classes);

  const lossFn = (p: Params, x: JArray, y: JArray): JArray => {
    // Each parameter is used (and so consumed) exactly once, by its own layer.
    const logits = ops.reduce((h, op) => op(p, h), x);
    return nn
      .logSoftmax(logits)
      .mul(y)
      .sum()
      .mul(-1 / B);
  };
  // One compiled step: loss, gradients and the Adam update.
  const step = jit(
    (p: Params, m: Params, v: Params, c1: JArray, c2: JArray, x: JArray, y: JArray) => {
      const [loss, g] = valueAndGrad(lossFn)(tree.ref(p), x, y);
      return [loss, ...adam(p, m, v, g, c1, c2)] as [JArray, Params, Params, Params];
    },
  );
  const state = adamState(params, spec.optimizer.lr);
  return {
    async step() {
      const [c1, c2] = state.corrections();
      const [loss, p2, m2, v2] = step(params, state.m, state.v, c1, c2, x.ref, y.ref);
      params = p2;
      state.m = m2;
      state.v = v2;
      return (await loss.jsAsync()) as number;
    },
  };
}

/**
 * The LSTM LM of `LSTM_LM` (PyTorch's gate order i, f, g, o; both biases; N(0, 1) embedding),
 * time-major: the input projection of all steps in one product, then h·W_hh per step, unrolled
 * in the trace.
 */
function lstmTrainer(): Trainer {
  const { numpy: np, nn, jit, valueAndGrad, random, tree } = jax;
  const { vocab: V, embedding: E, hidden: H, seq: T, batch: B, lr } = LSTM_LM;
  const keys = random.split(random.key(0), 7);
  const key = (i: number) => keys.ref.slice(i);
  let emb: Params = { emb: random.normal(key(0), [V, E]) };
  let params: Params = {
    wih: uniform(key(1), [E, 4 * H], H),
    whh: uniform(key(2), [H, 4 * H], H),
    bih: uniform(key(3), [4 * H], H),
    bhh: uniform(key(4), [4 * H], H),
    wout: uniform(key(5), [H, V], H),
    bout: uniform(key(6), [V], H),
  };
  keys.dispose();
  const { y: ids } = syntheticBatch(2, 0, 2 * T * B, V);
  const tokens = np.array(ids.slice(0, T * B), { dtype: np.int32 });
  const y = nn.oneHot(np.array(ids.slice(T * B), { dtype: np.int32 }), V);

  const lossFn = (p: Params, xs: JArray, y: JArray): JArray => {
    const xp = np.dot(xs, p.wih!).add(p.bih!.add(p.bhh!));
    const steps = np.split(xp, T, 0);
    const whh = p.whh!;
    let h: JArray = np.zeros([B, H]);
    let c: JArray = np.zeros([B, H]);
    const hs: JArray[] = [];
    for (let t = 0; t < T; t++) {
      const g = steps[t]!.add(np.dot(h, whh.ref));
      const [i, f, gg, o] = np.split(g, 4, 1) as [JArray, JArray, JArray, JArray];
      c = nn
        .sigmoid(f)
        .mul(c)
        .add(nn.sigmoid(i).mul(np.tanh(gg)));
      h = nn.sigmoid(o).mul(np.tanh(c.ref));
      hs.push(h.ref);
    }
    h.dispose();
    c.dispose();
    whh.dispose();
    const logits = np.dot(np.concatenate(hs, 0), p.wout!).add(p.bout!);
    return nn
      .logSoftmax(logits)
      .mul(y)
      .sum()
      .mul(-1 / (T * B));
  };
  // Loss, the gradients of the LSTM and head (updated here by Adam) and of the embedded inputs.
  const core = jit(
    (p: Params, m: Params, v: Params, c1: JArray, c2: JArray, xs: JArray, y: JArray) => {
      const [loss, [g, dxs]] = valueAndGrad(lossFn, { argnums: [0, 1] })(tree.ref(p), xs, y);
      return [loss, dxs, ...adam(p, m, v, g, c1, c2)] as [JArray, JArray, Params, Params, Params];
    },
  );
  const embAdam = jit(adam);
  // The embedding's gradient: the scatter-add of dxs into the rows the tokens picked (eager).
  const embGrad = valueAndGrad((e: JArray, t: JArray, d: JArray) => np.take(e, t, 0).mul(d).sum());
  const state = adamState(params, lr);
  const embState = adamState(emb, lr);
  return {
    async step() {
      const xs = np.take(emb.emb!.ref, tokens.ref, 0);
      const [c1, c2] = state.corrections();
      const [loss, dxs, p2, m2, v2] = core(params, state.m, state.v, c1, c2, xs, y.ref);
      params = p2;
      state.m = m2;
      state.v = v2;
      const [dot, ge] = embGrad(emb.emb!.ref, tokens.ref, dxs);
      dot.dispose();
      const [e1, e2] = embState.corrections();
      const [emb2, em, ev] = embAdam(emb, embState.m, embState.v, { emb: ge }, e1, e2);
      emb = emb2;
      embState.m = em;
      embState.v = ev;
      return (await loss.jsAsync()) as number;
    },
  };
}

/** The jax-js peer, loaded as `host` says. */
export function jaxPeer(host: JaxHost): Peer {
  return {
    setup: (req) => setup(host, req),

    sgemm(n: number, a: Float32Array, b: Float32Array): Promise<Sgemm> {
      const { numpy: np, jit, blockUntilReady } = jax;
      const A = np.array(a).reshape([n, n]);
      const B = np.array(b).reshape([n, n]);
      const mm = jit((p: JArray, q: JArray) => np.matmul(p, q));
      return Promise.resolve({
        run: async () => {
          const c = mm(A.ref, B.ref);
          await blockUntilReady(c);
          c.dispose();
        },
        result: async () => (await mm(A.ref, B.ref).data()) as Float32Array,
      });
    },

    trainer(req: ChildRequest): Promise<Trainer> {
      if (req.workload === "lstm") return Promise.resolve(lstmTrainer());
      if (!req.model) throw new Error(`jax-js peer: workload ${req.workload} is not implemented`);
      return Promise.resolve(imageTrainer(req.model));
    },
  };
}
