/** Bad input is rejected before any kernel runs, with the op's name and the offending shapes/values. */
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

const i32 = (v: number[]) => tg.tensor(Int32Array.from(v));

describe("errors name the op and the offending shapes or values", () => {
  it.each([
    [
      "broadcasting",
      () => tg.ones([2, 3]).add(tg.ones([4])),
      /^add: shapes \[2,3\] and \[4\] are not broadcastable$/,
    ],
    [
      "matmul inner dimensions",
      () => tg.ones([2, 3]).matmul(tg.ones([4, 5])),
      /^matmul: inner dimensions differ: \[2,3\] @ \[4,5\]$/,
    ],
    [
      "matmul of ints",
      () => tg.ones([2, 2], { dtype: "int32" }).matmul(tg.ones([2, 2], { dtype: "int32" })),
      /^matmul: expected floating tensors of one dtype, got int32 @ int32$/,
    ],
    [
      "an axis out of range",
      () => tg.ones([2, 3]).sum(2),
      /^sum: axis 2 is out of range for a tensor of rank 2$/,
    ],
    ["a repeated axis", () => tg.ones([2, 3]).sum([1, -1]), /^sum: repeated axis/],
    [
      "a bad reshape",
      () => tg.ones([2, 3]).reshape([4, 2]),
      /^reshape: cannot reshape \[2,3\] \(6 elements\) into \[4,2\]$/,
    ],
    [
      "two -1s in a reshape",
      () => tg.ones([6]).reshape([-1, -1]),
      /^reshape: invalid shape \[-1,-1\]$/,
    ],
    [
      "a bad permutation",
      () => tg.ones([2, 3]).permute([0, 0]),
      /^permute: \[0,0\] is not a permutation$/,
    ],
    [
      "expanding a non-1 axis",
      () => tg.ones([2, 3]).expand([4, 3]),
      /^expand: cannot expand \[2,3\] to \[4,3\]$/,
    ],
    [
      "narrow out of range",
      () => tg.ones([4]).narrow(0, 3, 2),
      /^narrow: range start 3 length 2 is outside axis 0 of size 4$/,
    ],
    [
      "cat with mismatched shapes",
      () => tg.cat([tg.ones([2, 3]), tg.ones([2, 4])], 0),
      /^cat: tensors must match except along axis 0/,
    ],
    [
      "gather index out of range",
      () => tg.ones([2, 3]).gather(1, tg.tensor([[0, 3]], { dtype: "int32" })),
      /^gather: index 3 is out of range for axis 1 of size 3$/,
    ],
    [
      "gather with a float index",
      () => tg.ones([2, 3]).gather(1, tg.ones([2, 1])),
      /^gather: index must be int32, got float32$/,
    ],
    [
      "indexSelect negative index",
      () => tg.ones([3, 2]).indexSelect(0, i32([1, -1])),
      /^gather: index -1 is out of range for axis 0 of size 3$/,
    ],
    [
      "conv2d channel mismatch",
      () => tg.F.conv2d(tg.ones([1, 3, 5, 5]), tg.ones([2, 4, 3, 3])),
      /^conv2d: input \[1,3,5,5\] and weight \[2,4,3,3\] do not fit groups=1/,
    ],
    [
      "conv2d kernel larger than input",
      () => tg.F.conv2d(tg.ones([1, 1, 2, 2]), tg.ones([1, 1, 3, 3])),
      /^conv2d: kernel 3x3 .* is larger than the padded input \[1,1,2,2\]$/,
    ],
    [
      "conv2d non-4-D input",
      () => tg.F.conv2d(tg.ones([3, 5, 5]), tg.ones([1, 3, 3, 3])),
      /^conv2d: expected 4-D input/,
    ],
    [
      "maxPool2d with too much padding",
      () => tg.F.maxPool2d(tg.ones([1, 1, 5, 5]), 2, { padding: 2 }),
      /^maxPool2d: padding \[2,2\] must be at most half the kernel \[2,2\]$/,
    ],
    [
      "crossEntropy target out of range",
      () => tg.F.crossEntropy(tg.ones([2, 3]), i32([0, 3])),
      /^crossEntropy: target 3 is out of range for 3 classes$/,
    ],
    [
      "crossEntropy target shape",
      () => tg.F.crossEntropy(tg.ones([2, 3]), i32([0, 1, 2])),
      /^crossEntropy: target shape \[3\] does not match logits \[2,3\] \(expected \[2\]\)$/,
    ],
    [
      "crossEntropy float class ids",
      () => tg.F.crossEntropy(tg.ones([2, 3]), tg.ones([2])),
      /^crossEntropy: probability targets \[2\] must match logits \[2,3\]$/,
    ],
    [
      "embedding with float ids",
      () => tg.F.embedding(tg.ones([2]), tg.ones([4, 3])),
      /^embedding: ids must be int32, got float32$/,
    ],
    [
      "where with mismatched shapes",
      () => tg.where(tg.ones([2]).gt(0), tg.ones([3]), 0),
      /^where: shapes \[2\] and \[3\] are not broadcastable$/,
    ],
    [
      "log of a bool tensor",
      () => tg.neg(tg.tensor([true])),
      /^neg: not defined for bool tensors$/,
    ],
    [
      "requiresGrad on ints",
      () => tg.ones([2], { dtype: "int32", requiresGrad: true }),
      /^requiresGrad_: only floating tensors can require grad, got int32$/,
    ],
    [
      "layerNorm shape",
      () => tg.F.layerNorm(tg.ones([2, 3]), [4]),
      /^layerNorm: normalized shape \[4\] does not end input shape \[2,3\]$/,
    ],
    [
      // Issue 19: the native kernel read d values from a 1-element weight (a segfault for large d).
      "layerNorm weight shape",
      () => tg.F.layerNorm(tg.ones([2, 8]), [8], tg.ones([1]), tg.zeros([1])),
      /^layerNorm: weight shape \[1\] must equal the normalized shape \[8\]$/,
    ],
    [
      "layerNorm bias shape",
      () => tg.F.layerNorm(tg.ones([1, 8]), [8], null, tg.zeros([2])),
      /^layerNorm: bias shape \[2\] must equal the normalized shape \[8\]$/,
    ],
    [
      "crossEntropy weight",
      () => tg.F.crossEntropy(tg.zeros([2, 3]), i32([0, 1]), { weight: tg.ones([2]) }),
      /^crossEntropy: weight shape \[2\] must be \[3\]: one per class$/,
    ],
    [
      "nllLoss weight",
      () => tg.F.nllLoss(tg.zeros([2, 3]), i32([0, 1]), { weight: tg.ones([2]) }),
      /^nllLoss: weight shape \[2\] must be \[3\]: one per class$/,
    ],
    [
      "batchNorm running statistics",
      () => tg.F.batchNorm(tg.zeros([2, 3]), tg.zeros([2]), tg.ones([2])),
      /^batchNorm: runningMean shape \[2\] must be \[3\]: one per channel$/,
    ],
    [
      "embedding id out of range",
      () => tg.F.embedding(i32([0, 5]), tg.zeros([4, 2])),
      /^embedding: id 5 is out of range for 4 embeddings$/,
    ],
    [
      "linear bias",
      () => tg.F.linear(tg.zeros([2, 3]), tg.zeros([4, 3]), tg.zeros([3])),
      /^linear: bias shape \[3\] must be \[4\]: one per output$/,
    ],
    [
      "argmax of an empty tensor",
      () => tg.zeros([0]).argmax(),
      /^argmax: an empty tensor \[0\] has no maximum$/,
    ],
    [
      "expand with -1 on a new axis",
      () => tg.ones([3]).expand([-1, 3]),
      /^expand: invalid size -1 in \[-1,3\] for \[3\]/,
    ],
    [
      "matmul of float32 and int32",
      () => tg.ones([2, 2]).matmul(tg.ones([2, 2], { dtype: "int32" })),
      /^matmul: expected floating tensors of one dtype, got float32 @ int32$/,
    ],
    [
      "avgPool2d padding over half the kernel",
      () => tg.F.avgPool2d(tg.ones([1, 1, 4, 4]), 2, { padding: 2 }),
      /^avgPool2d: padding \[2,2\] must be at most half the kernel \[2,2\]$/,
    ],
    [
      "dropout probability",
      () => tg.F.dropout(tg.ones([2]), 1.5),
      /^dropout: probability must be in \[0, 1\], got 1.5$/,
    ],
    [
      "lstmLayer weight shapes",
      () =>
        tg.F.lstmLayer(
          tg.ones([3, 2, 4]),
          tg.zeros([2, 5]),
          tg.zeros([2, 5]),
          tg.ones([20, 3]),
          tg.ones([20, 5]),
          null,
          null,
        ),
      /^lstmLayer: shapes do not fit: input \[3,2,4\]/,
    ],
  ] as const)("%s", (_name, f, re) => {
    expect(f).toThrow(tg.TsgradError);
    expect(f).toThrow(re);
  });
});

