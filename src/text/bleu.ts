/**
 * BLEU (Papineni et al. 2002) computed the way sacreBLEU 2.x computes it (checked against
 * sacreBLEU 2.6.0: see test/text/fixtures/): the 13a tokeniser on detokenised text, mixed case,
 * n-grams up to 4, clipped counts against the per-n-gram maximum over references, the closest
 * reference length (shorter wins ties) for the brevity penalty, and smoothing method 3 of Chen &
 * Cherry (2014), "exp", by default. Scores are on sacreBLEU's 0–100 scale.
 */
import { TsgradError } from "../tensor/errors.js";
import { pyFixed, pyRstrip, pySplit } from "./strings.js";
import { tokenize13a } from "./tokenize-13a.js";

/** Tokenisation applied to hypotheses and references before counting n-grams. */
export type BleuTokenize = "13a" | "none";
/** Smoothing of zero n-gram matches (Chen & Cherry 2014 methods 1, 2, 3, or none). */
export type BleuSmooth = "exp" | "floor" | "add-k" | "none";

/** Options for {@link corpusBleu} and {@link sentenceBleu}, with sacreBLEU's names and defaults. */
export interface BleuOptions {
  /** Lowercase hypotheses and references first. Default false ("case:mixed"). */
  lowercase?: boolean;
  /** Default "13a". */
  tokenize?: BleuTokenize;
  /** Default "exp". */
  smoothMethod?: BleuSmooth;
  /** For "floor" (default 0.1) and "add-k" (default 1). */
  smoothValue?: number;
  /** Highest n-gram order. Default 4. */
  maxNgramOrder?: number;
  /**
   * Average only over n-gram orders the hypothesis has (sentence BLEU). Default false for
   * {@link corpusBleu}, true for {@link sentenceBleu} (as sacreBLEU's `sentence_bleu`).
   */
  effectiveOrder?: boolean;
}

/** A BLEU result with its sufficient statistics. */
export interface BleuScore {
  /** BLEU on the 0–100 scale. */
  score: number;
  /** Clipped n-gram matches per order (after add-k smoothing, as sacreBLEU reports them). */
  counts: number[];
  /** Hypothesis n-grams per order. */
  totals: number[];
  /** Modified n-gram precisions per order, in percent. */
  precisions: number[];
  /** Brevity penalty. */
  bp: number;
  /** sysLen / refLen (0 if refLen is 0). */
  ratio: number;
  /** Hypothesis tokens. */
  sysLen: number;
  /** Effective reference tokens. */
  refLen: number;
  /** sacreBLEU-style signature, e.g. `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|impl:...`. */
  signature: string;
  /** sacreBLEU's one-line rendering, e.g. `BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ...)`. */
  text: string;
}

/** References: one stream (`refs[i]` for hypothesis i) or several (`refs[k][i]`, sacreBLEU's layout). */
export type References = readonly string[] | readonly (readonly (string | null | undefined)[])[];

/** Signature suffix: this is tsgrad's implementation, built to match sacreBLEU 2.x. */
export const METRIC_IMPL = "impl:tsgrad(sacrebleu-2.x-compatible)";

const SMOOTH_DEFAULTS: Record<BleuSmooth, number | null> = {
  none: null,
  floor: 0.1,
  "add-k": 1,
  exp: null,
};

/**
 * Transpose references into per-segment lists. `null`/`undefined` mark a missing reference
 * (a variable number of references, "nrefs:var"); as in sacreBLEU 2.6, an empty string is an
 * empty reference, not a missing one.
 */
export function segmentReferences(
  op: string,
  hypotheses: readonly string[],
  references: References,
): { segments: string[][]; nrefs: string } {
  if (hypotheses.length === 0) throw new TsgradError(op, "no hypotheses");
  const streams: readonly (readonly (string | null | undefined)[])[] =
    references.length > 0 && typeof references[0] === "string"
      ? [references as readonly string[]]
      : (references as readonly (readonly (string | null | undefined)[])[]);
  if (streams.length === 0) throw new TsgradError(op, "no references");
  streams.forEach((s, k) => {
    if (!Array.isArray(s) || s.length !== hypotheses.length) {
      throw new TsgradError(
        op,
        `reference stream ${k} has ${Array.isArray(s) ? s.length : "no"} lines but there are ${hypotheses.length} hypotheses`,
      );
    }
  });
  const counts = new Set<number>();
  const segments = hypotheses.map((h, i) => {
    if (typeof h !== "string") throw new TsgradError(op, `hypothesis ${i} is not a string`);
    const refs: string[] = [];
    for (const s of streams) {
      const r = s[i];
      if (r !== null && r !== undefined) refs.push(r);
    }
    if (refs.length === 0) throw new TsgradError(op, `segment ${i} has no reference`);
    counts.add(refs.length);
    return refs;
  });
  return { segments, nrefs: counts.size === 1 ? String([...counts][0]) : "var" };
}

