/**
 * LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998), the small baseline: two 5×5 convolutions with
 * 2×2 pooling, then 120-84-classes fully connected layers. As most modern re-implementations do,
 * it uses ReLU and max-pooling instead of the paper's scaled tanh and trainable subsampling, and
 * pads the first convolution so 28×28 inputs behave like the paper's 32×32.
 */
import * as nn from "../nn/index.js";
import { TsgradError } from "../tensor/errors.js";
import type { Tensor } from "../tensor/tensor.js";

export interface LeNet5Config {
  inChannels: number;
  imageSize: number;
  numClasses: number;
}

/**
 * @example
 * const net = new tg.models.LeNet5({ inChannels: 1, imageSize: 28, numClasses: 10 });
 * console.log(net.forward(tg.zeros([3, 1, 28, 28])).shape, net.numParameters()); // [3, 10] 61706
 */
export class LeNet5 extends nn.Layer {
  features: nn.Sequential;
  classifier: nn.Sequential;

  constructor(readonly config: LeNet5Config) {
    super();
    const pad = config.imageSize <= 28 ? 2 : 0;
    const s = Math.floor((Math.floor((config.imageSize + 2 * pad - 4) / 2) - 4) / 2);
    if (s < 1) {
      throw new TsgradError(
        "LeNet5",
        `images of ${config.imageSize}×${config.imageSize} are too small`,
      );
    }
    this.features = new nn.Sequential(
      new nn.Conv2d(config.inChannels, 6, 5, { padding: pad }),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.Conv2d(6, 16, 5),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
    );
    this.classifier = new nn.Sequential(
      new nn.Linear(16 * s * s, 120),
      new nn.ReLU(),
      new nn.Linear(120, 84),
      new nn.ReLU(),
      new nn.Linear(84, config.numClasses),
    );
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.features.forward(x).flatten(1));
  }
}
