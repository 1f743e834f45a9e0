/**
 * Inputs for the fused-kernel conformance checks: each row calls a composite op that routes
 * through `fused()`, so on a backend with the fused kernel it runs that kernel, and on `js` it
 * runs the composition (the reference).
 */
import * as tg from "../../src/index.js";
import type { InputSpec } from "../helpers/gradcheck.js";

export interface FusedSpec {
  name: string;
  /** The fused-op name the call dispatches to. */
  fused: string;
  inputs: InputSpec[];
  f: (xs: tg.Tensor[]) => tg.Tensor;
  atol?: number;
  rtol?: number;
  /** The backend is expected to decline this case (the composition runs on it too). */
  declines?: boolean;
}

const F = tg.F;

/** Flatten several outputs into one tensor so values and gradients of all of them are compared. */
const joined = (ts: tg.Tensor[]) => tg.cat(ts.map((t) => t.reshape([-1])));

export const fusedSpecs: FusedSpec[] = [
  {
    name: "softmax, last axis",
    fused: "softmax",
    inputs: [{ shape: [4, 7] }],
    f: ([x]) => x!.softmax(1),
  },
  {
    name: "softmax, middle axis of a transposed view",
    fused: "softmax",
    inputs: [{ shape: [3, 5, 4], view: (t) => t.transpose(0, 2) }],
    f: ([x]) => x!.softmax(1),
  },
  {
    name: "logSoftmax, large logits",
    fused: "logSoftmax",
    inputs: [{ shape: [3, 6], view: (t) => t.mul(40) }],
    f: ([x]) => x!.logSoftmax(-1),
  },
  {
    name: "crossEntropy (logSoftmax inside)",
    fused: "logSoftmax",
    inputs: [{ shape: [5, 10] }],
    f: ([x]) => F.crossEntropy(x!, tg.tensor(Int32Array.from([1, 0, 9, 3, 3]))),
  },
  {
    name: "layerNorm with weight and bias",
    fused: "layerNorm",
    inputs: [{ shape: [4, 6] }, { shape: [6] }, { shape: [6] }],
    f: ([x, w, b]) => F.layerNorm(x!, [6], w, b),
  },
  {
    name: "layerNorm over two axes, no affine",
    fused: "layerNorm",
    inputs: [{ shape: [2, 3, 4, 5] }],
    f: ([x]) => F.layerNorm(x!, [4, 5]),
  },
  {
    name: "layerNorm with weight only",
    fused: "layerNorm",
    inputs: [{ shape: [3, 8] }, { shape: [8] }],
    f: ([x, w]) => F.layerNorm(x!, [8], w, null, 1e-3),
  },
  {
    name: "localResponseNorm (AlexNet constants)",
    fused: "localResponseNorm",
    inputs: [{ shape: [2, 7, 3, 3] }],
    f: ([x]) => F.localResponseNorm(x!, 5, 1e-4, 0.75, 2),
  },
  {
    name: "localResponseNorm, strong normalisation",
    fused: "localResponseNorm",
    inputs: [{ shape: [1, 6, 2, 5] }],
    f: ([x]) => F.localResponseNorm(x!, 3, 0.5, 0.75, 1),
  },
  {
    name: "localResponseNorm, even window and another β, 3-D input",
    fused: "localResponseNorm",
    inputs: [{ shape: [2, 9, 4] }],
    f: ([x]) => F.localResponseNorm(x!, 4, 0.3, 0.5, 1.5),
  },
  {
    name: "relu of a transposed view, cotangent through a product",
    fused: "relu",
    inputs: [{ shape: [5, 7], view: (t) => t.transpose(0, 1) }],
    f: ([x]) => x!.relu().mul(x!),
  },
  {
    name: "relu declines float64",
    fused: "relu",
    inputs: [{ shape: [3, 4], view: (t) => t.to("float64") }],
    f: ([x]) => x!.relu(),
    declines: true,
  },
  {
    name: "conv2dBias, 3x3 same",
    fused: "conv2dBias",
    inputs: [{ shape: [2, 3, 6, 5] }, { shape: [4, 3, 3, 3] }, { shape: [4] }],
    f: ([x, w, b]) => F.conv2d(x!, w!, b, { padding: 1 }),
    atol: 1e-4,
  },
  {
    name: "conv2dBias, strided, dilated, grouped, on a transposed view",
    fused: "conv2dBias",
    inputs: [
      { shape: [2, 4, 9, 7], view: (t) => t.transpose(2, 3) },
      { shape: [6, 2, 3, 2] },
      { shape: [6] },
    ],
    f: ([x, w, b]) => F.conv2d(x!, w!, b, { stride: [2, 1], dilation: [1, 2], groups: 2 }),
    atol: 1e-4,
  },
  {
    name: "conv2dBias, bias a view at an offset",
    fused: "conv2dBias",
    inputs: [
      { shape: [1, 2, 4, 4] },
      { shape: [3, 2, 1, 1] },
      { shape: [5], view: (t) => t.narrow(0, 2, 3) },
    ],
    f: ([x, w, b]) => F.conv2d(x!, w!, b),
  },
  {
    name: "conv2dBias declines a strided bias view",
    fused: "conv2dBias",
    inputs: [
      { shape: [1, 2, 4, 4] },
      { shape: [3, 2, 1, 1] },
      { shape: [3, 2], view: (t) => t.narrow(1, 0, 1).squeeze(1) },
    ],
    f: ([x, w, b]) => F.conv2d(x!, w!, b),
    declines: true,
  },
  {
    name: "gelu (erf)",
    fused: "gelu",
    inputs: [{ shape: [5, 9], view: (t) => t.mul(3) }],
    f: ([x]) => F.gelu(x!),
  },
  {
    name: "gelu (tanh)",
    fused: "gelu",
    inputs: [{ shape: [4, 6], view: (t) => t.mul(3) }],
    f: ([x]) => F.gelu(x!, "tanh"),
  },
  {
    name: "lstmLayer with both biases",
    fused: "lstmLayer",
    inputs: [
      { shape: [5, 3, 4] },
      { shape: [3, 6] },
      { shape: [3, 6] },
      { shape: [24, 4] },
      { shape: [24, 6] },
      { shape: [24] },
      { shape: [24] },
    ],
    f: ([x, h, c, wi, wh, bi, bh]) => joined(F.lstmLayer(x!, h!, c!, wi!, wh!, bi!, bh!)),
  },
  {
    name: "lstmLayer reversed, no biases",
    fused: "lstmLayer",
    inputs: [
      { shape: [4, 2, 3] },
      { shape: [2, 5] },
      { shape: [2, 5] },
      { shape: [20, 3] },
      { shape: [20, 5] },
    ],
    f: ([x, h, c, wi, wh]) =>
      joined(F.lstmLayer(x!, h!, c!, wi!, wh!, null, null, { reverse: true })),
  },
  {
    name: "lstmLayer with lengths (declined: the composition runs)",
    fused: "lstmLayer",
    inputs: [
      { shape: [3, 2, 3] },
      { shape: [2, 4] },
      { shape: [2, 4] },
      { shape: [16, 3] },
      { shape: [16, 4] },
    ],
    f: ([x, h, c, wi, wh]) =>
      joined(F.lstmLayer(x!, h!, c!, wi!, wh!, null, null, { lengths: [3, 1] })),
    declines: true,
  },
  {
    name: "lstmLayer reversed, lengths all full (masks dropped: the fused kernel runs)",
    fused: "lstmLayer",
    inputs: [
      { shape: [3, 2, 3] },
      { shape: [2, 4] },
      { shape: [2, 4] },
      { shape: [16, 3] },
      { shape: [16, 4] },
    ],
    f: ([x, h, c, wi, wh]) =>
      joined(F.lstmLayer(x!, h!, c!, wi!, wh!, null, null, { lengths: [3, 3], reverse: true })),
  },
  // Shapes the wasm kernels take other paths for: long rows (eight lanes at a time and a tail),
  // columns of a [len, inner] block (four-lane chunks and leftover columns), masked entries, a
  // batch of LSTM gates four lanes wide.
  {
    name: "softmax over a wide row (1003 classes)",
    fused: "softmax",
    inputs: [{ shape: [2, 1003], view: (t) => t.mul(4) }],
    f: ([x]) => x!.softmax(1),
  },
  {
    name: "logSoftmax along the first axis (columns of 10)",
    fused: "logSoftmax",
    inputs: [{ shape: [7, 10] }],
    f: ([x]) => x!.logSoftmax(0),
  },
  {
    name: "softmax with -inf (masked) entries",
    fused: "softmax",
    inputs: [{ shape: [3, 5] }],
    f: ([x]) =>
      x!
        .add(
          tg.tensor([0, -Infinity, 0, 0, -Infinity, 0, 0, 0, 0, 0, -Infinity, 0, 0, 0, 0], {
            shape: [3, 5],
          }),
        )
        .softmax(1),
  },
  {
    name: "layerNorm over a row of 37 with weight and bias",
    fused: "layerNorm",
    inputs: [{ shape: [3, 37] }, { shape: [37] }, { shape: [37] }],
    f: ([x, w, b]) => F.layerNorm(x!, [37], w, b),
  },
  {
    name: "gelu (tanh) of a transposed view",
    fused: "gelu",
    inputs: [{ shape: [6, 7], view: (t) => t.mul(3).transpose(0, 1) }],
    f: ([x]) => F.gelu(x!, "tanh"),
  },
  {
    name: "lstmLayer, batch 8 and hidden 12, input bias only",
    fused: "lstmLayer",
    inputs: [
      { shape: [3, 8, 5] },
      { shape: [8, 12] },
      { shape: [8, 12] },
      { shape: [48, 5] },
      { shape: [48, 12] },
      { shape: [48] },
    ],
    f: ([x, h, c, wi, wh, bi]) => joined(F.lstmLayer(x!, h!, c!, wi!, wh!, bi!, null)),
  },
  {
    name: "gruLayer with both biases",
    fused: "gruLayer",
    inputs: [
      { shape: [5, 3, 4] },
      { shape: [3, 6] },
      { shape: [18, 4] },
      { shape: [18, 6] },
      { shape: [18] },
      { shape: [18] },
    ],
    f: ([x, h, wi, wh, bi, bh]) => joined(F.gruLayer(x!, h!, wi!, wh!, bi!, bh!)),
  },
  {
    name: "gruLayer reversed, batch 8, hidden bias only",
    fused: "gruLayer",
    inputs: [
      { shape: [3, 8, 5] },
      { shape: [8, 12] },
      { shape: [36, 5] },
      { shape: [36, 12] },
      { shape: [36] },
    ],
    f: ([x, h, wi, wh, bh]) => joined(F.gruLayer(x!, h!, wi!, wh!, null, bh!, { reverse: true })),
  },
  {
    name: "gruLayer with lengths (declined: the composition runs)",
    fused: "gruLayer",
    inputs: [{ shape: [3, 2, 3] }, { shape: [2, 4] }, { shape: [12, 3] }, { shape: [12, 4] }],
    f: ([x, h, wi, wh]) => joined(F.gruLayer(x!, h!, wi!, wh!, null, null, { lengths: [2, 3] })),
    declines: true,
  },
];
