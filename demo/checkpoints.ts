/**
 * Checkpoints in the page: writing the image classifier the worker trains in the layout of the
 * CLI's `model.safetensors` (so `tsgrad classify --checkpoint` reads it), and recognising which
 * kind of CLI checkpoint a dropped file is.
 */
import * as tg from "tsgrad";
import type { TrainSettings } from "./protocol.js";

/** Fashion-MNIST statistics the classifier normalises its input with (training pixels, [0, 1]). */
export interface PixelStats {
  mean: number[];
  std: number[];
}

/**
 * Serialise a trained Fashion-MNIST classifier as the CLI does at the end of `tsgrad train image`:
 * the state dict plus `meta` (the run's config, class names, normalisation, input shape), which
 * is what `tg.vision.loadImageClassifier` and `tsgrad classify` rebuild the model from.
 */
export function encodeImageClassifier(
  model: tg.nn.Layer,
  settings: TrainSettings,
  stats: PixelStats,
  run: { step: number; epochs: number },
): Uint8Array {
  const config: tg.vision.ImageTrainConfig = {
    ...tg.vision.defaultImageConfig,
    model: settings.model,
    width: settings.model === "alexnet" ? settings.width : 1,
    data: "fashion-mnist-sample",
    epochs: run.epochs,
    batchSize: settings.batchSize,
    optimizer: settings.optimizer,
    lr: settings.lr,
    momentum: settings.optimizer === "sgd" ? 0.9 : 0,
    weightDecay: 0,
    schedule: "none",
    augment: false,
    valSize: 0,
    seed: settings.seed,
    workers: 0,
  };
  const meta = {
    config,
    classes: [...tg.data.FASHION_MNIST_CLASSES],
    mean: stats.mean,
    std: stats.std,
    inChannels: 1,
    imageSize: 28,
    // Not read back by the loaders: where the file came from, for whoever inspects it.
    step: run.step,
    trainedBy: "tsgrad browser demo",
  };
  return tg.io.encodeCheckpoint({ model: model.stateDict(), meta });
}

/** A checkpoint loaded and ready to use, by kind. */
export type LoadedCheckpoint =
  | { kind: "image"; model: tg.nn.Layer; meta: tg.vision.ImageModelMeta; summary: string }
  | { kind: "lm"; lm: tg.lm.LoadedLM; summary: string }
  | { kind: "translator"; translator: tg.translate.Translator; summary: string };

/**
 * Recognise a CLI checkpoint from its metadata and load it: an image classifier (`tsgrad train
 * image`), a character LM (`tsgrad train lm`) or a translator (`tsgrad train translate`). Anything
 * else is an Error whose message says what the file is and what would work.
 */
export function loadAnyCheckpoint(bytes: Uint8Array, name: string): LoadedCheckpoint {
  let ck: tg.io.CheckpointState;
  try {
    ck = tg.io.decodeCheckpoint(bytes, name);
  } catch (e) {
    throw new Error(
      `${name} is not a safetensors checkpoint (${(e as Error).message}); drop a .safetensors file written by tsgrad train`,
      { cause: e },
    );
  }
  const extra = ck.extra as Record<string, unknown> | undefined;
  const meta = (ck.meta ?? extra) as Record<string, unknown> | undefined;
  const translate = extra?.translate as { format?: unknown } | undefined;
  if (translate?.format === "tsgrad.translate") {
    const translator = tg.translate.Translator.load(bytes, { name });
    const c = translator.config;
    return {
      kind: "translator",
      translator,
      summary: `translator ${c.src} → ${c.tgt}: ${c.model}, ${c.tokenizer} tokens, ${c.layers}×${c.hidden} LSTM`,
    };
  }
  if (extra?.vocab !== undefined && extra.config !== undefined) {
    const lm = tg.lm.loadLM(bytes, name);
    const c = lm.config;
    return {
      kind: "lm",
      lm,
      summary: `character LM: ${c.nLayer} layers × ${c.nEmbd} wide, context ${c.blockSize}, ${lm.vocab.chars.length} characters, step ${lm.step}`,
    };
  }
  if (meta?.config !== undefined && meta.classes !== undefined && meta.mean !== undefined) {
    const { model, meta: m } = tg.vision.loadImageClassifier(bytes, name);
    return {
      kind: "image",
      model,
      meta: m,
      summary: `image classifier: ${m.config.model}, ${m.inChannels}×${m.imageSize}×${m.imageSize} input, ${m.classes.length} classes (${model.numParameters().toLocaleString("en")} parameters)`,
    };
  }
  const tensors = Object.keys(ck.model).length;
  throw new Error(
    `${name} holds ${tensors} tensor${tensors === 1 ? "" : "s"} but no tsgrad model description: ` +
      "drop a checkpoint written by tsgrad train image, train lm or train translate",
  );
}

/** The `k` most probable classes, best first. */
export function topClasses(
  probs: ArrayLike<number>,
  classes: readonly string[],
  k: number,
): { label: string; p: number }[] {
  return Array.from(probs, (p, i) => ({ label: classes[i] ?? `class ${i}`, p }))
    .sort((a, b) => b.p - a.p)
    .slice(0, k);
}
