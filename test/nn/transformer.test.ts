/**
 * tg.nn.MultiheadAttention, TransformerEncoderLayer and TransformerEncoder against torch.nn 1.13:
 * state-dict names and order, outputs, attention weights and gradients from
 * test/nn/fixtures/transformer.json (regenerate with `/usr/bin/python3 test/nn/transformer_fixture.py`),
 * plus masks, layouts, dropout, initialisation and errors. When Debian's python3-torch is
 * installed, a tsgrad encoder's weights are also loaded strictly into torch.nn live.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { expectClose } from "../helpers/allclose.js";

const nn = tg.nn;

interface Enc {
  shape: number[];
  dtype: "bool" | "float";
  /** Additive masks store −∞ as null (JSON has no infinity). */
  data: (number | null)[];
}
interface Case {
  name: string;
  kind: "mha" | "layer" | "encoder";
  config: Record<string, number | boolean | string>;
  train: boolean;
  selfAttention: boolean;
  call: { isCausal?: boolean; averageAttnWeights?: boolean };
  state: { name: string; shape: number[]; data: number[] }[];
  inputs: Record<string, Enc>;
  masks: { attnMask?: Enc; keyPaddingMask?: Enc };
  output: Enc;
  weights: Enc | null;
  wOut: number[];
  wWeights: number[] | null;
  grads: Record<string, number[]>;
}

const fixture = JSON.parse(
  readFileSync(new URL("fixtures/transformer.json", import.meta.url), "utf8"),
) as { version: number; torch: string; cases: Case[] };

const decode = (e: Enc): tg.Tensor => {
  const t = tg.tensor(
    Float32Array.from(e.data, (v) => v ?? -Infinity),
    { shape: e.shape },
  );
  return e.dtype === "bool" ? t.gt(0) : t;
};

type Run = (
  inputs: Record<string, tg.Tensor>,
  masks: Case["masks"],
) => [tg.Tensor, tg.Tensor | null];

/** Build the tsgrad module of a fixture case and a function running it as the case did. */
function build(c: Case): [tg.nn.Module, Run] {
  const masksOf = (m: Record<string, tg.Tensor | undefined>) => ({
    attnMask: c.call.isCausal ? null : (m.attnMask ?? null),
    keyPaddingMask: m.keyPaddingMask ?? null,
  });
  const decoded = (masks: Case["masks"]) => ({
    attnMask: masks.attnMask && decode(masks.attnMask),
    keyPaddingMask: masks.keyPaddingMask && decode(masks.keyPaddingMask),
  });
  if (c.kind === "mha") {
    const { embedDim, numHeads, ...opts } = c.config as unknown as {
      embedDim: number;
      numHeads: number;
    } & tg.nn.MultiheadAttentionOptions;
    const m = new nn.MultiheadAttention(embedDim, numHeads, opts);
    return [
      m,
      (x, masks) => {
        const q = x.query!;
        const k = x.key ?? q;
        const v = x.value ?? k;
        const { output, weights } = m.forward(q, k, v, {
          ...masksOf(decoded(masks)),
          isCausal: c.call.isCausal ?? false,
          averageAttnWeights: c.call.averageAttnWeights ?? true,
        });
        return [output, weights];
      },
    ];
  }
  const { dModel, nhead, numLayers, norm, ...opts } = c.config as unknown as {
    dModel: number;
    nhead: number;
    numLayers?: number;
    norm?: boolean;
  } & tg.nn.TransformerEncoderLayerOptions;
  const layer = new nn.TransformerEncoderLayer(dModel, nhead, opts);
  if (c.kind === "layer") {
    return [
      layer,
      (x, masks) => {
        const { attnMask, keyPaddingMask } = masksOf(decoded(masks));
        const y = layer.forward(x.src!, {
          srcMask: attnMask,
          srcKeyPaddingMask: keyPaddingMask,
          isCausal: c.call.isCausal ?? false,
        });
        return [y, null];
      },
    ];
  }
  const enc = new nn.TransformerEncoder(layer, numLayers!, norm ? new nn.LayerNorm(dModel) : null);
  return [
    enc,
    (x, masks) => {
      const { attnMask, keyPaddingMask } = masksOf(decoded(masks));
      const y = enc.forward(x.src!, {
        mask: attnMask,
        srcKeyPaddingMask: keyPaddingMask,
        isCausal: c.call.isCausal ?? false,
      });
      return [y, null];
    },
  ];
}

