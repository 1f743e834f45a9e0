/**
 * Training a character-level Transformer LM for exactly D tokens, in a run folder:
 * AdamW (decay on matrices and embeddings only, as nanoGPT), linear warmup + cosine decay,
 * gradient clipping, evaluation on fixed seeded windows of both splits, `metrics.jsonl`,
 * checkpoints that resume exactly (model, optimizer, scheduler, both random generators, position),
 * and `summary.json` (which marks the run finished, so sweeps skip it).
 */
import { getBackend } from "../backends/backend.js";
import {
  type RunEnvironment,
  environmentChange,
  latestCheckpoint,
  openRun,
  runEnvironment,
} from "../io/runs.js";
import { loadCheckpoint } from "../io/checkpoint.js";
import { nodeModule } from "../io/node.js";
import { TransformerLM } from "../models/transformer-lm.js";
import { AdamW } from "../optim/adam.js";
import { clipGradNorm } from "../optim/clip.js";
import { CosineWithWarmup } from "../optim/lr-scheduler.js";
import { ProgressBar, type ProgressStream } from "../report/progress.js";
import { noGrad } from "../tensor/autograd.js";
import { TsgradError } from "../tensor/errors.js";
import { Generator, manualSeed } from "../tensor/random.js";
import type { CharVocabJSON } from "../text/char-vocab.js";
import { Interrupt } from "../train/interrupt.js";
import { loadTrainingState, saveTrainingState } from "../train/state.js";
import { type LMConfig, modelConfigOf, resolveLMConfig, sizeLabel, stepsOf } from "./config.js";
import { type CharCorpus, evalOffsets, loadCharCorpus, randomBatch, windowsAt } from "./data.js";
import { lockRun } from "./lock.js";

/** Where and how a run is carried out; none of this changes its numbers. */
export interface TrainLMOptions {
  /** Folder of all experiments; default `"runs"`. */
  root?: string;
  /** Experiment name: the run goes to `<root>/<experiment>/<config-hash>/`; default `"lm"`. */
  experiment?: string;
  /** Save a checkpoint every this many steps (0: only at the end and on interruption); default 500. */
  checkpointInterval?: number;
  /** Checkpoints kept in the folder (the newest); default 2. */
  keepCheckpoints?: number;
  /** Progress bar stream, or false for none; default `process.stderr`. */
  progress?: ProgressStream | false;
  /** Status messages (resuming, stopping, finished); default: to stderr. */
  log?: (message: string) => void;
  /** Handle Ctrl-C / SIGTERM: finish the step, checkpoint, return "interrupted"; default true. */
  handleSignals?: boolean;
  /** Stop after this many steps in this call (checkpointing, as on Ctrl-C). */
  stopAfter?: number;
  /** Stop after this many seconds of this call (checkpointing, as on Ctrl-C). */
  timeLimit?: number;
  /** Polled after every step: true stops the run with a checkpoint, as Ctrl-C does. */
  stopIf?: () => boolean;
  /**
   * Polled after every step: when it returns true the run stops at once without saving, as if
   * killed (a sweep child uses it to stop when its sweep process has died).
   */
  abandonIf?: () => boolean;
  /** Milliseconds to wait for another live process that holds the run's lock; default 60 000. */
  lockWaitMs?: number;
  /** Where to ask git for the revision recorded in the run folder; false skips it. */
  gitCwd?: string | false;
}

/** `summary.json` of a finished run. */
export interface LMSummary {
  /** Mean loss (nats/char) on the fixed validation windows after the last step. */
  finalValLoss: number;
  /** Mean loss on the fixed training windows after the last step. */
  finalTrainLoss: number;
  /** Loss of the last training batch. */
  lastBatchLoss: number;
  steps: number;
  /** Tokens trained on: steps × batchSize × blockSize. */
  tokens: number;
  /** Model size `"LxExH"`. */
  size: string;
  /** All parameters (the tied output projection counted once). */
  params: number;
  /** N of Kaplan et al.: parameters minus the token and position embeddings. */
  nonEmbeddingParams: number;
  /** Forward FLOPs per token (`TransformerLM.flopsPerToken`). */
  flopsPerToken: number;
  /** Training FLOPs: 3 × forward FLOPs per token × tokens (forward + backward). */
  trainFlops: number;
  /** Kaplan's compute estimate 6 · N · D with N non-embedding. */
  sixND: number;
  vocabSize: number;
  /** Seconds spent in training steps (all sessions). */
  trainSeconds: number;
  /** Seconds spent evaluating (all sessions). */
  evalSeconds: number;
  /** tokens / trainSeconds. */
  tokensPerSecond: number;
  backend: string;
  /** The backend's threads in the last session (earlier sessions may have used others). */
  threads: number;
  /** Steps from which the run was resumed (empty if it ran in one go). */
  resumedFrom: number[];
  dataChars: number;
  dataSha256: string;
}

