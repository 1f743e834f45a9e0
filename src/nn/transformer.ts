/**
 * PyTorch's Transformer building blocks: `MultiheadAttention`, `TransformerEncoderLayer` and
 * `TransformerEncoder`, with torch.nn's parameter names, layouts, initialisation and mask
 * conventions (a bool mask's `true` means "may not attend", the opposite of
 * `F.scaledDotProductAttention`), so a torch 1.13 state dict loads and computes the same outputs.
 */
import * as F from "./functional.js";
import { Dropout, Layer, LayerNorm, Linear } from "./layers.js";
import { Module, Parameter } from "./module.js";
import { xavierUniform_ } from "./init.js";
import * as ops from "../ops/ops.js";
import { noGrad } from "../tensor/autograd.js";
import { arange, zeros } from "../tensor/creation.js";
import { isFloating } from "../tensor/dtype.js";
import { TsgradError, fmtShape } from "../tensor/errors.js";
import type { Generator } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";

export interface MultiheadAttentionOptions {
  /** Dropout on the attention weights (training only). Default 0. */
  dropout?: number;
  /** Biases on the input and output projections. Default true. */
  bias?: boolean;
  /** Size of the keys' features (default embedDim). */
  kdim?: number;
  /** Size of the values' features (default embedDim). */
  vdim?: number;
  /** Inputs and outputs are [N, L, E] instead of [L, N, E]. Default false. */
  batchFirst?: boolean;
  /** Generator for the attention-dropout masks (default: the global one). */
  generator?: Generator;
}

export interface MultiheadAttentionForwardOptions {
  /**
   * [N, S] (or [S] for unbatched input): bool, `true` = a padding key to ignore; or float, added
   * to the scores of that key.
   */
  keyPaddingMask?: Tensor | null;
  /**
   * [L, S] (shared by the batch) or [N·numHeads, L, S]: bool, `true` = may not attend; or float,
   * added to the scores.
   */
  attnMask?: Tensor | null;
  /** Return the attention weights (default true); `weights` is null otherwise. */
  needWeights?: boolean;
  /** Average the returned weights over heads (default true); else one map per head. */
  averageAttnWeights?: boolean;
  /**
   * Query i may attend keys j ≤ i only (the mask `nn.Transformer.generate_square_subsequent_mask`
   * builds), applied together with any `attnMask`.
   */
  isCausal?: boolean;
}

/** What `MultiheadAttention.forward` returns. */
export interface MultiheadAttentionOutput {
  /** [L, N, E] ([N, L, E] when batch-first, [L, E] for unbatched input). */
  output: Tensor;
  /**
   * Softmax attention weights after dropout, as torch returns them: [N, L, S] averaged over
   * heads or [N, numHeads, L, S] (no N for unbatched input); null when `needWeights` is false.
   */
  weights: Tensor | null;
}

const NAME = "MultiheadAttention";

function checkMaskDtype(op: string, what: string, m: Tensor): void {
  if (m.dtype !== "bool" && !isFloating(m.dtype)) {
    throw new TsgradError(op, `${what} must be bool or floating, got ${m.dtype}`);
  }
}

/** Apply a mask to scores [N, H, L, S]: bool `true` → −∞, a float mask is added. */
function applyMask(scores: Tensor, mask: Tensor): Tensor {
  return mask.dtype === "bool"
    ? ops.where(mask, -Infinity, scores)
    : ops.add(scores, mask.to(scores.dtype));
}