/** Counts of the n-grams of each order 1..maxOrder (index n - 1). */
function ngramCounts(tokens: readonly string[], maxOrder: number): Map<string, number>[] {
  // Tokens never contain whitespace (they come from a whitespace split), so joining with a space
  // is an unambiguous key. Each n-gram extends the (n-1)-gram at the same start.
  const maps = Array.from({ length: maxOrder }, () => new Map<string, number>());
  for (let i = 0; i < tokens.length; i++) {
    let key = tokens[i]!;
    for (let n = 1; n <= maxOrder && i + n <= tokens.length; n++) {
      if (n > 1) key += " " + tokens[i + n - 1]!;
      const m = maps[n - 1]!;
      m.set(key, (m.get(key) ?? 0) + 1);
    }
  }
  return maps;
}

interface Resolved {
  lowercase: boolean;
  tokenize: BleuTokenize;
  smoothMethod: BleuSmooth;
  smoothValue: number | null;
  maxNgramOrder: number;
  effectiveOrder: boolean;
}

function resolve(op: string, opts: BleuOptions, effectiveDefault: boolean): Resolved {
  const smoothMethod = opts.smoothMethod ?? "exp";
  if (!(smoothMethod in SMOOTH_DEFAULTS)) {
    throw new TsgradError(op, `unknown smoothMethod "${smoothMethod}" (exp, floor, add-k, none)`);
  }
  const tokenize = opts.tokenize ?? "13a";
  if (tokenize !== "13a" && tokenize !== "none") {
    throw new TsgradError(op, `unknown tokenize "${String(tokenize)}" (13a, none)`);
  }
  const maxNgramOrder = opts.maxNgramOrder ?? 4;
  if (!Number.isInteger(maxNgramOrder) || maxNgramOrder < 1) {
    throw new TsgradError(op, `maxNgramOrder must be a positive integer, got ${maxNgramOrder}`);
  }
  return {
    lowercase: opts.lowercase ?? false,
    tokenize,
    smoothMethod,
    smoothValue: opts.smoothValue ?? SMOOTH_DEFAULTS[smoothMethod],
    maxNgramOrder,
    effectiveOrder: opts.effectiveOrder ?? effectiveDefault,
  };
}

function bleuFromStats(
  correctIn: readonly number[],
  totalIn: readonly number[],
  sysLen: number,
  refLen: number,
  o: Resolved,
  signature: string,
): BleuScore {
  const N = o.maxNgramOrder;
  const correct = [...correctIn];
  const total = [...totalIn];
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const precisions = new Array<number>(N).fill(0);
  let score = 0;
  if (correct.some((c) => c !== 0)) {
    let smoothMteval = 1;
    let effOrder = N;
    for (let n = 1; n <= N; n++) {
      if (o.smoothMethod === "add-k" && n > 1) {
        correct[n - 1]! += o.smoothValue!;
        total[n - 1]! += o.smoothValue!;
      }
      if (total[n - 1] === 0) break;
      if (o.effectiveOrder) effOrder = n;
      if (correct[n - 1] === 0) {
        if (o.smoothMethod === "exp") {
          smoothMteval *= 2;
          precisions[n - 1] = 100 / (smoothMteval * total[n - 1]!);
        } else if (o.smoothMethod === "floor") {
          precisions[n - 1] = (100 * o.smoothValue!) / total[n - 1]!;
        }
      } else precisions[n - 1] = (100 * correct[n - 1]!) / total[n - 1]!;
    }
    // sacreBLEU floors log(0) at -9999999999 rather than -inf; exp() of it is still 0.
    let logSum = 0;
    for (let n = 0; n < effOrder; n++) {
      const p = precisions[n]!;
      logSum += p === 0 ? -9999999999 : Math.log(p);
    }
    score = bp * Math.exp(logSum / effOrder);
  }
  const ratio = refLen ? sysLen / refLen : 0;
  const text =
    `BLEU = ${pyFixed(score, 2)} ${precisions.map((p) => pyFixed(p, 1)).join("/")} ` +
    `(BP = ${pyFixed(bp, 3)} ratio = ${pyFixed(ratio, 3)} hyp_len = ${sysLen} ref_len = ${refLen})`;
  return {
    score,
    counts: correct,
    totals: total,
    precisions,
    bp,
    ratio,
    sysLen,
    refLen,
    signature,
    text,
  };
}

