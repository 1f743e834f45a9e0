/**
 * AlexNet (Krizhevsky, Sutskever & Hinton 2012), scaled to small images.
 *
 * The design is the paper's: five convolutions with ReLU; local response normalisation
 * (n = 5, α = 1e-4, β = 0.75, k = 2) after the first two; overlapping 3×3 max-pooling with stride 2
 * after the first, second and fifth; a classifier of two dropout(0.5) hidden layers. The scale is
 * not: ImageNet's 224×224 input with an 11×11 stride-4 first layer and 4096-wide hidden layers
 * becomes a 5×5 stride-1 first layer and `width`-scaled channels (default 64-128-192-192-128 and
 * 1024 hidden units — about a third of the paper's widths), so that 28×28 (Fashion-MNIST) and 32×32
 * (CIFAR) inputs keep a 2×2 or 3×3 map after the last pooling.
 *
 * The module tree matches `torch.nn.Sequential` layouts (`features.N`, `classifier.N`), so its
 * state dict loads into the equivalent PyTorch model (see `torchSource()`).
 */
import * as nn from "../nn/index.js";
import { normal_, zeros_, constant_, kaimingNormal_ } from "../nn/init.js";
import { windowOut } from "../ops/rules.js";
import { TsgradError } from "../tensor/errors.js";
import type { Tensor } from "../tensor/tensor.js";

export interface AlexNetConfig {
  inChannels: number;
  imageSize: number;
  numClasses: number;
  /** Channel multiplier on 64-128-192-192-128 (and 1024 hidden units). */
  width?: number;
  dropout?: number;
  /**
   * "pytorch": PyTorch's layer defaults (U(±1/√fan-in)); "alexnet": the paper's N(0, 0.01) weights
   * and biases of 1; "kaiming": He-normal weights for the ReLU layers, N(0, 0.01) for the output
   * layer, zero biases (as torchvision initialises its VGG).
   */
  init?: "alexnet" | "pytorch" | "kaiming";
  /**
   * Zero padding of the three 3×3 stride-2 max-pools: 0 (the paper's) or 1, which keeps more of a
   * small image (28 → 14 → 7 → 4 instead of 28 → 13 → 6 → 2), as torchvision's ResNet stem pads
   * its overlapping pool.
   */
  poolPadding?: 0 | 1;
}

/**
 * @example
 * const net = new tg.models.AlexNet({ inChannels: 1, imageSize: 28, numClasses: 10, width: 0.25 });
 * console.log(net.forward(tg.zeros([2, 1, 28, 28])).shape); // [2, 10]
 */
export class AlexNet extends nn.Layer {
  features: nn.Sequential;
  classifier: nn.Sequential;
  readonly config: Required<AlexNetConfig>;

