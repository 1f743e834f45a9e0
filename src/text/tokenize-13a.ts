/**
 * The `13a` tokeniser: mteval-v13a.pl's tokenisation as sacreBLEU 2.x implements it (its
 * `Tokenizer13a` + `TokenizerRegexp`), which is what BLEU scores are computed on. It is also the
 * pre-tokenisation of training text here, so that a model's output vocabulary lines up with what
 * BLEU counts. `detokenize13a` is its practical inverse for producing readable output.
 */
import { pySplit } from "./strings.js";

// mteval's language-independent punctuation class: { | } ~ [ \ ] ^ _ ` space ! " # $ % &
// ( ) * + : ; < = > ? @ /  (note: not ' - . , which have their own rules or none). ASCII only,
// so the "u" flag is not needed (and costs a third of the time).
const PUNCT = /([\u007b-\u007e\u005b-\u0060\u0020-\u0026\u0028-\u002b\u003a-\u0040\u002f])/g;
// Period and comma are split off unless they sit between digits (1,000.50 stays whole).
const PERIOD_COMMA_AFTER_NONDIGIT = /([^0-9])([.,])/gu;
const PERIOD_COMMA_BEFORE_NONDIGIT = /([.,])([^0-9])/gu;
// A dash is split off only after a digit (5-6 → 5 - 6; well-known stays whole).
const DASH_AFTER_DIGIT = /([0-9])(-)/gu;

/**
 * Tokenise one line exactly as sacreBLEU's default `13a` tokeniser does: drop `<skipped>`, join
 * `-\n` hyphenations, unescape `&quot; &amp; &lt; &gt;` (only those four), split off punctuation
 * and symbols, split `.` and `,` unless between digits, split `-` after a digit, and collapse
 * whitespace.
 *
 * @example
 * const line = "1,000.50 (5-6 p.m.), &quot;ok&quot;?";
 * console.log(tg.text.tokenize13a(line)); // '1,000.50 ( 5 - 6 p . m . ) , " ok " ?'
 * console.log(tg.text.tokenize13a("U.S. well-known, e.g.")); // "U . S . well-known , e . g ."
 */
export function tokenize13a(line: string): string {
  let s = line.replaceAll("<skipped>", "").replaceAll("-\n", "").replaceAll("\n", " ");
  if (s.includes("&")) {
    s = s
      .replaceAll("&quot;", '"')
      .replaceAll("&amp;", "&")
      .replaceAll("&lt;", "<")
      .replaceAll("&gt;", ">");
  }
  s = ` ${s} `
    .replace(PUNCT, " $1 ")
    .replace(PERIOD_COMMA_AFTER_NONDIGIT, "$1 $2 ")
    .replace(PERIOD_COMMA_BEFORE_NONDIGIT, " $1 $2")
    .replace(DASH_AFTER_DIGIT, "$1 $2 ");
  return pySplit(s).join(" ");
}

/** Options for {@link detokenize13a}. */
export interface DetokenizeOptions {
  /**
   * Target-language conventions. `"fr"` keeps the space French typography puts before `? ! : ;`
   * (Multi30k's French side writes "dit : ..." and "Où es-tu ?"); anything else attaches them.
   */
  lang?: string;
  /** Upper-case the first letter (for output of a lowercased model). Default false. */
  capitalize?: boolean;
}

const ATTACH_LEFT = new Set([".", ",", "!", "?", ":", ";", "%", ")", "]", "}"]);
const ATTACH_RIGHT = new Set(["(", "[", "{", "$"]);
const FRENCH_SPACED = new Set(["!", "?", ":", ";"]);
const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";

/**
 * Join 13a tokens back into readable text: closing punctuation attaches to the word before,
 * opening brackets to the word after, straight double quotes alternate open/close, and a `-` or
 * `/` after a number rejoins it. Designed so that re-tokenising the output with
 * {@link tokenize13a} gives the same tokens back, which is what makes BLEU on detokenised output
 * equal BLEU on the tokens (the tests check this over Multi30k's validation sets).
 *
 * @example
 * const toks = tg.text.tokenize13a('He said "hi" (twice), then left.').split(" ");
 * console.log(tg.text.detokenize13a(toks)); // 'He said "hi" (twice), then left.'
 * console.log(tg.text.detokenize13a(["Où", "es-tu", "?"], { lang: "fr" })); // "Où es-tu ?"
 */
export function detokenize13a(tokens: readonly string[], opts: DetokenizeOptions = {}): string {
  const french = opts.lang === "fr";
  let out = "";
  let attachNext = true; // no space before the first token
  let quoteOpen = false;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok === "") continue;
    const prev = out[out.length - 1];
    const next = tokens[i + 1];
    let left = false; // glue to the previous token
    let right = false; // glue the next token to this one
    if (tok === '"') {
      if (quoteOpen) left = true;
      else right = true;
      quoteOpen = !quoteOpen;
    } else if (ATTACH_LEFT.has(tok)) {
      // Keep "3 . 5" apart: glued, 13a would read it as the number 3.5.
      const betweenDigits = (tok === "." || tok === ",") && isDigit(prev) && isDigit(next?.[0]);
      left = !betweenDigits && !(french && FRENCH_SPACED.has(tok));
    } else if (ATTACH_RIGHT.has(tok)) {
      right = true;
    } else if ((tok === "-" || tok === "/") && isDigit(prev)) {
      left = true;
      right = true;
    }
    out += attachNext || left ? tok : ` ${tok}`;
    attachNext = right;
  }
  if (opts.capitalize && out.length > 0) {
    const first = String.fromCodePoint(out.codePointAt(0)!);
    out = first.toUpperCase() + out.slice(first.length);
  }
  return out;
}
