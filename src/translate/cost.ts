/**
 * Training cost of the translation models in matmul FLOPs (2·m·n·k per product), to turn a
 * measured throughput into a time budget and to compare backends. Elementwise work (gates,
 * softmax, the loss) and the once-per-sentence bridge are left out: they are a few percent.
 */
import { TsgradError } from "../tensor/errors.js";
import type { TranslateConfig } from "./config.js";

/** Sizes the cost depends on besides the config. */
export interface CostShape {
  srcVocab: number;
  tgtVocab: number;
  /** Mean source tokens per sentence, `<eos>` included. */
  srcLen: number;
  /** Mean target tokens per sentence (decoder steps), `<eos>` included. */
  tgtLen: number;
}

/** FLOPs per sentence pair and per target token. */
export interface CostEstimate {
  /** Forward matmul FLOPs of one sentence pair, by part. */
  forward: { encoder: number; decoder: number; attention: number; output: number; total: number };
  /** Forward + backward (3 × forward: the backward pass multiplies twice per forward product). */
  trainPerSentence: number;
  trainPerTargetToken: number;
}

/**
 * Matmul FLOPs of training a config's model, per sentence pair and per target token.
 *
 * @example
 * const c = tg.translate.resolveConfig({ model: "seq2seq", embed: 4, hidden: 8, layers: 1 });
 * const e = tg.translate.estimateCost(c, { srcVocab: 10, tgtVocab: 10, srcLen: 3, tgtLen: 2 });
 * // encoder 3·(2·32·12) + decoder 2·(2·32·12) + output 2·(2·8·10)
 * console.log(e.forward.encoder, e.forward.decoder, e.forward.output, e.trainPerTargetToken); // 2304 1536 320 6240
 */
export function estimateCost(config: TranslateConfig, shape: CostShape): CostEstimate {
  for (const [k, v] of Object.entries(shape)) {
    if (!(typeof v === "number" && v > 0)) {
      throw new TsgradError("estimateCost", `${k} must be a positive number, got ${String(v)}`);
    }
  }
  const { embed: E, hidden: H, layers: L } = config;
  const { srcLen: S, tgtLen: T } = shape;
  // One LSTM step: 4 gates from [input, hidden] → 2·4H·(in + H).
  const lstm = (input: number) => 2 * 4 * H * (input + H);
  // contextFeed widens the decoder's first input and the output layer's input by H.
  const ctx = config.model === "seq2seq" && config.contextFeed ? H : 0;
  let decoderStep = 0;
  for (let l = 0; l < L; l++) decoderStep += lstm(l === 0 ? E + ctx : H);
  let encoderStep = 0;
  let attentionStep = 0;
  let sourceExtra = 0;
  if (config.model === "seq2seq") {
    for (let l = 0; l < L; l++) encoderStep += lstm(l === 0 ? E : H);
  } else {
    for (let l = 0; l < L; l++) encoderStep += 2 * lstm(l === 0 ? E : 2 * H);
    sourceExtra = 2 * (2 * H) * H; // attention keys of each source position
    // Scores (H per source position), context (2H per position), combine [3H → H].
    attentionStep = 2 * S * H + 2 * S * 2 * H + 2 * 3 * H * H;
  }
  const encoder = S * (encoderStep + sourceExtra);
  const decoder = T * decoderStep;
  const attention = T * attentionStep;
  const output = T * 2 * (H + ctx) * shape.tgtVocab;
  const total = encoder + decoder + attention + output;
  return {
    forward: { encoder, decoder, attention, output, total },
    trainPerSentence: 3 * total,
    trainPerTargetToken: (3 * total) / T,
  };
}
