/**
 * Byte-pair encoding (Sennrich, Haddow & Birch 2016, "Neural Machine Translation of Rare Words
 * with Subword Units"), subword-nmt style. Words (after pre-tokenisation) start as characters,
 * the last one carrying the end-of-word marker `</w>`; learning repeatedly merges the most
 * frequent adjacent pair, and applying replays the merges greedily by rank. Because every word's
 * last subword carries `</w>`, decoding recovers the pre-tokenised words exactly.
 *
 * Learning keeps pair counts and a pair → words index up to date incrementally (only words that
 * contain the merged pair are touched) and picks the best pair from a lazy max-heap, instead of
 * recounting all pairs after each merge.
 */
import { TsgradError } from "../tensor/errors.js";
import { fingerprintOf } from "./hash.js";
import { pySplit } from "./strings.js";
import type { TextTokenizer } from "./tokenizer.js";
import { detokenize13a, tokenize13a } from "./tokenize-13a.js";
import {
  BOS_ID,
  EOS_ID,
  PAD_ID,
  SPECIAL_TOKENS,
  UNK_ID,
  Vocab,
  checkFormat,
  checkStoredFingerprint,
  stripSpecials,
} from "./vocab.js";

/** Marker appended to the last subword of every word. */
export const END_OF_WORD = "</w>";

/** How text is cut into words before BPE. */
export type Pretokenize = "13a" | "whitespace";

/** Options for {@link BpeTokenizer.fit}. */
export interface BpeOptions {
  /** Number of merges to learn (fewer if pairs run out or fall below `minFrequency`). */
  numMerges: number;
  /** Stop when the best pair occurs fewer times than this. Default 2 (as subword-nmt). */
  minFrequency?: number;
  /** Lowercase before learning / applying. Default false. */
  lowercase?: boolean;
  /** `"13a"` (sacreBLEU's tokeniser, default) or `"whitespace"` (split on spaces only). */
  pretokenize?: Pretokenize;
  /** Language, for detokenisation conventions when `pretokenize` is 13a. */
  lang?: string;
}

/** Serialised {@link BpeTokenizer}. */
export interface BpeTokenizerJSON {
  format: "tsgrad.text.bpe";
  version: 1;
  lowercase: boolean;
  pretokenize: Pretokenize;
  lang: string;
  merges: [string, string][];
  tokens: string[];
  fingerprint: string;
}

const cmpStr = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Learn up to `numMerges` merges from word frequencies. Ties between equally frequent pairs go to
 * the pair whose (left, right) strings come first in code-unit order, so the result does not
 * depend on input order.
 *
 * @example
 * const counts = new Map([["low", 5], ["lower", 2], ["newest", 6], ["widest", 3]]);
 * console.log(tg.text.learnBpe(counts, 3)); // [["e", "s"], ["es", "t</w>"], ["l", "o"]]
 */