  constructor(config: AlexNetConfig) {
    super();
    const c = {
      width: 1,
      dropout: 0.5,
      init: "pytorch" as const,
      poolPadding: 0 as const,
      ...config,
    };
    if (c.poolPadding !== 0 && c.poolPadding !== 1) {
      throw new TsgradError("AlexNet", `poolPadding must be 0 or 1, got ${String(c.poolPadding)}`);
    }
    const pool = () => new nn.MaxPool2d(3, { stride: 2, padding: c.poolPadding });
    this.config = c;
    const ch = [64, 128, 192, 192, 128].map((x) => Math.max(8, Math.round(x * c.width)));
    const hidden = Math.max(32, Math.round(1024 * c.width));
    const [c1, c2, c3, c4, c5] = ch as [number, number, number, number, number];
    this.features = new nn.Sequential(
      new nn.Conv2d(c.inChannels, c1, 5, { padding: 2 }),
      new nn.ReLU(),
      new nn.LocalResponseNorm(5, 1e-4, 0.75, 2),
      pool(),
      new nn.Conv2d(c1, c2, 5, { padding: 2 }),
      new nn.ReLU(),
      new nn.LocalResponseNorm(5, 1e-4, 0.75, 2),
      pool(),
      new nn.Conv2d(c2, c3, 3, { padding: 1 }),
      new nn.ReLU(),
      new nn.Conv2d(c3, c4, 3, { padding: 1 }),
      new nn.ReLU(),
      new nn.Conv2d(c4, c5, 3, { padding: 1 }),
      new nn.ReLU(),
      pool(),
    );
    // Three overlapping 3×3/2 poolings: 28 → 13 → 6 → 2, 32 → 15 → 7 → 3 (padded: 28 → 14 → 7 → 4;
    // padded pools keep at least one pixel of any image, so only unpadded ones can run out).
    let s = c.imageSize;
    for (let i = 0; i < 3; i++) s = windowOut(s, 3, 2, c.poolPadding, 1);
    if (s < 1) {
      throw new TsgradError(
        "AlexNet",
        `images of ${c.imageSize}×${c.imageSize} are too small for three unpadded 3×3 stride-2 poolings (need at least 15×15, or poolPadding 1)`,
      );
    }
    this.classifier = new nn.Sequential(
      new nn.Dropout(c.dropout),
      new nn.Linear(c5 * s * s, hidden),
      new nn.ReLU(),
      new nn.Dropout(c.dropout),
      new nn.Linear(hidden, hidden),
      new nn.ReLU(),
      new nn.Linear(hidden, c.numClasses),
    );
    const convs = this.features.children().filter((m): m is nn.Conv2d => m instanceof nn.Conv2d);
    const fcs = this.classifier.children().filter((m): m is nn.Linear => m instanceof nn.Linear);
    if (c.init === "alexnet") {
      // §5 of the paper: weights N(0, 0.01²); biases 1 in conv 2, 4, 5 and the hidden FC layers
      // (to give ReLUs positive inputs early), 0 elsewhere.
      [...convs, ...fcs].forEach((m) => normal_(m.weight, 0, 0.01));
      convs.forEach(
        (m, i) => m.bias && ([1, 3, 4].includes(i) ? constant_(m.bias, 1) : zeros_(m.bias)),
      );
      fcs.forEach((m, i) => m.bias && (i < 2 ? constant_(m.bias, 1) : zeros_(m.bias)));
    } else if (c.init === "kaiming") {
      // Without batch norm, PyTorch's defaults (variance 1/(3·fan-in)) shrink the signal at each
      // of the eight layers and the LRNs shrink it further: the net sits at chance for hundreds of
      // steps before it starts to learn. He-normal keeps the ReLU activations' scale.
      convs.forEach((m) => kaimingNormal_(m.weight, { mode: "fanOut", nonlinearity: "relu" }));
      fcs.forEach((m, i) =>
        i < fcs.length - 1
          ? kaimingNormal_(m.weight, { nonlinearity: "relu" })
          : normal_(m.weight, 0, 0.01),
      );
      [...convs, ...fcs].forEach((m) => m.bias && zeros_(m.bias));
    }
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.features.forward(x).flatten(1));
  }

  /** The equivalent PyTorch model, as Python source (used to show checkpoints load in PyTorch). */
  torchSource(): string {
    const lines = (seq: nn.Sequential) =>
      seq
        .children()
        .map((m) => {
          if (m instanceof nn.Conv2d) {
            return `nn.Conv2d(${m.inChannels}, ${m.outChannels}, ${String(m.kernelSize)}, padding=${String(m.opts.padding ?? 0)})`;
          }
          if (m instanceof nn.Linear) return `nn.Linear(${m.inFeatures}, ${m.outFeatures})`;
          if (m instanceof nn.LocalResponseNorm) {
            return `nn.LocalResponseNorm(${m.size}, ${m.alpha}, ${m.beta}, ${m.k})`;
          }
          if (m instanceof nn.MaxPool2d) {
            return `nn.MaxPool2d(${String(m.kernelSize)}, ${String(m.opts.stride ?? m.kernelSize)}, padding=${String(m.opts.padding ?? 0)})`;
          }
          if (m instanceof nn.Dropout) return `nn.Dropout(${m.p})`;
          return "nn.ReLU()";
        })
        .join(", ");
    return `nn.ModuleDict(dict(features=nn.Sequential(${lines(this.features)}), classifier=nn.Sequential(${lines(this.classifier)})))`;
  }
}
