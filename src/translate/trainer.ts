/**
 * Training loop for translation models: teacher forcing with cross-entropy (padding ignored,
 * optional label smoothing), Adam or SGD, gradient-norm clipping, learning-rate decay on plateau
 * or on a schedule, per-epoch validation loss / perplexity / BLEU, keeping the best checkpoint by
 * validation BLEU, early stopping, a time budget, and exact resume: a run folder holds the
 * config, metrics, checkpoints (with both vocabularies inside), a report, and the summary.
 *
 * Resume is exact because everything random is restored or re-derived: weights, optimizer and
 * scheduler state and the default generator (dropout) come from the checkpoint, and the batch
 * order of an epoch is a function of (seed, epoch).
 */
import { crossEntropy } from "../nn/functional.js";
import { writeFileAtomic } from "../io/atomic.js";
import { loadCheckpoint } from "../io/checkpoint.js";
import { errorMessage, nodeModule } from "../io/node.js";
import { type Run, environmentChange, openRun, runEnvironment } from "../io/runs.js";
import { Adam } from "../optim/adam.js";
import { clipGradNorm } from "../optim/clip.js";
import { LambdaLR } from "../optim/lr-scheduler.js";
import type { Optimizer } from "../optim/optimizer.js";
import { ReduceLROnPlateau } from "../optim/plateau.js";
import { SGD } from "../optim/sgd.js";
import { ProgressBar, type ProgressStream } from "../report/progress.js";
import { getBackend } from "../backends/backend.js";
import { manualSeed } from "../tensor/random.js";
import { TsgradError } from "../tensor/errors.js";
import { checkFingerprint } from "../text/hash.js";
import { Interrupt } from "../train/interrupt.js";
import { type Position, loadTrainingState, saveTrainingState } from "../train/state.js";
import { type Split, type TranslateConfig, resolveConfig } from "./config.js";
import { estimateCost } from "./cost.js";
import { type TranslationData, loadSplit, prepareData } from "./data.js";
import { evaluateCorpusSteps, validationLossSteps } from "./evaluate.js";
import { type EpochRecord, type FinalRecord, saveTranslationReport } from "./report.js";
import { runStepsAsync } from "./steps.js";
import {
  type TranslationModel,
  Translator,
  buildModel,
  readTranslationMeta,
  translationMeta,
} from "./translator.js";

/** How a training run is carried out (none of this changes the trained model). */
export interface TrainOptions {
  /** Folder holding all runs; default "runs". */
  out?: string;
  /** Experiment name (path segments); default `translate/<src>-<tgt>/<model>`. */
  experiment?: string;
  /** Folder with the Multi30k files (default: found by `tg.text.resolveDataDir`). */
  dataDir?: string;
  /** Retrain a finished run from scratch (its folder is emptied first). Default false. */
  force?: boolean;
  /**
   * Continue an unfinished run from its latest checkpoint (default true); false starts it over
   * from an empty folder.
   */
  resume?: boolean;
  /** Epoch summaries and notices. Default `console.log`. */
  log?: (line: string) => void;
  /** Data and truncation warnings. Default `console.warn`. */
  warn?: (message: string) => void;
  /** Where the progress bar goes (`false`: no bar). Default `process.stderr`. */
  progress?: ProgressStream | false;
  /**
   * Set `requested` to stop after the current step with a checkpoint. Default: a
   * `tg.train.Interrupt` listening for Ctrl-C (SIGINT) and SIGTERM.
   */
  interrupt?: { requested: boolean };
  /** Also checkpoint inside an epoch every this many minutes (0: only at epoch ends). Default 10. */
  checkpointMinutes?: number;
  /** Log a step record to metrics.jsonl every this many steps (0: none). Default 50. */
  logEvery?: number;
  /** Where to ask git for the revision recorded in the run folder (false: skip). */
  gitCwd?: string | false;
  /** Called after every optimizer step (tests use it to interrupt at a given step). */
  onStep?: (info: { epoch: number; batch: number; step: number; loss: number }) => void;
}

/** What a training call ended with. */
export interface TrainResult {
  /** "finished" (summary written), "interrupted" (checkpoint saved), "skipped" (already done). */
  status: "finished" | "interrupted" | "skipped";
  runDir: string;
  /** The run's summary once finished. */
  summary: Record<string, unknown> | null;
  /** The checkpoint to resume from, when interrupted. */
  checkpoint: string | null;
}

