/**
 * A GPT-style decoder-only Transformer language model (Radford et al. 2018/2019; the layout of
 * Karpathy's nanoGPT): token + learned position embeddings, pre-LayerNorm blocks of causal
 * multi-head self-attention and a GELU MLP with residual connections, a final LayerNorm, and an
 * output projection tied to the token embedding. Initialisation as GPT-2: N(0, 0.02²) weights,
 * residual projections scaled by 1/√(2·layers), zero biases.
 *
 * Parameter names follow nanoGPT without its `transformer.` prefix (`wte.weight`, `h.0.attn.c_attn.weight`, …).
 */
import { Embedding, LayerNorm, Linear, Dropout, GELU } from "../nn/layers.js";
import { Module } from "../nn/module.js";
import { normal_, zeros_ } from "../nn/init.js";
import * as F from "../nn/functional.js";
import * as ops from "../ops/ops.js";
import { noGrad } from "../tensor/autograd.js";
import { arange, tensor } from "../tensor/creation.js";
import { TsgradError, fmtShape } from "../tensor/errors.js";
import { type Generator, defaultGenerator } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";

export interface TransformerLMConfig {
  vocabSize: number;
  /** Context length (maximum sequence length). */
  blockSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  dropout?: number;
  /** Biases in Linear layers and LayerNorms (GPT-2 has them). */
  bias?: boolean;
}

/**
 * Causal multi-head self-attention of one block: one projection to queries, keys and values, a
 * causal softmax attention per head, an output projection (nanoGPT's `CausalSelfAttention`).
 *
 * @example
 * const cfg = { vocabSize: 10, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0, bias: true };
 * const attn = new tg.models.CausalSelfAttention(cfg);
 * console.log(attn.forward(tg.randn([2, 8, 16])).shape); // [2, 8, 16]
 */
export class CausalSelfAttention extends Module {
  c_attn: Linear;
  c_proj: Linear;
  resid_dropout: Dropout;
  constructor(readonly cfg: Required<TransformerLMConfig>) {
    super();
    this.c_attn = new Linear(cfg.nEmbd, 3 * cfg.nEmbd, { bias: cfg.bias });
    this.c_proj = new Linear(cfg.nEmbd, cfg.nEmbd, { bias: cfg.bias });
    this.resid_dropout = new Dropout(cfg.dropout);
  }
  forward(x: Tensor): Tensor {
    const [B, T, C] = x.shape as [number, number, number];
    const nh = this.cfg.nHead;
    // [B, T, 3C] -> three [B, nh, T, C/nh] heads
    const [q, k, v] = ops
      .split(this.c_attn.forward(x), C, 2)
      .map((t) => ops.transpose(ops.reshape(t, [B, T, nh, C / nh]), 1, 2)) as [
      Tensor,
      Tensor,
      Tensor,
    ];
    const y = F.scaledDotProductAttention(q, k, v, {
      isCausal: true,
      dropoutP: this.training ? this.cfg.dropout : 0,
    });
    return this.resid_dropout.forward(
      this.c_proj.forward(ops.reshape(ops.transpose(y, 1, 2), [B, T, C])),
    );
  }
}

/**
 * The feed-forward half of a block: Linear to 4 × width, GELU, Linear back, dropout.
 *
 * @example
 * const cfg = { vocabSize: 10, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0, bias: true };
 * console.log(new tg.models.MLP(cfg).forward(tg.randn([2, 8, 16])).shape); // [2, 8, 16]
 */
export class MLP extends Module {
  c_fc: Linear;
  gelu = new GELU();
  c_proj: Linear;
  dropout: Dropout;
  constructor(cfg: Required<TransformerLMConfig>) {
    super();
    this.c_fc = new Linear(cfg.nEmbd, 4 * cfg.nEmbd, { bias: cfg.bias });
    this.c_proj = new Linear(4 * cfg.nEmbd, cfg.nEmbd, { bias: cfg.bias });
    this.dropout = new Dropout(cfg.dropout);
  }
  forward(x: Tensor): Tensor {
    return this.dropout.forward(this.c_proj.forward(this.gelu.forward(this.c_fc.forward(x))));
  }
}

