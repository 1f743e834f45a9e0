/**
 * Fashion-MNIST (Xiao, Rasul, Vollgraf 2017, arXiv:1708.07747; MIT licence): 28×28 grey images of
 * ten clothing classes, 60 000 train / 10 000 test, in gzip IDX files. `"fashion-mnist"` is the
 * full set (Debian package `dataset-fashion-mnist`, or the official download); the
 * `"fashion-mnist-sample"` bundled with tsgrad is a class-balanced 5 000 / 1 000 subset of it
 * (see data/fashion-mnist-sample/README.md).
 */
import type { ImageDataset } from "./dataset.js";
import { readIdxDataset } from "./idx.js";
import { type DatasetOptions, type ResolvedDataset, resolveDataset } from "./locate.js";

/** The ten Fashion-MNIST classes, in label order (torchvision's names). */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

/** The full set or the bundled sample. */
export type FashionMnistName = "fashion-mnist" | "fashion-mnist-sample";

/** Options of `resolveFashionMnist` and `loadFashionMnist`. */
export interface FashionMnistOptions extends DatasetOptions {
  /** Which copy to use (default `"fashion-mnist"`, the full set). */
  name?: FashionMnistName;
}

/**
 * Locate the Fashion-MNIST files: `{ data }`, else `$TSGRAD_DATA/<name>/`, else the project's
 * `data/<name>/`, else `/usr/share/datasets/fashion-mnist/` (full set only). When nothing is
 * found, the error lists the folders searched and how to get the files. Node only.
 *
 * @example
 * const found = tg.data.resolveFashionMnist({ name: "fashion-mnist-sample" });
 * console.log(found.files["t10k-labels-idx1-ubyte"]!.endsWith(".gz")); // true
 */
export function resolveFashionMnist(options: FashionMnistOptions = {}): ResolvedDataset {
  return resolveDataset(options.name ?? "fashion-mnist", options);
}

/**
 * Load the Fashion-MNIST train (default) or test split as an `ImageDataset` `[N, 1, 28, 28]`.
 * Node only.
 *
 * @example
 * const test = tg.data.loadFashionMnist({ name: "fashion-mnist-sample", train: false });
 * console.log(test.shape, test.classCounts()); // [1000, 1, 28, 28] [100, 100, 100, 100, 100, 100, 100, 100, 100, 100]
 */
export function loadFashionMnist(
  options: FashionMnistOptions & { train?: boolean } = {},
): ImageDataset {
  const { files } = resolveFashionMnist(options);
  const split = options.train === false ? "t10k" : "train";
  return readIdxDataset(
    files[`${split}-images-idx3-ubyte`]!,
    files[`${split}-labels-idx1-ubyte`]!,
    FASHION_MNIST_CLASSES,
  );
}
