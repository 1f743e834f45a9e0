/**
 * The op-spec table: test inputs for every primitive. It drives both the float64 gradient checks
 * (`test/ops/gradcheck.test.ts`) and the backend conformance suite
 * (`test/backends/conformance.test.ts`). It is typed `{ [P in Prim]: … }`, so a new primitive
 * without a spec row does not compile.
 */
import type { Prim, PrimParams } from "../src/index.js";
import type { InputSpec } from "./helpers/gradcheck.js";

export interface PrimSpec<P extends Prim> {
  name: string;
  inputs: InputSpec[];
  params: PrimParams[P];
  /** Tolerances for float32 backend conformance (defaults in the suite). */
  atol?: number;
  rtol?: number;
}

const none = {} as Record<string, never>;
type NoParams = { [P in Prim]: PrimParams[P] extends Record<string, never> ? P : never }[Prim];
const unary = <P extends NoParams>(kind: InputSpec["kind"] = "float"): PrimSpec<P>[] => [
  { name: "3x4", inputs: [{ shape: [3, 4], kind }], params: none },
  { name: "transposed view", inputs: [{ shape: [4, 3], kind, view: (t) => t.t() }], params: none },
  { name: "scalar", inputs: [{ shape: [], kind }], params: none },
];
const binary = <P extends NoParams>(
  a: InputSpec["kind"] = "float",
  b: InputSpec["kind"] = "float",
): PrimSpec<P>[] => [
  {
    name: "same shape",
    inputs: [
      { shape: [3, 4], kind: a },
      { shape: [3, 4], kind: b },
    ],
    params: none,
  },
  {
    name: "broadcast row and column",
    inputs: [
      { shape: [3, 1], kind: a, view: (t) => t.expand([3, 4]) },
      { shape: [4], kind: b, view: (t) => t.expand([3, 4]) },
    ],
    params: none,
  },
  {
    name: "permuted operand",
    inputs: [
      { shape: [2, 3, 4], kind: a, view: (t) => t.permute([2, 0, 1]) },
      { shape: [4, 2, 3], kind: b },
    ],
    params: none,
  },
];
const conv = (stride: number, padding: number, dilation: number, groups: number) => ({
  stride: [stride, stride] as [number, number],
  padding: [padding, padding] as [number, number],
  dilation: [dilation, dilation] as [number, number],
  groups,
});

/** Max-pool window parameters (square kernel, stride and padding; no dilation). */
const pool = (kernel: number, stride: number, padding: number, ceilMode = false) => ({
  kernel: [kernel, kernel] as [number, number],
  stride: [stride, stride] as [number, number],
  padding: [padding, padding] as [number, number],
  dilation: [1, 1] as [number, number],
  ceilMode,
});

