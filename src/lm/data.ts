/**
 * Character-level data for language models: a text, its character vocabulary, the fixed
 * train/validation split (nanoGPT: first 90% / last 10%), random training windows, and the fixed,
 * seeded evaluation windows that make validation losses comparable across runs.
 */
import { loadTinyShakespeare, readText } from "../text/corpus.js";
import { CharVocab } from "../text/char-vocab.js";
import { tensor } from "../tensor/creation.js";
import { TsgradError } from "../tensor/errors.js";
import { Generator } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";
import { nodeModule } from "../io/node.js";

/** A tokenised corpus split for training. */
export interface CharCorpus {
  /** The vocabulary of every character in the text (train and validation), sorted by code point. */
  vocab: CharVocab;
  /** Token ids of the training split. */
  train: Int32Array;
  /** Token ids of the validation split. */
  val: Int32Array;
  /** Characters in the whole text. */
  chars: number;
  /** SHA-256 of the text (hex), to record which data a run saw. */
  sha256: string;
}

/**
 * Split a text into a character vocabulary and train/validation ids: the first `1 − valFraction`
 * of the characters train, the rest validate (no shuffling, as nanoGPT's `prepare.py`).
 *
 * @example
 * const c = tg.lm.charCorpus("abcabcabca", 0.2);
 * console.log(c.vocab.size, c.train.length, c.val.length); // 3 8 2
 */
export function charCorpus(text: string, valFraction = 0.1): CharCorpus {
  if (!(valFraction > 0 && valFraction < 1)) {
    throw new TsgradError("charCorpus", `valFraction must be in (0, 1), got ${valFraction}`);
  }
  const vocab = CharVocab.fromText(text);
  const ids = vocab.encode(text);
  const n = Math.floor(ids.length * (1 - valFraction));
  const sha256 = nodeModule("charCorpus", "node:crypto")
    .createHash("sha256")
    .update(text)
    .digest("hex");
  return { vocab, train: ids.slice(0, n), val: ids.slice(n), chars: ids.length, sha256 };
}

/**
 * The corpus of a run: `path` (any UTF-8 text file, gzip allowed), or the bundled Tiny Shakespeare
 * when `path` is empty.
 *
 * @example
 * const c = tg.lm.loadCharCorpus("", 0.1);
 * console.log(c.vocab.size, c.train.length + c.val.length); // 65 1115394
 */
export function loadCharCorpus(path: string, valFraction = 0.1): CharCorpus {
  const text = path === "" ? loadTinyShakespeare() : readText(path);
  if (text.length === 0) throw new TsgradError("loadCharCorpus", `${path} is empty`);
  return charCorpus(text, valFraction);
}

function checkWindows(op: string, data: Int32Array, blockSize: number, split: string): void {
  if (data.length < blockSize + 1) {
    throw new TsgradError(
      op,
      `the ${split} split has ${data.length} tokens, fewer than blockSize + 1 = ${blockSize + 1}; use a longer text or a shorter block`,
    );
  }
}

/** Inputs [B, T] and next-token targets [B, T] as int32 tensors. */
export interface LMBatch {
  x: Tensor;
  y: Tensor;
}

/**
 * The batch of windows starting at `offsets`: x = data[o, o+T), y = data[o+1, o+T+1).
 *
 * @example
 * const b = tg.lm.windowsAt(Int32Array.from([0, 1, 2, 3, 4, 5]), [0, 2], 3);
 * console.log(b.x.toArray(), b.y.toArray()); // [[0, 1, 2], [2, 3, 4]] [[1, 2, 3], [3, 4, 5]]
 */
export function windowsAt(
  data: Int32Array,
  offsets: readonly number[],
  blockSize: number,
): LMBatch {
  const B = offsets.length;
  const x = new Int32Array(B * blockSize);
  const y = new Int32Array(B * blockSize);
  offsets.forEach((o, b) => {
    if (!(Number.isInteger(o) && o >= 0 && o + blockSize + 1 <= data.length)) {
      throw new TsgradError(
        "windowsAt",
        `offset ${o} does not leave ${blockSize + 1} tokens in data of length ${data.length}`,
      );
    }
    x.set(data.subarray(o, o + blockSize), b * blockSize);
    y.set(data.subarray(o + 1, o + blockSize + 1), b * blockSize);
  });
  return {
    x: tensor(x, { shape: [B, blockSize] }),
    y: tensor(y, { shape: [B, blockSize] }),
  };
}

/**
 * A random training batch: `batchSize` windows at uniform offsets (nanoGPT's `get_batch`), drawn
 * from `generator` so the data order is reproducible and resumable.
 *
 * @example
 * const data = Int32Array.from({ length: 100 }, (_, i) => i % 7);
 * const b = tg.lm.randomBatch(data, 4, 8, new tg.Generator(0));
 * console.log(b.x.shape, b.y.shape); // [4, 8] [4, 8]
 */
export function randomBatch(
  data: Int32Array,
  batchSize: number,
  blockSize: number,
  generator: Generator,
): LMBatch {
  checkWindows("randomBatch", data, blockSize, "training");
  const offsets = Array.from({ length: batchSize }, () =>
    generator.int(0, data.length - blockSize),
  );
  return windowsAt(data, offsets, blockSize);
}

/**
 * Fixed evaluation windows: `batches` × `batchSize` offsets drawn once from a generator seeded
 * with `seed`. The same seed, data length and block size give the same windows in every run, so
 * losses of different models are measured on exactly the same characters.
 *
 * @example
 * const data = Int32Array.from({ length: 500 }, (_, i) => i % 5);
 * const a = tg.lm.evalOffsets(data.length, 8, 2, 3, 42);
 * console.log(a.length, a[0].length, JSON.stringify(a) === JSON.stringify(tg.lm.evalOffsets(500, 8, 2, 3, 42))); // 2 3 true
 */
export function evalOffsets(
  length: number,
  blockSize: number,
  batches: number,
  batchSize: number,
  seed: number,
): number[][] {
  if (length < blockSize + 1) {
    throw new TsgradError(
      "evalOffsets",
      `data of ${length} tokens is shorter than blockSize + 1 = ${blockSize + 1}`,
    );
  }
  const g = new Generator(seed);
  return Array.from({ length: batches }, () =>
    Array.from({ length: batchSize }, () => g.int(0, length - blockSize)),
  );
}
