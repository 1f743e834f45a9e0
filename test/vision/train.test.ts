import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

const data = tg.vision.loadImageData("fashion-mnist-sample");
const tmp = () => mkdtempSync(`${tmpdir()}/tsgrad-vision-`);
const quiet = { progress: null, report: false, data } as const;
/** One short epoch of LeNet-5 with Adam on 2000 sample images: about 70% test accuracy. */
const lenetQuick = {
  model: "lenet5",
  data: "fashion-mnist-sample",
  epochs: 1,
  batchSize: 32,
  optimizer: "adam",
  lr: 0.002,
  weightDecay: 0,
  valSize: 200,
  trainLimit: 2000,
  workers: 0,
} as const;

describe("tg.vision.trainImageClassifier", () => {
  it("learns Fashion-MNIST well above chance in a short run", async () => {
    const r = await tg.vision.trainImageClassifier(lenetQuick, { ...quiet, dir: tmp() });
    expect(r.status).toBe("finished");
    // Chance is 10%; one short epoch of LeNet-5 with Adam reaches about 70%.
    expect(r.summary!.testAccuracy as number).toBeGreaterThan(0.5);
    const metrics = readFileSync(`${r.dir}/metrics.jsonl`, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, number>);
    expect(metrics.at(-1)!.valAccuracy).toBeGreaterThan(0.4);
  });

  it("writes its report when a cosine schedule ends at a learning rate of exactly 0", async () => {
    // Regression: the lr chart used a log axis, which cannot show 0, and the run died after
    // training, before its summary was written.
    const r = await tg.vision.trainImageClassifier(
      {
        model: "logistic",
        data: "fashion-mnist-sample",
        epochs: 2,
        batchSize: 100,
        schedule: "cosine",
        valSize: 100,
        trainLimit: 300,
        workers: 0,
      },
      { ...quiet, report: true, dir: tmp() },
    );
    expect(r.status).toBe("finished");
    expect(r.summary!.testAccuracy as number).toBeGreaterThan(0.3);
    expect(readFileSync(`${r.dir}/report.html`, "utf8")).toContain("Learning rate");
  });

  it("resumes exactly: an interrupted run ends with the same metrics and weights as an uninterrupted one", async () => {
    const cfg = {
      model: "mlp",
      width: 0.25,
      data: "fashion-mnist-sample",
      epochs: 2,
      batchSize: 64,
      lr: 0.05,
      valSize: 200,
      trainLimit: 640,
      workers: 1,
      seed: 3,
    } as const;
    const whole = await tg.vision.trainImageClassifier(cfg, { ...quiet, dir: tmp() });
    const dir = tmp();
    const first = await tg.vision.trainImageClassifier(cfg, { ...quiet, dir, stopAfterSteps: 13 });
    expect(first.status).toBe("stopped");
    await expect(tg.vision.trainImageClassifier(cfg, { ...quiet, dir })).rejects.toThrow(
      /pass --resume/,
    );
    const resumed = await tg.vision.trainImageClassifier(cfg, { ...quiet, dir, resume: true });
    expect(resumed.status).toBe("finished");
    const strip = (d: string) =>
      readFileSync(`${d}/metrics.jsonl`, "utf8")
        .trim()
        .split("\n")
        .map((l) => {
          const {
            epochSeconds: _a,
            imagesPerSec: _b,
            ...rest
          } = JSON.parse(l) as Record<string, unknown>;
          return rest;
        });
    expect(strip(dir)).toEqual(strip(whole.dir));
    expect(resumed.summary!.testLoss).toBe(whole.summary!.testLoss);
    const a = whole.model.stateDict();
    const b = resumed.model.stateDict();
    for (const k of Object.keys(a)) {
      expect(Array.from(b[k]!.dataSync())).toEqual(Array.from(a[k]!.dataSync()));
    }
  });

  it("rejects impossible configurations by name", async () => {
    await expect(
      tg.vision.trainImageClassifier({ lr: -1 }, { ...quiet, dir: tmp() }),
    ).rejects.toThrow(/lr must be positive/);
    await expect(
      tg.vision.trainImageClassifier(
        { valSize: 10000, data: "fashion-mnist-sample" },
        { ...quiet, dir: tmp() },
      ),
    ).rejects.toThrow(/valSize 10000 leaves no training images/);
    await expect(
      tg.vision.trainImageClassifier({ poolPadding: 3 as 1 }, { ...quiet, dir: tmp() }),
    ).rejects.toThrow(/train image: poolPadding must be 0 or 1, got 3/);
    await expect(
      tg.vision.trainImageClassifier(
        { matmulPrecision: "low" as "medium" },
        { ...quiet, dir: tmp() },
      ),
    ).rejects.toThrow(/matmulPrecision must be highest, high, medium, got low/);
  });

  it("trains at the configured matmul precision, records it, and restores the setting", async () => {
    const r = await tg.vision.trainImageClassifier(
      { ...lenetQuick, matmulPrecision: "medium" },
      { ...quiet, dir: tmp() },
    );
    expect(tg.getFloat32MatmulPrecision()).toBe("highest");
    expect(r.summary!.matmulPrecision).toBe("medium");
    // bf16 products need the native backend on a CPU with AVX512-BF16 or AMX.
    expect(r.summary!.bf16Compute).toBe(tg.getBackend().info?.().bf16 === true);
    expect(r.summary!.testAccuracy as number).toBeGreaterThan(0.5);
  });
});