/** What `trainLM` did. */
export interface TrainLMResult {
  /**
   * finished: trained to the end now; skipped: it had already finished; interrupted: stopped
   * with a checkpoint (Ctrl-C, `stopAfter`, `timeLimit`); abandoned: stopped without saving.
   */
  status: "finished" | "skipped" | "interrupted" | "abandoned";
  dir: string;
  hash: string;
  /** The step the run is at. */
  step: number;
  /** The summary when finished or skipped, else null. */
  summary: LMSummary | null;
}

/** What a checkpoint carries besides the training state (so `sample` needs nothing else). */
export interface LMCheckpointExtra {
  config: LMConfig;
  vocab: CharVocabJSON;
  dataRng: number[];
  dataSha256: string;
  trainSeconds: number;
  evalSeconds: number;
  lastBatchLoss: number;
  resumedFrom: number[];
  /** Backend and thread count of the process that wrote the checkpoint (absent before 0.x). */
  environment?: RunEnvironment;
}

/** Delete all but the `keep` newest `checkpoint-<step>.safetensors` of a run folder. */
function pruneCheckpoints(dir: string, keep: number): void {
  const fs = nodeModule("trainLM", "node:fs");
  const steps = fs
    .readdirSync(dir)
    .map((n) => /^checkpoint-(\d+)\.safetensors$/.exec(n))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  for (const s of steps.slice(keep)) fs.rmSync(`${dir}/checkpoint-${s}.safetensors`);
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Mean loss over fixed windows, in eval mode without gradients. It yields between batches so a
 * signal is seen during a long evaluation too (a second Ctrl-C then quits at once).
 */
async function evaluate(
  model: TransformerLM,
  data: Int32Array,
  offsets: number[][],
): Promise<number> {
  const T = model.config.blockSize;
  const wasTraining = model.training;
  model.eval();
  try {
    let total = 0;
    for (const batch of offsets) {
      const { x, y } = windowsAt(data, batch, T);
      total += noGrad(() => model.loss(x, y).item());
      await nextTurn();
    }
    return total / offsets.length;
  } finally {
    model.train(wasTraining);
  }
}

/**
 * Train (or resume, or skip) the run of `config` in `<root>/<experiment>/<config-hash>/`.
 *
 * @example
 * const { mkdtempSync, writeFileSync } = process.getBuiltinModule("node:fs");
 * const root = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * writeFileSync(root + "/abc.txt", "abcabcabcabc".repeat(50));
 * const config = { text: root + "/abc.txt", nLayer: 1, nHead: 1, nEmbd: 16, blockSize: 8, batchSize: 4, tokens: 4 * 8 * 30, warmupSteps: 3, lr: 1e-2, evalInterval: 0, evalBatches: 2, evalBatchSize: 4 };
 * const opts = { root, gitCwd: false, progress: false, log: () => {}, handleSignals: false };
 * const res = await tg.lm.trainLM(config, opts);
 * console.log(res.status, res.summary.finalValLoss < 0.5); // "finished" true
 * console.log((await tg.lm.trainLM(config, opts)).status); // "skipped"
 */
export async function trainLM(
  partial: Readonly<Record<string, unknown>>,
  opts: TrainLMOptions = {},
): Promise<TrainLMResult> {
  const config = resolveLMConfig(partial, "trainLM");
  const { root = "runs", experiment = "lm", checkpointInterval = 500, keepCheckpoints = 2 } = opts;
  if (!(Number.isInteger(checkpointInterval) && checkpointInterval >= 0)) {
    throw new TsgradError("trainLM", `checkpointInterval must be >= 0, got ${checkpointInterval}`);
  }
  if (!(Number.isInteger(keepCheckpoints) && keepCheckpoints >= 1)) {
    throw new TsgradError("trainLM", `keepCheckpoints must be >= 1, got ${keepCheckpoints}`);
  }
  const say = opts.log ?? ((m: string) => void process.stderr.write(`${m}\n`));
  const run = openRun({ experiment, config, root, gitCwd: opts.gitCwd });
  const done = (status: TrainLMResult["status"], step: number): TrainLMResult => ({
    status,
    dir: run.dir,
    hash: run.hash,
    step,
    summary:
      status === "finished" || status === "skipped"
        ? (run.summary() as unknown as LMSummary)
        : null,
  });
  const steps = stepsOf(config);
  if (run.finished) return done("skipped", steps);
  const release = await lockRun(run.dir, opts.lockWaitMs);
  let requested = false;
  const interrupt =
    opts.handleSignals === false
      ? null
      : new Interrupt((signal) => {
          requested = true;
          say(
            `${signal}: stopping after this step and saving a checkpoint (again to quit at once)`,
          );
        });
  try {
    // Another process may have finished it while we waited for the lock.
    if (run.finished) return done("skipped", steps);
    const corpus = loadCharCorpus(config.text, config.valFraction);
    for (const [split, data] of [
      ["training", corpus.train],
      ["validation", corpus.val],
    ] as const) {
      if (data.length < config.blockSize + 1) {
        throw new TsgradError(
          "trainLM",
          `the ${split} split has ${data.length} characters, fewer than blockSize + 1 = ${config.blockSize + 1}`,
        );
      }
    }
    const { status, step } = await trainLoop(config, corpus, run, opts, say, {
      steps,
      checkpointInterval,
      requested: () => requested,
    });
    // A finished run keeps only its final checkpoint (for sampling); a paused one the newest few.
    if (status === "finished") pruneCheckpoints(run.dir, 1);
    else if (status === "interrupted") pruneCheckpoints(run.dir, keepCheckpoints);
    return done(status, step);
  } finally {
    interrupt?.dispose();
    run.close();
    release();
  }
}

async function trainLoop(
  config: LMConfig,
  corpus: CharCorpus,
  run: ReturnType<typeof openRun>,
  opts: TrainLMOptions,
  say: (m: string) => void,
  loop: { steps: number; checkpointInterval: number; requested: () => boolean },
): Promise<{ status: TrainLMResult["status"]; step: number }> {
  const { steps, checkpointInterval } = loop;
  const B = config.batchSize;
  const T = config.blockSize;
  manualSeed(config.seed);
  const model = new TransformerLM(modelConfigOf(config, corpus.vocab.size));
  // nanoGPT's grouping: weight decay on matrices and embeddings, none on biases and LayerNorms.
  const params = model.parameters();
  const optimizer = new AdamW(
    [
      { params: params.filter((p) => p.ndim >= 2), weightDecay: config.weightDecay },
      { params: params.filter((p) => p.ndim < 2), weightDecay: 0 },
    ],
    { lr: config.lr, betas: [config.beta1, config.beta2] },
  );
  const scheduler = new CosineWithWarmup(optimizer, {
    warmupSteps: config.warmupSteps,
    totalSteps: steps,
    minFactor: config.minLrFactor,
  });
  // Offsets come from their own generator (seed + 2^32 gives a stream unrelated to any seed's),
  // so the data order does not depend on how much randomness dropout consumed.
  const dataRng = new Generator(config.seed + 2 ** 32);
  const evalSets = {
    val: evalOffsets(
      corpus.val.length,
      T,
      config.evalBatches,
      config.evalBatchSize,
      config.evalSeed,
    ),
    train: evalOffsets(
      corpus.train.length,
      T,
      config.evalBatches,
      config.evalBatchSize,
      config.evalSeed + 1,
    ),
  };

  let step = 0;
  let trainSeconds = 0;
  let evalSeconds = 0;
  let lastBatchLoss = NaN;
  let resumedFrom: number[] = [];
  const ck = latestCheckpoint(run.dir);
  if (ck !== null) {
    // Check the data before the weights: a changed text usually changes the vocabulary too, and
    // that should be reported as what it is, not as mismatched embedding shapes.
    const saved = (loadCheckpoint(ck.path).extra ?? {}) as Partial<LMCheckpointExtra>;
    if (saved.dataSha256 !== corpus.sha256) {
      throw new TsgradError(
        ck.path,
        `was trained on text with SHA-256 ${saved.dataSha256}, but ${config.text || "Tiny Shakespeare"} now has ${corpus.sha256}; the text changed since the run started`,
      );
    }
    const pos = loadTrainingState(ck.path, { model, optimizer, scheduler });
    const extra = pos.extra as unknown as LMCheckpointExtra;
    dataRng.setState(extra.dataRng);
    step = pos.step;
    trainSeconds = extra.trainSeconds;
    evalSeconds = extra.evalSeconds;
    lastBatchLoss = extra.lastBatchLoss;
    resumedFrom = [...extra.resumedFrom, step];
    // Records logged after the checkpoint will be logged again (identically) from here on; so
    // will the final record, if the run was killed between its final checkpoint and its summary.
    run.truncateMetrics(step, (r) => r.final !== true);
    const changed = environmentChange(extra.environment, ck.path);
    if (changed !== null) say(changed);
    say(`resuming ${run.dir} from step ${step} of ${steps}`);
  } else {
    // Killed before its first checkpoint, the run starts over: its old lines would repeat steps.
    run.truncateMetrics(null);
    say(`training ${run.dir}: ${steps} steps, ${config.tokens} tokens`);
  }

  const save = (at: number) => {
    const extra: LMCheckpointExtra = {
      config,
      vocab: corpus.vocab.toJSON(),
      dataRng: dataRng.getState(),
      dataSha256: corpus.sha256,
      trainSeconds,
      evalSeconds,
      lastBatchLoss,
      resumedFrom,
      environment: runEnvironment(),
    };
    saveTrainingState(
      run.checkpointPath(at),
      { model, optimizer, scheduler },
      { epoch: 0, batch: at, step: at },
      extra as unknown as Record<string, unknown>,
    );
  };
  const evalBoth = async () => {
    const t = performance.now();
    const val = await evaluate(model, corpus.val, evalSets.val);
    const train = await evaluate(model, corpus.train, evalSets.train);
    evalSeconds += (performance.now() - t) / 1000;
    return { val, train };
  };

  if (step === 0 && config.evalInterval > 0) {
    const e = await evalBoth();
    run.log({ step: 0, tokens: 0, valLoss: e.val, trainLoss: e.train });
  }
  const bar =
    opts.progress === false
      ? null
      : new ProgressBar({
          total: steps,
          label: sizeLabel(config),
          unit: "tok",
          itemsPerStep: B * T,
          initial: step,
          stream: opts.progress,
        });
  const sessionStart = performance.now();
  const sessionFirst = step;
  let lastVal: number | undefined;
  model.train();
  while (step < steps) {
    const t = performance.now();
    const { x, y } = randomBatch(corpus.train, B, T, dataRng);
    const loss = model.loss(x, y);
    optimizer.zeroGrad();
    loss.backward();
    const gradNorm = config.gradClip > 0 ? clipGradNorm(params, config.gradClip) : undefined;
    const lr = scheduler.getLastLr()[0]!;
    optimizer.step();
    scheduler.step();
    step++;
    lastBatchLoss = loss.item();
    trainSeconds += (performance.now() - t) / 1000;
    if (!Number.isFinite(lastBatchLoss)) {
      throw new TsgradError(
        "trainLM",
        `the training loss became ${lastBatchLoss} at step ${step} (lr ${lr}); lower lr or raise warmupSteps`,
      );
    }
    if (step % config.logInterval === 0 || step === steps) {
      run.log({ step, tokens: step * B * T, loss: lastBatchLoss, lr, gradNorm });
    }
    if (config.evalInterval > 0 && step % config.evalInterval === 0 && step < steps) {
      const e = await evalBoth();
      lastVal = e.val;
      run.log({ step, tokens: step * B * T, valLoss: e.val, trainLoss: e.train });
    }
    bar?.update(
      step,
      lastVal === undefined ? { loss: lastBatchLoss } : { loss: lastBatchLoss, val: lastVal },
    );
    if (checkpointInterval > 0 && step % checkpointInterval === 0 && step < steps) {
      save(step);
      pruneCheckpoints(run.dir, opts.keepCheckpoints ?? 2);
    }
    // Let signal handlers run (the step itself is synchronous).
    await nextTurn();
    if (opts.abandonIf?.()) {
      bar?.finish();
      say(`abandoning ${run.dir} at step ${step} without saving`);
      return { status: "abandoned", step };
    }
    const timeUp =
      opts.timeLimit !== undefined && (performance.now() - sessionStart) / 1000 >= opts.timeLimit;
    const enough = opts.stopAfter !== undefined && step - sessionFirst >= opts.stopAfter;
    if ((loop.requested() || opts.stopIf?.() === true || timeUp || enough) && step < steps) {
      save(step);
      bar?.finish();
      say(`stopped at step ${step} of ${steps}; checkpoint saved, run the same command to resume`);
      return { status: "interrupted", step };
    }
  }
  bar?.finish();

  const final = await evalBoth();
  run.log({ step, tokens: step * B * T, valLoss: final.val, trainLoss: final.train, final: true });
  save(step);
  const { total, nonEmbedding } = model.parameterCount();
  const flopsPerToken = model.flopsPerToken();
  const summary: LMSummary = {
    finalValLoss: final.val,
    finalTrainLoss: final.train,
    lastBatchLoss,
    steps,
    tokens: config.tokens,
    size: sizeLabel(config),
    params: total,
    nonEmbeddingParams: nonEmbedding,
    flopsPerToken,
    trainFlops: 3 * flopsPerToken * config.tokens,
    sixND: 6 * nonEmbedding * config.tokens,
    vocabSize: corpus.vocab.size,
    trainSeconds,
    evalSeconds,
    tokensPerSecond: trainSeconds > 0 ? config.tokens / trainSeconds : 0,
    backend: getBackend().name,
    threads: runEnvironment().threads,
    resumedFrom,
    dataChars: corpus.chars,
    dataSha256: corpus.sha256,
  };
  run.finish(summary as unknown as Record<string, unknown>);
  say(
    `finished ${run.dir}: val loss ${final.val.toFixed(4)}, train loss ${final.train.toFixed(4)}, ${Math.round(summary.tokensPerSecond)} tok/s`,
  );
  return { status: "finished", step };
}
