/**
 * A trained translation model with its tokenisers: building the model from a config, the
 * checkpoint metadata that makes a checkpoint self-contained (config, both vocabularies and their
 * fingerprints), and batched translation of raw sentences with greedy or beam search.
 */
import type { Module } from "../nn/module.js";
import { type FileSource, sourceBytes } from "../io/atomic.js";
import { decodeCheckpoint } from "../io/checkpoint.js";
import { latestCheckpoint } from "../io/runs.js";
import { nodeModule } from "../io/node.js";
import { type DecodeOptions, beamSearch, greedyDecode } from "../models/decoding.js";
import { Seq2Seq } from "../models/seq2seq.js";
import { Seq2SeqAttention } from "../models/seq2seq-attention.js";
import { tensor } from "../tensor/creation.js";
import { TsgradError } from "../tensor/errors.js";
import type { Tensor } from "../tensor/tensor.js";
import { checkFingerprint } from "../text/hash.js";
import type { BpeTokenizerJSON } from "../text/bpe.js";
import { type TextTokenizer, tokenizerFromJSON } from "../text/tokenizer.js";
import type { WordTokenizerJSON } from "../text/word-tokenizer.js";
import { type TranslateConfig, resolveConfig } from "./config.js";
import { type Steps, runSteps } from "./steps.js";
import type { TokenizerPair } from "./data.js";

/** Either model family. */
export type TranslationModel = Seq2Seq | Seq2SeqAttention;

/**
 * The model a config describes, for vocabularies of the given sizes (padding id 0).
 *
 * @example
 * const c = tg.translate.resolveConfig({ model: "seq2seq", embed: 8, hidden: 16, layers: 2 });
 * const m = tg.translate.buildModel(c, 30, 40);
 * console.log(m instanceof tg.models.Seq2Seq, m.out.weight.shape); // true [40, 16]
 */
export function buildModel(
  config: TranslateConfig,
  srcVocab: number,
  tgtVocab: number,
): TranslationModel {
  const spec = {
    srcVocab,
    tgtVocab,
    embedDim: config.embed,
    hiddenDim: config.hidden,
    numLayers: config.layers,
    dropout: config.dropout,
    padIdx: 0,
  };
  return config.model === "seq2seq"
    ? new Seq2Seq({ ...spec, contextFeed: config.contextFeed })
    : new Seq2SeqAttention(spec);
}

/** A serialised tokeniser of either kind, as a checkpoint stores it. */
export type TokenizerJSON = WordTokenizerJSON | BpeTokenizerJSON;

/** What a translation checkpoint carries besides the weights (under `extra.translate`). */
export interface TranslationMeta {
  format: "tsgrad.translate";
  version: 1;
  config: TranslateConfig;
  tokenizers: { src: TokenizerJSON; tgt: TokenizerJSON };
  /** Fingerprints of the vocabularies the weights were trained with. */
  fingerprints: { src: string; tgt: string };
}

/**
 * The metadata to store with a model trained under `config` with `tokenizers`.
 *
 * @example
 * const c = tg.translate.resolveConfig({ tokenizer: "word", jointVocab: false });
 * const t = tg.translate.fitTokenizers(c, { src: ["a dog"], tgt: ["un chien"] });
 * const meta = tg.translate.translationMeta(c, t);
 * console.log(meta.format, meta.fingerprints.tgt === t.tgt.fingerprint); // "tsgrad.translate" true
 */
export function translationMeta(
  config: TranslateConfig,
  tokenizers: TokenizerPair,
): TranslationMeta {
  return {
    format: "tsgrad.translate",
    version: 1,
    config,
    tokenizers: { src: tokenizers.src.toJSON(), tgt: tokenizers.tgt.toJSON() },
    fingerprints: { src: tokenizers.src.fingerprint, tgt: tokenizers.tgt.fingerprint },
  };
}

/**
 * Restore config and tokenisers from checkpoint metadata, checking that the stored vocabularies
 * are the ones whose fingerprints were recorded. `where` names the file in errors.
 *
 * @example
 * const c = tg.translate.resolveConfig({ tokenizer: "word", vocabMinFreq: 1 });
 * const t = tg.translate.fitTokenizers(c, { src: ["a dog"], tgt: ["un chien"] });
 * const back = tg.translate.readTranslationMeta({ translate: tg.translate.translationMeta(c, t) }, "ck");
 * console.log(back.tokenizers.tgt.decode(t.tgt.encode("un chien"))); // "un chien"
 */
