/**
 * The standard layers (torch.nn names, constructor arguments and initialisation), each a thin
 * module over a `tg.F` function.
 */
import * as F from "./functional.js";
import { Buffer, Module, Parameter } from "./module.js";
import { kaimingUniform_, normal_, uniform_ } from "./init.js";
import { full, ones, zeros } from "../tensor/creation.js";
import { TsgradError } from "../tensor/errors.js";
import type { Generator } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";
import * as ops from "../ops/ops.js";

type Pair = F.Pair;

/**
 * A module mapping one tensor to one tensor.
 *
 * @example
 * class Double extends tg.nn.Layer {
 *   forward(x: tg.Tensor) {
 *     return x.mul(2);
 *   }
 * }
 * console.log(new tg.nn.Sequential(new Double(), new Double()).forward(tg.ones([1])).toArray()); // [4]
 */
export abstract class Layer extends Module {
  abstract override forward(x: Tensor): Tensor;
}

/**
 * y = x Wᵀ + b. Weight [out, in] and bias initialised U(-1/√in, 1/√in), as PyTorch.
 *
 * @example
 * const fc = new tg.nn.Linear(3, 2);
 * console.log(fc.forward(tg.ones([4, 3])).shape, fc.weight.shape); // [4, 2] [2, 3]
 */
export class Linear extends Layer {
  weight: Tensor;
  bias: Tensor | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: { bias?: boolean } = {},
  ) {
    super();
    this.weight = Parameter(kaimingUniform_(zeros([outFeatures, inFeatures]), { a: Math.sqrt(5) }));
    // PyTorch's bound, 0 when there are no inputs (1/√0 would fill the bias with NaN).
    const bound = inFeatures > 0 ? 1 / Math.sqrt(inFeatures) : 0;
    this.bias =
      opts.bias === false ? null : Parameter(uniform_(zeros([outFeatures]), -bound, bound));
  }
  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
  protected override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair | "same" | "valid";
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
}

/**
 * The parameters of a convolution layer as PyTorch makes them: the weight (of `shape`: dim 1 is
 * the channels each output sees) kaiming-uniform with a = √5, the bias U(±1/√fan-in) with fan-in =
 * dim 1 × the kernel's area, after checking that both channel counts divide into the groups.
 */
function convParameters(
  op: string,
  inChannels: number,
  outChannels: number,
  groups: number,
  shape: number[],
  bias: boolean,
): { weight: Tensor; bias: Tensor | null } {
  if (inChannels % groups !== 0 || outChannels % groups !== 0) {
    throw new TsgradError(
      op,
      `channels ${inChannels} -> ${outChannels} are not divisible by groups=${groups}`,
    );
  }
  const weight = Parameter(kaimingUniform_(zeros(shape), { a: Math.sqrt(5) }));
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return {
    weight,
    bias: bias ? Parameter(uniform_(zeros([outChannels]), -bound, bound)) : null,
  };
}

/**
 * 2-D convolution over [N, C, H, W]; weight [out, in/groups, kh, kw], PyTorch's initialisation.
 *
 * @example
 * const conv = new tg.nn.Conv2d(1, 8, 3, { padding: 1 });
 * console.log(conv.forward(tg.zeros([2, 1, 28, 28])).shape); // [2, 8, 28, 28]
 */
export class Conv2d extends Layer {
  weight: Tensor;
  bias: Tensor | null;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: Pair,
    readonly opts: Conv2dOptions = {},
  ) {
    super();
    const [kh, kw] = typeof kernelSize === "number" ? [kernelSize, kernelSize] : kernelSize;
    const groups = opts.groups ?? 1;
    const shape = [outChannels, inChannels / groups, kh, kw];
    ({ weight: this.weight, bias: this.bias } = convParameters(
      "Conv2d",
      inChannels,
      outChannels,
      groups,
      shape,
      opts.bias !== false,
    ));
  }
  forward(x: Tensor): Tensor {
    const { bias: _bias, ...conv } = this.opts;
    return F.conv2d(x, this.weight, this.bias, conv);
  }
  protected override extraRepr(): string {
    const o = this.opts;
    return (
      `${this.inChannels}, ${this.outChannels}, kernelSize=${String(this.kernelSize)}` +
      (o.stride !== undefined ? `, stride=${String(o.stride)}` : "") +
      (o.padding !== undefined ? `, padding=${String(o.padding)}` : "") +
      (o.groups !== undefined ? `, groups=${o.groups}` : "")
    );
  }
}