// float32 against torch's float64: values are O(1), gradients O(10).
const TOL = { atol: 2e-5, rtol: 1e-4 };

describe("tg.nn transformer modules against torch.nn 1.13 (float64 fixtures)", () => {
  it("has fixtures of every module kind", () => {
    expect(fixture.version).toBe(1);
    expect(new Set(fixture.cases.map((c) => c.kind))).toEqual(new Set(["mha", "layer", "encoder"]));
  });

  it.each(fixture.cases.map((c) => [c.name, c] as const))(
    "%s: state-dict names, outputs, weights and gradients match",
    (_name, c) => {
      const [module, run] = build(c);
      expect(Object.keys(module.stateDict())).toEqual(c.state.map((s) => s.name));
      module.loadStateDict(
        Object.fromEntries(
          c.state.map((s) => [s.name, tg.tensor(Float64Array.from(s.data), { shape: s.shape })]),
        ),
      );
      module.train(c.train);
      const inputs = Object.fromEntries(
        Object.entries(c.inputs).map(([k, e]) => [k, decode(e).requiresGrad_()]),
      );
      // torch's self-attention gets one tensor for query, key and value (the packed projection).
      if (c.selfAttention) expect(Object.keys(inputs)).toEqual(["query"]);
      const [y, w] = run(inputs, c.masks);
      expectClose(y, decode(c.output), { ...TOL, label: `${c.name} output` });
      let loss = y.mul(tg.tensor(Float32Array.from(c.wOut), { shape: y.shape })).sum();
      if (c.weights) {
        expect(w).not.toBeNull();
        expectClose(w!, decode(c.weights), { ...TOL, label: `${c.name} weights` });
        loss = loss.add(
          w!.mul(tg.tensor(Float32Array.from(c.wWeights!), { shape: w!.shape })).sum(),
        );
      } else if (c.kind === "mha") expect(w).toBeNull();
      loss.backward();
      for (const [k, x] of Object.entries(inputs)) {
        expectClose(x.grad!, Float64Array.from(c.grads[`input.${k}`]!), {
          ...TOL,
          label: `${c.name} d/d${k}`,
        });
      }
      const params = module.namedParameters();
      expect(params.map(([k]) => `param.${k}`)).toEqual(
        Object.keys(c.grads).filter((k) => k.startsWith("param.")),
      );
      for (const [k, p] of params) {
        expectClose(p.grad!, Float64Array.from(c.grads[`param.${k}`]!), {
          ...TOL,
          label: `${c.name} d/d${k}`,
        });
      }
    },
  );
});

