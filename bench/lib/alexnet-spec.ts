/**
 * The AlexNet recipe's model as a framework-neutral layer list, read off the tsgrad model itself
 * (`tg.models.AlexNet`), so the PyTorch (and tfjs) rebuilds have exactly its layers: a change to
 * the model changes every peer's model with it. Imported by the orchestrator only, so the peers'
 * child processes never load tsgrad.
 */
import * as tg from "../../src/index.js";
import type { ModelSpec } from "./protocol.js";
import { ALEXNET, type LayerSpec } from "./specs.js";

function single(k: number | readonly number[], what: string): number {
  const v = typeof k === "number" ? k : k[0]!;
  if (typeof k !== "number" && k.some((x) => x !== v)) {
    throw new Error(`alexnet-spec: non-square ${what} ${JSON.stringify(k)}`);
  }
  return v;
}

function layerSpec(m: tg.nn.Module): LayerSpec {
  if (m instanceof tg.nn.Conv2d) {
    const pad = m.opts.padding ?? 0;
    if (typeof pad === "string") throw new Error(`alexnet-spec: padding "${pad}"`);
    return {
      kind: "conv",
      in: m.inChannels,
      out: m.outChannels,
      k: single(m.kernelSize, "kernel"),
      pad: single(pad, "padding"),
    };
  }
  if (m instanceof tg.nn.ReLU) return { kind: "relu" };
  if (m instanceof tg.nn.MaxPool2d) {
    const k = single(m.kernelSize, "pool window");
    return { kind: "maxpool", k, stride: single(m.opts.stride ?? k, "pool stride") };
  }
  if (m instanceof tg.nn.LocalResponseNorm) {
    return { kind: "lrn", size: m.size, alpha: m.alpha, beta: m.beta, k: m.k };
  }
  if (m instanceof tg.nn.Dropout) return { kind: "dropout", p: m.p };
  if (m instanceof tg.nn.Linear) return { kind: "linear", in: m.inFeatures, out: m.outFeatures };
  throw new Error(`alexnet-spec: no spec for ${m.constructor.name}`);
}

/** `features`, flatten, `classifier` of `new tg.models.AlexNet(ALEXNET.config)`. */
export function alexnetSpec(): ModelSpec {
  const net = new tg.models.AlexNet({ ...ALEXNET.config });
  return {
    name: "alexnet",
    batch: ALEXNET.batch,
    input: [net.config.inChannels, net.config.imageSize, net.config.imageSize],
    classes: net.config.numClasses,
    layers: [
      ...net.features.children().map(layerSpec),
      { kind: "flatten" },
      ...net.classifier.children().map(layerSpec),
    ],
    optimizer: { ...ALEXNET.optimizer },
  };
}