/**
 * One pre-LayerNorm Transformer block: `x + attn(ln_1(x))`, then `h + mlp(ln_2(h))`.
 *
 * @example
 * const cfg = { vocabSize: 10, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0, bias: true };
 * console.log(new tg.models.Block(cfg).forward(tg.randn([2, 8, 16])).shape); // [2, 8, 16]
 */
export class Block extends Module {
  ln_1: LayerNorm;
  attn: CausalSelfAttention;
  ln_2: LayerNorm;
  mlp: MLP;
  constructor(cfg: Required<TransformerLMConfig>) {
    super();
    this.ln_1 = new LayerNorm(cfg.nEmbd, { bias: cfg.bias });
    this.attn = new CausalSelfAttention(cfg);
    this.ln_2 = new LayerNorm(cfg.nEmbd, { bias: cfg.bias });
    this.mlp = new MLP(cfg);
  }
  forward(x: Tensor): Tensor {
    const h = ops.add(x, this.attn.forward(this.ln_1.forward(x)));
    return ops.add(h, this.mlp.forward(this.ln_2.forward(h)));
  }
}

export interface SampleOptions {
  temperature?: number;
  /** Sample only among the k most likely tokens. */
  topK?: number;
  generator?: Generator;
}

/**
 * @example
 * const lm = new tg.models.TransformerLM({ vocabSize: 65, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32 });
 * const logits = lm.forward(tg.zeros([3, 16], { dtype: "int32" }));
 * console.log(logits.shape, lm.numParameters() === lm.parameterCount().total); // [3, 16, 65] true
 */
export class TransformerLM extends Module {
  wte: Embedding;
  wpe: Embedding;
  drop: Dropout;
  h: Block[];
  ln_f: LayerNorm;
  readonly config: Required<TransformerLMConfig>;

  constructor(config: TransformerLMConfig) {
    super();
    const c = { dropout: 0, bias: true, ...config };
    if (c.nEmbd % c.nHead !== 0) {
      throw new TsgradError(
        "TransformerLM",
        `nEmbd ${c.nEmbd} is not divisible by nHead ${c.nHead}`,
      );
    }
    this.config = c;
    this.wte = new Embedding(c.vocabSize, c.nEmbd);
    this.wpe = new Embedding(c.blockSize, c.nEmbd);
    this.drop = new Dropout(c.dropout);
    this.h = Array.from({ length: c.nLayer }, () => new Block(c));
    this.ln_f = new LayerNorm(c.nEmbd, { bias: c.bias });
    for (const [name, p] of this.namedParameters()) {
      if (name.endsWith("c_proj.weight")) normal_(p, 0, 0.02 / Math.sqrt(2 * c.nLayer));
      else if (name.endsWith(".weight") && !name.startsWith("ln") && !name.includes(".ln_")) {
        normal_(p, 0, 0.02);
      } else if (name.endsWith(".bias") && !name.includes("ln")) zeros_(p);
    }
  }

  /** Logits [B, T, vocab] for int32 token ids [B, T] (T ≤ blockSize). */
  forward(idx: Tensor): Tensor {
    if (idx.ndim !== 2 || idx.dtype !== "int32") {
      throw new TsgradError(
        "TransformerLM",
        `expected int32 token ids [B, T], got ${idx.dtype} ${fmtShape(idx.shape)}`,
      );
    }
    const T = idx.shape[1]!;
    if (T > this.config.blockSize) {
      throw new TsgradError(
        "TransformerLM",
        `sequence length ${T} exceeds the block size ${this.config.blockSize}`,
      );
    }
    let x = this.drop.forward(ops.add(this.wte.forward(idx), this.wpe.forward(arange(T))));
    for (const block of this.h) x = block.forward(x);
    // Weight tying (Press & Wolf 2017): the output projection is the token embedding.
    return ops.matmul(this.ln_f.forward(x), ops.transpose(this.wte.weight, 0, 1));
  }