/**
 * Multi-head attention (Vaswani et al. 2017) as torch.nn.MultiheadAttention: queries, keys and
 * values are projected (`in_proj_weight` [3E, E] and `in_proj_bias` [3E], or separate
 * `q_proj_weight`/`k_proj_weight`/`v_proj_weight` when kdim or vdim differ from E), split into
 * `numHeads` heads of E / numHeads features, attended with softmax(q kᵀ/√d + masks), concatenated
 * and projected by `out_proj`. Projection weights start Xavier-uniform, biases at zero, as torch.
 *
 * Deliberate differences from torch: a query left with no key to attend to (every key masked)
 * raises a `TsgradError` instead of producing NaN; `isCausal` builds the causal mask itself.
 *
 * @example
 * const mha = new tg.nn.MultiheadAttention(8, 2, { batchFirst: true });
 * const x = tg.randn([3, 5, 8]);
 * const { output, weights } = mha.forward(x, x, x, { isCausal: true });
 * console.log(output.shape, weights!.shape, Object.keys(mha.stateDict())); // [3, 5, 8] [3, 5, 5] ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
 * console.log(weights!.sum(-1).toArray()[0]); // [1, 1, 1, 1, 1]
 */
export class MultiheadAttention extends Module {
  // NOTE: PyTorch's own names and registration order, so state dicts move between the two.
  in_proj_weight: Tensor | null;
  q_proj_weight: Tensor | null;
  k_proj_weight: Tensor | null;
  v_proj_weight: Tensor | null;
  in_proj_bias: Tensor | null;
  out_proj: Linear;
  readonly kdim: number;
  readonly vdim: number;
  readonly headDim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;
  readonly generator: Generator | undefined;

  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    opts: MultiheadAttentionOptions = {},
  ) {
    super();
    for (const [what, n] of [
      ["embedDim", embedDim],
      ["numHeads", numHeads],
      ["kdim", opts.kdim ?? embedDim],
      ["vdim", opts.vdim ?? embedDim],
    ] as const) {
      if (!(Number.isInteger(n) && n > 0)) {
        throw new TsgradError(NAME, `${what} must be a positive integer, got ${n}`);
      }
    }
    if (embedDim % numHeads !== 0) {
      throw new TsgradError(NAME, `embedDim ${embedDim} is not divisible by numHeads ${numHeads}`);
    }
    this.kdim = opts.kdim ?? embedDim;
    this.vdim = opts.vdim ?? embedDim;
    this.headDim = embedDim / numHeads;
    this.dropout = opts.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout <= 1)) {
      throw new TsgradError(NAME, `dropout must be in [0, 1], got ${this.dropout}`);
    }
    this.batchFirst = opts.batchFirst ?? false;
    this.generator = opts.generator;
    const E = embedDim;
    if (this.kdim === E && this.vdim === E) {
      this.in_proj_weight = Parameter(xavierUniform_(zeros([3 * E, E])));
      this.q_proj_weight = this.k_proj_weight = this.v_proj_weight = null;
    } else {
      this.in_proj_weight = null;
      this.q_proj_weight = Parameter(xavierUniform_(zeros([E, E])));
      this.k_proj_weight = Parameter(xavierUniform_(zeros([E, this.kdim])));
      this.v_proj_weight = Parameter(xavierUniform_(zeros([E, this.vdim])));
    }
    const bias = opts.bias ?? true;
    this.in_proj_bias = bias ? Parameter(zeros([3 * E])) : null;
    this.out_proj = new Linear(E, E, { bias });
    if (this.out_proj.bias) this.out_proj.bias.data.fill(0);
  }

  /** True when queries, keys and values share one packed projection `in_proj_weight`. */
  get packed(): boolean {
    return this.in_proj_weight !== null;
  }

  private project(query: Tensor, key: Tensor, value: Tensor): [Tensor, Tensor, Tensor] {
    const E = this.embedDim;
    const b = this.in_proj_bias ? ops.split(this.in_proj_bias, E, 0) : [null, null, null];
    if (this.in_proj_weight) {
      // Self-attention: one matmul for all three, as torch's _in_projection_packed.
      if (query === key && key === value) {
        return ops.split(F.linear(query, this.in_proj_weight, this.in_proj_bias), E, -1) as [
          Tensor,
          Tensor,
          Tensor,
        ];
      }
      const [wq, wk, wv] = ops.split(this.in_proj_weight, E, 0) as [Tensor, Tensor, Tensor];
      return [F.linear(query, wq, b[0]), F.linear(key, wk, b[1]), F.linear(value, wv, b[2])];
    }
    return [
      F.linear(query, this.q_proj_weight!, b[0]),
      F.linear(key, this.k_proj_weight!, b[1]),
      F.linear(value, this.v_proj_weight!, b[2]),
    ];
  }

  forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    opts: MultiheadAttentionForwardOptions = {},
  ): MultiheadAttentionOutput {
    const { keyPaddingMask, attnMask, isCausal = false } = opts;
    const { needWeights = true, averageAttnWeights = true } = opts;
    const batched = query.ndim === 3;
    const rank = batched ? 3 : 2;
    const layout = batched ? (this.batchFirst ? "[N, L, E]" : "[L, N, E]") : "[L, E]";
    const [E, H, D] = [this.embedDim, this.numHeads, this.headDim];
    if (
      (query.ndim !== 2 && query.ndim !== 3) ||
      key.ndim !== rank ||
      value.ndim !== rank ||
      query.shape[rank - 1] !== E ||
      key.shape[rank - 1] !== this.kdim ||
      value.shape[rank - 1] !== this.vdim
    ) {
      throw new TsgradError(
        NAME,
        `expected query, key, value ${layout} with E = ${E}, ${this.kdim}, ${this.vdim}; got ${fmtShape(query.shape)}, ${fmtShape(key.shape)}, ${fmtShape(value.shape)}`,
      );
    }
    // Work in [N, L, E] whatever the caller's layout.
    const toNLE = (t: Tensor) =>
      !batched ? ops.unsqueeze(t, 0) : this.batchFirst ? t : ops.transpose(t, 0, 1);
    // Self-attention stays one tensor, so `project` can use one packed matmul.
    const q0 = toNLE(query);
    const k0 = key === query ? q0 : toNLE(key);
    const v0 = value === key ? k0 : toNLE(value);
    const [N, L] = q0.shape as [number, number];
    const S = k0.shape[1]!;
    if (k0.shape[0] !== N || v0.shape[0] !== N || v0.shape[1] !== S) {
      throw new TsgradError(
        NAME,
        `query, key and value must share the batch size and key and value the length; got ${fmtShape(query.shape)}, ${fmtShape(key.shape)}, ${fmtShape(value.shape)} (${layout})`,
      );
    }
    const masks: Tensor[] = [];
    if (attnMask) {
      checkMaskDtype(NAME, "attnMask", attnMask);
      if (attnMask.ndim === 2 && attnMask.shape[0] === L && attnMask.shape[1] === S) {
        masks.push(attnMask);
      } else if (
        attnMask.ndim === 3 &&
        attnMask.shape[0] === N * H &&
        attnMask.shape[1] === L &&
        attnMask.shape[2] === S
      ) {
        masks.push(ops.reshape(attnMask, [N, H, L, S]));
      } else {
        throw new TsgradError(
          NAME,
          `attnMask must be [L, S] = ${fmtShape([L, S])} or [N·numHeads, L, S] = ${fmtShape([N * H, L, S])}, got ${fmtShape(attnMask.shape)}`,
        );
      }
    }
    if (keyPaddingMask) {
      checkMaskDtype(NAME, "keyPaddingMask", keyPaddingMask);
      const want = batched ? [N, S] : [S];
      if (
        keyPaddingMask.ndim !== want.length ||
        keyPaddingMask.shape.some((d, i) => d !== want[i])
      ) {
        throw new TsgradError(
          NAME,
          `keyPaddingMask must be ${batched ? "[N, S]" : "[S]"} = ${fmtShape(want)}, got ${fmtShape(keyPaddingMask.shape)}`,
        );
      }
      masks.push(ops.reshape(keyPaddingMask, [N, 1, 1, S]));
    }
    if (isCausal) {
      masks.push(ops.cmp("gt", ops.reshape(arange(S), [1, S]), ops.reshape(arange(L), [L, 1])));
    }

    const [qp, kp, vp] = this.project(q0, k0, v0);
    const heads = (t: Tensor, len: number) => ops.transpose(ops.reshape(t, [N, len, H, D]), 1, 2);
    // Scaling q before the product, as torch does, keeps the rounding the same.
    let scores = ops.matmul(
      ops.div(heads(qp, L), Math.sqrt(D)),
      ops.transpose(heads(kp, S), -2, -1),
    );
    for (const m of masks) scores = applyMask(scores, m);
    if (masks.length) this.checkAttendable(scores);
    let attn = ops.softmax(scores, -1);
    if (this.training && this.dropout > 0) {
      attn = F.dropout(attn, this.dropout, true, this.generator);
    }
    const ctx = ops.reshape(ops.transpose(ops.matmul(attn, heads(vp, S)), 1, 2), [N, L, E]);
    const out = this.out_proj.forward(ctx);
    const output = !batched
      ? ops.squeeze(out, 0)
      : this.batchFirst
        ? out
        : ops.transpose(out, 0, 1);
    let weights: Tensor | null = null;
    if (needWeights) {
      weights = averageAttnWeights ? ops.div(ops.sum(attn, 1), H) : attn;
      if (!batched) weights = ops.squeeze(weights, 0);
    }
    return { output, weights };
  }

  /** A query whose every key is masked would softmax −∞ row-wide into NaN (as torch does). */
  private checkAttendable(scores: Tensor): void {
    // Counting −∞ scores rather than taking the row maximum: some backends' max reductions
    // start from −FLT_MAX, which would hide an all −∞ row.
    const S = scores.shape[3]!;
    const masked = noGrad(() =>
      ops.sum(ops.cast(ops.cmp("eq", scores, -Infinity), "int32"), -1).dataSync(),
    );
    const at = masked.findIndex((c) => c === S);
    if (at < 0) return;
    const [H, L] = [this.numHeads, scores.shape[2]!];
    const [n, h, l] = [Math.floor(at / (H * L)), Math.floor(at / L) % H, at % L];
    throw new TsgradError(
      NAME,
      `query ${l} of batch element ${n} (head ${h}) may attend no key: keyPaddingMask, attnMask and isCausal together mask all ${S} keys, which would give NaN`,
    );
  }

  protected override extraRepr(): string {
    return (
      `embedDim=${this.embedDim}, numHeads=${this.numHeads}` +
      (this.packed ? "" : `, kdim=${this.kdim}, vdim=${this.vdim}`) +
      (this.dropout ? `, dropout=${this.dropout}` : "") +
      (this.batchFirst ? ", batchFirst=true" : "")
    );
  }
}

