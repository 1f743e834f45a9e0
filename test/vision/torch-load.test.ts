/**
 * A tsgrad AlexNet checkpoint loads into the equivalent torch.nn model (same names and shapes,
 * strict load) and computes the same outputs. Runs when Debian's python3-torch is installed.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

const PY = "/usr/bin/python3";
const hasTorch = spawnSync(PY, ["-c", "import torch"]).status === 0;

const SCRIPT = `
import json, struct, sys
import torch
import torch.nn as nn

path, src = sys.argv[1], sys.argv[2]
raw = open(path, "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8 : 8 + n])
data = raw[8 + n :]
dtypes = {"F32": torch.float32, "F64": torch.float64, "I32": torch.int32}
state = {}
for name, info in header.items():
    if name == "__metadata__" or name.startswith("#"):
        continue  # tsgrad's optimizer/metadata tensors are not part of the model
    b, e = info["data_offsets"]
    state[name] = torch.frombuffer(bytearray(data[b:e]), dtype=dtypes[info["dtype"]]).reshape(info["shape"])
model = eval(src)
model.load_state_dict(state, strict=True)
model.eval()
x = torch.linspace(-1, 1, 2 * 28 * 28).reshape(2, 1, 28, 28)
with torch.no_grad():
    y = model["classifier"](torch.flatten(model["features"](x), 1))
print(json.dumps({"names": list(state.keys()), "out": y.reshape(-1).tolist()}))
`;

describe.skipIf(!hasTorch)("a tsgrad checkpoint in PyTorch", () => {
  it.each([0, 1] as const)(
    "AlexNet's state dict loads strictly into torch.nn and gives the same logits (pool padding %i)",
    (poolPadding) => {
      tg.manualSeed(5);
      const net = new tg.models.AlexNet({
        inChannels: 1,
        imageSize: 28,
        numClasses: 10,
        width: 0.25,
        poolPadding,
      }).eval();
      const dir = mkdtempSync(`${tmpdir()}/tsgrad-torch-`);
      tg.io.saveCheckpoint(`${dir}/model.safetensors`, {
        model: net.stateDict(),
        meta: { note: "test" },
      });
      writeFileSync(`${dir}/load.py`, SCRIPT);
      const r = spawnSync(PY, [`${dir}/load.py`, `${dir}/model.safetensors`, net.torchSource()], {
        encoding: "utf8",
      });
      expect(r.stderr).toBe("");
      const got = JSON.parse(r.stdout) as { names: string[]; out: number[] };
      expect(got.names.sort()).toEqual(Object.keys(net.stateDict()).sort());
      const x = tg.linspace(-1, 1, 2 * 28 * 28).reshape([2, 1, 28, 28]);
      const ours = Array.from(tg.noGrad(() => net.forward(x)).dataSync());
      got.out.forEach((v, i) => expect(v).toBeCloseTo(ours[i]!, 4));
    },
  );
});