describe("tg.nn.MultiheadAttention", () => {
  it("initialises as torch: Xavier-uniform projections, zero biases, kaiming out_proj weight", () => {
    tg.manualSeed(3);
    const E = 16;
    const m = new nn.MultiheadAttention(E, 4);
    const w = m.in_proj_weight!;
    expect(w.shape).toEqual([3 * E, E]);
    // xavier_uniform_ on [3E, E]: bound √(6 / (E + 3E)); 768 draws come within 5% of it.
    const bound = Math.sqrt(6 / (4 * E));
    expect(w.abs().max().item()).toBeLessThanOrEqual(bound);
    expect(w.abs().max().item()).toBeGreaterThan(0.95 * bound);
    expect(m.in_proj_bias!.abs().max().item()).toBe(0);
    expect(m.out_proj.bias!.abs().max().item()).toBe(0);
    // nn.Linear's kaiming_uniform(a=√5): bound 1/√E.
    expect(m.out_proj.weight.abs().max().item()).toBeLessThanOrEqual(1 / Math.sqrt(E));

    const sep = new nn.MultiheadAttention(E, 4, { kdim: 6, vdim: 10, bias: false });
    expect(sep.in_proj_weight).toBeNull();
    expect(sep.packed).toBe(false);
    expect([sep.q_proj_weight!.shape, sep.k_proj_weight!.shape, sep.v_proj_weight!.shape]).toEqual([
      [E, E],
      [E, 6],
      [E, 10],
    ]);
    expect(sep.k_proj_weight!.abs().max().item()).toBeLessThanOrEqual(Math.sqrt(6 / (E + 6)));
    expect(Object.keys(sep.stateDict())).toEqual([
      "q_proj_weight",
      "k_proj_weight",
      "v_proj_weight",
      "out_proj.weight",
    ]);
  });

  it("gives the same result in both layouts, batched or not, with or without weights", () => {
    tg.manualSeed(11);
    const seqFirst = new nn.MultiheadAttention(8, 2);
    const batchFirst = new nn.MultiheadAttention(8, 2, { batchFirst: true });
    batchFirst.loadStateDict(seqFirst.stateDict());
    const q = tg.randn([2, 3, 8]); // [N, L, E]
    const kv = tg.randn([2, 4, 8]);
    const pad = tg
      .tensor([
        [0, 0, 1, 0],
        [0, 0, 0, 0],
      ])
      .gt(0);
    const a = batchFirst.forward(q, kv, kv, { keyPaddingMask: pad });
    const b = seqFirst.forward(q.transpose(0, 1), kv.transpose(0, 1), kv.transpose(0, 1), {
      keyPaddingMask: pad,
    });
    expectClose(a.output, b.output.transpose(0, 1));
    expectClose(a.weights!, b.weights!);
    // Unbatched input is batch element 0 (batchFirst does not apply to it, as in torch).
    const one = batchFirst.forward(
      q.narrow(0, 0, 1).squeeze(0),
      kv.narrow(0, 0, 1).squeeze(0),
      kv.narrow(0, 0, 1).squeeze(0),
      {
        keyPaddingMask: pad.narrow(0, 0, 1).squeeze(0),
      },
    );
    expectClose(one.output, a.output.narrow(0, 0, 1).squeeze(0), { atol: 1e-6 });
    expectClose(one.weights!, a.weights!.narrow(0, 0, 1).squeeze(0), { atol: 1e-6 });
    const noW = batchFirst.forward(q, kv, kv, { keyPaddingMask: pad, needWeights: false });
    expect(noW.weights).toBeNull();
    expectClose(noW.output, a.output);
    // Per-head weights average to the default ones, and each head's rows sum to 1.
    const perHead = batchFirst.forward(q, kv, kv, { averageAttnWeights: false }).weights!;
    expect(perHead.shape).toEqual([2, 2, 3, 4]);
    expectClose(perHead.mean(1), batchFirst.forward(q, kv, kv).weights!, { atol: 1e-6 });
    expectClose(perHead.sum(-1), tg.ones([2, 2, 3]), { atol: 1e-6 });
  });

  it("masks keys: padded keys and future positions get exactly zero weight", () => {
    tg.manualSeed(12);
    const m = new nn.MultiheadAttention(4, 1, { batchFirst: true });
    const x = tg.randn([2, 4, 4]);
    const pad = tg
      .tensor([
        [0, 0, 0, 1],
        [0, 1, 0, 0],
      ])
      .gt(0);
    const w = m
      .forward(x, x, x, { keyPaddingMask: pad, isCausal: true })
      .weights!.toArray() as number[][][];
    for (let n = 0; n < 2; n++) {
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 4; j++) {
          if (j > i || (n === 0 && j === 3) || (n === 1 && j === 1)) expect(w[n]![i]![j]).toBe(0);
          else expect(w[n]![i]![j]).toBeGreaterThan(0);
        }
      }
    }
    // A bool attnMask and the additive 0/−∞ mask it stands for are the same mask.
    const banned = tg
      .tensor([
        [0, 1, 0, 1],
        [0, 0, 0, 0],
        [1, 0, 0, 0],
        [0, 0, 1, 0],
      ])
      .gt(0);
    const additive = tg.where(banned, -Infinity, tg.zeros([4, 4]));
    expectClose(
      m.forward(x, x, x, { attnMask: banned }).output,
      m.forward(x, x, x, { attnMask: additive }).output,
    );
  });

  it("adds a float attnMask and a float keyPaddingMask together (torch 2's rule; 1.13 refuses)", () => {
    tg.manualSeed(13);
    const m = new nn.MultiheadAttention(6, 3);
    const x = tg.randn([4, 2, 6]); // [L, N, E]
    const attn = tg.randn([4, 4]);
    const kpm = tg.randn([2, 4]);
    // The same bias as one [N·H, L, S] mask: attn[l, s] + kpm[n, s] for every head.
    const merged = attn.unsqueeze(0).add(kpm.unsqueeze(1)).unsqueeze(1).expand([2, 3, 4, 4]);
    const a = m.forward(x, x, x, { attnMask: attn, keyPaddingMask: kpm });
    const b = m.forward(x, x, x, { attnMask: merged.reshape([6, 4, 4]) });
    expectClose(a.output, b.output, { atol: 1e-6 });
    expectClose(a.weights!, b.weights!, { atol: 1e-6 });
  });

  it("drops attention weights in training only, reproducibly with its generator", () => {
    tg.manualSeed(14);
    const p = 0.5;
    const drop = new nn.MultiheadAttention(8, 2, { dropout: p, generator: new tg.Generator(1) });
    const plain = new nn.MultiheadAttention(8, 2);
    plain.loadStateDict(drop.stateDict());
    const x = tg.randn([5, 2, 8]);
    const opts = { averageAttnWeights: false } as const;
    const ref = plain.forward(x, x, x, opts);
    drop.eval();
    expectClose(drop.forward(x, x, x, opts).output, ref.output);
    drop.train();
    const w = drop.forward(x, x, x, opts).weights!.dataSync();
    const r = ref.weights!.dataSync();
    // Every weight is dropped (0) or kept and scaled by 1/(1 − p).
    let dropped = 0;
    w.forEach((v, i) => {
      if (v === 0) dropped++;
      else expect(v).toBeCloseTo(r[i]! / (1 - p), 6);
    });
    expect(dropped).toBeGreaterThan(0.3 * w.length);
    expect(dropped).toBeLessThan(0.7 * w.length);
    // The same generator state gives the same masks.
    const twin = new nn.MultiheadAttention(8, 2, { dropout: p, generator: new tg.Generator(1) });
    twin.loadStateDict(drop.stateDict());
    const fresh = new nn.MultiheadAttention(8, 2, { dropout: p, generator: new tg.Generator(1) });
    fresh.loadStateDict(drop.stateDict());
    expect(Array.from(twin.forward(x, x, x, opts).weights!.dataSync())).toEqual(
      Array.from(fresh.forward(x, x, x, opts).weights!.dataSync()),
    );
  });

  it("names the module and the shapes in its errors", () => {
    expect(() => new nn.MultiheadAttention(10, 3)).toThrow(
      /MultiheadAttention: embedDim 10 is not divisible by numHeads 3/,
    );
    expect(() => new nn.MultiheadAttention(8, 2, { dropout: 1.5 })).toThrow(
      /MultiheadAttention: dropout must be in \[0, 1\], got 1.5/,
    );
    const m = new nn.MultiheadAttention(8, 2);
    const x = tg.randn([4, 2, 8]);
    expect(() => m.forward(tg.randn([4, 2, 6]), x, x)).toThrow(
      /MultiheadAttention: expected query, key, value \[L, N, E\] with E = 8, 8, 8; got \[4,2,6\], \[4,2,8\], \[4,2,8\]/,
    );
    expect(() => m.forward(x, x, tg.randn([3, 2, 8]))).toThrow(
      /MultiheadAttention: query, key and value must share the batch size and key and value the length; got \[4,2,8\], \[4,2,8\], \[3,2,8\]/,
    );
    expect(() => m.forward(x, tg.randn([4, 3, 8]), tg.randn([4, 3, 8]))).toThrow(
      /must share the batch size/,
    );
    expect(() => m.forward(x, x, x, { attnMask: tg.zeros([4, 5]) })).toThrow(
      /MultiheadAttention: attnMask must be \[L, S\] = \[4,4\] or \[N·numHeads, L, S\] = \[4,4,4\], got \[4,5\]/,
    );
    expect(() => m.forward(x, x, x, { keyPaddingMask: tg.zeros([4, 2]).gt(0) })).toThrow(
      /MultiheadAttention: keyPaddingMask must be \[N, S\] = \[2,4\], got \[4,2\]/,
    );
    expect(() =>
      m.forward(x, x, x, { keyPaddingMask: tg.zeros([2, 4], { dtype: "int32" }) }),
    ).toThrow(/MultiheadAttention: keyPaddingMask must be bool or floating, got int32/);
    // A query with nothing to attend to: torch returns NaN; tsgrad says which query.
    const allPadded = tg
      .tensor([
        [0, 0, 0, 0],
        [1, 1, 1, 1],
      ])
      .gt(0);
    expect(() => m.forward(x, x, x, { keyPaddingMask: allPadded })).toThrow(
      /MultiheadAttention: query 0 of batch element 1 \(head 0\) may attend no key/,
    );
    const leftPadded = tg
      .tensor([
        [0, 0, 0, 0],
        [1, 0, 0, 0],
      ])
      .gt(0);
    expect(() => m.forward(x, x, x, { keyPaddingMask: leftPadded, isCausal: true })).toThrow(
      /query 0 of batch element 1 \(head 0\) may attend no key/,
    );
  });
});