export interface TransformerEncoderLayerOptions {
  /** Width of the feed-forward block. Default 2048. */
  dimFeedforward?: number;
  /** Dropout in attention, after it, and in and after the feed-forward block. Default 0.1. */
  dropout?: number;
  /** The feed-forward nonlinearity. Default "relu". */
  activation?: "relu" | "gelu" | ((x: Tensor) => Tensor);
  layerNormEps?: number;
  /** Inputs and outputs are [N, L, E] instead of [L, N, E]. Default false. */
  batchFirst?: boolean;
  /** Pre-LayerNorm (`x + sa(norm1(x))`) instead of torch's default post-LayerNorm. */
  normFirst?: boolean;
  /** Generator for every dropout mask of the layer (default: the global one). */
  generator?: Generator;
}

export interface TransformerEncoderLayerForwardOptions {
  /** Attention mask, as `MultiheadAttention`'s `attnMask`. */
  srcMask?: Tensor | null;
  /** Padding mask, as `MultiheadAttention`'s `keyPaddingMask`. */
  srcKeyPaddingMask?: Tensor | null;
  /** Causal self-attention (position i sees positions ≤ i). */
  isCausal?: boolean;
}

/**
 * One encoder layer of "Attention Is All You Need", as torch.nn.TransformerEncoderLayer:
 * self-attention then a feed-forward block (linear1, activation, dropout, linear2), each with
 * dropout, a residual connection and LayerNorm — after the residual (default, post-LN) or before
 * the sublayer (`normFirst`). Submodules carry torch's names (`self_attn`, `linear1`, `dropout`,
 * `linear2`, `norm1`, `norm2`, `dropout1`, `dropout2`).
 *
 * @example
 * const layer = new tg.nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0 });
 * const src = tg.randn([5, 3, 8]); // [L, N, E]
 * const pad = tg.tensor([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0], [0, 0, 0, 0, 1]]).gt(0);
 * console.log(layer.forward(src, { srcKeyPaddingMask: pad }).shape); // [5, 3, 8]
 * console.log(Object.keys(layer.stateDict()).slice(0, 5)); // ["self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias", "linear1.weight"]
 */