/**
 * Max pooling; `new MaxPool2d(3, { stride: 2 })` is AlexNet's overlapping pooling.
 *
 * @example
 * console.log(new tg.nn.MaxPool2d(3, { stride: 2 }).forward(tg.zeros([1, 1, 13, 13])).shape); // [1, 1, 6, 6]
 */
export class MaxPool2d extends Layer {
  constructor(
    readonly kernelSize: Pair,
    readonly opts: F.Pool2dOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernelSize, this.opts);
  }
  protected override extraRepr(): string {
    return `kernelSize=${String(this.kernelSize)}, stride=${String(this.opts.stride ?? this.kernelSize)}`;
  }
}

/**
 * Average pooling (zero padding counts toward the average unless `countIncludePad: false`).
 *
 * @example
 * console.log(new tg.nn.AvgPool2d(2).forward(tg.ones([1, 1, 4, 4])).shape); // [1, 1, 2, 2]
 */
export class AvgPool2d extends Layer {
  constructor(
    readonly kernelSize: Pair,
    readonly opts: F.Pool2dOptions & { countIncludePad?: boolean } = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.avgPool2d(x, this.kernelSize, this.opts);
  }
}

/**
 * Average pooling to a fixed output size, whatever the input size.
 *
 * @example
 * console.log(new tg.nn.AdaptiveAvgPool2d(1).forward(tg.ones([2, 3, 5, 5])).shape); // [2, 3, 1, 1]
 */
export class AdaptiveAvgPool2d extends Layer {
  constructor(readonly outputSize: Pair) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.adaptiveAvgPool2d(x, this.outputSize);
  }
}

/** @example console.log(new tg.nn.ReLU().forward(tg.tensor([-1, 2])).toArray()); // [0, 2] */
export class ReLU extends Layer {
  forward(x: Tensor): Tensor {
    return ops.relu(x);
  }
}

/** @example console.log(new tg.nn.Tanh().forward(tg.tensor([0])).toArray()); // [0] */
export class Tanh extends Layer {
  forward(x: Tensor): Tensor {
    return ops.tanh(x);
  }
}

/** @example console.log(new tg.nn.Sigmoid().forward(tg.tensor([0])).toArray()); // [0.5] */
export class Sigmoid extends Layer {
  forward(x: Tensor): Tensor {
    return ops.sigmoid(x);
  }
}

/** @example console.log(new tg.nn.GELU().forward(tg.tensor([0])).toArray()); // [0] */
export class GELU extends Layer {
  constructor(readonly approximate: "none" | "tanh" = "none") {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.gelu(x, this.approximate);
  }
}

/** @example console.log(new tg.nn.Identity().forward(tg.tensor([3])).toArray()); // [3] */
export class Identity extends Layer {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/**
 * Dropout: active in training mode only. Draws from `generator` (default: the global one).
 *
 * @example
 * const d = new tg.nn.Dropout(0.5);
 * console.log(d.eval().forward(tg.ones([3])).toArray()); // [1, 1, 1]
 */
export class Dropout extends Layer {
  constructor(
    readonly p = 0.5,
    readonly generator?: Generator,
  ) {
    super();
    if (!(p >= 0 && p <= 1)) {
      throw new TsgradError("Dropout", `probability must be in [0, 1], got ${p}`);
    }
  }
  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training, this.generator);
  }
  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/**
 * Local response normalisation across channels (AlexNet: size 5, α 1e-4, β 0.75, k 2).
 *
 * @example
 * const lrn = new tg.nn.LocalResponseNorm(5, 1e-4, 0.75, 2);
 * console.log(lrn.forward(tg.ones([1, 8, 4, 4])).shape); // [1, 8, 4, 4]
 */
export class LocalResponseNorm extends Layer {
  constructor(
    readonly size: number,
    readonly alpha = 1e-4,
    readonly beta = 0.75,
    readonly k = 1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.localResponseNorm(x, this.size, this.alpha, this.beta, this.k);
  }
  protected override extraRepr(): string {
    return `${this.size}, alpha=${this.alpha}, beta=${this.beta}, k=${this.k}`;
  }
}

