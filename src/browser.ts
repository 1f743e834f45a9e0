/**
 * tsgrad's entry for browsers, Web Workers and any runtime without Node's built-ins (bundlers
 * pick it through the package's `browser` condition). The same API as the Node entry, on the js
 * backend: it imports no `node:` module and no native addon. What needs a file system (reading
 * a path, writing a run folder) throws a `TsgradError` that names the in-memory alternative, e.g.
 * `tg.io.loadCheckpoint(await file.arrayBuffer())` instead of a path.
 *
 * @example
 * // A bundler resolves "tsgrad" here for the browser.
 * import * as tg from "tsgrad";
 * console.log(tg.getBackend().name === "js" || tg.getBackend().name === "native"); // true
 */
import { jsBackend } from "./backends/js/index.js";
import { registerBackend, setDefaultBackendChooser } from "./backends/backend.js";
import { wasmBackend } from "./backends/wasm/index.js";

// The WebAssembly kernels where the engine runs them (every current browser), else the reference.
registerBackend(wasmBackend);
setDefaultBackendChooser(() => (wasmBackend.available() ? wasmBackend : jsBackend));

export * from "./exports.js";
export { nativeBackend } from "./backends/native/unavailable.js";
