/**
 * The text variant of the weak-to-strong experiment: "multi30k-subject", a sentence
 * classification task built from the English captions of Multi30k (bundled in data/multi30k).
 *
 * Task construction. Every caption of the three official splits (31,014) is lowercased and
 * tokenised (13a, as `tg.text.WordTokenizer`). A caption is kept when exactly one of the six
 * subject words man, woman, boy, girl, dog, people occurs in it (any number of times); every
 * occurrence is replaced by `<mask>` and the word is the label. The model must infer who the
 * caption is about from the rest of it ("a <mask> in a red dress…", "<mask> catches a frisbee").
 * That leaves 16,826 examples (man 39%, woman 18%, people 17%, girl, boy, dog about 8.5% each).
 * A fixed random 4,000 of them (generator seed 20231214, independent of the experiment's seeds)
 * are the test set; the rest are the training pool. The vocabulary is the pool's tokens seen at
 * least twice (no labels involved); rarer ones map to `<unk>`.
 *
 * The ladder, weakest to strongest: "bow" (multinomial logistic regression on word counts),
 * "mlp" (one hidden layer over the mean word embedding and the embeddings of the two words either
 * side of the mask), "attn" (a one-layer transformer encoder with learned positions, read out at
 * the mask), "bilstm" (a bidirectional LSTM read out at the mask).
 */
import { Embedding, Layer, LayerNorm, Linear } from "../nn/layers.js";
import * as F from "../nn/functional.js";
import { Parameter } from "../nn/module.js";
import { LSTM } from "../nn/rnn.js";
import { cat } from "../ops/ops.js";
import { arange, tensor, zeros } from "../tensor/creation.js";
import { TsgradError, fmtShape } from "../tensor/errors.js";
import { Generator } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";
import { loadMulti30k } from "../text/corpus.js";
import { SPECIAL_TOKENS, Vocab } from "../text/vocab.js";
import { WordTokenizer } from "../text/word-tokenizer.js";
import { type ModelSpec, type W2sTask, modelLabel } from "./task.js";

/** The text tasks the experiment accepts. */
export const TEXT_TASKS = ["multi30k-subject"] as const;

/** The subject words of "multi30k-subject", in label order. */
export const SUBJECT_WORDS = ["man", "woman", "boy", "girl", "dog", "people"] as const;

/** The token that replaces the subject word. */
export const MASK_TOKEN = "<mask>";
/** Its id in every vocabulary of this task (right after the specials). */
export const MASK_ID = SPECIAL_TOKENS.length;

/** A masked caption and its label. */
export interface SubjectExample {
  tokens: string[];
  label: number;
}

/**
 * The example a caption yields, or null: kept when exactly one of `words` occurs among its
 * (already lowercased) tokens; every occurrence becomes `<mask>`.
 *
 * @example
 * const words = ["man", "woman", "dog"];
 * console.log(tg.w2s.subjectExample(["a", "man", "walks", "a", "dog"], words)); // null
 * console.log(tg.w2s.subjectExample(["a", "woman", "smiles", "."], words)); // { tokens: ["a", "<mask>", "smiles", "."], label: 1 }
 */
export function subjectExample(
  tokens: readonly string[],
  words: readonly string[],
): SubjectExample | null {
  let label = -1;
  for (const t of tokens) {
    const k = words.indexOf(t);
    if (k < 0 || k === label) continue;
    if (label >= 0) return null;
    label = k;
  }
  if (label < 0) return null;
  return { tokens: tokens.map((t) => (t === words[label] ? MASK_TOKEN : t)), label };
}

/** Options of `loadSubjectTask`. */
export interface SubjectTaskOptions {
  /** Folder of the Multi30k files (default: found by `tg.text.resolveDataDir`). */
  dir?: string;
  /** Test examples (default 4000). */
  testSize?: number;
}

const TEST_SEED = 20231214;

/**
 * Load "multi30k-subject" (see the module comment).
 *
 * @example
 * const task = tg.w2s.loadSubjectTask();
 * console.log(task.classes, task.poolLabels.length, task.testLabels.length); // ["man", "woman", "boy", "girl", "dog", "people"] 12826 4000
 * console.log(task.inputs("test", [0, 1]).dtype); // "int32"
 */
