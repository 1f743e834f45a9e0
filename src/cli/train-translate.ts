import * as tg from "../index.js";
import * as translate from "../translate/index.js";
import { type FlagSpecs, UsageError, parseFlags, usage } from "./args.js";
import { readConfigFile } from "./common.js";
import type { Command } from "./main.js";

/** Flags that set config fields; unset ones come from --config, then --quick, then defaults. */
const configFlags = {
  src: { type: "string", choices: ["en", "fr", "de"], help: "source language" },
  tgt: { type: "string", choices: ["en", "fr", "de"], help: "target language" },
  model: { type: "string", choices: ["seq2seq", "seq2seq-attention"], help: "model family" },
  tokenizer: { type: "string", choices: ["word", "bpe"], help: "word or BPE subword units" },
  bpeMerges: { type: "int", min: 1, max: 1_000_000, help: "BPE merges to learn" },
  jointVocab: { type: "boolean", help: "one vocabulary for both languages" },
  vocabMinFreq: { type: "int", min: 1, help: "word: min count; BPE: min pair frequency" },
  lowercase: { type: "boolean", help: "lowercase the text" },
  maxLen: {
    type: "int",
    min: 1,
    max: 10_000,
    help: "max tokens per sentence (longer ones are cut)",
  },
  trainLimit: { type: "int", help: "use the first N training pairs (0: all)" },
  trainMaxWords: { type: "int", help: "keep training pairs of at most N words a side (0: all)" },
  validSplit: { type: "string", choices: ["val", "train"], help: "split validated each epoch" },
  validLimit: { type: "int", help: "validate on the first N pairs (0: all)" },
  batching: { type: "string", choices: ["pooled", "exact"], help: "how batches are formed" },
  embed: { type: "int", min: 1, max: 65_536, help: "embedding size" },
  hidden: { type: "int", min: 1, max: 65_536, help: "LSTM hidden size" },
  layers: { type: "int", min: 1, max: 64, help: "LSTM layers" },
  dropout: { type: "number", min: 0, max: 1, exclusiveMax: true, help: "dropout probability" },
  epochs: { type: "int", min: 1, max: 100_000, help: "maximum epochs" },
  batchSize: { type: "int", min: 1, max: 65_536, help: "sentence pairs per batch" },
  optimizer: { type: "string", choices: ["adam", "sgd"], help: "optimizer" },
  lr: { type: "number", min: 0, exclusiveMin: true, max: 10, help: "learning rate" },
  momentum: { type: "number", min: 0, max: 1, exclusiveMax: true, help: "SGD momentum" },
  clip: { type: "number", min: 0, help: "gradient-norm clipping (0: off)" },
  labelSmoothing: { type: "number", min: 0, max: 1, exclusiveMax: true, help: "label smoothing" },
  lrDecay: { type: "string", choices: ["plateau", "step", "none"], help: "lr decay rule" },
  decayFactor: {
    type: "number",
    min: 0,
    max: 1,
    exclusiveMax: true,
    help: "lr multiplier at each decay",
  },
  decayPatience: {
    type: "int",
    max: 100_000,
    help: "plateau: epochs without better BLEU before decaying",
  },
  decayStart: { type: "int", min: 1, max: 100_000, help: "step: first epoch with a decayed lr" },
  reverseSource: { type: "boolean", help: "reverse the source [default: on for seq2seq only]" },
  contextFeed: { type: "boolean", help: "seq2seq: encoder summary fed to every decoder step" },
  beam: { type: "int", min: 1, max: 100, help: "beam for validation BLEU (1: greedy)" },
  testBeam: { type: "int", min: 1, max: 100, help: "beam for the final evaluation" },
  lengthPenalty: { type: "number", min: 0, max: 10, help: "beam length normalisation exponent" },
  patience: {
    type: "int",
    max: 100_000,
    help: "early stop after N epochs without better BLEU (0: off)",
  },
  maxMinutes: { type: "number", min: 0, help: "time budget in minutes (0: none)" },
  maxSteps: { type: "int", help: "stop after N steps (0: no limit)" },
  finalEval: { type: "list", help: "splits to score the best checkpoint on (train,val,test)" },
  seed: { type: "int", max: 2 ** 32 - 1, help: "random seed" },
} as const satisfies FlagSpecs;

const runFlags = {
  config: { type: "string", help: "JSON file with config fields (flags override it)" },
  quick: { type: "boolean", help: "tiny model on 120 short pairs (CI check)", default: false },
  out: { type: "string", help: "folder of all runs", default: "runs" },
  experiment: { type: "string", help: "experiment name (default translate/<src>-<tgt>/<model>)" },
  dataDir: { type: "string", help: "folder with the Multi30k files" },
  force: { type: "boolean", help: "retrain a finished run from scratch", default: false },
  backend: { type: "string", help: "backend to use (js, native)" },
  checkpointMinutes: {
    type: "number",
    min: 0,
    help: "also checkpoint every N minutes",
    default: 10,
  },
} as const satisfies FlagSpecs;

const flags = { ...configFlags, ...runFlags };

/** The flags with each config field's default in its help text. */
function helpSpecs(): FlagSpecs {
  const defaults = translate.DEFAULT_CONFIG as unknown as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(flags).map(([k, s]) => {
      // reverseSource's default depends on the model, and its help says so.
      const d = k === "reverseSource" ? undefined : defaults[k];
      const shown = Array.isArray(d) ? d.join(",") : String(d);
      return [k, d === undefined ? s : { ...s, help: `${s.help} [default ${shown}]` }];
    }),
  );
}

export const command: Command = {
  name: "train translate",
  summary:
    "Train an LSTM encoder-decoder (with or without attention) on Multi30k, with validation BLEU each epoch, a run folder, exact resume and a report.",
  async run(argv) {
    const { flags: f, positionals, help } = parseFlags(argv, flags);
    if (help) {
      console.log(usage("train translate", this.summary, helpSpecs()));
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (f.backend !== undefined) tg.setBackend(f.backend);
    const given = Object.fromEntries(
      Object.keys(configFlags).map((k) => [k, (f as Record<string, unknown>)[k]]),
    );
    const partial = {
      ...(f.config !== undefined ? readConfigFile(f.config) : {}),
      ...(f.quick ? translate.QUICK_CONFIG : {}),
      ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)),
    } as Partial<translate.TranslateConfig>;
    const config = translate.resolveConfig(partial);
    const result = await translate.trainTranslation(config, {
      out: f.out,
      experiment:
        f.experiment ??
        `translate/${config.src}-${config.tgt}/${config.model}${f.quick ? "-quick" : ""}`,
      dataDir: f.dataDir,
      force: f.force,
      checkpointMinutes: f.checkpointMinutes,
    });
    if (result.status === "interrupted") return 130;
    const s = result.summary ?? {};
    for (const [k, v] of Object.entries(
      (s.final ?? {}) as Record<string, { bleuText: string; signature: string }>,
    )) {
      console.log(`${k}: ${v.bleuText}\n  signature: ${v.signature}`);
    }
    console.log(`report: ${result.runDir}/report.html`);
    return 0;
  },
};