export interface BatchNormOptions {
  eps?: number;
  momentum?: number;
  affine?: boolean;
  trackRunningStats?: boolean;
}

abstract class BatchNormBase extends Layer {
  // NOTE: buffer names are PyTorch's own (snake_case), so state dicts load into torch.nn models.
  weight: Tensor | null;
  bias: Tensor | null;
  running_mean: Tensor | null;
  running_var: Tensor | null;
  num_batches_tracked: Tensor | null;
  readonly eps: number;
  readonly momentum: number;
  protected abstract readonly expectedRank: number[];
  constructor(
    readonly numFeatures: number,
    opts: BatchNormOptions = {},
  ) {
    super();
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    const affine = opts.affine ?? true;
    const track = opts.trackRunningStats ?? true;
    this.weight = affine ? Parameter(ones([numFeatures])) : null;
    this.bias = affine ? Parameter(zeros([numFeatures])) : null;
    this.running_mean = track ? Buffer(zeros([numFeatures])) : null;
    this.running_var = track ? Buffer(ones([numFeatures])) : null;
    this.num_batches_tracked = track ? Buffer(zeros([], { dtype: "int32" })) : null;
  }
  forward(x: Tensor): Tensor {
    if (!this.expectedRank.includes(x.ndim) || x.shape[1] !== this.numFeatures) {
      throw new TsgradError(
        this.constructor.name,
        `expected input [N, ${this.numFeatures}${this.expectedRank.includes(4) ? ", H, W" : ""}], got [${x.shape.join(",")}]`,
      );
    }
    if (this.training && this.num_batches_tracked) this.num_batches_tracked.data[0]! += 1;
    return F.batchNorm(x, this.running_mean, this.running_var, this.weight, this.bias, {
      training: this.training || this.running_mean === null,
      momentum: this.momentum,
      eps: this.eps,
    });
  }
}

/**
 * Batch normalisation over [N, C] or [N, C, L] (running statistics in the buffers `running_mean`/`running_var`, named as in PyTorch).
 *
 * @example
 * const bn = new tg.nn.BatchNorm1d(3);
 * console.log(bn.forward(tg.randn([8, 3])).shape, Object.keys(bn.stateDict()).length); // [8, 3] 5
 */
export class BatchNorm1d extends BatchNormBase {
  protected readonly expectedRank = [2, 3];
}

/**
 * Batch normalisation over [N, C, H, W].
 *
 * @example
 * console.log(new tg.nn.BatchNorm2d(4).forward(tg.randn([2, 4, 3, 3])).shape); // [2, 4, 3, 3]
 */
export class BatchNorm2d extends BatchNormBase {
  protected readonly expectedRank = [4];
}

/**
 * Layer normalisation over the trailing `normalizedShape` axes.
 *
 * @example
 * console.log(new tg.nn.LayerNorm(8).forward(tg.randn([2, 8])).shape); // [2, 8]
 */
export class LayerNorm extends Layer {
  readonly normalizedShape: number[];
  weight: Tensor | null;
  bias: Tensor | null;
  constructor(
    normalizedShape: number | readonly number[],
    readonly opts: { eps?: number; elementwiseAffine?: boolean; bias?: boolean } = {},
  ) {
    super();
    this.normalizedShape =
      typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? Parameter(ones(this.normalizedShape)) : null;
    this.bias = affine && opts.bias !== false ? Parameter(zeros(this.normalizedShape)) : null;
  }
  forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.normalizedShape, this.weight, this.bias, this.opts.eps ?? 1e-5);
  }
}

/**
 * Flatten axes startDim..endDim (default: all but the batch axis).
 *
 * @example
 * console.log(new tg.nn.Flatten().forward(tg.zeros([2, 3, 4])).shape); // [2, 12]
 */
export class Flatten extends Layer {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return ops.flatten(x, this.startDim, this.endDim);
  }
}

/**
 * A lookup table of `numEmbeddings` vectors of size `embeddingDim`, initialised N(0, 1), with the
 * `paddingIdx` row zeroed and frozen.
 *
 * @example
 * const emb = new tg.nn.Embedding(10, 4, { paddingIdx: 0 });
 * const ids = tg.tensor([[1, 0]], { dtype: "int32" });
 * console.log(emb.forward(ids).shape, emb.forward(ids).sum(-1).toArray()[0][1]); // [1, 2, 4] 0
 */
