/** Shared helpers of the tg.data tests: temporary folders and small synthetic datasets. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tg from "../../src/index.js";

/** A fresh empty folder under the OS temp dir. */
export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `tsgrad-data-${tag}-`));
}

/**
 * `n` images of shape [c, h, w] whose pixel values encode (image, position), so that any
 * misplaced pixel shows up in a comparison; labels cycle through `numClasses`.
 */
export function syntheticDataset(
  n: number,
  [c, h, w]: [number, number, number],
  numClasses = 3,
): tg.data.ImageDataset {
  const size = c * h * w;
  const pixels = tg.data.sharedBytes(n * size);
  for (let i = 0; i < n; i++) for (let p = 0; p < size; p++) pixels[i * size + p] = (i * 7 + p * 3) % 256;
  const labels = Array.from({ length: n }, (_, i) => i % numClasses);
  const classes = Array.from({ length: numClasses }, (_, k) => `class${k}`);
  return new tg.data.ImageDataset({ pixels, labels, shape: [n, c, h, w], classes });
}
