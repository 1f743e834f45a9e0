/**
 * jax-js in the browser bench, on its Wasm backend, in the two configurations the Node bench
 * has: `chromium/jax-js-workers` as a page gets it — in a cross-origin-isolated page jax-js runs
 * its kernels on a pool of Web Workers sized by `navigator.hardwareConcurrency`, set here to
 * `--threads` before jax-js starts the pool, so that it computes on as many threads as the other
 * peers — and `chromium/jax-js`, without the pool (the worker hides `Worker` from it), computing
 * on the measuring worker's own thread: dispatching to a pool has a cost of its own, and which
 * of the two is faster depends on the workload.
 */
import type { ChildRequest } from "../lib/protocol.js";
import { basePeer } from "../lib/protocol.js";
import { type Jax, jaxPeer } from "../peers/jax-common.js";
import { serve } from "./worker.js";

serve(() =>
  Promise.resolve(
    jaxPeer({
      async load(req: ChildRequest) {
        const pool = basePeer(req.peer) === "jax-js-workers";
        // Before the import: jax-js decides on its pool (and on shared memory) when it starts.
        if (pool) {
          Object.defineProperty(navigator, "hardwareConcurrency", {
            value: req.threads,
            configurable: true,
          });
        } else {
          Object.defineProperty(globalThis, "Worker", { value: undefined, configurable: true });
        }
        const jax: Jax = await import("@jax-js/jax");
        const canPool = typeof SharedArrayBuffer === "function" && typeof Worker === "function";
        return {
          jax,
          threadsUsed: pool && canPool ? req.threads : 1,
          info: {
            workers: !pool
              ? "none (its own thread)"
              : canPool
                ? `${req.threads} (Web Workers)`
                : "none (no SharedArrayBuffer or Worker here)",
          },
        };
      },
    }),
  ),
);
