/** `tsgrad train image`: train an image classifier (the AlexNet recipe and friends). */
import * as tg from "../index.js";
import { type FlagSpec, outOfRange, parseFlags, usage, UsageError } from "./args.js";
import { IMAGE_LIMITS } from "../vision/train.js";
import { applyBackend, backendFlags, readConfigFile } from "./common.js";
import type { Command } from "./main.js";

const d = tg.vision.defaultImageConfig;
export const flags = {
  model: {
    type: "string",
    choices: tg.vision.IMAGE_MODELS,
    default: d.model,
    help: "architecture",
  },
  width: {
    type: "number",
    default: d.width,
    min: 0,
    exclusiveMin: true,
    max: IMAGE_LIMITS.width,
    help: "channel multiplier (alexnet) / hidden-width multiplier (mlp)",
  },
  init: {
    type: "string",
    choices: ["kaiming", "pytorch", "alexnet"],
    default: d.init,
    help: "alexnet initialisation: He-normal, PyTorch's layer defaults, or the paper's N(0, 0.01)",
  },
  poolPadding: {
    type: "int",
    default: d.poolPadding,
    max: 1,
    help: "alexnet max-pool padding: 0 (the paper's; 28×28 maps 13, 6, 2) or 1 (14, 7, 4)",
  },
  data: {
    type: "string",
    default: d.data,
    help: "fashion-mnist, fashion-mnist-sample (bundled), cifar10, or a folder holding one of them (or root/{train,test}/<class>/ images)",
  },
  epochs: {
    type: "int",
    default: d.epochs,
    min: 1,
    max: IMAGE_LIMITS.epochs,
    help: "training epochs",
  },
  batchSize: {
    type: "int",
    default: d.batchSize,
    min: 1,
    max: IMAGE_LIMITS.batchSize,
    help: "images per step",
  },
  optimizer: {
    type: "string",
    choices: ["sgd", "adam", "adamw"],
    default: d.optimizer,
    help: "optimizer",
  },
  lr: { type: "number", default: d.lr, min: 0, exclusiveMin: true, max: 10, help: "learning rate" },
  momentum: { type: "number", default: d.momentum, min: 0, max: 1, help: "SGD momentum" },
  nesterov: { type: "boolean", default: d.nesterov, help: "Nesterov momentum" },
  weightDecay: { type: "number", default: d.weightDecay, min: 0, max: 1, help: "L2 weight decay" },
  schedule: {
    type: "string",
    choices: ["plateau", "cosine", "step", "none"],
    default: d.schedule,
    help: "lr schedule (plateau: ÷10 when validation accuracy stalls)",
  },
  patience: {
    type: "int",
    default: d.patience,
    max: IMAGE_LIMITS.epochs,
    help: "epochs without improvement before ÷10 (plateau)",
  },
  warmupEpochs: {
    type: "number",
    default: d.warmupEpochs,
    min: 0,
    max: IMAGE_LIMITS.epochs,
    help: "linear warmup (cosine)",
  },
  augment: {
    type: "boolean",
    default: d.augment,
    help: "random crops and horizontal flips (--no-augment to disable)",
  },
  cropPadding: {
    type: "int",
    default: d.cropPadding,
    max: IMAGE_LIMITS.cropPadding,
    help: "zero padding of random crops",
  },
  labelSmoothing: {
    type: "number",
    default: d.labelSmoothing,
    min: 0,
    max: 1,
    help: "label smoothing",
  },
  clipNorm: {
    type: "number",
    default: d.clipNorm,
    min: 0,
    help: "gradient-norm clipping (0 = off)",
  },
  valSize: { type: "int", default: d.valSize, help: "training images held out for validation" },
  trainLimit: {
    type: "int",
    default: d.trainLimit,
    help: "use at most this many training images (0 = all)",
  },
  seed: { type: "int", default: d.seed, max: 2 ** 32 - 1, help: "random seed" },
  testViews: {
    type: "string",
    choices: tg.vision.TEST_VIEWS,
    default: d.testViews,
    help: "final test: softmax averaged over the image (single), it and its mirror (flip), or AlexNet's 5 crops × 2 mirrors (ten)",
  },
  matmulPrecision: {
    type: "string",
    choices: tg.MATMUL_PRECISIONS,
    default: d.matmulPrecision,
    help: "medium: convolutions and matmuls from bfloat16 operands on the native backend (AVX512-BF16/AMX), float32 weights",
  },
  workers: {
    type: "int",
    default: d.workers,
    max: IMAGE_LIMITS.workers,
    help: "data-loading worker threads (0 = main thread)",
  },
  config: {
    type: "string",
    help: "JSON file of config fields, e.g. a recipe's config.json (flags override it)",
  },
  out: { type: "string", help: "run folder (default runs/image/<config-hash>)" },
  resume: { type: "boolean", default: false, help: "continue the run folder's latest checkpoint" },
  quick: {
    type: "boolean",
    default: false,
    help: "a short smoke run: bundled sample, 2 epochs, 2000 images, narrow model",
  },
  ...backendFlags,
} as const;

