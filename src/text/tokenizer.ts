/**
 * The interface the sequence-to-sequence code programs against, and loading a saved tokeniser of
 * any kind from the JSON a checkpoint carries.
 */
import { TsgradError } from "../tensor/errors.js";
import { BpeTokenizer, type BpeTokenizerJSON } from "./bpe.js";
import { WordTokenizer, type WordTokenizerJSON } from "./word-tokenizer.js";

/** A text ↔ ids mapping with the shared specials (`<pad>`=0, `<bos>`, `<eos>`, `<unk>`). */
export interface TextTokenizer {
  readonly kind: "word" | "bpe";
  /** Number of ids (the embedding / output size). */
  readonly size: number;
  readonly padId: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly unkId: number;
  /** Stable hash of everything that decides the ids; save it with the model. */
  readonly fingerprint: string;
  /** Ids of a sentence, without `<bos>`/`<eos>`. */
  encode(text: string): number[];
  /** Text of model output ids: leading `<bos>` and `<pad>`s skipped, stops at `<eos>`. */
  decode(ids: ArrayLike<number>): string;
  toJSON(): WordTokenizerJSON | BpeTokenizerJSON;
}

/**
 * Restore a word or BPE tokeniser from its JSON (as stored in a checkpoint), checking the stored
 * fingerprint against the contents.
 *
 * @example
 * const tok = tg.text.WordTokenizer.fit(["a b c"]);
 * const back = tg.text.tokenizerFromJSON(JSON.parse(JSON.stringify(tok)));
 * console.log(back.kind, back.fingerprint === tok.fingerprint); // "word" true
 */
export function tokenizerFromJSON(json: WordTokenizerJSON | BpeTokenizerJSON): TextTokenizer {
  const format = (json as { format?: unknown } | null)?.format;
  if (format === "tsgrad.text.word") return WordTokenizer.fromJSON(json as WordTokenizerJSON);
  if (format === "tsgrad.text.bpe") return BpeTokenizer.fromJSON(json as BpeTokenizerJSON);
  throw new TsgradError(
    "tokenizerFromJSON",
    `unknown tokenizer format ${JSON.stringify(format)} (tsgrad.text.word, tsgrad.text.bpe)`,
  );
}
