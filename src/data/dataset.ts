/**
 * Datasets. `Dataset<T>` is PyTorch's map-style protocol (`length` + `get(i)`); `ImageDataset`
 * is the in-memory image classification set every reader in `tg.data` returns.
 *
 * Layout: pixels are uint8 in **NCHW** order — image `k` occupies
 * `pixels[k*C*H*W, (k+1)*C*H*W)`, channel-major — which is already the layout of a batch tensor
 * `[B, C, H, W]`, so collating is a copy and a scale. Subsets and splits share the pixel storage
 * and keep an index map instead of copying.
 */
import { TsgradError } from "../tensor/errors.js";
import { type Generator, defaultGenerator } from "../tensor/random.js";

/**
 * Where a typed array of `n` elements should live: on a `SharedArrayBuffer` when the platform has
 * one, so the DataLoader's worker threads can read dataset pixels without copying them.
 *
 * @example
 * const px = tg.data.sharedBytes(4);
 * console.log(px.length, px.buffer instanceof SharedArrayBuffer); // 4 true
 */
export function sharedBytes(n: number): Uint8Array {
  return typeof SharedArrayBuffer === "function"
    ? new Uint8Array(new SharedArrayBuffer(n))
    : new Uint8Array(n);
}

/** A map-style dataset, as `torch.utils.data.Dataset`: `length` items, read with `get(i)`. */
export interface Dataset<T> {
  readonly length: number;
  get(index: number): T;
}

/** One image and its label. `image` is a read-only view of the dataset's pixels, CHW uint8. */
export interface ImageSample {
  image: Uint8Array;
  label: number;
}

/** What `new ImageDataset(...)` needs. */
export interface ImageDatasetInit {
  /** uint8 pixels of `shape[0]` images, NCHW. Kept by reference (not copied). */
  pixels: Uint8Array;
  /** One class index per image, each in `[0, classes.length)`. */
  labels: ArrayLike<number>;
  /** `[N, C, H, W]`. */
  shape: readonly [number, number, number, number];
  /** Class names; label `i` means `classes[i]`. */
  classes: readonly string[];
  /** Where the errors say the data came from (a file or folder name). */
  source?: string;
}

/**
 * An in-memory image classification dataset: uint8 pixels `[N, C, H, W]`, int32 labels, class
 * names. `get(i)` returns a view of image `i` and its label; `subset` and `randomSplit` select
 * images without copying pixels.
 *
 * @example
 * const ds = new tg.data.ImageDataset({
 *   pixels: new Uint8Array([0, 255, 10, 20, 30, 40, 50, 60]),
 *   labels: [1, 0],
 *   shape: [2, 1, 2, 2],
 *   classes: ["cat", "dog"],
 * });
 * const { image, label } = ds.get(1);
 * console.log(ds.length, Array.from(image), ds.classes[label]); // 2 [30, 40, 50, 60] "cat"
 */
export class ImageDataset implements Dataset<ImageSample> {
  /** Pixel storage shared with every subset; image `k` of the storage is at `k * C*H*W`. */
  readonly pixels: Uint8Array;
  /** Labels of the storage images (not of this subset; use `label(i)` or `get(i)`). */
  readonly labels: Int32Array;
  readonly classes: readonly string[];
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** Which storage images this dataset exposes, in order; null = all of them. */
  readonly indices: Int32Array | null;
  readonly source: string;