export function learnBpe(
  wordCounts: ReadonlyMap<string, number>,
  numMerges: number,
  minFrequency = 2,
): [string, string][] {
  if (!Number.isInteger(numMerges) || numMerges < 0) {
    throw new TsgradError("learnBpe", `numMerges must be a non-negative integer, got ${numMerges}`);
  }
  const symId = new Map<string, number>();
  const symStr: string[] = [];
  const intern = (s: string): number => {
    let id = symId.get(s);
    if (id === undefined) {
      id = symStr.length;
      symId.set(s, id);
      symStr.push(s);
    }
    return id;
  };
  // Pair (a, b) of symbol ids is the number a * K + b (exact: ids stay far below 2^21).
  const K = 0x200000;
  const words: number[][] = [];
  const freq: number[] = [];
  for (const [w, f] of wordCounts) {
    if (w.includes(END_OF_WORD)) {
      throw new TsgradError("learnBpe", `word ${JSON.stringify(w)} contains ${END_OF_WORD}`);
    }
    const cps = Array.from(w);
    if (cps.length === 0 || !(f > 0)) continue;
    words.push(cps.map((c, i) => intern(i === cps.length - 1 ? c + END_OF_WORD : c)));
    freq.push(f);
  }
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  const addWord = (key: number, w: number) => {
    const list = pairWords.get(key);
    if (list === undefined) pairWords.set(key, [w]);
    else if (list[list.length - 1] !== w) list.push(w);
  };
  words.forEach((syms, w) => {
    for (let i = 0; i + 1 < syms.length; i++) {
      const key = syms[i]! * K + syms[i + 1]!;
      pairCount.set(key, (pairCount.get(key) ?? 0) + freq[w]!);
      addWord(key, w);
    }
  });

  // Max-heap of (count, key) with lazy deletion: an entry is live iff its count is current.
  const heapCount: number[] = [];
  const heapKey: number[] = [];
  const before = (i: number, j: number): boolean => {
    const ci = heapCount[i]!;
    const cj = heapCount[j]!;
    if (ci !== cj) return ci > cj;
    const ki = heapKey[i]!;
    const kj = heapKey[j]!;
    return (
      (cmpStr(symStr[Math.floor(ki / K)]!, symStr[Math.floor(kj / K)]!) ||
        cmpStr(symStr[ki % K]!, symStr[kj % K]!)) < 0
    );
  };
  const swap = (i: number, j: number) => {
    [heapCount[i], heapCount[j]] = [heapCount[j]!, heapCount[i]!];
    [heapKey[i], heapKey[j]] = [heapKey[j]!, heapKey[i]!];
  };
  const push = (count: number, key: number) => {
    heapCount.push(count);
    heapKey.push(key);
    for (let i = heapCount.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!before(i, p)) break;
      swap(i, p);
      i = p;
    }
  };
  const pop = () => {
    const last = heapCount.length - 1;
    swap(0, last);
    heapCount.pop();
    heapKey.pop();
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heapCount.length && before(l, m)) m = l;
      if (r < heapCount.length && before(r, m)) m = r;
      if (m === i) break;
      swap(i, m);
      i = m;
    }
  };
  for (const [key, c] of pairCount) push(c, key);

  const merges: [string, string][] = [];
  const seen = new Int32Array(words.length).fill(-1);
  while (merges.length < numMerges) {
    while (heapCount.length > 0 && pairCount.get(heapKey[0]!) !== heapCount[0]) pop();
    if (heapCount.length === 0 || heapCount[0]! < minFrequency) break;
    const key = heapKey[0]!;
    pop();
    const a = Math.floor(key / K);
    const b = key % K;
    const merged = intern(symStr[a]! + symStr[b]!);
    if (symStr.length >= K) throw new TsgradError("learnBpe", "too many symbols");
    const m = merges.length;
    merges.push([symStr[a]!, symStr[b]!]);
    const delta = new Map<number, number>();
    const bump = (k: number, d: number) => delta.set(k, (delta.get(k) ?? 0) + d);
    for (const w of pairWords.get(key) ?? []) {
      if (seen[w] === m) continue;
      seen[w] = m;
      const syms = words[w]!;
      const out: number[] = [];
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
          out.push(merged);
          i++;
        } else out.push(syms[i]!);
      }
      if (out.length === syms.length) continue; // stale index entry: pair no longer here
      const f = freq[w]!;
      for (let i = 0; i + 1 < syms.length; i++) bump(syms[i]! * K + syms[i + 1]!, -f);
      for (let i = 0; i + 1 < out.length; i++) {
        const k = out[i]! * K + out[i + 1]!;
        bump(k, f);
        if (out[i] === merged || out[i + 1] === merged) addWord(k, w);
      }
      words[w] = out;
    }
    pairWords.delete(key);
    for (const [k, d] of delta) {
      if (d === 0) continue;
      const c = (pairCount.get(k) ?? 0) + d;
      if (c <= 0) pairCount.delete(k);
      else {
        pairCount.set(k, c);
        push(c, k);
      }
    }
  }
  return merges;
}