describe("tg.nn.TransformerEncoderLayer and TransformerEncoder", () => {
  it("use torch's submodule names", () => {
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
    expect(layer.namedModules().map(([k]) => k)).toEqual([
      "",
      "self_attn",
      "self_attn.out_proj",
      "linear1",
      "dropout",
      "linear2",
      "norm1",
      "norm2",
      "dropout1",
      "dropout2",
    ]);
    const enc = new nn.TransformerEncoder(layer, 3);
    expect(Object.keys(enc.stateDict()).filter((k) => k.endsWith("in_proj_weight"))).toEqual([
      "layers.0.self_attn.in_proj_weight",
      "layers.1.self_attn.in_proj_weight",
      "layers.2.self_attn.in_proj_weight",
    ]);
  });

  it("stacks independent copies of a given layer, or what a factory makes", () => {
    tg.manualSeed(21);
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0 });
    const enc = new nn.TransformerEncoder(layer, 2);
    const [a, b] = enc.layers as [tg.nn.TransformerEncoderLayer, tg.nn.TransformerEncoderLayer];
    expect(a).not.toBe(layer);
    expect(a.linear1.weight).not.toBe(b.linear1.weight);
    expect(Array.from(a.linear1.weight.dataSync())).toEqual(
      Array.from(layer.linear1.weight.dataSync()),
    );
    expect(Array.from(b.linear1.weight.dataSync())).toEqual(
      Array.from(layer.linear1.weight.dataSync()),
    );
    // Two layers with the same weights, applied in turn.
    const x = tg.randn([3, 2, 8]);
    expectClose(enc.forward(x), layer.forward(layer.forward(x)), { atol: 1e-5 });
    const seen: number[] = [];
    const made = new nn.TransformerEncoder((i) => {
      seen.push(i);
      return new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
    }, 3);
    expect(seen).toEqual([0, 1, 2]);
    expect(made.layers[0]!.linear1.weight.dataSync()).not.toEqual(
      made.layers[1]!.linear1.weight.dataSync(),
    );
  });

  it("round-trips its state dict, and agrees in both layouts", () => {
    tg.manualSeed(22);
    const make = (batchFirst: boolean) =>
      new nn.TransformerEncoder(
        () => new nn.TransformerEncoderLayer(8, 4, { dimFeedforward: 16, batchFirst }),
        2,
        new nn.LayerNorm(8),
      ).eval();
    const a = make(true);
    const b = make(false);
    b.loadStateDict(a.stateDict());
    for (const [k, t] of Object.entries(b.stateDict())) {
      expect(Array.from(t.dataSync()), k).toEqual(Array.from(a.stateDict()[k]!.dataSync()));
    }
    const x = tg.randn([2, 5, 8]);
    const pad = tg
      .tensor([
        [0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0],
      ])
      .gt(0);
    expectClose(
      a.forward(x, { srcKeyPaddingMask: pad }),
      b.forward(x.transpose(0, 1), { srcKeyPaddingMask: pad }).transpose(0, 1),
    );
  });

  it("applies dropout in training only, reproducibly with its generator", () => {
    tg.manualSeed(23);
    const make = () =>
      new nn.TransformerEncoderLayer(8, 2, {
        dimFeedforward: 16,
        dropout: 0.3,
        generator: new tg.Generator(4),
      });
    const a = make();
    const ref = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0 });
    ref.loadStateDict(a.stateDict());
    const b = make();
    b.loadStateDict(a.stateDict());
    const x = tg.randn([4, 2, 8]);
    expectClose(a.eval().forward(x), ref.forward(x));
    a.train();
    const ya = a.forward(x);
    expect(Array.from(ya.dataSync())).not.toEqual(Array.from(ref.forward(x).dataSync()));
    expect(Array.from(b.forward(x).dataSync())).toEqual(Array.from(ya.dataSync()));
  });

  it("names the module and the shapes in its errors", () => {
    expect(() => new nn.TransformerEncoderLayer(10, 4)).toThrow(
      /TransformerEncoderLayer: dModel 10 is not divisible by nhead 4/,
    );
    expect(
      () =>
        new nn.TransformerEncoderLayer(8, 2, {
          activation: "tanh" as unknown as "relu",
        }),
    ).toThrow(/TransformerEncoderLayer: activation must be "relu", "gelu" or a function, got tanh/);
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true });
    expect(() => layer.forward(tg.zeros([2, 3, 6]))).toThrow(
      /TransformerEncoderLayer: expected src \[N, L, E\] or \[L, E\] with E = 8, got \[2,3,6\]/,
    );
    expect(() =>
      layer.forward(tg.zeros([2, 3, 8]), { srcKeyPaddingMask: tg.zeros([3, 2]).gt(0) }),
    ).toThrow(/MultiheadAttention: keyPaddingMask must be \[N, S\] = \[2,3\], got \[3,2\]/);
    expect(() => new nn.TransformerEncoder(layer, -1)).toThrow(
      /TransformerEncoder: numLayers must be a non-negative integer, got -1/,
    );
  });
});

