import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

const { Vocab, WordTokenizer, CharVocab } = tg.text;

describe("tg.text.Vocab", () => {
  it("puts the specials first, then tokens by count with ties in code-unit order", () => {
    const v = Vocab.build([
      ["b", "a", "c", "c"],
      ["a", "B"],
    ]);
    expect(v.tokens).toEqual(["<pad>", "<bos>", "<eos>", "<unk>", "a", "c", "B", "b"]);
    expect([tg.text.PAD_ID, tg.text.BOS_ID, tg.text.EOS_ID, tg.text.UNK_ID]).toEqual([0, 1, 2, 3]);
  });

  it("applies minFreq and maxSize (specials included in the size)", () => {
    const data = [["x", "x", "x", "y", "y", "z"]];
    expect(Vocab.build(data, { minFreq: 2 }).tokens.slice(4)).toEqual(["x", "y"]);
    expect(Vocab.build(data, { maxSize: 5 }).tokens.slice(4)).toEqual(["x"]);
    expect(() => Vocab.build(data, { maxSize: 3 })).toThrow(/maxSize must be >= 4/);
  });

  it("never gives a corpus token the id of a special", () => {
    const v = Vocab.build([["<unk>", "<pad>", "a"]]);
    expect(v.tokens).toEqual(["<pad>", "<bos>", "<eos>", "<unk>", "a"]);
  });

  it("maps unknown tokens to <unk> and rejects ids outside the vocabulary", () => {
    const v = Vocab.build([["a"]]);
    expect(v.encode(["a", "b"])).toEqual([4, 3]);
    expect(() => v.decode([5])).toThrow("Vocab: id 5 is outside the vocabulary of size 5");
  });

  it("rejects token lists without the specials or with duplicates", () => {
    expect(() => new Vocab(["a"])).toThrow(/token 0 must be the special <pad>/);
    expect(() => new Vocab([...tg.text.SPECIAL_TOKENS, "a", "a"])).toThrow(
      /duplicate token "a" at ids 4 and 5/,
    );
  });

  it("round-trips through JSON and detects an edited file", () => {
    const v = Vocab.build([["a", "b"]]);
    const json = JSON.parse(JSON.stringify(v)) as tg.text.VocabJSON;
    expect(Vocab.fromJSON(json).fingerprint).toBe(v.fingerprint);
    const edited = { ...json, tokens: [...json.tokens.slice(0, 4), "b", "a"] };
    expect(() => Vocab.fromJSON(edited)).toThrow(/stored fingerprint .* does not match/);
    expect(() => Vocab.fromJSON({ ...json, version: 2 as 1 })).toThrow(/unsupported .* version 2/);
  });
});

describe("tg.text.stripSpecials", () => {
  it("drops <bos> and <pad>, stops at <eos>, keeps <unk>", () => {
    expect(tg.text.stripSpecials(Int32Array.from([1, 5, 0, 3, 2, 6]))).toEqual([5, 3]);
  });
});

