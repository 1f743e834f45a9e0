/**
 * The one place tsgrad reaches Node's built-ins: loaded on first use through
 * `process.getBuiltinModule` (synchronous, Node >= 20.16) rather than imported at the top of a
 * file, so that every module still loads in a browser bundle. Only the functions that touch the
 * file system, processes or threads need Node, and outside Node they throw a `TsgradError` that
 * names the call and what to use in a browser instead.
 */
import type * as childProcess from "node:child_process";
import type * as crypto from "node:crypto";
import type * as fs from "node:fs";
import type * as module from "node:module";
import type * as os from "node:os";
import type * as path from "node:path";
import type * as url from "node:url";
import type * as workerThreads from "node:worker_threads";
import type * as zlib from "node:zlib";
import { TsgradError } from "../tensor/errors.js";

/** The built-ins tsgrad uses, by id. */
interface NodeModules {
  "node:child_process": typeof childProcess;
  "node:crypto": typeof crypto;
  "node:fs": typeof fs;
  "node:module": typeof module;
  "node:os": typeof os;
  "node:path": typeof path;
  "node:url": typeof url;
  "node:worker_threads": typeof workerThreads;
  "node:zlib": typeof zlib;
}

/** The parts of Node's `process` tsgrad reads. */
interface NodeProcess {
  getBuiltinModule(id: string): unknown;
  env: Record<string, string | undefined>;
  cwd(): string;
}

/** Node's `process`, or null outside Node (a browser, a worker without Node). */
export function nodeProcess(): NodeProcess | null {
  const p = (globalThis as { process?: Partial<NodeProcess> }).process;
  return p && typeof p.getBuiltinModule === "function" ? (p as NodeProcess) : null;
}

/**
 * What to do in a browser instead of the file-system calls that have no in-memory twin: the
 * README's "In the browser" section shows a training loop without run folders.
 */
const IN_BROWSER_DEFAULT =
  "work in memory instead (tensors, tg.nn, tg.optim, tg.io.encodeCheckpoint/decodeCheckpoint; " +
  'see "In the browser" in tsgrad\'s README)';

/**
 * A Node built-in module, or a TsgradError naming `op` when not running under Node. `inBrowser`
 * says what to call instead in a browser (e.g. "pass the file's bytes: …").
 */
export function nodeModule<K extends keyof NodeModules>(
  op: string,
  id: K,
  inBrowser: string = IN_BROWSER_DEFAULT,
): NodeModules[K] {
  const mod = nodeProcess()?.getBuiltinModule(id);
  if (mod === undefined) {
    throw new TsgradError(
      op,
      `needs Node.js >= 20.16 (${id} is not available here); in a browser, ${inBrowser}`,
    );
  }
  return mod as NodeModules[K];
}

/** `node:worker_threads`, or null outside Node (the DataLoader then builds batches in-thread). */
export function nodeWorkerThreads(): typeof workerThreads | null {
  return nodeProcess() ? nodeModule("DataLoader", "node:worker_threads") : null;
}

/** `require` for CommonJS dependencies (the image codecs, resvg), resolved from this package. */
export function nodeRequire(
  op: string,
  inBrowser?: string,
): { (id: string): unknown; resolve(id: string): string } {
  return nodeModule(op, "node:module", inBrowser).createRequire(import.meta.url);
}

/** The message of an unknown thrown value, for wrapping file-system errors. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
