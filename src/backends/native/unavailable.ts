/**
 * `nativeBackend` as the browser entry exports it: the same object shape as the Node entry's, so
 * code written against either type-checks, but never available and never registered (the addon
 * is a Node-API module). Every call that would need the addon throws, naming the js backend.
 */
import { TsgradError } from "../../tensor/errors.js";
import type { NativeBackend } from "./index.js";

const REASON = "the native backend is a Node.js addon; in a browser tsgrad runs on the js backend";

function unavailable(): never {
  throw new TsgradError("native", `backend not available: ${REASON}`);
}

/**
 * The native backend of the browser entry: `available()` is false and `unavailableReason()` says
 * why; `tg.getBackend()` is the js backend.
 *
 * @example
 * const native = tg.nativeBackend;
 * console.log(native.available() || native.unavailableReason().length > 0); // true
 */
export const nativeBackend: NativeBackend = {
  name: "native",
  kernels: {},
  fused: {},
  get optimizer(): never {
    return unavailable();
  },
  available: () => false,
  unavailableReason: () => REASON,
  numThreads: unavailable,
  setNumThreads: unavailable,
  clearCaches: unavailable,
  info: unavailable,
};
