/** Shared helpers for the lm tests: temporary folders (removed afterwards) and tiny configs. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A fresh empty folder under the OS temp dir. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "tsgrad-lm-"));
  made.push(d);
  return d;
}

/** Options that keep `trainLM` quiet and away from git and process signals. */
export const QUIET = {
  gitCwd: false,
  progress: false,
  log: () => {},
  handleSignals: false,
} as const;

/** A one-layer, 16-wide model trained for `steps` steps of 4 × 16 characters of Tiny Shakespeare. */
export function tinyConfig(steps: number, extra: Record<string, unknown> = {}) {
  return {
    nLayer: 1,
    nHead: 1,
    nEmbd: 16,
    blockSize: 16,
    batchSize: 4,
    tokens: 4 * 16 * steps,
    warmupSteps: 2,
    lr: 1e-2,
    evalInterval: 10,
    evalBatches: 2,
    evalBatchSize: 8,
    logInterval: 5,
    ...extra,
  };
}
