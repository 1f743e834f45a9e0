/**
 * tsgrad: deep learning in TypeScript. This is the Node.js entry (`import * as tg from "tsgrad"`
 * under Node): everything in `src/exports.ts`, with the native (oneDNN) backend registered and
 * chosen when its addon loads. Browsers get `src/browser.ts`, the same API without the addon.
 *
 * @example
 * import * as tg from "tsgrad";
 * const x = tg.tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * const y = x.matmul(x).relu().sum();
 * y.backward();
 * console.log(x.grad!.toArray()); // [[7, 11], [9, 13]]
 */
import { jsBackend } from "./backends/js/index.js";
import { nativeBackend, nativeBulkUniform } from "./backends/native/index.js";
import { registerBackend, setDefaultBackendChooser } from "./backends/backend.js";
import { wasmBackend } from "./backends/wasm/index.js";
import { setBulkUniformKernel } from "./tensor/random.js";

// The oneDNN addon is optional: it is probed lazily, and where it cannot load (a machine without
// libdnnl) the WebAssembly kernels are the default, else the reference backend.
registerBackend(nativeBackend);
registerBackend(wasmBackend);
setDefaultBackendChooser(() =>
  nativeBackend.available() ? nativeBackend : wasmBackend.available() ? wasmBackend : jsBackend,
);
// Long float32 draws (dropout masks above all) take the addon's copy of the generator loop when
// it is there, whatever the backend: the numbers are the same, drawn several times sooner.
setBulkUniformKernel(nativeBulkUniform);

export * from "./exports.js";
export { nativeBackend } from "./backends/native/index.js";
