/**
 * The image datasets the training CLI knows by name, loaded as train/test `ImageDataset`s, with
 * per-channel normalisation statistics computed from the training images.
 */
import { loadCifar10 } from "../data/cifar.js";
import type { ImageDataset } from "../data/dataset.js";
import { loadFashionMnist } from "../data/fashion-mnist.js";
import { loadImageFolder } from "../data/image-folder.js";
import { TsgradError } from "../tensor/errors.js";

export interface ImageData {
  train: ImageDataset;
  test: ImageDataset;
  classes: readonly string[];
  /** Per-channel mean and standard deviation of the training pixels, in [0, 1] units. */
  mean: number[];
  std: number[];
}

/**
 * Load a dataset by name: "fashion-mnist" (the full set: `--data` path, `$TSGRAD_DATA`, the
 * project's `data/`, or Debian's `dataset-fashion-mnist`), "fashion-mnist-sample" (bundled),
 * "cifar10" (binary batches), or a folder `root/{train,test}/<class>/*.png|jpg`.
 *
 * @example
 * const d = tg.vision.loadImageData("fashion-mnist-sample");
 * console.log(d.train.length, d.test.length, d.classes.length, d.mean.length); // 5000 1000 10 1
 */
export function loadImageData(
  name: string,
  opts: { data?: string; channels?: 1 | 3 } = {},
): ImageData {
  let train: ImageDataset;
  let test: ImageDataset;
  const where = opts.data !== undefined ? { data: opts.data } : {};
  if (name === "fashion-mnist" || name === "fashion-mnist-sample") {
    train = loadFashionMnist({ name, train: true, ...where });
    test = loadFashionMnist({ name, train: false, ...where });
  } else if (name === "cifar10" || name === "cifar-10") {
    train = loadCifar10({ train: true, ...where });
    test = loadCifar10({ train: false, ...where });
  } else if (name === "folder") {
    if (opts.data === undefined) {
      throw new TsgradError(
        "loadImageData",
        `"folder" needs a path (--data root, with root/train/<class>/ and root/test/<class>/)`,
      );
    }
    train = loadImageFolder(`${opts.data}/train`, { channels: opts.channels ?? 3 });
    test = loadImageFolder(`${opts.data}/test`, {
      channels: opts.channels ?? 3,
      size: [train.height, train.width],
    });
  } else {
    throw new TsgradError(
      "loadImageData",
      `unknown dataset "${name}" (known: fashion-mnist, fashion-mnist-sample, cifar10, folder)`,
    );
  }
  if (
    test.channels !== train.channels ||
    test.height !== train.height ||
    test.width !== train.width
  ) {
    throw new TsgradError(
      test.source,
      `test images are ${test.channels}×${test.height}×${test.width}, training images ${train.channels}×${train.height}×${train.width}`,
    );
  }
  if (
    test.classes.length !== train.classes.length ||
    test.classes.some((c, i) => c !== train.classes[i])
  ) {
    throw new TsgradError(
      test.source,
      `test classes [${test.classes.join(", ")}] differ from training classes [${train.classes.join(", ")}]`,
    );
  }
  const { mean, std } = channelStats(train);
  return { train, test, classes: train.classes, mean, std };
}

/**
 * Per-channel mean and standard deviation of a dataset's pixels scaled to [0, 1].
 *
 * @example
 * const d = tg.vision.loadImageData("fashion-mnist-sample");
 * const { mean, std } = tg.vision.channelStats(d.test);
 * console.log(mean[0]! > 0.2 && mean[0]! < 0.4, std[0]! > 0.3); // true true
 */
export function channelStats(ds: ImageDataset): { mean: number[]; std: number[] } {
  const { pixels } = ds.toArrays();
  const plane = ds.height * ds.width;
  const C = ds.channels;
  const sum = new Float64Array(C);
  const sq = new Float64Array(C);
  for (let i = 0; i < pixels.length; i++) {
    const c = Math.floor(i / plane) % C;
    const v = pixels[i]! / 255;
    sum[c]! += v;
    sq[c]! += v * v;
  }
  const n = pixels.length / C;
  const mean = Array.from(sum, (s) => s / n);
  const std = Array.from(sq, (s, c) => Math.sqrt(Math.max(1e-12, s / n - mean[c]! ** 2)));
  return { mean, std };
}