/** Trainer counters saved in every checkpoint (`extra.trainer`). */
interface TrainerState {
  bestBleu: number;
  bestEpoch: number;
  epochsSinceBest: number;
  /** Seconds of training and validation so far, across resumes. */
  elapsedSeconds: number;
  /** Current epoch's sums (for its mean loss and throughput). */
  epochLossSum: number;
  epochTokens: number;
  epochSeconds: number;
  /** Seconds the last validation took (to stop early enough for one more within the budget). */
  lastEvalSeconds: number;
  totalTokens: number;
  totalTrainSeconds: number;
  /** Why training ended, once it has; the run then only needs its final evaluation. */
  stopReason: string | null;
  /** The current epoch's training is done and its validation is due. */
  pendingEval: boolean;
  /** That epoch stopped early (time budget or step limit). */
  partialEpoch: boolean;
}

const BEST = "best.safetensors";

function freshState(): TrainerState {
  return {
    bestBleu: -1,
    bestEpoch: 0,
    epochsSinceBest: 0,
    elapsedSeconds: 0,
    epochLossSum: 0,
    epochTokens: 0,
    epochSeconds: 0,
    lastEvalSeconds: 0,
    totalTokens: 0,
    totalTrainSeconds: 0,
    stopReason: null,
    pendingEval: false,
    partialEpoch: false,
  };
}

/** Let signal handlers run: a synchronous loop would never see Ctrl-C. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function makeOptimizer(config: TranslateConfig, model: TranslationModel): Optimizer {
  const params = model.parameters();
  return config.optimizer === "sgd"
    ? new SGD(params, { lr: config.lr, momentum: config.momentum })
    : new Adam(params, { lr: config.lr });
}

/** The lr schedule; `step()` is called once per finished epoch (with the BLEU for "plateau"). */
function makeScheduler(
  config: TranslateConfig,
  optimizer: Optimizer,
): ReduceLROnPlateau | LambdaLR | undefined {
  if (config.lrDecay === "plateau") {
    return new ReduceLROnPlateau(optimizer, {
      mode: "max",
      factor: config.decayFactor,
      patience: config.decayPatience,
    });
  }
  if (config.lrDecay === "step") {
    // During epoch n (1-based) LambdaLR's lastEpoch is n - 1: lr = base · f^max(0, n - start + 1).
    const { decayFactor: f, decayStart: start } = config;
    return new LambdaLR(optimizer, (e) => f ** Math.max(0, e + 2 - start));
  }
  return undefined;
}

/**
 * Drop metrics logged after the checkpoint being resumed from (they will be logged again), so
 * that a resumed run's metrics equal an uninterrupted run's.
 */
function trimMetrics(run: Run, pos: Position): void {
  run.truncateMetrics(pos.step, (r) => r.kind !== "final");
}

function removeOldCheckpoints(run: Run, keep: string | null): void {
  const fs = nodeModule("trainTranslation", "node:fs");
  for (const name of fs.readdirSync(run.dir)) {
    const path = `${run.dir}/${name}`;
    if (/^checkpoint-\d+\.safetensors$/.test(name) && path !== keep) fs.rmSync(path);
  }
}

/**
 * Train a translation model as `config` says, in the run folder
 * `<out>/<experiment>/<config hash>/`, resuming from its latest checkpoint when there is one.
 * A finished run is skipped (its summary is returned) unless `force` is set.
 *
 * @example
 * const { mkdtempSync } = process.getBuiltinModule("node:fs");
 * const out = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * const config = { ...tg.translate.QUICK_CONFIG, trainLimit: 16, validLimit: 4, embed: 8, hidden: 8, epochs: 1, finalEval: [] };
 * const r = await tg.translate.trainTranslation(config, { out, progress: false, log: () => {}, gitCwd: false });
 * console.log(r.status, r.summary!.epochs); // "finished" 1
 */
