import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

const { BpeTokenizer, learnBpe, END_OF_WORD } = tg.text;

/**
 * The textbook algorithm (Sennrich et al. 2016, Algorithm 1): recount every pair after every
 * merge. Same tie rule as learnBpe (count, then left, then right in code-unit order).
 */
function naiveBpe(counts: Map<string, number>, numMerges: number, minFreq = 2): string[][] {
  const words = [...counts].map(([w, f]) => {
    const cps = Array.from(w);
    return { syms: cps.map((c, i) => (i === cps.length - 1 ? c + END_OF_WORD : c)), f };
  });
  const merges: string[][] = [];
  while (merges.length < numMerges) {
    const stats = new Map<string, { p: [string, string]; c: number }>();
    for (const { syms, f } of words) {
      for (let i = 0; i + 1 < syms.length; i++) {
        const k = `${syms[i]}\u0000${syms[i + 1]}`;
        const e = stats.get(k);
        if (e) e.c += f;
        else stats.set(k, { p: [syms[i]!, syms[i + 1]!], c: f });
      }
    }
    let best: [string, string] | null = null;
    let bestCount = 0;
    for (const { p, c } of stats.values()) {
      if (
        best === null ||
        c > bestCount ||
        (c === bestCount && (p[0] < best[0] || (p[0] === best[0] && p[1] < best[1])))
      ) {
        best = p;
        bestCount = c;
      }
    }
    if (best === null || bestCount < minFreq) break;
    merges.push(best);
    for (const w of words) {
      const out: string[] = [];
      for (let i = 0; i < w.syms.length; i++) {
        if (i + 1 < w.syms.length && w.syms[i] === best[0] && w.syms[i + 1] === best[1]) {
          out.push(best[0] + best[1]);
          i++;
        } else out.push(w.syms[i]!);
      }
      w.syms = out;
    }
  }
  return merges;
}

function wordCounts(sentences: string[], tok: tg.text.BpeTokenizer): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of sentences) for (const w of tok.words(s)) m.set(w, (m.get(w) ?? 0) + 1);
  return m;
}

const train = tg.text.loadMulti30k({ split: "train", warn: () => {} });
const val = tg.text.loadMulti30k({ split: "val", warn: () => {} });

describe("tg.text.learnBpe", () => {
  it("matches the recount-everything algorithm on Multi30k and on repeated symbols", () => {
    const probe = BpeTokenizer.fit([], { numMerges: 0 });
    const counts = wordCounts(train.src.slice(0, 600), probe);
    expect(learnBpe(counts, 150)).toEqual(naiveBpe(counts, 150));
    const tricky = new Map([
      ["aaaa", 3],
      ["aaa", 2],
      ["abab", 4],
      ["ba", 5],
      ["a", 7],
      ["😀😀", 2],
    ]);
    expect(learnBpe(tricky, 20, 1)).toEqual(naiveBpe(tricky, 20, 1));
  });

  it("does not depend on the order of the words", () => {
    const entries = [
      ...wordCounts(train.tgt.slice(0, 800), BpeTokenizer.fit([], { numMerges: 0 })),
    ];
    const reversed = new Map(entries.slice().reverse());
    expect(learnBpe(new Map(entries), 200)).toEqual(learnBpe(reversed, 200));
  });

  it("stops early when pairs fall below minFrequency", () => {
    const m = learnBpe(new Map([["abc", 1]]), 10);
    expect(m).toEqual([]);
    expect(learnBpe(new Map([["abc", 1]]), 10, 1)).toEqual([
      ["a", "b"],
      ["ab", "c</w>"],
    ]);
  });

  it("rejects a bad merge count and words containing the marker", () => {
    expect(() => learnBpe(new Map(), -1)).toThrow(/numMerges must be a non-negative integer/);
    expect(() => learnBpe(new Map([["a</w>b", 2]]), 1)).toThrow(/contains <\/w>/);
  });

  it("learns 10k merges on Multi30k's 29k English sentences in seconds", () => {
    const t0 = performance.now();
    const bpe = BpeTokenizer.fit(train.src, { numMerges: 10000 });
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `BPE: ${bpe.merges.length} merges on ${train.src.length} sentences in ${seconds.toFixed(2)} s`,
    );
    expect(bpe.merges.length).toBe(10000);
    expect(seconds).toBeLessThan(20);
  });
});

