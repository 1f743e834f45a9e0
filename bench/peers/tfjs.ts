/**
 * tfjs in a Node child: tfjs-core with its gradients and both backends from one esbuild bundle
 * (`lib/tfjs-bundle.ts`, as the `@tensorflow/tfjs` package would provide them), the wasm
 * binaries from the installed `@tensorflow/tfjs-backend-wasm`. The peer itself is
 * `tfjs-common.ts`.
 */
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { buildTfjsBundle, wasmBinaryDir } from "../lib/tfjs-bundle.js";
import { type Tfjs, tfjsPeer } from "./tfjs-common.js";

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

export const peer = tfjsPeer({
  load: async () => (await import(pathToFileURL(await buildTfjsBundle(ROOT)).href)) as Tfjs,
  wasmPaths: () => wasmBinaryDir(ROOT),
});