describe("kernels never turn representable maths into NaN", () => {
  const big = tg.tensor([-1e30, -1000, -80, 0, 80, 1000, 1e30]);

  it("sigmoid, tanh, softplus, logSigmoid saturate instead of overflowing", () => {
    for (const y of [
      big.sigmoid(),
      big.tanh(),
      tg.F.softplus(big),
      tg.F.logSigmoid(big.clamp(-100, 100)),
    ]) {
      expect((y.toArray() as number[]).every(Number.isFinite)).toBe(true);
    }
    expect(big.sigmoid().toArray()).toEqual([0, 0, expect.closeTo(0, 30), 0.5, 1, 1, 1]);
  });

  it("softmax, logSoftmax, logsumexp and crossEntropy handle huge logits", () => {
    const x = tg.tensor([
      [1e30, 0, -1e30],
      [1000, 1000, 1000],
      [-100, -99, -100],
    ]);
    for (const y of [
      x.softmax(1),
      x.logSoftmax(1),
      x.logsumexp(1),
      tg.F.crossEntropy(x, i32([1, 0, 2])),
    ]) {
      expect(Array.from(y.dataSync()).every((v) => !Number.isNaN(v))).toBe(true);
    }
    // Within float32 rounding of 1 (PyTorch's float32 row 3 sums to 1.0000001 as well).
    for (const s of x.softmax(1).sum(1).toArray() as number[]) {
      expect(Math.abs(s - 1)).toBeLessThanOrEqual(2.4e-7);
    }
    expect((x.logSoftmax(1).toArray() as number[][])[2]![1]).toBeCloseTo(
      -Math.log(1 + 2 / Math.E),
      5,
    );
    // Gradients stay finite too.
    const w = x.clone().requiresGrad_();
    tg.F.crossEntropy(w, i32([1, 0, 2])).backward();
    expect((w.grad!.toArray() as number[][]).flat().every(Number.isFinite)).toBe(true);
  });

  it("rows of -inf give -inf logsumexp, not NaN; masked attention rows stay finite", () => {
    expect(
      tg
        .tensor([[-Infinity, -Infinity]])
        .logsumexp(1)
        .toArray(),
    ).toEqual([-Infinity]);
    const q = tg.randn([1, 4, 8]);
    expect(
      (tg.F.scaledDotProductAttention(q, q, q, { isCausal: true }).toArray() as number[][][])
        .flat(2)
        .every(Number.isFinite),
    ).toBe(true);
  });

  it("log(0) is -inf and exp of large numbers is inf, as in IEEE arithmetic", () => {
    expect(tg.tensor([0]).log().toArray()).toEqual([-Infinity]);
    expect(tg.tensor([1000]).exp().toArray()).toEqual([Infinity]);
    expect(tg.tensor([0]).sqrt().toArray()).toEqual([0]);
  });

  it("erf is accurate in the tails (float64)", () => {
    const x = tg.tensor([0.5, 1, 2, 3.5, 6], { dtype: "float64" });
    const ref = [0.5204998778130465, 0.8427007929497149, 0.9953222650189527, 0.9999992569016276, 1];
    (x.erf().toArray() as number[]).forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 14));
  });
});

