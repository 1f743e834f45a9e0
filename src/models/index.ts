/** tg.models — one file per model. */
export { AlexNet, type AlexNetConfig } from "./alexnet.js";
export { LeNet5, type LeNet5Config } from "./lenet5.js";
export {
  TransformerLM,
  Block,
  CausalSelfAttention,
  MLP,
  sampleRow,
  type TransformerLMConfig,
  type SampleOptions,
} from "./transformer-lm.js";
export { Seq2Seq, type Seq2SeqConfig, type Seq2SeqState } from "./seq2seq.js";
export {
  Seq2SeqAttention,
  type Seq2SeqAttentionConfig,
  type AttentionState,
} from "./seq2seq-attention.js";
export {
  greedyDecode,
  selectRows,
  beamSearch,
  type Seq2SeqDecoder,
  type DecodeOptions,
  type BeamOptions,
} from "./decoding.js";
