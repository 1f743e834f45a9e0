/**
 * Image classifiers by name, for the CLI, recipes and experiments: a ladder from a linear model to
 * AlexNet, so weak and strong models can be picked by size.
 */
import { AlexNet } from "../models/alexnet.js";
import { LeNet5 } from "../models/lenet5.js";
import { Flatten, type Layer, Linear, ReLU, Sequential } from "../nn/layers.js";
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
