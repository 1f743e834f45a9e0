/**
 * The configuration of one character-level language-model run: a flat, typed record whose
 * defaults are the schema (nanoGPT's `config/train_shakespeare_char.py` CPU "baby GPT", made
 * explicit). Config files and command-line flags go through the same validator, which rejects
 * unknown keys and wrong types, as nanoGPT's configurator does.
 *
 * Everything here decides the numbers a run produces, so all of it is hashed into the run folder's
 * name; operational settings (where runs go, how often to checkpoint) live in `TrainLMOptions`.
 */
import { TsgradError } from "../tensor/errors.js";
import type { TransformerLMConfig } from "../models/transformer-lm.js";

/** How one config field is typed and documented. */
export interface LMFieldSpec {
  type: "int" | "number" | "string" | "boolean";
  default: number | string | boolean;
  help: string;
  /** Smallest allowed value (numbers). */
  min?: number;
  /** Largest allowed value (numbers). */
  max?: number;
  /** True when the lower bound is exclusive (e.g. a learning rate must be > 0). */
  positive?: boolean;
}

/**
 * Every field of `LMConfig`: type, default and meaning.
 *
 * @example
 * console.log(tg.lm.LM_CONFIG_SCHEMA.blockSize.type, tg.lm.LM_CONFIG_SCHEMA.blockSize.default); // "int" 64
 */
export const LM_CONFIG_SCHEMA = {
  text: {
    type: "string",
    default: "",
    help: "UTF-8 text file to model (gzip allowed); empty = the bundled Tiny Shakespeare",
  },
  valFraction: {
    type: "number",
    default: 0.1,
    min: 0,
    max: 0.5,
    positive: true,
    help: "last fraction of the text held out for validation (nanoGPT: 0.1)",
  },
  nLayer: { type: "int", default: 4, min: 1, help: "Transformer blocks" },
  nHead: { type: "int", default: 4, min: 1, help: "attention heads (must divide nEmbd)" },
  nEmbd: { type: "int", default: 128, min: 1, help: "embedding width" },
  blockSize: { type: "int", default: 64, min: 1, help: "context length in characters" },
  dropout: { type: "number", default: 0, min: 0, max: 0.9, help: "dropout probability" },
  bias: { type: "boolean", default: true, help: "biases in Linear layers and LayerNorms" },
  batchSize: { type: "int", default: 12, min: 1, help: "sequences per optimizer step" },
  tokens: {
    type: "int",
    default: 1_536_000,
    min: 1,
    help: "token budget D = steps × batchSize × blockSize (must be a multiple of batchSize × blockSize)",
  },
  lr: { type: "number", default: 1e-3, min: 0, positive: true, help: "peak learning rate" },
  minLrFactor: {
    type: "number",
    default: 0.1,
    min: 0,
    max: 1,
    help: "cosine floor as a fraction of lr (nanoGPT: min_lr = lr / 10)",
  },
  warmupSteps: { type: "int", default: 100, min: 0, help: "linear warmup steps" },
  weightDecay: {
    type: "number",
    default: 0.1,
    min: 0,
    help: "AdamW decoupled weight decay (applied to matrices and embeddings only)",
  },
  beta1: { type: "number", default: 0.9, min: 0, max: 0.999999, help: "AdamW β1" },
  beta2: { type: "number", default: 0.99, min: 0, max: 0.999999, help: "AdamW β2" },
  gradClip: { type: "number", default: 1, min: 0, help: "max gradient norm (0 = no clipping)" },
  evalInterval: {
    type: "int",
    default: 250,
    min: 0,
    help: "evaluate every this many steps (and at the start and end; 0 = only at the end)",
  },
  evalBatches: { type: "int", default: 20, min: 1, help: "fixed evaluation batches per split" },
  evalBatchSize: { type: "int", default: 32, min: 1, help: "sequences per evaluation batch" },
  evalSeed: {
    type: "int",
    default: 1234,
    min: 0,
    help: "seed of the fixed evaluation windows (same seed, split and block = same windows)",
  },
  logInterval: { type: "int", default: 10, min: 1, help: "log the training loss every N steps" },
  seed: { type: "int", default: 1337, min: 0, help: "seed of initialisation, dropout and batches" },
} as const satisfies Record<string, LMFieldSpec>;

