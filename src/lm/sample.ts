/**
 * Sampling text from a trained character LM. The checkpoint carries everything needed (model
 * weights, the run's config and its vocabulary), so sampling needs no access to the training text.
 */
import { isRunFinished, latestCheckpoint } from "../io/runs.js";
import { type FileSource, sourceBytes } from "../io/atomic.js";
import { decodeCheckpoint } from "../io/checkpoint.js";
import { nodeModule } from "../io/node.js";
import { TransformerLM } from "../models/transformer-lm.js";
import { tensor } from "../tensor/creation.js";
import { TsgradError } from "../tensor/errors.js";
import { Generator } from "../tensor/random.js";
import { CharVocab } from "../text/char-vocab.js";
import { type LMConfig, modelConfigOf, resolveLMConfig } from "./config.js";
import type { LMCheckpointExtra } from "./trainer.js";

/** A model restored for sampling. */
export interface LoadedLM {
  model: TransformerLM;
  vocab: CharVocab;
  config: LMConfig;
  /** The checkpoint file that was read (its name, for bytes). */
  path: string;
  /** The training step it was saved at. */
  step: number;
}

/**
 * Load a checkpoint written by `trainLM`: a `.safetensors` file or a run folder (its newest
 * checkpoint) in Node, or the file's bytes anywhere (in a browser,
 * `loadLM(await file.arrayBuffer())`). The model is in eval mode.
 *
 * @example
 * const { mkdtempSync, writeFileSync } = process.getBuiltinModule("node:fs");
 * const root = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * writeFileSync(root + "/ab.txt", "ab".repeat(200));
 * const config = { text: root + "/ab.txt", nLayer: 1, nHead: 1, nEmbd: 8, blockSize: 8, batchSize: 2, tokens: 2 * 8 * 5, warmupSteps: 1, evalInterval: 0, evalBatches: 1, evalBatchSize: 2 };
 * const res = await tg.lm.trainLM(config, { root, gitCwd: false, progress: false, log: () => {}, handleSignals: false });
 * const lm = tg.lm.loadLM(res.dir);
 * console.log(lm.step, lm.vocab.chars); // 5 ["a", "b"]
 */
export function loadLM(source: FileSource, name?: string): LoadedLM {
  let file = source;
  if (typeof source === "string") {
    const fs = nodeModule(
      "loadLM",
      "node:fs",
      "pass the checkpoint's bytes: loadLM(await file.arrayBuffer())",
    );
    if (fs.existsSync(source) && fs.statSync(source).isDirectory()) {
      const ck = latestCheckpoint(source);
      if (ck === null) {
        throw new TsgradError(
          source,
          isRunFinished(source)
            ? "the run finished but its checkpoint is gone"
            : "no checkpoint-<step>.safetensors in this folder yet",
        );
      }
      file = ck.path;
    }
  }
  const { bytes, name: where } = sourceBytes(file, "loadLM", name);
  const state = decodeCheckpoint(bytes, where);
  const extra = state.extra as Partial<LMCheckpointExtra> | undefined;
  if (extra?.vocab === undefined || extra.config === undefined) {
    throw new TsgradError(
      where,
      "is not a language-model checkpoint from `tsgrad train lm` (no vocabulary or config inside)",
    );
  }
  const config = resolveLMConfig(extra.config, where);
  const vocab = CharVocab.fromJSON(extra.vocab);
  const model = new TransformerLM(modelConfigOf(config, vocab.size));
  model.loadStateDict(state.model, { source: where });
  model.eval();
  const pos = state.position as { step?: unknown } | undefined;
  return { model, vocab, config, path: where, step: typeof pos?.step === "number" ? pos.step : 0 };
}

/** Options of `sampleText`. */
export interface SampleTextOptions {
  /** Characters to generate; default 300. */
  tokens?: number;
  /** Softmax temperature; default 0.8. */
  temperature?: number;
  /** Sample among the k most likely characters only; default 40 (0 = no truncation). */
  topK?: number;
  /** Seed of the sampling generator; default 0. */
  seed?: number;
}

/**
 * Continue `prompt` by `tokens` sampled characters and return prompt + continuation. Every
 * prompt character must be in the model's vocabulary; an empty prompt starts from a newline.
 *
 * @example
 * const vocab = tg.text.CharVocab.fromText("\nabc");
 * tg.manualSeed(0);
 * const model = new tg.models.TransformerLM({ vocabSize: vocab.size, blockSize: 8, nLayer: 1, nHead: 1, nEmbd: 8 });
 * const text = tg.lm.sampleText(model, vocab, "ab", { tokens: 5, seed: 1 });
 * console.log(text.length, text.startsWith("ab")); // 7 true
 */
export function sampleText(
  model: TransformerLM,
  vocab: CharVocab,
  prompt: string,
  opts: SampleTextOptions = {},
): string {
  const { tokens = 300, temperature = 0.8, topK = 40, seed = 0 } = opts;
  if (!(Number.isInteger(tokens) && tokens >= 0)) {
    throw new TsgradError("sampleText", `tokens must be a non-negative integer, got ${tokens}`);
  }
  if (!(Number.isInteger(topK) && topK >= 0)) {
    throw new TsgradError("sampleText", `topK must be a non-negative integer, got ${topK}`);
  }
  const start = prompt === "" ? "\n" : prompt;
  const known = new Set(vocab.chars);
  const unknown = [...new Set([...start].filter((c) => !known.has(c)))];
  if (unknown.length > 0) {
    throw new TsgradError(
      "sampleText",
      `${prompt === "" ? "an empty prompt starts from a newline, but" : "the prompt uses"} ${unknown.map((c) => JSON.stringify(c)).join(", ")}, not in the model's ${vocab.chars.length}-character vocabulary: ${JSON.stringify(vocab.chars.join(""))}`,
    );
  }
  const ids = vocab.encode(start);
  const out = model.generate(tensor(ids, { shape: [1, ids.length] }), tokens, {
    temperature,
    topK: topK === 0 ? undefined : topK,
    generator: new Generator(seed),
  });
  return (prompt === "" ? "" : prompt) + vocab.decode(out.dataSync().subarray(ids.length));
}
