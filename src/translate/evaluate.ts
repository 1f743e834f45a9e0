/**
 * Measuring a translation model: teacher-forced validation loss and perplexity over a batcher,
 * and corpus BLEU / chrF of detokenised output against the raw references (sacreBLEU's defaults:
 * 13a tokenisation, mixed case, exp smoothing).
 */
import { crossEntropy } from "../nn/functional.js";
import { noGrad } from "../tensor/autograd.js";
import { TsgradError } from "../tensor/errors.js";
import type { Seq2SeqBatcher } from "../text/batching.js";
import { type BleuScore, corpusBleu } from "../text/bleu.js";
import { type ChrfScore, corpusChrf } from "../text/chrf.js";
import type { ParallelCorpus } from "../text/corpus.js";
import { type Steps, runSteps } from "./steps.js";
import type { TranslationModel, Translator, TranslateOptions } from "./translator.js";

/** Teacher-forced loss of a model over every batch of a batcher. */
export interface LossResult {
  /** Mean cross-entropy per target token (nats), `<eos>` included, padding excluded. */
  loss: number;
  /** exp(loss). */
  perplexity: number;
  /** Target tokens scored. */
  tokens: number;
}

/**
 * Mean per-token cross-entropy (no label smoothing) and perplexity of `model` on the batches of
 * epoch 0 of `batcher`, in evaluation mode (no dropout) and without recording gradients.
 *
 * @example
 * tg.manualSeed(0);
 * const c = tg.translate.resolveConfig({ ...tg.translate.QUICK_CONFIG, trainLimit: 8, validLimit: 4, embed: 8, hidden: 8 });
 * const d = tg.translate.prepareData(c);
 * const m = tg.translate.buildModel(c, d.tokenizers.src.size, d.tokenizers.tgt.size);
 * const r = tg.translate.validationLoss(m, d.validBatcher);
 * // An untrained model is close to uniform: perplexity near the vocabulary size.
 * console.log(Math.abs(Math.log(r.perplexity) - Math.log(d.tokenizers.tgt.size)) < 0.1); // true
 */
export function validationLoss(model: TranslationModel, batcher: Seq2SeqBatcher): LossResult {
  return runSteps(validationLossSteps(model, batcher));
}

/** {@link validationLoss} as a computation that pauses after each batch. */
export function* validationLossSteps(
  model: TranslationModel,
  batcher: Seq2SeqBatcher,
): Steps<LossResult> {
  const wasTraining = model.training;
  model.eval();
  let sum = 0;
  let tokens = 0;
  try {
    for (const b of batcher.batches(0)) {
      sum += noGrad(() => {
        const logits = model.forward(b.src, b.srcLengths, b.tgtIn, b.targetRows);
        return crossEntropy(logits, b.targets, { reduction: "sum" }).item();
      });
      tokens += b.tgtTokens;
      yield;
    }
  } finally {
    model.train(wasTraining);
  }
  if (tokens === 0) throw new TsgradError("validationLoss", "the batcher has no target tokens");
  const loss = sum / tokens;
  return { loss, perplexity: Math.exp(loss), tokens };
}

/** BLEU and chrF of a set of translations. */
export interface TranslationScores {
  bleu: BleuScore;
  chrf: ChrfScore;
}

/**
 * Corpus BLEU and chrF (sacreBLEU-compatible, case-sensitive) of detokenised hypotheses against
 * one reference each.
 *
 * @example
 * const s = tg.translate.scoreTranslations(["Un chien court."], ["Un chien court."]);
 * console.log(s.bleu.score, s.chrf.score); // 100 100
 */
export function scoreTranslations(
  hypotheses: readonly string[],
  references: readonly string[],
): TranslationScores {
  if (hypotheses.length !== references.length) {
    throw new TsgradError(
      "scoreTranslations",
      `${hypotheses.length} translations for ${references.length} references`,
    );
  }
  return { bleu: corpusBleu(hypotheses, [references]), chrf: corpusChrf(hypotheses, [references]) };
}

/** Translations of a corpus with their scores. */
export interface CorpusEvaluation extends TranslationScores {
  hypotheses: string[];
  /** Wall-clock seconds spent translating. */
  seconds: number;
}

/**
 * Translate the source side of a corpus and score it against the target side.
 *
 * @example
 * tg.manualSeed(0);
 * const c = tg.translate.resolveConfig({ ...tg.translate.QUICK_CONFIG, embed: 8, hidden: 8 });
 * const tokenizers = tg.translate.fitTokenizers(c, { src: ["a dog"], tgt: ["un chien"] });
 * const m = tg.translate.buildModel(c, tokenizers.src.size, tokenizers.tgt.size);
 * const t = new tg.translate.Translator(m, tokenizers, c);
 * const r = tg.translate.evaluateCorpus(t, { src: ["a dog"], tgt: ["un chien"] }, { maxOutputTokens: 2 });
 * console.log(r.hypotheses.length, r.bleu.signature.startsWith("nrefs:1|case:mixed")); // 1 true
 */
export function evaluateCorpus(
  translator: Translator,
  corpus: Pick<ParallelCorpus, "src" | "tgt">,
  opts: TranslateOptions = {},
): CorpusEvaluation {
  return runSteps(evaluateCorpusSteps(translator, corpus, opts));
}

/** {@link evaluateCorpus} as a computation that pauses after each decoded batch. */
export function* evaluateCorpusSteps(
  translator: Translator,
  corpus: Pick<ParallelCorpus, "src" | "tgt">,
  opts: TranslateOptions = {},
): Steps<CorpusEvaluation> {
  const t0 = performance.now();
  const hypotheses = yield* translator.translateSteps(corpus.src, opts);
  const seconds = (performance.now() - t0) / 1000;
  return { hypotheses, seconds, ...scoreTranslations(hypotheses, corpus.tgt) };
}