export function readTranslationMeta(
  extra: unknown,
  where: string,
): { config: TranslateConfig; tokenizers: TokenizerPair; meta: TranslationMeta } {
  const meta = (extra as { translate?: unknown } | null)?.translate as TranslationMeta | undefined;
  if (meta?.format !== "tsgrad.translate") {
    throw new TsgradError(
      where,
      "is not a translation checkpoint (no tsgrad.translate metadata); use one written by `tsgrad train translate`",
    );
  }
  if ((meta.version as unknown) !== 1) {
    const v = JSON.stringify(meta.version);
    throw new TsgradError(where, `translation metadata version ${v} is not supported`);
  }
  const config = resolveConfig(meta.config);
  const tokenizers = {
    src: tokenizerFromJSON(meta.tokenizers.src),
    tgt: tokenizerFromJSON(meta.tokenizers.tgt),
  };
  checkFingerprint(meta.fingerprints.src, tokenizers.src, `source vocabulary stored in ${where}`);
  checkFingerprint(meta.fingerprints.tgt, tokenizers.tgt, `target vocabulary stored in ${where}`);
  return { config, tokenizers, meta };
}

/** Options of {@link Translator.translate}. */
export interface TranslateOptions {
  /** Beam size; 1 (default) is greedy decoding. */
  beam?: number;
  /** Sentences decoded together. Default 64. */
  batchSize?: number;
  /** Sources longer than this many tokens are cut, with a warning. Default: the config's maxLen. */
  maxSourceTokens?: number;
  /** Longest output in tokens; default 1.5 × source length + 10. */
  maxOutputTokens?: number;
  /** Receives truncation warnings. Default `console.warn`. */
  warn?: (message: string) => void;
}

/** Options of {@link Translator.load}. */
export interface LoadTranslatorOptions {
  /** The name errors use when the checkpoint is given as bytes. Default "<bytes>". */
  name?: string;
  /**
   * Tokenisers to use instead of the checkpoint's own (e.g. from a `vocab.json`); they must have
   * the vocabularies the weights were trained with, or loading fails.
   */
  tokenizers?: Partial<TokenizerPair>;
}

/**
 * A translation model with its tokenisers: raw sentences in, detokenised sentences out. It
 * applies the source preprocessing the model was trained with (reversal, `<eos>`), decodes in
 * length-sorted batches, and returns translations in input order. An empty (or all-whitespace)
 * input gives an empty translation; unknown words and characters become `<unk>`.
 *
 * @example
 * tg.manualSeed(0);
 * const config = tg.translate.resolveConfig({ tokenizer: "word", embed: 8, hidden: 8 });
 * const tokenizers = tg.translate.fitTokenizers(config, { src: ["a dog"], tgt: ["un chien"] });
 * const model = tg.translate.buildModel(config, tokenizers.src.size, tokenizers.tgt.size);
 * const t = new tg.translate.Translator(model, tokenizers, config);
 * const out = t.translate(["a dog", "", "a cat"], { maxOutputTokens: 3 });
 * console.log(out.length, out[1]); // 3 ""
 */
export class Translator {
  constructor(
    readonly model: TranslationModel,
    readonly tokenizers: TokenizerPair,
    readonly config: TranslateConfig,
  ) {
    const emb = (m: Module, name: string) => (m.stateDict()[name] as Tensor).shape[0];
    const sizes = [emb(model, "srcEmbed.weight"), emb(model, "tgtEmbed.weight")];
    if (sizes[0] !== tokenizers.src.size || sizes[1] !== tokenizers.tgt.size) {
      throw new TsgradError(
        "Translator",
        `model vocabularies (${sizes.join(", ")}) do not match the tokenisers (${tokenizers.src.size}, ${tokenizers.tgt.size})`,
      );
    }
  }

