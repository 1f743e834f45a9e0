/**
 * tfjs in the browser bench: tfjs-core's ES build with its gradients and the wasm backend (and
 * the cpu backend it builds on), bundled as an app using `@tensorflow/tfjs` gets them; the wasm
 * binaries come from the page's `tfjs/` folder (copied from the installed
 * `@tensorflow/tfjs-backend-wasm/dist`). In a cross-origin-isolated page's worker it picks its
 * threaded SIMD build; the gradient kernels it lacks are patched in as in Node.
 *
 * Its thread pool is capped at half of `navigator.hardwareConcurrency` (tfjs-backend-wasm's
 * backend.cc assumes two hyperthreads per core), whatever `setThreadsCount` asks: on a machine
 * whose logical CPUs are cores (this 2-vCPU VM: one thread per core) it would run on one thread
 * of two. The worker reports twice `--threads` before tfjs starts, so the cap lets it use
 * `--threads`; the result records the count tfjs itself reports (`getThreadsCount`).
 */
import * as core from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients.js";
import * as cpuBackend from "@tensorflow/tfjs-backend-cpu";
import * as wasmBackend from "@tensorflow/tfjs-backend-wasm";
import { type Tfjs, tfjsPeer } from "../peers/tfjs-common.js";
import { serve } from "./worker.js";

const tf = { ...core, wasmBackend, cpuBackend } as Tfjs;

serve(() =>
  Promise.resolve(
    tfjsPeer({
      load: (req) => {
        Object.defineProperty(navigator, "hardwareConcurrency", {
          value: 2 * req.threads,
          configurable: true,
        });
        return Promise.resolve(tf);
      },
      wasmPaths: () => new URL("tfjs/", self.location.href).href,
    }),
  ),
);
