/**
 * `tg.text`: corpora, tokenisers, vocabularies, seq2seq batching, and sacreBLEU-compatible BLEU
 * and chrF.
 */
export {
  resolveDataDir,
  readText,
  readLines,
  makeParallel,
  readParallel,
  loadMulti30k,
  loadTinyShakespeare,
  type ResolveOptions,
  type ParallelOptions,
  type ParallelStats,
  type ParallelCorpus,
  type Multi30kSplit,
  type Multi30kLang,
  type Multi30kOptions,
} from "./corpus.js";
export { tokenize13a, detokenize13a, type DetokenizeOptions } from "./tokenize-13a.js";
export {
  Vocab,
  SPECIAL_TOKENS,
  PAD_ID,
  BOS_ID,
  EOS_ID,
  UNK_ID,
  stripSpecials,
  type VocabJSON,
  type VocabBuildOptions,
} from "./vocab.js";
export { checkFingerprint, type Fingerprinted } from "./hash.js";
export { type TextTokenizer, tokenizerFromJSON } from "./tokenizer.js";
export {
  WordTokenizer,
  type WordTokenizerOptions,
  type WordTokenizerJSON,
} from "./word-tokenizer.js";
export {
  BpeTokenizer,
  learnBpe,
  END_OF_WORD,
  type BpeOptions,
  type BpeTokenizerJSON,
  type Pretokenize,
} from "./bpe.js";
export { CharVocab, type CharVocabOptions, type CharVocabJSON } from "./char-vocab.js";
export {
  Seq2SeqBatcher,
  type EncodedPair,
  type Seq2SeqBatch,
  type Seq2SeqBatcherOptions,
  type BatcherStats,
} from "./batching.js";
export {
  corpusBleu,
  sentenceBleu,
  type BleuOptions,
  type BleuScore,
  type BleuSmooth,
  type BleuTokenize,
  type References,
} from "./bleu.js";
export { corpusChrf, sentenceChrf, type ChrfOptions, type ChrfScore } from "./chrf.js";
