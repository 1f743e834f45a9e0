/**
 * Token ↔ id tables. Every sequence-to-sequence vocabulary starts with the same four specials, so
 * padding is always id 0 (what masks and `ignoreIndex` expect) and the ids of `<bos>`, `<eos>`
 * and `<unk>` never depend on the corpus.
 */
import { TsgradError } from "../tensor/errors.js";
import { fingerprintOf } from "./hash.js";

/** The special tokens, in id order: `<pad>`=0, `<bos>`=1, `<eos>`=2, `<unk>`=3. */
export const SPECIAL_TOKENS = ["<pad>", "<bos>", "<eos>", "<unk>"] as const;
/** Id of `<pad>`. */
export const PAD_ID = 0;
/** Id of `<bos>` (decoder start). */
export const BOS_ID = 1;
/** Id of `<eos>` (end of sentence). */
export const EOS_ID = 2;
/** Id of `<unk>` (anything not in the vocabulary). */
export const UNK_ID = 3;

/** Serialised {@link Vocab}. */
export interface VocabJSON {
  format: "tsgrad.text.vocab";
  version: 1;
  tokens: string[];
  fingerprint: string;
}

/** Options for {@link Vocab.build}. */
export interface VocabBuildOptions {
  /** Keep tokens seen at least this often. Default 1. */
  minFreq?: number;
  /** Largest vocabulary size, specials included. Default unlimited. */
  maxSize?: number;
}

/**
 * Ids of a model output with the specials removed: a leading `<bos>` and every `<pad>` are
 * skipped, and decoding stops at the first `<eos>`. `<unk>` is kept.
 *
 * @example
 * console.log(tg.text.stripSpecials([1, 7, 3, 8, 2, 9, 0])); // [7, 3, 8]
 */
export function stripSpecials(ids: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id === EOS_ID) break;
    if (id === PAD_ID || id === BOS_ID) continue;
    out.push(id);
  }
  return out;
}

/**
 * A vocabulary: a list of tokens whose positions are their ids, starting with
 * {@link SPECIAL_TOKENS}. Unknown tokens map to `<unk>`.
 *
 * @example
 * const v = tg.text.Vocab.build([["a", "b", "a"], ["a", "c"]], { minFreq: 2 });
 * console.log(v.tokens); // ["<pad>", "<bos>", "<eos>", "<unk>", "a"]
 * console.log(v.encode(["a", "zzz"]), v.decode([4, 3])); // [4, 3] ["a", "<unk>"]
 */
export class Vocab {
  /** Token of each id. */
  readonly tokens: readonly string[];
  private readonly index = new Map<string, number>();
  private cachedFingerprint: string | null = null;

  /** A vocabulary over `tokens` (ids = positions); the first four must be the specials. */
  constructor(tokens: readonly string[]) {
    SPECIAL_TOKENS.forEach((s, i) => {
      if (tokens[i] !== s) {
        throw new TsgradError(
          "Vocab",
          `token ${i} must be the special ${s}, got ${JSON.stringify(tokens[i])}`,
        );
      }
    });
    tokens.forEach((t, i) => {
      if (this.index.has(t)) {
        throw new TsgradError(
          "Vocab",
          `duplicate token ${JSON.stringify(t)} at ids ${this.index.get(t)} and ${i}`,
        );
      }
      this.index.set(t, i);
    });
    this.tokens = [...tokens];
  }

  /**
   * Count tokens and keep the frequent ones: ordered by count (descending), ties by code-unit
   * order, so the same corpus always gives the same ids.
   */
  static build(sentences: Iterable<readonly string[]>, opts: VocabBuildOptions = {}): Vocab {
    const minFreq = opts.minFreq ?? 1;
    const maxSize = opts.maxSize ?? Infinity;
    if (!(maxSize >= SPECIAL_TOKENS.length)) {
      throw new TsgradError(
        "Vocab.build",
        `maxSize must be >= ${SPECIAL_TOKENS.length} (the specials), got ${maxSize}`,
      );
    }
    const counts = new Map<string, number>();
    for (const s of sentences) for (const t of s) counts.set(t, (counts.get(t) ?? 0) + 1);
    const specials = new Set<string>(SPECIAL_TOKENS);
    const kept = [...counts]
      .filter(([t, c]) => c >= minFreq && !specials.has(t))
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, maxSize - SPECIAL_TOKENS.length)
      .map(([t]) => t);
    return new Vocab([...SPECIAL_TOKENS, ...kept]);
  }

  /** Number of ids. */
  get size(): number {
    return this.tokens.length;
  }

  /** Whether `token` has an id of its own. */
  has(token: string): boolean {
    return this.index.has(token);
  }

  /** The id of `token`, or {@link UNK_ID}. */
  id(token: string): number {
    return this.index.get(token) ?? UNK_ID;
  }

  /** The token of `id`; throws for ids outside the vocabulary. */
  token(id: number): string {
    const t = this.tokens[id];
    if (t === undefined) {
      throw new TsgradError("Vocab", `id ${id} is outside the vocabulary of size ${this.size}`);
    }
    return t;
  }

  /** Ids of `tokens`, unknown ones as {@link UNK_ID}. */
  encode(tokens: readonly string[]): number[] {
    return tokens.map((t) => this.id(t));
  }

  /** Tokens of `ids` (specials included; see {@link stripSpecials}). */
  decode(ids: ArrayLike<number>): string[] {
    return Array.from(ids, (id) => this.token(id));
  }

  /** A stable hash of the token list: equal fingerprints mean identical ids. */
  get fingerprint(): string {
    this.cachedFingerprint ??= fingerprintOf({ kind: "vocab", tokens: this.tokens });
    return this.cachedFingerprint;
  }

  toJSON(): VocabJSON {
    return {
      format: "tsgrad.text.vocab",
      version: 1,
      tokens: [...this.tokens],
      fingerprint: this.fingerprint,
    };
  }

  /** Restore a vocabulary, checking that its stored fingerprint matches its tokens. */
  static fromJSON(json: VocabJSON): Vocab {
    checkFormat(json, "tsgrad.text.vocab", "Vocab.fromJSON");
    const v = new Vocab(json.tokens);
    checkStoredFingerprint(json.fingerprint, v.fingerprint, "Vocab.fromJSON");
    return v;
  }
}

/** Throw unless `json` is a version-1 object of the given format. */
export function checkFormat(json: unknown, format: string, op: string): void {
  const j = json as { format?: unknown; version?: unknown } | null;
  if (j === null || typeof j !== "object" || j.format !== format) {
    throw new TsgradError(
      op,
      `expected a "${format}" object, got format ${JSON.stringify(j?.format)}`,
    );
  }
  if (j.version !== 1) {
    throw new TsgradError(op, `unsupported ${format} version ${JSON.stringify(j.version)}`);
  }
}

/** Throw when a file's recorded fingerprint disagrees with its contents (edited or corrupted). */
export function checkStoredFingerprint(stored: unknown, computed: string, op: string): void {
  if (stored !== undefined && stored !== computed) {
    throw new TsgradError(
      op,
      `stored fingerprint ${JSON.stringify(stored)} does not match the contents (${computed}): the file was edited or corrupted`,
    );
  }
}