export class Embedding extends Layer {
  weight: Tensor;
  readonly paddingIdx: number | undefined;
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    opts: { paddingIdx?: number } = {},
  ) {
    super();
    const w = normal_(zeros([numEmbeddings, embeddingDim]));
    if (opts.paddingIdx !== undefined) {
      const p = opts.paddingIdx < 0 ? opts.paddingIdx + numEmbeddings : opts.paddingIdx;
      if (!(p >= 0 && p < numEmbeddings)) {
        throw new TsgradError(
          "Embedding",
          `paddingIdx ${opts.paddingIdx} is outside [0, ${numEmbeddings})`,
        );
      }
      w.data.fill(0, p * embeddingDim, (p + 1) * embeddingDim);
      this.paddingIdx = p;
    } else this.paddingIdx = undefined;
    this.weight = Parameter(w);
  }
  forward(ids: Tensor): Tensor {
    return F.embedding(ids, this.weight, this.paddingIdx);
  }
  protected override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== undefined ? `, paddingIdx=${this.paddingIdx}` : ""}`;
  }
}

/**
 * Layers applied in order; children are named "0", "1", … as in PyTorch.
 *
 * @example
 * const net = new tg.nn.Sequential(new tg.nn.Linear(4, 8), new tg.nn.ReLU(), new tg.nn.Linear(8, 2));
 * console.log(net.forward(tg.ones([3, 4])).shape, Object.keys(net.stateDict())); // [3, 2] ["0.weight", "0.bias", "2.weight", "2.bias"]
 */
export class Sequential extends Layer {
  [index: number]: Layer;
  readonly length: number;
  constructor(...layers: Layer[]) {
    super();
    layers.forEach((l, i) => (this[i] = l));
    this.length = layers.length;
  }
  forward(x: Tensor): Tensor {
    let y = x;
    for (let i = 0; i < this.length; i++) y = this[i]!.forward(y);
    return y;
  }
}

/**
 * Exponential linear unit (torch.nn.ELU).
 *
 * @example
 * console.log(new tg.nn.ELU().forward(tg.tensor([-1, 2])).toArray()); // [-0.6321205496788025, 2]
 */
export class ELU extends Layer {
  constructor(readonly alpha = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.elu(x, this.alpha);
  }
  protected override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/** @example console.log(new tg.nn.SELU().forward(tg.tensor([0])).toArray()); // [0] */
export class SELU extends Layer {
  forward(x: Tensor): Tensor {
    return F.selu(x);
  }
}

/** @example console.log(new tg.nn.CELU(2).forward(tg.tensor([3])).toArray()); // [3] */
export class CELU extends Layer {
  constructor(readonly alpha = 1) {
    super();
    if (alpha === 0) throw new TsgradError("CELU", "alpha cannot be 0");
  }
  forward(x: Tensor): Tensor {
    return F.celu(x, this.alpha);
  }
  protected override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/**
 * Parametric ReLU with a learned slope `weight`: one shared, or one per channel
 * (`numParameters` = C), initialised to `init` (torch.nn.PReLU).
 *
 * @example
 * const act = new tg.nn.PReLU(3);
 * console.log(act.weight.toArray(), act.forward(tg.full([1, 3], -4)).toArray()); // [0.25, 0.25, 0.25] [[-1, -1, -1]]
 */
export class PReLU extends Layer {
  weight: Tensor;
  constructor(numParameters = 1, init = 0.25) {
    super();
    if (!Number.isInteger(numParameters) || numParameters < 1) {
      throw new TsgradError(
        "PReLU",
        `numParameters must be a positive integer, got ${numParameters}`,
      );
    }
    this.weight = Parameter(full([numParameters], init));
  }
  forward(x: Tensor): Tensor {
    return F.prelu(x, this.weight);
  }
  protected override extraRepr(): string {
    return `numParameters=${this.weight.size}`;
  }
}

/** @example console.log(new tg.nn.Mish().forward(tg.tensor([0])).toArray()); // [0] */
export class Mish extends Layer {
  forward(x: Tensor): Tensor {
    return F.mish(x);
  }
}

/**
 * Clamp into [minVal, maxVal] (torch.nn.Hardtanh).
 *
 * @example
 * console.log(new tg.nn.Hardtanh(-2, 2).forward(tg.tensor([-3, 1, 3])).toArray()); // [-2, 1, 2]
 */
export class Hardtanh extends Layer {
  constructor(
    readonly minVal = -1,
    readonly maxVal = 1,
  ) {
    super();
    if (minVal > maxVal) {
      throw new TsgradError("Hardtanh", `minVal ${minVal} is greater than maxVal ${maxVal}`);
    }
  }
  forward(x: Tensor): Tensor {
    return F.hardtanh(x, this.minVal, this.maxVal);
  }
  protected override extraRepr(): string {
    return `minVal=${this.minVal}, maxVal=${this.maxVal}`;
  }
}

/** @example console.log(new tg.nn.ReLU6().forward(tg.tensor([-1, 7])).toArray()); // [0, 6] */
export class ReLU6 extends Layer {
  forward(x: Tensor): Tensor {
    return F.relu6(x);
  }
}

/** @example console.log(new tg.nn.Hardsigmoid().forward(tg.tensor([0])).toArray()); // [0.5] */
export class Hardsigmoid extends Layer {
  forward(x: Tensor): Tensor {
    return F.hardsigmoid(x);
  }
}

/** @example console.log(new tg.nn.Hardswish().forward(tg.tensor([4])).toArray()); // [4] */
export class Hardswish extends Layer {
  forward(x: Tensor): Tensor {
    return F.hardswish(x);
  }
}

/**
 * Group normalisation over [N, C, ...]: `numGroups` groups of channels, each normalised, then
 * a per-channel `weight` (ones) and `bias` (zeros) when `affine` (torch.nn.GroupNorm).
 *
 * @example
 * const gn = new tg.nn.GroupNorm(2, 6);
 * console.log(gn.forward(tg.randn([4, 6, 3, 3])).shape, gn.weight?.shape); // [4, 6, 3, 3] [6]
 */
export class GroupNorm extends Layer {
  weight: Tensor | null;
  bias: Tensor | null;
  readonly eps: number;
  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    opts: { eps?: number; affine?: boolean } = {},
  ) {
    super();
    if (!Number.isInteger(numGroups) || numGroups < 1 || numChannels % numGroups !== 0) {
      throw new TsgradError(
        "GroupNorm",
        `numChannels=${numChannels} must be divisible by numGroups=${numGroups}`,
      );
    }
    this.eps = opts.eps ?? 1e-5;
    const affine = opts.affine ?? true;
    this.weight = affine ? Parameter(ones([numChannels])) : null;
    this.bias = affine ? Parameter(zeros([numChannels])) : null;
  }
  forward(x: Tensor): Tensor {
    if (x.ndim < 2 || x.shape[1] !== this.numChannels) {
      throw new TsgradError(
        "GroupNorm",
        `expected input [N, ${this.numChannels}, ...], got [${x.shape.join(",")}]`,
      );
    }
    return F.groupNorm(x, this.numGroups, this.weight, this.bias, this.eps);
  }
  protected override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}, affine=${this.weight !== null}`;
  }
}

