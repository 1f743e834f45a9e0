/**
 * Training an image classifier end to end — the AlexNet recipe as a workflow: data with
 * augmentation, SGD with momentum and weight decay, the learning rate divided by 10 when
 * validation accuracy stops improving, per-epoch validation, a run folder with metrics,
 * checkpoints that resume exactly, Ctrl-C that saves and exits, and a report with plots.
 */
import type { ImageDataset } from "../data/dataset.js";
import { randomSplit } from "../data/dataset.js";
import { DataLoader } from "../data/loader.js";
import type { TransformSpec } from "../data/transforms.js";
import {
  MATMUL_PRECISIONS,
  type MatmulPrecision,
  bf16Products,
  getBackend,
  withFloat32MatmulPrecision,
} from "../backends/backend.js";
import { saveCheckpoint } from "../io/checkpoint.js";
import { type Run, environmentChange, openRun, runEnvironment } from "../io/runs.js";
import { errorMessage } from "../io/node.js";
import * as F from "../nn/functional.js";
import type { Layer } from "../nn/layers.js";
import { Adam, AdamW } from "../optim/adam.js";
import { clipGradNorm } from "../optim/clip.js";
import { CosineWithWarmup, StepLR } from "../optim/lr-scheduler.js";
import type { Optimizer } from "../optim/optimizer.js";
import { ReduceLROnPlateau } from "../optim/plateau.js";
import { SGD } from "../optim/sgd.js";
import { ProgressBar, type ProgressStream } from "../report/progress.js";
import { pad, softmax } from "../ops/ops.js";
import { noGrad } from "../tensor/autograd.js";
import { tensor } from "../tensor/creation.js";
import { TsgradError } from "../tensor/errors.js";
import { Generator, manualSeed } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";
import { Interrupt } from "../train/interrupt.js";
import { loadTrainingState, saveTrainingState, type Stateful } from "../train/state.js";
import { loadImageData, type ImageData } from "./data.js";
import { createImageModel, type ImageModelName } from "./models.js";
import { writeImageReport } from "./report.js";

export interface ImageTrainConfig {
  model: ImageModelName;
  /** AlexNet channel multiplier / MLP hidden-width multiplier. */
  width: number;
  init: "pytorch" | "alexnet" | "kaiming";
  /** AlexNet's max-pool padding (0: the paper's 28 → 13 → 6 → 2 maps; 1: 28 → 14 → 7 → 4). */
  poolPadding: 0 | 1;
  /** Dataset name (see `loadImageData`). */
  data: string;
  /** Explicit dataset location (else the usual search). */
  dataPath?: string;
  epochs: number;
  batchSize: number;
  optimizer: "sgd" | "adam" | "adamw";
  lr: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
  /** "plateau": ÷10 when validation accuracy stalls for `patience` epochs (AlexNet); "cosine": warmup + cosine per step; "step": ÷10 every third of training. */
  schedule: "plateau" | "cosine" | "step" | "none";
  patience: number;
  warmupEpochs: number;
  /** Random crops (zero padding `cropPadding`) and horizontal flips. */
  augment: boolean;
  cropPadding: number;
  labelSmoothing: number;
  /** Clip the gradient norm to this value (0 = off). */
  clipNorm: number;
  /** Training images held out for validation. */
  valSize: number;
  /** Train on at most this many images (0 = all), for quick runs. */
  trainLimit: number;
  seed: number;
  /** DataLoader worker threads (0 = build batches on the main thread). */
  workers: number;
  /** How the final test evaluation looks at each image (see `TestViews`). */
  testViews: TestViews;
  /**
   * `tg.setFloat32MatmulPrecision` for the run: "medium" lets the native backend compute
   * convolutions and matmuls from bfloat16 operands (AVX512-BF16/AMX), with float32 weights,
   * optimizer state and everything else.
   */
  matmulPrecision: MatmulPrecision;
}

