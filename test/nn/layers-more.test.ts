/**
 * The tg.nn modules over the newer `tg.F` functions: torch's parameter names, shapes and
 * initialisation (so state dicts load into torch.nn), train/eval behaviour, and that each module
 * computes what its function does.
 */
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

const nn = tg.nn;
const F = tg.F;

function shapes(m: tg.nn.Module): Record<string, readonly number[]> {
  return Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, v.shape]));
}

describe("activation modules", () => {
  it("compute their functions", () => {
    const x = tg.tensor([-4, -3, -0.5, 0, 0.5, 3, 7]);
    const pairs: [tg.nn.Layer, tg.Tensor][] = [
      [new nn.ELU(0.5), F.elu(x, 0.5)],
      [new nn.SELU(), F.selu(x)],
      [new nn.CELU(2), F.celu(x, 2)],
      [new nn.Mish(), F.mish(x)],
      [new nn.Hardtanh(-2, 1), F.hardtanh(x, -2, 1)],
      [new nn.ReLU6(), F.relu6(x)],
      [new nn.Hardsigmoid(), F.hardsigmoid(x)],
      [new nn.Hardswish(), F.hardswish(x)],
    ];
    for (const [m, y] of pairs) {
      expect(Array.from(m.forward(x).dataSync()), m.constructor.name).toEqual(
        Array.from(y.dataSync()),
      );
    }
    expect(() => new nn.CELU(0)).toThrow(/CELU: alpha cannot be 0/);
    expect(() => new nn.Hardtanh(1, 0)).toThrow(/Hardtanh: minVal 1 is greater/);
  });

  it("PReLU learns one slope per channel, named and initialised as torch.nn.PReLU (0.25)", () => {
    // torch: {k: v.shape for k, v in nn.PReLU(3).state_dict().items()} → {'weight': [3]}
    const act = new nn.PReLU(3);
    expect(shapes(act)).toEqual({ weight: [3] });
    expect(Array.from(act.weight.dataSync())).toEqual([0.25, 0.25, 0.25]);
    expect(act.parameters().length).toBe(1);
    const x = tg.tensor([[-4, 2, -8]]);
    act.forward(x).sum().backward();
    expect(Array.from(act.weight.grad!.dataSync())).toEqual([-4, 0, -8]);
    expect(new nn.PReLU(1, 0.1).forward(tg.tensor([-10])).toArray()).toEqual([-1]);
    expect(() => new nn.PReLU(0)).toThrow(/PReLU: numParameters must be a positive integer/);
  });
});

describe("normalisation and dropout modules", () => {
  it("GroupNorm: weight/bias [C] (ones/zeros) as torch.nn.GroupNorm, and checks its input", () => {
    // torch: nn.GroupNorm(2, 6).state_dict() → weight [6], bias [6]
    const gn = new nn.GroupNorm(2, 6);
    expect(shapes(gn)).toEqual({ weight: [6], bias: [6] });
    expect(gn.weight!.sum().item()).toBe(6);
    expect(gn.bias!.abs().sum().item()).toBe(0);
    const x = tg.randn([3, 6, 2, 2]);
    expect(Array.from(gn.forward(x).dataSync())).toEqual(
      Array.from(F.groupNorm(x, 2, gn.weight, gn.bias).dataSync()),
    );
    expect(Object.keys(new nn.GroupNorm(3, 6, { affine: false }).stateDict())).toEqual([]);
    expect(() => new nn.GroupNorm(4, 6)).toThrow(/GroupNorm: numChannels=6 must be divisible/);
    expect(() => gn.forward(tg.ones([2, 4, 3]))).toThrow(
      /GroupNorm: expected input \[N, 6, \.\.\.\]/,
    );
  });

  it("RMSNorm: a weight of the normalized shape (ones), as torch.nn.RMSNorm", () => {
    const norm = new nn.RMSNorm([2, 3], { eps: 1e-6 });
    expect(shapes(norm)).toEqual({ weight: [2, 3] });
    const x = tg.randn([4, 2, 3]);
    expect(Array.from(norm.forward(x).dataSync())).toEqual(
      Array.from(F.rmsNorm(x, [2, 3], norm.weight, 1e-6).dataSync()),
    );
    expect(new nn.RMSNorm(3, { elementwiseAffine: false }).parameters()).toEqual([]);
  });

  it("Dropout2d drops channels in training mode only", () => {
    const d = new nn.Dropout2d(0.5, new tg.Generator(2));
    const y = d.forward(tg.ones([4, 16, 3, 3]));
    expect(
      y
        .amax([2, 3])
        .eq(y.amin([2, 3]))
        .sum()
        .item(),
    ).toBe(64);
    expect(y.eq(0).sum().item()).toBeGreaterThan(0);
    const x = tg.randn([1, 2, 2, 2]);
    expect(d.eval().forward(x)).toBe(x);
    expect(() => new nn.Dropout2d(2)).toThrow(/Dropout2d: probability must be in \[0, 1\]/);
  });
});

