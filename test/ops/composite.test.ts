/**
 * Gradient checks for composite ops: they have no gradient code of their own, so these check that
 * the compositions are differentiable where they should be and that nothing in them (stability
 * shifts, masks, detached maxima) bends the gradient.
 */
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { type InputSpec, gradcheck } from "../helpers/gradcheck.js";

const F = tg.F;
const i32 = (v: number[]) => tg.tensor(Int32Array.from(v));

interface CompositeSpec {
  name: string;
  inputs: InputSpec[];
  f: (xs: tg.Tensor[]) => tg.Tensor;
}

const specs: CompositeSpec[] = [
  { name: "softmax", inputs: [{ shape: [3, 5] }], f: ([x]) => x!.softmax(1) },
  { name: "logSoftmax", inputs: [{ shape: [3, 5] }], f: ([x]) => x!.logSoftmax(-1) },
  {
    name: "logsumexp over two axes",
    inputs: [{ shape: [2, 3, 4] }],
    f: ([x]) => x!.logsumexp([0, 2]),
  },
  {
    name: "mean and var",
    inputs: [{ shape: [4, 3] }],
    f: ([x]) => x!.var(0).add(x!.mean(1, true).sum()),
  },
  { name: "std (biased)", inputs: [{ shape: [6] }], f: ([x]) => x!.std(0, false, 0) },
  {
    name: "crossEntropy with class indices",
    inputs: [{ shape: [4, 5] }],
    f: ([x]) => F.crossEntropy(x!, i32([0, 3, 4, 1])),
  },
  {
    name: "crossEntropy with ignoreIndex and label smoothing",
    inputs: [{ shape: [4, 5] }],
    f: ([x]) => F.crossEntropy(x!, i32([0, -100, 4, 1]), { labelSmoothing: 0.1 }),
  },
  {
    name: "crossEntropy with class weights, spatial",
    inputs: [{ shape: [2, 3, 2, 2] }, { shape: [3], kind: "positive" }],
    f: ([x, w]) =>
      F.crossEntropy(
        x!,
        tg.tensor(Int32Array.from([0, 1, 2, 1, 2, 0, 0, 1]), { shape: [2, 2, 2] }),
        { weight: w! },
      ),
  },
  {
    name: "crossEntropy with probability targets",
    inputs: [{ shape: [3, 4] }, { shape: [3, 4] }],
    f: ([x, t]) => F.crossEntropy(x!, t!.softmax(1)),
  },
  {
    name: "nllLoss",
    inputs: [{ shape: [3, 4] }],
    f: ([x]) => F.nllLoss(x!.logSoftmax(1), i32([1, 0, 3])),
  },
  {
    name: "mseLoss",
    inputs: [{ shape: [3, 4] }, { shape: [3, 4] }],
    f: ([a, b]) => F.mseLoss(a!, b!),
  },
  {
    name: "binaryCrossEntropyWithLogits",
    inputs: [{ shape: [5] }, { shape: [5], kind: "positive" }],
    f: ([x, t]) => F.binaryCrossEntropyWithLogits(x!.mul(4), t!.div(2)),
  },
  {
    name: "layerNorm with affine",
    inputs: [{ shape: [3, 4, 6] }, { shape: [6] }, { shape: [6] }],
    f: ([x, w, b]) => F.layerNorm(x!, [6], w, b),
  },
  {
    name: "layerNorm over two axes",
    inputs: [{ shape: [2, 3, 4] }],
    f: ([x]) => F.layerNorm(x!, [3, 4]),
  },
  {
    name: "batchNorm (training statistics)",
    inputs: [{ shape: [4, 3, 2, 2] }, { shape: [3] }, { shape: [3] }],
    f: ([x, w, b]) => F.batchNorm(x!, null, null, w, b, { training: true }),
  },
  { name: "gelu (erf)", inputs: [{ shape: [7] }], f: ([x]) => F.gelu(x!.mul(3)) },
  { name: "gelu (tanh)", inputs: [{ shape: [7] }], f: ([x]) => F.gelu(x!.mul(3), "tanh") },
  {
    name: "silu, softplus, logSigmoid",
    inputs: [{ shape: [6] }],
    f: ([x]) =>
      F.silu(x!)
        .add(F.softplus(x!.mul(5)))
        .add(F.logSigmoid(x!)),
  },
  {
    name: "conv2d with groups, dilation, stride and bias",
    inputs: [{ shape: [2, 4, 7, 7] }, { shape: [6, 2, 3, 3] }, { shape: [6] }],
    f: ([x, w, b]) => F.conv2d(x!, w!, b, { stride: 2, padding: 2, dilation: 2, groups: 2 }),
  },
  {
    name: "conv2d same padding",
    inputs: [{ shape: [1, 2, 5, 5] }, { shape: [3, 2, 5, 5] }],
    f: ([x, w]) => F.conv2d(x!, w!, null, { padding: "same" }),
  },
  {
    name: "maxPool2d overlapping 3x3 stride 2",
    inputs: [{ shape: [2, 2, 7, 7] }],
    f: ([x]) => F.maxPool2d(x!, 3, { stride: 2 }),
  },
  {
    name: "maxPool2d padding, dilation",
    inputs: [{ shape: [1, 2, 6, 6] }],
    f: ([x]) => F.maxPool2d(x!, 3, { stride: 2, padding: 1, dilation: 1, ceilMode: true }),
  },
  {
    name: "avgPool2d overlapping",
    inputs: [{ shape: [1, 2, 6, 6] }],
    f: ([x]) => F.avgPool2d(x!, 3, { stride: 2, padding: 1 }),
  },
  {
    name: "avgPool2d without padding in the count",
    inputs: [{ shape: [1, 1, 5, 5] }],
    f: ([x]) => F.avgPool2d(x!, 3, { stride: 2, padding: 1, countIncludePad: false }),
  },
  {
    name: "adaptiveAvgPool2d (non-divisible)",
    inputs: [{ shape: [1, 2, 5, 7] }],
    f: ([x]) => F.adaptiveAvgPool2d(x!, [2, 3]),
  },
  {
    name: "localResponseNorm (AlexNet constants)",
    inputs: [{ shape: [2, 7, 3, 3] }],
    f: ([x]) => F.localResponseNorm(x!.mul(10), 5, 1e-2, 0.75, 2),
  },
  {
    name: "scaledDotProductAttention, causal",
    inputs: [{ shape: [1, 2, 4, 3] }, { shape: [1, 2, 4, 3] }, { shape: [1, 2, 4, 3] }],
    f: ([q, k, v]) => F.scaledDotProductAttention(q!, k!, v!, { isCausal: true }),
  },
  {
    name: "scaledDotProductAttention with a bool mask",
    inputs: [
      { shape: [2, 3, 4] },
      { shape: [2, 5, 4] },
      { shape: [2, 5, 2] },
      { shape: [3, 5], kind: "bool", values: [1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0] },
    ],
    f: ([q, k, v, m]) => F.scaledDotProductAttention(q!, k!, v!, { attnMask: m! }),
  },
  {
    // Without paddingIdx: its zero gradient is deliberately not the derivative (PyTorch fixture covers it).
    name: "embedding with repeated ids",
    inputs: [{ shape: [5, 3] }],
    f: ([w]) => F.embedding(tg.tensor(Int32Array.from([1, 0, 4, 1, 2, 0]), { shape: [2, 3] }), w!),
  },
  {
    name: "linear",
    inputs: [{ shape: [2, 3] }, { shape: [4, 3] }, { shape: [4] }],
    f: ([x, w, b]) => F.linear(x!, w!, b),
  },
  {
    name: "dropout with a fixed generator",
    inputs: [{ shape: [20] }],
    f: ([x]) => F.dropout(x!, 0.3, true, new tg.Generator(5)),
  },
  {
    name: "clamp, minimum, abs",
    inputs: [{ shape: [8] }],
    f: ([x]) => x!.mul(3).clamp(-1, 0.5).add(x!.minimum(0.2)).add(x!.abs()),
  },
  {
    name: "matmul of vectors and broadcast batches",
    inputs: [{ shape: [3] }, { shape: [2, 3, 4] }, { shape: [4] }],
    f: ([a, b, c]) => a!.matmul(b!).matmul(c!),
  },
  {
    name: "flip, repeat, split, cat, stack",
    inputs: [{ shape: [2, 3] }],
    f: ([x]) => tg.stack([...x!.flip([1]).split(1, 0), x!.narrow(0, 1, 1)]).repeat([2, 1, 2]),
  },
  {
    name: "pad (torch.nn.functional.pad order)",
    inputs: [{ shape: [2, 3] }],
    f: ([x]) => x!.pad([1, 2, 0, 1], 0.5),
  },
  {
    name: "where with broadcasting",
    inputs: [{ shape: [3, 1] }, { shape: [4] }],
    f: ([a, b]) => tg.where(a!.gt(0), a!, b!),
  },
];

