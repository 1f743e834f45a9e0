import { dirname, join } from "node:path";
import * as tg from "../index.js";
import * as translate from "../translate/index.js";
import { UsageError, parseFlags, usage } from "./args.js";
import type { Command } from "./main.js";

const flags = {
  checkpoint: {
    type: "string",
    help: "checkpoint file, or a run folder (uses its best.safetensors)",
  },
  split: {
    type: "string",
    choices: ["test_2016_flickr", "test", "val", "train"],
    help: "Multi30k split to score (train: the pairs the model was trained on)",
    default: "test_2016_flickr",
  },
  beam: {
    type: "int",
    min: 1,
    max: 100,
    help: "beam size (1: greedy; default: the checkpoint's test beam)",
  },
  limit: { type: "int", help: "score only the first N sentences (0: all)", default: 0 },
  output: { type: "string", help: "file for the translations (default: next to the checkpoint)" },
  dataDir: { type: "string", help: "folder with the Multi30k files" },
  vocab: { type: "string", help: "vocab.json to use instead of the checkpoint's (must match it)" },
  backend: { type: "string", help: "backend to use (js, native)" },
  json: { type: "boolean", help: "print the scores as JSON", default: false },
} as const;

export const command: Command = {
  name: "eval translate",
  summary:
    "Translate a Multi30k split with a checkpoint and print BLEU (with its sacreBLEU signature) and chrF; writes the translations to a file.",
  run(argv) {
    const { flags: f, positionals, help } = parseFlags(argv, flags);
    if (help) {
      console.log(usage("eval translate", this.summary, flags));
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (f.checkpoint === undefined) throw new UsageError("--checkpoint is required");
    if (f.limit < 0) throw new UsageError(`--limit must be >= 0, got ${f.limit}`);
    if (f.backend !== undefined) tg.setBackend(f.backend);
    const path = translate.resolveCheckpoint(f.checkpoint);
    const tokenizers = f.vocab !== undefined ? translate.loadVocabFile(f.vocab) : undefined;
    const translator = translate.Translator.load(path, { tokenizers });
    const { config } = translator;
    const split = translate.normalizeSplit(f.split);
    // "train" means the pairs the model was trained on (the config's filters apply).
    let corpus = translate.loadSplit(config, split, {
      dataDir: f.dataDir,
      warn: (m) => console.error(m),
    });
    if (f.limit > 0) {
      corpus = { ...corpus, src: corpus.src.slice(0, f.limit), tgt: corpus.tgt.slice(0, f.limit) };
    }
    const beam = f.beam ?? config.testBeam;
    const ev = translate.evaluateCorpus(translator, corpus, {
      beam,
      warn: (m) => console.error(m),
    });
    const name = split === "test" ? "test_2016_flickr" : split;
    const output = f.output ?? join(dirname(path), `translations.${name}.${config.tgt}`);
    tg.io.writeFileAtomic(output, ev.hypotheses.join("\n") + "\n");
    if (f.json) {
      console.log(
        JSON.stringify({
          split: name,
          beam,
          sentences: corpus.src.length,
          bleu: ev.bleu.score,
          bleuSignature: ev.bleu.signature,
          chrf: ev.chrf.score,
          chrfSignature: ev.chrf.signature,
          output,
        }),
      );
    } else {
      console.log(
        `${name} ${config.src}→${config.tgt}, ${corpus.src.length} sentences, beam ${beam}`,
      );
      console.log(ev.bleu.text);
      console.log(`  signature: ${ev.bleu.signature}`);
      console.log(ev.chrf.text);
      console.log(`  signature: ${ev.chrf.signature}`);
      console.log(
        `wrote ${ev.hypotheses.length} translations to ${output} (${ev.seconds.toFixed(1)} s)`,
      );
    }
    return 0;
  },
};
