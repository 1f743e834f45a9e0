/**
 * The 13a tokeniser on hand-picked inputs (each expectation follows from mteval-v13a's rules and
 * was confirmed with sacreBLEU 2.6.0's Tokenizer13a when written; the fixture test covers many
 * more), and the detokeniser's promise: re-tokenising its output gives the same tokens back.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

const { tokenize13a, detokenize13a } = tg.text;

describe("tg.text.tokenize13a", () => {
  it("splits punctuation and symbols but not apostrophes or inner hyphens", () => {
    expect(tokenize13a("Hello, world!")).toBe("Hello , world !");
    expect(tokenize13a("It's well-known; isn't it?")).toBe("It's well-known ; isn't it ?");
    expect(tokenize13a("(a) [b] {c} <d> a/b x=y 50% #1 @2 $3 *4 +5 ~6 ^7 _8 `9 |0 \\z")).toBe(
      "( a ) [ b ] { c } < d > a / b x = y 50 % # 1 @ 2 $ 3 * 4 + 5 ~ 6 ^ 7 _ 8 ` 9 | 0 \\ z",
    );
  });

  it("keeps periods and commas between digits, splits them elsewhere", () => {
    expect(tokenize13a("The price is $1,000.50 today.")).toBe("The price is $ 1,000.50 today .");
    expect(tokenize13a("3.14 .5 5. ,5 5, x.y")).toBe("3.14 . 5 5 . , 5 5 , x . y");
    expect(tokenize13a("U.S.A. e.g.")).toBe("U . S . A . e . g .");
  });

  it("splits a dash only after a digit", () => {
    expect(tokenize13a("5-6 a-5 -5 well-known 5-")).toBe("5 - 6 a-5 -5 well-known 5 -");
    expect(tokenize13a("dash—em – en")).toBe("dash—em – en");
  });

  it("unescapes exactly the four entities mteval knows", () => {
    expect(tokenize13a("A&amp;B &lt;t&gt; &quot;q&quot; &apos;x&apos;")).toBe(
      'A & B < t > " q " & apos ; x & apos ;',
    );
    // Sequential replacement: &amp;lt; becomes &lt; and then <.
    expect(tokenize13a("&amp;lt;")).toBe("<");
  });

  it("drops <skipped>, joins hyphenated line breaks, and collapses Python whitespace", () => {
    expect(tokenize13a("hyphen-\nated and\nnewline <skipped>gone")).toBe(
      "hyphenated and newline gone",
    );
    // U+001C is whitespace to Python's str.split (and so to sacreBLEU); U+FEFF and U+200B are not.
    expect(tokenize13a("a\u00a0b\u3000c\u001cd\ufeffe\u200bf")).toBe("a b c d\ufeffe\u200bf");
    expect(tokenize13a("   ")).toBe("");
  });

  it("handles astral characters as single characters", () => {
    expect(tokenize13a("😀. 😀,x")).toBe("😀 . 😀 , x");
  });
});

describe("tg.text.detokenize13a", () => {
  const dir = tg.text.resolveDataDir("multi30k", { expect: ["val.en.gz", "val.fr.gz"] });

  it.each([
    ["en", "val.en.gz"],
    ["fr", "val.fr.gz"],
  ])("round-trips every %s validation sentence through 13a", (lang, file) => {
    const lines = tg.text.readLines(`${dir}/${file}`);
    const bad = lines.filter((l) => {
      const toks = tokenize13a(l);
      return tokenize13a(detokenize13a(toks.split(" "), { lang })) !== toks;
    });
    expect(bad).toEqual([]);
  });

  it("round-trips the 318 tricky and random strings of the sacreBLEU fixture", () => {
    const fx = JSON.parse(
      readFileSync(new URL("fixtures/sacrebleu.json", import.meta.url), "utf8"),
    ) as { tok13a: [string, string][] };
    const bad = fx.tok13a
      .map(([, toks]) => toks)
      .filter((t) => tokenize13a(detokenize13a(t === "" ? [] : t.split(" "))) !== t);
    expect(bad).toEqual([]);
  });

  it("restores the original text of ordinary sentences", () => {
    for (const s of [
      'A man in a blue shirt (and a hat) says: "hello", then leaves.',
      "It costs $5, or 50% off.",
      "Scores were 5-6 and 3/4.",
    ]) {
      expect(detokenize13a(tokenize13a(s).split(" "))).toBe(s);
    }
    const fr = 'Un homme dit : "Où es-tu ?"';
    expect(detokenize13a(tokenize13a(fr).split(" "), { lang: "fr" })).toBe(fr);
  });

  it("keeps numbers apart that 13a would otherwise read as one", () => {
    // "3 . 5" came from "3 .5" (13a splits it); "3.5" would re-tokenise as a single number.
    const toks = ["3", ".", "5"];
    expect(tokenize13a(detokenize13a(toks))).toBe("3 . 5");
  });

  it("capitalises the first letter when asked", () => {
    expect(detokenize13a(["élan", "vital", "."], { capitalize: true })).toBe("Élan vital.");
  });
});
