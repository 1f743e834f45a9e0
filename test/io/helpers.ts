/** Shared helpers for the io tests: temporary folders (removed afterwards) and the PyTorch fixture. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll } from "vitest";

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A fresh empty folder under the OS temp dir. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "tsgrad-io-"));
  made.push(d);
  return d;
}

/** One tensor as described by test/io/fixtures/torch.json (flat row-major values). */
export interface FixtureTensor {
  dtype: string;
  shape: number[];
  values: (number | boolean | string)[];
}

/** test/io/fixtures/torch.json, written by test/io/generate_fixture.py. */
export interface Fixture {
  version: number;
  files: Record<
    string,
    { metadata: Record<string, string>; tensors: Record<string, FixtureTensor> }
  >;
}

/** Path of a file in test/io/fixtures. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/** The parsed fixture description. */
export function loadFixture(): Fixture {
  return JSON.parse(readFileSync(fixturePath("torch.json"), "utf8")) as Fixture;
}
