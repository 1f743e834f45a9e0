import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

/**
 * The test-time views built by hand from the uint8 pixels — zero padding, crop, mirror, then
 * normalisation — as an independent reference for `evaluate`'s tensor version.
 */
function viewsByHand(
  img: Uint8Array,
  [C, H, W]: readonly [number, number, number],
  views: "flip" | "ten",
  shift: number,
  mean: readonly number[],
  std: readonly number[],
): Float32Array[] {
  const offsets =
    views === "flip"
      ? [[0, 0]]
      : [
          [0, 0],
          [-shift, -shift],
          [-shift, shift],
          [shift, -shift],
          [shift, shift],
        ];
  const out: Float32Array[] = [];
  for (const [dy, dx] of offsets) {
    for (const mirror of [false, true]) {
      const v = new Float32Array(C * H * W);
      for (let c = 0; c < C; c++) {
        for (let y = 0; y < H; y++) {
          for (let x = 0; x < W; x++) {
            const sy = y + dy!;
            const sx = (mirror ? W - 1 - x : x) + dx!;
            const raw = sy >= 0 && sy < H && sx >= 0 && sx < W ? img[(c * H + sy) * W + sx]! : 0;
            v[(c * H + y) * W + x] = (raw / 255 - mean[c]!) / std[c]!;
          }
        }
      }
      out.push(v);
    }
  }
  return out;
}

function referenceEval(
  model: tg.nn.Layer,
  ds: tg.data.ImageDataset,
  views: "flip" | "ten",
  shift: number,
  mean: readonly number[],
  std: readonly number[],
): { loss: number; correct: number } {
  const K = ds.classes.length;
  const shape = [ds.channels, ds.height, ds.width] as const;
  let loss = 0;
  let correct = 0;
  tg.noGrad(() => {
    for (let i = 0; i < ds.length; i++) {
      const { image, label } = ds.get(i);
      const p = new Float64Array(K);
      const vs = viewsByHand(image, shape, views, shift, mean, std);
      for (const v of vs) {
        const probs = tg.softmax(model.forward(tg.tensor(v).reshape([1, ...shape])), 1).dataSync();
        for (let k = 0; k < K; k++) p[k]! += probs[k]! / vs.length;
      }
      loss -= Math.log(p[label]!);
      if (p.indexOf(Math.max(...p)) === label) correct++;
    }
  });
  return { loss: loss / ds.length, correct };
}

describe("tg.vision.evaluate with test-time views", () => {
  const data = tg.vision.loadImageData("fashion-mnist-sample");
  const ds = data.test.subset(Array.from({ length: 40 }, (_, i) => i));
  const tf = tg.vision.imageTransforms({ augment: false, cropPadding: 0 }, data, false);

  for (const views of ["flip", "ten"] as const) {
    it(`"${views}" averages the softmax of the hand-built views (grey, LeNet-5)`, () => {
      tg.manualSeed(1);
      const model = tg.vision.createImageModel({
        name: "lenet5",
        inChannels: 1,
        imageSize: 28,
        numClasses: 10,
      });
      model.eval();
      const r = tg.vision.evaluate(model, ds, tf, { views, shift: 2, batchSize: 16 });
      const ref = referenceEval(model, ds, views, 2, data.mean, data.std);
      expect(r.loss).toBeCloseTo(ref.loss, 5);
      expect(Math.round(r.accuracy * ds.length)).toBe(ref.correct);
      expect(r.confusion.flat().reduce((a, b) => a + b, 0)).toBe(ds.length);
    });
  }

  it("pads colour images with each channel's black, not with the normalised mean", () => {
    const N = 12;
    const pixels = new Uint8Array(N * 3 * 6 * 6);
    const g = new tg.Generator(3);
    for (let i = 0; i < pixels.length; i++) pixels[i] = g.int(0, 256);
    const colour = new tg.data.ImageDataset({
      pixels,
      labels: Array.from({ length: N }, (_, i) => i % 3),
      shape: [N, 3, 6, 6],
      classes: ["a", "b", "c"],
    });
    const mean = [0.6, 0.4, 0.2];
    const std = [0.2, 0.3, 0.25];
    tg.manualSeed(2);
    // A linear model sees every padded pixel, so a wrong fill value changes its outputs.
    const model = tg.vision.createImageModel({
      name: "logistic",
      inChannels: 3,
      imageSize: 6,
      numClasses: 3,
    });
    const ctf = tg.vision.imageTransforms(
      { augment: false, cropPadding: 0 },
      { mean, std, train: colour },
      false,
    );
    const r = tg.vision.evaluate(model, colour, ctf, { views: "ten", shift: 1 });
    const ref = referenceEval(model, colour, "ten", 1, mean, std);
    expect(r.loss).toBeCloseTo(ref.loss, 5);
    expect(Math.round(r.accuracy * N)).toBe(ref.correct);
  });

  it("refuses an empty test set instead of reporting 0% of nothing (issue 19, item 13)", () => {
    const empty = new tg.data.ImageDataset({
      pixels: new Uint8Array(0),
      labels: [],
      shape: [0, 1, 6, 6],
      classes: ["a", "b"],
    });
    const model = tg.vision.createImageModel({
      name: "logistic",
      inChannels: 1,
      imageSize: 6,
      numClasses: 2,
    });
    const etf = tg.vision.imageTransforms(
      { augment: false, cropPadding: 0 },
      { mean: [0.5], std: [0.5], train: empty },
      false,
    );
    expect(() => tg.vision.evaluate(model, empty, etf)).toThrow(
      /evaluate: the dataset holds no images/,
    );
  });

  it("single views keep the plain cross-entropy", () => {
    tg.manualSeed(1);
    const model = tg.vision.createImageModel({
      name: "logistic",
      inChannels: 1,
      imageSize: 28,
      numClasses: 10,
    });
    const r = tg.vision.evaluate(model, ds, tf);
    const x = tg
      .stack(
        Array.from({ length: ds.length }, (_, i) =>
          tg.tensor(viewsByHand(ds.get(i).image, [1, 28, 28], "flip", 0, data.mean, data.std)[0]!),
        ),
      )
      .reshape([ds.length, 1, 28, 28]);
    const labels = tg.tensor(
      Array.from({ length: ds.length }, (_, i) => ds.label(i)),
      {
        dtype: "int32",
      },
    );
    const want = tg.noGrad(() => tg.F.crossEntropy(model.forward(x), labels).item());
    expect(r.loss).toBeCloseTo(want, 5);
  });

  it("names a ten-view evaluation without a shift, and an unknown view", () => {
    const model = tg.vision.createImageModel({
      name: "logistic",
      inChannels: 1,
      imageSize: 28,
      numClasses: 10,
    });
    expect(() => tg.vision.evaluate(model, ds, tf, { views: "ten" })).toThrow(
      "evaluate: ten views need a positive integer shift (the training crop padding), got 0",
    );
    expect(() =>
      tg.vision.evaluate(model, ds, tf, { views: "twelve" as tg.vision.TestViews }),
    ).toThrow("evaluate: views must be single, flip or ten, got twelve");
  });

  it("rejects a config whose ten views have no crop padding to shift by", () => {
    expect(() =>
      tg.vision.validateImageConfig({
        ...tg.vision.defaultImageConfig,
        testViews: "ten",
        cropPadding: 0,
      }),
    ).toThrow("testViews ten shifts its crops by cropPadding, which is 0");
    expect(() =>
      tg.vision.validateImageConfig({
        ...tg.vision.defaultImageConfig,
        testViews: "all" as tg.vision.TestViews,
      }),
    ).toThrow("testViews must be single, flip or ten, got all");
  });
});
