/** `tsgrad classify`: the top-5 classes of a picture under a trained classifier. */
import * as tg from "../index.js";
import { parseFlags, usage, UsageError } from "./args.js";
import { applyBackend, backendFlags } from "./common.js";
import type { Command } from "./main.js";

const flags = {
  checkpoint: {
    type: "string",
    help: "a trained classifier (model.safetensors of a training run)",
  },
  top: { type: "int", default: 5, min: 1, max: 1000, help: "how many classes to list" },
  ...backendFlags,
} as const;

export const command: Command = {
  name: "classify",
  summary:
    "Classify PNG/JPEG pictures with a trained image classifier (prints the top classes with probabilities). " +
    "A picture whose size differs from the model's is cropped to its centred square and resized " +
    "to the training size (antialiased bilinear, as torchvision's Resize + CenterCrop), not rejected.",
  run(argv) {
    const { flags: f, help, positionals } = parseFlags(argv, flags);
    if (help) {
      console.log(usage("classify", this.summary, flags, "<picture.png|jpg> …"));
      return 0;
    }
    if (f.checkpoint === undefined) throw new UsageError("--checkpoint is required");
    if (positionals.length === 0) throw new UsageError("give at least one picture");
    applyBackend(f);
    const { model, meta } = tg.vision.loadImageClassifier(f.checkpoint);
    const fs = process.getBuiltinModule("node:fs");
    for (const file of positionals) {
      let bytes: Uint8Array;
      try {
        bytes = fs.readFileSync(file);
      } catch (e) {
        throw new tg.TsgradError(file, `cannot read: ${(e as Error).message}`);
      }
      const x = tg.vision.pictureToTensor(tg.data.decodeImage(bytes, file), meta, file);
      const probs = tg.noGrad(() => model.forward(x).softmax(1)).dataSync();
      const ranked = Array.from(probs, (p, i) => [p, i] as const)
        .sort((a, b) => b[0] - a[0])
        .slice(0, f.top);
      console.log(`${file}:`);
      for (const [p, i] of ranked) {
        console.log(`  ${(100 * p).toFixed(2).padStart(6)}%  ${meta.classes[i]}`);
      }
    }
    return 0;
  },
};
