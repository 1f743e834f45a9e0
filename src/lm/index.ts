/**
 * tg.lm — character-level language modelling and scaling laws: data windows and fixed evaluation
 * sets, a resumable trainer writing run folders, sampling, sweeps over model and data size, and
 * the scaling-law analysis (fits, held-out prediction, plots, reports).
 */
export {
  LM_CONFIG_SCHEMA,
  LM_CONFIG_KEYS,
  LM_DEFAULTS,
  QUICK_LM_CONFIG,
  resolveLMConfig,
  stepsOf,
  modelConfigOf,
  parseModelSize,
  sizeLabel,
  type LMConfig,
  type LMConfigSchema,
  type LMFieldSpec,
  type LMFieldValue,
  type ModelSize,
} from "./config.js";
export {
  charCorpus,
  loadCharCorpus,
  windowsAt,
  randomBatch,
  evalOffsets,
  type CharCorpus,
  type LMBatch,
} from "./data.js";
export { lockRun } from "./lock.js";
export {
  trainLM,
  type TrainLMOptions,
  type TrainLMResult,
  type LMSummary,
  type LMCheckpointExtra,
} from "./trainer.js";
export { loadLM, sampleText, type LoadedLM, type SampleTextOptions } from "./sample.js";
export {
  FULL_SWEEP,
  QUICK_SWEEP,
  SWEEP_PID_ENV,
  planSweep,
  runSweep,
  childProcessLauncher,
  inProcessLauncher,
  sweepParentGone,
  estimateRunSeconds,
  type SweepSpec,
  type PlannedRun,
  type Launcher,
  type LaunchResult,
  type RunSweepOptions,
  type SweepResult,
  type CostAssumptions,
} from "./sweep.js";
export {
  analyzeScaling,
  scalingFigures,
  writeScalingReport,
  analysisJson,
  powerLawAt,
  type ScalingPoint,
  type ScalingAnalysis,
  type PowerLawResult,
  type HoldoutResult,
  type ChinchillaResult,
  type AnalyzeOptions,
} from "./analyze.js";
