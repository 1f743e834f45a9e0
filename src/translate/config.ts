/**
 * The configuration of a translation training run: one flat object whose defaults are the schema.
 * Everything that changes the trained model is here (so the run folder, named from the config's
 * hash, identifies the result); where the data lives and how progress is shown are run options.
 */
import { TsgradError } from "../tensor/errors.js";

/** Languages of the bundled Multi30k corpus. */
export type Lang = "en" | "fr" | "de";
/** The two model families: Sutskever et al. (2014) and an attentional encoder–decoder. */
export type ModelKind = "seq2seq" | "seq2seq-attention";
/** Data splits: Multi30k's train, val and test_2016_flickr ("test"). */
export type Split = "train" | "val" | "test";

/** Everything that decides a trained translation model. */
export interface TranslateConfig {
  /** Source and target language. */
  src: Lang;
  tgt: Lang;
  model: ModelKind;
  /** Word-level (13a tokens) or BPE subwords. */
  tokenizer: "word" | "bpe";
  /** BPE merges to learn (the vocabulary is about this plus the character inventory). */
  bpeMerges: number;
  /** One tokeniser fitted on both languages (true) or one per language. */
  jointVocab: boolean;
  /** Word: keep words seen this often. BPE: stop merging below this pair frequency. */
  vocabMinFreq: number;
  /** Lowercase text before tokenising (BLEU is then computed against lowercased output). */
  lowercase: boolean;
  /** Tokens per side kept in training; longer inputs to the translator are cut (with a warning). */
  maxLen: number;
  /** Use only the first N training pairs (0: all), after the `trainMaxWords` filter. */
  trainLimit: number;
  /** Keep only training pairs with at most this many words per side (0: no filter). */
  trainMaxWords: number;
  /**
   * The split validated on each epoch (whose BLEU picks the best checkpoint): "val" normally;
   * "train" makes a run measure how well it fits its own training pairs (the `--quick` check).
   */
  validSplit: Split;
  /** Validate on the first N pairs of `validSplit` (0: all). */
  validLimit: number;
  /**
   * How training batches are formed: "pooled" sorts by length within pools of 100 batches (little
   * padding, batches differ from epoch to epoch); "exact" puts sources of one length together
   * wherever it can (no padding in the encoder, so a backend can run it as one fused kernel), at
   * the price of less varied batches: on the `--quick` set it slowed learning (train loss after
   * 16 epochs 2.05 instead of 1.12).
   */
  batching: "exact" | "pooled";
  embed: number;
  hidden: number;
  layers: number;
  dropout: number;
  /** Upper bound on epochs (the time budget or early stopping may end training sooner). */
  epochs: number;
  batchSize: number;
  /** Adam, or plain SGD as in Sutskever et al. */
  optimizer: "adam" | "sgd";
  lr: number;
  /** SGD momentum (ignored by Adam). */
  momentum: number;
  /** Clip the global gradient norm to this (Sutskever et al.: 5); 0 disables clipping. */
  clip: number;
  labelSmoothing: number;
  /**
   * Learning-rate decay: "plateau" multiplies the lr by `decayFactor` when validation BLEU has not
   * improved for more than `decayPatience` epochs; "step" multiplies it by `decayFactor` after
   * every epoch from epoch `decayStart` (1-based) on, as Sutskever et al. halved it after epoch 5.
   */
  lrDecay: "plateau" | "step" | "none";
  decayFactor: number;
  decayPatience: number;
  decayStart: number;
  /** Feed the source reversed (Sutskever et al.'s trick); unset, true for "seq2seq" only. */
  reverseSource: boolean;
  /**
   * "seq2seq" only: also feed the encoder's final top-layer state to every decoder step and to
   * the output layer (Cho et al. 2014; still no attention). See `tg.models.Seq2Seq`.
   */
  contextFeed: boolean;
  /** Beam size for the per-epoch validation BLEU (1: greedy). */
  beam: number;
  /** Beam size for the final evaluation of the best checkpoint. */
  testBeam: number;
  /** Beam-search length normalisation exponent α (score = log p / length^α). */
  lengthPenalty: number;
  /** Stop after this many epochs without a better validation BLEU (0: never). */
  patience: number;
  /** Training time budget in minutes, across resumes (0: none). */
  maxMinutes: number;
  /** Stop after this many optimizer steps (0: no limit). */
  maxSteps: number;
  /** Splits on which the best checkpoint is scored at the end ("train" = the pairs trained on). */
  finalEval: Split[];
  seed: number;
}