export const primSpecs: { [P in Prim]: PrimSpec<P>[] } = {
  neg: unary(),
  exp: unary(),
  log: unary("positive"),
  sqrt: unary("positive"),
  tanh: unary(),
  sigmoid: unary(),
  relu: unary("away0"),
  abs: unary("away0"),
  sin: unary(),
  cos: unary(),
  erf: [
    ...unary<"erf">(),
    {
      name: "tails",
      inputs: [{ shape: [6], values: [-4, -2.9, -0.3, 0.7, 3.1, 5.5] }],
      params: none,
    },
  ],
  log1p: [
    ...unary<"log1p">("positive"),
    {
      name: "tiny and near -1",
      inputs: [{ shape: [5], values: [-0.9, -1e-9, 3e-10, 0.5, 40] }],
      params: none,
    },
  ],
  expm1: [
    ...unary<"expm1">(),
    { name: "tiny", inputs: [{ shape: [4], values: [-1e-9, 2e-10, -3, 5] }], params: none },
  ],
  // Values stay clear of the jumps, where finite differences are meaningless; ties and halves are
  // tested against PyTorch in test/ops/more-ops.test.ts.
  round: (["floor", "ceil", "round", "trunc"] as const).map((mode) => ({
    name: mode,
    inputs: [{ shape: [2, 4], values: [-2.7, -1.2, -0.4, 0.3, 1.6, 2.2, -0.7, 3.9] }],
    params: { mode },
  })),
  add: binary(),
  sub: binary(),
  mul: binary(),
  div: binary("float", "positive"),
  pow: binary("positive", "float"),
  maximum: binary(),
  cmp: (["eq", "ne", "lt", "le", "gt", "ge"] as const).map((op) => ({
    name: op,
    inputs: [
      { shape: [6], values: [1, 2, 3, -1, 0, 5] },
      { shape: [6], values: [1, 3, 2, -1, 1, 5] },
    ],
    params: { op },
  })),
  where: [
    {
      name: "bool mask",
      inputs: [{ shape: [3, 4], kind: "bool" }, { shape: [3, 4] }, { shape: [3, 4] }],
      params: none,
    },
    {
      name: "broadcast mask",
      inputs: [
        { shape: [4], kind: "bool", view: (t) => t.expand([3, 4]) },
        { shape: [3, 4] },
        { shape: [3, 1], view: (t) => t.expand([3, 4]) },
      ],
      params: none,
    },
  ],
  cast: [
    {
      name: "copy of a transposed view",
      inputs: [{ shape: [3, 4], view: (t) => t.t() }],
      params: { dtype: "float64" },
    },
    { name: "to float32", inputs: [{ shape: [5] }], params: { dtype: "float32" } },
    {
      name: "to int32 truncates",
      inputs: [{ shape: [4], values: [-1.7, -0.2, 0.9, 2.5] }],
      params: { dtype: "int32" },
    },
    { name: "to bool", inputs: [{ shape: [3], values: [0, 0.5, -2] }], params: { dtype: "bool" } },
  ],
  sum: [
    { name: "one axis keepdim", inputs: [{ shape: [3, 4] }], params: { axes: [1], keepdim: true } },
    {
      name: "outer and inner axes",
      inputs: [{ shape: [2, 3, 4] }],
      params: { axes: [0, 2], keepdim: false },
    },
    { name: "all axes", inputs: [{ shape: [2, 3] }], params: { axes: [0, 1], keepdim: false } },
    { name: "no axes", inputs: [{ shape: [2, 3] }], params: { axes: [], keepdim: false } },
    {
      name: "strided input",
      inputs: [{ shape: [4, 3], view: (t) => t.t() }],
      params: { axes: [0], keepdim: false },
    },
  ],
  max: [
    { name: "one axis", inputs: [{ shape: [3, 5] }], params: { axes: [1], keepdim: false } },
    {
      name: "two axes keepdim",
      inputs: [{ shape: [2, 3, 4] }],
      params: { axes: [0, 2], keepdim: true },
    },
    { name: "all axes", inputs: [{ shape: [4, 3] }], params: { axes: [0, 1], keepdim: false } },
  ],
  argmax: [
    { name: "axis 1", inputs: [{ shape: [3, 5] }], params: { axis: 1, keepdim: false } },
    {
      name: "axis 0 keepdim, ties pick the first",
      inputs: [{ shape: [3, 2], values: [1, 4, 3, 4, 3, 2] }],
      params: { axis: 0, keepdim: true },
    },
  ],
  cumsum: [
    { name: "axis 1", inputs: [{ shape: [3, 4] }], params: { axis: 1, reverse: false } },
    { name: "axis 0 reversed", inputs: [{ shape: [3, 4] }], params: { axis: 0, reverse: true } },
    {
      name: "middle axis of a permuted view",
      inputs: [{ shape: [4, 2, 3], view: (t) => t.permute([1, 2, 0]) }],
      params: { axis: 1, reverse: false },
    },
    { name: "single element", inputs: [{ shape: [1] }], params: { axis: 0, reverse: true } },
  ],
  argsort: [
    { name: "axis 1", inputs: [{ shape: [3, 5] }], params: { axis: 1, descending: false } },
    {
      name: "ties and NaN, descending, axis 0",
      inputs: [{ shape: [5, 2], values: [1, 2, NaN, 2, 1, 0, 3, NaN, 1, 2] }],
      params: { axis: 0, descending: true },
    },
    {
      name: "transposed view",
      inputs: [{ shape: [4, 3], view: (t) => t.t() }],
      params: { axis: 1, descending: false },
    },
  ],
  reshape: [
    { name: "contiguous (view)", inputs: [{ shape: [2, 3, 4] }], params: { shape: [6, 4] } },
    {
      name: "transposed (copy)",
      inputs: [{ shape: [3, 4], view: (t) => t.t() }],
      params: { shape: [12] },
    },
  ],
  permute: [{ name: "3-D", inputs: [{ shape: [2, 3, 4] }], params: { perm: [2, 0, 1] } }],
  expand: [
    { name: "new and size-1 axes", inputs: [{ shape: [3, 1] }], params: { shape: [2, 3, 4] } },
  ],
  slice: [
    { name: "2-D box", inputs: [{ shape: [4, 5] }], params: { starts: [1, 2], ends: [3, 5] } },
  ],
  pad: [
    {
      name: "zeros",
      inputs: [{ shape: [2, 3] }],
      params: {
        pads: [
          [1, 0],
          [2, 1],
        ],
        value: 0,
      },
    },
    {
      name: "constant of a view",
      inputs: [{ shape: [3, 2], view: (t) => t.t() }],
      params: {
        pads: [
          [0, 1],
          [1, 1],
        ],
        value: -2,
      },
    },
  ],
  concat: [
    { name: "axis 1", inputs: [{ shape: [2, 3] }, { shape: [2, 2] }], params: { axis: 1 } },
    {
      name: "axis 0 three inputs",
      inputs: [
        { shape: [1, 3] },
        { shape: [2, 3], view: (t) => t.mul(1) },
        { shape: [3, 2], view: (t) => t.t() },
      ],
      params: { axis: 0 },
    },
  ],
  matmul: [
    { name: "2-D", inputs: [{ shape: [3, 4] }, { shape: [4, 5] }], params: none },
    { name: "batched", inputs: [{ shape: [2, 3, 4] }, { shape: [2, 4, 5] }], params: none },
    {
      name: "transposed operands",
      inputs: [
        { shape: [4, 3], view: (t) => t.t() },
        { shape: [5, 4], view: (t) => t.t() },
      ],
      params: none,
    },
    {
      name: "broadcast batch",
      inputs: [{ shape: [3, 4], view: (t) => t.expand([2, 3, 4]) }, { shape: [2, 4, 2] }],
      params: none,
    },
    { name: "1x1", inputs: [{ shape: [1, 1] }, { shape: [1, 1] }], params: none },
  ],
  conv2d: [
    {
      name: "3x3 pad 1",
      inputs: [{ shape: [2, 3, 5, 5] }, { shape: [4, 3, 3, 3] }],
      params: conv(1, 1, 1, 1),
    },
    {
      name: "stride 2, groups 2",
      inputs: [{ shape: [1, 4, 6, 5] }, { shape: [6, 2, 3, 3] }],
      params: conv(2, 1, 1, 2),
    },
    {
      name: "dilation 2",
      inputs: [{ shape: [1, 2, 7, 7] }, { shape: [2, 2, 3, 3] }],
      params: conv(1, 0, 2, 1),
    },
    {
      name: "1x1 depthwise",
      inputs: [{ shape: [2, 3, 2, 2] }, { shape: [3, 1, 1, 1] }],
      params: conv(1, 0, 1, 3),
    },
  ],
  conv2dBackwardInput: [
    {
      name: "3x3 pad 1",
      inputs: [{ shape: [2, 4, 5, 5] }, { shape: [4, 3, 3, 3] }],
      params: { ...conv(1, 1, 1, 1), inputShape: [2, 3, 5, 5] },
    },
    {
      name: "stride 2, groups 2",
      inputs: [{ shape: [1, 6, 3, 3] }, { shape: [6, 2, 3, 3] }],
      params: { ...conv(2, 1, 1, 2), inputShape: [1, 4, 6, 5] },
    },
  ],
  conv2dBackwardWeight: [
    {
      name: "3x3 pad 1",
      inputs: [{ shape: [2, 3, 5, 5] }, { shape: [2, 4, 5, 5] }],
      params: { ...conv(1, 1, 1, 1), weightShape: [4, 3, 3, 3] },
    },
    {
      name: "dilation 2",
      inputs: [{ shape: [1, 2, 7, 7] }, { shape: [1, 2, 3, 3] }],
      params: { ...conv(1, 0, 2, 1), weightShape: [2, 2, 3, 3] },
    },
  ],
  maxPool2dIndices: [
    {
      name: "overlapping 3x3 stride 2",
      inputs: [{ shape: [2, 3, 7, 7] }],
      params: pool(3, 2, 0),
    },
    {
      // The 2×2 stride-2 fast path, with many ties (the first maximum of a window wins).
      name: "2x2 stride 2 with ties",
      inputs: [
        { shape: [2, 3, 6, 8], values: Array.from({ length: 288 }, (_, i) => ((i * 37) % 11) % 2) },
      ],
      params: pool(2, 2, 0),
    },
    {
      name: "padding and ceil mode",
      inputs: [{ shape: [1, 2, 6, 6] }],
      params: pool(3, 2, 1, true),
    },
    {
      // The 3×3 stride-2 fast path (AlexNet's pool at 28×28) with ties across rows and columns:
      // the first maximum in row-major order wins.
      name: "3x3 stride 2 with ties, 28x28",
      inputs: [
        {
          shape: [1, 2, 28, 28],
          values: Array.from({ length: 1568 }, (_, i) => ((i * 37) % 13) % 3),
        },
      ],
      params: pool(3, 2, 0),
    },
    {
      // Padded: the fast path takes the interior windows (9 columns here; it needs 4), the
      // general loop the border ones.
      name: "3x3 stride 2 padded with ties, odd sizes",
      inputs: [
        { shape: [2, 2, 9, 21], values: Array.from({ length: 756 }, (_, i) => ((i * 29) % 7) % 2) },
      ],
      params: pool(3, 2, 1),
    },
  ],
  gather: [
    {
      name: "axis 1",
      inputs: [{ shape: [3, 4] }, { shape: [3, 2], kind: "index", high: 4 }],
      params: { axis: 1 },
    },
    {
      name: "axis 0 with repeats",
      inputs: [{ shape: [3, 2] }, { shape: [4, 2], kind: "index", high: 3 }],
      params: { axis: 0 },
    },
  ],
  scatterAdd: [
    {
      name: "axis 1",
      inputs: [{ shape: [3, 2] }, { shape: [3, 2], kind: "index", high: 4 }],
      params: { axis: 1, shape: [3, 4] },
    },
    {
      name: "axis 0 with collisions",
      inputs: [{ shape: [5, 2] }, { shape: [5, 2], kind: "index", high: 2 }],
      params: { axis: 0, shape: [2, 2] },
    },
  ],
};
