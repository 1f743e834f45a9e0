/**
 * Batches for sequence-to-sequence training: bucketing by length so that little of each batch is
 * padding, `<bos>`/`<eos>` placement for teacher forcing, and Sutskever et al.'s (2014) reversed
 * source. Shuffling uses a `tg.Generator` seeded from (seed, epoch), so an epoch's batches can be
 * rebuilt exactly when a run resumes.
 */
import { tensor } from "../tensor/creation.js";
import type { Tensor } from "../tensor/tensor.js";
import { Generator } from "../tensor/random.js";
import { TsgradError } from "../tensor/errors.js";
import type { ParallelCorpus } from "./corpus.js";
import type { TextTokenizer } from "./tokenizer.js";
import { BOS_ID, EOS_ID, PAD_ID } from "./vocab.js";

/** `opts` without its `undefined` entries, so that they do not override defaults when spread. */
function defined<T extends object>(opts: T): Partial<T> {
  return Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** One example: source and target token ids, without specials. */
export interface EncodedPair {
  src: readonly number[];
  tgt: readonly number[];
}

/** Options for {@link Seq2SeqBatcher}. */
export interface Seq2SeqBatcherOptions {
  /** Examples per batch. */
  batchSize: number;
  /** Seed of the shuffles (an integer in [0, 2^32)). Default 0. */
  seed?: number;
  /** Shuffle examples and batch order each epoch. Default true; false gives a fixed order. */
  shuffle?: boolean;
  /**
   * Sort examples by length within pools of `poolSize` batches before cutting batches (true,
   * default), or keep them in (shuffled) order.
   */
  bucket?: boolean;
  /** Batches per sorting pool: larger = less padding, less randomness. Default 100. */
  poolSize?: number;
  /** Reverse the source tokens (not the padding, and before the source `<eos>`). Default false. */
  reverseSource?: boolean;
  /** Append `<eos>` to the source. Default true. */
  sourceEos?: boolean;
  /** Cut sources / targets longer than this many tokens (counted). Default no limit. */
  maxSourceLen?: number;
  maxTargetLen?: number;
  /** Drop the last batch if it is smaller than `batchSize`. Default false. */
  dropLast?: boolean;
  /** Special ids; default the shared `<pad>`=0, `<bos>`=1, `<eos>`=2. */
  padId?: number;
  bosId?: number;
  eosId?: number;
}

/** A padded batch; every tensor is int32. */
export interface Seq2SeqBatch {
  /** [B, S] source ids (reversed if asked, `<eos>`-terminated if asked), right-padded. */
  src: Tensor;
  /** Length of each source row without padding. */
  srcLengths: number[];
  /** [B, T] decoder input: `<bos>` y₁ … yₙ, right-padded. */
  tgtIn: Tensor;
  /** [B, T] decoder target: y₁ … yₙ `<eos>`, right-padded (use `ignoreIndex: padId`). */
  tgtOut: Tensor;
  /** n + 1 for each row: the number of non-pad positions of `tgtIn` / `tgtOut`. */
  tgtLengths: number[];
  /** Sum of `tgtLengths` (the tokens the loss averages over). */
  tgtTokens: number;
  /** Index of each row in the batcher's example list, to put outputs back in corpus order. */
  indices: number[];
  /**
   * [tgtTokens] int32: the non-pad positions of `tgtOut` as indices into its B·T flattened
   * positions (row-major), and `targets` the ids there: a model can skip the padding.
   */
  targetRows: Tensor;
  targets: Tensor;
}

/** What the batcher dropped or cut when it was built. */
export interface BatcherStats {
  examples: number;
  droppedEmpty: number;
  truncatedSource: number;
  truncatedTarget: number;
}

/**
 * Bucketed, padded, deterministic batches of (source, target) id sequences.
 *
 * @example
 * const pairs = [
 *   { src: [5, 6, 7], tgt: [8, 9] },
 *   { src: [5], tgt: [9, 9, 9] },
 *   { src: [6, 7], tgt: [8] },
 * ];
 * const b = new tg.text.Seq2SeqBatcher(pairs, { batchSize: 2, shuffle: false, bucket: false, reverseSource: true });
 * const [first] = b.batches(0);
 * console.log(first!.src.toArray()); // [[7, 6, 5, 2], [5, 2, 0, 0]]
 * console.log(first!.tgtIn.toArray()); // [[1, 8, 9, 0], [1, 9, 9, 9]]
 * console.log(first!.tgtOut.toArray()); // [[8, 9, 2, 0], [9, 9, 9, 2]]
 * console.log(first!.srcLengths, first!.tgtLengths); // [4, 2] [3, 4]
 */
export class Seq2SeqBatcher {
  readonly stats: BatcherStats;
  private readonly examples: EncodedPair[] = [];
  private readonly exampleIndex: number[] = [];
  /** Input-list position → index into `examples`. */
  private readonly position = new Map<number, number>();
  private readonly opts: Required<Seq2SeqBatcherOptions>;

  constructor(pairs: readonly EncodedPair[], opts: Seq2SeqBatcherOptions) {
    const o: Required<Seq2SeqBatcherOptions> = {
      seed: 0,
      shuffle: true,
      bucket: true,
      poolSize: 100,
      reverseSource: false,
      sourceEos: true,
      maxSourceLen: Infinity,
      maxTargetLen: Infinity,
      dropLast: false,
      padId: PAD_ID,
      bosId: BOS_ID,
      eosId: EOS_ID,
      ...defined(opts),
      batchSize: opts.batchSize,
    };
    const op = "Seq2SeqBatcher";
    if (!Number.isInteger(o.batchSize) || o.batchSize < 1) {
      throw new TsgradError(op, `batchSize must be a positive integer, got ${o.batchSize}`);
    }
    if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed >= 2 ** 32) {
      throw new TsgradError(op, `seed must be an integer in [0, 2^32), got ${o.seed}`);
    }
    if (!(o.poolSize >= 1)) throw new TsgradError(op, `poolSize must be >= 1, got ${o.poolSize}`);
    for (const [k, v] of [
      ["maxSourceLen", o.maxSourceLen],
      ["maxTargetLen", o.maxTargetLen],
    ] as const) {
      if (!(v >= 1)) throw new TsgradError(op, `${k} must be >= 1, got ${v}`);
    }
    this.opts = o;
    const stats: BatcherStats = {
      examples: 0,
      droppedEmpty: 0,
      truncatedSource: 0,
      truncatedTarget: 0,
    };
    pairs.forEach((p, i) => {
      for (const [side, ids] of [
        ["src", p.src],
        ["tgt", p.tgt],
      ] as const) {
        for (let j = 0; j < ids.length; j++) {
          const id = ids[j]!;
          if (!Number.isInteger(id) || id < 0 || id === o.padId) {
            throw new TsgradError(
              op,
              `example ${i} ${side}[${j}] = ${id}: ids must be non-negative integers other than the pad id ${o.padId}`,
            );
          }
        }
      }
      if (p.src.length === 0 || p.tgt.length === 0) {
        stats.droppedEmpty++;
        return;
      }
      let { src, tgt } = p;
      if (src.length > o.maxSourceLen) {
        src = src.slice(0, o.maxSourceLen);
        stats.truncatedSource++;
      }
      if (tgt.length > o.maxTargetLen) {
        tgt = tgt.slice(0, o.maxTargetLen);
        stats.truncatedTarget++;
      }
      this.position.set(i, this.examples.length);
      this.examples.push({ src, tgt });
      this.exampleIndex.push(i);
    });
    stats.examples = this.examples.length;
    this.stats = stats;
  }

  /**
   * Encode a parallel corpus with a source and a target tokeniser and batch it. The batch's
   * special ids come from the target tokeniser.
   *
   * @example
   * const corpus = tg.text.makeParallel(["a b", "c"], ["x y z", "w"]);
   * const tok = tg.text.WordTokenizer.fit([...corpus.src, ...corpus.tgt]);
   * const b = tg.text.Seq2SeqBatcher.fromCorpus(corpus, tok, tok, { batchSize: 2 });
   * console.log(b.numBatches, b.stats.examples); // 1 2
   */
  static fromCorpus(
    corpus: Pick<ParallelCorpus, "src" | "tgt">,
    srcTokenizer: Pick<TextTokenizer, "encode">,
    tgtTokenizer: Pick<TextTokenizer, "encode" | "padId" | "bosId" | "eosId">,
    opts: Seq2SeqBatcherOptions,
  ): Seq2SeqBatcher {
    if (corpus.src.length !== corpus.tgt.length) {
      throw new TsgradError(
        "Seq2SeqBatcher.fromCorpus",
        `${corpus.src.length} source sentences but ${corpus.tgt.length} target sentences`,
      );
    }
    const pairs = corpus.src.map((s, i) => ({
      src: srcTokenizer.encode(s),
      tgt: tgtTokenizer.encode(corpus.tgt[i]!),
    }));
    return new Seq2SeqBatcher(pairs, {
      padId: tgtTokenizer.padId,
      bosId: tgtTokenizer.bosId,
      eosId: tgtTokenizer.eosId,
      ...defined(opts),
      batchSize: opts.batchSize,
    });
  }

  /** Number of batches per epoch. */
  get numBatches(): number {
    const n = this.examples.length;
    const b = this.opts.batchSize;
    return this.opts.dropLast ? Math.floor(n / b) : Math.ceil(n / b);
  }

  /** The generator of an epoch's shuffles: seeded with epoch·2^32 + seed. */
  private generator(epoch: number): Generator {
    if (!Number.isInteger(epoch) || epoch < 0 || epoch >= 2 ** 20) {
      throw new TsgradError(
        "Seq2SeqBatcher",
        `epoch must be an integer in [0, 2^20), got ${epoch}`,
      );
    }
    return new Generator(epoch * 2 ** 32 + this.opts.seed);
  }

  /**
   * The example indices of each batch of `epoch` (positions in the input pair list, skipping
   * dropped examples), deterministic in (seed, epoch).
   */
  plan(epoch: number): number[][] {
    const o = this.opts;
    const n = this.examples.length;
    const g = this.generator(epoch);
    const order = o.shuffle ? Array.from(g.permutation(n)) : Array.from({ length: n }, (_, i) => i);
    if (o.bucket) {
      const pool = Math.min(n, o.batchSize * o.poolSize);
      const key = (i: number) => this.examples[i]!;
      for (let start = 0; start < n; start += pool) {
        const sorted = order
          .slice(start, start + pool)
          .sort(
            (a, b) =>
              key(a).src.length - key(b).src.length || key(a).tgt.length - key(b).tgt.length,
          );
        order.splice(start, sorted.length, ...sorted);
      }
    }
    const batches: number[][] = [];
    for (let start = 0; start < n; start += o.batchSize) {
      const idx = order.slice(start, start + o.batchSize);
      if (idx.length < o.batchSize && o.dropLast) break;
      batches.push(idx);
    }
    if (o.shuffle) {
      const perm = g.permutation(batches.length);
      return Array.from(perm, (p) => batches[p]!.map((i) => this.exampleIndex[i]!));
    }
    return batches.map((b) => b.map((i) => this.exampleIndex[i]!));
  }

  /** The batches of `epoch`, built lazily. */
  *batches(epoch: number): IterableIterator<Seq2SeqBatch> {
    for (const idx of this.plan(epoch)) yield this.collate(idx);
  }

  /** Pad the examples at `indices` (positions in the input pair list) into one batch. */
  collate(indices: readonly number[]): Seq2SeqBatch {
    const o = this.opts;
    const rows = indices.map((i) => {
      const k = this.position.get(i);
      if (k === undefined) {
        throw new TsgradError(
          "Seq2SeqBatcher.collate",
          `no example ${i} (dropped or out of range)`,
        );
      }
      return this.examples[k]!;
    });
    const B = rows.length;
    if (B === 0) throw new TsgradError("Seq2SeqBatcher.collate", "empty batch");
    const srcRows = rows.map((r) => {
      const s = o.reverseSource ? [...r.src].reverse() : [...r.src];
      if (o.sourceEos) s.push(o.eosId);
      return s;
    });
    const S = Math.max(...srcRows.map((s) => s.length));
    const T = Math.max(...rows.map((r) => r.tgt.length + 1));
    const src = new Int32Array(B * S).fill(o.padId);
    const tgtIn = new Int32Array(B * T).fill(o.padId);
    const tgtOut = new Int32Array(B * T).fill(o.padId);
    rows.forEach((r, b) => {
      src.set(srcRows[b]!, b * S);
      tgtIn[b * T] = o.bosId;
      tgtIn.set(r.tgt, b * T + 1);
      tgtOut.set(r.tgt, b * T);
      tgtOut[b * T + r.tgt.length] = o.eosId;
    });
    const tgtLengths = rows.map((r) => r.tgt.length + 1);
    const tgtTokens = tgtLengths.reduce((a, b) => a + b, 0);
    const targetRows = new Int32Array(tgtTokens);
    const targets = new Int32Array(tgtTokens);
    let k = 0;
    tgtLengths.forEach((len, b) => {
      for (let t = 0; t < len; t++, k++) {
        targetRows[k] = b * T + t;
        targets[k] = tgtOut[b * T + t]!;
      }
    });
    return {
      src: tensor(src, { shape: [B, S] }),
      srcLengths: srcRows.map((s) => s.length),
      tgtIn: tensor(tgtIn, { shape: [B, T] }),
      tgtOut: tensor(tgtOut, { shape: [B, T] }),
      tgtLengths,
      tgtTokens,
      indices: [...indices],
      targetRows: tensor(targetRows, { shape: [tgtTokens] }),
      targets: tensor(targets, { shape: [tgtTokens] }),
    };
  }
}
