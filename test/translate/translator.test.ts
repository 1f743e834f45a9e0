import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import * as translate from "../../src/translate/index.js";

const tmp = () => mkdtempSync(`${tmpdir()}/tg-translate-`);

/** A folder laid out like data/multi30k, with plain-text files. */
function corpusDir(files: Record<string, string[]>): string {
  const dir = tmp();
  for (const [name, lines] of Object.entries(files)) {
    writeFileSync(`${dir}/${name}`, lines.join("\n") + "\n");
  }
  return dir;
}

const tiny = translate.resolveConfig({
  ...translate.QUICK_CONFIG,
  embed: 8,
  hidden: 8,
  maxLen: 12,
});

function tinyTranslator(config = tiny, seed = 0) {
  const train = {
    src: ["a dog runs .", "a cat sleeps", "two men walk"],
    tgt: ["un chien court .", "un chat dort", "deux hommes marchent"],
  };
  const tokenizers = translate.fitTokenizers(config, train);
  tg.manualSeed(seed);
  const model = translate.buildModel(config, tokenizers.src.size, tokenizers.tgt.size);
  return new translate.Translator(model, tokenizers, config);
}

describe("tg.translate.loadSplit", () => {
  it("reports mismatched line counts with both files and both counts", () => {
    const dir = corpusDir({ "train.en": ["a", "b", "c"], "train.fr": ["x", "y"] });
    expect(() => translate.loadSplit(tiny, "train", { dataDir: dir })).toThrow(
      new RegExp(`${dir}/train.en has 3 lines, ${dir}/train.fr has 2`),
    );
  });

  it("drops pairs with an empty side, with a warning, and applies the training filters", () => {
    const dir = corpusDir({
      "train.en": ["a dog", "", "a very long sentence with many words", "a cat", "two dogs"],
      "train.fr": ["un chien", "rien", "une phrase", "un chat", "deux chiens"],
    });
    const warnings: string[] = [];
    const c = translate.resolveConfig({ ...tiny, trainMaxWords: 3, trainLimit: 2 });
    const train = translate.loadSplit(c, "train", { dataDir: dir, warn: (m) => warnings.push(m) });
    expect(train.src).toEqual(["a dog", "a cat"]);
    expect(warnings.join("\n")).toMatch(/dropped 1 of 5 pairs with an empty side .*lines 2/);
  });
});

describe("tg.translate.prepareData", () => {
  it("cuts training sentences longer than maxLen tokens and says so", () => {
    const long = Array.from({ length: 30 }, (_, i) => `w${i}`).join(" ");
    const dir = corpusDir({
      "train.en": ["a dog", long],
      "train.fr": ["un chien", "une phrase"],
      "val.en": ["a dog"],
      "val.fr": ["un chien"],
    });
    const warnings: string[] = [];
    const c = translate.resolveConfig({
      ...tiny,
      validSplit: "val",
      trainMaxWords: 0,
      trainLimit: 0,
    });
    const d = translate.prepareData(c, {
      dataDir: dir,
      warn: (m) => warnings.push(m),
    });
    expect(d.trainBatcher.stats.truncatedSource).toBe(1);
    expect(warnings.join("\n")).toMatch(
      /cut 1 source and 0 target training sentences to 12 tokens/,
    );
  });
});

describe("tg.translate.fitTokenizers", () => {
  it("gives a joint BPE vocabulary to both sides, detokenising each in its language", () => {
    const c = translate.resolveConfig({ tokenizer: "bpe", bpeMerges: 30, jointVocab: true });
    const t = translate.fitTokenizers(c, { src: ["Where is it ?"], tgt: ["Où est-il ?"] });
    expect(t.src.fingerprint).toBe(t.tgt.fingerprint);
    expect(t.tgt.decode(t.tgt.encode("Où est-il ?"))).toBe("Où est-il ?");
    expect(t.src.decode(t.src.encode("Where is it ?"))).toBe("Where is it?");
  });

  it("gives separate vocabularies when asked", () => {
    const c = translate.resolveConfig({ tokenizer: "word", jointVocab: false, vocabMinFreq: 1 });
    const t = translate.fitTokenizers(c, { src: ["a dog"], tgt: ["un chien"] });
    expect(t.src.fingerprint).not.toBe(t.tgt.fingerprint);
    expect(t.src.size).toBe(6);
  });
});

describe("tg.translate.collateSources", () => {
  it("reverses, appends <eos> and pads like the training batcher", () => {
    const ids = { eosId: 2, padId: 0 };
    const { src, lengths } = translate.collateSources([[5, 6, 7], [8]], true, ids);
    expect(src.toArray()).toEqual([
      [7, 6, 5, 2],
      [8, 2, 0, 0],
    ]);
    expect(lengths).toEqual([4, 2]);
    expect(() => translate.collateSources([[]], false, ids)).toThrow(/empty source sentence/);
  });
});

