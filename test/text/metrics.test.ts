/**
 * BLEU and chrF against the numbers published in sacreBLEU's own test suite and documentation
 * (github.com/mjpost/sacrebleu; each value cites its file), plus bad input. The broader
 * comparison with sacreBLEU 2.6.0 itself is in sacrebleu-fixtures.test.ts.
 */
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

const { corpusBleu, sentenceBleu, corpusChrf, sentenceChrf } = tg.text;

// sacreBLEU README.md ("Using SacreBLEU from Python"), also test/test_bleu.py `_refs`/`_hyps`.
const README_REFS = [
  ["The dog bit the man.", "It was not unexpected.", "The man bit him first."],
  ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."],
];
const README_SYS = [
  "The dog bit the man.",
  "It wasn't surprising.",
  "The man had just bitten him.",
];

/** sacreBLEU's `raw_corpus_bleu` (compat.py): no tokenisation, floor smoothing, effective order. */
const rawCorpusBleu = (hyps: string[], refs: string[][], floor = 0.1) =>
  corpusBleu(hyps, refs, {
    tokenize: "none",
    smoothMethod: "floor",
    smoothValue: floor,
    effectiveOrder: true,
  }).score / 100;

describe("tg.text.corpusBleu", () => {
  it("reproduces the README example line and its signature", () => {
    // README.md: BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)
    // and nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.0.0
    const b = corpusBleu(README_SYS, README_REFS);
    expect(b.text).toBe(
      "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)",
    );
    expect(b.signature).toBe(
      "nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|impl:tsgrad(sacrebleu-2.x-compatible)",
    );
    expect([b.sysLen, b.refLen]).toEqual([17, 18]);
  });

  it("reproduces test_bleu.py test_corpus_bleu_cases", () => {
    // test/test_bleu.py, EPSILON = 1e-8 (the 'intl' case needs a tokeniser we do not ship).
    const cases: [string[], tg.text.BleuOptions, number][] = [
      [README_SYS, {}, 48.530827],
      [["", "", ""], {}, 0.0],
      [README_SYS, { tokenize: "none" }, 49.1919566],
      [README_SYS, { tokenize: "13a" }, 48.530827],
      [README_SYS, { smoothMethod: "none" }, 48.530827],
    ];
    for (const [hyps, opts, want] of cases) {
      expect(Math.abs(corpusBleu(hyps, README_REFS, opts).score - want)).toBeLessThan(1e-6);
    }
  });

  it("reproduces test_bleu.py test_raw_bleu_cases and test_effective_order", () => {
    // test/test_bleu.py (2.x): raw_corpus_bleu(hyps, refs, .01).score / 100, EPSILON = 1e-8.
    // The first case "now returns 0.0 score (#141)": no matches at all gives 0 whatever the floor.
    const cases: [string[], string[], number][] = [
      [["this is a test", "another test"], ["ref1", "ref2"], 0.0],
      [["this is a test"], ["this is a test"], 1.0],
      [["this is a fest"], ["this is a test"], 0.223606797749979],
      [["test"], ["a test"], 0.3678794411714425],
      [["a test"], ["a test"], 1.0],
      [["a little test"], ["a test"], 0.03218297948685433],
    ];
    for (const [hyps, refs, want] of cases) {
      expect(Math.abs(rawCorpusBleu(hyps, [refs], 0.01) - want)).toBeLessThan(1e-8);
    }
  });

  it("reproduces test_bleu.py test_bleu_max_order", () => {
    // test/test_bleu.py (2.x): f"{score:.2f}" for max_ngram_order 1..6 on the README corpus.
    const want = ["77.65", "60.50", "53.93", "48.53", "46.14", "43.28"];
    want.forEach((w, i) => {
      const b = corpusBleu(README_SYS, README_REFS, { maxNgramOrder: i + 1 });
      expect(b.score.toFixed(2)).toBe(w);
      expect(b.precisions.length).toBe(i + 1);
    });
  });

  it("reproduces test_bleu.py test_statistics and test_offset", () => {
    // test/test_bleu.py: counts [4, 2, 1, 0], totals [6, 5, 4, 3]; score 0 without the floor
    // offset and 0.1555722182 with the default floor of 0.1.
    const hyp = ["am I am a character sequence"];
    const ref = [["I am a symbol string sequence a a"]];
    const b = corpusBleu(hyp, ref, { tokenize: "none", smoothMethod: "floor", smoothValue: 0.01 });
    expect([b.counts, b.totals]).toEqual([
      [4, 2, 1, 0],
      [6, 5, 4, 3],
    ]);
    expect(rawCorpusBleu(hyp, ref, 0)).toBe(0);
    expect(Math.abs(rawCorpusBleu(hyp, ref) - 0.1555722182)).toBeLessThan(1e-8);
  });

  it("counts a missing reference (null) as nrefs:var", () => {
    const refs = [[null, ...README_REFS[0]!.slice(1)], README_REFS[1]!];
    expect(corpusBleu(README_SYS, refs).signature.startsWith("nrefs:var|")).toBe(true);
  });

  it("rejects mismatched, empty and reference-less input by name", () => {
    expect(() => corpusBleu(README_SYS, [["only one"]])).toThrow(
      /corpusBleu: reference stream 0 has 1 lines but there are 3 hypotheses/,
    );
    expect(() => corpusBleu([], [[]])).toThrow(/corpusBleu: no hypotheses/);
    expect(() => corpusBleu(["a"], [[null]])).toThrow(/corpusBleu: segment 0 has no reference/);
    expect(() => corpusBleu(["a"], ["a"], { smoothMethod: "nope" as "exp" })).toThrow(
      /unknown smoothMethod "nope"/,
    );
    expect(() => corpusBleu(["a"], ["a"], { tokenize: "intl" as "13a" })).toThrow(
      /unknown tokenize "intl"/,
    );
  });
});

