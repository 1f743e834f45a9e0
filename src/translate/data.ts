/**
 * Data preparation for translation runs: reading Multi30k splits (with the config's filters),
 * fitting the source and target tokenisers on the training text, and batching. Everything here
 * is a pure function of (config, files), so a resumed run rebuilds exactly the same vocabularies
 * and batches, which the trainer checks through the vocabulary fingerprints.
 */
import { TsgradError } from "../tensor/errors.js";
import { BpeTokenizer } from "../text/bpe.js";
import { type ParallelCorpus, loadMulti30k } from "../text/corpus.js";
import { type EncodedPair, Seq2SeqBatcher } from "../text/batching.js";
import { Generator } from "../tensor/random.js";
import { pySplit } from "../text/strings.js";
import type { TextTokenizer } from "../text/tokenizer.js";
import { WordTokenizer } from "../text/word-tokenizer.js";
import type { Split, TranslateConfig } from "./config.js";

/** A source and a target tokeniser (the same vocabulary when it is joint). */
export interface TokenizerPair {
  src: TextTokenizer;
  tgt: TextTokenizer;
}

/** Options for {@link loadSplit} and {@link prepareData}. */
export interface DataOptions {
  /** Folder with the Multi30k files (default: found by `tg.text.resolveDataDir`). */
  dataDir?: string;
  /** Receives data warnings (dropped empty lines, truncations). Default `console.warn`. */
  warn?: (message: string) => void;
}

/**
 * One split of the configured language pair. The training split gets the config's filters: pairs
 * of at most `trainMaxWords` words per side, then the first `trainLimit`; the others are whole.
 *
 * @example
 * const c = tg.translate.resolveConfig({ trainLimit: 5, trainMaxWords: 6 });
 * const train = tg.translate.loadSplit(c, "train");
 * console.log(train.src.length, train.src.every((s) => s.split(" ").length <= 6)); // 5 true
 */
export function loadSplit(
  config: TranslateConfig,
  split: Split,
  opts: DataOptions = {},
): ParallelCorpus {
  const corpus = loadMulti30k({
    split,
    src: config.src,
    tgt: config.tgt,
    dir: opts.dataDir,
    warn: opts.warn,
  });
  let keep = corpus.src.map((_, i) => i);
  if (split === "train" && config.trainMaxWords > 0) {
    const max = config.trainMaxWords;
    keep = keep.filter(
      (i) => pySplit(corpus.src[i]!).length <= max && pySplit(corpus.tgt[i]!).length <= max,
    );
  }
  if (split === "train" && config.trainLimit > 0) keep = keep.slice(0, config.trainLimit);
  if (keep.length === 0) {
    throw new TsgradError(
      "translate data",
      `no ${split} pairs left after the filters (trainMaxWords ${config.trainMaxWords}, trainLimit ${config.trainLimit})`,
    );
  }
  return {
    src: keep.map((i) => corpus.src[i]!),
    tgt: keep.map((i) => corpus.tgt[i]!),
    stats: { ...corpus.stats, kept: keep.length },
  };
}

/**
 * Fit the tokenisers of a config on training text: word or BPE, one joint vocabulary or one per
 * language. A joint BPE vocabulary gives two tokenisers with the same ids (and fingerprint) that
 * differ only in their detokenisation language.
 *
 * @example
 * const c = tg.translate.resolveConfig({ tokenizer: "bpe", bpeMerges: 20, jointVocab: true });
 * const t = tg.translate.fitTokenizers(c, { src: ["a red car"], tgt: ["une voiture rouge"] });
 * console.log(t.src.fingerprint === t.tgt.fingerprint, t.tgt.decode(t.tgt.encode("une voiture"))); // true "une voiture"
 */