/**
 * Views of each test image whose softmax outputs are averaged. "single": the image as is;
 * "flip": it and its mirror image; "ten": AlexNet's ten patches (Krizhevsky et al. 2012, §4.1) —
 * the centre and the four corner crops, each shifted by the training crop padding, and their mirror
 * images.
 */
export type TestViews = (typeof TEST_VIEWS)[number];

/** Every `TestViews` value (the CLI's choices). */
export const TEST_VIEWS = ["single", "flip", "ten"] as const;

export const defaultImageConfig: ImageTrainConfig = {
  model: "alexnet",
  width: 1,
  init: "kaiming",
  poolPadding: 0,
  data: "fashion-mnist",
  epochs: 30,
  batchSize: 128,
  optimizer: "sgd",
  lr: 0.02,
  momentum: 0.9,
  weightDecay: 5e-4,
  nesterov: false,
  schedule: "plateau",
  patience: 2,
  warmupEpochs: 0,
  augment: true,
  cropPadding: 2,
  labelSmoothing: 0,
  clipNorm: 0,
  valSize: 5000,
  trainLimit: 0,
  seed: 0,
  workers: 1,
  testViews: "single",
  matmulPrecision: "highest",
};

export interface TrainImageOptions {
  /** Root of run folders (default "runs"); the run goes to `<root>/image/<config-hash>` unless `dir` is given. */
  root?: string;
  dir?: string;
  /** Continue from the run folder's latest checkpoint (otherwise an existing checkpoint is an error). */
  resume?: boolean;
  /** Stop after this many optimizer steps in this invocation (tests use it to simulate a crash). */
  stopAfterSteps?: number;
  /** Progress output (default stderr); null to silence. */
  progress?: ProgressStream | null;
  /** Write the HTML/Markdown report and figures when training ends (default true). */
  report?: boolean;
  /** Preloaded data (tests and experiments reuse it across runs). */
  data?: ImageData;
  /** Warnings (a resume under another thread count, a report that could not be drawn); default stderr. */
  warn?: (message: string) => void;
}

export interface EvalOptions {
  /** Images per forward pass (default 256). */
  batchSize?: number;
  /** Test-time views averaged per image (default "single"). */
  views?: TestViews;
  /** Pixels the "ten" crops are shifted by: the training crop padding. */
  shift?: number;
}

export interface EvalResult {
  loss: number;
  accuracy: number;
  /** confusion[true][predicted] counts. */
  confusion: number[][];
}

export interface ImageTrainResult {
  dir: string;
  status: "finished" | "interrupted" | "stopped" | "already-finished";
  summary: Record<string, unknown> | null;
  model: Layer;
}

/**
 * The transforms for training (augmented) and evaluation.
 *
 * @example
 * const d = tg.vision.loadImageData("fashion-mnist-sample");
 * console.log(tg.vision.imageTransforms({ augment: true, cropPadding: 2 }, d, true).map((t) => t.kind)); // ["randomCrop", "randomHorizontalFlip", "toTensor", "normalize"]
 */
export function imageTransforms(
  cfg: Pick<ImageTrainConfig, "augment" | "cropPadding">,
  data: Pick<ImageData, "mean" | "std" | "train">,
  train: boolean,
): TransformSpec[] {
  const aug: TransformSpec[] =
    train && cfg.augment
      ? [
          {
            kind: "randomCrop",
            size: [data.train.height, data.train.width],
            padding: cfg.cropPadding,
          },
          { kind: "randomHorizontalFlip", p: 0.5 },
        ]
      : [];
  return [...aug, { kind: "toTensor" }, { kind: "normalize", mean: data.mean, std: data.std }];
}