/**
 * RMS normalisation over the trailing `normalizedShape` axes with a learned `weight` (ones),
 * as PyTorch 2.4's torch.nn.RMSNorm; `eps` defaults to the input dtype's machine epsilon.
 *
 * @example
 * const norm = new tg.nn.RMSNorm(2);
 * console.log(norm.forward(tg.tensor([[3, 4]])).toArray()); // [[0.8485281467437744, 1.1313708782196045]]
 */
export class RMSNorm extends Layer {
  readonly normalizedShape: number[];
  weight: Tensor | null;
  constructor(
    normalizedShape: number | readonly number[],
    readonly opts: { eps?: number; elementwiseAffine?: boolean } = {},
  ) {
    super();
    this.normalizedShape =
      typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
    this.weight = (opts.elementwiseAffine ?? true) ? Parameter(ones(this.normalizedShape)) : null;
  }
  forward(x: Tensor): Tensor {
    return F.rmsNorm(x, this.normalizedShape, this.weight, this.opts.eps);
  }
  protected override extraRepr(): string {
    return `[${this.normalizedShape.join(", ")}], eps=${this.opts.eps ?? "machine epsilon"}`;
  }
}

/**
 * Channel dropout over [N, C, H, W] (torch.nn.Dropout2d): in training mode each channel of each
 * example is zeroed with probability p. Draws from `generator` (default: the global one).
 *
 * @example
 * const d = new tg.nn.Dropout2d(0.5);
 * console.log(d.eval().forward(tg.ones([1, 2, 1, 1])).toArray()); // [[[[1]], [[1]]]]
 */
