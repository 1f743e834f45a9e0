import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

describe("tg.models.AlexNet", () => {
  it("keeps the paper's structure scaled to 28×28 and 32×32 inputs", () => {
    const grey = new tg.models.AlexNet({
      inChannels: 1,
      imageSize: 28,
      numClasses: 10,
      width: 0.25,
    });
    const kinds = grey.features.children().map((m) => m.constructor.name);
    expect(kinds).toEqual([
      "Conv2d",
      "ReLU",
      "LocalResponseNorm",
      "MaxPool2d",
      "Conv2d",
      "ReLU",
      "LocalResponseNorm",
      "MaxPool2d",
      "Conv2d",
      "ReLU",
      "Conv2d",
      "ReLU",
      "Conv2d",
      "ReLU",
      "MaxPool2d",
    ]);
    expect(grey.classifier.children().filter((m) => m instanceof tg.nn.Dropout).length).toBe(2);
    expect(grey.forward(tg.zeros([2, 1, 28, 28])).shape).toEqual([2, 10]);
    const colour = new tg.models.AlexNet({
      inChannels: 3,
      imageSize: 32,
      numClasses: 10,
      width: 0.25,
    });
    expect(colour.forward(tg.zeros([1, 3, 32, 32])).shape).toEqual([1, 10]);
    expect(() => new tg.models.AlexNet({ inChannels: 1, imageSize: 8, numClasses: 10 })).toThrow(
      /AlexNet: images of 8×8 are too small/,
    );
  });

  it("pads its pools on request: 28 → 14 → 7 → 4 maps, and only 0 or 1", () => {
    const net = new tg.models.AlexNet({
      inChannels: 1,
      imageSize: 28,
      numClasses: 10,
      width: 0.25,
      poolPadding: 1,
    });
    // conv5 has 32 channels at width 0.25: a 4×4 map gives the classifier 512 inputs (2×2: 128).
    expect(net.features.forward(tg.zeros([1, 1, 28, 28])).shape).toEqual([1, 32, 4, 4]);
    expect(net.stateDict()["classifier.1.weight"]!.shape).toEqual([256, 512]);
    expect(net.forward(tg.zeros([2, 1, 28, 28])).shape).toEqual([2, 10]);
    expect(
      new tg.models.AlexNet({
        inChannels: 1,
        imageSize: 8,
        numClasses: 10,
        poolPadding: 1,
      }).features.forward(tg.zeros([1, 1, 8, 8])).shape,
    ).toEqual([1, 128, 1, 1]);
    expect(
      () =>
        new tg.models.AlexNet({
          inChannels: 1,
          imageSize: 28,
          numClasses: 10,
          poolPadding: 2 as 1,
        }),
    ).toThrow(/AlexNet: poolPadding must be 0 or 1, got 2/);
  });

  it("has PyTorch-style parameter names", () => {
    const net = new tg.models.AlexNet({
      inChannels: 1,
      imageSize: 28,
      numClasses: 10,
      width: 0.25,
    });
    expect(Object.keys(net.stateDict()).slice(0, 4)).toEqual([
      "features.0.weight",
      "features.0.bias",
      "features.4.weight",
      "features.4.bias",
    ]);
    expect(Object.keys(net.stateDict()).slice(-2)).toEqual([
      "classifier.6.weight",
      "classifier.6.bias",
    ]);
  });

  it("keeps the activations' scale through the stack with He initialisation", () => {
    // The reason for init "kaiming": PyTorch's layer defaults shrink the signal layer by layer in
    // this batch-norm-free stack, so the features reaching the classifier start near zero and training stalls at chance.
    const x = tg.randn([16, 1, 28, 28], { generator: new tg.Generator(3) });
    const featureStd = (init: "kaiming" | "pytorch") => {
      tg.manualSeed(0);
      const net = new tg.models.AlexNet({ inChannels: 1, imageSize: 28, numClasses: 10, init });
      net.eval();
      return net.features.forward(x).std().item();
    };
    const conv = new tg.models.AlexNet({
      inChannels: 1,
      imageSize: 28,
      numClasses: 10,
      width: 0.5,
      init: "kaiming",
    }).features.children()[0] as tg.nn.Conv2d;
    // fan-out of the first conv: 32 channels × 5 × 5.
    expect(conv.weight.std().item()).toBeCloseTo(Math.sqrt(2 / (32 * 25)), 2);
    expect(conv.bias!.abs().max().item()).toBe(0);
    // Measured: 0.082 vs 0.015 at the end of the conv stack.
    expect(featureStd("kaiming")).toBeGreaterThan(4 * featureStd("pytorch"));
  });

  it("overfits a small batch", () => {
    tg.manualSeed(1);
    const net = new tg.models.LeNet5({ inChannels: 1, imageSize: 28, numClasses: 10 });
    const x = tg.randn([8, 1, 28, 28]);
    const y = tg.randint(0, 10, [8]);
    const params = net.parameters();
    let first = 0;
    let last = 0;
    for (let step = 0; step < 80; step++) {
      const loss = tg.F.crossEntropy(net.forward(x), y);
      if (step === 0) first = loss.item();
      last = loss.item();
      net.zeroGrad();
      loss.backward();
      tg.noGrad(() => {
        for (const p of params) {
          const d = p.data as Float32Array;
          const g = p.grad!.dataSync();
          for (let i = 0; i < d.length; i++) d[i]! -= 0.1 * g[i]!;
        }
      });
    }
    expect(first).toBeGreaterThan(2);
    expect(last).toBeLessThan(0.05);
  });
});