describe("tg.F rejects what PyTorch rejects (issue 19)", () => {
  it.each([
    [
      "batchNorm in training with one value per channel",
      // torch: "Expected more than 1 value per channel when training, got input size [1, 3]"
      () => tg.F.batchNorm(tg.ones([1, 3]), null, null, null, null, { training: true }),
      /^batchNorm: expected more than 1 value per channel when training, got input \[1,3\]$/,
    ],
    [
      "batchNorm in training of [1, 3, 1, 1]",
      () => tg.F.batchNorm(tg.ones([1, 3, 1, 1]), null, null, null, null, { training: true }),
      /^batchNorm: expected more than 1 value per channel when training, got input \[1,3,1,1\]$/,
    ],
    [
      "conv2d of an empty image in a non-empty batch",
      // torch: "Only zero batch or zero channel inputs are supported, but got input shape: [1, 2, 0, 3]"
      () => tg.F.conv2d(tg.ones([1, 2, 0, 3]), tg.ones([2, 2, 3, 3]), null, { padding: 2 }),
      /^conv2d: input \[1,2,0,3\] has an empty spatial axis \(only the batch or channel axis may be 0\)$/,
    ],
    [
      "maxPool2d of an empty image",
      // torch: "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input"
      () => tg.F.maxPool2d(tg.ones([1, 2, 3, 0]), 2, { padding: 1 }),
      /^maxPool2d: expected a 4-D input \[N,C,H,W\] with C, H and W not 0 \(only N may be\), got \[1,2,3,0\]$/,
    ],
    [
      "avgPool2d of no channels",
      () => tg.F.avgPool2d(tg.ones([1, 0, 3, 3]), 1),
      /^avgPool2d: expected a 4-D input \[N,C,H,W\] with C, H and W not 0 \(only N may be\), got \[1,0,3,3\]$/,
    ],
    [
      "adaptiveAvgPool2d of an empty image",
      // torch: "adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch dimensions"
      () => tg.F.adaptiveAvgPool2d(tg.ones([1, 2, 0, 3]), [1, 2]),
      /^adaptiveAvgPool2d: expected a non-empty height and width, got input \[1,2,0,3\]$/,
    ],
    [
      "crossEntropy with 0 classes and a target not ignored",
      // torch: "Target 0 is out of bounds."
      () => tg.F.crossEntropy(tg.ones([2, 0]), tg.tensor([0, -100], { dtype: "int32" })),
      /^crossEntropy: target 0 is out of range for 0 classes$/,
    ],
  ])("%s", (_name, f, message) => {
    expect(f).toThrow(tg.TsgradError);
    expect(f).toThrow(message);
  });
});