export async function trainTranslation(
  partial: Readonly<Partial<TranslateConfig>>,
  opts: TrainOptions = {},
): Promise<TrainResult> {
  const config = resolveConfig(partial);
  const log = opts.log ?? ((l: string) => console.log(l));
  const warn = opts.warn ?? ((m: string) => console.warn(m));
  const fs = nodeModule("trainTranslation", "node:fs");
  const openOpts = {
    root: opts.out ?? "runs",
    experiment: opts.experiment ?? `translate/${config.src}-${config.tgt}/${config.model}`,
    config,
    gitCwd: opts.gitCwd,
  };
  let run = openRun(openOpts);
  if (run.finished && !opts.force) {
    log(`run ${run.dir} is already finished (use --force to train it again)`);
    return { status: "skipped", runDir: run.dir, summary: run.summary(), checkpoint: null };
  }
  // Retraining, or starting over instead of resuming, begins from an empty folder: stale
  // metrics or a stale best checkpoint would otherwise mix into the new run's.
  if ((opts.force || opts.resume === false) && fs.existsSync(run.dir)) {
    fs.rmSync(run.dir, { recursive: true, force: true });
    run = openRun(openOpts);
  }

  const data = prepareData(config, { dataDir: opts.dataDir, warn });
  const { tokenizers } = data;
  const meta = translationMeta(config, tokenizers);
  writeFileAtomic(
    `${run.dir}/vocab.json`,
    JSON.stringify({ src: meta.tokenizers.src, tgt: meta.tokenizers.tgt }) + "\n",
  );
  manualSeed(config.seed);
  const model = buildModel(config, tokenizers.src.size, tokenizers.tgt.size);
  const optimizer = makeOptimizer(config, model);
  const scheduler = makeScheduler(config, optimizer);
  let pos: Position = { epoch: 0, batch: 0, step: 0 };
  let st = freshState();
  const latest = run.latestCheckpoint();
  if (latest !== null) {
    // Check the vocabularies before touching the model: a mismatch means the data or the
    // tokeniser code changed, and the stored ids would silently mean other words.
    const stored = readTranslationMeta(loadCheckpoint(latest.path).extra, latest.path);
    const why = `of this run's data, refitted for resuming from ${latest.path} (did the data change?)`;
    checkFingerprint(stored.meta.fingerprints.src, tokenizers.src, `source vocabulary ${why}`);
    checkFingerprint(stored.meta.fingerprints.tgt, tokenizers.tgt, `target vocabulary ${why}`);
    const back = loadTrainingState(latest.path, { model, optimizer, scheduler });
    pos = { epoch: back.epoch, batch: back.batch, step: back.step };
    st = { ...freshState(), ...(back.extra.trainer as Partial<TrainerState>) };
    trimMetrics(run, pos);
    const changed = environmentChange(back.extra.environment, latest.path);
    if (changed !== null) warn(changed);
    log(`resuming ${run.dir} at epoch ${pos.epoch + 1}, batch ${pos.batch}, step ${pos.step}`);
  } else {
    // No checkpoint: the run starts from scratch (e.g. killed before its first checkpoint), and
    // the lines its earlier attempt logged would otherwise repeat its first steps.
    run.truncateMetrics(null);
    log(`run folder ${run.dir}`);
  }

  const srcLen = mean(data, "src");
  const tgtLen = mean(data, "tgt");
  const cost = estimateCost(config, {
    srcVocab: tokenizers.src.size,
    tgtVocab: tokenizers.tgt.size,
    srcLen,
    tgtLen,
  });
  log(
    `${config.model}: ${model.numParameters().toLocaleString("en-US")} parameters, vocabularies ${tokenizers.src.size} / ${tokenizers.tgt.size}` +
      `${config.jointVocab ? " (joint)" : ""}, ${data.train.src.length} training pairs (${data.trainBatcher.numBatches} batches), ` +
      `${(cost.trainPerTargetToken / 1e6).toFixed(1)} MFLOP per target token, backend ${getBackend().name}`,
  );

  const ownInterrupt = opts.interrupt === undefined;
  const interrupt =
    opts.interrupt ??
    new Interrupt(() => log("interrupt: finishing this step, then saving a checkpoint"));
  const ctx: Ctx = { config, data, model, optimizer, scheduler, run, meta, log, warn, opts };
  try {
    const stop = await trainLoop(ctx, pos, st, interrupt);
    const summary =
      stop.interrupted === null
        ? await finish(ctx, stop.pos, st, cost.trainPerTargetToken, interrupt)
        : null;
    if (summary !== null) return { status: "finished", runDir: run.dir, summary, checkpoint: null };
    const checkpoint = stop.interrupted ?? run.latestCheckpoint()?.path ?? null;
    log(`interrupted: saved ${checkpoint}; run the same command again to resume`);
    saveTranslationReport(run.dir, title(config), run.metrics(), { status: "interrupted" });
    return { status: "interrupted", runDir: run.dir, summary: null, checkpoint };
  } finally {
    run.close();
    if (ownInterrupt) (interrupt as Interrupt).dispose();
  }
}