const PY = "/usr/bin/python3";
const hasTorch = spawnSync(PY, ["-c", "import torch"]).status === 0;

const LOAD = `
import json, struct, sys
import torch
import torch.nn as nn

path, xs = sys.argv[1], json.loads(sys.argv[2])
raw = open(path, "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8 : 8 + n])
data = raw[8 + n :]
state = {}
for name, info in header.items():
    if name == "__metadata__":
        continue
    b, e = info["data_offsets"]
    state[name] = torch.frombuffer(bytearray(data[b:e]), dtype=torch.float32).reshape(info["shape"])
layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, activation="gelu", norm_first=True)
model = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8))
model.load_state_dict(state, strict=True)
model.eval()
x = torch.tensor(xs["x"]).reshape(5, 2, 8)
pad = torch.tensor(xs["pad"]).reshape(2, 5) > 0
with torch.no_grad():
    y = model(x, src_key_padding_mask=pad)
print(json.dumps({"names": list(state.keys()), "out": y.reshape(-1).tolist()}))
`;

describe.skipIf(!hasTorch)("a tsgrad TransformerEncoder in live PyTorch", () => {
  it("loads strictly into torch.nn.TransformerEncoder and gives the same outputs", () => {
    tg.manualSeed(31);
    const enc = new nn.TransformerEncoder(
      new nn.TransformerEncoderLayer(8, 2, {
        dimFeedforward: 16,
        activation: "gelu",
        normFirst: true,
      }),
      2,
      new nn.LayerNorm(8),
    ).eval();
    const x = tg.randn([5, 2, 8]);
    const padRows = [0, 0, 0, 1, 1, 0, 0, 0, 0, 0];
    const dir = mkdtempSync(`${tmpdir()}/tsgrad-transformer-`);
    try {
      writeFileSync(`${dir}/model.safetensors`, tg.io.encodeSafetensors(enc.stateDict()));
      writeFileSync(`${dir}/load.py`, LOAD);
      const r = spawnSync(
        PY,
        [
          `${dir}/load.py`,
          `${dir}/model.safetensors`,
          JSON.stringify({ x: Array.from(x.dataSync()), pad: padRows }),
        ],
        { encoding: "utf8" },
      );
      expect(r.stderr).toBe("");
      const got = JSON.parse(r.stdout) as { names: string[]; out: number[] };
      expect(got.names.sort()).toEqual(Object.keys(enc.stateDict()).sort());
      const pad = tg.tensor(padRows, { shape: [2, 5] }).gt(0);
      const ours = tg.noGrad(() => enc.forward(x, { srcKeyPaddingMask: pad }));
      expectClose(ours, Float32Array.from(got.out), { atol: 1e-5, rtol: 1e-4 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
