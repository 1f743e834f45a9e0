/**
 * Saving and restoring everything a training run needs to continue exactly: the model's state
 * dict (under its own names, so PyTorch can load the file), the optimizer and scheduler state,
 * the default random generator's state, the position in the data (epoch and batch), and any
 * extra counters. Written atomically by `tg.io.saveCheckpoint`.
 */
import { loadCheckpoint, saveCheckpoint } from "../io/checkpoint.js";
import type { Module } from "../nn/module.js";
import { TsgradError } from "../tensor/errors.js";
import { defaultGenerator } from "../tensor/random.js";

/** Anything with a PyTorch-style state dict (optimizers, schedulers, samplers). */
export interface Stateful {
  stateDict(): unknown;
  loadStateDict(state: never): void;
}

export interface TrainingState {
  model: Module;
  optimizer?: Stateful;
  scheduler?: Stateful;
}

/** Where a run is: the next batch to train is `batch` of `epoch`; `step` counts optimizer steps. */
export interface Position {
  epoch: number;
  batch: number;
  step: number;
}

/**
 * Save model, optimizer, scheduler, the default generator and the position (plus `extra`, any
 * JSON-like data such as the config, metrics so far or a vocabulary) to `path`, atomically.
 *
 * @example
 * const { mkdtempSync } = process.getBuiltinModule("node:fs");
 * const dir = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * const model = new tg.nn.Linear(2, 1);
 * const optimizer = new tg.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * tg.train.saveTrainingState(dir + "/c.safetensors", { model, optimizer }, { epoch: 1, batch: 0, step: 10 });
 * const restored = new tg.nn.Linear(2, 1);
 * const pos = tg.train.loadTrainingState(dir + "/c.safetensors", { model: restored, optimizer: new tg.optim.SGD(restored.parameters(), { lr: 0.1, momentum: 0.9 }) });
 * console.log(pos.step, restored.weight.toArray()[0][0] === model.weight.toArray()[0][0]); // 10 true
 */
export function saveTrainingState(
  path: string,
  state: TrainingState,
  position: Position,
  extra: Record<string, unknown> = {},
): void {
  saveCheckpoint(path, {
    model: state.model.stateDict(),
    ...(state.optimizer ? { optimizer: state.optimizer.stateDict() } : {}),
    ...(state.scheduler ? { scheduler: state.scheduler.stateDict() } : {}),
    rng: defaultGenerator.getState(),
    position,
    extra,
  });
}

/**
 * Restore a checkpoint written by `saveTrainingState` into `state` (model weights, optimizer,
 * scheduler, default generator) and return the saved position and `extra`. A checkpoint whose
 * tensor names or shapes do not match the model is rejected before anything is changed.
 *
 * @example
 * const { mkdtempSync } = process.getBuiltinModule("node:fs");
 * const dir = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * const model = new tg.nn.Linear(2, 1);
 * tg.train.saveTrainingState(dir + "/c.safetensors", { model }, { epoch: 3, batch: 5, step: 42 }, { note: "hi" });
 * const pos = tg.train.loadTrainingState(dir + "/c.safetensors", { model: new tg.nn.Linear(2, 1) });
 * console.log(pos.epoch, pos.batch, pos.step, pos.extra.note); // 3 5 42 "hi"
 */
export function loadTrainingState(
  path: string,
  state: TrainingState,
): Position & { extra: Record<string, unknown> } {
  const ck = loadCheckpoint(path);
  state.model.loadStateDict(ck.model, { source: path });
  if (state.optimizer) {
    if (ck.optimizer === undefined) {
      throw new TsgradError(path, "checkpoint has no optimizer state");
    }
    state.optimizer.loadStateDict(ck.optimizer as never);
  }
  if (state.scheduler) {
    if (ck.scheduler === undefined) {
      throw new TsgradError(path, "checkpoint has no scheduler state");
    }
    state.scheduler.loadStateDict(ck.scheduler as never);
  }
  if (Array.isArray(ck.rng)) defaultGenerator.setState(ck.rng as number[]);
  const pos = ck.position as Position | undefined;
  if (!pos || ![pos.epoch, pos.batch, pos.step].every(Number.isInteger)) {
    throw new TsgradError(path, "checkpoint has no training position");
  }
  return { ...pos, extra: (ck.extra as Record<string, unknown> | undefined) ?? {} };
}
