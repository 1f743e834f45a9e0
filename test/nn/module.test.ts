import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

const nn = tg.nn;

class Block extends nn.Module {
  conv = new nn.Conv2d(2, 4, 3, { padding: 1 });
  bn = new nn.BatchNorm2d(4);
  heads = [new nn.Linear(4, 2), new nn.Linear(4, 3)];
  scale = nn.Parameter(tg.ones([1]));
  forward(x: tg.Tensor) {
    const h = this.bn.forward(this.conv.forward(x)).relu().mean([2, 3]).mul(this.scale);
    return this.heads.map((m) => m.forward(h));
  }
}

describe("tg.nn.Module", () => {
  it("names parameters and buffers with PyTorch's dotted paths, in definition order", () => {
    const m = new Block();
    expect(Object.keys(m.stateDict())).toEqual([
      "scale",
      "conv.weight",
      "conv.bias",
      "bn.weight",
      "bn.bias",
      "heads.0.weight",
      "heads.0.bias",
      "heads.1.weight",
      "heads.1.bias",
      "bn.running_mean",
      "bn.running_var",
      "bn.num_batches_tracked",
    ]);
    expect(m.parameters().length).toBe(9);
    expect(m.numParameters()).toBe(1 + 4 * 2 * 9 + 4 + 4 + 4 + 8 + 2 + 12 + 3);
  });

  it("switches train/eval mode recursively", () => {
    const m = new Block().eval();
    expect(m.namedModules().every(([, c]) => !c.training)).toBe(true);
    m.train();
    expect(m.bn.training).toBe(true);
  });

  it("loads a state dict by copying values, and reports every mismatch at once", () => {
    const a = new Block();
    const b = new Block();
    b.loadStateDict(a.stateDict());
    expect(b.conv.weight.toArray()).toEqual(a.conv.weight.toArray());
    expect(b.conv.weight.data).not.toBe(a.conv.weight.data);
    const bad = { ...a.stateDict(), extra: tg.zeros([1]), "conv.bias": tg.zeros([5]) };
    delete (bad as Record<string, tg.Tensor>)["scale"];
    expect(() => b.loadStateDict(bad, { source: "ckpt.safetensors" })).toThrow(
      /loadStateDict: ckpt.safetensors: state dict does not match the model \(missing: scale; unexpected: extra; conv.bias: checkpoint has \[5\], model has \[4\]\)/,
    );
    expect(b.conv.weight.toArray()).toEqual(a.conv.weight.toArray()); // untouched by the failed load
  });

  it("casts float64 into float32 on load but refuses integers where the model keeps floats", () => {
    const a = new Block();
    const b = new Block();
    const f64 = Object.fromEntries(
      Object.entries(a.stateDict()).map(([k, t]) => [k, t.to("float64")]),
    );
    b.loadStateDict(f64);
    expect(b.conv.weight.toArray()).toEqual(a.conv.weight.toArray());
    const ints = { ...a.stateDict(), "conv.bias": tg.zeros([4], { dtype: "int32" }) };
    expect(() => b.loadStateDict(ints, { source: "m.safetensors" })).toThrow(
      /^loadStateDict: m.safetensors: state dict does not match the model \(conv.bias: checkpoint has int32, model has float32\)$/,
    );
  });

  it("trains: gradients reach every parameter and zeroGrad clears them", () => {
    const m = new Block();
    const [y1, y2] = m.forward(tg.randn([2, 2, 5, 5]));
    y1!.sum().add(y2!.sum()).backward();
    expect(m.parameters().every((p) => p.grad !== null)).toBe(true);
    m.zeroGrad();
    expect(m.parameters().every((p) => p.grad === null)).toBe(true);
  });

  it("prints a module tree", () => {
    const s = String(new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU()));
    expect(s).toBe(
      "Sequential(\n  (0): Linear(inFeatures=2, outFeatures=3, bias=true)\n  (1): ReLU()\n)",
    );
  });
});

