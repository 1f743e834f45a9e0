import { readFileSync } from "node:fs";
import * as tg from "../index.js";
import * as translate from "../translate/index.js";
import { UsageError, parseFlags, usage } from "./args.js";
import type { Command } from "./main.js";

const flags = {
  checkpoint: {
    type: "string",
    help: "checkpoint file, or a run folder (uses its best.safetensors)",
  },
  beam: {
    type: "int",
    min: 1,
    max: 100,
    help: "beam size (1: greedy; default: the checkpoint's test beam)",
  },
  maxTokens: {
    type: "int",
    min: 1,
    max: 10_000,
    help: "cut longer sources to this many tokens (default: the model's maxLen)",
  },
  batchSize: { type: "int", min: 1, max: 65_536, help: "sentences decoded together", default: 64 },
  vocab: { type: "string", help: "vocab.json to use instead of the checkpoint's (must match it)" },
  backend: { type: "string", help: "backend to use (js, native)" },
} as const;

/** Lines of text without their endings; a final newline does not add an empty line. */
function splitLines(text: string): string[] {
  const lines = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

export const command: Command = {
  name: "translate",
  summary:
    "Translate sentences given as arguments, or read one per line from stdin (empty lines stay empty).",
  run(argv) {
    const { flags: f, positionals, help } = parseFlags(argv, flags);
    if (help) {
      console.log(usage("translate", this.summary, flags, '["sentence" ...]'));
      return 0;
    }
    if (f.checkpoint === undefined) throw new UsageError("--checkpoint is required");
    if (f.backend !== undefined) tg.setBackend(f.backend);
    const path = translate.resolveCheckpoint(f.checkpoint);
    const tokenizers = f.vocab !== undefined ? translate.loadVocabFile(f.vocab) : undefined;
    const translator = translate.Translator.load(path, { tokenizers });
    let sentences = positionals;
    if (sentences.length === 0) {
      if (process.stdin.isTTY) {
        console.error("reading sentences from stdin, one per line (Ctrl-D ends)");
      }
      sentences = splitLines(readFileSync(0, "utf8"));
    }
    const out = translator.translate(sentences, {
      beam: f.beam ?? translator.config.testBeam,
      batchSize: f.batchSize,
      maxSourceTokens: f.maxTokens,
      warn: (m) => console.error(m),
    });
    for (const line of out) console.log(line);
    return 0;
  },
};
