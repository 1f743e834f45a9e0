/**
 * Forward values and gradients against PyTorch (float64), from test/fixtures/torch-ops.json
 * (regenerate with `/usr/bin/python3 test/fixtures/generate_torch.py`).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { expectClose } from "../helpers/allclose.js";

interface Fixture {
  version: number;
  cases: {
    name: string;
    inputs: { shape: number[]; data: number[] }[];
    consts: { shape: number[]; data: number[] }[];
    output: { shape: number[]; data: number[] };
    weights: number[];
    grads: (number[] | null)[];
  }[];
  modules: {
    name: string;
    state: { name: string; shape: number[]; data: number[] }[];
    input: { shape: number[]; data: number[] };
    output: { shape: number[]; data: number[] };
  }[];
}

const fixture = JSON.parse(
  readFileSync(new URL("../fixtures/torch-ops.json", import.meta.url), "utf8"),
) as Fixture;
const F = tg.F;
const i32 = (v: number[], shape?: number[]) =>
  tg.tensor(Int32Array.from(v), shape ? { shape } : {});
type Fn = (xs: tg.Tensor[], consts: tg.Tensor[]) => tg.Tensor;
const lstmOut = ([out, h, c]: [tg.Tensor, tg.Tensor, tg.Tensor]) => [
  out,
  h.unsqueeze(0),
  c.unsqueeze(0),
];

// The same computations as generate_torch.py, written with tsgrad.
const impls: Record<string, Fn> = {
  "messy expression": ([a, b, c, d]) => {
    const x = a!.mul(b!);
    const y = x.matmul(c!).relu();
    const z = y.add(d!.exp()).sub(a!.sum(1, true).tanh());
    const w = z.t().reshape([15]).narrow(0, 2, 10).view([2, 5]);
    const u = w
      .mul(w.sigmoid())
      .logsumexp(1)
      .add(a!.max(1).values.narrow(0, 0, 2));
    const tail = c!
      .narrow(0, 1, 2)
      .mul(
        a!
          .narrow(0, 0, 2)
          .narrow(1, 1, 2)
          .t()
          .matmul(c!.narrow(0, 2, 2)),
      )
      .sum();
    return u
      .pow(2)
      .mean()
      .add(a!.div(b!.abs().add(1)).sum().mul(0.1))
      .add(tail);
  },
  softmax: ([x]) => x!.softmax(1),
  logSoftmax: ([x]) => x!.logSoftmax(-1),
  logsumexp: ([x]) => x!.logsumexp([0, 2]),
  "var and std": ([x]) => x!.var(0).add(x!.std(1).sum()),
  crossEntropy: ([x]) => F.crossEntropy(x!, i32([0, 3, 4, 1])),
  "crossEntropy ignoreIndex labelSmoothing": ([x]) =>
    F.crossEntropy(x!, i32([0, -100, 4, 1]), { labelSmoothing: 0.1 }),
  "crossEntropy weight spatial": ([x], [w]) =>
    F.crossEntropy(x!, i32([0, 1, 2, 1, 2, 0, 0, 1], [2, 2, 2]), { weight: w! }),
  "crossEntropy weight labelSmoothing": ([x], [w]) =>
    F.crossEntropy(x!, i32([0, 2, 1]), { weight: w!, labelSmoothing: 0.2 }),
  "crossEntropy probabilities": ([x, t]) => F.crossEntropy(x!, t!.softmax(1)),
  "crossEntropy sum reduction": ([x]) => F.crossEntropy(x!, i32([3, 0, 1]), { reduction: "sum" }),
  nllLoss: ([x]) => F.nllLoss(x!.logSoftmax(1), i32([1, 0, 3])),
  layerNorm: ([x, w, b]) => F.layerNorm(x!, [6], w, b),
  "batchNorm training": ([x, w, b]) => F.batchNorm(x!, null, null, w, b, { training: true }),
  gelu: ([x]) => F.gelu(x!),
  "gelu tanh": ([x]) => F.gelu(x!, "tanh"),
  "conv2d groups dilation stride bias": ([x, w, b]) =>
    F.conv2d(x!, w!, b, { stride: 2, padding: 2, dilation: 2, groups: 2 }),
  "maxPool2d 3x3 stride 2": ([x]) => F.maxPool2d(x!, 3, { stride: 2 }),
  "maxPool2d padding ceil": ([x]) => F.maxPool2d(x!, 3, { stride: 2, padding: 1, ceilMode: true }),
  avgPool2d: ([x]) => F.avgPool2d(x!, 3, { stride: 2, padding: 1 }),
  "avgPool2d excluding padding": ([x]) =>
    F.avgPool2d(x!, 3, { stride: 2, padding: 1, countIncludePad: false }),
  adaptiveAvgPool2d: ([x]) => F.adaptiveAvgPool2d(x!, [2, 3]),
  localResponseNorm: ([x]) => F.localResponseNorm(x!, 5, 1e-2, 0.75, 2),
  "attention causal": ([q, k, v]) => F.scaledDotProductAttention(q!, k!, v!, { isCausal: true }),
  "embedding padding": ([w]) => F.embedding(i32([1, 0, 4, 1, 2, 0], [2, 3]), w!, 0),
  "matmul broadcast vectors": ([a, b, c]) => a!.matmul(b!).matmul(c!),
  pad: ([x]) => x!.pad([1, 2, 0, 1], 0.5),
  elementwise: ([x]) =>
    x!
      .sin()
      .add(x!.cos().mul(x!.tanh()))
      .add(x!.erf())
      .add(x!.sigmoid())
      .add(x!.exp())
      .add(x!.abs().sqrt())
      .add(x!.abs().add(1).log())
      .add(x!.relu()),
  "pow both operands": ([a, b]) => a!.pow(b!),
  lstmLayer: ([x, h0, c0, wih, whh, bih, bhh]) =>
    tg.cat(lstmOut(F.lstmLayer(x!, h0!, c0!, wih!, whh!, bih!, bhh!)), 0),
  "lstmLayer reverse": ([x, h0, c0, wih, whh, bih, bhh]) =>
    tg.cat(lstmOut(F.lstmLayer(x!, h0!, c0!, wih!, whh!, bih!, bhh!, { reverse: true })), 0),
  "lstmLayer lengths": ([x, h0, c0, wih, whh, bih, bhh]) =>
    tg.cat(lstmOut(F.lstmLayer(x!, h0!, c0!, wih!, whh!, bih!, bhh!, { lengths: [5, 2, 3] })), 0),
  gruLayer: ([x, h0, wih, whh, bih, bhh]) => {
    const [out, h] = F.gruLayer(x!, h0!, wih!, whh!, bih!, bhh!);
    return tg.cat([out, h.unsqueeze(0)], 0);
  },
  "maximum minimum clamp": ([a, b]) =>
    tg
      .maximum(a!, b!)
      .add(tg.minimum(a!, b!.mul(2)))
      .add(a!.mul(3).clamp(-1, 0.5)),
};

const f64 = (x: { shape: number[]; data: number[] }) =>
  tg.tensor(Float64Array.from(x.data), { shape: x.shape });

describe("tsgrad against PyTorch (float64 fixtures)", () => {
  it("has an implementation for every fixture case and a fixture for every implementation", () => {
    expect(fixture.version).toBe(1);
    expect(fixture.cases.map((c) => c.name).sort()).toEqual(Object.keys(impls).sort());
  });

  it.each(fixture.cases.map((c) => [c.name, c] as const))(
    "%s: values and gradients match",
    (name, c) => {
      const xs = c.inputs.map((x) => f64(x).requiresGrad_());
      const y = impls[name]!(xs, c.consts.map(f64));
      expectClose(y, f64(c.output), { atol: 1e-10, rtol: 1e-9, label: `${name} output` });
      y.mul(tg.tensor(Float64Array.from(c.weights), { shape: c.output.shape }))
        .sum()
        .backward();
      c.grads.forEach((g, i) => {
        if (g === null) return;
        expectClose(xs[i]!.grad ?? xs[i]!.zerosLike(), Float64Array.from(g), {
          atol: 1e-10,
          rtol: 1e-9,
          label: `${name} grad ${i}`,
        });
      });
    },
  );
});

const modules: Record<string, () => [tg.nn.Module, (x: tg.Tensor) => tg.Tensor]> = {
  "LSTM(3, 4, numLayers 2, bidirectional, batchFirst)": () => {
    const m = new tg.nn.LSTM(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true });
    return [
      m,
      (x) => {
        const [y, [h, c]] = m.forward(x);
        return tg.cat([y.reshape([-1]), h.reshape([-1]), c.reshape([-1])]);
      },
    ];
  },
  "GRU(3, 4, numLayers 2)": () => {
    const m = new tg.nn.GRU(3, 4, { numLayers: 2 });
    return [
      m,
      (x) => {
        const [y, h] = m.forward(x);
        return tg.cat([y.reshape([-1]), h.reshape([-1])]);
      },
    ];
  },
  "BatchNorm2d(3) eval": () => {
    const m = new tg.nn.BatchNorm2d(3).eval();
    return [m, (x) => m.forward(x)];
  },
};

describe("tg.nn modules against torch.nn (state-dict names, shapes and outputs)", () => {
  it.each(fixture.modules.map((m) => [m.name, m] as const))("%s", (name, c) => {
    const [module, run] = modules[name]!();
    const own = module.stateDict();
    expect(Object.keys(own)).toEqual(c.state.map((s) => s.name));
    const state = Object.fromEntries(c.state.map((s) => [s.name, f64(s)]));
    // PyTorch stores num_batches_tracked as int64; tsgrad's is int32 and loads by value.
    module.loadStateDict(state);
    const x = f64(c.input).to("float32");
    const y = tg.noGrad(() => run(x));
    expectClose(y, Float64Array.from(c.output.data), { atol: 1e-5, rtol: 1e-4, label: name });
  });
});