export function fitTokenizers(
  config: TranslateConfig,
  train: Pick<ParallelCorpus, "src" | "tgt">,
): TokenizerPair {
  const { lowercase, vocabMinFreq: minFreq } = config;
  if (config.tokenizer === "word") {
    if (config.jointVocab) {
      const both = WordTokenizer.fit([...train.src, ...train.tgt], { lowercase, minFreq });
      return {
        src: new WordTokenizer(both.vocab, { lowercase, lang: config.src }),
        tgt: new WordTokenizer(both.vocab, { lowercase, lang: config.tgt }),
      };
    }
    return {
      src: WordTokenizer.fit(train.src, { lowercase, minFreq, lang: config.src }),
      tgt: WordTokenizer.fit(train.tgt, { lowercase, minFreq, lang: config.tgt }),
    };
  }
  const bpe = (text: readonly string[], lang: string) =>
    BpeTokenizer.fit(text, {
      numMerges: config.bpeMerges,
      minFrequency: minFreq,
      lowercase,
      lang,
    });
  if (config.jointVocab) {
    const both = bpe([...train.src, ...train.tgt], config.src);
    return {
      src: both,
      tgt: new BpeTokenizer(both.merges, both.vocab, {
        lowercase,
        pretokenize: both.pretokenize,
        lang: config.tgt,
      }),
    };
  }
  return { src: bpe(train.src, config.src), tgt: bpe(train.tgt, config.tgt) };
}

/**
 * Batches of a split, built from the config (reversal, length caps, batch size, seed).
 *
 * @example
 * const c = tg.translate.resolveConfig({ tokenizer: "word", vocabMinFreq: 1, reverseSource: true, batchSize: 2 });
 * const corpus = { src: ["a b c", "a"], tgt: ["x", "y z"] };
 * const t = tg.translate.fitTokenizers(c, corpus);
 * const [batch] = tg.translate.makeBatcher(c, corpus, t, { shuffle: false }).batches(0);
 * console.log(batch!.srcLengths, batch!.tgtTokens); // [2, 4] 5
 */
export function makeBatcher(
  config: TranslateConfig,
  corpus: Pick<ParallelCorpus, "src" | "tgt">,
  tokenizers: TokenizerPair,
  opts: { shuffle: boolean; batchSize?: number },
): Seq2SeqBatcher {
  return batcherOf(config, encodePairs(corpus, tokenizers), tokenizers, opts);
}

function encodePairs(
  corpus: Pick<ParallelCorpus, "src" | "tgt">,
  tokenizers: TokenizerPair,
): EncodedPair[] {
  return corpus.src.map((s, i) => ({
    src: tokenizers.src.encode(s),
    tgt: tokenizers.tgt.encode(corpus.tgt[i]!),
  }));
}

function batcherOf(
  config: TranslateConfig,
  pairs: readonly EncodedPair[],
  tokenizers: TokenizerPair,
  opts: { shuffle: boolean; batchSize?: number },
): Seq2SeqBatcher {
  const t = tokenizers.tgt;
  return new Seq2SeqBatcher(pairs, {
    batchSize: opts.batchSize ?? config.batchSize,
    seed: config.seed,
    shuffle: opts.shuffle,
    reverseSource: config.reverseSource,
    maxSourceLen: config.maxLen,
    maxTargetLen: config.maxLen,
    padId: t.padId,
    bosId: t.bosId,
    eosId: t.eosId,
  });
}

/**
 * Batches in which every source has the same length, where possible: examples are grouped by
 * source length, shuffled within their group, and cut into batches; the last, partial batch of
 * each group is pooled with the others (sorted by length) into mixed batches. Then the batch
 * order is shuffled. Deterministic in (seed, epoch). `lengths[i]` is example i's source length,
 * or null for an example to leave out. Uniform batches need no length masks, so a recurrent
 * encoder can run as one fused kernel.
 *
 * @example
 * const lengths = [3, 2, 3, 3, null, 2, 4];
 * const plan = tg.translate.exactLengthPlan(lengths, 2, 0, 0);
 * console.log(plan.length, plan.flat().sort().join(" ")); // 3 "0 1 2 3 5 6"
 * // Two batches of one length; the leftovers of the length-3 and length-4 groups share one.
 * console.log(plan.filter((b) => new Set(b.map((i) => lengths[i])).size === 1).length); // 2
 */