/**
 * Defaults: an attentional model with a joint BPE vocabulary of about 8k, sized for the
 * Multi30k En→Fr recipe (see recipes/multi30k-attention).
 */
export const DEFAULT_CONFIG: Readonly<TranslateConfig> = Object.freeze({
  src: "en",
  tgt: "fr",
  model: "seq2seq-attention",
  tokenizer: "bpe",
  bpeMerges: 8000,
  jointVocab: true,
  vocabMinFreq: 2,
  lowercase: false,
  maxLen: 80,
  trainLimit: 0,
  trainMaxWords: 0,
  validSplit: "val",
  validLimit: 0,
  batching: "pooled",
  embed: 256,
  hidden: 256,
  layers: 1,
  dropout: 0.3,
  epochs: 20,
  batchSize: 64,
  optimizer: "adam",
  lr: 1e-3,
  momentum: 0,
  clip: 5,
  labelSmoothing: 0,
  lrDecay: "plateau",
  decayFactor: 0.5,
  decayPatience: 0,
  decayStart: 6,
  reverseSource: false,
  contextFeed: false,
  beam: 1,
  testBeam: 5,
  lengthPenalty: 1,
  patience: 4,
  maxMinutes: 0,
  maxSteps: 0,
  finalEval: ["test"],
  seed: 1,
} satisfies TranslateConfig);

/**
 * The `--quick` variant: a tiny word-level model trained on 120 short training pairs (at most 6
 * words a side) until it translates them: validation and the final score are on those same
 * pairs, so the run measures fitting, which is what CI checks (a threshold on that BLEU).
 */
export const QUICK_CONFIG: Readonly<Partial<TranslateConfig>> = Object.freeze({
  tokenizer: "word",
  jointVocab: false,
  vocabMinFreq: 1,
  trainLimit: 120,
  trainMaxWords: 6,
  validSplit: "train",
  validLimit: 24,
  embed: 32,
  hidden: 64,
  layers: 1,
  dropout: 0,
  epochs: 16,
  batchSize: 20,
  lr: 0.02,
  lrDecay: "none",
  patience: 0,
  beam: 1,
  testBeam: 1,
  finalEval: ["train"],
} satisfies Partial<TranslateConfig>);

const CHOICES = {
  src: ["en", "fr", "de"],
  tgt: ["en", "fr", "de"],
  model: ["seq2seq", "seq2seq-attention"],
  tokenizer: ["word", "bpe"],
  optimizer: ["adam", "sgd"],
  lrDecay: ["plateau", "step", "none"],
  batching: ["exact", "pooled"],
} as const;

const POSITIVE_INTS = [
  "bpeMerges",
  "vocabMinFreq",
  "maxLen",
  "embed",
  "hidden",
  "layers",
  "epochs",
  "batchSize",
  "beam",
  "testBeam",
  "decayStart",
] as const;
const NON_NEGATIVE_INTS = [
  "trainLimit",
  "trainMaxWords",
  "validLimit",
  "decayPatience",
  "patience",
  "maxSteps",
] as const;

/**
 * Split names as users write them: "test_2016_flickr" is Multi30k's test set ("test").
 *
 * @example
 * console.log(tg.translate.normalizeSplit("test_2016_flickr"), tg.translate.normalizeSplit("val")); // "test" "val"
 */
export function normalizeSplit(name: string): Split {
  if (name === "test_2016_flickr") return "test";
  if (name === "train" || name === "val" || name === "test") return name;
  throw new TsgradError(
    "translate",
    `unknown split "${name}" (train, val, test_2016_flickr or its alias test)`,
  );
}