describe("tg.text.WordTokenizer", () => {
  const train = tg.text.loadMulti30k({ split: "train", warn: () => {} });

  it("fits a Multi30k vocabulary with a frequency cutoff and a size limit", () => {
    const sentences = train.tgt.slice(0, 10000);
    const cut = WordTokenizer.fit(sentences, { minFreq: 2 });
    const tokenised = sentences.map((s) => cut.tokenize(s));
    const all = Vocab.build(tokenised);
    expect(cut.vocab.tokens).toEqual(Vocab.build(tokenised, { minFreq: 2 }).tokens);
    expect(cut.size).toBeLessThan(all.size);
    expect(Vocab.build(tokenised, { maxSize: 1000 }).size).toBe(1000);
    // The most frequent French tokens of the captions.
    expect(cut.vocab.tokens.slice(4, 7)).toEqual([".", "un", "Un"]);
  });

  it("encodes unseen words as <unk> and decodes to detokenised text", () => {
    const tok = WordTokenizer.fit(["Un chien court !", "Un chat dort."], { lang: "fr" });
    const ids = tok.encode("Un chien dort, zzz !");
    expect(ids.filter((i) => i === tok.unkId)).toHaveLength(2); // "," and "zzz"
    expect(tok.decode([tok.bosId, ...ids, tok.eosId, tok.padId])).toBe(
      "Un chien dort <unk> <unk> !",
    );
  });

  it("lowercases when asked, and NFC-normalises", () => {
    const tok = WordTokenizer.fit(["Café"], { lowercase: true });
    expect(tok.tokenize("CAFE\u0301.")).toEqual(["café", "."]);
    expect(tok.encode("Cafe\u0301")).toEqual([4]);
  });

  it("reproduces tokens on the validation set, so BLEU on decoded output is unchanged", () => {
    const tok = WordTokenizer.fit(train.tgt.slice(0, 10000));
    const val = tg.text.loadMulti30k({ split: "val", warn: () => {} }).tgt;
    const decoded = val.map((s) => tok.decode(tok.encode(s)));
    // Unknown words aside, decode(encode(s)) re-tokenises to the tokens of s.
    const same = val.filter((s, i) => {
      const t = tok.tokenize(s);
      return (
        t.every((w) => tok.vocab.has(w)) && tok.tokenize(decoded[i]!).join(" ") === t.join(" ")
      );
    });
    const inVocab = val.filter((s) => tok.tokenize(s).every((w) => tok.vocab.has(w)));
    expect(same.length).toBe(inVocab.length);
    expect(inVocab.length).toBeGreaterThan(700);
  });

  it("has a fingerprint that changes with the vocabulary or the casing", () => {
    const a = WordTokenizer.fit(["a b c"]);
    expect(WordTokenizer.fit(["a b c"]).fingerprint).toBe(a.fingerprint);
    expect(WordTokenizer.fit(["a b d"]).fingerprint).not.toBe(a.fingerprint);
    expect(WordTokenizer.fit(["a b c"], { lowercase: true }).fingerprint).not.toBe(a.fingerprint);
    expect(a.fingerprint).toMatch(/^fnv1a64:[0-9a-f]{16}$/);
  });

  it("restores from JSON, and a checkpoint with another vocabulary is detected", () => {
    const a = WordTokenizer.fit(train.tgt.slice(0, 500));
    const saved = JSON.parse(JSON.stringify({ tokenizer: a, fp: a.fingerprint })) as {
      tokenizer: tg.text.WordTokenizerJSON;
      fp: string;
    };
    const back = tg.text.tokenizerFromJSON(saved.tokenizer);
    tg.text.checkFingerprint(saved.fp, back);
    expect(back.encode(train.tgt[3]!)).toEqual(a.encode(train.tgt[3]!));
    const other = WordTokenizer.fit(train.tgt.slice(0, 400));
    expect(() => tg.text.checkFingerprint(saved.fp, other, "target vocabulary")).toThrow(
      `checkFingerprint: target vocabulary does not match: the checkpoint expects ${a.fingerprint}, this one is ${other.fingerprint} (size ${other.size})`,
    );
    const tampered = { ...saved.tokenizer, lowercase: true };
    expect(() => WordTokenizer.fromJSON(tampered)).toThrow(/file was edited or corrupted/);
    expect(() => tg.text.tokenizerFromJSON({ format: "x" } as never)).toThrow(
      /unknown tokenizer format "x"/,
    );
  });
});

describe("tg.text.fnv1a64 fingerprints", () => {
  it("use the standard FNV-1a 64 (test vectors for '' and 'a')", async () => {
    const { fnv1a64 } = await import("../../src/text/hash.js");
    expect(fnv1a64("")).toBe("cbf29ce484222325");
    expect(fnv1a64("a")).toBe("af63dc4c8601ec8c");
    expect(fnv1a64("foobar")).toBe("85944171f73967e8");
  });
});

describe("tg.text.CharVocab", () => {
  const text = tg.text.loadTinyShakespeare();

  it("has nanoGPT's 65 characters for Tiny Shakespeare, in code-point order", () => {
    const v = CharVocab.fromText(text);
    expect(v.size).toBe(65);
    expect(v.chars.join("")).toBe(
      "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    );
    const ids = v.encode(text);
    expect(ids).toBeInstanceOf(Int32Array);
    expect(ids.length).toBe(text.length);
    expect(v.decode(ids.subarray(0, 1000))).toBe(text.slice(0, 1000));
  });

  it("names an unknown character and its position, or maps it to the unknown id", () => {
    const v = CharVocab.fromText("abc");
    expect(() => v.encode("ab😀")).toThrow(
      /CharVocab\.encode: character "😀" \(U\+1F600\) at position 2 is not in the vocabulary of 3 characters/,
    );
    const lenient = CharVocab.fromText("abc", { unk: true });
    expect(Array.from(lenient.encode("a😀c"))).toEqual([0, 3, 2]);
    expect(lenient.decode([0, 3, 2])).toBe("a\uFFFDc");
    expect(() => v.decode([0, 3])).toThrow(
      /id 3 at position 1 is outside the vocabulary of size 3/,
    );
  });

  it("counts astral characters as one character", () => {
    const v = CharVocab.fromText("😀a😀");
    expect(v.chars).toEqual(["a", "😀"]);
    expect(Array.from(v.encode("😀a"))).toEqual([1, 0]);
  });

  it("round-trips through JSON with a fingerprint that sees the unknown setting", () => {
    const v = CharVocab.fromText("hello");
    const back = CharVocab.fromJSON(JSON.parse(JSON.stringify(v)) as tg.text.CharVocabJSON);
    expect(back.fingerprint).toBe(v.fingerprint);
    expect(CharVocab.fromText("hello", { unk: true }).fingerprint).not.toBe(v.fingerprint);
    expect(() => new CharVocab(["ab"])).toThrow(/entry 0 is not one character/);
  });
});
