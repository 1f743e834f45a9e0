/**
 * tg.text's BLEU, chrF and 13a tokeniser against values computed by sacreBLEU 2.6.0 itself
 * (fixtures/sacrebleu.json, written by fixtures/generate_sacrebleu.py): fixed tricky strings, 300
 * seeded random strings, random corpora under every smoothing / option combination, and
 * Multi30k's French validation set with a deterministic perturbation as the "system".
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

interface BleuExpected {
  score: number;
  counts: number[];
  totals: number[];
  precisions: number[];
  bp: number;
  ratio: number;
  sysLen: number;
  refLen: number;
  text: string;
  signature: string;
}
interface ChrfExpected {
  score: number;
  text: string;
  signature: string;
}
interface Fixture {
  sacrebleu: string;
  tok13a: [string, string][];
  corpora: Record<string, { hyps: string[]; refs: (string | null)[][] }>;
  bleu: { corpus: string; opts: tg.text.BleuOptions; expected: BleuExpected }[];
  chrf: { corpus: string; opts: tg.text.ChrfOptions; expected: ChrfExpected }[];
  sentence: { hyp: string; refs: string[]; bleu: number; bleuText: string; chrf: number }[];
  multi30kValFr: {
    bleu: BleuExpected;
    bleuLowercase: BleuExpected;
    chrf: ChrfExpected;
    chrfpp: ChrfExpected;
    sentenceBleu: number[];
    sentenceChrf: number[];
    tokenizedSha256: string;
    tokenizedHead: string[];
  };
}

const fx = JSON.parse(
  readFileSync(new URL("fixtures/sacrebleu.json", import.meta.url), "utf8"),
) as Fixture;

/** Same perturbation as perturb() in generate_sacrebleu.py. */
function perturb(i: number, line: string): string {
  const words = line.split(" ");
  switch (i % 4) {
    case 0:
      return line;
    case 1:
      return words.filter((_, j) => j % 3 !== 2).join(" ");
    case 2:
      if (words.length > 1) [words[0], words[1]] = [words[1]!, words[0]!];
      return words.join(" ").toLowerCase();
    default:
      return words.reverse().join(" ");
  }
}

// Scores agree to rounding: log/exp may differ in the last ulp between V8 and CPython's libm.
const close = (a: number, b: number) => expect(a).toBeCloseTo(b, 9);

/** sacreBLEU's signature with our implementation tag in place of its version. */
const sig = (s: string) => `${s}|impl:tsgrad(sacrebleu-2.x-compatible)`;

function checkBleu(actual: tg.text.BleuScore, e: BleuExpected): void {
  close(actual.score, e.score);
  expect(actual.counts).toEqual(e.counts);
  expect(actual.totals).toEqual(e.totals);
  actual.precisions.forEach((p, i) => close(p, e.precisions[i]!));
  close(actual.bp, e.bp);
  close(actual.ratio, e.ratio);
  expect([actual.sysLen, actual.refLen]).toEqual([e.sysLen, e.refLen]);
  expect(actual.text).toBe(e.text);
  expect(actual.signature).toBe(sig(e.signature));
}

describe("tg.text.tokenize13a (vs sacreBLEU)", () => {
  it(`matches sacreBLEU ${fx.sacrebleu} on ${fx.tok13a.length} fixed and random strings`, () => {
    const wrong = fx.tok13a.filter(([input, out]) => tg.text.tokenize13a(input) !== out);
    expect(wrong).toEqual([]);
  });

  it("matches sacreBLEU on all 1014 lines of Multi30k's French validation set", () => {
    const refs = tg.text.readLines(
      `${tg.text.resolveDataDir("multi30k", { expect: ["val.fr.gz"] })}/val.fr.gz`,
    );
    const toks = refs.map((r) => tg.text.tokenize13a(r));
    expect(toks.slice(0, 25)).toEqual(fx.multi30kValFr.tokenizedHead);
    const digest = createHash("sha256").update(toks.join("\n"), "utf8").digest("hex");
    expect(digest).toBe(fx.multi30kValFr.tokenizedSha256);
  });
});

describe("tg.text.corpusBleu (vs sacreBLEU)", () => {
  it.each(fx.bleu.map((c) => [c.corpus, JSON.stringify(c.opts), c] as const))(
    "reproduces corpus %s with options %s",
    (_name, _opts, c) => {
      const { hyps, refs } = fx.corpora[c.corpus]!;
      checkBleu(tg.text.corpusBleu(hyps, refs, c.opts), c.expected);
    },
  );
});

describe("tg.text.corpusChrf (vs sacreBLEU)", () => {
  it.each(fx.chrf.map((c) => [c.corpus, JSON.stringify(c.opts), c] as const))(
    "reproduces corpus %s with options %s",
    (_name, _opts, c) => {
      const { hyps, refs } = fx.corpora[c.corpus]!;
      const s = tg.text.corpusChrf(hyps, refs, c.opts);
      close(s.score, c.expected.score);
      expect(s.text).toBe(c.expected.text);
      expect(s.signature).toBe(sig(c.expected.signature));
    },
  );
});

describe("tg.text.sentenceBleu / sentenceChrf (vs sacreBLEU)", () => {
  it(`match sacreBLEU's sentence_bleu and sentence_chrf on ${fx.sentence.length} random pairs`, () => {
    for (const c of fx.sentence) {
      const b = tg.text.sentenceBleu(c.hyp, c.refs);
      close(b.score, c.bleu);
      expect(b.text).toBe(c.bleuText);
      close(tg.text.sentenceChrf(c.hyp, c.refs).score, c.chrf);
    }
  });
});

describe("tg.text metrics on Multi30k val (vs sacreBLEU)", () => {
  const refs = tg.text.readLines(
    `${tg.text.resolveDataDir("multi30k", { expect: ["val.fr.gz"] })}/val.fr.gz`,
  );
  const hyps = refs.map((r, i) => perturb(i, r));
  const m = fx.multi30kValFr;

  it("reproduces corpus BLEU, mixed case and lowercased", () => {
    checkBleu(tg.text.corpusBleu(hyps, [refs]), m.bleu);
    checkBleu(tg.text.corpusBleu(hyps, refs, { lowercase: true }), m.bleuLowercase);
  });

  it("reproduces corpus chrF2 and chrF++", () => {
    const c = tg.text.corpusChrf(hyps, [refs]);
    close(c.score, m.chrf.score);
    expect(c.text).toBe(m.chrf.text);
    const pp = tg.text.corpusChrf(hyps, [refs], { wordOrder: 2 });
    close(pp.score, m.chrfpp.score);
    expect(pp.text).toBe(m.chrfpp.text);
  });

  it("reproduces sentence BLEU and chrF for the first 60 lines", () => {
    m.sentenceBleu.forEach((v, i) => close(tg.text.sentenceBleu(hyps[i]!, [refs[i]!]).score, v));
    m.sentenceChrf.forEach((v, i) => close(tg.text.sentenceChrf(hyps[i]!, [refs[i]!]).score, v));
  });
});