describe("convolution modules", () => {
  it("Conv1d: torch.nn.Conv1d's parameter names, shapes and init bounds", () => {
    // torch: nn.Conv1d(4, 6, 3, groups=2).state_dict() → weight [6, 2, 3], bias [6]; both drawn
    // from U(-b, b) with b = 1/√(fan-in) = 1/√6.
    tg.manualSeed(0);
    const conv = new nn.Conv1d(4, 6, 3, { groups: 2, stride: 2 });
    expect(shapes(conv)).toEqual({ weight: [6, 2, 3], bias: [6] });
    const bound = 1 / Math.sqrt(6);
    expect(conv.weight.abs().max().item()).toBeLessThanOrEqual(bound);
    expect(conv.weight.abs().max().item()).toBeGreaterThan(0.7 * bound);
    expect(conv.bias!.abs().max().item()).toBeLessThanOrEqual(bound);
    const x = tg.randn([2, 4, 9]);
    expect(Array.from(conv.forward(x).dataSync())).toEqual(
      Array.from(F.conv1d(x, conv.weight, conv.bias, { groups: 2, stride: 2 }).dataSync()),
    );
    expect(new nn.Conv1d(2, 2, 1, { bias: false }).bias).toBeNull();
    expect(() => new nn.Conv1d(3, 4, 3, { groups: 2 })).toThrow(/Conv1d: channels 3 -> 4/);
  });

  it("ConvTranspose2d: weight [in, out/groups, kh, kw] with torch's fan-in (dim 1 × kernel)", () => {
    // torch: nn.ConvTranspose2d(4, 6, (2, 3), groups=2).state_dict() → weight [4, 3, 2, 3],
    // bias [6]; bound 1/√(3·2·3) = 0.2357 (the largest |weight| torch drew was 0.2357).
    tg.manualSeed(0);
    const up = new nn.ConvTranspose2d(4, 6, [2, 3], { groups: 2, stride: 2, outputPadding: 1 });
    expect(shapes(up)).toEqual({ weight: [4, 3, 2, 3], bias: [6] });
    const bound = 1 / Math.sqrt(18);
    expect(up.weight.abs().max().item()).toBeLessThanOrEqual(bound);
    expect(up.weight.abs().max().item()).toBeGreaterThan(0.7 * bound);
    expect(up.bias!.abs().max().item()).toBeLessThanOrEqual(bound);
    const x = tg.randn([1, 4, 3, 3]);
    const y = up.forward(x);
    expect(y.shape).toEqual([1, 6, 7, 8]); // (3−1)·2 + (2−1) + 1 + 1, (3−1)·2 + (3−1) + 1 + 1
    expect(Array.from(y.dataSync())).toEqual(
      Array.from(
        F.convTranspose2d(x, up.weight, up.bias, {
          groups: 2,
          stride: 2,
          outputPadding: 1,
        }).dataSync(),
      ),
    );
    expect(() => new nn.ConvTranspose2d(4, 3, 2, { groups: 2 })).toThrow(
      /ConvTranspose2d: channels/,
    );
  });
});

describe("loss modules", () => {
  it("compute their functions with the module's reduction and threshold", () => {
    const a = tg.tensor([[0.5, -1, 2]]);
    const b = tg.tensor([[0, 0, 1]]);
    expect(new nn.L1Loss("sum").forward(a, b).item()).toBe(F.l1Loss(a, b, "sum").item());
    expect(new nn.SmoothL1Loss("none", 0.5).forward(a, b).toArray()).toEqual(
      F.smoothL1Loss(a, b, "none", 0.5).toArray(),
    );
    expect(new nn.HuberLoss("mean", 0.7).forward(a, b).item()).toBe(
      F.huberLoss(a, b, "mean", 0.7).item(),
    );
    const logq = tg.tensor([[0.25, 0.75]]).log();
    const p = tg.tensor([[0.5, 0.5]]);
    expect(new nn.KLDivLoss("batchmean").forward(logq, p).item()).toBe(
      F.klDiv(logq, p, "batchmean").item(),
    );
    expect(new nn.KLDivLoss("sum", true).forward(logq, p.log()).item()).toBe(
      F.klDiv(logq, p.log(), "sum", true).item(),
    );
    expect(() => new nn.L1Loss().forward(tg.ones([2, 1]), tg.ones([2]))).toThrow(/l1Loss/);
  });
});