export function loadSubjectTask(opts: SubjectTaskOptions = {}): W2sTask {
  const testSize = opts.testSize ?? 4000;
  const tok = new WordTokenizer(new Vocab(SPECIAL_TOKENS), { lowercase: true });
  const examples: SubjectExample[] = [];
  for (const split of ["train", "val", "test"] as const) {
    const c = loadMulti30k({
      split,
      src: "en",
      tgt: "fr",
      warn: () => {},
      ...(opts.dir !== undefined ? { dir: opts.dir } : {}),
    });
    for (const s of c.src) {
      const ex = subjectExample(tok.tokenize(s), SUBJECT_WORDS);
      if (ex) examples.push(ex);
    }
  }
  if (!(Number.isInteger(testSize) && testSize > 0 && testSize < examples.length)) {
    throw new TsgradError(
      "loadSubjectTask",
      `testSize must be an integer in [1, ${examples.length}), got ${testSize}`,
    );
  }
  const order = new Generator(TEST_SEED).permutation(examples.length);
  const test = Array.from(order.subarray(0, testSize), (i) => examples[i]!);
  const pool = Array.from(order.subarray(testSize), (i) => examples[i]!);
  const counted = Vocab.build(
    pool.map((e) => e.tokens),
    { minFreq: 2 },
  );
  const vocab = new Vocab([
    ...SPECIAL_TOKENS,
    MASK_TOKEN,
    ...counted.tokens.slice(SPECIAL_TOKENS.length).filter((t) => t !== MASK_TOKEN),
  ]);
  const encode = (list: SubjectExample[]) =>
    list.map((e) => Int32Array.from(vocab.encode(e.tokens)));
  const poolIds = encode(pool);
  const testIds = encode(test);
  const maxLen = Math.max(...poolIds.map((a) => a.length), ...testIds.map((a) => a.length));
  const V = vocab.size;
  const K = SUBJECT_WORDS.length;
  return {
    name: "multi30k-subject",
    description:
      `Masked-subject classification on Multi30k English captions: captions mentioning exactly one of ` +
      `${SUBJECT_WORDS.join(", ")} (every occurrence replaced by ${MASK_TOKEN}, the word is the label); ` +
      `${examples.length} examples, a fixed random ${testSize} of them for testing, vocabulary of ${V} ` +
      `(pool tokens seen twice or more).`,
    classes: [...SUBJECT_WORDS],
    ladder: ["bow", "mlp", "attn", "bilstm"],
    poolLabels: Int32Array.from(pool, (e) => e.label),
    testLabels: Int32Array.from(test, (e) => e.label),
    inputs(split, idx) {
      const src = split === "pool" ? poolIds : testIds;
      let T = 1;
      for (let b = 0; b < idx.length; b++) {
        const ids = src[idx[b]!];
        if (ids === undefined) {
          throw new TsgradError(
            "W2sTask.inputs",
            `${split} index ${idx[b]} is outside [0, ${src.length})`,
          );
        }
        T = Math.max(T, ids.length);
      }
      // Right-padded with <pad> = 0 to the longest caption of the batch.
      const out = new Int32Array(idx.length * T);
      for (let b = 0; b < idx.length; b++) out.set(src[idx[b]!]!, b * T);
      return tensor(out, { shape: [idx.length, T] });
    },
    createModel(spec) {
      return createTextModel(spec, { vocabSize: V, numClasses: K, maxLen });
    },
  };
}

// ------------------------------------------------------------------ models

/** Sizes a text model needs. */
export interface TextModelDims {
  vocabSize: number;
  numClasses: number;
  /** Longest input (positions of the attention model). */
  maxLen: number;
}

/** Position of the first `<mask>` of each row of ids [B, T]. */
function maskPositions(ids: Tensor): Int32Array {
  const [B, T] = ids.shape as [number, number];
  const d = ids.dataSync();
  const pos = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    let t = 0;
    while (t < T && d[b * T + t] !== MASK_ID) t++;
    if (t === T) throw new TsgradError("text model", `row ${b} of the batch has no ${MASK_TOKEN}`);
    pos[b] = t;
  }
  return pos;
}