interface Ctx {
  config: TranslateConfig;
  data: TranslationData;
  model: TranslationModel;
  optimizer: Optimizer;
  scheduler: ReduceLROnPlateau | LambdaLR | undefined;
  run: Run;
  meta: ReturnType<typeof translationMeta>;
  log: (line: string) => void;
  warn: (message: string) => void;
  opts: TrainOptions;
}

const title = (c: TranslateConfig) =>
  `${c.model} ${c.src}→${c.tgt} (${c.tokenizer}${c.tokenizer === "bpe" ? ` ${c.bpeMerges}` : ""}, ` +
  `E${c.embed} H${c.hidden} L${c.layers}${c.reverseSource ? ", reversed source" : ""}` +
  `${c.contextFeed ? ", context feed" : ""})`;

/** Mean tokens per sentence of one side, `<eos>` included (the decoder's steps on the target). */
function mean(data: TranslationData, side: "src" | "tgt"): number {
  let total = 0;
  let n = 0;
  for (const idx of data.plan(0)) {
    const b = data.trainBatcher.collate(idx);
    total += side === "src" ? b.srcLengths.reduce((a, x) => a + x, 0) : b.tgtTokens;
    n += idx.length;
  }
  return total / n;
}

function save(ctx: Ctx, pos: Position, st: TrainerState): string {
  const { run, model, optimizer, scheduler, meta } = ctx;
  const path = run.checkpointPath(pos.step);
  saveTrainingState(path, { model, optimizer, scheduler }, pos, {
    translate: meta,
    trainer: st,
    environment: runEnvironment(),
  });
  removeOldCheckpoints(run, path);
  return path;
}

interface LoopResult {
  /** Null when training ran to its end; else the checkpoint saved on the interrupt. */
  interrupted: string | null;
  pos: Position;
}

async function trainLoop(
  ctx: Ctx,
  start: Position,
  st: TrainerState,
  interrupt: { requested: boolean },
): Promise<LoopResult> {
  const { config, data, model, optimizer, run, opts } = ctx;
  const params = model.parameters();
  const budget = config.maxMinutes * 60;
  const logEvery = opts.logEvery ?? 50;
  const checkpointSeconds = (opts.checkpointMinutes ?? 10) * 60;
  let lastSave = performance.now();
  let { epoch, batch, step } = start;
  for (; epoch < config.epochs; epoch++, batch = 0) {
    if (!st.pendingEval) {
      if (st.stopReason !== null) break;
      const plan = data.plan(epoch);
      const bar =
        opts.progress === false
          ? null
          : new ProgressBar({
              total: plan.length,
              initial: batch,
              label: `epoch ${epoch + 1}/${config.epochs}`,
              unit: "tok",
              stream: opts.progress,
            });
      let barTokens = 0;
      for (; batch < plan.length && st.stopReason === null;) {
        const t0 = performance.now();
        const b = data.trainBatcher.collate(plan[batch]!);
        model.train();
        // Logits for the real target tokens only: padding would cost output-layer work.
        const logits = model.forward(b.src, b.srcLengths, b.tgtIn, b.targetRows);
        const loss = crossEntropy(logits, b.targets, { labelSmoothing: config.labelSmoothing });
        optimizer.zeroGrad();
        loss.backward();
        const gradNorm = config.clip > 0 ? clipGradNorm(params, config.clip) : null;
        optimizer.step();
        step++;
        batch++;
        const value = loss.item();
        if (!Number.isFinite(value)) {
          throw new TsgradError(
            "trainTranslation",
            `loss is ${value} at epoch ${epoch + 1}, step ${step} (lr ${config.lr}); lower the lr or enable clipping`,
          );
        }
        const seconds = (performance.now() - t0) / 1000;
        st.epochLossSum += value * b.tgtTokens;
        st.epochTokens += b.tgtTokens;
        st.epochSeconds += seconds;
        st.totalTokens += b.tgtTokens;
        st.totalTrainSeconds += seconds;
        st.elapsedSeconds += seconds;
        barTokens += b.tgtTokens;
        const lr = optimizer.paramGroups[0]!.lr;
        bar?.update(batch, { loss: value, ppl: Math.exp(value), lr }, barTokens);
        if (logEvery > 0 && step % logEvery === 0) {
          const tokensPerSecond = b.tgtTokens / seconds;
          run.log({
            kind: "step",
            epoch: epoch + 1,
            step,
            loss: value,
            gradNorm,
            lr,
            tokensPerSecond,
          });
        }
        opts.onStep?.({ epoch, batch: batch - 1, step, loss: value });
        if (config.maxSteps > 0 && step >= config.maxSteps) {
          st.stopReason = `reached ${config.maxSteps} steps`;
        } else if (budget > 0 && st.elapsedSeconds + st.lastEvalSeconds >= budget) {
          st.stopReason = `time budget of ${config.maxMinutes} minutes`;
        }
        if (st.stopReason !== null) {
          // Recorded before any checkpoint can be written, so a resume validates this epoch.
          st.pendingEval = true;
          st.partialEpoch = batch < plan.length;
        }
        await yieldToEventLoop();
        if (interrupt.requested) {
          bar?.finish();
          return {
            interrupted: save(ctx, { epoch, batch, step }, st),
            pos: { epoch, batch, step },
          };
        }
        const due = (performance.now() - lastSave) / 1000 >= checkpointSeconds;
        if (st.stopReason === null && checkpointSeconds > 0 && due) {
          save(ctx, { epoch, batch, step }, st);
          lastSave = performance.now();
        }
      }
      bar?.finish();
      st.pendingEval = true;
      st.partialEpoch = batch < plan.length;
    }
    const here: Position = { epoch, batch, step };
    if (!(await endOfEpoch(ctx, here, st, interrupt))) {
      // Interrupted during validation: resuming validates this epoch again.
      return { interrupted: save(ctx, here, st), pos: here };
    }
    if (st.stopReason === null && config.patience > 0 && st.epochsSinceBest >= config.patience) {
      st.stopReason = `no better validation BLEU for ${config.patience} epochs`;
    }
    if (st.stopReason === null && epoch + 1 >= config.epochs) {
      st.stopReason = `${config.epochs} epochs`;
    }
    // The next epoch starts at batch 0; a partial epoch (a limit hit) stays where it stopped.
    const next = st.partialEpoch ? here : { epoch: epoch + 1, batch: 0, step };
    save(ctx, next, st);
    lastSave = performance.now();
    if (st.stopReason !== null) return { interrupted: null, pos: next };
  }
  st.stopReason ??= `${config.epochs} epochs`;
  return { interrupted: null, pos: { epoch, batch, step } };
}

