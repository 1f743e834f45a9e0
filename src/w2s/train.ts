/**
 * Training one model of the weak-to-strong grid (a weak supervisor, a strong ceiling or a strong
 * student) in its own folder, so that a killed experiment resumes where it was:
 *
 *   <model dir>/checkpoint-<step>.safetensors   exact-resume state (epoch ends and Ctrl-C)
 *   <model dir>/best.safetensors                weights of the best held-out epoch so far
 *   <model dir>/labels.safetensors              weak models: soft labels of the transfer set
 *   <model dir>/model.safetensors               the weights that represent the trained model
 *   <model dir>/result.json                     written last (atomically): the model is done
 *
 * The recipe is the same for every model: Adam, cosine decay to 0 without warmup, a fixed number
 * of epochs, no augmentation. After each epoch the model's agreement with its own supervision on
 * a held-out slice is measured (ground truth for weak and ceiling models, the weak labels for
 * students: never test labels), which early stopping by "weak-agreement" uses.
 */
import { saveCheckpoint, loadCheckpoint } from "../io/checkpoint.js";
import { removeStaleTempFiles, writeFileAtomic } from "../io/atomic.js";
import { environmentChange, latestCheckpoint, runEnvironment } from "../io/runs.js";
import * as F from "../nn/functional.js";
import type { Layer } from "../nn/layers.js";
import { Adam } from "../optim/adam.js";
import { CosineWithWarmup } from "../optim/lr-scheduler.js";
import { ProgressBar, type ProgressStream } from "../report/progress.js";
import { noGrad } from "../tensor/autograd.js";
import { tensor } from "../tensor/creation.js";
import { TsgradError } from "../tensor/errors.js";
import { Generator, manualSeed } from "../tensor/random.js";
import type { Interrupt } from "../train/interrupt.js";
import { loadTrainingState, saveTrainingState } from "../train/state.js";
import { type AuxSchedule, type Hardening, auxAlpha, auxConfidenceLoss } from "./loss.js";
import { type ModelSpec, type Split, type W2sTask, modelLabel } from "./task.js";

/** Optimisation settings shared by every model of an experiment. */
export interface TrainHyper {
  epochs: number;
  batchSize: number;
  /** Adam learning rate (cosine-decayed to 0 over training). */
  lr: number;
  /** Which weights a trained model is represented by: the last epoch's, or the best held-out epoch's. */
  earlyStop: "final" | "weak-agreement";
}

/** Training targets, aligned with `TrainJob.trainIdx`. */
export type Targets =
  { kind: "hard"; labels: Int32Array } | { kind: "soft"; probs: Float32Array; numClasses: number };

/** One training of the grid. */
export interface TrainJob {
  /** Unique name, also the folder name ("weak-logistic-s0"). */
  key: string;
  role: "weak" | "ceiling" | "student";
  model: ModelSpec;
  /** Seed of the initial weights, batch order and dropout. */
  seed: number;
  /** Pool positions trained on. */
  trainIdx: Int32Array;
  targets: Targets;
  /** Pool positions of the held-out slice (may be empty). */
  heldIdx: Int32Array;
  /** What held-out agreement is measured against: the model's own kind of supervision. */
  heldTargets: Int32Array;
  /** The auxiliary confidence loss, or null for plain cross-entropy. */
  aux: (AuxSchedule & { hardening: Hardening }) | null;
  /** Weak models: pool positions to label with the trained model (soft labels). */
  labelIdx?: Int32Array;
}

/** One epoch of a training. */
export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  /** Agreement with the model's own supervision on the held-out slice (null without one). */
  heldAgreement: number | null;
  lr: number;
  /** α of the auxiliary loss at the end of the epoch (students with the loss only). */
  alpha?: number;
}