/**
 * A BPE subword tokeniser with the shared specials. Its vocabulary is the specials, a bare `</w>`
 * (emitted after an unknown word-final character so word boundaries survive), every training
 * character with and without `</w>`, and every merge result. Characters never seen in training
 * become `<unk>`.
 *
 * @example
 * const corpus = ["low lower lowest", "new newer newest", "low newest widest", "the lowest news"];
 * const bpe = tg.text.BpeTokenizer.fit(corpus, { numMerges: 8 });
 * const pieces = bpe.tokenize("the newest lows");
 * console.log(pieces); // ["t", "h", "e</w>", "newest</w>", "lo", "w", "s</w>"]
 * console.log(bpe.decode(bpe.encode("the newest lows"))); // "the newest lows"
 */
export class BpeTokenizer implements TextTokenizer {
  readonly kind = "bpe";
  readonly padId = PAD_ID;
  readonly bosId = BOS_ID;
  readonly eosId = EOS_ID;
  readonly unkId = UNK_ID;
  readonly merges: readonly (readonly [string, string])[];
  readonly lowercase: boolean;
  readonly pretokenize: Pretokenize;
  readonly lang: string;
  private readonly ranks = new Map<string, Map<string, number>>();
  private readonly cache = new Map<string, string[]>();
  private readonly eowId: number;
  private cachedFingerprint: string | null = null;

  constructor(
    merges: readonly (readonly [string, string])[],
    readonly vocab: Vocab,
    opts: { lowercase?: boolean; pretokenize?: Pretokenize; lang?: string } = {},
  ) {
    this.merges = merges.map(([a, b]) => [a, b] as const);
    this.lowercase = opts.lowercase ?? false;
    this.pretokenize = opts.pretokenize ?? "13a";
    this.lang = opts.lang ?? "en";
    if (this.pretokenize !== "13a" && this.pretokenize !== "whitespace") {
      throw new TsgradError(
        "BpeTokenizer",
        `unknown pretokenize "${String(this.pretokenize)}" (13a, whitespace)`,
      );
    }
    this.merges.forEach(([a, b], r) => {
      let m = this.ranks.get(a);
      if (m === undefined) this.ranks.set(a, (m = new Map<string, number>()));
      if (!m.has(b)) m.set(b, r);
      if (!vocab.has(a + b)) {
        throw new TsgradError(
          "BpeTokenizer",
          `merge ${r} (${a} + ${b}) produces ${a + b}, which is not in the vocabulary`,
        );
      }
    });
    if (!vocab.has(END_OF_WORD)) {
      throw new TsgradError("BpeTokenizer", `the vocabulary lacks the bare ${END_OF_WORD} token`);
    }
    this.eowId = vocab.id(END_OF_WORD);
  }

  /** Pre-tokenise `sentences`, learn merges on their words, and build the vocabulary. */
  static fit(sentences: Iterable<string>, opts: BpeOptions): BpeTokenizer {
    const pre = new BpeTokenizer([], new Vocab([...SPECIAL_TOKENS, END_OF_WORD]), opts);
    const counts = new Map<string, number>();
    for (const s of sentences) {
      for (const w of pre.words(s)) counts.set(w, (counts.get(w) ?? 0) + 1);
    }
    const merges = learnBpe(counts, opts.numMerges, opts.minFrequency ?? 2);
    const chars = new Set<string>();
    for (const w of counts.keys()) for (const c of w) chars.add(c);
    const tokens: string[] = [...SPECIAL_TOKENS, END_OF_WORD];
    const have = new Set(tokens);
    const add = (t: string) => {
      if (!have.has(t)) {
        have.add(t);
        tokens.push(t);
      }
    };
    for (const c of [...chars].sort(cmpStr)) {
      add(c);
      add(c + END_OF_WORD);
    }
    for (const [a, b] of merges) add(a + b);
    return new BpeTokenizer(merges, new Vocab(tokens), opts);
  }

  /** Number of ids. */
  get size(): number {
    return this.vocab.size;
  }

  /** The words BPE sees: NFC, optional lowercasing, then 13a or whitespace splitting. */
  words(text: string): string[] {
    let s = text.normalize("NFC");
    if (this.lowercase) s = s.toLowerCase();
    if (this.pretokenize === "whitespace") return pySplit(s);
    const t = tokenize13a(s);
    return t === "" ? [] : t.split(" ");
  }