/**
 * Validate (loss, perplexity, BLEU), log the epoch, keep the best checkpoint and step the lr
 * schedule. Returns false, changing nothing, when interrupted.
 */
async function endOfEpoch(
  ctx: Ctx,
  pos: Position,
  st: TrainerState,
  interrupt: { requested: boolean },
): Promise<boolean> {
  const { config, data, model, scheduler, run, log, warn, meta } = ctx;
  const t0 = performance.now();
  const val = await runStepsAsync(validationLossSteps(model, data.validBatcher), interrupt);
  if (val === null) return false;
  const translator = new Translator(model, data.tokenizers, config);
  const steps = evaluateCorpusSteps(translator, data.valid, { beam: config.beam, warn });
  const ev = await runStepsAsync(steps, interrupt);
  if (ev === null) return false;
  const evalSeconds = (performance.now() - t0) / 1000;
  st.lastEvalSeconds = evalSeconds;
  st.elapsedSeconds += evalSeconds;
  const trainLoss = st.epochLossSum / Math.max(1, st.epochTokens);
  const epoch = pos.epoch + 1;
  const record: EpochRecord = {
    kind: "epoch",
    epoch,
    partial: st.partialEpoch,
    step: pos.step,
    trainLoss,
    trainPerplexity: Math.exp(trainLoss),
    valLoss: val.loss,
    valPerplexity: val.perplexity,
    valBleu: ev.bleu.score,
    valChrf: ev.chrf.score,
    lr: ctx.optimizer.paramGroups[0]!.lr,
    tokensPerSecond: st.epochTokens / Math.max(1e-9, st.epochSeconds),
    trainSeconds: st.epochSeconds,
    evalSeconds,
    elapsedSeconds: st.elapsedSeconds,
  };
  run.log({ ...record });
  const better = ev.bleu.score > st.bestBleu;
  if (better) {
    st.bestBleu = ev.bleu.score;
    st.bestEpoch = epoch;
    st.epochsSinceBest = 0;
    saveTrainingState(`${run.dir}/${BEST}`, { model }, pos, {
      translate: meta,
      best: { epoch, step: pos.step, valBleu: ev.bleu.score },
    });
  } else st.epochsSinceBest++;
  const decoding = config.beam === 1 ? "greedy" : `beam ${config.beam}`;
  log(
    `epoch ${epoch}${st.partialEpoch ? " (partial)" : ""}: train loss ${trainLoss.toFixed(3)} | ` +
      `val loss ${val.loss.toFixed(3)} ppl ${val.perplexity.toFixed(2)} | ` +
      `val BLEU ${ev.bleu.score.toFixed(2)} chrF ${ev.chrf.score.toFixed(2)} (${decoding})` +
      ` | ${Math.round(record.tokensPerSecond)} tok/s | ${(st.elapsedSeconds / 60).toFixed(1)} min${better ? " | best" : ""}`,
  );
  if (scheduler instanceof ReduceLROnPlateau) scheduler.step(ev.bleu.score);
  else scheduler?.step();
  st.epochLossSum = 0;
  st.epochTokens = 0;
  st.epochSeconds = 0;
  st.pendingEval = false;
  return true;
}

