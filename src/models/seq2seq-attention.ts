/**
 * An attentional encoder–decoder (Bahdanau, Cho & Bengio 2015; with Luong, Pham & Manning 2015's
 * "general" scoring): a bidirectional LSTM encoder, a stacked LSTM decoder started from a learned
 * projection of the encoder's final states, and at every target step a softmax over the source
 * positions (padding masked) whose weighted sum of encoder states is combined with the decoder
 * state to predict the next token.
 *
 * Attention is computed for all target steps in one batched matmul (the decoder does not feed the
 * attentional vector back as input), so training runs the decoder LSTM as one fused layer.
 */
import { Dropout, Embedding, Linear } from "../nn/layers.js";
import { Module } from "../nn/module.js";
import { LSTM } from "../nn/rnn.js";
import { uniform_ } from "../nn/init.js";
import * as ops from "../ops/ops.js";
import { TsgradError, fmtShape } from "../tensor/errors.js";
import { Tensor } from "../tensor/tensor.js";
import { selectRows, type Seq2SeqDecoder } from "./decoding.js";

export interface Seq2SeqAttentionConfig {
  srcVocab: number;
  tgtVocab: number;
  embedDim: number;
  hiddenDim: number;
  numLayers: number;
  dropout?: number;
  padIdx?: number;
  initRange?: number;
}

export interface AttentionState {
  h: Tensor;
  c: Tensor;
  /** Encoder outputs [B, S, 2H] and their projection into the decoder space [B, S, H]. */
  memory: Tensor;
  keys: Tensor;
  /** [B, S] bool, true at real source tokens. */
  mask: Tensor;
}

/**
 * @example
 * const m = new tg.models.Seq2SeqAttention({ srcVocab: 20, tgtVocab: 30, embedDim: 8, hiddenDim: 16, numLayers: 1 });
 * const logits = m.forward(tg.randint(1, 20, [2, 7]), [7, 3], tg.randint(1, 30, [2, 5]));
 * console.log(logits.shape); // [2, 5, 30]
 */
export class Seq2SeqAttention extends Module implements Seq2SeqDecoder<AttentionState> {
  srcEmbed: Embedding;
  tgtEmbed: Embedding;
  encoder: LSTM;
  bridgeH: Linear;
  bridgeC: Linear;
  decoder: LSTM;
  attnKeys: Linear;
  combine: Linear;
  drop: Dropout;
  out: Linear;
  readonly config: Required<Seq2SeqAttentionConfig>;

  constructor(config: Seq2SeqAttentionConfig) {
    super();
    const c = { dropout: 0, padIdx: 0, initRange: 0.1, ...config };
    this.config = c;
    const H = c.hiddenDim;
    this.srcEmbed = new Embedding(c.srcVocab, c.embedDim, { paddingIdx: c.padIdx });
    this.tgtEmbed = new Embedding(c.tgtVocab, c.embedDim, { paddingIdx: c.padIdx });
    this.encoder = new LSTM(c.embedDim, H, {
      numLayers: c.numLayers,
      dropout: c.dropout,
      bidirectional: true,
    });
    this.bridgeH = new Linear(2 * H, H);
    this.bridgeC = new Linear(2 * H, H);
    this.decoder = new LSTM(c.embedDim, H, { numLayers: c.numLayers, dropout: c.dropout });
    this.attnKeys = new Linear(2 * H, H, { bias: false });
    this.combine = new Linear(3 * H, H);
    this.drop = new Dropout(c.dropout);
    this.out = new Linear(H, c.tgtVocab);
    for (const p of this.parameters()) uniform_(p, -c.initRange, c.initRange);
    for (const e of [this.srcEmbed, this.tgtEmbed]) {
      e.weight.data.fill(0, c.padIdx * c.embedDim, (c.padIdx + 1) * c.embedDim);
    }
  }

  encode(src: Tensor, srcLengths: readonly number[]): AttentionState {
    if (src.ndim !== 2 || src.dtype !== "int32" || srcLengths.length !== src.shape[0]) {
      throw new TsgradError(
        "Seq2SeqAttention",
        `expected int32 source ids [B, S] and B lengths, got ${src.dtype} ${fmtShape(src.shape)} and ${srcLengths.length} lengths`,
      );
    }
    const [B, S] = src.shape as [number, number];
    const L = this.config.numLayers;
    const H = this.config.hiddenDim;
    const x = this.drop.forward(ops.transpose(this.srcEmbed.forward(src), 0, 1));
    const [enc, [hN, cN]] = this.encoder.forward(x, undefined, { lengths: srcLengths });
    // [2L, B, H] (layer-major, forward then backward) -> [L, B, 2H] -> decoder's initial state.
    const join = (s: Tensor) =>
      ops.reshape(ops.permute(ops.reshape(s, [L, 2, B, H]), [0, 2, 1, 3]), [L, B, 2 * H]);
    const memory = ops.transpose(enc, 0, 1);
    const maskData = new Uint8Array(B * S);
    srcLengths.forEach((len, b) => maskData.fill(1, b * S, b * S + len));
    return {
      h: ops.tanh(this.bridgeH.forward(join(hN))),
      c: this.bridgeC.forward(join(cN)),
      memory,
      keys: this.attnKeys.forward(memory),
      mask: new Tensor(maskData, "bool", [B, S]),
    };
  }

  /** Attentional hidden states for decoder outputs `dec` [B, T, H]. */
  private attend(dec: Tensor, s: AttentionState): Tensor {
    const scores = ops.matmul(dec, ops.transpose(s.keys, 1, 2)); // [B, T, S]
    const weights = ops.softmax(ops.where(ops.unsqueeze(s.mask, 1), scores, -Infinity), -1);
    const context = ops.matmul(weights, s.memory); // [B, T, 2H]
    return this.drop.forward(ops.tanh(this.combine.forward(ops.cat([dec, context], -1))));
  }

  decodeStep(state: AttentionState, prev: Tensor): [Tensor, AttentionState] {
    const x = this.drop.forward(ops.unsqueeze(this.tgtEmbed.forward(prev), 0));
    const [y, [h, c]] = this.decoder.forward(x, [state.h, state.c]);
    const a = this.attend(ops.transpose(y, 0, 1), state);
    return [ops.logSoftmax(ops.squeeze(this.out.forward(a), 1), -1), { ...state, h, c }];
  }

  reorder(s: AttentionState, rows: Tensor): AttentionState {
    return {
      h: ops.indexSelect(s.h, 1, rows),
      c: ops.indexSelect(s.c, 1, rows),
      memory: ops.indexSelect(s.memory, 0, rows),
      keys: ops.indexSelect(s.keys, 0, rows),
      mask: ops.indexSelect(s.mask, 0, rows),
    };
  }

  /**
   * Teacher-forced logits [B, T, V] for decoder inputs `tgtIn` [B, T]; with `rows` only those of
   * the B·T flattened positions, [rows, V] (as in {@link Seq2Seq.forward}).
   */
  forward(src: Tensor, srcLengths: readonly number[], tgtIn: Tensor, rows?: Tensor): Tensor {
    const s = this.encode(src, srcLengths);
    const x = this.drop.forward(ops.transpose(this.tgtEmbed.forward(tgtIn), 0, 1));
    const [y] = this.decoder.forward(x, [s.h, s.c]);
    return this.out.forward(selectRows(this.attend(ops.transpose(y, 0, 1), s), rows));
  }
}
