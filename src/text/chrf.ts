/**
 * chrF (Popović 2015) and chrF++ (Popović 2017) as sacreBLEU 2.x computes them (checked against
 * sacreBLEU 2.6.0): character n-grams up to 6 with whitespace removed, optional word n-grams,
 * precision and recall averaged over the orders both sides have ("effective order", sacreBLEU's
 * default) or eps-smoothed per order, combined as F-beta with beta = 2. Corpus scores sum the
 * per-segment statistics; with several references each segment uses its best-scoring one.
 */
import { TsgradError } from "../tensor/errors.js";
import { METRIC_IMPL, type References, segmentReferences } from "./bleu.js";
import { codePoints, pyFixed, pySplit, removeSpace } from "./strings.js";

/** Options for {@link corpusChrf} / {@link sentenceChrf}, with sacreBLEU's names and defaults. */
export interface ChrfOptions {
  /** Character n-gram order. Default 6. */
  charOrder?: number;
  /** Word n-gram order; 2 gives chrF++. Default 0. */
  wordOrder?: number;
  /** Weight of recall relative to precision. Default 2. */
  beta?: number;
  /** Lowercase first. Default false. */
  lowercase?: boolean;
  /** Keep whitespace inside character n-grams. Default false. */
  whitespace?: boolean;
  /** chrF++.py-style eps smoothing instead of effective-order averaging. Default false. */
  epsSmoothing?: boolean;
}

/** A chrF result. */
export interface ChrfScore {
  /** chrF on the 0–100 scale. */
  score: number;
  /** `chrF2`, `chrF2++`, ... */
  name: string;
  charOrder: number;
  wordOrder: number;
  beta: number;
  /** sacreBLEU-style signature, e.g. `nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|impl:...`. */
  signature: string;
  /** sacreBLEU's rendering, e.g. `chrF2 = 59.73`. */
  text: string;
}

// Python's string.punctuation, which chrF++ splits off word edges.
const PUNCTS = new Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");

interface Resolved extends Required<ChrfOptions> {
  order: number;
}

/** Counts of the n-grams of each order 1..maxOrder of `units`, joined with `sep`. */
function ngrams(units: readonly string[], maxOrder: number, sep: string): Map<string, number>[] {
  const maps = Array.from({ length: maxOrder }, () => new Map<string, number>());
  for (let i = 0; i < units.length; i++) {
    let g = units[i]!;
    for (let n = 1; n <= maxOrder && i + n <= units.length; n++) {
      if (n > 1) g += sep + units[i + n - 1]!;
      const m = maps[n - 1]!;
      m.set(g, (m.get(g) ?? 0) + 1);
    }
  }
  return maps;
}

/** chrF++'s word split: whitespace words with one punctuation mark split off an edge. */
function punctWords(s: string): string[] {
  const out: string[] = [];
  for (const w of pySplit(s)) {
    const cps = codePoints(w);
    if (cps.length === 1) out.push(w);
    else if (PUNCTS.has(cps[cps.length - 1]!)) out.push(cps.slice(0, -1).join(""), cps.at(-1)!);
    else if (PUNCTS.has(cps[0]!)) out.push(cps[0]!, cps.slice(1).join(""));
    else out.push(w);
  }
  return out;
}

function allNgrams(s: string, o: Resolved): Map<string, number>[] {
  const grams = ngrams(codePoints(o.whitespace ? s : removeSpace(s)), o.charOrder, "");
  if (o.wordOrder > 0) grams.push(...ngrams(punctWords(s), o.wordOrder, " "));
  return grams;
}

function fScore(stats: readonly number[], o: Resolved): number {
  const eps = 1e-16;
  const factor = o.beta ** 2;
  let score = 0;
  let effective = 0;
  let avgPrec = 0;
  let avgRec = 0;
  for (let i = 0; i < o.order; i++) {
    const nHyp = stats[3 * i]!;
    const nRef = stats[3 * i + 1]!;
    const nMatch = stats[3 * i + 2]!;
    const prec = nHyp > 0 ? nMatch / nHyp : eps;
    const rec = nRef > 0 ? nMatch / nRef : eps;
    const denom = factor * prec + rec;
    score += denom > 0 ? ((1 + factor) * prec * rec) / denom : eps;
    if (nHyp > 0 && nRef > 0) {
      avgPrec += prec;
      avgRec += rec;
      effective++;
    }
  }
  if (o.epsSmoothing) return (100 * score) / o.order;
  if (effective === 0) return 0;
  avgPrec /= effective;
  avgRec /= effective;
  if (avgPrec + avgRec === 0) return 0;
  return (100 * ((1 + factor) * avgPrec * avgRec)) / (factor * avgPrec + avgRec);
}