export class TransformerEncoderLayer extends Layer {
  self_attn: MultiheadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;
  readonly activation: (x: Tensor) => Tensor;
  readonly normFirst: boolean;
  readonly batchFirst: boolean;

  constructor(
    readonly dModel: number,
    readonly nhead: number,
    readonly opts: TransformerEncoderLayerOptions = {},
  ) {
    super();
    const name = "TransformerEncoderLayer";
    if (!(Number.isInteger(dModel) && dModel > 0 && Number.isInteger(nhead) && nhead > 0)) {
      throw new TsgradError(
        name,
        `dModel and nhead must be positive integers, got ${dModel} and ${nhead}`,
      );
    }
    if (dModel % nhead !== 0) {
      throw new TsgradError(name, `dModel ${dModel} is not divisible by nhead ${nhead}`);
    }
    const { dimFeedforward = 2048, dropout = 0.1, activation = "relu", generator } = opts;
    const eps = opts.layerNormEps ?? 1e-5;
    if (!(Number.isInteger(dimFeedforward) && dimFeedforward > 0)) {
      throw new TsgradError(
        name,
        `dimFeedforward must be a positive integer, got ${dimFeedforward}`,
      );
    }
    this.batchFirst = opts.batchFirst ?? false;
    this.normFirst = opts.normFirst ?? false;
    this.self_attn = new MultiheadAttention(dModel, nhead, {
      dropout,
      batchFirst: this.batchFirst,
      ...(generator ? { generator } : {}),
    });
    this.linear1 = new Linear(dModel, dimFeedforward);
    this.dropout = new Dropout(dropout, generator);
    this.linear2 = new Linear(dimFeedforward, dModel);
    this.norm1 = new LayerNorm(dModel, { eps });
    this.norm2 = new LayerNorm(dModel, { eps });
    this.dropout1 = new Dropout(dropout, generator);
    this.dropout2 = new Dropout(dropout, generator);
    if (typeof activation === "function") this.activation = activation;
    else if (activation === "relu") this.activation = ops.relu;
    else if (activation === "gelu") this.activation = (x) => F.gelu(x);
    else {
      throw new TsgradError(
        name,
        `activation must be "relu", "gelu" or a function, got ${String(activation)}`,
      );
    }
  }