function bleu(
  op: string,
  hypotheses: readonly string[],
  references: References,
  o: Resolved,
): BleuScore {
  const { segments, nrefs } = segmentReferences(op, hypotheses, references);
  const prep = (s: string) => {
    const t = pyRstrip(o.lowercase ? s.toLowerCase() : s);
    return pySplit(o.tokenize === "13a" ? tokenize13a(t) : t);
  };
  const N = o.maxNgramOrder;
  const correct = new Array<number>(N).fill(0);
  const total = new Array<number>(N).fill(0);
  let sysLen = 0;
  let refLen = 0;
  hypotheses.forEach((hyp, i) => {
    const refMax = Array.from({ length: N }, () => new Map<string, number>());
    let closest = -1;
    const hypTokens = prep(hyp);
    const hypLen = hypTokens.length;
    for (const ref of segments[i]!) {
      const toks = prep(ref);
      ngramCounts(toks, N).forEach((m, n) => {
        const best = refMax[n]!;
        for (const [g, c] of m) if (c > (best.get(g) ?? 0)) best.set(g, c);
      });
      // Closest reference length; on a tie the shorter one.
      const d = Math.abs(hypLen - toks.length);
      const best = Math.abs(hypLen - closest);
      if (closest < 0 || d < best || (d === best && toks.length < closest)) closest = toks.length;
    }
    ngramCounts(hypTokens, N).forEach((m, n) => {
      for (const [g, c] of m) {
        total[n]! += c;
        const r = refMax[n]!.get(g);
        if (r !== undefined) correct[n]! += Math.min(c, r);
      }
    });
    sysLen += hypLen;
    refLen += closest;
  });
  let smooth: string = o.smoothMethod;
  if (SMOOTH_DEFAULTS[o.smoothMethod] !== null) smooth += `[${pyFixed(o.smoothValue!, 2)}]`;
  const signature =
    `nrefs:${nrefs}|case:${o.lowercase ? "lc" : "mixed"}|eff:${o.effectiveOrder ? "yes" : "no"}` +
    `|tok:${o.tokenize}|smooth:${smooth}|${METRIC_IMPL}`;
  return bleuFromStats(correct, total, sysLen, refLen, o, signature);
}

/**
 * Corpus BLEU of detokenised hypotheses against one or more reference streams, as sacreBLEU's
 * `corpus_bleu` / `BLEU().corpus_score`.
 *
 * @example
 * // The example of sacreBLEU's README (two reference streams).
 * const refs = [
 *   ["The dog bit the man.", "It was not unexpected.", "The man bit him first."],
 *   ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."],
 * ];
 * const sys = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."];
 * const b = tg.text.corpusBleu(sys, refs);
 * console.log(b.text); // "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)"
 * console.log(b.signature.startsWith("nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|")); // true
 */
export function corpusBleu(
  hypotheses: readonly string[],
  references: References,
  opts: BleuOptions = {},
): BleuScore {
  return bleu("corpusBleu", hypotheses, references, resolve("corpusBleu", opts, false));
}

/**
 * BLEU of one hypothesis against its references, as sacreBLEU's `sentence_bleu` (effective
 * order on, exp smoothing).
 *
 * @example
 * const s = tg.text.sentenceBleu("The cat sat on a mat.", ["The cat sat on the mat."]);
 * console.log(s.score.toFixed(2)); // "48.89"
 */
export function sentenceBleu(
  hypothesis: string,
  references: readonly string[],
  opts: BleuOptions = {},
): BleuScore {
  const streams = references.map((r) => [r]);
  return bleu("sentenceBleu", [hypothesis], streams, resolve("sentenceBleu", opts, true));
}