function resolve(op: string, opts: ChrfOptions): Resolved {
  const o = {
    charOrder: opts.charOrder ?? 6,
    wordOrder: opts.wordOrder ?? 0,
    beta: opts.beta ?? 2,
    lowercase: opts.lowercase ?? false,
    whitespace: opts.whitespace ?? false,
    epsSmoothing: opts.epsSmoothing ?? false,
  };
  if (!Number.isInteger(o.charOrder) || o.charOrder < 0) {
    throw new TsgradError(op, `charOrder must be a non-negative integer, got ${o.charOrder}`);
  }
  if (!Number.isInteger(o.wordOrder) || o.wordOrder < 0) {
    throw new TsgradError(op, `wordOrder must be a non-negative integer, got ${o.wordOrder}`);
  }
  if (o.charOrder + o.wordOrder === 0) throw new TsgradError(op, "charOrder + wordOrder is 0");
  if (!(o.beta >= 0)) throw new TsgradError(op, `beta must be >= 0, got ${o.beta}`);
  return { ...o, order: o.charOrder + o.wordOrder };
}

function chrf(
  op: string,
  hypotheses: readonly string[],
  references: References,
  o: Resolved,
): ChrfScore {
  const { segments, nrefs } = segmentReferences(op, hypotheses, references);
  const prep = (s: string) => (o.lowercase ? s.toLowerCase() : s);
  const totals = new Array<number>(3 * o.order).fill(0);
  hypotheses.forEach((hyp, i) => {
    const hypGrams = allNgrams(prep(hyp), o);
    let best: number[] = [];
    let bestF = -1;
    for (const ref of segments[i]!) {
      const refGrams = allNgrams(prep(ref), o);
      const stats: number[] = [];
      hypGrams.forEach((h, n) => {
        const r = refGrams[n]!;
        let hypCount = 0;
        let match = 0;
        for (const [g, c] of h) {
          hypCount += c;
          const rc = r.get(g);
          if (rc !== undefined) match += Math.min(c, rc);
        }
        let refCount = 0;
        for (const c of r.values()) refCount += c;
        // sacreBLEU does not count hypothesis n-grams of an order the reference lacks.
        stats.push(r.size > 0 ? hypCount : 0, refCount, match);
      });
      const f = fScore(stats, o);
      if (f > bestF) {
        bestF = f;
        best = stats;
      }
    }
    best.forEach((v, k) => (totals[k]! += v));
  });
  const score = fScore(totals, o);
  const name = `chrF${o.beta}${"+".repeat(o.wordOrder)}`;
  const signature =
    `nrefs:${nrefs}|case:${o.lowercase ? "lc" : "mixed"}|eff:${o.epsSmoothing ? "no" : "yes"}` +
    `|nc:${o.charOrder}|nw:${o.wordOrder}|space:${o.whitespace ? "yes" : "no"}|${METRIC_IMPL}`;
  return {
    score,
    name,
    charOrder: o.charOrder,
    wordOrder: o.wordOrder,
    beta: o.beta,
    signature,
    text: `${name} = ${pyFixed(score, 2)}`,
  };
}

/**
 * Corpus chrF of hypotheses against one or more reference streams, as sacreBLEU's
 * `CHRF().corpus_score` (chrF2 by default; `wordOrder: 2` for chrF++).
 *
 * @example
 * const refs = [
 *   ["The dog bit the man.", "It was not unexpected.", "The man bit him first."],
 *   ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."],
 * ];
 * const sys = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."];
 * console.log(tg.text.corpusChrf(sys, refs).text); // "chrF2 = 59.73"
 */
export function corpusChrf(
  hypotheses: readonly string[],
  references: References,
  opts: ChrfOptions = {},
): ChrfScore {
  return chrf("corpusChrf", hypotheses, references, resolve("corpusChrf", opts));
}

/**
 * chrF of one hypothesis against its references, as sacreBLEU's `sentence_chrf`.
 *
 * @example
 * const s = tg.text.sentenceChrf("The cat sat on a mat.", ["The cat sat on the mat."]);
 * console.log(s.text); // "chrF2 = 65.80"
 */
export function sentenceChrf(
  hypothesis: string,
  references: readonly string[],
  opts: ChrfOptions = {},
): ChrfScore {
  return chrf(
    "sentenceChrf",
    [hypothesis],
    references.map((r) => [r]),
    resolve("sentenceChrf", opts),
  );
}
