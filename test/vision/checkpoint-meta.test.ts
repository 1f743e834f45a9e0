/**
 * The model description of an image-classifier checkpoint is checked, field by field and against
 * the tensors in the file, before any layer is built (issue 19, item 13: an edited `width: 1e6`
 * made `eval image` allocate 6.4 GB for 27 s before a raw RangeError).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { imageModelShapes } from "../../src/vision/models.js";
import { tempDir } from "../io/helpers.js";

type Spec = Parameters<typeof tg.vision.createImageModel>[0];

function checkpoint(spec: Spec, meta: Record<string, unknown> = {}): string {
  const model = tg.vision.createImageModel(spec);
  const path = join(tempDir(), "model.safetensors");
  const c = spec.inChannels;
  writeFileSync(
    path,
    tg.io.encodeCheckpoint({
      model: model.stateDict(),
      meta: {
        config: { ...tg.vision.defaultImageConfig, model: spec.name, width: spec.width ?? 1 },
        classes: Array.from({ length: spec.numClasses }, (_, i) => `c${i}`),
        mean: Array.from({ length: c }, () => 0.5),
        std: Array.from({ length: c }, () => 0.25),
        inChannels: c,
        imageSize: spec.imageSize,
        ...meta,
      },
    }),
  );
  return path;
}

const logistic: Spec = { name: "logistic", inChannels: 1, imageSize: 6, numClasses: 3 };

describe("imageModelShapes", () => {
  it("is the state dict createImageModel builds, for every model and a range of sizes", () => {
    for (const name of tg.vision.IMAGE_MODELS) {
      for (const [inChannels, imageSize, numClasses, width, poolPadding] of [
        [1, 28, 10, 0.125, 0],
        [3, 32, 7, 0.3, 1],
        [3, 15, 2, 0.01, 0],
        [1, 40, 3, 0.5, 1],
        [3, 8, 5, 0.75, 1],
      ] as const) {
        const spec = { name, inChannels, imageSize, numClasses, width, poolPadding };
        let built: Record<string, number[]> | null;
        try {
          const sd = tg.vision.createImageModel(spec).stateDict();
          built = Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, [...t.shape]]));
        } catch (e) {
          // Images too small for the architecture: the shapes must say so too.
          expect(e).toBeInstanceOf(tg.TsgradError);
          built = null;
        }
        expect(imageModelShapes(spec), `${name} ${imageSize}`).toEqual(built);
      }
    }
  });
});

describe("tg.vision.loadImageClassifier with an edited model description", () => {
  it("rejects width 1e6 at once, naming the file and the field, without allocating", () => {
    const path = checkpoint({ ...logistic, name: "mlp", width: 0.02 });
    const edit = (width: number) =>
      checkpoint(
        { ...logistic, name: "mlp", width: 0.02 },
        {
          config: { ...tg.vision.defaultImageConfig, model: "mlp", width },
        },
      );
    expect(tg.vision.loadImageClassifier(path).model.numParameters()).toBe(
      36 * 10 + 10 + 10 * 3 + 3,
    );
    const huge = edit(1e6);
    const start = performance.now();
    expect(() => tg.vision.loadImageClassifier(huge)).toThrow(
      new RegExp(`${huge}: meta.config.width 1000000 is not a number in \\(0, 64\\]`),
    );
    expect(performance.now() - start).toBeLessThan(500);
    // In range but not what the file holds: both shapes are named. (h = round(512 × 8) = 4096.)
    const wide = edit(8);
    expect(() => tg.vision.loadImageClassifier(wide)).toThrow(
      /"1.weight" is \[4096,36\], but the file holds \[10,36\]/,
    );
    for (const width of [0, -1, NaN, Infinity]) {
      expect(() => tg.vision.loadImageClassifier(edit(width))).toThrow(/meta.config.width/);
    }
  });

  it("checks classes, inChannels and imageSize against the stored tensors", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { classes: Array.from({ length: 5 }, (_, i) => `k${i}`) },
        /5 classes.*"1.weight" is \[5,36\], but the file holds \[3,36\]/,
      ],
      [{ classes: [] }, /meta.classes must list 1 to 1000000 class names, got 0 entries/],
      [{ classes: ["a", 7, "c"] }, /meta.classes must list/],
      [{ inChannels: 1e6 }, /meta.inChannels 1000000 is not 1 \(grey\) or 3 \(RGB\)/],
      [
        { inChannels: 3, mean: [0, 0, 0], std: [1, 1, 1] },
        /"1.weight" is \[3,108\], but the file holds \[3,36\]/,
      ],
      [{ imageSize: 1e9 }, /meta.imageSize 1000000000 is not an integer in \[1, 4096\]/],
      [{ imageSize: 2.5 }, /meta.imageSize 2.5 is not an integer/],
      [{ mean: [0.5, 0.5] }, /meta.mean must hold 1 finite numbers/],
      [{ std: [0] }, /meta.std must hold 1 finite, positive numbers/],
      [{ std: [NaN] }, /meta.std must hold/],
      [
        { config: { ...tg.vision.defaultImageConfig, model: "resnet" } },
        /meta.config.model "resnet" is not one of/,
      ],
      [
        { config: { ...tg.vision.defaultImageConfig, model: "logistic", poolPadding: 2 } },
        /meta.config.poolPadding 2 is not 0 or 1/,
      ],
      [{ config: "logistic" }, /is not a tsgrad image-classifier checkpoint/],
    ];
    for (const [meta, message] of cases) {
      const path = checkpoint(logistic, meta);
      let error: unknown;
      try {
        tg.vision.loadImageClassifier(path);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(meta)).toBeInstanceOf(tg.TsgradError);
      expect((error as Error).message.startsWith(`${path}: `), JSON.stringify(meta)).toBe(true);
      expect((error as Error).message, JSON.stringify(meta)).toMatch(message);
    }
  });

  it("names the missing or extra tensor when the file is of another architecture", () => {
    const lenet = tg.vision.createImageModel({ ...logistic, name: "lenet5", imageSize: 12 });
    const path = join(tempDir(), "model.safetensors");
    writeFileSync(
      path,
      tg.io.encodeCheckpoint({
        model: { ...lenet.stateDict(), extra: tg.zeros([1]) },
        meta: {
          config: { ...tg.vision.defaultImageConfig, model: "lenet5" },
          classes: ["a", "b", "c"],
          mean: [0],
          std: [1],
          inChannels: 1,
          imageSize: 12,
        },
      }),
    );
    expect(() => tg.vision.loadImageClassifier(path)).toThrow(
      new RegExp(`${path}: meta describes lenet5 .* which has no "extra" \\(in the file\\)`),
    );
    const asMlp = checkpoint(
      { ...logistic, name: "logistic" },
      {
        config: { ...tg.vision.defaultImageConfig, model: "mlp", width: 0.02 },
      },
    );
    expect(() => tg.vision.loadImageClassifier(asMlp)).toThrow(
      /mlp for 1×6×6 images, 3 classes, width 0.02, whose "1.weight" is \[10,36\], but the file holds \[3,36\]/,
    );
  });
});
