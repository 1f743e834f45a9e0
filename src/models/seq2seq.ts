/**
 * Sequence to sequence learning with neural networks (Sutskever, Vinyals & Le 2014): a stacked
 * LSTM reads the source sentence — reversed, the paper's trick, applied by the data pipeline —
 * into its final states, and a second stacked LSTM starts from those states and predicts the
 * translation one token at a time. Parameters are initialised uniformly in ±0.08 as in the paper
 * (train with gradient-norm clipping at 5).
 *
 * `contextFeed` adds Cho et al. (2014)'s refinement, still without attention: the encoder's final
 * top-layer state (the "sentence vector") is also concatenated to every decoder input and to the
 * input of the output layer, so each prediction sees the source summary directly instead of only
 * through the decoder's state carried across time steps.
 */
import { Dropout, Embedding, Linear } from "../nn/layers.js";
import { Module } from "../nn/module.js";
import { LSTM } from "../nn/rnn.js";
import { uniform_ } from "../nn/init.js";
import * as ops from "../ops/ops.js";
import { TsgradError, fmtShape } from "../tensor/errors.js";
import type { Tensor } from "../tensor/tensor.js";
import { selectRows, type Seq2SeqDecoder } from "./decoding.js";

export interface Seq2SeqConfig {
  srcVocab: number;
  tgtVocab: number;
  embedDim: number;
  hiddenDim: number;
  numLayers: number;
  dropout?: number;
  /** Id of the padding token in both vocabularies. */
  padIdx?: number;
  /** Uniform initialisation range (the paper: 0.08). */
  initRange?: number;
  /** Feed the encoder's final top-layer state to every decoder step and to the output layer. */
  contextFeed?: boolean;
}

export interface Seq2SeqState {
  h: Tensor;
  c: Tensor;
  /** The encoder's final top-layer hidden state [B, H] (with `contextFeed`). */
  ctx?: Tensor;
}

/**
 * @example
 * const m = new tg.models.Seq2Seq({ srcVocab: 20, tgtVocab: 30, embedDim: 8, hiddenDim: 16, numLayers: 2 });
 * const src = tg.randint(1, 20, [3, 5]);
 * const logits = m.forward(src, [5, 4, 2], tg.randint(1, 30, [3, 6]));
 * console.log(logits.shape); // [3, 6, 30]
 */
export class Seq2Seq extends Module implements Seq2SeqDecoder<Seq2SeqState> {
  srcEmbed: Embedding;
  tgtEmbed: Embedding;
  encoder: LSTM;
  decoder: LSTM;
  drop: Dropout;
  out: Linear;
  readonly config: Required<Seq2SeqConfig>;

  constructor(config: Seq2SeqConfig) {
    super();
    const c = { dropout: 0, padIdx: 0, initRange: 0.08, contextFeed: false, ...config };
    const ctxDim = c.contextFeed ? c.hiddenDim : 0;
    this.config = c;
    this.srcEmbed = new Embedding(c.srcVocab, c.embedDim, { paddingIdx: c.padIdx });
    this.tgtEmbed = new Embedding(c.tgtVocab, c.embedDim, { paddingIdx: c.padIdx });
    this.encoder = new LSTM(c.embedDim, c.hiddenDim, {
      numLayers: c.numLayers,
      dropout: c.dropout,
    });
    this.decoder = new LSTM(c.embedDim + ctxDim, c.hiddenDim, {
      numLayers: c.numLayers,
      dropout: c.dropout,
    });
    this.drop = new Dropout(c.dropout);
    this.out = new Linear(c.hiddenDim + ctxDim, c.tgtVocab);
    for (const p of this.parameters()) uniform_(p, -c.initRange, c.initRange);
    for (const e of [this.srcEmbed, this.tgtEmbed]) {
      e.weight.data.fill(0, c.padIdx * c.embedDim, (c.padIdx + 1) * c.embedDim);
    }
  }

  encode(src: Tensor, srcLengths: readonly number[]): Seq2SeqState {
    if (src.ndim !== 2 || src.dtype !== "int32" || srcLengths.length !== src.shape[0]) {
      throw new TsgradError(
        "Seq2Seq",
        `expected int32 source ids [B, S] and B lengths, got ${src.dtype} ${fmtShape(src.shape)} and ${srcLengths.length} lengths`,
      );
    }
    const x = this.drop.forward(ops.transpose(this.srcEmbed.forward(src), 0, 1));
    const [, [h, c]] = this.encoder.forward(x, undefined, { lengths: srcLengths });
    if (!this.config.contextFeed) return { h, c };
    return { h, c, ctx: ops.squeeze(ops.narrow(h, 0, h.shape[0]! - 1, 1), 0) };
  }

  /** `x` [T, B, ·] with the context [B, H] appended to every step's features (with contextFeed). */
  private withContext(x: Tensor, ctx: Tensor | undefined): Tensor {
    if (ctx === undefined) return x;
    const [T, B] = x.shape as [number, number];
    return ops.cat([x, ops.expand(ops.unsqueeze(ctx, 0), [T, B, ctx.shape[1]!])], -1);
  }

  decodeStep(state: Seq2SeqState, prev: Tensor): [Tensor, Seq2SeqState] {
    const x = this.drop.forward(ops.unsqueeze(this.tgtEmbed.forward(prev), 0));
    const [y, [h, c]] = this.decoder.forward(this.withContext(x, state.ctx), [state.h, state.c]);
    const feat = this.drop.forward(ops.squeeze(this.withContext(y, state.ctx), 0));
    return [ops.logSoftmax(this.out.forward(feat), -1), { h, c, ctx: state.ctx }];
  }

  reorder(state: Seq2SeqState, rows: Tensor): Seq2SeqState {
    const { h, c, ctx } = state;
    return {
      h: ops.indexSelect(h, 1, rows),
      c: ops.indexSelect(c, 1, rows),
      ...(ctx === undefined ? {} : { ctx: ops.indexSelect(ctx, 0, rows) }),
    };
  }

  /**
   * Teacher-forced logits [B, T, V] for decoder inputs `tgtIn` [B, T] (BOS + target). With
   * `rows` (int32 indices into the B·T flattened positions, see `Seq2SeqBatch.targetRows`) only
   * those positions are projected to the vocabulary: [rows, V].
   */
  forward(src: Tensor, srcLengths: readonly number[], tgtIn: Tensor, rows?: Tensor): Tensor {
    const s = this.encode(src, srcLengths);
    const x = this.drop.forward(ops.transpose(this.tgtEmbed.forward(tgtIn), 0, 1));
    const [y] = this.decoder.forward(this.withContext(x, s.ctx), [s.h, s.c]);
    const feat = ops.transpose(this.withContext(y, s.ctx), 0, 1);
    return this.out.forward(this.drop.forward(selectRows(feat, rows)));
  }
}