/**
 * Fill a partial config with {@link DEFAULT_CONFIG} and check every field: unknown keys, wrong
 * types and out-of-range values are errors naming the field and the value.
 *
 * @example
 * const c = tg.translate.resolveConfig({ model: "seq2seq", hidden: 512 });
 * console.log(c.hidden, c.embed, c.tokenizer); // 512 256 "bpe"
 * let message = "";
 * try {
 *   tg.translate.resolveConfig({ dropout: 1.5 });
 * } catch (e) {
 *   message = (e as Error).message;
 * }
 * console.log(message); // "translate config: dropout must be in [0, 1), got 1.5"
 */
export function resolveConfig(partial: Readonly<Partial<TranslateConfig>> = {}): TranslateConfig {
  const op = "translate config";
  const fail = (msg: string): never => {
    throw new TsgradError(op, msg);
  };
  if (partial === null || typeof partial !== "object" || Array.isArray(partial)) {
    fail(`expected an object, got ${JSON.stringify(partial)}`);
  }
  for (const k of Object.keys(partial)) {
    if (!(k in DEFAULT_CONFIG)) fail(`unknown key "${k}"`);
  }
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const c = { ...DEFAULT_CONFIG, ...defined };
  for (const [k, allowed] of Object.entries(CHOICES)) {
    const v = c[k as keyof typeof CHOICES];
    if (!(allowed as readonly string[]).includes(v)) {
      fail(`${k} must be one of ${allowed.join(", ")}, got ${JSON.stringify(v)}`);
    }
  }
  if (c.src === c.tgt) fail(`src and tgt are both "${c.src}"`);
  for (const k of POSITIVE_INTS) {
    if (!Number.isInteger(c[k]) || c[k] < 1) {
      fail(`${k} must be a positive integer, got ${JSON.stringify(c[k])}`);
    }
  }
  for (const k of NON_NEGATIVE_INTS) {
    if (!Number.isInteger(c[k]) || c[k] < 0) {
      fail(`${k} must be a non-negative integer, got ${JSON.stringify(c[k])}`);
    }
  }
  if (!Number.isInteger(c.seed) || c.seed < 0 || c.seed >= 2 ** 32) {
    fail(`seed must be an integer in [0, 2^32), got ${JSON.stringify(c.seed)}`);
  }
  const inRange = (k: keyof TranslateConfig, lo: number, hi: number, hiOpen = true) => {
    const v = c[k] as unknown;
    if (typeof v !== "number" || !(v >= lo && (hiOpen ? v < hi : v <= hi))) {
      fail(`${k} must be in [${lo}, ${hi}${hiOpen ? ")" : "]"}, got ${JSON.stringify(v)}`);
    }
  };
  inRange("dropout", 0, 1);
  inRange("labelSmoothing", 0, 1);
  inRange("momentum", 0, 1);
  inRange("decayFactor", 0, 1);
  inRange("lengthPenalty", 0, 10, false);
  for (const k of ["lr", "clip", "maxMinutes"] as const) {
    if (
      typeof c[k] !== "number" ||
      !Number.isFinite(c[k]) ||
      c[k] < 0 ||
      (k === "lr" && c[k] === 0)
    ) {
      fail(
        `${k} must be a ${k === "lr" ? "positive" : "non-negative"} number, got ${JSON.stringify(c[k])}`,
      );
    }
  }
  for (const k of ["jointVocab", "lowercase", "reverseSource", "contextFeed"] as const) {
    if (typeof c[k] !== "boolean") fail(`${k} must be true or false, got ${JSON.stringify(c[k])}`);
  }
  if (!Array.isArray(c.finalEval)) fail(`finalEval must be a list of splits`);
  const finalEval = c.finalEval.map((s) => normalizeSplit(String(s)));
  const validSplit = normalizeSplit(String(c.validSplit));
  if (c.contextFeed && c.model !== "seq2seq") fail(`contextFeed applies to model "seq2seq" only`);
  // Reversal helps the model without attention (Sutskever et al.) and is moot with it.
  if (partial.reverseSource === undefined) c.reverseSource = c.model === "seq2seq";
  return { ...c, validSplit, finalEval };
}