const NAMES = ["fashion-mnist", "fashion-mnist-sample", "cifar10", "cifar-10"];

/** `--data` is a dataset name or a folder; a folder is recognised by what it holds. */
export function resolveDataFlag(data: string): { data: string; dataPath?: string } {
  if (NAMES.includes(data)) return { data };
  const fs = process.getBuiltinModule("node:fs");
  if (!fs.existsSync(data)) {
    throw new UsageError(
      `--data: "${data}" is neither a dataset name (${NAMES.join(", ")}) nor an existing folder`,
    );
  }
  const has = (f: string) => fs.existsSync(`${data}/${f}`) || fs.existsSync(`${data}/${f}.gz`);
  if (has("train-images-idx3-ubyte")) return { data: "fashion-mnist", dataPath: data };
  if (has("data_batch_1.bin") || has("cifar-10-batches-bin/data_batch_1.bin")) {
    return { data: "cifar10", dataPath: data };
  }
  if (fs.existsSync(`${data}/train`) && fs.existsSync(`${data}/test`)) {
    return { data: "folder", dataPath: data };
  }
  throw new UsageError(
    `--data: ${data} holds no Fashion-MNIST IDX files, CIFAR-10 binary batches, or train/ and test/ image folders`,
  );
}

type ImageFlags = ReturnType<typeof parseFlags<typeof flags>>["flags"];

/** What --quick fills in (for fields neither a flag nor the --config file sets). */
const QUICK: Partial<tg.vision.ImageTrainConfig> = {
  data: "fashion-mnist-sample",
  epochs: 2,
  trainLimit: 2000,
  valSize: 500,
  batchSize: 64,
  width: 0.25,
};

/**
 * The run's config from the parsed flags: defaults < --quick < --config file < flags given on the
 * command line. A config file's unknown field or wrongly typed value is a usage error naming it.
 */