describe("tg.translate.Translator", () => {
  it("passes empty lines through, maps unknown words and characters to <unk>, and never crashes on them", () => {
    const t = tinyTranslator();
    const unk = t.tokenizers.src.unkId;
    expect(t.tokenizers.src.encode("a zebra ☃")).toEqual([
      t.tokenizers.src.encode("a")[0],
      unk,
      unk,
    ]);
    const out = t.translate(["", "a dog runs .", "   ", "zebra ☃ ∮"], { maxOutputTokens: 4 });
    expect(out).toHaveLength(4);
    expect(out[0]).toBe("");
    expect(out[2]).toBe("");
    expect(typeof out[3]).toBe("string");
  });

  it("cuts very long sentences with a warning instead of failing", () => {
    const t = tinyTranslator();
    const warnings: string[] = [];
    const long = Array.from({ length: 500 }, () => "dog").join(" ");
    const out = t.translate(["a dog", long], { maxOutputTokens: 3, warn: (m) => warnings.push(m) });
    expect(out).toHaveLength(2);
    expect(warnings).toEqual([
      "translate: sentence 2 has 500 tokens; only the first 12 are translated",
    ]);
  });

  it("returns translations in input order whatever the batching, greedy and beam", () => {
    for (const model of ["seq2seq", "seq2seq-attention"] as const) {
      const c = translate.resolveConfig({ ...tiny, model });
      const t = tinyTranslator(c, 3);
      const sents = ["a dog runs .", "a cat", "two men walk a dog", "a", "cat sleeps ."];
      for (const beam of [1, 3]) {
        const batched = t.translate(sents, { beam, batchSize: 2, maxOutputTokens: 5 });
        const single = sents.map((s) => t.translate([s], { beam, maxOutputTokens: 5 })[0]);
        expect(batched).toEqual(single);
      }
    }
  });

  it("rejects a bad beam size", () => {
    expect(() => tinyTranslator().translate(["a"], { beam: 0 })).toThrow(
      /beam must be a positive integer/,
    );
  });
});

describe("tg.translate.Translator.load", () => {
  function saved(
    t: translate.Translator,
    meta = translate.translationMeta(t.config, t.tokenizers),
  ) {
    const dir = tmp();
    const path = `${dir}/best.safetensors`;
    tg.train.saveTrainingState(
      path,
      { model: t.model },
      { epoch: 1, batch: 0, step: 5 },
      { translate: meta },
    );
    return { dir, path };
  }

  it("restores a self-contained checkpoint that translates exactly as before", () => {
    const t = tinyTranslator();
    const { dir, path } = saved(t);
    expect(translate.resolveCheckpoint(dir)).toBe(path);
    const back = translate.Translator.load(path);
    const sents = ["a dog runs .", "two cats"];
    expect(back.translate(sents, { maxOutputTokens: 5 })).toEqual(
      t.translate(sents, { maxOutputTokens: 5 }),
    );
  });

  it("refuses tokenisers with another vocabulary than the checkpoint's", () => {
    const t = tinyTranslator();
    const { path } = saved(t);
    const other = translate.fitTokenizers(tiny, {
      src: ["some other words"],
      tgt: ["d'autres mots"],
    });
    expect(() => translate.Translator.load(path, { tokenizers: { src: other.src } })).toThrow(
      /source vocabulary given for .*best.safetensors does not match: the checkpoint expects fnv1a64:/,
    );
  });

  it("refuses a checkpoint whose stored vocabulary is not the one it was trained with", () => {
    const t = tinyTranslator();
    const meta = translate.translationMeta(t.config, t.tokenizers);
    const other = translate.fitTokenizers(tiny, {
      src: ["some other words"],
      tgt: ["d'autres mots"],
    });
    meta.tokenizers.tgt = other.tgt.toJSON();
    const { path } = saved(t, meta);
    expect(() => translate.Translator.load(path)).toThrow(
      /target vocabulary stored in .* does not match/,
    );
  });

  it("says so when a checkpoint is not a translation checkpoint", () => {
    const path = `${tmp()}/plain.safetensors`;
    tg.io.saveCheckpoint(path, { model: { w: tg.ones([2]) } });
    expect(() => translate.Translator.load(path)).toThrow(/is not a translation checkpoint/);
    expect(() => translate.resolveCheckpoint(`${tmp()}/missing`)).toThrow(/no such checkpoint/);
  });
});