  /** Mean cross-entropy (nats per token) of predicting `targets` [B, T]. */
  loss(idx: Tensor, targets: Tensor): Tensor {
    const logits = this.forward(idx);
    return F.crossEntropy(
      ops.reshape(logits, [-1, this.config.vocabSize]),
      ops.reshape(targets, [-1]),
    );
  }

  /**
   * Exact parameter counts: `total`, and `nonEmbedding` (total minus token and position embeddings),
   * the N of Kaplan et al. (2020).
   */
  parameterCount(): { total: number; nonEmbedding: number } {
    const total = this.numParameters();
    return { total, nonEmbedding: total - this.wte.weight.size - this.wpe.weight.size };
  }

  /**
   * Forward FLOPs per token, counting each multiply-add as 2: every matmul, including attention
   * scores and the weighted sum over a full context of `blockSize` (causal masking halves the useful
   * work but not what a dense kernel computes) and the output projection. Training costs ≈ 3×.
   */
  flopsPerToken(): number {
    const { nLayer: L, nEmbd: d, blockSize: T, vocabSize: V } = this.config;
    const perLayer = 2 * d * 3 * d + 2 * d * d + 2 * 2 * d * 4 * d + 2 * 2 * T * d;
    return L * perLayer + 2 * d * V;
  }

  /**
   * Continue each row of `idx` [B, T] by `maxNewTokens` sampled tokens (temperature and top-k
   * sampling), feeding back at most `blockSize` tokens of context.
   */
  generate(idx: Tensor, maxNewTokens: number, opts: SampleOptions = {}): Tensor {
    const { temperature = 1, topK, generator = defaultGenerator } = opts;
    if (!(temperature > 0)) {
      throw new TsgradError("generate", `temperature must be positive, got ${temperature}`);
    }
    const wasTraining = this.training;
    this.eval();
    try {
      return noGrad(() => {
        const B = idx.shape[0]!;
        const rows = Array.from({ length: B }, (_, b) =>
          Array.from(ops.narrow(idx, 0, b, 1).dataSync()),
        );
        for (let s = 0; s < maxNewTokens; s++) {
          const ctx = rows.map((r) => r.slice(-this.config.blockSize));
          const logits = this.forward(
            tensor(Int32Array.from(ctx.flat()), { shape: [B, ctx[0]!.length] }),
          );
          const V = this.config.vocabSize;
          const last = ops.narrow(logits, 1, ctx[0]!.length - 1, 1).dataSync();
          for (let b = 0; b < B; b++) {
            rows[b]!.push(
              sampleRow(last.subarray(b * V, (b + 1) * V), temperature, topK, generator),
            );
          }
        }
        return tensor(Int32Array.from(rows.flat()), { shape: [B, rows[0]!.length] });
      });
    } finally {
      this.train(wasTraining);
    }
  }
}

/**
 * Draw one token from logits with temperature and optional top-k truncation.
 *
 * @example
 * console.log(tg.models.sampleRow([0, 5, 1], 1, 1, new tg.Generator(0))); // 1
 */
export function sampleRow(
  logits: ArrayLike<number>,
  temperature: number,
  topK: number | undefined,
  g: Generator,
): number {
  const n = logits.length;
  let order = Array.from({ length: n }, (_, i) => i);
  if (topK !== undefined && topK < n) {
    order = order.sort((a, b) => logits[b]! - logits[a]!).slice(0, Math.max(1, topK));
  }
  let max = -Infinity;
  for (const i of order) max = Math.max(max, logits[i]! / temperature);
  const w = order.map((i) => Math.exp(logits[i]! / temperature - max));
  const total = w.reduce((a, b) => a + b, 0);
  let u = g.uniform() * total;
  for (let j = 0; j < order.length; j++) {
    u -= w[j]!;
    if (u < 0) return order[j]!;
  }
  return order[order.length - 1]!;
}
