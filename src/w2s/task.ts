/**
 * What the weak-to-strong experiment needs from a task: a labelled training pool (from which the
 * weak-supervisor split and the weakly labelled transfer split are drawn), a fixed test set, a
 * ladder of model sizes, and a way to turn examples into a model input batch. The image task
 * (Fashion-MNIST) lives here; the text task is in `text-task.ts`.
 */
import type { ImageDataset } from "../data/dataset.js";
import type { Layer } from "../nn/layers.js";
import { tensor } from "../tensor/creation.js";
import { TsgradError } from "../tensor/errors.js";
import type { Tensor } from "../tensor/tensor.js";
import { loadImageData } from "../vision/data.js";
import { createImageModel } from "../vision/models.js";

/** A model of a task's ladder: its name and width multiplier. */
export interface ModelSpec {
  name: string;
  /** Width multiplier (1 = the ladder's default size). */
  width: number;
}

/**
 * Parse "name" or "name:width" (e.g. "alexnet:0.5").
 *
 * @example
 * console.log(tg.w2s.parseModelSpec("alexnet:0.5"), tg.w2s.parseModelSpec("mlp").width); // { name: "alexnet", width: 0.5 } 1
 */
export function parseModelSpec(text: string): ModelSpec {
  const m = /^([a-z][a-z0-9-]*)(?::([0-9]*\.?[0-9]+))?$/.exec(text.trim());
  if (!m) {
    throw new TsgradError("parseModelSpec", `"${text}" is not a model name or name:width`);
  }
  const width = m[2] === undefined ? 1 : Number(m[2]);
  if (!(width > 0)) throw new TsgradError("parseModelSpec", `"${text}": width must be positive`);
  return { name: m[1]!, width };
}

/**
 * Display label of a model spec: "alexnet" at width 1, else "alexnet:0.5".
 *
 * @example
 * console.log(tg.w2s.modelLabel({ name: "alexnet", width: 0.5 }), tg.w2s.modelLabel({ name: "mlp", width: 1 })); // "alexnet:0.5" "mlp"
 */
export function modelLabel(spec: ModelSpec): string {
  return spec.width === 1 ? spec.name : `${spec.name}:${spec.width}`;
}

/**
 * File-name-safe form of a model label.
 *
 * @example
 * console.log(tg.w2s.modelSlug({ name: "alexnet", width: 0.5 })); // "alexnet-w0.5"
 */
export function modelSlug(spec: ModelSpec): string {
  return spec.width === 1 ? spec.name : `${spec.name}-w${spec.width}`;
}

/** The examples a batch is drawn from. */
export type Split = "pool" | "test";

/** A classification task as the experiment sees it. */
export interface W2sTask {
  /** Name (the CLI's `--data`). */
  readonly name: string;
  /** One paragraph: where the data comes from and how the task is built. */
  readonly description: string;
  readonly classes: readonly string[];
  /** Model names, weakest to strongest: a "strong" model must come later than its "weak" one. */
  readonly ladder: readonly string[];
  /** Ground-truth labels of the training pool. */
  readonly poolLabels: Int32Array;
  /** Ground-truth labels of the test set (used for reporting only, never for selection). */
  readonly testLabels: Int32Array;
  /** The model input for examples `idx` of `split` (a batch). */
  inputs(split: Split, idx: ArrayLike<number>): Tensor;
  /** A freshly initialised model (draws from the default generator). */
  createModel(spec: ModelSpec): Layer;
}

/**
 * Position of a model on the task's ladder, for ordering weak and strong: ladder index first,
 * then width. Throws for a model the task does not know.
 *
 * @example
 * const task = tg.w2s.loadImageTask("fashion-mnist-sample");
 * console.log(tg.w2s.ladderRank(task, { name: "alexnet", width: 0.5 })); // [3, 0.5]
 */
export function ladderRank(task: W2sTask, spec: ModelSpec): [number, number] {
  const i = task.ladder.indexOf(spec.name);
  if (i < 0) {
    throw new TsgradError(
      "weak-to-strong",
      `model "${spec.name}" is not on the ${task.name} ladder (${task.ladder.join(", ")})`,
    );
  }
  return [i, spec.width];
}