describe("tg.vision.loadImageClassifier", () => {
  it("rebuilds a trained model from its checkpoint and classifies a picture", async () => {
    const r = await tg.vision.trainImageClassifier(
      {
        model: "logistic",
        data: "fashion-mnist-sample",
        epochs: 1,
        batchSize: 100,
        lr: 0.01,
        optimizer: "adam",
        valSize: 0,
        trainLimit: 1000,
        workers: 0,
        schedule: "none",
      },
      { ...quiet, dir: tmp() },
    );
    const { model, meta } = tg.vision.loadImageClassifier(`${r.dir}/model.safetensors`);
    expect(meta.classes).toEqual([...tg.data.FASHION_MNIST_CLASSES]);
    const x = tg.vision.pictureToTensor(
      { rgba: new Uint8Array(4 * 28 * 28).fill(255), width: 28, height: 28 },
      meta,
      "white.png",
    );
    expect(model.forward(x).shape).toEqual([1, 10]);
    // Other sizes are centre-cropped and resized, not rejected: a uniform picture stays uniform,
    // and a half-black, half-white one keeps black on the left and white on the right.
    const white = tg.vision.pictureToTensor(
      { rgba: new Uint8Array(4 * 32 * 30).fill(255), width: 30, height: 32 },
      meta,
      "big.png",
    );
    expect(white.toArray()).toEqual(x.toArray());
    const halves = new Uint8Array(4 * 40 * 90).map((_, i) => ((i >> 2) % 90 < 45 ? 0 : 255));
    const h = tg.vision
      .pictureToTensor({ rgba: halves, width: 90, height: 40 }, meta, "halves.png")
      .toArray() as number[][][][];
    const [lo, hi] = [(0 - meta.mean[0]!) / meta.std[0]!, (1 - meta.mean[0]!) / meta.std[0]!];
    expect(h[0]![0]![14]![0]).toBeCloseTo(lo, 5);
    expect(h[0]![0]![14]![27]).toBeCloseTo(hi, 5);
    expect(() =>
      tg.vision.pictureToTensor({ rgba: new Uint8Array(7), width: 2, height: 2 }, meta, "cut.png"),
    ).toThrow(/cut.png: expected 2×2 RGBA pixels \(16 bytes\), got 7 bytes/);
    expect(() => tg.vision.loadImageClassifier(`${r.dir}/config.json`)).toThrow();
  });

  it("rebuilds an AlexNet with padded pools as it was trained", async () => {
    const r = await tg.vision.trainImageClassifier(
      {
        model: "alexnet",
        width: 0.125,
        poolPadding: 1,
        data: "fashion-mnist-sample",
        epochs: 1,
        batchSize: 50,
        valSize: 0,
        trainLimit: 100,
        workers: 0,
        schedule: "none",
      },
      { ...quiet, dir: tmp() },
    );
    const { model } = tg.vision.loadImageClassifier(`${r.dir}/model.safetensors`);
    const net = model as tg.models.AlexNet;
    expect(net.config.poolPadding).toBe(1);
    expect(net.features.forward(tg.zeros([1, 1, 28, 28])).shape).toEqual([1, 16, 4, 4]);
  });
});