/** What a finished training leaves in `result.json`. */
export interface TrainedModel {
  key: string;
  role: TrainJob["role"];
  model: string;
  parameters: number;
  trainExamples: number;
  steps: number;
  seconds: number;
  examplesPerSec: number;
  history: EpochRecord[];
  /** Epoch with the best held-out agreement (the last on ties with it; `epochs` without a slice). */
  selectedEpoch: number;
  /** The epoch whose weights represent the model (per `earlyStop`). */
  usedEpoch: number;
  earlyStop: TrainHyper["earlyStop"];
  /** Test accuracy of the last epoch's and of the selected epoch's weights. */
  finalTestAccuracy: number;
  selectedTestAccuracy: number;
  /** Test accuracy of the weights used (`usedEpoch`). */
  testAccuracy: number;
  /** Test-set predictions of the weights used (class indices). */
  testPredictions: number[];
}

/** How a training call ended. */
export interface TrainOutcome {
  status: "finished" | "cached" | "interrupted" | "stopped";
  result: TrainedModel | null;
  /** Weak models: soft labels [labelIdx.length × K] of the weights used. */
  labels: Float32Array | null;
  /** Step the training resumed from in this call (null if it started fresh or was cached). */
  resumedFrom: number | null;
}

/** What the experiment lets a training see of the outside world. */
export interface TrainControl {
  /** Ctrl-C: finish the step, checkpoint, return "interrupted". */
  interrupt?: Interrupt | null;
  /** Optimizer steps left in this invocation (tests simulate a kill with it); shared across jobs. */
  budget?: { steps: number } | null;
  progress?: ProgressStream | null;
  /** Warnings (a resume under another backend or thread count); default stderr. */
  warn?: (message: string) => void;
}

/**
 * Mix integers into a 32-bit seed (murmur-style avalanche), so related seeds are unrelated.
 *
 * @example
 * console.log(tg.w2s.mixSeed(0, 1) === tg.w2s.mixSeed(0, 1), tg.w2s.mixSeed(0, 1) === tg.w2s.mixSeed(1, 0)); // true false
 */
