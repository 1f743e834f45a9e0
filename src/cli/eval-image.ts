/** `tsgrad eval image`: accuracy and confusion matrix of a trained classifier on a test set. */
import * as tg from "../index.js";
import { parseFlags, usage, UsageError } from "./args.js";
import { applyBackend, backendFlags } from "./common.js";
import { resolveDataFlag } from "./train-image.js";
import type { Command } from "./main.js";

const flags = {
  checkpoint: {
    type: "string",
    help: "model.safetensors, best.safetensors or checkpoint-*.safetensors of a training run",
  },
  data: {
    type: "string",
    help: "dataset name or folder (default: the one the model was trained on)",
  },
  split: {
    type: "string",
    choices: ["test", "val", "train"],
    default: "test",
    help: "which split to evaluate (val: the run's held-out validation images)",
  },
  views: {
    type: "string",
    choices: tg.vision.TEST_VIEWS,
    help: "test-time views averaged per image (default: the run's testViews, else single)",
  },
  matmulPrecision: {
    type: "string",
    choices: tg.MATMUL_PRECISIONS,
    help: "float32 matmul precision (default: the run's matmulPrecision, else highest)",
  },
  json: { type: "boolean", default: false, help: "print the result as JSON" },
  ...backendFlags,
} as const;

export const command: Command = {
  name: "eval image",
  summary: "Evaluate a trained image classifier: accuracy, loss and confusion matrix.",
  run(argv) {
    const { flags: f, help } = parseFlags(argv, flags);
    if (help) {
      console.log(usage("eval image", this.summary, flags));
      return 0;
    }
    if (f.checkpoint === undefined) throw new UsageError("--checkpoint is required");
    applyBackend(f);
    const { model, meta } = tg.vision.loadImageClassifier(f.checkpoint);
    const src =
      f.data !== undefined
        ? resolveDataFlag(f.data)
        : {
            data: meta.config.data,
            ...(meta.config.dataPath ? { dataPath: meta.config.dataPath } : {}),
          };
    const data = tg.vision.loadImageData(
      src.data,
      src.dataPath !== undefined ? { data: src.dataPath } : {},
    );
    if (data.classes.length !== meta.classes.length) {
      throw new tg.TsgradError(
        f.checkpoint,
        `was trained on ${meta.classes.length} classes, the data has ${data.classes.length}`,
      );
    }
    const ds =
      f.split === "test"
        ? data.test
        : f.split === "train"
          ? data.train
          : tg.vision.splitTrainVal(data.train, meta.config).val;
    if (ds === null) {
      throw new UsageError(`--split val: ${f.checkpoint} was trained without a validation split`);
    }
    // Checkpoints written before testViews existed were evaluated on single views.
    const views = (f.views ?? meta.config.testViews ?? "single") as tg.vision.TestViews;
    // The run's own precision by default, so its figures reproduce (older runs: float32).
    const precision = (f.matmulPrecision ??
      meta.config.matmulPrecision ??
      "highest") as tg.MatmulPrecision;
    const r = tg.withFloat32MatmulPrecision(precision, () =>
      tg.vision.evaluate(
        model,
        ds,
        tg.vision.imageTransforms(
          { augment: false, cropPadding: 0 },
          { ...meta, train: data.train },
          false,
        ),
        { views, shift: meta.config.cropPadding },
      ),
    );
    const bf16 = tg.bf16Products(precision);
    if (f.json) {
      console.log(
        JSON.stringify({
          accuracy: r.accuracy,
          loss: r.loss,
          images: ds.length,
          views,
          matmulPrecision: precision,
          confusion: r.confusion,
        }),
      );
    } else {
      console.log(
        `${f.split} accuracy ${(100 * r.accuracy).toFixed(2)}% on ${ds.length} images (${views} view${views === "single" ? "" : "s"}${bf16 ? ", bf16 products" : ""}), loss ${r.loss.toFixed(4)}`,
      );
      const w = Math.max(...meta.classes.map((c) => c.length));
      r.confusion.forEach((row, i) => {
        const total = row.reduce((a, b) => a + b, 0);
        console.log(
          `  ${meta.classes[i]!.padEnd(w)}  ${(100 * (row[i]! / Math.max(1, total))).toFixed(1).padStart(5)}%  (${row[i]}/${total})`,
        );
      });
    }
    return 0;
  },
};