  /**
   * Load a checkpoint written by `tsgrad train translate` (a resume checkpoint or
   * `best.safetensors`): a path in Node, or the file's bytes anywhere (in a browser,
   * `Translator.load(await file.arrayBuffer())`). A checkpoint whose stored vocabularies do not
   * match their recorded fingerprints, or tokenisers given in `opts` with another vocabulary, is
   * an error.
   */
  static load(source: FileSource, opts: LoadTranslatorOptions = {}): Translator {
    const { bytes, name: path } = sourceBytes(source, "Translator.load", opts.name);
    const ck = decodeCheckpoint(bytes, path);
    const { config, tokenizers, meta } = readTranslationMeta(ck.extra, path);
    for (const side of ["src", "tgt"] as const) {
      const given = opts.tokenizers?.[side];
      if (given === undefined) continue;
      checkFingerprint(
        meta.fingerprints[side],
        given,
        `${side === "src" ? "source" : "target"} vocabulary given for ${path}`,
      );
      tokenizers[side] = given;
    }
    const model = buildModel(config, tokenizers.src.size, tokenizers.tgt.size);
    model.loadStateDict(ck.model, { source: path });
    model.eval();
    return new Translator(model, tokenizers, config);
  }

  /** Source ids of one sentence, cut to `max` tokens (reported through `warn`). */
  private encodeSource(
    text: string,
    index: number,
    max: number,
    warn: (m: string) => void,
  ): number[] {
    const ids = this.tokenizers.src.encode(text);
    if (ids.length <= max) return ids;
    warn(
      `translate: sentence ${index + 1} has ${ids.length} tokens; only the first ${max} are translated`,
    );
    return ids.slice(0, max);
  }

  /** Translate sentences (see the class description). */
  translate(sentences: readonly string[], opts: TranslateOptions = {}): string[] {
    return runSteps(this.translateSteps(sentences, opts));
  }

  /** {@link Translator.translate} as a computation that pauses after each decoded batch. */
  *translateSteps(sentences: readonly string[], opts: TranslateOptions = {}): Steps<string[]> {
    const beam = opts.beam ?? 1;
    const batchSize = opts.batchSize ?? 64;
    const max = opts.maxSourceTokens ?? this.config.maxLen;
    const warn = opts.warn ?? ((m: string) => console.warn(m));
    if (!Number.isInteger(beam) || beam < 1) {
      throw new TsgradError("Translator.translate", `beam must be a positive integer, got ${beam}`);
    }
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new TsgradError(
        "Translator.translate",
        `batchSize must be a positive integer, got ${batchSize}`,
      );
    }
    if (!Number.isInteger(max) || max < 1) {
      throw new TsgradError(
        "Translator.translate",
        `maxSourceTokens must be a positive integer, got ${max}`,
      );
    }
    const ids = sentences.map((s, i) => this.encodeSource(s, i, max, warn));
    const out = sentences.map(() => "");
    // Longest first within length-sorted batches: little padding, and the order is restored below.
    const order = ids
      .map((_, i) => i)
      .filter((i) => ids[i]!.length > 0)
      .sort((a, b) => ids[a]!.length - ids[b]!.length || a - b);
    const wasTraining = this.model.training;
    this.model.eval();
    try {
      for (let start = 0; start < order.length; start += batchSize) {
        const rows = order.slice(start, start + batchSize);
        const hyps = this.decodeIds(
          rows.map((i) => ids[i]!),
          beam,
          opts.maxOutputTokens,
        );
        rows.forEach((i, r) => (out[i] = this.tokenizers.tgt.decode(hyps[r]!)));
        yield;
      }
    } finally {
      this.model.train(wasTraining);
    }
    return out;
  }

  /** Decode non-empty source id sequences (without specials) into target ids. */
  decodeIds(
    sources: readonly (readonly number[])[],
    beam = 1,
    maxOutputTokens?: number,
  ): number[][] {
    const { src, lengths } = collateSources(
      sources,
      this.config.reverseSource,
      this.tokenizers.src,
    );
    const dec: DecodeOptions = {
      bos: this.tokenizers.tgt.bosId,
      eos: this.tokenizers.tgt.eosId,
      maxLength: maxOutputTokens,
    };
    // The two model classes have different decoder states, so each call is typed on its own.
    if (this.model instanceof Seq2Seq) {
      return beam === 1
        ? greedyDecode(this.model, src, lengths, dec)
        : beamSearch(this.model, src, lengths, {
            ...dec,
            beamSize: beam,
            lengthPenalty: this.config.lengthPenalty,
          });
    }
    return beam === 1
      ? greedyDecode(this.model, src, lengths, dec)
      : beamSearch(this.model, src, lengths, {
          ...dec,
          beamSize: beam,
          lengthPenalty: this.config.lengthPenalty,
        });
  }
}