export function mixSeed(...words: number[]): number {
  let h = 0x9e3779b9;
  for (const w of words) {
    h = Math.imul(h ^ (w >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/**
 * FNV-1a hash of a string (32 bits), to turn names into seed words.
 *
 * @example
 * console.log(tg.w2s.hashString(""), tg.w2s.hashString("a")); // 2166136261 3826002220
 */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Softmax probabilities [idx.length × K] of `model` on examples `idx` of `split` (evaluation
 * mode, no gradients).
 *
 * @example
 * const task = tg.w2s.loadW2sTask("fashion-mnist-sample");
 * const p = tg.w2s.predictProbs(task, task.createModel({ name: "logistic", width: 1 }), "test", [0, 1]);
 * console.log(p.length, p.slice(0, 10).reduce((a, b) => a + b, 0).toFixed(4)); // 20 "1.0000"
 */
export function predictProbs(
  task: W2sTask,
  model: Layer,
  split: Split,
  idx: ArrayLike<number>,
  batchSize = 256,
): Float32Array {
  const K = task.classes.length;
  const out = new Float32Array(idx.length * K);
  const wasTraining = model.training;
  model.eval();
  try {
    noGrad(() => {
      for (let s = 0; s < idx.length; s += batchSize) {
        const part = Array.from(
          { length: Math.min(batchSize, idx.length - s) },
          (_, b) => idx[s + b]!,
        );
        const p = model.forward(task.inputs(split, part)).softmax(1).dataSync();
        out.set(p, s * K);
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return out;
}

/**
 * Row-wise argmax of probabilities [n × K] (the first maximum on ties).
 *
 * @example
 * console.log(Array.from(tg.w2s.argmaxRows([0.1, 0.9, 0.6, 0.4], 2))); // [1, 0]
 */
export function argmaxRows(probs: ArrayLike<number>, K: number): Int32Array {
  const n = probs.length / K;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (probs[i * K + k]! > probs[i * K + best]!) best = k;
    out[i] = best;
  }
  return out;
}

function agreement(pred: ArrayLike<number>, target: ArrayLike<number>): number {
  let same = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === target[i]) same++;
  return same / Math.max(1, pred.length);
}

function validateJob(task: W2sTask, job: TrainJob, hp: TrainHyper): void {
  const op = job.key;
  const K = task.classes.length;
  const n = job.trainIdx.length;
  if (job.targets.kind === "hard" && job.targets.labels.length !== n) {
    throw new TsgradError(op, `${job.targets.labels.length} labels for ${n} training examples`);
  }
  if (job.targets.kind === "soft" && job.targets.probs.length !== n * K) {
    throw new TsgradError(op, `${job.targets.probs.length} soft-label entries for ${n}×${K}`);
  }
  if (job.heldTargets.length !== job.heldIdx.length) {
    throw new TsgradError(
      op,
      `${job.heldTargets.length} held-out targets for ${job.heldIdx.length} examples`,
    );
  }
  if (n < hp.batchSize) {
    throw new TsgradError(op, `batch size ${hp.batchSize} exceeds the ${n} training examples`);
  }
}

/**
 * Read a finished model's result (and its labels), or null if it has not finished.
 *
 * @example
 * console.log(tg.w2s.readTrainedModel("/nonexistent/model", 10)); // null
 */
export function readTrainedModel(
  dir: string,
  K: number,
): { result: TrainedModel; labels: Float32Array | null } | null {
  const fs = process.getBuiltinModule("node:fs");
  if (!fs.existsSync(`${dir}/result.json`)) return null;
  const result = JSON.parse(fs.readFileSync(`${dir}/result.json`, "utf8")) as TrainedModel;
  let labels: Float32Array | null = null;
  if (fs.existsSync(`${dir}/labels.safetensors`)) {
    const t = loadCheckpoint(`${dir}/labels.safetensors`).model.labels;
    if (t === undefined || t.shape[1] !== K) {
      throw new TsgradError(`${dir}/labels.safetensors`, `holds no [n, ${K}] tensor "labels"`);
    }
    labels = Float32Array.from(t.dataSync());
  }
  return { result, labels };
}

/**
 * Train one model of the grid in `dir`, resuming its checkpoint if there is one, or return the
 * cached result if it already finished (see the module comment).
 *
 * @example
 * const dir = process.getBuiltinModule("node:fs").mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * const task = tg.w2s.loadW2sTask("fashion-mnist-sample");
 * const idx = Int32Array.from({ length: 200 }, (_, i) => i);
 * const job = {
 *   key: "weak-logistic", role: "weak", model: { name: "logistic", width: 1 }, seed: 1,
 *   trainIdx: idx, targets: { kind: "hard", labels: task.poolLabels.slice(0, 200) },
 *   heldIdx: new Int32Array(0), heldTargets: new Int32Array(0), aux: null,
 *   labelIdx: Int32Array.from([200, 201, 202]),
 * };
 * const hp = { epochs: 2, batchSize: 50, lr: 3e-3, earlyStop: "final" };
 * const r = await tg.w2s.trainGridModel(task, job, hp, dir, { progress: null });
 * console.log(r.status, r.result.steps, r.labels.length); // "finished" 8 30
 * console.log((await tg.w2s.trainGridModel(task, job, hp, dir)).status); // "cached"
 */
export async function trainGridModel(
  task: W2sTask,
  job: TrainJob,
  hp: TrainHyper,
  dir: string,
  control: TrainControl = {},
): Promise<TrainOutcome> {
  const fs = process.getBuiltinModule("node:fs");
  const K = task.classes.length;
  const cached = readTrainedModel(dir, K);
  if (cached) {
    if (job.labelIdx && cached.labels?.length !== job.labelIdx.length * K) {
      throw new TsgradError(
        dir,
        "result.json exists but labels.safetensors is missing or the wrong size",
      );
    }
    return { status: "cached", result: cached.result, labels: cached.labels, resumedFrom: null };
  }
  validateJob(task, job, hp);
  fs.mkdirSync(dir, { recursive: true });
  // Temporary files of atomic writes a kill interrupted would otherwise stay forever.
  removeStaleTempFiles(dir);

  manualSeed(job.seed);
  const model = task.createModel(job.model);
  const B = hp.batchSize;
  const n = job.trainIdx.length;
  const stepsPerEpoch = Math.floor(n / B);
  const totalSteps = hp.epochs * stepsPerEpoch;
  const optimizer = new Adam(model.parameters(), { lr: hp.lr });
  const scheduler = new CosineWithWarmup(optimizer, { warmupSteps: 0, totalSteps });
  const state = { model, optimizer, scheduler };

  let pos = { epoch: 0, batch: 0, step: 0 };
  let history: EpochRecord[] = [];
  let best = { epoch: 0, agreement: -1 };
  let elapsed = 0;
  let sums = { loss: 0, count: 0 };
  let resumedFrom: number | null = null;
  const latest = latestCheckpoint(dir);
  if (latest) {
    const r = loadTrainingState(latest.path, state);
    pos = { epoch: r.epoch, batch: r.batch, step: r.step };
    history = r.extra.history as EpochRecord[];
    best = r.extra.best as typeof best;
    elapsed = r.extra.elapsed as number;
    sums = r.extra.sums as typeof sums;
    resumedFrom = pos.step;
    const changed = environmentChange(r.extra.environment, latest.path);
    if (changed !== null) {
      (control.warn ?? ((m: string) => void process.stderr.write(`${m}\n`)))(changed);
    }
  }
  const save = () => {
    const path = `${dir}/checkpoint-${pos.step}.safetensors`;
    saveTrainingState(path, state, pos, {
      key: job.key,
      history,
      best,
      elapsed,
      sums,
      environment: runEnvironment(),
    });
    for (const f of fs.readdirSync(dir)) {
      if (/^checkpoint-\d+\.safetensors$/.test(f) && `${dir}/${f}` !== path) {
        fs.rmSync(`${dir}/${f}`);
      }
    }
  };

  const heldAgreement = (): number | null =>
    job.heldIdx.length === 0
      ? null
      : agreement(argmaxRows(predictProbs(task, model, "pool", job.heldIdx), K), job.heldTargets);

  const bar =
    control.progress === null
      ? null
      : new ProgressBar({
          total: totalSteps,
          initial: pos.step,
          unit: "ex",
          itemsPerStep: B,
          label: job.key,
          ...(control.progress ? { stream: control.progress } : {}),
        });
  const started = performance.now() - elapsed * 1000;
  let lastYield = performance.now();
  let status: TrainOutcome["status"] = "finished";
  const xIdx = new Int32Array(B);
  try {
    outer: for (let epoch = pos.epoch; epoch < hp.epochs; epoch++) {
      model.train();
      const order = new Generator(mixSeed(job.seed, epoch)).permutation(n);
      if (pos.batch === 0) sums = { loss: 0, count: 0 };
      for (let b = epoch === pos.epoch ? pos.batch : 0; b < stepsPerEpoch; b++) {
        for (let i = 0; i < B; i++) xIdx[i] = job.trainIdx[order[b * B + i]!]!;
        const logits = model.forward(task.inputs("pool", xIdx));
        let loss;
        if (job.targets.kind === "hard") {
          const y = new Int32Array(B);
          for (let i = 0; i < B; i++) y[i] = job.targets.labels[order[b * B + i]!]!;
          loss = F.crossEntropy(logits, tensor(y, { shape: [B] }));
        } else {
          const q = new Float32Array(B * K);
          for (let i = 0; i < B; i++) {
            const r = order[b * B + i]!;
            q.set(job.targets.probs.subarray(r * K, (r + 1) * K), i * K);
          }
          const weak = tensor(q, { shape: [B, K] });
          loss = job.aux
            ? auxConfidenceLoss(
                logits,
                weak,
                auxAlpha(pos.step / totalSteps, job.aux),
                job.aux.hardening,
              )
            : F.crossEntropy(logits, weak);
        }
        optimizer.zeroGrad();
        loss.backward();
        optimizer.step();
        scheduler.step();
        const l = loss.item();
        if (!Number.isFinite(l)) {
          throw new TsgradError(
            job.key,
            `the loss became ${l} at step ${pos.step} (lower the learning rate?)`,
          );
        }
        sums.loss += l;
        sums.count++;
        pos = { epoch, batch: b + 1, step: pos.step + 1 };
        bar?.update(pos.step, { epoch: epoch + 1, loss: sums.loss / sums.count });
        if (control.budget) control.budget.steps--;
        // Let the event loop run now and then: signal handlers (Ctrl-C) only fire from it.
        if (performance.now() - lastYield > 200) {
          await new Promise((resolve) => setImmediate(resolve));
          lastYield = performance.now();
        }
        if (control.interrupt?.requested || (control.budget && control.budget.steps <= 0)) {
          status = control.interrupt?.requested ? "interrupted" : "stopped";
          elapsed = (performance.now() - started) / 1000;
          save();
          break outer;
        }
      }
      const held = heldAgreement();
      const record: EpochRecord = {
        epoch: epoch + 1,
        trainLoss: sums.loss / Math.max(1, sums.count),
        heldAgreement: held,
        lr: optimizer.paramGroups[0]!.lr,
        ...(job.aux ? { alpha: auxAlpha(pos.step / totalSteps, job.aux) } : {}),
      };
      history.push(record);
      // Ties go to the later epoch: with equal agreement, more training is the natural default.
      if (held !== null && held >= best.agreement) {
        best = { epoch: epoch + 1, agreement: held };
        saveCheckpoint(`${dir}/best.safetensors`, { model: model.stateDict(), epoch: epoch + 1 });
      }
      pos = { epoch: epoch + 1, batch: 0, step: pos.step };
      elapsed = (performance.now() - started) / 1000;
      save();
    }
  } finally {
    bar?.finish();
  }
  if (status !== "finished") return { status, result: null, labels: null, resumedFrom };

  const seconds = (performance.now() - started) / 1000;
  const testIdx = Int32Array.from({ length: task.testLabels.length }, (_, i) => i);
  const useSelected = hp.earlyStop === "weak-agreement";
  const selectedEpoch = best.epoch > 0 ? best.epoch : hp.epochs;
  const evaluate = () => {
    const pred = argmaxRows(predictProbs(task, model, "test", testIdx), K);
    return { pred, accuracy: agreement(pred, task.testLabels) };
  };
  const label = () => (job.labelIdx ? predictProbs(task, model, "pool", job.labelIdx) : null);
  // The weights that represent the model are labelled with and saved as model.safetensors.
  const kept: { labels: Float32Array | null } = { labels: null };
  const keep = (epoch: number) => {
    kept.labels = label();
    saveCheckpoint(`${dir}/model.safetensors`, {
      model: model.stateDict(),
      meta: { key: job.key, model: modelLabel(job.model), epoch },
    });
  };
  const final = evaluate();
  let used = final;
  if (!useSelected || selectedEpoch === hp.epochs) keep(hp.epochs);
  let selected = final;
  if (selectedEpoch !== hp.epochs) {
    model.loadStateDict(loadCheckpoint(`${dir}/best.safetensors`).model, {
      source: `${dir}/best.safetensors`,
    });
    selected = evaluate();
    if (useSelected) {
      used = selected;
      keep(selectedEpoch);
    }
  }
  const result: TrainedModel = {
    key: job.key,
    role: job.role,
    model: modelLabel(job.model),
    parameters: model.numParameters(),
    trainExamples: n,
    steps: pos.step,
    seconds,
    examplesPerSec: (totalSteps * B) / Math.max(1e-9, seconds),
    history,
    selectedEpoch,
    usedEpoch: useSelected ? selectedEpoch : hp.epochs,
    earlyStop: hp.earlyStop,
    finalTestAccuracy: final.accuracy,
    selectedTestAccuracy: selected.accuracy,
    testAccuracy: used.accuracy,
    testPredictions: Array.from(used.pred),
  };
  const labels = kept.labels;
  if (labels) {
    saveCheckpoint(`${dir}/labels.safetensors`, {
      model: { labels: tensor(labels, { shape: [labels.length / K, K] }) },
    });
  }
  writeFileAtomic(`${dir}/result.json`, `${JSON.stringify(result)}\n`);
  for (const f of fs.readdirSync(dir)) {
    if (/^checkpoint-\d+\.safetensors$/.test(f) || f === "best.safetensors") {
      fs.rmSync(`${dir}/${f}`);
    }
  }
  return { status: "finished", result, labels, resumedFrom };
}