/**
 * True when `strong` is strictly larger than `weak` on the task's ladder.
 *
 * @example
 * const task = tg.w2s.loadImageTask("fashion-mnist-sample");
 * const mlp = { name: "mlp", width: 1 }, lenet = { name: "lenet5", width: 1 };
 * console.log(tg.w2s.isStronger(task, mlp, lenet), tg.w2s.isStronger(task, lenet, mlp)); // true false
 */
export function isStronger(task: W2sTask, weak: ModelSpec, strong: ModelSpec): boolean {
  const [a, wa] = ladderRank(task, weak);
  const [b, wb] = ladderRank(task, strong);
  return b > a || (b === a && wb > wa);
}

// ------------------------------------------------------------------ images

/** The image datasets the experiment accepts. */
export const IMAGE_TASKS = ["fashion-mnist", "fashion-mnist-sample"] as const;

/**
 * An image classification task over `tg.vision` data: the pool is the training set, the test set
 * is the official test set, inputs are normalised by the training set's channel statistics, and
 * the ladder is `tg.vision`'s logistic < mlp < lenet5 < alexnet, the usual order of the
 * architectures (the MLP has more parameters than LeNet-5 and about the same compute).
 *
 * @example
 * const task = tg.w2s.loadImageTask("fashion-mnist-sample");
 * const x = task.inputs("test", [0, 1, 2]);
 * console.log(task.poolLabels.length, task.testLabels.length, x.shape); // 5000 1000 [3, 1, 28, 28]
 */
export function loadImageTask(name: string, opts: { dataPath?: string } = {}): W2sTask {
  if (!(IMAGE_TASKS as readonly string[]).includes(name)) {
    throw new TsgradError(
      "loadImageTask",
      `unknown image task "${name}" (${IMAGE_TASKS.join(", ")})`,
    );
  }
  const data = loadImageData(name, opts.dataPath !== undefined ? { data: opts.dataPath } : {});
  const [, C, H, W] = data.train.shape;
  const arrays = (ds: ImageDataset) => {
    const { pixels, labels } = ds.toArrays();
    return { pixels, labels: Int32Array.from(labels) };
  };
  const train = arrays(data.train);
  const test = arrays(data.test);
  const plane = H * W;
  const size = C * plane;
  // Per-channel affine map of a uint8 pixel to its normalised value.
  const scale = data.std.map((s) => 1 / (255 * s));
  const shift = data.mean.map((m, c) => -m / data.std[c]!);
  return {
    name,
    description:
      `${name === "fashion-mnist" ? "Fashion-MNIST" : "The bundled 5,000/1,000-image Fashion-MNIST sample"} ` +
      `(${data.train.length} training and ${data.test.length} test images, ${data.classes.length} classes, ` +
      `${C}×${H}×${W}), normalised by the training set's mean and standard deviation; no augmentation.`,
    classes: data.classes,
    ladder: ["logistic", "mlp", "lenet5", "alexnet"],
    poolLabels: train.labels,
    testLabels: test.labels,
    inputs(split, idx) {
      const src = split === "pool" ? train.pixels : test.pixels;
      const limit = split === "pool" ? train.labels.length : test.labels.length;
      const out = new Float32Array(idx.length * size);
      for (let b = 0; b < idx.length; b++) {
        const i = idx[b]!;
        if (!(i >= 0 && i < limit)) {
          throw new TsgradError("W2sTask.inputs", `${split} index ${i} is outside [0, ${limit})`);
        }
        const from = i * size;
        const to = b * size;
        for (let c = 0; c < C; c++) {
          const s = scale[c]!;
          const t = shift[c]!;
          for (let p = c * plane; p < (c + 1) * plane; p++) out[to + p] = src[from + p]! * s + t;
        }
      }
      return tensor(out, { shape: [idx.length, C, H, W] });
    },
    createModel(spec) {
      if (spec.width !== 1 && (spec.name === "logistic" || spec.name === "lenet5")) {
        throw new TsgradError(
          "weak-to-strong",
          `${spec.name} has no width to scale (got ${modelLabel(spec)}); widths apply to mlp and alexnet`,
        );
      }
      return createImageModel({
        name: spec.name as "logistic",
        inChannels: C,
        imageSize: H,
        numClasses: data.classes.length,
        width: spec.width,
      });
    },
  };
}