describe("tg.text.sentenceBleu", () => {
  // test/test_sentence_bleu.py (example from sacreBLEU issue #98), EPSILON = 1e-3.
  const REF = "producţia de zahăr brut se exprimă în zahăr alb;";
  const SYS = "Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;";

  it("reproduces test_sentence_bleu.py for every smoothing method", () => {
    const cases: [tg.text.BleuOptions, number][] = [
      [{ smoothMethod: "exp" }, 8.493],
      [{ smoothMethod: "none" }, 0.0],
      [{ smoothMethod: "floor" }, 4.51688],
      [{ smoothMethod: "floor", smoothValue: 0.1 }, 4.51688],
      [{ smoothMethod: "floor", smoothValue: 0.5 }, 10.1],
      [{ smoothMethod: "add-k" }, 14.882],
      [{ smoothMethod: "add-k", smoothValue: 1 }, 14.882],
      [{ smoothMethod: "add-k", smoothValue: 2 }, 21.389],
      [{ smoothMethod: "exp", tokenize: "none" }, 7.347],
    ];
    for (const [opts, want] of cases) {
      expect(Math.abs(sentenceBleu(SYS, [REF], opts).score - want)).toBeLessThan(1e-3);
    }
  });

  it("gives 0 without any match, whatever the smoothing (test_sentence_bleu.py, issue #141)", () => {
    for (const smoothMethod of ["exp", "none", "floor", "add-k"] as const) {
      expect(sentenceBleu("this is a cat", ["okay thanks"], { smoothMethod }).score).toBe(0);
    }
  });

  it("signs with eff:yes by default", () => {
    expect(sentenceBleu(SYS, [REF]).signature).toMatch(/^nrefs:1\|case:mixed\|eff:yes\|/);
  });
});

