/**
 * jax-js in a Node child: `jax-js` runs its kernels on the main thread (Node 20 has no global
 * `Worker`); `jax-js-workers` installs `worker-shim.ts` first, so that jax-js dispatches kernels
 * to a pool of `--threads` workers, as it does in a browser. The peer itself is `jax-common.ts`.
 */
import type { ChildRequest } from "../lib/protocol.js";
import { type Jax, jaxPeer } from "./jax-common.js";
import { installWorkerShim } from "./worker-shim.js";

export const peer = jaxPeer({
  async load(req: ChildRequest) {
    const workers = req.peer === "jax-js-workers";
    // Before the import: jax-js probes for Worker when it loads.
    if (workers) installWorkerShim(req.threads);
    const jax: Jax = await import("@jax-js/jax");
    return {
      jax,
      threadsUsed: workers ? req.threads : 1,
      info: { workers: workers ? `${req.threads} (worker_threads shim)` : "none (main thread)" },
    };
  },
});