/** The type of `LM_CONFIG_SCHEMA`, from which `LMConfig` is derived. */
export type LMConfigSchema = typeof LM_CONFIG_SCHEMA;
/** The value type of one schema field. */
export type LMFieldValue<S extends LMFieldSpec> = S["type"] extends "string"
  ? string
  : S["type"] extends "boolean"
    ? boolean
    : number;

/** A complete, validated run configuration (see `LM_CONFIG_SCHEMA` for each field). */
export type LMConfig = { [K in keyof LMConfigSchema]: LMFieldValue<LMConfigSchema[K]> };

/**
 * The field names of `LMConfig`, in schema order.
 *
 * @example
 * console.log(tg.lm.LM_CONFIG_KEYS.slice(0, 3)); // ["text", "valFraction", "nLayer"]
 */
export const LM_CONFIG_KEYS = Object.keys(LM_CONFIG_SCHEMA) as (keyof LMConfig)[];

/**
 * The defaults: nanoGPT's CPU baby GPT (4 layers, 4 heads, 128 wide, block 64, batch 12, 2000 steps).
 *
 * @example
 * console.log(tg.lm.LM_DEFAULTS.nEmbd, tg.lm.stepsOf(tg.lm.LM_DEFAULTS)); // 128 2000
 */
export const LM_DEFAULTS: Readonly<LMConfig> = Object.freeze(
  Object.fromEntries(LM_CONFIG_KEYS.map((k) => [k, LM_CONFIG_SCHEMA[k].default])) as LMConfig,
);

/**
 * A config that trains in well under a minute on the JS backend (80 steps of a one-layer,
 * 16-wide model): for checking the pipeline, as `tsgrad train lm --quick`.
 *
 * @example
 * const cfg = tg.lm.resolveLMConfig(tg.lm.QUICK_LM_CONFIG);
 * console.log(cfg.nLayer, cfg.nEmbd, tg.lm.stepsOf(cfg)); // 1 16 80
 */
export const QUICK_LM_CONFIG: Readonly<Partial<LMConfig>> = Object.freeze({
  nLayer: 1,
  nHead: 1,
  nEmbd: 16,
  blockSize: 32,
  batchSize: 8,
  tokens: 8 * 32 * 80,
  warmupSteps: 8,
  lr: 1e-2,
  evalInterval: 40,
  evalBatches: 4,
  evalBatchSize: 16,
});

/**
 * Validate a partial config (from a JSON file, flags, or code) and fill in the defaults. Unknown
 * keys, wrong types, out-of-range values and a token budget that is not a whole number of steps
 * are errors naming `source` and the field.
 *
 * @example
 * const cfg = tg.lm.resolveLMConfig({ nLayer: 2, tokens: 12 * 64 * 100 });
 * console.log(cfg.nLayer, cfg.blockSize, tg.lm.stepsOf(cfg)); // 2 64 100
 */
export function resolveLMConfig(
  partial: Readonly<Record<string, unknown>>,
  source = "LMConfig",
): LMConfig {
  if (typeof partial !== "object" || partial === null || Array.isArray(partial)) {
    throw new TsgradError(source, "a config must be a JSON object");
  }
  const out: Record<string, unknown> = { ...LM_DEFAULTS };
  for (const [key, value] of Object.entries(partial)) {
    if (value === undefined) continue;
    const spec = (LM_CONFIG_SCHEMA as Record<string, LMFieldSpec>)[key];
    if (spec === undefined) {
      throw new TsgradError(
        source,
        `unknown config key "${key}" (known keys: ${LM_CONFIG_KEYS.join(", ")})`,
      );
    }
    out[key] = checkField(source, key, spec, value);
  }
  const cfg = out as LMConfig;
  if (cfg.nEmbd % cfg.nHead !== 0) {
    throw new TsgradError(source, `nEmbd ${cfg.nEmbd} is not divisible by nHead ${cfg.nHead}`);
  }
  const perStep = cfg.batchSize * cfg.blockSize;
  if (cfg.tokens % perStep !== 0) {
    const lo = Math.floor(cfg.tokens / perStep) * perStep;
    throw new TsgradError(
      source,
      `tokens ${cfg.tokens} is not a whole number of steps of batchSize × blockSize = ${perStep} tokens; the nearest budgets are ${lo || perStep} and ${lo + perStep}`,
    );
  }
  if (cfg.warmupSteps > stepsOf(cfg)) {
    throw new TsgradError(
      source,
      `warmupSteps ${cfg.warmupSteps} exceeds the run's ${stepsOf(cfg)} steps`,
    );
  }
  return cfg;
}