describe("tg.text.corpusChrf", () => {
  it("reproduces the README's chrF2 = 59.73", () => {
    expect(corpusChrf(README_SYS, README_REFS).text).toBe("chrF2 = 59.73");
  });

  it("reproduces test_chrf.py test_cases (beta 3, eps smoothing)", () => {
    // test/test_chrf.py, EPSILON = 1e-4.
    const cases: [string[], string[], number][] = [
      [["abcdefg"], ["hijklmnop"], 0.0],
      [["a"], ["b"], 0.0],
      [[""], ["b"], 0.0],
      [[""], ["ref"], 0.0],
      [[""], ["reference"], 0.0],
      [["aa"], ["ab"], 8.3333],
      [["a", "b"], ["a", "c"], 8.3333],
      [["a"], ["a"], 16.6667],
      [["a b c"], ["a b c"], 50.0],
      [["a b c"], ["abc"], 50.0],
      [
        [
          " risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .",
        ],
        [
          "risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .",
        ],
        63.36173,
      ],
      [
        [" Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. "],
        ["Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich."],
        64.1302698,
      ],
      [
        ["Niemand hat die Absicht, eine Mauer zu errichten"],
        ["Niemand hat die Absicht, eine Mauer zu errichten"],
        100.0,
      ],
    ];
    for (const [hyps, refs, want] of cases) {
      const s = corpusChrf(hyps, [refs], { beta: 3, epsSmoothing: true });
      expect(Math.abs(s.score - want)).toBeLessThan(1e-4);
    }
  });

  it("reproduces test_chrf.py test_cases_effective_order (beta 3, sacreBLEU < 2 averaging)", () => {
    const cases: [string[], string[], number][] = [
      [["a"], ["a"], 100.0],
      [[""], ["reference"], 0.0],
      [["a b c"], ["a b c"], 100.0],
      [["a b c"], ["abc"], 100.0],
      [[""], ["c"], 0.0],
      [["a", "b"], ["a", "c"], 50.0],
      [["aa"], ["ab"], 25.0],
    ];
    for (const [hyps, refs, want] of cases) {
      expect(Math.abs(corpusChrf(hyps, [refs], { beta: 3 }).score - want)).toBeLessThan(1e-4);
    }
  });

  it("reproduces test_chrf.py test_cases_keep_whitespace", () => {
    const cases: [string, string, number][] = [
      [
        "Die Beziehung zwischen Obama und Netanjahu ist nicht gerade freundlich.",
        "Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.",
        67.3481606,
      ],
      [
        "risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .",
        "risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .",
        65.2414427,
      ],
    ];
    for (const [hyp, ref, want] of cases) {
      const s = corpusChrf([hyp], [[ref]], { beta: 3, whitespace: true });
      expect(Math.abs(s.score - want)).toBeLessThan(1e-4);
    }
  });

  it("reproduces the chrF metric card of huggingface/datasets (metrics/chrf/README.md)", () => {
    const s = corpusChrf(
      ["The relationship between Obama and Netanyahu is not exactly friendly."],
      [["The ties between Obama and Netanyahu are not particularly friendly."]],
    );
    expect(Math.abs(s.score - 61.576379378113785)).toBeLessThan(1e-9);
    expect(s.signature).toMatch(/^nrefs:1\|case:mixed\|eff:yes\|nc:6\|nw:0\|space:no\|/);
  });

  it("rejects bad orders and beta", () => {
    expect(() => corpusChrf(["a"], ["a"], { charOrder: 0, wordOrder: 0 })).toThrow(
      /corpusChrf: charOrder \+ wordOrder is 0/,
    );
    expect(() => corpusChrf(["a"], ["a"], { beta: -1 })).toThrow(/beta must be >= 0/);
    expect(() => corpusChrf(["a", "b"], [["a"]])).toThrow(/has 1 lines but there are 2/);
  });
});

describe("tg.text.sentenceChrf", () => {
  it("reproduces test_chrf.py test_sentence_level_chrf (chrF2, eps smoothing)", () => {
    const cases: [string, string, number][] = [
      [
        "Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.",
        "Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo zemře.",
        39.14078509,
      ],
      [
        "Nebo prostě nemají vybavení, které by jim pomohlo, uvedli lékaři.",
        "A někdy nemáme ani potřebný materiál, abychom jim pomohli, popsali lékaři.",
        31.22557079,
      ],
      [
        "Lapali po dechu, jejich životy skončily dřív, než skutečně začaly.",
        "Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl začít, připomněli.",
        57.15704367,
      ],
    ];
    for (const [hyp, ref, want] of cases) {
      expect(Math.abs(sentenceChrf(hyp, [ref], { epsSmoothing: true }).score - want)).toBeLessThan(
        1e-4,
      );
    }
  });

  it("counts characters by code point, not UTF-16 unit", () => {
    // One astral character is one unigram: a hypothesis equal to the reference scores 100.
    expect(sentenceChrf("😀😀a", ["😀😀a"]).score).toBe(100);
    expect(sentenceChrf("😀", ["😁"]).score).toBe(0);
  });
});
