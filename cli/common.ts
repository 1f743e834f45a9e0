/** Flags and helpers shared by the training commands. */
import * as tg from "../src/index.ts";
import { UsageError } from "./args.ts";

export const backendFlags = {
  backend: {
    type: "string",
    help: "kernel backend: native or js (default: native when available, else js; or $TSGRAD_BACKEND)",
  },
  threads: {
    type: "int",
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
