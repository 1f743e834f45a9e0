/**
 * Node built-ins, loaded on first use rather than imported at the top of the file, so that the
 * pure parts of `tg.io` and `tg.report` (safetensors encoding, SVG charts) still load in a browser
 * bundle: only the functions that touch the file system need Node, and they say so when missing.
 */
import type * as childProcess from "node:child_process";
import type * as crypto from "node:crypto";
import type * as fs from "node:fs";
import type * as module from "node:module";
import type * as path from "node:path";
import { TsgradError } from "../tensor/errors.js";

/** The built-ins tsgrad uses, by id. */
interface NodeModules {
  "node:child_process": typeof childProcess;
  "node:crypto": typeof crypto;
  "node:fs": typeof fs;
  "node:module": typeof module;
  "node:path": typeof path;
}

/** A Node built-in module, or a TsgradError naming `op` when not running under Node. */
export function nodeModule<K extends keyof NodeModules>(op: string, id: K): NodeModules[K] {
  const proc = (globalThis as { process?: NodeJS.Process }).process;
  const mod = typeof proc?.getBuiltinModule === "function" ? proc.getBuiltinModule(id) : undefined;
  if (mod === undefined) {
    throw new TsgradError(op, `needs Node.js >= 20.16 (${id} is not available here)`);
  }
  return mod as unknown as NodeModules[K];
}

/** The message of an unknown thrown value, for wrapping file-system errors. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
