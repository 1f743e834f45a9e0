import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import "../../src/index.js";
import * as translate from "../../src/translate/index.js";

const ROOT = new URL("../../", import.meta.url).pathname;

function recipe(name: string): Record<string, unknown> {
  const json = JSON.parse(readFileSync(`${ROOT}recipes/${name}/config.json`, "utf8")) as Record<
    string,
    unknown
  >;
  delete json["//"];
  return json;
}

describe("tg.translate.resolveConfig", () => {
  it("fills defaults and keeps given fields", () => {
    // Users may write Multi30k's own name for the test split (e.g. in a JSON config).
    const finalEval = ["test_2016_flickr", "val"] as unknown as translate.Split[];
    const c = translate.resolveConfig({ hidden: 128, finalEval });
    expect(c.hidden).toBe(128);
    expect(c.embed).toBe(translate.DEFAULT_CONFIG.embed);
    expect(c.finalEval).toEqual(["test", "val"]);
  });

  it("reverses the source by default for seq2seq only, unless told", () => {
    expect(translate.resolveConfig({ model: "seq2seq" }).reverseSource).toBe(true);
    expect(translate.resolveConfig({ model: "seq2seq-attention" }).reverseSource).toBe(false);
    expect(translate.resolveConfig({ model: "seq2seq", reverseSource: false }).reverseSource).toBe(
      false,
    );
  });

  it("rejects unknown keys, bad choices and out-of-range values, naming them", () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ hiden: 3 }, /unknown key "hiden"/],
      [{ model: "transformer" }, /model must be one of seq2seq, seq2seq-attention/],
      [{ src: "fr", tgt: "fr" }, /src and tgt are both "fr"/],
      [{ batchSize: 0 }, /batchSize must be a positive integer, got 0/],
      [{ hidden: 2.5 }, /hidden must be a positive integer/],
      [{ lr: 0 }, /lr must be a positive number, got 0/],
      [{ clip: -1 }, /clip must be a non-negative number/],
      [{ dropout: 1 }, /dropout must be in \[0, 1\), got 1/],
      [{ finalEval: ["dev"] }, /unknown split "dev"/],
      [{ reverseSource: "yes" }, /reverseSource must be true or false/],
      [{ contextFeed: true }, /contextFeed applies to model "seq2seq" only/],
      [{ seed: -1 }, /seed must be an integer/],
    ];
    for (const [partial, message] of bad) {
      expect(() => translate.resolveConfig(partial as Partial<translate.TranslateConfig>)).toThrow(
        message,
      );
    }
  });
});

describe("recipes/multi30k-*/config.json", () => {
  it("are valid configs for the models and settings their READMEs state", () => {
    const att = translate.resolveConfig(recipe("multi30k-attention"));
    expect(att.model).toBe("seq2seq-attention");
    const s2s = translate.resolveConfig(recipe("multi30k-seq2seq"));
    expect(s2s.model).toBe("seq2seq");
    for (const c of [att, s2s]) {
      expect([c.src, c.tgt, c.tokenizer, c.clip, c.testBeam]).toEqual(["en", "fr", "bpe", 5, 5]);
      expect(c.finalEval).toContain("test");
      expect(c.maxMinutes).toBeGreaterThan(0);
      expect(c.maxMinutes).toBeLessThanOrEqual(60);
    }
    expect(s2s.reverseSource).toBe(true);
  });
});

describe("tg.translate.estimateCost", () => {
  it("counts the attention model's matmuls term by term", () => {
    const c = translate.resolveConfig({ embed: 4, hidden: 8, layers: 1 });
    const e = translate.estimateCost(c, { srcVocab: 10, tgtVocab: 12, srcLen: 3, tgtLen: 2 });
    // Encoder, per source position: two directions of 2·4H·(E+H) = 768, plus keys 2·2H·H = 256.
    expect(e.forward.encoder).toBe(3 * (2 * 768 + 256));
    // Decoder 2 steps of 768; attention per step 2·S·H + 2·S·2H + 2·3H·H = 48 + 96 + 384.
    expect(e.forward.decoder).toBe(2 * 768);
    expect(e.forward.attention).toBe(2 * 528);
    expect(e.forward.output).toBe(2 * 2 * 8 * 12);
    expect(e.trainPerSentence).toBe(3 * e.forward.total);
  });

  it("counts the seq2seq model with and without contextFeed", () => {
    const shape = { srcVocab: 10, tgtVocab: 12, srcLen: 3, tgtLen: 2 };
    const base = { model: "seq2seq", embed: 4, hidden: 8, layers: 2 } as const;
    const plain = translate.estimateCost(translate.resolveConfig(base), shape);
    // Per step: layer 1 2·4H·(E+H) = 768, layer 2 2·4H·(H+H) = 1024.
    expect(plain.forward.encoder).toBe(3 * (768 + 1024));
    expect(plain.forward.decoder).toBe(2 * (768 + 1024));
    expect(plain.forward.output).toBe(2 * 2 * 8 * 12);
    const fed = translate.estimateCost(
      translate.resolveConfig({ ...base, contextFeed: true }),
      shape,
    );
    // The context (H) joins the decoder's first input (E+H+H) and the output layer's input.
    expect(fed.forward.encoder).toBe(plain.forward.encoder);
    expect(fed.forward.decoder).toBe(2 * (2 * 4 * 8 * (4 + 8 + 8) + 1024));
    expect(fed.forward.output).toBe(2 * 2 * 16 * 12);
  });

  it("rejects non-positive sizes", () => {
    const c = translate.resolveConfig({});
    expect(() =>
      translate.estimateCost(c, { srcVocab: 10, tgtVocab: 10, srcLen: 0, tgtLen: 2 }),
    ).toThrow(/srcLen must be a positive number/);
  });
});