/**
 * Loss, accuracy and confusion matrix of `model` on `ds` (evaluation mode, no gradients). With
 * several `views`, the prediction is the mean of their softmax outputs (as AlexNet's test-time
 * averaging) and the loss is the cross-entropy of that mean.
 *
 * @example
 * const d = tg.vision.loadImageData("fashion-mnist-sample");
 * const model = tg.vision.createImageModel({ name: "logistic", inChannels: 1, imageSize: 28, numClasses: 10 });
 * const tf = tg.vision.imageTransforms({ augment: false, cropPadding: 0 }, d, false);
 * const r = tg.vision.evaluate(model, d.test.subset([0, 1, 2, 3]), tf);
 * console.log(r.confusion.flat().reduce((a, b) => a + b, 0)); // 4
 * const ten = tg.vision.evaluate(model, d.test.subset([0, 1, 2, 3]), tf, { views: "ten", shift: 2 });
 * console.log(ten.accuracy >= 0 && ten.accuracy <= 1); // true
 */
export function evaluate(
  model: Layer,
  ds: ImageDataset,
  transforms: readonly TransformSpec[],
  opts: EvalOptions = {},
): EvalResult {
  const views = opts.views ?? "single";
  const shift = opts.shift ?? 0;
  if (!TEST_VIEWS.includes(views)) {
    throw new TsgradError("evaluate", `views must be single, flip or ten, got ${String(views)}`);
  }
  if (views === "ten" && !(Number.isInteger(shift) && shift > 0)) {
    throw new TsgradError(
      "evaluate",
      `ten views need a positive integer shift (the training crop padding), got ${String(shift)}`,
    );
  }
  if (ds.length === 0) {
    // An accuracy over nothing has no value ("0.00% (0 images)" read as a result).
    throw new TsgradError("evaluate", "the dataset holds no images to evaluate on");
  }
  const K = ds.classes.length;
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  const wasTraining = model.training;
  model.eval();
  let lossSum = 0;
  let correct = 0;
  const count = (pred: ArrayLike<number>, truth: ArrayLike<number>) => {
    for (let i = 0; i < pred.length; i++) {
      confusion[truth[i]!]![pred[i]!]!++;
      if (pred[i] === truth[i]) correct++;
    }
  };
  try {
    noGrad(() => {
      const loader = new DataLoader(ds, {
        batchSize: opts.batchSize ?? 256,
        shuffle: false,
        transforms,
        workers: 0,
      });
      for (const { x, y } of loader) {
        if (views === "single") {
          const logits = model.forward(x);
          lossSum += F.crossEntropy(logits, y, { reduction: "sum" }).item();
          count(logits.argmax(1).dataSync(), y.dataSync());
          continue;
        }
        const probs = testViews(x, views, shift, blackPixel(transforms, x.shape[1]!))
          .map((v) => softmax(model.forward(v), 1))
          .reduce((a, b) => a.add(b))
          .div(views === "flip" ? 2 : 10);
        const truth = y.dataSync();
        const p = probs.dataSync();
        // A float32 softmax can round a hopeless class to exactly 0; the floor keeps the summed
        // loss finite (its log is about -69, far beyond any real model's loss).
        for (let i = 0; i < truth.length; i++) {
          lossSum -= Math.log(Math.max(p[i * K + truth[i]!]!, 1e-30));
        }
        count(probs.argmax(1).dataSync(), truth);
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return {
    loss: lossSum / ds.length,
    accuracy: correct / ds.length,
    confusion,
  };
}

/** The views of a batch [N, C, H, W] (see `TestViews`); `fill` is a black pixel, per channel. */
function testViews(x: Tensor, views: "flip" | "ten", shift: number, fill: number[]): Tensor[] {
  if (views === "flip") return [x, x.flip(3)];
  const [, C, H, W] = x.shape as [number, number, number, number];
  // Pad as the training crops did: with black pixels, i.e. zeros before normalisation.
  const z = tensor(fill).reshape([1, C, 1, 1]);
  const padded = pad(x.sub(z), [shift, shift, shift, shift]).add(z);
  const s = shift;
  const offsets = [
    [s, s],
    [0, 0],
    [0, 2 * s],
    [2 * s, 0],
    [2 * s, 2 * s],
  ] as const;
  return offsets.flatMap(([dy, dx]) => {
    const crop = padded.narrow(2, dy, H).narrow(3, dx, W).contiguous();
    return [crop, crop.flip(3)];
  });
}

/** What a black (zero) pixel becomes after `transforms`' normalisation, per channel. */
function blackPixel(transforms: readonly TransformSpec[], channels: number): number[] {
  const fill = new Array<number>(channels).fill(0);
  for (const t of transforms) {
    if (t.kind !== "normalize") continue;
    for (let c = 0; c < channels; c++) {
      const m = t.mean.length === 1 ? t.mean[0]! : t.mean[c]!;
      const sd = t.std.length === 1 ? t.std[0]! : t.std[c]!;
      fill[c] = (fill[c]! - m) / sd;
    }
  }
  return fill;
}

function makeOptimizer(cfg: ImageTrainConfig, model: Layer): Optimizer {
  const params = model.parameters();
  switch (cfg.optimizer) {
    case "sgd":
      return new SGD(params, {
        lr: cfg.lr,
        momentum: cfg.momentum,
        weightDecay: cfg.weightDecay,
        nesterov: cfg.nesterov,
      });
    case "adam":
      return new Adam(params, { lr: cfg.lr, weightDecay: cfg.weightDecay });
    case "adamw":
      return new AdamW(params, { lr: cfg.lr, weightDecay: cfg.weightDecay });
  }
}

function makeScheduler(
  cfg: ImageTrainConfig,
  opt: Optimizer,
  stepsPerEpoch: number,
): { sched: Stateful | null; perStep: () => void; perEpoch: (valAcc: number) => void } {
  switch (cfg.schedule) {
    case "plateau": {
      const s = new ReduceLROnPlateau(opt, { mode: "max", factor: 0.1, patience: cfg.patience });
      return { sched: s, perStep: () => {}, perEpoch: (acc) => s.step(acc) };
    }
    case "cosine": {
      const s = new CosineWithWarmup(opt, {
        warmupSteps: Math.round(cfg.warmupEpochs * stepsPerEpoch),
        totalSteps: cfg.epochs * stepsPerEpoch,
      });
      return { sched: s, perStep: () => s.step(), perEpoch: () => {} };
    }
    case "step": {
      const s = new StepLR(opt, { stepSize: Math.max(1, Math.round(cfg.epochs / 3)), gamma: 0.1 });
      return { sched: s, perStep: () => {}, perEpoch: () => s.step() };
    }
    case "none":
      return { sched: null, perStep: () => {}, perEpoch: () => {} };
  }
}

/**
 * Upper bounds of the image config's sizes: far beyond any sensible run, but small enough that a
 * typo (an extra digit or two, `--width 1e9`) fails at once instead of allocating or looping
 * without end. The CLI's flags use the same bounds.
 */
export const IMAGE_LIMITS = {
  epochs: 100_000,
  batchSize: 65_536,
  width: 16,
  cropPadding: 64,
  workers: 64,
} as const;

/**
 * Check a config for values that cannot work, naming the field.
 *
 * @example
 * try {
 *   tg.vision.validateImageConfig({ ...tg.vision.defaultImageConfig, batchSize: 0 });
 * } catch (e) {
 *   console.log((e as Error).message); // "train image: batchSize must be positive, got 0"
 * }
 */
export function validateImageConfig(cfg: ImageTrainConfig): void {
  const positive: (keyof ImageTrainConfig)[] = ["epochs", "batchSize", "lr", "width"];
  for (const k of positive) {
    if (!((cfg[k] as number) > 0)) {
      throw new TsgradError("train image", `${k} must be positive, got ${String(cfg[k])}`);
    }
  }
  const nonNeg: (keyof ImageTrainConfig)[] = [
    "momentum",
    "weightDecay",
    "patience",
    "warmupEpochs",
    "cropPadding",
    "labelSmoothing",
    "clipNorm",
    "valSize",
    "trainLimit",
    "workers",
  ];
  for (const k of nonNeg) {
    if (!((cfg[k] as number) >= 0)) {
      throw new TsgradError("train image", `${k} must be non-negative, got ${String(cfg[k])}`);
    }
  }
  if (cfg.poolPadding !== 0 && cfg.poolPadding !== 1) {
    throw new TsgradError(
      "train image",
      `poolPadding must be 0 or 1, got ${String(cfg.poolPadding)}`,
    );
  }
  if (!TEST_VIEWS.includes(cfg.testViews)) {
    throw new TsgradError(
      "train image",
      `testViews must be single, flip or ten, got ${String(cfg.testViews)}`,
    );
  }
  if (!(MATMUL_PRECISIONS as readonly string[]).includes(cfg.matmulPrecision)) {
    throw new TsgradError(
      "train image",
      `matmulPrecision must be ${MATMUL_PRECISIONS.join(", ")}, got ${String(cfg.matmulPrecision)}`,
    );
  }
  if (cfg.testViews === "ten" && !(cfg.cropPadding > 0)) {
    throw new TsgradError(
      "train image",
      "testViews ten shifts its crops by cropPadding, which is 0: set cropPadding (e.g. 2) or use flip",
    );
  }
  if (!Number.isInteger(cfg.epochs) || !Number.isInteger(cfg.batchSize)) {
    throw new TsgradError("train image", "epochs and batchSize must be integers");
  }
  for (const [k, max] of Object.entries(IMAGE_LIMITS)) {
    const v = cfg[k as keyof typeof IMAGE_LIMITS];
    if (!(v <= max)) {
      throw new TsgradError("train image", `${k} must be at most ${max}, got ${String(v)}`);
    }
  }
}

/**
 * The training run's split of the training images: `valSize` held out for validation, then at
 * most `trainLimit` kept for training. Both draws come from a generator of their own (seeded by
 * `seed`), so the split depends on nothing else and `tsgrad eval image --split val` sees exactly
 * the run's validation images.
 *
 * @example
 * const d = tg.vision.loadImageData("fashion-mnist-sample");
 * const s = tg.vision.splitTrainVal(d.train, { valSize: 100, trainLimit: 0, seed: 0 });
 * console.log(s.train.length + s.val!.length === d.train.length); // true
 */
export function splitTrainVal(
  all: ImageDataset,
  cfg: Pick<ImageTrainConfig, "valSize" | "trainLimit" | "seed">,
): { train: ImageDataset; val: ImageDataset | null } {
  // Validation split and optional limit, both from a generator of their own so they do not
  // depend on (or disturb) the default generator's stream.
  const split = new Generator(cfg.seed + 7919);
  let trainSet = all;
  let valSet: ImageDataset | null = null;
  if (cfg.valSize > 0) {
    if (cfg.valSize >= trainSet.length) {
      throw new TsgradError(
        "train image",
        `valSize ${cfg.valSize} leaves no training images (the training set has ${trainSet.length}); hold out fewer, e.g. --val-size ${Math.floor(trainSet.length / 10)}`,
      );
    }
    [trainSet, valSet] = randomSplit(
      trainSet,
      [trainSet.length - cfg.valSize, cfg.valSize],
      split,
    ) as [ImageDataset, ImageDataset];
  }
  if (cfg.trainLimit > 0 && cfg.trainLimit < trainSet.length) {
    trainSet = randomSplit(trainSet, [cfg.trainLimit, trainSet.length - cfg.trainLimit], split)[0]!;
  }
  return { train: trainSet, val: valSet };
}

/**
 * Train (or resume) an image classifier; see the module comment. Returns the run folder, how it
 * ended, the summary and the trained model.
 *
 * @example
 * const { mkdtempSync } = process.getBuiltinModule("node:fs");
 * const dir = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * const r = await tg.vision.trainImageClassifier(
 *   { model: "logistic", data: "fashion-mnist-sample", epochs: 1, batchSize: 100, valSize: 0, trainLimit: 500, workers: 0 },
 *   { dir, progress: null, report: false },
 * );
 * console.log(r.status, (r.summary!.testAccuracy as number) > 0.3); // "finished" true
 */
export async function trainImageClassifier(
  cfgIn: Partial<ImageTrainConfig>,
  opts: TrainImageOptions = {},
): Promise<ImageTrainResult> {
  const cfg: ImageTrainConfig = { ...defaultImageConfig, ...cfgIn };
  validateImageConfig(cfg);
  // The run's precision holds for its training and evaluation only.
  return withFloat32MatmulPrecision(cfg.matmulPrecision, () => train(cfg, opts));
}

async function train(cfg: ImageTrainConfig, opts: TrainImageOptions): Promise<ImageTrainResult> {
  // Data first: a missing or corrupt dataset fails before any run folder is touched.
  const data =
    opts.data ?? loadImageData(cfg.data, cfg.dataPath !== undefined ? { data: cfg.dataPath } : {});
  const run = openRun({
    root: opts.root ?? "runs",
    experiment: "image",
    config: cfg,
    ...(opts.dir ? { dir: opts.dir } : {}),
  });
  manualSeed(cfg.seed);
  const C = data.train.channels;
  const model = createImageModel({
    name: cfg.model,
    inChannels: C,
    imageSize: data.train.height,
    numClasses: data.classes.length,
    width: cfg.width,
    init: cfg.init,
    poolPadding: cfg.poolPadding,
  });
  if (data.train.height !== data.train.width) {
    throw new TsgradError(
      "train image",
      `square images expected, got ${data.train.height}×${data.train.width}`,
    );
  }
  if (run.finished && !opts.resume) {
    return { dir: run.dir, status: "already-finished", summary: run.summary(), model };
  }

  const { train: trainSet, val: valSet } = splitTrainVal(data.train, cfg);
  const trainTf = imageTransforms(cfg, data, true);
  const evalTf = imageTransforms(cfg, data, false);
  const loader = new DataLoader(trainSet, {
    batchSize: cfg.batchSize,
    shuffle: true,
    dropLast: true,
    seed: cfg.seed,
    transforms: trainTf,
    workers: cfg.workers,
  });
  const stepsPerEpoch = loader.length;
  if (stepsPerEpoch === 0) {
    throw new TsgradError(
      "train image",
      `batch size ${cfg.batchSize} exceeds the ${trainSet.length} training images`,
    );
  }
  const optimizer = makeOptimizer(cfg, model);
  const { sched, perStep, perEpoch } = makeScheduler(cfg, optimizer, stepsPerEpoch);
  const state = { model, optimizer, ...(sched ? { scheduler: sched } : {}) };
  const meta = {
    config: cfg,
    classes: [...data.classes],
    mean: data.mean,
    std: data.std,
    inChannels: C,
    imageSize: data.train.height,
  };

  let pos = { epoch: 0, batch: 0, step: 0 };
  let best = { accuracy: -1, epoch: -1 };
  let elapsed = 0;
  // Running sums of the current epoch and logging window, saved with mid-epoch checkpoints so
  // a resumed run logs exactly what an uninterrupted one would.
  let acc = { lossSum: 0, lossCount: 0, windowLoss: 0, windowCount: 0, seen: 0 };
  const warn = opts.warn ?? ((m: string) => void process.stderr.write(`${m}\n`));
  const latest = run.latestCheckpoint();
  if (latest) {
    if (!opts.resume) {
      throw new TsgradError(
        run.dir,
        `holds a checkpoint (${latest.path}); pass --resume to continue it, or choose another --out`,
      );
    }
    const restored = loadTrainingState(latest.path, state);
    pos = { epoch: restored.epoch, batch: restored.batch, step: restored.step };
    best = (restored.extra.best as typeof best | undefined) ?? best;
    elapsed = (restored.extra.elapsed as number | undefined) ?? 0;
    acc = (restored.extra.acc as typeof acc | undefined) ?? acc;
    run.truncateMetrics(pos.step);
    const changed = environmentChange(restored.extra.environment, latest.path);
    if (changed !== null) warn(changed);
  } else {
    // From scratch (e.g. killed before the first checkpoint): the old lines would repeat steps.
    run.truncateMetrics(null);
  }

  const save = () => {
    const path = run.checkpointPath(pos.step);
    saveTrainingState(path, state, pos, {
      ...meta,
      best,
      elapsed,
      acc,
      environment: runEnvironment(),
    });
    pruneCheckpoints(run, path);
  };
  const interrupt = new Interrupt();
  const bar =
    opts.progress === null
      ? null
      : new ProgressBar({
          total: cfg.epochs * stepsPerEpoch,
          initial: pos.step,
          unit: "img",
          itemsPerStep: cfg.batchSize,
          label: "train",
          ...(opts.progress ? { stream: opts.progress } : {}),
        });
  const started = performance.now() - elapsed * 1000;
  let stepsThisCall = 0;
  let lastYield = performance.now();
  let status: ImageTrainResult["status"] = "finished";
  try {
    outer: for (let epoch = pos.epoch; epoch < cfg.epochs; epoch++) {
      model.train();
      const t0 = performance.now();
      if (pos.batch === 0) {
        acc = { lossSum: 0, lossCount: 0, windowLoss: 0, windowCount: 0, seen: 0 };
      }
      let seenNow = 0;
      for await (const { x, y } of loader.batches(epoch, epoch === pos.epoch ? pos.batch : 0)) {
        const logits = model.forward(x);
        const loss = F.crossEntropy(logits, y, { labelSmoothing: cfg.labelSmoothing });
        optimizer.zeroGrad();
        loss.backward();
        if (cfg.clipNorm > 0) clipGradNorm(model.parameters(), cfg.clipNorm);
        optimizer.step();
        perStep();
        const l = loss.item();
        if (!Number.isFinite(l)) {
          throw new TsgradError(
            "train image",
            `the loss became ${l} at step ${pos.step} (lower the learning rate?)`,
          );
        }
        pos = { epoch, batch: pos.batch + 1, step: pos.step + 1 };
        seenNow += x.shape[0]!;
        acc.seen += x.shape[0]!;
        acc.lossSum += l;
        acc.lossCount++;
        acc.windowLoss += l;
        acc.windowCount++;
        const lr = optimizer.paramGroups[0]!.lr;
        bar?.update(pos.step, { epoch: epoch + 1, loss: acc.lossSum / acc.lossCount, lr });
        if (pos.step % 50 === 0) {
          run.log({
            step: pos.step,
            epoch,
            trainLoss: acc.windowLoss / acc.windowCount,
            lr,
            imagesPerSec: seenNow / ((performance.now() - t0) / 1000),
          });
          acc.windowLoss = 0;
          acc.windowCount = 0;
        }
        stepsThisCall++;
        // Let the event loop run now and then: signal handlers (Ctrl-C) only fire from it, and a
        // loop fed by already-resolved promises would otherwise never give it a turn.
        if (performance.now() - lastYield > 200) {
          await new Promise((resolve) => setImmediate(resolve));
          lastYield = performance.now();
        }
        if (
          interrupt.requested ||
          (opts.stopAfterSteps !== undefined && stepsThisCall >= opts.stopAfterSteps)
        ) {
          status = interrupt.requested ? "interrupted" : "stopped";
          elapsed = (performance.now() - started) / 1000;
          save();
          break outer;
        }
      }
      const epochSeconds = (performance.now() - t0) / 1000;
      const val = valSet ? evaluate(model, valSet, evalTf) : null;
      const record = {
        step: pos.step,
        epoch: epoch + 1,
        trainLossEpoch: acc.lossSum / Math.max(1, acc.lossCount),
        ...(val ? { valLoss: val.loss, valAccuracy: val.accuracy } : {}),
        lr: optimizer.paramGroups[0]!.lr,
        epochSeconds,
        imagesPerSec: seenNow / epochSeconds,
      };
      run.log(record);
      if (val && val.accuracy > best.accuracy) {
        best = { accuracy: val.accuracy, epoch: epoch + 1 };
        saveCheckpoint(`${run.dir}/best.safetensors`, {
          model: model.stateDict(),
          meta: { ...meta, epoch: epoch + 1, valAccuracy: val.accuracy },
        });
      }
      // Without a validation split, the plateau schedule watches the (negated) training loss.
      perEpoch(val ? val.accuracy : -record.trainLossEpoch);
      pos = { epoch: epoch + 1, batch: 0, step: pos.step };
      elapsed = (performance.now() - started) / 1000;
      save();
      bar?.log(
        `epoch ${epoch + 1}/${cfg.epochs}: train loss ${record.trainLossEpoch.toFixed(4)}` +
          (val
            ? `, val loss ${val.loss.toFixed(4)}, val acc ${(100 * val.accuracy).toFixed(2)}%`
            : "") +
          `, lr ${record.lr.toPrecision(3)}, ${Math.round(record.imagesPerSec)} img/s`,
      );
    }
  } finally {
    interrupt.dispose();
    bar?.finish();
    await loader.close();
  }
  if (status !== "finished") {
    run.close();
    return { dir: run.dir, status, summary: null, model };
  }

  const test = evaluate(model, data.test, evalTf, {
    views: cfg.testViews,
    shift: cfg.cropPadding,
  });
  // With averaged views, the single-view figure too, so the two can be told apart.
  const single = cfg.testViews === "single" ? null : evaluate(model, data.test, evalTf);
  const wallSeconds = (performance.now() - started) / 1000;
  const metrics = run.metrics();
  const epochs = metrics.filter(
    (m) => m.valAccuracy !== undefined || m.trainLossEpoch !== undefined,
  );
  const summary = {
    testAccuracy: test.accuracy,
    testLoss: test.loss,
    testViews: cfg.testViews,
    ...(single ? { singleViewTestAccuracy: single.accuracy, singleViewTestLoss: single.loss } : {}),
    bestValAccuracy: best.accuracy >= 0 ? best.accuracy : null,
    bestEpoch: best.epoch >= 0 ? best.epoch : null,
    epochs: cfg.epochs,
    steps: pos.step,
    wallSeconds,
    imagesPerSec: median(epochs.map((m) => m.imagesPerSec as number)),
    backend: getBackend().name,
    threads: getBackend().numThreads?.() ?? 1,
    matmulPrecision: cfg.matmulPrecision,
    // Whether products really ran in bfloat16 (the native backend on an AVX512-BF16/AMX CPU).
    bf16Compute: bf16Products(cfg.matmulPrecision),
    parameters: model.numParameters(),
    trainImages: trainSet.length,
    valImages: valSet?.length ?? 0,
    testImages: data.test.length,
    classes: data.classes,
    confusion: test.confusion,
  };
  saveCheckpoint(`${run.dir}/model.safetensors`, { model: model.stateDict(), meta });
  if (opts.report !== false) {
    // The run's result is the summary; a report that cannot be drawn must not lose it.
    try {
      writeImageReport(run.dir, cfg, summary, run.metrics());
    } catch (e) {
      warn(`warning: the report of ${run.dir} could not be written (${errorMessage(e)})`);
    }
  }
  run.finish(summary);
  return { dir: run.dir, status: "finished", summary, model };
}

function median(xs: number[]): number | null {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)]! : null;
}

/** Keep only the newest checkpoint (plus best.safetensors), so long runs do not fill the disk. */
function pruneCheckpoints(run: Run, keep: string): void {
  const fs = process.getBuiltinModule("node:fs");
  for (const name of fs.readdirSync(run.dir)) {
    const path = `${run.dir}/${name}`;
    if (/^checkpoint-\d+\.safetensors$/.test(name) && path !== keep) {
      fs.rmSync(path, { force: true });
    }
  }
}
