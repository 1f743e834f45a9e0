/**
 * Word-level tokenisation: NFC, optional lowercasing, sacreBLEU's 13a pre-tokenisation, and a
 * frequency-cut vocabulary. Output is turned back into text by {@link detokenize13a}, so BLEU on
 * the decoded text counts the same tokens the model produced.
 */
import { TsgradError } from "../tensor/errors.js";
import { fingerprintOf } from "./hash.js";
import type { TextTokenizer } from "./tokenizer.js";
import { detokenize13a, tokenize13a } from "./tokenize-13a.js";
import {
  BOS_ID,
  EOS_ID,
  PAD_ID,
  SPECIAL_TOKENS,
  UNK_ID,
  Vocab,
  type VocabBuildOptions,
  checkFormat,
  checkStoredFingerprint,
  stripSpecials,
} from "./vocab.js";

/** Options for {@link WordTokenizer.fit}. */
export interface WordTokenizerOptions extends VocabBuildOptions {
  /** Lowercase before tokenising (the vocabulary is then lowercase too). Default false. */
  lowercase?: boolean;
  /** Language of the text, for detokenisation conventions (see {@link detokenize13a}). */
  lang?: string;
}

/** Serialised {@link WordTokenizer}. */
export interface WordTokenizerJSON {
  format: "tsgrad.text.word";
  version: 1;
  lowercase: boolean;
  lang: string;
  tokens: string[];
  fingerprint: string;
}

/**
 * Word-level tokeniser with `<pad>`=0, `<bos>`, `<eos>`, `<unk>` and a vocabulary fitted on
 * training text.
 *
 * @example
 * const tok = tg.text.WordTokenizer.fit(["A dog runs.", "A cat sits."], { lowercase: true });
 * const ids = tok.encode("A dog sits, happily.");
 * console.log(tok.tokenize("A dog sits, happily.")); // ["a", "dog", "sits", ",", "happily", "."]
 * console.log(tok.decode(ids)); // "a dog sits <unk> <unk>."
 */
export class WordTokenizer implements TextTokenizer {
  readonly kind = "word";
  readonly padId = PAD_ID;
  readonly bosId = BOS_ID;
  readonly eosId = EOS_ID;
  readonly unkId = UNK_ID;
  readonly lowercase: boolean;
  readonly lang: string;
  private cachedFingerprint: string | null = null;

  constructor(
    readonly vocab: Vocab,
    opts: { lowercase?: boolean; lang?: string } = {},
  ) {
    this.lowercase = opts.lowercase ?? false;
    this.lang = opts.lang ?? "en";
  }

  /** Fit a vocabulary on training sentences (raw text, one sentence per string). */
  static fit(sentences: Iterable<string>, opts: WordTokenizerOptions = {}): WordTokenizer {
    const pre = new WordTokenizer(new Vocab(SPECIAL_TOKENS), opts);
    const tokenised = function* () {
      for (const s of sentences) yield pre.tokenize(s);
    };
    return new WordTokenizer(Vocab.build(tokenised(), opts), opts);
  }

  /** Number of ids. */
  get size(): number {
    return this.vocab.size;
  }

  /** NFC, optional lowercasing, then 13a: the tokens a sentence is made of. */
  tokenize(text: string): string[] {
    let s = text.normalize("NFC");
    if (this.lowercase) s = s.toLowerCase();
    const t = tokenize13a(s);
    return t === "" ? [] : t.split(" ");
  }

  /** Token ids of `text` (no `<bos>`/`<eos>`: the batcher adds those). */
  encode(text: string): number[] {
    return this.vocab.encode(this.tokenize(text));
  }

  /** Tokens of `ids` after {@link stripSpecials}. */
  decodeTokens(ids: ArrayLike<number>): string[] {
    return this.vocab.decode(stripSpecials(ids));
  }

  /** Readable text of `ids`: specials stripped, then detokenised. */
  decode(ids: ArrayLike<number>): string {
    return detokenize13a(this.decodeTokens(ids), { lang: this.lang });
  }

  /** Hash of everything that decides the ids (lowercasing, tokenisation, token list). */
  get fingerprint(): string {
    this.cachedFingerprint ??= fingerprintOf({
      kind: "word",
      pretokenize: "13a",
      lowercase: this.lowercase,
      tokens: this.vocab.tokens,
    });
    return this.cachedFingerprint;
  }

  toJSON(): WordTokenizerJSON {
    return {
      format: "tsgrad.text.word",
      version: 1,
      lowercase: this.lowercase,
      lang: this.lang,
      tokens: [...this.vocab.tokens],
      fingerprint: this.fingerprint,
    };
  }

  /** Restore a tokeniser saved with {@link WordTokenizer.toJSON}, verifying its fingerprint. */
  static fromJSON(json: WordTokenizerJSON): WordTokenizer {
    checkFormat(json, "tsgrad.text.word", "WordTokenizer.fromJSON");
    if (typeof json.lowercase !== "boolean") {
      throw new TsgradError("WordTokenizer.fromJSON", "missing boolean field lowercase");
    }
    const t = new WordTokenizer(new Vocab(json.tokens), json);
    checkStoredFingerprint(json.fingerprint, t.fingerprint, "WordTokenizer.fromJSON");
    return t;
  }
}
