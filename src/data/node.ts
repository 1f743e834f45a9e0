/**
 * Access to Node built-ins without a static `import "node:…"`, so that `tg.data` (and therefore
 * the whole library) still loads in a browser. `process.getBuiltinModule` (Node >= 20.16) is
 * synchronous, which keeps the file readers synchronous too. Every helper throws a `TsgradError`
 * naming the caller when it runs outside Node. Internal to tg.data.
 */
import type * as FsModule from "node:fs";
import type * as ModuleModule from "node:module";
import type * as PathModule from "node:path";
import type * as UrlModule from "node:url";
import type * as WorkerThreadsModule from "node:worker_threads";
import type * as ZlibModule from "node:zlib";
import { TsgradError } from "../tensor/errors.js";

interface NodeProcess {
  getBuiltinModule?: (id: string) => unknown;
  env: Record<string, string | undefined>;
  cwd(): string;
}

/** The Node `process` object, or null in a browser. */
export function nodeProcess(): NodeProcess | null {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p && typeof p.getBuiltinModule === "function" ? p : null;
}

function builtin<T>(id: string, caller: string): T {
  const p = nodeProcess();
  if (!p) {
    throw new TsgradError(caller, `needs Node.js (module ${id}); it is not available here`);
  }
  return p.getBuiltinModule!(id) as T;
}

export const nodeFs = (caller: string): typeof FsModule => builtin("node:fs", caller);
export const nodePath = (caller: string): typeof PathModule => builtin("node:path", caller);
export const nodeZlib = (caller: string): typeof ZlibModule => builtin("node:zlib", caller);
export const nodeUrl = (caller: string): typeof UrlModule => builtin("node:url", caller);

/** `node:worker_threads`, or null when this is not Node (the loader then builds batches in-thread). */
export function nodeWorkerThreads(): typeof WorkerThreadsModule | null {
  return nodeProcess() ? builtin<typeof WorkerThreadsModule>("node:worker_threads", "") : null;
}

/** `require` for the CommonJS image codecs (pngjs, jpeg-js), resolved from this package. */
export function nodeRequire(caller: string): NodeJS.Require {
  return builtin<typeof ModuleModule>("node:module", caller).createRequire(import.meta.url);
}