  constructor(init: ImageDatasetInit, indices: Int32Array | null = null) {
    const { pixels, labels, shape, classes } = init;
    this.source = init.source ?? "ImageDataset";
    const [n, c, h, w] = shape;
    if (![n, c, h, w].every((d) => Number.isInteger(d) && d >= 0) || c < 1) {
      throw new TsgradError(this.source, `bad image shape [${shape.join(",")}]`);
    }
    if (pixels.length !== n * c * h * w) {
      throw new TsgradError(
        this.source,
        `shape [${shape.join(",")}] needs ${n * c * h * w} pixels, got ${pixels.length}`,
      );
    }
    if (labels.length !== n) {
      throw new TsgradError(this.source, `${n} images but ${labels.length} labels`);
    }
    if (classes.length === 0) throw new TsgradError(this.source, "needs at least one class name");
    this.labels = labels instanceof Int32Array ? labels : new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const y = labels[i]!;
      if (!Number.isInteger(y) || y < 0 || y >= classes.length) {
        throw new TsgradError(
          this.source,
          `label ${y} at index ${i} is out of range [0, ${classes.length})`,
        );
      }
      this.labels[i] = y;
    }
    this.pixels = pixels;
    this.classes = classes;
    this.channels = c;
    this.height = h;
    this.width = w;
    this.indices = indices;
  }

  /** Number of images in this dataset (or subset). */
  get length(): number {
    return this.indices ? this.indices.length : this.labels.length;
  }

  /** `[N, C, H, W]` of this dataset. */
  get shape(): [number, number, number, number] {
    return [this.length, this.channels, this.height, this.width];
  }

  /** Number of classes (`classes.length`). */
  get numClasses(): number {
    return this.classes.length;
  }

  /** Position of image `i` in the pixel storage. */
  storageIndex(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) {
      throw new TsgradError(this.source, `index ${i} out of range for ${this.length} images`);
    }
    return this.indices ? this.indices[i]! : i;
  }

  /** The label of image `i`. */
  label(i: number): number {
    return this.labels[this.storageIndex(i)]!;
  }

  /** Image `i` (a CHW view of the pixels; do not write to it) and its label. */
  get(i: number): ImageSample {
    const k = this.storageIndex(i);
    const size = this.channels * this.height * this.width;
    return { image: this.pixels.subarray(k * size, (k + 1) * size), label: this.labels[k]! };
  }

  /**
   * The images at `indices` (positions in this dataset), sharing pixel storage.
   *
   * @example
   * const ds = tg.data.loadFashionMnist({ name: "fashion-mnist-sample", train: false });
   * const few = ds.subset([0, 2, 4]);
   * console.log(few.length, few.label(1) === ds.label(2)); // 3 true
   */
  subset(indices: ArrayLike<number>): ImageDataset {
    const map = new Int32Array(indices.length);
    for (let j = 0; j < indices.length; j++) map[j] = this.storageIndex(indices[j]!);
    return new ImageDataset(
      {
        pixels: this.pixels,
        labels: this.labels,
        shape: [this.labels.length, this.channels, this.height, this.width],
        classes: this.classes,
        source: this.source,
      },
      map,
    );
  }

  /** The number of images of each class, indexed by label. */
  classCounts(): number[] {
    const counts = new Array<number>(this.classes.length).fill(0);
    for (let i = 0; i < this.length; i++) counts[this.label(i)]!++;
    return counts;
  }

  /**
   * A copy of these images as one uint8 array `[N, C, H, W]` on shared memory, plus their
   * labels (e.g. to write a subset to disk).
   */
  toArrays(): { pixels: Uint8Array; labels: Int32Array } {
    const size = this.channels * this.height * this.width;
    const pixels = sharedBytes(this.length * size);
    const labels = new Int32Array(this.length);
    for (let i = 0; i < this.length; i++) {
      const k = this.storageIndex(i);
      pixels.set(this.pixels.subarray(k * size, (k + 1) * size), i * size);
      labels[i] = this.labels[k]!;
    }
    return { pixels, labels };
  }
}

/** Anything `randomSplit` can split: a length and a way to take a subset. */
export interface Splittable<D> {
  readonly length: number;
  subset(indices: ArrayLike<number>): D;
}

/**
 * Split a dataset into non-overlapping random subsets, as `torch.utils.data.random_split`.
 * `sizes` are counts summing to `dataset.length`, or fractions summing to 1 (each split gets
 * `floor(f * n)` and the remainder is dealt one by one from the first split on).
 *
 * @example
 * const ds = tg.data.loadFashionMnist({ name: "fashion-mnist-sample", train: false });
 * const [train, val] = tg.data.randomSplit(ds, [0.9, 0.1], new tg.Generator(0));
 * console.log(train.length, val.length); // 900 100
 */
export function randomSplit<D>(
  dataset: Splittable<D>,
  sizes: readonly number[],
  generator: Generator = defaultGenerator,
): D[] {
  const n = dataset.length;
  let counts: number[];
  const total = sizes.reduce((a, b) => a + b, 0);
  if (sizes.length === 0 || sizes.some((s) => !(s >= 0))) {
    throw new TsgradError("randomSplit", `sizes must be non-negative, got [${sizes.join(", ")}]`);
  }
  if (sizes.every((s) => Number.isInteger(s)) && total === n) {
    counts = [...sizes];
  } else if (Math.abs(total - 1) < 1e-9 && sizes.every((s) => s <= 1)) {
    counts = sizes.map((f) => Math.floor(f * n));
    let rest = n - counts.reduce((a, b) => a + b, 0);
    for (let i = 0; rest > 0; i = (i + 1) % counts.length, rest--) counts[i]!++;
  } else {
    throw new TsgradError(
      "randomSplit",
      `sizes [${sizes.join(", ")}] must be counts summing to the dataset length ${n} or fractions summing to 1`,
    );
  }
  const perm = generator.permutation(n);
  const out: D[] = [];
  let at = 0;
  for (const c of counts) {
    out.push(dataset.subset(perm.subarray(at, at + c)));
    at += c;
  }
  return out;
}
