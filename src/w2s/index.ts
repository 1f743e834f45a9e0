/**
 * tg.w2s — the weak-to-strong generalization experiment (Burns et al. 2023): PGR statistics with
 * degenerate cases, the auxiliary confidence loss, image and text tasks with model ladders, and
 * a resumable grid runner with a report.
 */
export {
  studentTCdf,
  studentTQuantile,
  meanInterval,
  pairedGapStandardError,
  performanceGapRecovered,
  summarizePgr,
  type MeanInterval,
  type PgrInputs,
  type PgrResult,
  type PgrUndefinedKind,
  type SeedAccuracies,
  type PgrSummary,
} from "./stats.js";
export {
  auxAlpha,
  priorCounts,
  priorMatchedAssignment,
  hardenPredictions,
  auxConfidenceLoss,
  type Hardening,
  type AuxSchedule,
} from "./loss.js";
export {
  parseModelSpec,
  modelLabel,
  modelSlug,
  ladderRank,
  isStronger,
  loadImageTask,
  IMAGE_TASKS,
  type ModelSpec,
  type Split,
  type W2sTask,
} from "./task.js";
export {
  loadSubjectTask,
  subjectExample,
  createTextModel,
  TEXT_TASKS,
  TEXT_MODELS,
  SUBJECT_WORDS,
  MASK_TOKEN,
  MASK_ID,
  type SubjectExample,
  type SubjectTaskOptions,
  type TextModelDims,
} from "./text-task.js";
export {
  trainGridModel,
  readTrainedModel,
  predictProbs,
  argmaxRows,
  mixSeed,
  hashString,
  type TrainHyper,
  type Targets,
  type TrainJob,
  type EpochRecord,
  type TrainedModel,
  type TrainOutcome,
  type TrainControl,
} from "./train.js";
export {
  runWeakToStrong,
  planWeakToStrong,
  estimatePlan,
  measureThroughput,
  w2sDefaults,
  loadW2sTask,
  validateW2sConfig,
  lossVariants,
  splitPool,
  CI_METHOD,
  type W2sConfig,
  type W2sGrid,
  type SeedSplit,
  type PlannedJob,
  type W2sPlan,
  type PairResult,
  type W2sResults,
  type RunW2sOptions,
  type W2sOutcome,
  type Throughput,
  type PlanEstimate,
} from "./experiment.js";
export { writeW2sReport } from "./report.js";