/**
 * Pad source id rows the way the training batcher does: optionally reversed, then `<eos>`, then
 * `<pad>` to the longest row.
 *
 * @example
 * const { src, lengths } = tg.translate.collateSources([[5, 6, 7], [8]], true, { eosId: 2, padId: 0 });
 * console.log(src.toArray(), lengths); // [[7, 6, 5, 2], [8, 2, 0, 0]] [4, 2]
 */
export function collateSources(
  rows: readonly (readonly number[])[],
  reverse: boolean,
  ids: Pick<TextTokenizer, "eosId" | "padId">,
): { src: Tensor; lengths: number[] } {
  if (rows.length === 0) throw new TsgradError("collateSources", "no sentences");
  const seqs = rows.map((r) => {
    if (r.length === 0) throw new TsgradError("collateSources", "empty source sentence");
    const s = reverse ? [...r].reverse() : [...r];
    s.push(ids.eosId);
    return s;
  });
  const S = Math.max(...seqs.map((s) => s.length));
  const data = new Int32Array(seqs.length * S).fill(ids.padId);
  seqs.forEach((s, b) => data.set(s, b * S));
  return { src: tensor(data, { shape: [seqs.length, S] }), lengths: seqs.map((s) => s.length) };
}

/**
 * Tokenisers saved by `tsgrad train translate` as `vocab.json` in the run folder, restored with
 * their fingerprints checked.
 *
 * @example
 * const { mkdtempSync, writeFileSync } = process.getBuiltinModule("node:fs");
 * const dir = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * const c = tg.translate.resolveConfig({ tokenizer: "word", vocabMinFreq: 1 });
 * const t = tg.translate.fitTokenizers(c, { src: ["a dog"], tgt: ["un chien"] });
 * writeFileSync(dir + "/vocab.json", JSON.stringify({ src: t.src.toJSON(), tgt: t.tgt.toJSON() }));
 * const back = tg.translate.loadVocabFile(dir + "/vocab.json");
 * console.log(back.src.fingerprint === t.src.fingerprint, back.tgt.size); // true 8
 */
export function loadVocabFile(path: string): TokenizerPair {
  const fs = nodeModule("loadVocabFile", "node:fs");
  let json: { src?: TokenizerJSON; tgt?: TokenizerJSON };
  try {
    json = JSON.parse(fs.readFileSync(path, "utf8")) as typeof json;
  } catch (e) {
    throw new TsgradError(path, `cannot read a vocabulary file: ${(e as Error).message}`);
  }
  if (json.src === undefined || json.tgt === undefined) {
    throw new TsgradError(path, "a vocabulary file needs src and tgt tokenisers");
  }
  return { src: tokenizerFromJSON(json.src), tgt: tokenizerFromJSON(json.tgt) };
}

/**
 * The checkpoint file a user means: a file as given; for a run folder, its `best.safetensors`,
 * else its latest `checkpoint-<step>.safetensors`.
 *
 * @example
 * const { mkdtempSync, writeFileSync } = process.getBuiltinModule("node:fs");
 * const dir = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * writeFileSync(dir + "/checkpoint-7.safetensors", "");
 * console.log(tg.translate.resolveCheckpoint(dir) === dir + "/checkpoint-7.safetensors"); // true
 */
export function resolveCheckpoint(path: string): string {
  const fs = nodeModule("resolveCheckpoint", "node:fs");
  if (!fs.existsSync(path)) throw new TsgradError(path, "no such checkpoint file or run folder");
  if (!fs.statSync(path).isDirectory()) return path;
  if (fs.existsSync(`${path}/best.safetensors`)) return `${path}/best.safetensors`;
  const latest = latestCheckpoint(path);
  if (latest === null) {
    throw new TsgradError(
      path,
      "this folder has no best.safetensors or checkpoint-<step>.safetensors",
    );
  }
  return latest.path;
}
