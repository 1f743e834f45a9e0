/**
 * PyTorch compatibility: files written by PyTorch (test/io/generate_fixture.py) decode exactly,
 * tsgrad writes byte-identical files from the same tensors, and PyTorch reads what tsgrad writes.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { type FixtureTensor, fixturePath, loadFixture, tempDir } from "./helpers.js";

const PYTHON = "/usr/bin/python3";
const SCRIPT = fixturePath("../generate_fixture.py");

const TSGRAD_DTYPE: Record<string, tg.DType> = {
  F32: "float32",
  F64: "float64",
  I32: "int32",
  BOOL: "bool",
};

function fromFixture(e: FixtureTensor): tg.Tensor {
  return tg.tensor(e.values as number[], { dtype: TSGRAD_DTYPE[e.dtype]!, shape: e.shape });
}

/** Run a command, resolving to its stdout, or to null with the stderr shown when it fails. */
function run(args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(PYTHON, args, { encoding: "utf8" }, (err, stdout, stderr) => {
      if (err) console.warn(`${PYTHON} ${args.join(" ")} failed: ${stderr || err.message}`);
      resolve(err ? null : stdout);
    });
  });
}

describe("tg.io safetensors vs PyTorch", () => {
  const fixture = loadFixture().files["torch.safetensors"]!;

  it("decodes a file written by PyTorch exactly", () => {
    const { tensors, metadata } = tg.io.loadSafetensors(fixturePath("torch.safetensors"));
    expect(metadata).toEqual(fixture.metadata);
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(fixture.tensors).sort());
    for (const [name, e] of Object.entries(fixture.tensors)) {
      const t = tensors[name]!;
      expect(t.dtype, name).toBe(TSGRAD_DTYPE[e.dtype]);
      expect(t.shape, name).toEqual(e.shape);
      const values = e.dtype === "BOOL" ? e.values.map((v) => (v ? 1 : 0)) : e.values;
      expect(Array.from(t.data), name).toEqual(values);
    }
  });

  it("encodes the same tensors to the same bytes as the PyTorch-side writer (canonical order: dtype alignment, then name; metadata keys sorted)", () => {
    const tensors: Record<string, tg.Tensor> = {};
    // Insertion order deliberately differs from the file's, to show the encoder canonicalises it.
    for (const name of Object.keys(fixture.tensors).reverse()) {
      tensors[name] = fromFixture(fixture.tensors[name]!);
    }
    // PyTorch saved head.weight from a transposed (non-contiguous) view; do the same here.
    tensors["head.weight"] = tensors["head.weight"]!.t().contiguous().t();
    expect(tensors["head.weight"].isContiguous()).toBe(false);
    const metadata = Object.fromEntries(Object.entries(fixture.metadata).reverse());
    const ours = tg.io.encodeSafetensors(tensors, metadata);
    const theirs = readFileSync(fixturePath("torch.safetensors"));
    expect(Buffer.from(ours).equals(theirs)).toBe(true);
  });
});

describe("tg.io files read by PyTorch", () => {
  const g = new tg.Generator(3);
  const src = {
    "layer.weight": tg.randn([3, 4], { generator: g }),
    "layer.bias": tg.randn([4], { generator: g }).narrow(0, 1, 3),
    counts: tg.tensor([1, -2, 3, 2147483647], { dtype: "int32", shape: [2, 2] }),
    mask: tg.tensor([false, true, true]),
    f64: tg.tensor([Math.E, -1e-300], { dtype: "float64" }),
    special: tg.tensor(new Float32Array([NaN, Infinity, -Infinity, -0])),
    scalar: tg.scalar(0.25),
  };
  const model = {
    "0.weight": tg.randn([4, 3], { generator: g }),
    "0.bias": tg.randn([4], { generator: g }),
    "2.weight": tg.randn([2, 4], { generator: g }),
    "2.bias": tg.randn([2], { generator: g }),
  };
  let hasTorch = false;
  let readOut: string | null = null;
  let modelOut: string | null = null;

  // One torch import costs over a second, so the probe and both readers run side by side.
  beforeAll(async () => {
    const dir = tempDir();
    tg.io.saveSafetensors(`${dir}/t.safetensors`, src, { epoch: "3", note: "tsgrad ✓" });
    tg.io.saveCheckpoint(`${dir}/ckpt.safetensors`, {
      model,
      optimizer: { step: 5, state: [{ expAvg: tg.zeros([4, 3]) }] },
      rng: g.getState(),
    });
    const [probe, read, load] = await Promise.all([
      run(["-c", "import torch"]),
      run([SCRIPT, "read", `${dir}/t.safetensors`]),
      run([SCRIPT, "load-model", `${dir}/ckpt.safetensors`]),
    ]);
    hasTorch = probe !== null;
    [readOut, modelOut] = [read, load];
    if (!hasTorch) console.warn(`SKIPPING PyTorch reader tests: ${PYTHON} cannot import torch`);
  });

  it("are read back exactly by the PyTorch-side reader (skipped without torch)", (ctx) => {
    if (!hasTorch) ctx.skip(`${PYTHON} cannot import torch`);
    const out = JSON.parse(readOut!) as {
      metadata: Record<string, string>;
      tensors: Record<string, FixtureTensor>;
    };
    expect(out.metadata).toEqual({ epoch: "3", note: "tsgrad ✓" });
    expect(Object.keys(out.tensors).sort()).toEqual(Object.keys(src).sort());
    for (const [name, t] of Object.entries(src)) {
      const e = out.tensors[name]!;
      const stored = { float32: "F32", float64: "F64", int32: "I32", bool: "BOOL" }[t.dtype];
      expect(e.dtype, name).toBe(stored);
      expect(e.shape, name).toEqual(t.shape);
      // Not `t.contiguous().data`: a contiguous view with an offset (the narrowed bias) shares
      // its whole storage array.
      const c = t.isContiguous() ? t : t.contiguous();
      const expected = Array.from(c.data.subarray(c.offset, c.offset + c.size), (v) =>
        t.dtype === "bool" ? v !== 0 : Number.isFinite(v) ? v : String(v),
      );
      expect(e.values, name).toEqual(expected);
    }
  });

  it("hold checkpoints that PyTorch loads strictly into the equivalent nn.Sequential (skipped without torch)", (ctx) => {
    if (!hasTorch) ctx.skip(`${PYTHON} cannot import torch`);
    const { output } = JSON.parse(modelOut!) as { output: number[][] };
    const x = tg.arange(6).reshape([2, 3]).float().div(4);
    const h = x.matmul(model["0.weight"].t()).add(model["0.bias"]).relu();
    const y = h.matmul(model["2.weight"].t()).add(model["2.bias"]);
    const want = y.toArray() as number[][];
    expect(output).toHaveLength(2);
    output.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(want[i]![j]!, 5)));
  });
});