  forward(src: Tensor, opts: TransformerEncoderLayerForwardOptions = {}): Tensor {
    if ((src.ndim !== 2 && src.ndim !== 3) || src.shape[src.ndim - 1] !== this.dModel) {
      throw new TsgradError(
        "TransformerEncoderLayer",
        `expected src ${this.batchFirst ? "[N, L, E]" : "[L, N, E]"} or [L, E] with E = ${this.dModel}, got ${fmtShape(src.shape)}`,
      );
    }
    let x = src;
    if (this.normFirst) {
      x = ops.add(x, this.saBlock(this.norm1.forward(x), opts));
      return ops.add(x, this.ffBlock(this.norm2.forward(x)));
    }
    x = this.norm1.forward(ops.add(x, this.saBlock(x, opts)));
    return this.norm2.forward(ops.add(x, this.ffBlock(x)));
  }

  private saBlock(x: Tensor, opts: TransformerEncoderLayerForwardOptions): Tensor {
    const { output } = this.self_attn.forward(x, x, x, {
      attnMask: opts.srcMask ?? null,
      keyPaddingMask: opts.srcKeyPaddingMask ?? null,
      isCausal: opts.isCausal ?? false,
      needWeights: false,
    });
    return this.dropout1.forward(output);
  }

  private ffBlock(x: Tensor): Tensor {
    const h = this.dropout.forward(this.activation(this.linear1.forward(x)));
    return this.dropout2.forward(this.linear2.forward(h));
  }

