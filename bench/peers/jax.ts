/**
 * jax-js 0.1.25 as a benchmark peer, on its Wasm backend: `jax-js` runs its kernels on the main
 * thread (Node 20 has no global `Worker`), `jax-js-workers` installs `worker-shim.ts` first so
 * jax-js dispatches kernels to a pool of `--threads` workers, as it does in a browser.
 *
 * Best configuration: the whole training step — forward, `valueAndGrad`, and the Adam update —
 * is one `jit`-compiled function, so jax-js fuses and compiles it once (in the warm-up).
 * jax-js arrays are reference-counted with move semantics: a function consumes the arrays passed
 * to it, so `.ref` marks every use that must leave the array alive.
 */
import { syntheticBatch } from "../lib/measure.js";
import { type ChildRequest, type ModelSpec, PeerAbsent } from "../lib/protocol.js";
import type { NodePeer, PeerSetup, Sgemm, Trainer } from "./peer.js";
import { installWorkerShim } from "./worker-shim.js";

import type * as JaxModule from "@jax-js/jax";

type JArray = JaxModule.Array;
// Loaded in setup(), after the Worker shim is installed: jax-js probes for Worker at load.
let jax: typeof JaxModule;

async function setup(req: ChildRequest): Promise<PeerSetup> {
  const workers = req.peer === "jax-js-workers";
  if (workers) installWorkerShim(req.threads);
  try {
    jax = await import("@jax-js/jax");
  } catch (e) {
    throw new PeerAbsent(`cannot load @jax-js/jax: ${(e as Error).message}`);
  }
  const devices = await jax.init("wasm");
  if (!devices.includes("wasm")) {
    throw new PeerAbsent(`jax-js wasm backend unavailable (${devices.join(", ")})`);
  }
  jax.defaultDevice("wasm");
  return {
    threadsUsed: workers ? req.threads : 1,
    info: {
      device: "wasm",
      workers: workers ? `${req.threads} (worker_threads shim)` : "none (main thread)",
    },
  };
}

/** Uniform init U(−1/√fanIn, 1/√fanIn), PyTorch's default for conv and dense layers. */
function uniform(key: JArray, shape: number[], fanIn: number): JArray {
  const b = 1 / Math.sqrt(fanIn);
  return jax.random.uniform(key, shape, { minval: -b, maxval: b });
}

type Params = Record<string, JArray>;

function imageTrainer(spec: ModelSpec): Trainer {
  const { numpy: np, lax, nn, tree, jit, valueAndGrad, random } = jax;
  if (spec.optimizer.kind !== "adam") throw new Error("jax-js peer: only the Adam workloads");
  const lr = spec.optimizer.lr;
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
  // One compiled step: loss, gradients and the Adam update (PyTorch's formulation, eps 1e-8);
  // c1 = lr / (1 − β1^t) and c2 = 1 / √(1 − β2^t) are the bias corrections.
  const step = jit(
    (p: Params, m: Params, v: Params, c1: JArray, c2: JArray, x: JArray, y: JArray) => {
      const [loss, g] = valueAndGrad(lossFn)(tree.ref(p), x, y);
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
      return [loss, p2, m2, v2] as [JArray, Params, Params, Params];
    },
  );
  let m: Params = tree.map((a: JArray) => np.zerosLike(a.ref), params);
  let v: Params = tree.map((a: JArray) => np.zerosLike(a.ref), params);
  let t = 0;
  return {
    async step() {
      t++;
      const c1 = np.array(lr / (1 - 0.9 ** t));
      const c2 = np.array(1 / Math.sqrt(1 - 0.999 ** t));
      const [loss, p2, m2, v2] = step(params, m, v, c1, c2, x.ref, y.ref);
      params = p2;
      m = m2;
      v = v2;
      return (await loss.jsAsync()) as number;
    },
  };
}

export const peer: NodePeer = {
  setup,

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
    if (!req.model) throw new Error(`jax-js peer: workload ${req.workload} is not implemented`);
    return Promise.resolve(imageTrainer(req.model));
  },
};