describe("tg.nn layers", () => {
  it("initialise like PyTorch: U(-1/√fanIn, 1/√fanIn)", () => {
    tg.manualSeed(0);
    const fc = new nn.Linear(400, 300);
    const bound = 1 / Math.sqrt(400);
    expect(fc.weight.abs().max().item()).toBeLessThanOrEqual(bound);
    expect(fc.weight.abs().max().item()).toBeGreaterThan(0.95 * bound);
    expect(Math.abs(fc.weight.std().item() - bound / Math.sqrt(3))).toBeLessThan(0.002);
  });

  it("BatchNorm updates running statistics in training and uses them in eval", () => {
    const bn = new nn.BatchNorm1d(2, { momentum: 0.5 });
    const x = tg.tensor([
      [1, 10],
      [3, 30],
    ]);
    bn.forward(x);
    expect(bn.running_mean!.toArray()).toEqual([1, 10]); // 0.5·0 + 0.5·[2, 20]
    expect(bn.running_var!.toArray()).toEqual([1.5, 100.5]); // 0.5·1 + 0.5·unbiased var [2, 200]
    expect(bn.num_batches_tracked!.item()).toBe(1);
    const y = bn.eval().forward(x);
    expect((y.toArray() as number[][])[0]![0]).toBeCloseTo((1 - 1) / Math.sqrt(1.5 + 1e-5), 6);
  });

  it("Dropout is the identity in eval mode and scales kept units in training", () => {
    const d = new nn.Dropout(0.25, new tg.Generator(1));
    const y = d.forward(tg.ones([10000]));
    const kept = y.gt(0).sum().item();
    expect(Math.abs(kept / 10000 - 0.75)).toBeLessThan(0.02);
    expect(y.max().item()).toBeCloseTo(1 / 0.75, 6);
    expect(
      d
        .eval()
        .forward(tg.ones([3]))
        .toArray(),
    ).toEqual([1, 1, 1]);
  });

  it("Embedding zeroes and freezes the padding row", () => {
    const e = new nn.Embedding(5, 3, { paddingIdx: 0 });
    const ids = tg.tensor([[0, 2, 0]], { dtype: "int32" });
    e.forward(ids).sum().backward();
    expect((e.weight.grad!.toArray() as number[][])[0]).toEqual([0, 0, 0]);
    expect((e.weight.grad!.toArray() as number[][])[2]).toEqual([1, 1, 1]);
    expect(() => new nn.Embedding(5, 3, { paddingIdx: 5 })).toThrow(
      /Embedding: paddingIdx 5 is outside/,
    );
  });

  it("reject wrong input shapes with the layer's name", () => {
    expect(() => new nn.Linear(3, 2).forward(tg.ones([2, 4]))).toThrow(
      /linear: input \[2,4\] does not match weight \[2,3\]/,
    );
    expect(() => new nn.Conv2d(3, 2, 3).forward(tg.ones([1, 2, 5, 5]))).toThrow(
      /conv2d: input \[1,2,5,5\] and weight \[2,3,3,3\] do not fit groups=1/,
    );
    expect(() => new nn.BatchNorm2d(3).forward(tg.ones([2, 3]))).toThrow(
      /BatchNorm2d: expected input \[N, 3, H, W\]/,
    );
  });
});

describe("tg.nn losses and init", () => {
  it("CrossEntropyLoss matches F.crossEntropy", () => {
    const x = tg.randn([4, 5]);
    const t = tg.tensor([0, 1, 4, 2], { dtype: "int32" });
    expect(new nn.CrossEntropyLoss().forward(x, t).item()).toBe(tg.F.crossEntropy(x, t).item());
  });

  it("Kaiming and Xavier have the right spread", () => {
    tg.manualSeed(3);
    const w = nn.init.kaimingNormal_(tg.zeros([256, 128]), { nonlinearity: "relu" });
    expect(Math.abs(w.std().item() - Math.sqrt(2 / 128))).toBeLessThan(0.003);
    const v = nn.init.xavierNormal_(tg.zeros([200, 100]));
    expect(Math.abs(v.std().item() - Math.sqrt(2 / 300))).toBeLessThan(0.003);
  });
});