describe("tg.text.BpeTokenizer", () => {
  const bpe = BpeTokenizer.fit([...train.src.slice(0, 3000), ...train.tgt.slice(0, 3000)], {
    numMerges: 1000,
  });

  it("decodes back to exactly the pre-tokenised words of every validation sentence", () => {
    for (const s of [...val.src, ...val.tgt]) {
      const ids = bpe.encode(s);
      if (ids.includes(bpe.unkId)) continue;
      expect(bpe.decodeWords(ids)).toEqual(bpe.words(s));
    }
    const unknown = [...val.src, ...val.tgt].filter((s) => bpe.encode(s).includes(bpe.unkId));
    expect(unknown.length).toBeLessThan(30); // only sentences with characters never seen
  });

  it("decodes to text that re-tokenises to the same 13a tokens (what BLEU sees)", () => {
    for (const s of val.tgt.slice(0, 300)) {
      const out = bpe.decode(bpe.encode(s));
      expect(tg.text.tokenize13a(out)).toBe(tg.text.tokenize13a(s));
    }
  });

  it("segments by merge rank with the end-of-word marker on the last piece", () => {
    const pieces = bpe.tokenize("Two dogs");
    expect(pieces.join("").replaceAll(END_OF_WORD, " ").trim()).toBe("Two dogs");
    expect(pieces.filter((p) => p.endsWith(END_OF_WORD))).toHaveLength(2);
    expect(bpe.segment("")).toEqual([]);
  });

  it("maps unseen characters to <unk> and keeps word boundaries", () => {
    const ids = bpe.encode("un 😀 chat");
    expect(ids).toContain(bpe.unkId);
    expect(bpe.decodeWords(ids)).toEqual(["un", "<unk>", "chat"]);
    expect(bpe.decodeWords(bpe.encode("ab😀"))).toEqual(["ab<unk>"]);
  });

  it("handles specials in model output: leading <bos>, stop at <eos>, skip <pad>", () => {
    const ids = bpe.encode("a dog .");
    expect(bpe.decode([bpe.bosId, ...ids, bpe.eosId, bpe.padId, 99])).toBe("a dog.");
  });

  it("splits on whitespace only when asked, and rejects the marker inside a word", () => {
    const ws = BpeTokenizer.fit(["l'homme, d'accord."], {
      numMerges: 5,
      pretokenize: "whitespace",
    });
    expect(ws.words("l'homme, d'accord.")).toEqual(["l'homme,", "d'accord."]);
    expect(ws.decode(ws.encode("l'homme, d'accord."))).toBe("l'homme, d'accord.");
    expect(() => ws.encode("x</w>y")).toThrow(/contains the end-of-word marker/);
  });

  it("is deterministic and round-trips through JSON with its fingerprint", () => {
    const again = BpeTokenizer.fit([...train.src.slice(0, 3000), ...train.tgt.slice(0, 3000)], {
      numMerges: 1000,
    });
    expect(again.fingerprint).toBe(bpe.fingerprint);
    const json = JSON.parse(JSON.stringify(bpe)) as tg.text.BpeTokenizerJSON;
    const back = tg.text.tokenizerFromJSON(json);
    expect(back.kind).toBe("bpe");
    expect(back.fingerprint).toBe(bpe.fingerprint);
    expect(back.encode(val.tgt[7]!)).toEqual(bpe.encode(val.tgt[7]!));
    const fewer = BpeTokenizer.fit(train.src.slice(0, 3000), { numMerges: 100 });
    expect(fewer.fingerprint).not.toBe(bpe.fingerprint);
    const tampered = { ...json, merges: json.merges.slice(1) };
    expect(() => BpeTokenizer.fromJSON(tampered)).toThrow(/file was edited or corrupted/);
    expect(() => BpeTokenizer.fromJSON({ ...json, merges: [["q", "z"]] })).toThrow(
      /merge 0 \(q \+ z\) produces qz, which is not in the vocabulary/,
    );
  });
});