describe("composite ops (float64 central differences)", () => {
  it.each(specs.map((s) => [s.name, s] as const))("%s", (_n, spec) => {
    const r = gradcheck(spec.name, spec.f, spec.inputs);
    expect(r.checked).toBeGreaterThan(0);
  });
});

describe("dropout", () => {
  // The mask is built in place for speed; it must stay the composition it replaced, value for
  // value, so seeded runs (and their checkpoints) keep their numbers.
  it.each(["float32", "float64"] as const)(
    "%s: equals x · (rand ≥ p) · 1/(1 − p) from the same generator",
    (dtype) => {
      for (const p of [0.1, 0.3, 0.5, 0.9]) {
        // 1028 elements take the JS loop; 5140 the native fill when the addon is there.
        const x = tg.randn([p < 0.4 ? 4 : 20, 257], { dtype, generator: new tg.Generator(1) });
        const y = tg.F.dropout(x, p, true, new tg.Generator(9));
        const u = tg.rand(x.shape, { dtype, generator: new tg.Generator(9) });
        const expected = x.mul(
          u
            .ge(p)
            .to(dtype)
            .mul(1 / (1 - p)),
        );
        expect(y.dtype).toBe(dtype);
        expect(Array.from(y.data)).toEqual(Array.from(expected.data));
        const dropped = Array.from(y.data).filter((v) => v === 0).length / y.data.length;
        expect(Math.abs(dropped - p)).toBeLessThan(0.06);
      }
    },
  );
});