export class Dropout2d extends Layer {
  constructor(
    readonly p = 0.5,
    readonly generator?: Generator,
  ) {
    super();
    if (!(p >= 0 && p <= 1)) {
      throw new TsgradError("Dropout2d", `probability must be in [0, 1], got ${p}`);
    }
  }
  forward(x: Tensor): Tensor {
    return F.dropout2d(x, this.p, this.training, this.generator);
  }
  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}

export interface Conv1dOptions extends F.Conv1dOptions {
  bias?: boolean;
}

/**
 * 1-D convolution over [N, C, L]; weight [out, in/groups, k] and bias initialised as PyTorch's
 * torch.nn.Conv1d (same parameter names, so state dicts load into torch).
 *
 * @example
 * const conv = new tg.nn.Conv1d(4, 8, 3, { padding: "same" });
 * console.log(conv.forward(tg.zeros([2, 4, 10])).shape, conv.weight.shape); // [2, 8, 10] [8, 4, 3]
 */
export class Conv1d extends Layer {
  weight: Tensor;
  bias: Tensor | null;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    readonly opts: Conv1dOptions = {},
  ) {
    super();
    const groups = opts.groups ?? 1;
    const shape = [outChannels, inChannels / groups, kernelSize];
    ({ weight: this.weight, bias: this.bias } = convParameters(
      "Conv1d",
      inChannels,
      outChannels,
      groups,
      shape,
      opts.bias !== false,
    ));
  }
  forward(x: Tensor): Tensor {
    const { bias: _bias, ...conv } = this.opts;
    return F.conv1d(x, this.weight, this.bias, conv);
  }
  protected override extraRepr(): string {
    const o = this.opts;
    return (
      `${this.inChannels}, ${this.outChannels}, kernelSize=${this.kernelSize}` +
      (o.stride !== undefined ? `, stride=${o.stride}` : "") +
      (o.padding !== undefined ? `, padding=${o.padding}` : "") +
      (o.groups !== undefined ? `, groups=${o.groups}` : "")
    );
  }
}

export interface ConvTranspose2dOptions extends F.ConvTranspose2dOptions {
  bias?: boolean;
}

/**
 * Transposed 2-D convolution (torch.nn.ConvTranspose2d): weight [in, out/groups, kh, kw] and
 * bias [out], initialised as PyTorch does (its fan-in is weight dim 1 times the kernel area).
 *
 * @example
 * const up = new tg.nn.ConvTranspose2d(8, 4, 2, { stride: 2 });
 * console.log(up.forward(tg.zeros([1, 8, 5, 5])).shape, up.weight.shape); // [1, 4, 10, 10] [8, 4, 2, 2]
 */
export class ConvTranspose2d extends Layer {
  weight: Tensor;
  bias: Tensor | null;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: Pair,
    readonly opts: ConvTranspose2dOptions = {},
  ) {
    super();
    const [kh, kw] = typeof kernelSize === "number" ? [kernelSize, kernelSize] : kernelSize;
    const groups = opts.groups ?? 1;
    const shape = [inChannels, outChannels / groups, kh, kw];
    ({ weight: this.weight, bias: this.bias } = convParameters(
      "ConvTranspose2d",
      inChannels,
      outChannels,
      groups,
      shape,
      opts.bias !== false,
    ));
  }
  forward(x: Tensor): Tensor {
    const { bias: _bias, ...conv } = this.opts;
    return F.convTranspose2d(x, this.weight, this.bias, conv);
  }
  protected override extraRepr(): string {
    const o = this.opts;
    return (
      `${this.inChannels}, ${this.outChannels}, kernelSize=${String(this.kernelSize)}` +
      (o.stride !== undefined ? `, stride=${String(o.stride)}` : "") +
      (o.padding !== undefined ? `, padding=${String(o.padding)}` : "") +
      (o.outputPadding !== undefined ? `, outputPadding=${String(o.outputPadding)}` : "") +
      (o.groups !== undefined ? `, groups=${o.groups}` : "")
    );
  }
}