export function exactLengthPlan(
  lengths: readonly (number | null)[],
  batchSize: number,
  seed: number,
  epoch: number,
): number[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new TsgradError(
      "exactLengthPlan",
      `batchSize must be a positive integer, got ${batchSize}`,
    );
  }
  const g = new Generator(epoch * 2 ** 32 + seed);
  const groups = new Map<number, number[]>();
  lengths.forEach((len, i) => {
    if (len === null) return;
    const group = groups.get(len);
    if (group === undefined) groups.set(len, [i]);
    else group.push(i);
  });
  const batches: number[][] = [];
  const rest: number[] = [];
  for (const len of [...groups.keys()].sort((a, b) => a - b)) {
    const group = groups.get(len)!;
    const order = Array.from(g.permutation(group.length), (k) => group[k]!);
    let start = 0;
    for (; start + batchSize <= order.length; start += batchSize) {
      batches.push(order.slice(start, start + batchSize));
    }
    rest.push(...order.slice(start));
  }
  for (let start = 0; start < rest.length; start += batchSize) {
    batches.push(rest.slice(start, start + batchSize));
  }
  return Array.from(g.permutation(batches.length), (k) => batches[k]!);
}

/** Everything a training run reads. */
export interface TranslationData {
  train: ParallelCorpus;
  valid: ParallelCorpus;
  tokenizers: TokenizerPair;
  trainBatcher: Seq2SeqBatcher;
  validBatcher: Seq2SeqBatcher;
  /**
   * The training batches of an epoch, as example indices for `trainBatcher.collate`: the
   * batcher's own length-bucketed plan, or {@link exactLengthPlan} (config `batching`).
   */
  plan(epoch: number): number[][];
}

/**
 * Load the training and validation splits, fit the tokenisers on the training side, and batch
 * both. Sentences longer than `maxLen` tokens are cut in training (the count is reported).
 *
 * @example
 * const c = tg.translate.resolveConfig({ ...tg.translate.QUICK_CONFIG, trainLimit: 20, validLimit: 5, batchSize: 24 });
 * const d = tg.translate.prepareData(c);
 * console.log(d.train.src.length, d.valid.src.length, d.trainBatcher.numBatches); // 20 5 1
 */
export function prepareData(config: TranslateConfig, opts: DataOptions = {}): TranslationData {
  const warn = opts.warn ?? ((m: string) => console.warn(m));
  const train = loadSplit(config, "train", opts);
  const valid =
    config.validSplit === "train"
      ? limit(train, config.validLimit)
      : limit(loadSplit(config, config.validSplit, opts), config.validLimit);
  const tokenizers = fitTokenizers(config, train);
  const pairs = encodePairs(train, tokenizers);
  const trainBatcher = batcherOf(config, pairs, tokenizers, { shuffle: true });
  const validBatcher = makeBatcher(config, valid, tokenizers, { shuffle: false });
  const { truncatedSource, truncatedTarget, droppedEmpty } = trainBatcher.stats;
  if (truncatedSource + truncatedTarget > 0) {
    warn(
      `translate: cut ${truncatedSource} source and ${truncatedTarget} target training sentences to ${config.maxLen} tokens`,
    );
  }
  if (droppedEmpty > 0) {
    warn(`translate: dropped ${droppedEmpty} training pairs that encode to no tokens`);
  }
  const lengths = pairs.map((p) =>
    p.src.length === 0 || p.tgt.length === 0 ? null : Math.min(p.src.length, config.maxLen),
  );
  const plan =
    config.batching === "exact"
      ? (epoch: number) => exactLengthPlan(lengths, config.batchSize, config.seed, epoch)
      : (epoch: number) => trainBatcher.plan(epoch);
  return { train, valid, tokenizers, trainBatcher, validBatcher, plan };
}

/** The first `n` pairs of a corpus (all when `n` is 0). */
function limit(c: ParallelCorpus, n: number): ParallelCorpus {
  if (n === 0 || n >= c.src.length) return c;
  return { src: c.src.slice(0, n), tgt: c.tgt.slice(0, n), stats: { ...c.stats, kept: n } };
}
