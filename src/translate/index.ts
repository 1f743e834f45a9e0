/**
 * tg.translate — sequence-to-sequence translation runs: configs, data preparation with word or
 * BPE tokenisers, training with exact resume, self-contained checkpoints (weights + vocabularies),
 * decoding raw sentences, and BLEU / chrF evaluation.
 */
export {
  type Lang,
  type ModelKind,
  type Split,
  type TranslateConfig,
  DEFAULT_CONFIG,
  QUICK_CONFIG,
  normalizeSplit,
  resolveConfig,
} from "./config.js";
export {
  type TokenizerPair,
  type DataOptions,
  type TranslationData,
  loadSplit,
  fitTokenizers,
  makeBatcher,
  prepareData,
  exactLengthPlan,
} from "./data.js";
export {
  type TranslationModel,
  type TranslationMeta,
  type TranslateOptions,
  type LoadTranslatorOptions,
  type TokenizerJSON,
  Translator,
  buildModel,
  translationMeta,
  readTranslationMeta,
  collateSources,
  loadVocabFile,
  resolveCheckpoint,
} from "./translator.js";
export type { Steps } from "./steps.js";
export {
  type LossResult,
  type TranslationScores,
  type CorpusEvaluation,
  validationLoss,
  scoreTranslations,
  evaluateCorpus,
} from "./evaluate.js";
export { type CostShape, type CostEstimate, estimateCost } from "./cost.js";
export {
  type EpochRecord,
  type FinalRecord,
  translationReport,
  saveTranslationReport,
} from "./report.js";
export { type TrainOptions, type TrainResult, trainTranslation } from "./trainer.js";
