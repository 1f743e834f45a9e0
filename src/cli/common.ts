/** Flags and helpers shared by the training commands. */
import { readFileSync } from "node:fs";
import * as tg from "../index.js";
import { UsageError } from "./args.js";

export const backendFlags = {
  backend: {
    type: "string",
    help: "kernel backend: native or js (default: native when available, else js; or $TSGRAD_BACKEND)",
  },
  threads: {
    type: "int",
    min: 1,
    max: 1024,
    help: "threads for the native backend (default: all cores, or $TSGRAD_NUM_THREADS)",
  },
} as const;

/** Apply --backend/--threads; returns the active backend's name. */
export function applyBackend(flags: {
  backend?: string | undefined;
  threads?: number | undefined;
}): string {
  if (flags.backend !== undefined) tg.setBackend(flags.backend);
  const b = tg.getBackend();
  if (flags.threads !== undefined) {
    if (!b.setNumThreads) {
      throw new UsageError(`--threads: the ${b.name} backend is single-threaded`);
    }
    b.setNumThreads(flags.threads);
  }
  return b.name;
}

/**
 * Read a `--config` JSON object (a recipe's `config.json`). Keys starting with "_" or "//" are
 * comments, so recipe files can document themselves; they are dropped.
 */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read --config ${path}: ${(e as Error).message}`);
  }
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
    return Object.fromEntries(Object.entries(v).filter(([k]) => !/^(_|\/\/)/.test(k)));
  } catch (e) {
    throw new UsageError(`--config ${path} is not a JSON object (${(e as Error).message})`);
  }
}
