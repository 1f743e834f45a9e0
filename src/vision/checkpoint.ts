/** Loading a trained image classifier back from any checkpoint its training run wrote. */
import { type FileSource, sourceBytes } from "../io/atomic.js";
import { decodeCheckpoint } from "../io/checkpoint.js";
import type { Layer } from "../nn/layers.js";
import { type DecodedImage, centerSquare, resizeImage, toChw } from "../data/image-folder.js";
import { applyTransforms } from "../data/transforms.js";
import { TsgradError } from "../tensor/errors.js";
import { Generator } from "../tensor/random.js";
import { Tensor } from "../tensor/tensor.js";
import { createImageModel } from "./models.js";
import type { ImageTrainConfig } from "./train.js";

export interface ImageModelMeta {
  config: ImageTrainConfig;
  classes: string[];
  mean: number[];
  std: number[];
  inChannels: number;
  imageSize: number;
}

/**
 * Rebuild the model of a run's `model.safetensors`, `best.safetensors` or `checkpoint-*.safetensors`
 * and load its weights: from a path in Node, or from the file's bytes anywhere (in a browser,
 * `loadImageClassifier(await file.arrayBuffer())`). A file without tsgrad's model description,
 * or whose tensors do not fit the described model, is an error naming the file (or `name`).
 *
 * @example
 * const { mkdtempSync } = process.getBuiltinModule("node:fs");
 * const dir = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * await tg.vision.trainImageClassifier(
 *   { model: "logistic", data: "fashion-mnist-sample", epochs: 1, batchSize: 100, valSize: 0, trainLimit: 200, workers: 0 },
 *   { dir, progress: null, report: false },
 * );
 * const { model, meta } = tg.vision.loadImageClassifier(dir + "/model.safetensors");
 * console.log(meta.classes.length, model.forward(tg.zeros([1, 1, 28, 28])).shape); // 10 [1, 10]
 */
export function loadImageClassifier(
  source: FileSource,
  name?: string,
): { model: Layer; meta: ImageModelMeta } {
  const file = sourceBytes(source, "loadImageClassifier", name);
  const path = file.name;
  const ck = decodeCheckpoint(file.bytes, path);
  const meta = (ck.meta ?? ck.extra) as Partial<ImageModelMeta> | undefined;
  if (
    !meta?.config ||
    !meta.classes ||
    !meta.mean ||
    !meta.std ||
    !meta.inChannels ||
    !meta.imageSize
  ) {
    throw new TsgradError(
      path,
      "is not a tsgrad image-classifier checkpoint (no model description in its metadata)",
    );
  }
  const model = createImageModel({
    name: meta.config.model,
    inChannels: meta.inChannels,
    imageSize: meta.imageSize,
    numClasses: meta.classes.length,
    width: meta.config.width,
    init: meta.config.init,
    // Checkpoints written before the option existed have unpadded pools.
    poolPadding: meta.config.poolPadding ?? 0,
  });
  model.loadStateDict(ck.model, { source: path });
  model.eval();
  return { model, meta: meta as ImageModelMeta };
}

/**
 * A decoded picture as the classifier's input [1, C, H, W]: cropped to its centred square and
 * resized to the model's size when it has another (antialiased, as torchvision's `Resize` +
 * `CenterCrop`), converted to the model's channels (grey as Pillow's "L"), scaled and normalised
 * as in training. `name` labels the picture in errors.
 *
 * @example
 * const img = { rgba: new Uint8Array(4 * 28 * 28).fill(255), width: 28, height: 28 };
 * const meta = { inChannels: 1, imageSize: 28, mean: [0.5], std: [0.5] };
 * console.log(tg.vision.pictureToTensor(img, meta, "white.png").shape); // [1, 1, 28, 28]
 * const big = { rgba: new Uint8Array(4 * 300 * 200).fill(255), width: 300, height: 200 };
 * console.log(tg.vision.pictureToTensor(big, meta, "photo.jpg").shape); // [1, 1, 28, 28]
 */
export function pictureToTensor(
  img: DecodedImage,
  meta: Pick<ImageModelMeta, "inChannels" | "imageSize" | "mean" | "std">,
  name: string,
): Tensor {
  if (img.width < 1 || img.height < 1 || img.rgba.length !== 4 * img.width * img.height) {
    throw new TsgradError(
      name,
      `expected ${img.width}×${img.height} RGBA pixels (${4 * img.width * img.height} bytes), got ${img.rgba.length} bytes`,
    );
  }
  const size = meta.imageSize;
  const fitted =
    img.width === size && img.height === size ? img : resizeImage(centerSquare(img), size, size);
  const C = meta.inChannels as 1 | 3;
  const image = { data: toChw(fitted, C), channels: C, height: size, width: size };
  const out = applyTransforms(
    image,
    [{ kind: "toTensor" }, { kind: "normalize", mean: meta.mean, std: meta.std }],
    new Generator(0),
  );
  return new Tensor(Float32Array.from(out.data), "float32", [1, C, size, size]);
}
