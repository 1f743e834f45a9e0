import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

const { Seq2SeqBatcher } = tg.text;

/** Deterministic toy pairs with varied lengths (ids from 4 up, so no specials). */
function toyPairs(n: number): tg.text.EncodedPair[] {
  const g = new tg.Generator(7);
  return Array.from({ length: n }, () => ({
    src: Array.from({ length: g.int(1, 30) }, () => g.int(4, 100)),
    tgt: Array.from({ length: g.int(1, 30) }, () => g.int(4, 100)),
  }));
}

const rows = (t: tg.Tensor) => t.toArray() as number[][];

describe("tg.text.Seq2SeqBatcher", () => {
  const pairs = toyPairs(1000);

  it("pads to the batch maximum and places <bos>/<eos> around the target", () => {
    const b = new Seq2SeqBatcher(pairs, { batchSize: 16, seed: 3 });
    for (const batch of b.batches(0)) {
      const [B, S] = batch.src.shape as [number, number];
      const T = batch.tgtIn.shape[1]!;
      expect(batch.src.dtype).toBe("int32");
      expect(batch.tgtIn.shape).toEqual([B, T]);
      expect(batch.tgtOut.shape).toEqual([B, T]);
      expect(S).toBe(Math.max(...batch.srcLengths));
      expect(T).toBe(Math.max(...batch.tgtLengths));
      const src = rows(batch.src);
      const tin = rows(batch.tgtIn);
      const tout = rows(batch.tgtOut);
      batch.indices.forEach((ex, r) => {
        const p = pairs[ex]!;
        const n = p.tgt.length;
        expect(src[r]!).toEqual([...p.src, 2, ...Array<number>(S - p.src.length - 1).fill(0)]);
        expect(tin[r]!).toEqual([1, ...p.tgt, ...Array<number>(T - n - 1).fill(0)]);
        expect(tout[r]!).toEqual([...p.tgt, 2, ...Array<number>(T - n - 1).fill(0)]);
        expect(batch.srcLengths[r]).toBe(p.src.length + 1);
        expect(batch.tgtLengths[r]).toBe(n + 1);
      });
      expect(batch.tgtTokens).toBe(batch.tgtLengths.reduce((a, c) => a + c, 0));
      // targetRows/targets: exactly the non-pad positions of tgtOut, in row-major order.
      const flat = tout.flat();
      const want = flat.flatMap((id, k) =>
        k % T < batch.tgtLengths[Math.floor(k / T)]! ? [k] : [],
      );
      expect(batch.targetRows.toArray()).toEqual(want);
      expect(batch.targets.toArray()).toEqual(want.map((k) => flat[k]));
      expect(batch.targets.toArray()).not.toContain(0);
    }
  });

  it("reverses the source tokens but not the padding or the source <eos>", () => {
    const b = new Seq2SeqBatcher(
      [
        { src: [4, 5, 6], tgt: [9] },
        { src: [7], tgt: [9] },
      ],
      { batchSize: 2, shuffle: false, bucket: false, reverseSource: true },
    );
    const [batch] = [...b.batches(0)];
    expect(rows(batch!.src)).toEqual([
      [6, 5, 4, 2],
      [7, 2, 0, 0],
    ]);
    const noEos = new Seq2SeqBatcher([{ src: [4, 5], tgt: [9] }], {
      batchSize: 1,
      reverseSource: true,
      sourceEos: false,
    });
    expect(rows([...noEos.batches(0)][0]!.src)).toEqual([[5, 4]]);
  });

  it("visits every example exactly once per epoch", () => {
    const b = new Seq2SeqBatcher(pairs, { batchSize: 32, seed: 1 });
    for (const epoch of [0, 1]) {
      const seen = b
        .plan(epoch)
        .flat()
        .sort((x, y) => x - y);
      expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    }
    expect(b.numBatches).toBe(32);
    const dropped = new Seq2SeqBatcher(pairs, { batchSize: 32, dropLast: true });
    expect(dropped.numBatches).toBe(31);
    expect(dropped.plan(0).every((x) => x.length === 32)).toBe(true);
  });

  it("is deterministic in (seed, epoch) and differs across epochs and seeds", () => {
    const a = new Seq2SeqBatcher(pairs, { batchSize: 32, seed: 5 });
    const b = new Seq2SeqBatcher(pairs, { batchSize: 32, seed: 5 });
    expect(a.plan(3)).toEqual(b.plan(3));
    // An explicit undefined falls back to the default seed (0) instead of failing validation.
    expect(new Seq2SeqBatcher(pairs, { batchSize: 32, seed: undefined }).plan(1)).toEqual(
      new Seq2SeqBatcher(pairs, { batchSize: 32, seed: 0 }).plan(1),
    );
    expect(a.plan(3)).not.toEqual(a.plan(4));
    expect(a.plan(3)).not.toEqual(new Seq2SeqBatcher(pairs, { batchSize: 32, seed: 6 }).plan(3));
    const x = [...a.batches(2)][5]!;
    const y = [...b.batches(2)][5]!;
    expect(x.src.toArray()).toEqual(y.src.toArray());
  });

  it("does not depend on the global generator", () => {
    const a = new Seq2SeqBatcher(pairs, { batchSize: 32, seed: 5 }).plan(0);
    tg.manualSeed(123);
    tg.randn([10]);
    expect(new Seq2SeqBatcher(pairs, { batchSize: 32, seed: 5 }).plan(0)).toEqual(a);
  });

  it("bucketing groups similar lengths, so batches carry far less padding", () => {
    const padding = (bucket: boolean) => {
      let pad = 0;
      for (const batch of new Seq2SeqBatcher(pairs, { batchSize: 32, bucket }).batches(0)) {
        pad += batch.src.numel() - batch.srcLengths.reduce((s, l) => s + l, 0);
      }
      return pad;
    };
    expect(padding(true)).toBeLessThan(padding(false) / 4);
  });

  it("keeps corpus order without shuffling, so outputs can be matched to references", () => {
    const b = new Seq2SeqBatcher(pairs, { batchSize: 100, shuffle: false, bucket: false });
    expect(b.plan(0).flat()).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it("truncates long sequences and drops empty ones, with counts", () => {
    const b = new Seq2SeqBatcher(
      [
        { src: [4, 5, 6, 7, 8], tgt: [9, 10, 11] },
        { src: [], tgt: [9] },
        { src: [4], tgt: [] },
        { src: [4], tgt: [9] },
      ],
      { batchSize: 4, maxSourceLen: 2, maxTargetLen: 2, shuffle: false, bucket: false },
    );
    expect(b.stats).toEqual({
      examples: 2,
      droppedEmpty: 2,
      truncatedSource: 1,
      truncatedTarget: 1,
    });
    const [batch] = [...b.batches(0)];
    expect(batch!.indices).toEqual([0, 3]);
    expect(rows(batch!.src)).toEqual([
      [4, 5, 2],
      [4, 2, 0],
    ]);
    expect(rows(batch!.tgtOut)).toEqual([
      [9, 10, 2],
      [9, 2, 0],
    ]);
    expect(() => b.collate([1])).toThrow(/no example 1 \(dropped or out of range\)/);
  });

  it("builds from a corpus and tokenisers", () => {
    const corpus = tg.text.loadMulti30k({ split: "val", warn: () => {} });
    const src = tg.text.WordTokenizer.fit(corpus.src);
    const tgt = tg.text.WordTokenizer.fit(corpus.tgt);
    const b = Seq2SeqBatcher.fromCorpus(corpus, src, tgt, { batchSize: 64, reverseSource: true });
    const first = [...b.batches(0)][0]!;
    const ex = first.indices[0]!;
    const ids = (rows(first.src)[0] ?? []).slice(0, first.srcLengths[0]! - 1).reverse();
    expect(src.decode(ids)).toBe(src.decode(src.encode(corpus.src[ex]!)));
    expect(tgt.decode(rows(first.tgtOut)[0]!)).toBe(tgt.decode(tgt.encode(corpus.tgt[ex]!)));
  });

  it("rejects bad options and ids that would be read as padding", () => {
    expect(() => new Seq2SeqBatcher(pairs, { batchSize: 0 })).toThrow(
      /batchSize must be a positive integer, got 0/,
    );
    expect(() => new Seq2SeqBatcher(pairs, { batchSize: 2, seed: -1 })).toThrow(
      /seed must be an integer in \[0, 2\^32\)/,
    );
    expect(() => new Seq2SeqBatcher([{ src: [4, 0], tgt: [5] }], { batchSize: 1 })).toThrow(
      /example 0 src\[1\] = 0: ids must be non-negative integers other than the pad id 0/,
    );
    expect(() => new Seq2SeqBatcher([{ src: [4], tgt: [1.5] }], { batchSize: 1 })).toThrow(
      /example 0 tgt\[0\] = 1.5/,
    );
    expect(() => new Seq2SeqBatcher(pairs, { batchSize: 2 }).plan(-1)).toThrow(
      /epoch must be an integer/,
    );
    expect(() =>
      Seq2SeqBatcher.fromCorpus(
        { src: ["a"], tgt: [] },
        tg.text.WordTokenizer.fit(["a"]),
        tg.text.WordTokenizer.fit(["a"]),
        {
          batchSize: 1,
        },
      ),
    ).toThrow(/1 source sentences but 0 target sentences/);
  });
});