/** Rows `pos[b]` of h [B, T, D], as [B, D]. */
function atPositions(h: Tensor, pos: Int32Array): Tensor {
  const [B, , D] = h.shape as [number, number, number];
  const index = new Int32Array(B * D);
  for (let b = 0; b < B; b++) index.fill(pos[b]!, b * D, (b + 1) * D);
  return h.gather(1, tensor(index, { shape: [B, 1, D] })).reshape([B, D]);
}

function checkIds(op: string, ids: Tensor): void {
  if (ids.ndim !== 2 || ids.dtype !== "int32") {
    throw new TsgradError(op, `expects int32 ids [B, T], got ${ids.dtype} ${fmtShape(ids.shape)}`);
  }
}

/** Mean over the non-padding positions of x [B, T, D] → [B, D]. */
function meanOverTokens(x: Tensor, ids: Tensor): Tensor {
  const keep = ids.ne(0).float();
  const n = keep.sum(1, true).clamp(1);
  return x.mul(keep.unsqueeze(2)).sum(1).div(n);
}

/** Multinomial logistic regression on word counts: the sum of per-word class scores. */
class BagOfWords extends Layer {
  scores: Embedding;
  bias: Tensor;
  constructor(d: TextModelDims) {
    super();
    this.scores = new Embedding(d.vocabSize, d.numClasses, { paddingIdx: 0 });
    // Logistic regression starts from zero weights, not N(0, 1) embeddings.
    this.scores.weight.data.fill(0);
    this.bias = Parameter(zeros([d.numClasses]));
  }
  forward(ids: Tensor): Tensor {
    checkIds("bow", ids);
    // Word counts as features (the padding row is zero), the classic bag-of-words regression.
    return this.scores.forward(ids).sum(1).add(this.bias);
  }
}

/** One hidden layer over [mean embedding, embeddings of the words at mask −2, −1, +1, +2]. */
class WindowMlp extends Layer {
  emb: Embedding;
  hidden: Linear;
  out: Linear;
  constructor(
    d: TextModelDims,
    readonly dim: number,
  ) {
    super();
    this.emb = new Embedding(d.vocabSize, dim, { paddingIdx: 0 });
    this.hidden = new Linear(5 * dim, 2 * dim);
    this.out = new Linear(2 * dim, d.numClasses);
  }
  forward(ids: Tensor): Tensor {
    checkIds("mlp", ids);
    const [B, T] = ids.shape as [number, number];
    const e = this.emb.forward(ids);
    const pos = maskPositions(ids);
    const d = ids.dataSync();
    const win = new Int32Array(B * 4);
    [-2, -1, 1, 2].forEach((o, j) => {
      for (let b = 0; b < B; b++) {
        const t = pos[b]! + o;
        win[b * 4 + j] = t >= 0 && t < T ? d[b * T + t]! : 0;
      }
    });
    const context = this.emb.forward(tensor(win, { shape: [B, 4] })).reshape([B, 4 * this.dim]);
    const features = F.relu(this.hidden.forward(cat([meanOverTokens(e, ids), context], 1)));
    return this.out.forward(features);
  }
}

/** One post-LN transformer encoder layer (4 heads, learned positions), read out at the mask. */
class AttentionClassifier extends Layer {
  tok: Embedding;
  pos: Embedding;
  qkv: Linear;
  proj: Linear;
  norm1: LayerNorm;
  ff1: Linear;
  ff2: Linear;
  norm2: LayerNorm;
  head: Linear;
  readonly heads = 4;
  constructor(
    d: TextModelDims,
    readonly dim: number,
  ) {
    super();
    this.tok = new Embedding(d.vocabSize, dim, { paddingIdx: 0 });
    this.pos = new Embedding(d.maxLen, dim);
    this.qkv = new Linear(dim, 3 * dim);
    this.proj = new Linear(dim, dim);
    this.norm1 = new LayerNorm(dim);
    this.ff1 = new Linear(dim, 2 * dim);
    this.ff2 = new Linear(2 * dim, dim);
    this.norm2 = new LayerNorm(dim);
    this.head = new Linear(dim, d.numClasses);
  }
  forward(ids: Tensor): Tensor {
    checkIds("attn", ids);
    const [B, T] = ids.shape as [number, number];
    if (T > this.pos.numEmbeddings) {
      throw new TsgradError(
        "attn",
        `inputs of ${T} tokens exceed the ${this.pos.numEmbeddings} positions`,
      );
    }
    const D = this.dim;
    const H = this.heads;
    const x = this.tok.forward(ids).add(this.pos.forward(arange(0, T, 1, { dtype: "int32" })));
    // [B, T, 3, H, D/H] → three [B, H, T, D/H]
    const [q, k, v] = this.qkv
      .forward(x)
      .reshape([B, T, 3, H, D / H])
      .permute([2, 0, 3, 1, 4])
      .split(1, 0)
      .map((t) => t.squeeze(0)) as [Tensor, Tensor, Tensor];
    const mask = ids.ne(0).reshape([B, 1, 1, T]);
    const a = F.scaledDotProductAttention(q, k, v, { attnMask: mask })
      .permute([0, 2, 1, 3])
      .reshape([B, T, D]);
    const h1 = this.norm1.forward(x.add(this.proj.forward(a)));
    const h2 = this.norm2.forward(h1.add(this.ff2.forward(F.relu(this.ff1.forward(h1)))));
    return this.head.forward(atPositions(h2, maskPositions(ids)));
  }
}

