/**
 * `tsgrad sample`: generate text from a `train lm` checkpoint (a .safetensors file or a run
 * folder). The vocabulary travels inside the checkpoint; prompt characters outside it are an error.
 */
import * as tg from "../index.js";
import * as lm from "../lm/index.js";
import { UsageError, parseFlags, usage } from "./args.js";
import type { Command } from "./main.js";

const flags = {
  checkpoint: { type: "string", help: "checkpoint file, or a run folder (its newest checkpoint)" },
  prompt: { type: "string", help: 'text to continue ("" starts from a newline)', default: "" },
  tokens: { type: "int", min: 1, max: 10_000_000, help: "characters to generate", default: 300 },
  temperature: {
    type: "number",
    min: 0,
    exclusiveMin: true,
    max: 100,
    help: "softmax temperature (> 0)",
    default: 0.8,
  },
  topK: {
    type: "int",
    max: 1_000_000,
    help: "sample among the k most likely characters (0 = all)",
    default: 40,
  },
  seed: { type: "int", max: 2 ** 32 - 1, help: "sampling seed", default: 0 },
  samples: { type: "int", min: 1, max: 10_000, help: "independent samples to print", default: 1 },
  backend: { type: "string", help: "compute backend (see `tsgrad info`)" },
} as const;

export const command: Command = {
  name: "sample",
  summary: "Generate text from a character-level LM checkpoint written by `tsgrad train lm`.",
  run(argv) {
    const { flags: f, positionals, help } = parseFlags(argv, flags);
    if (help) {
      console.log(usage("sample", this.summary, flags));
      return 0;
    }
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (f.checkpoint === undefined) throw new UsageError("--checkpoint is required");
    if (!(f.temperature > 0)) {
      throw new UsageError(`--temperature must be > 0, got ${f.temperature}`);
    }
    if (f.samples < 1) throw new UsageError(`--samples must be >= 1, got ${f.samples}`);
    if (f.backend !== undefined) tg.setBackend(f.backend);
    const { model, vocab, path, step } = lm.loadLM(f.checkpoint);
    console.error(`${path} (step ${step}, ${model.parameterCount().total} parameters)`);
    for (let i = 0; i < f.samples; i++) {
      if (i > 0) console.log("---------------");
      console.log(
        lm.sampleText(model, vocab, f.prompt, {
          tokens: f.tokens,
          temperature: f.temperature,
          topK: f.topK,
          seed: f.seed + i,
        }),
      );
    }
    return 0;
  },
};
