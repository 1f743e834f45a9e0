import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

const PAD = 0;
const BOS = 1;
const EOS = 2;

/** Pairs (source, target = source mapped by v -> v + 1 over tokens 3..8), padded batches. */
function batch(pairs: number[][]) {
  const S = Math.max(...pairs.map((p) => p.length));
  const src = pairs.map((p) => [...p, ...Array<number>(S - p.length).fill(PAD)]);
  const tgt = pairs.map((p) => p.map((v) => v + 1));
  const T = S + 1;
  const tin = tgt.map((t) => [BOS, ...t, ...Array<number>(T - 1 - t.length).fill(PAD)]);
  const tout = tgt.map((t) => [...t, EOS, ...Array<number>(T - 1 - t.length).fill(PAD)]);
  const i32 = (rows: number[][]) =>
    tg.tensor(Int32Array.from(rows.flat()), { shape: [rows.length, rows[0]!.length] });
  return {
    src: i32(src),
    lengths: pairs.map((p) => p.length),
    tin: i32(tin),
    tout: i32(tout),
    tgt,
  };
}

function train(
  model: tg.models.Seq2Seq | tg.models.Seq2SeqAttention,
  data: ReturnType<typeof batch>,
  steps: number,
) {
  const params = model.parameters();
  const m = params.map((p) => new Float32Array(p.size));
  const v = params.map((p) => new Float32Array(p.size));
  let loss = 0;
  for (let step = 1; step <= steps; step++) {
    const logits = model.forward(data.src, data.lengths, data.tin);
    const l = tg.F.crossEntropy(logits.reshape([-1, logits.shape[2]!]), data.tout.reshape([-1]), {
      ignoreIndex: PAD,
    });
    loss = l.item();
    model.zeroGrad();
    l.backward();
    // Adam, written out so this test depends only on the model.
    params.forEach((p, i) => {
      const g = p.grad!.dataSync();
      const d = p.data as Float32Array;
      for (let k = 0; k < d.length; k++) {
        m[i]![k] = 0.9 * m[i]![k]! + 0.1 * g[k]!;
        v[i]![k] = 0.999 * v[i]![k]! + 0.001 * g[k]! * g[k]!;
        d[k]! -=
          (0.02 * (m[i]![k]! / (1 - 0.9 ** step))) /
          (Math.sqrt(v[i]![k]! / (1 - 0.999 ** step)) + 1e-8);
      }
    });
  }
  return loss;
}

const pairs = [
  [3, 4, 5],
  [7, 6, 5, 4],
  [8, 3],
  [4, 4, 6, 7, 3],
  [5, 8, 7],
  [6, 3, 8, 4],
];

describe.each([
  [
    "Seq2Seq",
    () =>
      new tg.models.Seq2Seq({
        srcVocab: 9,
        tgtVocab: 10,
        embedDim: 16,
        hiddenDim: 32,
        numLayers: 1,
      }),
  ],
  [
    "Seq2Seq (contextFeed)",
    () =>
      new tg.models.Seq2Seq({
        srcVocab: 9,
        tgtVocab: 10,
        embedDim: 16,
        hiddenDim: 32,
        numLayers: 2,
        contextFeed: true,
      }),
  ],
  [
    "Seq2SeqAttention",
    () =>
      new tg.models.Seq2SeqAttention({
        srcVocab: 9,
        tgtVocab: 10,
        embedDim: 16,
        hiddenDim: 32,
        numLayers: 1,
      }),
  ],
] as const)("tg.models.%s", (_name, make) => {
  it("overfits a small set of pairs, and greedy and beam search decode them back", () => {
    tg.manualSeed(0);
    const model = make();
    const data = batch(pairs);
    expect(train(model, data, 150)).toBeLessThan(0.05);
    model.eval();
    expect(tg.models.greedyDecode(model, data.src, data.lengths, { bos: BOS, eos: EOS })).toEqual(
      data.tgt,
    );
    expect(
      tg.models.beamSearch(model, data.src, data.lengths, { bos: BOS, eos: EOS, beamSize: 3 }),
    ).toEqual(data.tgt);
  });

  it("forward with rows gives exactly those rows of the full logits", () => {
    tg.manualSeed(2);
    const model = make().eval();
    const data = batch(pairs);
    const full = model.forward(data.src, data.lengths, data.tin);
    const [B, T, V] = full.shape as [number, number, number];
    const rows = [0, 3, T + 1, B * T - 1];
    const some = model.forward(
      data.src,
      data.lengths,
      data.tin,
      tg.tensor(Int32Array.from(rows), { shape: [rows.length] }),
    );
    expect(some.shape).toEqual([rows.length, V]);
    const all = full.reshape([B * T, V]).toArray() as number[][];
    (some.toArray() as number[][]).forEach((row, i) =>
      row.forEach((v, j) => expect(v).toBeCloseTo(all[rows[i]!]![j]!, 5)),
    );
  });

  it("decodes step by step exactly as the teacher-forced forward pass", () => {
    // Search uses encode/decodeStep; training uses forward. They must be the same function.
    tg.manualSeed(3);
    const model = make().eval();
    const data = batch(pairs);
    const full = model.forward(data.src, data.lengths, data.tin).logSoftmax(-1);
    const [B, T] = full.shape as [number, number, number];
    let state = model.encode(data.src, data.lengths);
    for (let t = 0; t < T; t++) {
      const prev = data.tin.narrow(1, t, 1).reshape([B]);
      const [logp, next] = model.decodeStep(state as never, prev);
      state = next;
      const want = full.narrow(1, t, 1).reshape([B, -1]).toArray() as number[][];
      (logp.toArray() as number[][]).forEach((row, b) =>
        row.forEach((v, j) => expect(v).toBeCloseTo(want[b]![j]!, 4)),
      );
    }
  });

  it("stops at the maximum length when EOS never comes", () => {
    tg.manualSeed(1);
    const model = make().eval();
    const data = batch([[3, 4]]);
    const out = tg.models.beamSearch(model, data.src, data.lengths, {
      bos: BOS,
      eos: EOS,
      beamSize: 2,
      maxLength: 4,
    });
    expect(out[0]!.length).toBeLessThanOrEqual(4);
    expect(
      tg.models.greedyDecode(model, data.src, data.lengths, {
        bos: BOS,
        eos: EOS,
        maxLength: 3,
      })[0]!.length,
    ).toBeLessThanOrEqual(3);
  });
});
