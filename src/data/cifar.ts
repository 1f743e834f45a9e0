/**
 * The CIFAR binary format (https://www.cs.toronto.edu/~kriz/cifar.html): fixed-size records of
 * label byte(s) followed by a 32×32 colour image stored channel-major (1024 R, 1024 G, 1024 B) —
 * already the CHW layout of `ImageDataset`, so records are copied without reordering.
 * `parseCifar` works on bytes anywhere; `readCifarFiles` and `loadCifar10` are Node wrappers.
 */
import { TsgradError } from "../tensor/errors.js";
import { ImageDataset, sharedBytes } from "./dataset.js";
import { readMaybeGzip } from "./idx.js";
import { type DatasetOptions, resolveDataset } from "./locate.js";
import { nodeModule } from "../io/node.js";

/** The ten CIFAR-10 classes, in label order. */
export const CIFAR10_CLASSES: readonly string[] = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
];

/** Record layout of a CIFAR-style binary file. The defaults are CIFAR-10's. */
export interface CifarFormat {
  /** Label bytes before each image (CIFAR-10: 1; CIFAR-100: 2, coarse then fine). */
  labelBytes?: number;
  /** Which label byte is the label (default: the last one). */
  labelIndex?: number;
  /** Labels must lie in [0, numClasses) (default 10). */
  numClasses?: number;
  /** Image shape `[C, H, W]` (default [3, 32, 32]). */
  imageShape?: readonly [number, number, number];
}

/** Pixels NCHW and labels decoded from CIFAR-style binary records. */
export interface CifarData {
  pixels: Uint8Array;
  labels: Int32Array;
  shape: [number, number, number, number];
}

/**
 * Decode CIFAR-style binary records. `name` is used in error messages, which report a length
 * that is not a whole number of records and any label outside `[0, numClasses)`.
 *
 * @example
 * const rec = new Uint8Array(3073);
 * rec[0] = 7; rec[1] = 255;
 * const { labels, pixels, shape } = tg.data.parseCifar(rec);
 * console.log(shape, labels[0], pixels[0]); // [1, 3, 32, 32] 7 255
 */
export function parseCifar(
  bytes: Uint8Array,
  format: CifarFormat = {},
  name = "<cifar bytes>",
): CifarData {
  const { labelBytes = 1, numClasses = 10, imageShape = [3, 32, 32] } = format;
  const labelIndex = format.labelIndex ?? labelBytes - 1;
  if (!(labelIndex >= 0 && labelIndex < labelBytes)) {
    throw new TsgradError(name, `labelIndex ${labelIndex} is not one of ${labelBytes} label bytes`);
  }
  const size = imageShape[0] * imageShape[1] * imageShape[2];
  const record = labelBytes + size;
  if (bytes.length === 0 || bytes.length % record !== 0) {
    throw new TsgradError(
      name,
      `expected a non-zero multiple of ${record}-byte records (${labelBytes} label + ${size} pixels), got ${bytes.length} bytes (${(bytes.length / record).toFixed(2)} records)`,
    );
  }
  const n = bytes.length / record;
  const pixels = sharedBytes(n * size);
  const labels = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const label = bytes[r * record + labelIndex]!;
    if (label >= numClasses) {
      throw new TsgradError(
        name,
        `label ${label} in record ${r} is out of range [0, ${numClasses})`,
      );
    }
    labels[r] = label;
    pixels.set(bytes.subarray(r * record + labelBytes, (r + 1) * record), r * size);
  }
  return { pixels, labels, shape: [n, imageShape[0], imageShape[1], imageShape[2]] };
}

/**
 * Read and concatenate CIFAR-style binary files (raw or gzip) into one dataset. Node only.
 *
 * @example
 * const { tmpdir } = process.getBuiltinModule("node:os");
 * const { writeFileSync } = process.getBuiltinModule("node:fs");
 * const path = `${tmpdir()}/tsgrad-doc-cifar.bin`;
 * writeFileSync(path, new Uint8Array(2 * 3073).fill(3));
 * const ds = tg.data.readCifarFiles([path], tg.data.CIFAR10_CLASSES);
 * console.log(ds.shape, ds.classes[ds.label(1)]); // [2, 3, 32, 32] "cat"
 */
export function readCifarFiles(
  paths: readonly string[],
  classes: readonly string[],
  format: CifarFormat = {},
): ImageDataset {
  if (paths.length === 0) throw new TsgradError("readCifarFiles", "no files given");
  const parts = paths.map((p) =>
    parseCifar(readMaybeGzip(p), { numClasses: classes.length, ...format }, p),
  );
  const [, c, h, w] = parts[0]!.shape;
  const n = parts.reduce((a, p) => a + p.shape[0], 0);
  const pixels = sharedBytes(n * c * h * w);
  const labels = new Int32Array(n);
  let at = 0;
  for (const p of parts) {
    pixels.set(p.pixels, at * c * h * w);
    labels.set(p.labels, at);
    at += p.shape[0];
  }
  return new ImageDataset({
    pixels,
    labels,
    shape: [n, c, h, w],
    classes,
    source: paths.length === 1 ? paths[0]! : nodeModule("readCifarFiles", "node:path").dirname(paths[0]!),
  });
}

/** The files of the CIFAR-10 binary release (`cifar-10-batches-bin/`). */
export const CIFAR10_FILES = {
  train: ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"],
  test: ["test_batch.bin"],
  meta: "batches.meta.txt",
} as const;

/**
 * Load CIFAR-10 from its binary release (50 000 train or 10 000 test images, `[N, 3, 32, 32]`),
 * located by `resolveDataset` (folder `cifar-10-batches-bin` or `cifar-10`). Class names come
 * from `batches.meta.txt` when present. Node only.
 *
 * @example
 * try {
 *   tg.data.loadCifar10({ data: "/nonexistent" });
 * } catch (e) {
 *   console.log(String(e).includes("cifar-10-binary.tar.gz")); // true
 * }
 */
export function loadCifar10(options: DatasetOptions & { train?: boolean } = {}): ImageDataset {
  const { dir, files: found } = resolveDataset("cifar-10", options);
  const path = nodeModule("loadCifar10", "node:path");
  const fs = nodeModule("loadCifar10", "node:fs");
  const metaPath = path.join(dir, CIFAR10_FILES.meta);
  let classes = CIFAR10_CLASSES;
  if (fs.existsSync(metaPath)) {
    let text: string;
    try {
      text = fs.readFileSync(metaPath, "utf8");
    } catch (e) {
      throw new TsgradError(metaPath, `cannot read the class names: ${(e as Error).message}`);
    }
    classes = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l.length > 0);
    // Labels are single bytes: more names than 256, or none, mean this is not the class list.
    if (classes.length === 0 || classes.length > 256) {
      throw new TsgradError(metaPath, `lists ${classes.length} class names, expected 1 to 256`);
    }
  }
  const files = options.train === false ? CIFAR10_FILES.test : CIFAR10_FILES.train;
  return readCifarFiles(
    files.map((f) => found[f]!),
    classes,
  );
}
