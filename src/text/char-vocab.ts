/**
 * Character-level vocabulary for character language models (Tiny Shakespeare). Characters are
 * Unicode code points, ordered by code point as nanoGPT's `sorted(set(text))` does, so Tiny
 * Shakespeare gives the same 65 ids as nanoGPT's shakespeare_char.
 */
import { TsgradError } from "../tensor/errors.js";
import { fingerprintOf } from "./hash.js";
import { checkFormat, checkStoredFingerprint } from "./vocab.js";

/** Serialised {@link CharVocab}. */
export interface CharVocabJSON {
  format: "tsgrad.text.char";
  version: 1;
  chars: string[];
  unk: boolean;
  fingerprint: string;
}

/** What to do with characters that are not in the vocabulary. */
export interface CharVocabOptions {
  /**
   * `false` (default): encoding an unknown character throws, naming it and its position.
   * `true`: one extra id (the last) stands for every unknown character and decodes to U+FFFD.
   */
  unk?: boolean;
}

const REPLACEMENT = "\uFFFD";

/**
 * Maps each character of a text to an id and back.
 *
 * @example
 * const v = tg.text.CharVocab.fromText("hello world");
 * console.log(v.size, v.chars.join("")); // 8 " dehlorw"
 * const ids = v.encode("hold");
 * console.log(Array.from(ids), v.decode(ids)); // [3, 5, 4, 1] "hold"
 * const lenient = tg.text.CharVocab.fromText("ab", { unk: true });
 * console.log(lenient.decode(lenient.encode("abc"))); // "ab\uFFFD"
 */
export class CharVocab {
  /** Character of each id (excluding the unknown id). */
  readonly chars: readonly string[];
  readonly unk: boolean;
  private readonly index = new Map<string, number>();
  private cachedFingerprint: string | null = null;

  /** A vocabulary over `chars` (single code points, no duplicates), ids in the order given. */
  constructor(chars: readonly string[], opts: CharVocabOptions = {}) {
    chars.forEach((c, i) => {
      if (Array.from(c).length !== 1) {
        throw new TsgradError("CharVocab", `entry ${i} is not one character: ${JSON.stringify(c)}`);
      }
      if (this.index.has(c)) {
        throw new TsgradError("CharVocab", `duplicate character ${JSON.stringify(c)} at id ${i}`);
      }
      this.index.set(c, i);
    });
    this.chars = [...chars];
    this.unk = opts.unk ?? false;
  }

  /** The vocabulary of the distinct characters of `text`, sorted by code point. */
  static fromText(text: string, opts: CharVocabOptions = {}): CharVocab {
    const set = new Set(text); // iterates code points
    const chars = [...set].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    return new CharVocab(chars, opts);
  }

  /** Number of ids, including the unknown id when `unk` is on. */
  get size(): number {
    return this.chars.length + (this.unk ? 1 : 0);
  }

  /** The id unknown characters get, or -1 when they are an error. */
  get unkId(): number {
    return this.unk ? this.chars.length : -1;
  }

  /** Ids of every character of `text`. */
  encode(text: string): Int32Array {
    const out = new Int32Array(text.length); // upper bound: code points <= code units
    let n = 0;
    let pos = 0;
    for (const c of text) {
      const id = this.index.get(c);
      if (id !== undefined) out[n++] = id;
      else if (this.unk) out[n++] = this.chars.length;
      else {
        const cp = c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
        throw new TsgradError(
          "CharVocab.encode",
          `character ${JSON.stringify(c)} (U+${cp}) at position ${pos} is not in the vocabulary of ${this.chars.length} characters; build it with { unk: true } to map unknown characters to one id`,
        );
      }
      pos++;
    }
    return n === out.length ? out : out.slice(0, n);
  }

  /** Text of `ids`; the unknown id decodes to U+FFFD. */
  decode(ids: ArrayLike<number>): string {
    let s = "";
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const c = this.chars[id];
      if (c !== undefined) s += c;
      else if (this.unk && id === this.chars.length) s += REPLACEMENT;
      else {
        throw new TsgradError(
          "CharVocab.decode",
          `id ${id} at position ${i} is outside the vocabulary of size ${this.size}`,
        );
      }
    }
    return s;
  }

  /** A stable hash of the character list and unknown handling. */
  get fingerprint(): string {
    this.cachedFingerprint ??= fingerprintOf({ kind: "char", unk: this.unk, chars: this.chars });
    return this.cachedFingerprint;
  }

  toJSON(): CharVocabJSON {
    return {
      format: "tsgrad.text.char",
      version: 1,
      chars: [...this.chars],
      unk: this.unk,
      fingerprint: this.fingerprint,
    };
  }

  /** Restore a vocabulary saved with {@link CharVocab.toJSON}, verifying its fingerprint. */
  static fromJSON(json: CharVocabJSON): CharVocab {
    checkFormat(json, "tsgrad.text.char", "CharVocab.fromJSON");
    const v = new CharVocab(json.chars, { unk: json.unk === true });
    checkStoredFingerprint(json.fingerprint, v.fingerprint, "CharVocab.fromJSON");
    return v;
  }
}