  /** A new layer with the same configuration, a copy of these weights, and the same mode. */
  copy(): TransformerEncoderLayer {
    const c = new TransformerEncoderLayer(this.dModel, this.nhead, this.opts);
    c.loadStateDict(this.stateDict());
    return c.train(this.training);
  }

  protected override extraRepr(): string {
    return `dModel=${this.dModel}, nhead=${this.nhead}${this.normFirst ? ", normFirst=true" : ""}`;
  }
}

export interface TransformerEncoderForwardOptions {
  /** Attention mask for every layer, as `MultiheadAttention`'s `attnMask`. */
  mask?: Tensor | null;
  /** Padding mask for every layer, as `MultiheadAttention`'s `keyPaddingMask`. */
  srcKeyPaddingMask?: Tensor | null;
  /** Causal self-attention in every layer. */
  isCausal?: boolean;
}

/**
 * A stack of `numLayers` encoder layers (children `layers.0`, `layers.1`, …) and an optional
 * final `norm`, as torch.nn.TransformerEncoder. Given a layer, it stacks independent copies of
 * it (torch deep-copies, so every layer starts from the same weights); given a factory, it calls
 * it once per layer.
 *
 * Unlike torch 1.13's nested-tensor fast path (eval mode, batch-first, a padding mask, no grad),
 * which returns zeros at padded positions, the outputs at padded positions are always computed.
 *
 * @example
 * const enc = new tg.nn.TransformerEncoder(
 *   () => new tg.nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true }),
 *   2,
 *   new tg.nn.LayerNorm(8),
 * );
 * console.log(enc.eval().forward(tg.randn([3, 5, 8]), { isCausal: true }).shape); // [3, 5, 8]
 * console.log(Object.keys(enc.stateDict()).filter((k) => k.endsWith("norm2.bias") || k.startsWith("norm"))); // ["layers.0.norm2.bias", "layers.1.norm2.bias", "norm.weight", "norm.bias"]
 */
export class TransformerEncoder extends Layer {
  layers: TransformerEncoderLayer[];
  norm: Layer | null;

  constructor(
    encoderLayer: TransformerEncoderLayer | ((index: number) => TransformerEncoderLayer),
    readonly numLayers: number,
    norm: Layer | null = null,
  ) {
    super();
    if (!(Number.isInteger(numLayers) && numLayers >= 0)) {
      throw new TsgradError(
        "TransformerEncoder",
        `numLayers must be a non-negative integer, got ${numLayers}`,
      );
    }
    this.layers = Array.from({ length: numLayers }, (_, i) =>
      encoderLayer instanceof TransformerEncoderLayer ? encoderLayer.copy() : encoderLayer(i),
    );
    this.norm = norm;
  }

  forward(src: Tensor, opts: TransformerEncoderForwardOptions = {}): Tensor {
    const layerOpts: TransformerEncoderLayerForwardOptions = {
      srcMask: opts.mask ?? null,
      srcKeyPaddingMask: opts.srcKeyPaddingMask ?? null,
      isCausal: opts.isCausal ?? false,
    };
    let x = src;
    for (const layer of this.layers) x = layer.forward(x, layerOpts);
    return this.norm ? this.norm.forward(x) : x;
  }
}
