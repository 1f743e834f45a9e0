/**
 * `tsgrad train lm`: train a character-level Transformer LM for exactly D tokens in a run folder
 * (`<root>/<experiment>/<config-hash>/`), resuming from its newest checkpoint when re-run.
 * Config precedence: defaults (nanoGPT's CPU baby GPT) < `--quick` < `--config file.json` < flags.
 */
import * as tg from "../index.js";
import * as lm from "../lm/index.js";
import { type FlagSpecs, UsageError, parseFlags, usage } from "./args.js";
import { readConfigFile } from "./common.js";
import type { Command } from "./main.js";

const configFlags: FlagSpecs = Object.fromEntries(
  lm.LM_CONFIG_KEYS.map((k) => {
    const s: lm.LMFieldSpec = lm.LM_CONFIG_SCHEMA[k];
    const shown = s.type === "string" && s.default === "" ? '""' : String(s.default);
    // The schema's own bounds, so a flag is refused as early (and as clearly) as a bad value.
    const bounds = {
      ...(s.min !== undefined ? { min: s.min } : {}),
      ...(s.max !== undefined ? { max: s.max } : {}),
      ...(s.positive ? { exclusiveMin: true } : {}),
    };
    return [k, { type: s.type, ...bounds, help: `${s.help} (default: ${shown})` }];
  }),
);

const flags: FlagSpecs = {
  config: { type: "string", help: "JSON file of config values (e.g. a recipe's config.json)" },
  quick: { type: "boolean", help: "a tiny model and budget, to check the pipeline in seconds" },
  steps: {
    type: "int",
    min: 1,
    max: 1_000_000_000,
    help: "set tokens = steps × batchSize × blockSize instead of --tokens",
  },
  ...configFlags,
  root: { type: "string", help: "folder of all run folders", default: "runs" },
  experiment: { type: "string", help: "experiment name (a folder under --root)", default: "lm" },
  checkpointInterval: { type: "int", help: "checkpoint every N steps", default: 500 },
  keepCheckpoints: {
    type: "int",
    min: 1,
    max: 1000,
    help: "newest checkpoints kept while training",
    default: 2,
  },
  timeLimit: {
    type: "number",
    min: 0,
    exclusiveMin: true,
    help: "stop (with a checkpoint) after this many seconds",
  },
  backend: { type: "string", help: "compute backend (see `tsgrad info`)" },
  quiet: { type: "boolean", help: "no progress bar", default: false },
};

export const command: Command = {
  name: "train lm",
  summary:
    "Train a character-level Transformer LM on Tiny Shakespeare (or --text FILE) for exactly --tokens tokens; re-running resumes.",
  async run(argv) {
    const parsed = parseFlags(argv, flags);
    const { positionals, help } = parsed;
    // The specs are built from the schema at run time, so their values are checked here.
    const f = parsed.flags as Record<string, unknown>;
    if (help) {
      console.log(usage("train lm", this.summary, flags));
      return 0;
    }
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (typeof f.backend === "string") tg.setBackend(f.backend);
    const given = Object.fromEntries(lm.LM_CONFIG_KEYS.map((k) => [k, f[k]]));
    const merged: Record<string, unknown> = {
      ...(f.quick === true ? lm.QUICK_LM_CONFIG : {}),
      ...(typeof f.config === "string" ? readConfigFile(f.config) : {}),
    };
    for (const [k, v] of Object.entries(given)) if (v !== undefined) merged[k] = v;
    if (typeof f.steps === "number") {
      if (f.tokens !== undefined) throw new UsageError("give --steps or --tokens, not both");
      const { batchSize = lm.LM_DEFAULTS.batchSize, blockSize = lm.LM_DEFAULTS.blockSize } = merged;
      merged.tokens = f.steps * Number(batchSize) * Number(blockSize);
    }
    const config = lm.resolveLMConfig(merged, typeof f.config === "string" ? f.config : "train lm");
    const res = await lm.trainLM(config, {
      root: f.root as string,
      experiment: f.experiment as string,
      checkpointInterval: f.checkpointInterval as number,
      keepCheckpoints: f.keepCheckpoints as number,
      timeLimit: f.timeLimit as number | undefined,
      progress: f.quiet === true ? false : undefined,
      abandonIf: lm.sweepParentGone(),
    });
    if (res.status === "skipped") console.log(`already finished: ${res.dir}`);
    if (res.summary) {
      const s = res.summary;
      console.log(
        `${res.dir}\n  val loss ${s.finalValLoss.toFixed(4)} | train loss ${s.finalTrainLoss.toFixed(4)} | ` +
          `N ${s.nonEmbeddingParams} (total ${s.params}) | D ${s.tokens} | ${Math.round(s.tokensPerSecond)} tok/s on ${s.backend}`,
      );
      console.log(`  sample: tsgrad sample --checkpoint ${res.dir} --prompt "ROMEO:"`);
    }
    return res.status === "interrupted" ? 130 : res.status === "abandoned" ? 1 : 0;
  },
};