export function imageConfigFromArgs(
  f: ImageFlags,
  argv: readonly string[],
): Partial<tg.vision.ImageTrainConfig> {
  const fromFlags: Partial<tg.vision.ImageTrainConfig> = {
    model: f.model as tg.vision.ImageModelName,
    width: f.width,
    init: f.init as "pytorch" | "alexnet" | "kaiming",
    poolPadding: f.poolPadding as 0 | 1,
    data: f.data,
    epochs: f.epochs,
    batchSize: f.batchSize,
    optimizer: f.optimizer as "sgd" | "adam" | "adamw",
    lr: f.lr,
    momentum: f.momentum,
    nesterov: f.nesterov,
    weightDecay: f.weightDecay,
    schedule: f.schedule as tg.vision.ImageTrainConfig["schedule"],
    patience: f.patience,
    warmupEpochs: f.warmupEpochs,
    augment: f.augment,
    cropPadding: f.cropPadding,
    labelSmoothing: f.labelSmoothing,
    clipNorm: f.clipNorm,
    valSize: f.valSize,
    trainLimit: f.trainLimit,
    seed: f.seed,
    workers: f.workers,
    testViews: f.testViews as tg.vision.TestViews,
    matmulPrecision: f.matmulPrecision as tg.MatmulPrecision,
  };
  const given = (k: string) => {
    const flag = `--${k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`;
    return argv.some(
      (a) => a === flag || a.startsWith(flag + "=") || a === `--no-${flag.slice(2)}`,
    );
  };
  const file = f.config !== undefined ? readConfigFile(f.config) : {};
  const defaults = tg.vision.defaultImageConfig as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(file)) {
    const want = k === "dataPath" ? "string" : typeof defaults[k];
    if (!(k in fromFlags) && k !== "dataPath") {
      throw new UsageError(
        `--config ${String(f.config)}: unknown field "${k}" (known: ${Object.keys(fromFlags).join(", ")}, dataPath)`,
      );
    }
    if (typeof v !== want) {
      throw new UsageError(
        `--config ${String(f.config)}: "${k}" must be a ${want}, got ${JSON.stringify(v)}`,
      );
    }
    const spec = (flags as Record<string, FlagSpec | undefined>)[k];
    const wanted = spec && typeof v === "number" ? outOfRange(spec, v) : null;
    if (wanted !== null) {
      throw new UsageError(
        `--config ${String(f.config)}: "${k}" must be ${wanted}, got ${JSON.stringify(v)}`,
      );
    }
    const choices = spec?.choices;
    if (choices && !(choices as readonly unknown[]).includes(v)) {
      throw new UsageError(
        `--config ${String(f.config)}: "${k}" must be one of ${choices.join(", ")}, got ${JSON.stringify(v)}`,
      );
    }
  }
  const cfg: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fromFlags)) {
    if (given(k)) cfg[k] = v;
    else if (k in file) cfg[k] = file[k];
    else if (f.quick && k in QUICK) cfg[k] = QUICK[k as keyof typeof QUICK];
    else cfg[k] = v;
  }
  // A file's dataPath goes with its data; a --data flag replaces both.
  const data = resolveDataFlag(cfg.data as string);
  return {
    ...(cfg as Partial<tg.vision.ImageTrainConfig>),
    ...data,
    ...(!given("data") && typeof file.dataPath === "string" ? { dataPath: file.dataPath } : {}),
  };
}

export const command: Command = {
  name: "train image",
  summary:
    "Train an image classifier (AlexNet recipe: SGD + momentum + weight decay, augmentation, lr ÷10 on plateau) with a run folder, checkpoints and a report.",
  async run(argv) {
    const { flags: f, help, positionals } = parseFlags(argv, flags);
    if (help) {
      console.log(usage("train image", this.summary, flags));
      return 0;
    }
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const backend = applyBackend(f);
    const cfg = imageConfigFromArgs(f, argv);
    console.error(
      `tsgrad train image: ${cfg.model} on ${cfg.data}${cfg.dataPath ? ` (${cfg.dataPath})` : ""}, backend ${backend}`,
    );
    const res = await tg.vision.trainImageClassifier(cfg, {
      ...(f.out !== undefined ? { dir: f.out } : {}),
      resume: f.resume,
    });
    if (res.status === "already-finished") {
      console.log(
        `${res.dir} already holds a finished run (test accuracy ${String(res.summary?.testAccuracy)}); use another --out to train again`,
      );
      return 0;
    }
    if (res.status !== "finished") {
      console.log(
        `interrupted: checkpoint saved in ${res.dir}; continue with the same flags plus --resume`,
      );
      return 130;
    }
    const s = res.summary!;
    const views =
      s.testViews === "single"
        ? ""
        : `, ${String(s.testViews)} views; single view ${(100 * (s.singleViewTestAccuracy as number)).toFixed(2)}%`;
    console.log(
      `test accuracy ${(100 * (s.testAccuracy as number)).toFixed(2)}% (${String(s.testImages)} images${views}), ${(s.wallSeconds as number).toFixed(0)} s, ${Math.round(s.imagesPerSec as number)} img/s on ${String(s.backend)}${s.bf16Compute ? " (bf16 products)" : ""}`,
    );
    console.log(`run folder: ${res.dir} (report.html, metrics.jsonl, model.safetensors)`);
    return 0;
  },
};
