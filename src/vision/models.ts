/**
 * Image classifiers by name, for the CLI, recipes and experiments: a ladder from a linear model to
 * AlexNet, so weak and strong models can be picked by size.
 */
import { AlexNet } from "../models/alexnet.js";
import { LeNet5 } from "../models/lenet5.js";
import { Flatten, type Layer, Linear, ReLU, Sequential } from "../nn/layers.js";
import { windowOut } from "../ops/rules.js";
import { TsgradError } from "../tensor/errors.js";

export const IMAGE_MODELS = ["logistic", "mlp", "lenet5", "alexnet"] as const;
export type ImageModelName = (typeof IMAGE_MODELS)[number];

export interface ImageModelSpec {
  name: ImageModelName;
  inChannels: number;
  imageSize: number;
  numClasses: number;
  /** AlexNet's channel multiplier; the MLP's hidden width is 512 × width. */
  width?: number;
  /** AlexNet's initialisation: "pytorch" (default), "alexnet" (the paper's) or "kaiming". */
  init?: "alexnet" | "pytorch" | "kaiming";
  /** AlexNet's max-pool padding: 0 (default, the paper's) or 1. */
  poolPadding?: 0 | 1;
}

/**
 * Build an image classifier. "logistic": multinomial logistic regression on pixels; "mlp": one
 * hidden ReLU layer; "lenet5"; "alexnet".
 *
 * @example
 * const m = tg.vision.createImageModel({ name: "mlp", inChannels: 1, imageSize: 28, numClasses: 10 });
 * console.log(m.forward(tg.zeros([2, 1, 28, 28])).shape, m.numParameters()); // [2, 10] 407050
 */
export function createImageModel(spec: ImageModelSpec): Layer {
  const { inChannels: c, imageSize: s, numClasses: k, width = 1 } = spec;
  switch (spec.name) {
    case "logistic":
      return new Sequential(new Flatten(), new Linear(c * s * s, k));
    case "mlp": {
      const h = Math.max(8, Math.round(512 * width));
      return new Sequential(new Flatten(), new Linear(c * s * s, h), new ReLU(), new Linear(h, k));
    }
    case "lenet5":
      return new LeNet5({ inChannels: c, imageSize: s, numClasses: k });
    case "alexnet":
      return new AlexNet({
        inChannels: c,
        imageSize: s,
        numClasses: k,
        width,
        init: spec.init ?? "pytorch",
        poolPadding: spec.poolPadding ?? 0,
      });
    default:
      throw new TsgradError(
        "createImageModel",
        `unknown model "${String(spec.name)}" (known: ${IMAGE_MODELS.join(", ")})`,
      );
  }
}

/**
 * The state-dict shapes `createImageModel(spec)` would have, computed without building the model.
 * A checkpoint's model description is checked against the tensors in the file with this before
 * any layer is allocated: an edited `width: 1e6` would otherwise ask for gigabytes. Null when the
 * images are too small for the architecture (the constructor's error then explains why).
 * Kept in step with the models by test/vision/checkpoint-meta.test.ts.
 */
export function imageModelShapes(spec: ImageModelSpec): Record<string, number[]> | null {
  const { inChannels: c, imageSize: s, numClasses: k, width = 1 } = spec;
  const linear = (name: string, inF: number, outF: number) => ({
    [`${name}.weight`]: [outF, inF],
    [`${name}.bias`]: [outF],
  });
  const conv = (name: string, inC: number, outC: number, kernel: number) => ({
    [`${name}.weight`]: [outC, inC, kernel, kernel],
    [`${name}.bias`]: [outC],
  });
  switch (spec.name) {
    case "logistic":
      return linear("1", c * s * s, k);
    case "mlp": {
      const h = Math.max(8, Math.round(512 * width));
      return { ...linear("1", c * s * s, h), ...linear("3", h, k) };
    }
    case "lenet5": {
      const pad = s <= 28 ? 2 : 0;
      const m = Math.floor((Math.floor((s + 2 * pad - 4) / 2) - 4) / 2);
      if (m < 1) return null;
      return {
        ...conv("features.0", c, 6, 5),
        ...conv("features.3", 6, 16, 5),
        ...linear("classifier.0", 16 * m * m, 120),
        ...linear("classifier.2", 120, 84),
        ...linear("classifier.4", 84, k),
      };
    }
    case "alexnet": {
      const [c1, c2, c3, c4, c5] = [64, 128, 192, 192, 128].map((x) =>
        Math.max(8, Math.round(x * width)),
      ) as [number, number, number, number, number];
      const hidden = Math.max(32, Math.round(1024 * width));
      let m = s;
      for (let i = 0; i < 3; i++) m = windowOut(m, 3, 2, spec.poolPadding ?? 0, 1);
      if (m < 1) return null;
      return {
        ...conv("features.0", c, c1, 5),
        ...conv("features.4", c1, c2, 5),
        ...conv("features.8", c2, c3, 3),
        ...conv("features.10", c3, c4, 3),
        ...conv("features.12", c4, c5, 3),
        ...linear("classifier.1", c5 * m * m, hidden),
        ...linear("classifier.4", hidden, hidden),
        ...linear("classifier.6", hidden, k),
      };
    }
    default:
      return null;
  }
}