  /** Subwords of one word; the last carries `</w>`. */
  segment(word: string): string[] {
    const hit = this.cache.get(word);
    if (hit !== undefined) return hit;
    if (word.includes(END_OF_WORD)) {
      throw new TsgradError(
        "BpeTokenizer",
        `word ${JSON.stringify(word)} contains the end-of-word marker ${END_OF_WORD}`,
      );
    }
    let syms = Array.from(word);
    if (syms.length === 0) return [];
    syms[syms.length - 1] += END_OF_WORD;
    while (syms.length > 1) {
      let best = Infinity;
      let at = -1;
      for (let i = 0; i + 1 < syms.length; i++) {
        const r = this.ranks.get(syms[i]!)?.get(syms[i + 1]!);
        if (r !== undefined && r < best) {
          best = r;
          at = i;
        }
      }
      if (at < 0) break;
      const a = syms[at]!;
      const b = syms[at + 1]!;
      const out: string[] = [];
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(syms[i]!);
      }
      syms = out;
    }
    if (this.cache.size >= 1 << 16) this.cache.clear();
    this.cache.set(word, syms);
    return syms;
  }

  /** All subwords of a sentence. */
  tokenize(text: string): string[] {
    return this.words(text).flatMap((w) => this.segment(w));
  }

  /** Ids of a sentence; unseen characters become `<unk>` (a final one followed by bare `</w>`). */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const w of this.words(text)) {
      for (const sub of this.segment(w)) {
        const id = this.vocab.id(sub);
        if (id !== UNK_ID || !sub.endsWith(END_OF_WORD)) ids.push(id);
        else {
          // Only a single unseen character can be unknown (merges join known symbols only);
          // when it ends the word, a bare </w> after <unk> keeps the word boundary.
          ids.push(UNK_ID, this.eowId);
        }
      }
    }
    return ids;
  }

  /** The pre-tokenised words of `ids` (specials stripped): exact when no `<unk>` occurs. */
  decodeWords(ids: ArrayLike<number>): string[] {
    const words: string[] = [];
    let cur = "";
    for (const t of this.vocab.decode(stripSpecials(ids))) {
      if (t.endsWith(END_OF_WORD)) {
        words.push(cur + t.slice(0, -END_OF_WORD.length));
        cur = "";
      } else cur += t;
    }
    if (cur !== "") words.push(cur); // output cut off mid-word
    return words;
  }

  /** Readable text of `ids`: words rejoined, then detokenised if the pre-tokeniser was 13a. */
  decode(ids: ArrayLike<number>): string {
    const words = this.decodeWords(ids);
    return this.pretokenize === "13a" ? detokenize13a(words, { lang: this.lang }) : words.join(" ");
  }

  /** Hash of everything that decides the ids (pre-tokenisation, casing, merges, tokens). */
  get fingerprint(): string {
    this.cachedFingerprint ??= fingerprintOf({
      kind: "bpe",
      pretokenize: this.pretokenize,
      lowercase: this.lowercase,
      merges: this.merges,
      tokens: this.vocab.tokens,
    });
    return this.cachedFingerprint;
  }

  toJSON(): BpeTokenizerJSON {
    return {
      format: "tsgrad.text.bpe",
      version: 1,
      lowercase: this.lowercase,
      pretokenize: this.pretokenize,
      lang: this.lang,
      merges: this.merges.map(([a, b]) => [a, b]),
      tokens: [...this.vocab.tokens],
      fingerprint: this.fingerprint,
    };
  }

  /** Restore a tokeniser saved with {@link BpeTokenizer.toJSON}, verifying its fingerprint. */
  static fromJSON(json: BpeTokenizerJSON): BpeTokenizer {
    checkFormat(json, "tsgrad.text.bpe", "BpeTokenizer.fromJSON");
    if (
      !Array.isArray(json.merges) ||
      json.merges.some((m) => !Array.isArray(m) || m.length !== 2)
    ) {
      throw new TsgradError(
        "BpeTokenizer.fromJSON",
        "merges must be a list of [left, right] pairs",
      );
    }
    const t = new BpeTokenizer(json.merges, new Vocab(json.tokens), json);
    checkStoredFingerprint(json.fingerprint, t.fingerprint, "BpeTokenizer.fromJSON");
    return t;
  }
}
