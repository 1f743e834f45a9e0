import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { tempDir } from "./helpers.js";

describe("tg.io.saveCheckpoint", () => {
  it("restores model, nested optimizer tensors, RNG state, counters and config", () => {
    const path = `${tempDir()}/run/ckpt.safetensors`;
    const g = new tg.Generator(5);
    const w = tg.randn([3, 2], { generator: g });
    const b = tg.randn([2], { generator: g });
    const state = {
      model: { "features.0.weight": w, "features.0.bias": b },
      optimizer: {
        state: { 0: { step: 4, expAvg: tg.randn([3, 2], { generator: g }) }, 1: { step: 4 } },
        paramGroups: [{ lr: 1e-3, betas: [0.9, 0.999], params: [0, 1] }],
      },
      scheduler: { lastEpoch: 2, history: [tg.scalar(0.5), tg.scalar(0.25)] },
      rng: g.getState(),
      epoch: 3,
      best: null,
      config: { model: "mlp", hidden: [64, 32], dropout: false },
    };
    tg.io.saveCheckpoint(path, state);
    const back = tg.io.loadCheckpoint(path);
    expect(Object.keys(back).sort()).toEqual(Object.keys(state).sort());
    expect(Object.keys(back.model)).toEqual(["features.0.weight", "features.0.bias"]);
    expect(back.model["features.0.weight"]!.toArray()).toEqual(w.toArray());
    expect(back.model["features.0.bias"]!.toArray()).toEqual(b.toArray());
    const opt = back.optimizer as typeof state.optimizer;
    expect(opt.state[0].expAvg.toArray()).toEqual(state.optimizer.state[0].expAvg.toArray());
    expect(opt.state[1]).toEqual({ step: 4 });
    expect(opt.paramGroups).toEqual(state.optimizer.paramGroups);
    const sched = back.scheduler as typeof state.scheduler;
    expect(sched.history.map((t) => t.item())).toEqual([0.5, 0.25]);
    expect(back.rng).toEqual(state.rng);
    expect([back.epoch, back.best, back.config]).toEqual([3, null, state.config]);
    // The restored RNG state continues the same stream.
    const resumed = new tg.Generator(0);
    resumed.setState(back.rng as number[]);
    expect(resumed.uniform()).toBe(g.uniform());
  });

  it("stores non-model tensors under '#/<json pointer>' names and the model under its own names", () => {
    const bytes = tg.io.encodeCheckpoint({
      model: { "fc.weight": tg.ones([1]) },
      "a/b": { "c~d": tg.zeros([1]) },
      list: [tg.zeros([2])],
    });
    const { tensors, metadata } = tg.io.decodeSafetensors(bytes);
    expect(Object.keys(tensors).sort()).toEqual(["#/a~1b/c~0d", "#/list/0", "fc.weight"]);
    expect(metadata.format).toBe("pt");
    expect(JSON.parse(metadata["tsgrad.state"]!)).toEqual({
      "a/b": { "c~d": { $tensor: "#/a~1b/c~0d" } },
      list: [{ $tensor: "#/list/0" }],
    });
  });

  it("keeps one tensor object per stored tensor: shared references and tied weights survive", () => {
    const emb = tg.randn([4, 2]);
    const bytes = tg.io.encodeCheckpoint({
      model: { "embed.weight": emb, "head.weight": emb },
      optimizer: { params: [emb], momentum: [tg.zeros([4, 2])] },
    });
    const { tensors } = tg.io.decodeSafetensors(bytes);
    // PyTorch needs every model name present, so the tied weight is written under both names.
    expect(Object.keys(tensors).sort()).toEqual([
      "#/optimizer/momentum/0",
      "embed.weight",
      "head.weight",
    ]);
    const back = tg.io.decodeCheckpoint(bytes);
    expect(back.model["head.weight"]).toBe(back.model["embed.weight"]);
    expect((back.optimizer as { params: tg.Tensor[] }).params[0]).toBe(back.model["embed.weight"]);
  });

  it("keeps non-finite numbers and user keys that look like its own markers", () => {
    const state = {
      model: {},
      best: { loss: Infinity, ratio: NaN, low: -Infinity },
      tricky: { $tensor: "fc.weight", $number: "NaN", $object: 1 },
      nested: [{ $tensor: "x" }],
    };
    const back = tg.io.decodeCheckpoint(tg.io.encodeCheckpoint(state));
    expect(back.best).toEqual(state.best);
    expect(back.tricky).toEqual(state.tricky);
    expect(back.nested).toEqual(state.nested);
  });

  it("rejects what it cannot store faithfully, naming the path", () => {
    const enc = (s: Record<string, unknown>) => () => tg.io.encodeCheckpoint({ model: {}, ...s });
    expect(enc({ model: { "#x": tg.ones([1]) } })).toThrow(/model name "#x" starts with "#"/);
    expect(enc({ model: { w: [1, 2] } })).toThrow(/model entry "w" is not a Tensor/);
    expect(enc({ when: new Date(0) })).toThrow(/#\/when is a Date, which a checkpoint cannot hold/);
    expect(enc({ a: { f: () => 1 } })).toThrow(/#\/a\/f is a function/);
    expect(enc({ a: [1, undefined] })).toThrow(/#\/a\/1 is undefined/);
    expect(enc({ n: 10n })).toThrow(/#\/n is a bigint/);
  });

  it("loads a plain safetensors state dict (no tsgrad metadata) as { model }", () => {
    const path = `${tempDir()}/plain.safetensors`;
    tg.io.saveSafetensors(path, { "0.weight": tg.eye(2), "0.bias": tg.zeros([2]) });
    const back = tg.io.loadCheckpoint(path);
    expect(Object.keys(back)).toEqual(["model"]);
    expect(Object.keys(back.model).sort()).toEqual(["0.bias", "0.weight"]);
  });

  it("names the file when the stored state is inconsistent", () => {
    const good = tg.io.decodeSafetensors(
      tg.io.encodeCheckpoint({ model: { w: tg.ones([1]) }, m: tg.zeros([1]) }),
    );
    const redo =
      (meta: Record<string, string>, tensors = good.tensors) =>
      () =>
        tg.io.decodeCheckpoint(
          tg.io.encodeSafetensors(tensors, { ...good.metadata, ...meta }),
          "c.st",
        );
    expect(redo({ "tsgrad.version": "9" })).toThrow(/c\.st: checkpoint format version 9/);
    expect(redo({ "tsgrad.state": "{oops" })).toThrow(
      /c\.st: metadata "tsgrad.state" is not valid JSON/,
    );
    expect(redo({ "tsgrad.state": '{"m":{"$tensor":"#/gone"}}' })).toThrow(
      /refers to tensor "#\/gone"/,
    );
    expect(redo({ "tsgrad.state": "{}" })).toThrow(/tensor "#\/m" is not referenced/);
    expect(redo({ "tsgrad.model": '["w","v"]' })).toThrow(/does not list the model tensors/);
    expect(redo({ "tsgrad.state": '{"m":{"$bogus":1}}' })).toThrow(/malformed marker/);
    // Issue 19: these gave a TypeError and a stack overflow.
    expect(redo({ "tsgrad.tied": "null" })).toThrow(
      /^c\.st: metadata "tsgrad.tied" is not an object$/,
    );
    const deep = '{"x":'.repeat(100_000) + "1" + "}".repeat(100_000);
    expect(redo({ "tsgrad.state": deep })).toThrow(
      /^c\.st: metadata "tsgrad.state" (nests deeper|is not valid JSON)/,
    );
  });
});