function checkField(source: string, key: string, spec: LMFieldSpec, value: unknown): unknown {
  const bad = (what: string) =>
    new TsgradError(source, `"${key}" must be ${what}, got ${JSON.stringify(value)}`);
  switch (spec.type) {
    case "string":
      if (typeof value !== "string") throw bad("a string");
      return value;
    case "boolean":
      if (typeof value !== "boolean") throw bad("true or false");
      return value;
    default: {
      if (typeof value !== "number" || !Number.isFinite(value)) throw bad("a finite number");
      if (spec.type === "int" && !Number.isSafeInteger(value)) throw bad("an integer");
      if (spec.min !== undefined && (spec.positive ? value <= spec.min : value < spec.min)) {
        throw bad(`${spec.positive ? ">" : ">="} ${spec.min}`);
      }
      if (spec.max !== undefined && value > spec.max) throw bad(`<= ${spec.max}`);
      return value;
    }
  }
}

/**
 * Optimizer steps of a run: tokens / (batchSize × blockSize).
 *
 * @example
 * console.log(tg.lm.stepsOf({ tokens: 7680, batchSize: 4, blockSize: 32 })); // 60
 */
export function stepsOf(cfg: Pick<LMConfig, "tokens" | "batchSize" | "blockSize">): number {
  return cfg.tokens / (cfg.batchSize * cfg.blockSize);
}

/**
 * The `TransformerLM` config of a run, given its vocabulary size.
 *
 * @example
 * const m = tg.lm.modelConfigOf(tg.lm.resolveLMConfig({}), 65);
 * console.log(m.nLayer, m.nEmbd, m.vocabSize); // 4 128 65
 */
export function modelConfigOf(cfg: LMConfig, vocabSize: number): Required<TransformerLMConfig> {
  return {
    vocabSize,
    blockSize: cfg.blockSize,
    nLayer: cfg.nLayer,
    nHead: cfg.nHead,
    nEmbd: cfg.nEmbd,
    dropout: cfg.dropout,
    bias: cfg.bias,
  };
}

/** A model shape named as in sweeps: `"<layers>x<width>"` or `"<layers>x<width>x<heads>"`. */
export interface ModelSize {
  nLayer: number;
  nEmbd: number;
  nHead: number;
}

/**
 * Parse a model size `"LxE"` (heads: about one per 32 channels, at least one) or `"LxExH"`.
 *
 * @example
 * console.log(tg.lm.parseModelSize("4x128"), tg.lm.parseModelSize("2x48x3")); // { nLayer: 4, nEmbd: 128, nHead: 4 } { nLayer: 2, nEmbd: 48, nHead: 3 }
 */
export function parseModelSize(spec: string): ModelSize {
  const m = /^(\d+)x(\d+)(?:x(\d+))?$/.exec(spec.trim());
  if (!m) {
    throw new TsgradError(
      "parseModelSize",
      `model size ${JSON.stringify(spec)} must look like <layers>x<width> or <layers>x<width>x<heads>, e.g. 4x128`,
    );
  }
  const nLayer = Number(m[1]);
  const nEmbd = Number(m[2]);
  const nHead = m[3] === undefined ? Math.max(1, Math.round(nEmbd / 32)) : Number(m[3]);
  if (nLayer < 1 || nEmbd < 1 || nHead < 1) {
    throw new TsgradError("parseModelSize", `${spec}: layers, width and heads must be >= 1`);
  }
  if (nEmbd % nHead !== 0) {
    throw new TsgradError(
      "parseModelSize",
      `${spec}: width ${nEmbd} is not divisible by ${nHead} heads; give the heads explicitly as <layers>x<width>x<heads>`,
    );
  }
  return { nLayer, nEmbd, nHead };
}

/**
 * The short name of a config's model size, `"LxExH"`.
 *
 * @example
 * console.log(tg.lm.sizeLabel({ nLayer: 4, nEmbd: 128, nHead: 4 })); // "4x128x4"
 */
export function sizeLabel(s: ModelSize): string {
  return `${s.nLayer}x${s.nEmbd}x${s.nHead}`;
}
