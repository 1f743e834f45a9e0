/** Loading a trained image classifier back from any checkpoint its training run wrote. */
import { type FileSource, sourceBytes } from "../io/atomic.js";
import { decodeCheckpoint } from "../io/checkpoint.js";
import type { Layer } from "../nn/layers.js";
import { type DecodedImage, centerSquare, resizeImage, toChw } from "../data/image-folder.js";
import { applyTransforms } from "../data/transforms.js";
import { TsgradError, fmtShape } from "../tensor/errors.js";
import { Generator } from "../tensor/random.js";
import { Tensor } from "../tensor/tensor.js";
import { IMAGE_MODELS, type ImageModelSpec, createImageModel, imageModelShapes } from "./models.js";
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
 * Bounds on what a checkpoint's model description may ask for. The tensors in the file decide
 * the model's size (see `checkShapes`); these only keep the arithmetic on the description sane
 * and give a clear error for a value no training run writes.
 */
const MAX_WIDTH = 64;
const MAX_IMAGE_SIZE = 4096;
const MAX_CLASSES = 1_000_000;

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/**
 * The model description of a checkpoint, every field checked (an edited or corrupt file must
 * fail here, naming the file and the field, rather than deep inside a layer constructor).
 */
function readMeta(raw: unknown, path: string): ImageModelMeta {
  const fail = (message: string): never => {
    throw new TsgradError(path, message);
  };
  if (!isRecord(raw) || !isRecord(raw.config)) {
    return fail(
      "is not a tsgrad image-classifier checkpoint (no model description in its metadata)",
    );
  }
  const { config, classes, mean, std, inChannels, imageSize } = raw;
  // Clipped: an edited field may hold megabytes.
  const show = (v: unknown) =>
    (typeof v === "number" ? String(v) : (JSON.stringify(v) ?? String(v))).slice(0, 100);
  if (
    typeof config.model !== "string" ||
    !(IMAGE_MODELS as readonly string[]).includes(config.model)
  ) {
    fail(`meta.config.model ${show(config.model)} is not one of ${IMAGE_MODELS.join(", ")}`);
  }
  const width = config.width ?? 1;
  if (typeof width !== "number" || !(width > 0 && width <= MAX_WIDTH)) {
    fail(`meta.config.width ${show(width)} is not a number in (0, ${MAX_WIDTH}]`);
  }
  if (
    config.init !== undefined &&
    !["pytorch", "alexnet", "kaiming"].includes(config.init as string)
  ) {
    fail(`meta.config.init ${show(config.init)} is not pytorch, alexnet or kaiming`);
  }
  if (config.poolPadding !== undefined && config.poolPadding !== 0 && config.poolPadding !== 1) {
    fail(`meta.config.poolPadding ${show(config.poolPadding)} is not 0 or 1`);
  }
  if (
    !Array.isArray(classes) ||
    classes.length < 1 ||
    classes.length > MAX_CLASSES ||
    !classes.every((c) => typeof c === "string")
  ) {
    fail(
      `meta.classes must list 1 to ${MAX_CLASSES} class names, got ` +
        (Array.isArray(classes) ? `${classes.length} entries` : show(classes)),
    );
  }
  if (inChannels !== 1 && inChannels !== 3) {
    fail(`meta.inChannels ${show(inChannels)} is not 1 (grey) or 3 (RGB)`);
  }
  if (
    !Number.isInteger(imageSize) ||
    !((imageSize as number) >= 1 && (imageSize as number) <= MAX_IMAGE_SIZE)
  ) {
    fail(`meta.imageSize ${show(imageSize)} is not an integer in [1, ${MAX_IMAGE_SIZE}]`);
  }
  for (const [field, v] of [
    ["mean", mean],
    ["std", std],
  ] as const) {
    if (
      !Array.isArray(v) ||
      v.length !== inChannels ||
      !v.every((x) => typeof x === "number" && Number.isFinite(x) && (field === "mean" || x > 0))
    ) {
      fail(
        `meta.${field} must hold ${show(inChannels)} finite${field === "std" ? ", positive" : ""} numbers (one per channel), got ${show(v)}`.slice(
          0,
          300,
        ),
      );
    }
  }
  return raw as unknown as ImageModelMeta;
}

/**
 * Compare the tensors of the file with the state dict the description asks for, before the
 * model is built: a description that does not match the file (an edited `width`, `classes` or
 * `inChannels`) is an error naming both shapes, and a matching one builds a model no larger
 * than the file.
 */
function checkShapes(spec: ImageModelSpec, stored: Record<string, Tensor>, path: string): void {
  const expected = imageModelShapes(spec);
  const described =
    `${spec.name} for ${spec.inChannels}×${spec.imageSize}×${spec.imageSize} images, ` +
    `${spec.numClasses} classes, width ${spec.width}`;
  if (expected === null) {
    throw new TsgradError(path, `meta describes ${described}: the images are too small for it`);
  }
  for (const [key, shape] of Object.entries(expected)) {
    const t = stored[key];
    if (t === undefined) {
      throw new TsgradError(
        path,
        `meta describes ${described}, which has "${key}", but the file has no such tensor`,
      );
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new TsgradError(
        path,
        `meta describes ${described}, whose "${key}" is ${fmtShape(shape)}, but the file holds ${fmtShape(t.shape)}`,
      );
    }
  }
  const extra = Object.keys(stored).find((k) => !(k in expected));
  if (extra !== undefined) {
    throw new TsgradError(
      path,
      `meta describes ${described}, which has no "${extra}" (in the file)`,
    );
  }
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
  const meta = readMeta(ck.meta ?? ck.extra, path);
  const spec: ImageModelSpec = {
    name: meta.config.model,
    inChannels: meta.inChannels,
    imageSize: meta.imageSize,
    numClasses: meta.classes.length,
    width: meta.config.width,
    init: meta.config.init,
    // Checkpoints written before the option existed have unpadded pools.
    poolPadding: meta.config.poolPadding ?? 0,
  };
  checkShapes(spec, ck.model, path);
  const model = createImageModel(spec);
  model.loadStateDict(ck.model, { source: path });
  model.eval();
  return { model, meta };
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
