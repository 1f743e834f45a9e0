/**
 * tg.io: tensors and training state on disk. safetensors encoding (pure, browser-friendly) and
 * files, atomic writes, checkpoints that PyTorch can load, and run folders for experiments.
 */
export {
  SAFETENSORS_DTYPES,
  type SafetensorsDType,
  type SafetensorsEntry,
  type DecodedSafetensors,
  encodeSafetensors,
  decodeSafetensors,
} from "./safetensors.js";
export { writeFileAtomic, type FileSource } from "./atomic.js";
export { saveSafetensors, loadSafetensors } from "./files.js";
export {
  type CheckpointState,
  encodeCheckpoint,
  decodeCheckpoint,
  saveCheckpoint,
  loadCheckpoint,
} from "./checkpoint.js";
export {
  canonicalJson,
  configHash,
  runDir,
  isRunFinished,
  latestCheckpoint,
  readMetrics,
  gitRevision,
  openRun,
  listRuns,
  Run,
  type CheckpointFile,
  type MetricsRecord,
  type OpenRunOptions,
  type RunInfo,
  type RunEnvironment,
} from "./runs.js";