/**
 * Score the best checkpoint on the final splits, write the report, and finish the run. Returns
 * null when interrupted (the run's last checkpoint then resumes straight into this step).
 */
async function finish(
  ctx: Ctx,
  pos: Position,
  st: TrainerState,
  flopsPerToken: number,
  interrupt: { requested: boolean },
): Promise<Record<string, unknown> | null> {
  const { config, data, run, log, warn } = ctx;
  const fs = nodeModule("trainTranslation", "node:fs");
  const bestPath = `${run.dir}/${BEST}`;
  if (!fs.existsSync(bestPath)) {
    throw new TsgradError("trainTranslation", `no ${BEST} in ${run.dir}`);
  }
  const best = Translator.load(bestPath);
  const finals: Record<string, unknown> = {};
  const records: FinalRecord[] = [];
  for (const split of config.finalEval) {
    const corpus = corpusOf(split, ctx);
    const steps = evaluateCorpusSteps(best, corpus, { beam: config.testBeam, warn });
    const ev = await runStepsAsync(steps, interrupt);
    if (ev === null) return null;
    const file = `translations.${split === "test" ? "test_2016_flickr" : split}.${config.tgt}`;
    writeFileAtomic(`${run.dir}/${file}`, ev.hypotheses.join("\n") + "\n");
    records.push({
      kind: "final",
      split,
      beam: config.testBeam,
      bleu: ev.bleu.score,
      chrf: ev.chrf.score,
      bleuText: ev.bleu.text,
      bleuSignature: ev.bleu.signature,
      chrfSignature: ev.chrf.signature,
      sentences: corpus.src.length,
      file,
    });
    finals[split] = {
      bleu: ev.bleu.score,
      chrf: ev.chrf.score,
      bleuText: ev.bleu.text,
      signature: ev.bleu.signature,
    };
    log(
      `${split} (best epoch ${st.bestEpoch}, beam ${config.testBeam}): ${ev.bleu.text}, ${ev.chrf.text}`,
    );
  }
  for (const r of records) run.log({ ...r });
  const summary: Record<string, unknown> = {
    status: "finished",
    stopReason: st.stopReason,
    epochs: pos.epoch + (pos.batch > 0 ? 1 : 0),
    steps: pos.step,
    bestEpoch: st.bestEpoch,
    bestValBleu: st.bestBleu,
    ...Object.fromEntries(records.map((r) => [`${r.split}Bleu`, r.bleu])),
    final: finals,
    parameters: ctx.model.numParameters(),
    srcVocab: data.tokenizers.src.size,
    tgtVocab: data.tokenizers.tgt.size,
    trainPairs: data.train.src.length,
    trainFlopsPerTargetToken: flopsPerToken,
    tokensPerSecond: st.totalTokens / Math.max(1e-9, st.totalTrainSeconds),
    elapsedMinutes: st.elapsedSeconds / 60,
    backend: getBackend().name,
    threads: runEnvironment().threads,
  };
  // The summary is the run's result: a report that cannot be drawn must not lose it.
  try {
    saveTranslationReport(run.dir, title(config), run.metrics(), summary);
  } catch (e) {
    ctx.warn(`warning: the report of ${run.dir} could not be written (${errorMessage(e)})`);
  }
  run.finish(summary);
  removeOldCheckpoints(run, null);
  log(`finished: ${run.dir} (report.html, best.safetensors)`);
  return summary;
}

/** The pairs a final evaluation scores: the training pairs as trained on, other splits whole. */
function corpusOf(split: Split, ctx: Ctx) {
  const { config, data } = ctx;
  if (split === "train") return data.train;
  if (split === config.validSplit && config.validLimit === 0) return data.valid;
  return loadSplit(config, split, { dataDir: ctx.opts.dataDir, warn: ctx.warn });
}