/** A bidirectional LSTM read out at the mask (both directions' states there). */
class BiLstmClassifier extends Layer {
  emb: Embedding;
  lstm: LSTM;
  head: Linear;
  constructor(d: TextModelDims, dim: number) {
    super();
    this.emb = new Embedding(d.vocabSize, dim, { paddingIdx: 0 });
    this.lstm = new LSTM(dim, dim, { batchFirst: true, bidirectional: true });
    this.head = new Linear(2 * dim, d.numClasses);
  }
  forward(ids: Tensor): Tensor {
    checkIds("bilstm", ids);
    const [B, T] = ids.shape as [number, number];
    const d = ids.dataSync();
    const lengths = Array.from({ length: B }, (_, b) => {
      let n = T;
      while (n > 0 && d[b * T + n - 1] === 0) n--;
      return Math.max(1, n);
    });
    const [out] = this.lstm.forward(this.emb.forward(ids), undefined, { lengths });
    return this.head.forward(atPositions(out, maskPositions(ids)));
  }
}

/** Models of the text ladder, weakest to strongest. */
export const TEXT_MODELS = ["bow", "mlp", "attn", "bilstm"] as const;

/**
 * A text classifier of the ladder over int32 ids [B, T] (0 = padding, each row holding a
 * `<mask>`). Width scales the embedding size 64 (mlp, bilstm) or model size 64 (attn, rounded to
 * a multiple of its 4 heads); "bow" has no width.
 *
 * @example
 * const m = tg.w2s.createTextModel({ name: "attn", width: 0.5 }, { vocabSize: 20, numClasses: 3, maxLen: 8 });
 * const ids = tg.tensor([[5, 4, 7, 0], [4, 9, 9, 6]], { dtype: "int32" }); // id 4 is <mask>
 * console.log(m.forward(ids).shape); // [2, 3]
 */
export function createTextModel(spec: ModelSpec, dims: TextModelDims): Layer {
  const op = "createTextModel";
  for (const [k, v] of Object.entries(dims)) {
    if (!(Number.isInteger(v) && v > 0)) {
      throw new TsgradError(op, `${k} must be a positive integer, got ${v}`);
    }
  }
  if (!(dims.vocabSize > MASK_ID)) {
    throw new TsgradError(
      op,
      `vocabSize ${dims.vocabSize} leaves no room for ${MASK_TOKEN} (id ${MASK_ID})`,
    );
  }
  const dim = Math.max(4, Math.round(64 * spec.width));
  switch (spec.name) {
    case "bow":
      if (spec.width !== 1) {
        throw new TsgradError(op, `bow has no width to scale (got ${modelLabel(spec)})`);
      }
      return new BagOfWords(dims);
    case "mlp":
      return new WindowMlp(dims, dim);
    case "attn":
      return new AttentionClassifier(dims, 4 * Math.max(1, Math.round(dim / 4)));
    case "bilstm":
      return new BiLstmClassifier(dims, dim);
    default:
      throw new TsgradError(op, `unknown text model "${spec.name}" (${TEXT_MODELS.join(", ")})`);
  }
}
