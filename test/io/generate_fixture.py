"""Reference safetensors files written by PyTorch, and a PyTorch-side reader, for test/io.

The `safetensors` package is not available here, so this is a minimal reader/writer that follows
the format spec with struct, json and torch.frombuffer, and orders the file like the reference
(Rust) writer: tensors sorted by descending dtype alignment then by name, compact JSON header with
__metadata__ first (keys sorted), padded with spaces to a multiple of 8 bytes.

Usage (with PyTorch 1.13 at /usr/bin/python3):
  /usr/bin/python3 test/io/generate_fixture.py
      writes test/io/fixtures/torch.safetensors, torch-wide.safetensors and torch.json
      (deterministic: re-running reproduces the files byte for byte)
  /usr/bin/python3 test/io/generate_fixture.py read FILE
      prints {"metadata": {...}, "tensors": {name: {"dtype", "shape", "values"}}} as JSON
  /usr/bin/python3 test/io/generate_fixture.py load-model FILE
      loads the non-"#" tensors of a tsgrad checkpoint into
      nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)) with strict=True and prints
      the model's output on arange(6).reshape(2, 3) / 4 as JSON
"""

import json
import math
import os
import struct
import sys

import torch

# Increasing alignment, as in the reference's Dtype enum; the writer sorts by descending rank.
ORDER = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16",
         "I32", "U32", "F32", "F64", "I64", "U64"]
TORCH = {
    "BOOL": torch.bool, "U8": torch.uint8, "I8": torch.int8, "I16": torch.int16,
    "F16": torch.float16, "BF16": torch.bfloat16, "I32": torch.int32, "F32": torch.float32,
    "F64": torch.float64, "I64": torch.int64,
}
NAME = {v: k for k, v in TORCH.items()}
HERE = os.path.dirname(os.path.abspath(__file__))


def write_safetensors(path, tensors, metadata=None):
    items = sorted(tensors.items(), key=lambda kv: (-ORDER.index(NAME[kv[1].dtype]), kv[0]))
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = {k: metadata[k] for k in sorted(metadata)}
    for name, t in items:
        data = t.contiguous().numpy().tobytes() if t.dtype != torch.bfloat16 else \
            t.contiguous().view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": NAME[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = raw[8 + n:]
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = TORCH[info["dtype"]]
        if begin == end:
            tensors[name] = torch.empty(info["shape"], dtype=dtype)
        else:
            flat = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype)
            tensors[name] = flat.reshape(info["shape"])
    return tensors, metadata


def describe(t):
    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return str(v).replace("inf", "Infinity").replace("nan", "NaN")
        return v
    values = t.reshape(-1).float().tolist() if t.dtype in (torch.float16, torch.bfloat16) \
        else t.reshape(-1).tolist()
    return {"dtype": NAME[t.dtype], "shape": list(t.shape), "values": [clean(v) for v in values]}


def generate():
    torch.manual_seed(0)
    main = {
        "features.0.weight": torch.randn(4, 3),
        "features.0.bias": torch.randn(4),
        "head.weight": torch.randn(3, 2).t(),  # non-contiguous: written contiguously
        "scale": torch.tensor(2.5, dtype=torch.float64),
        "double": torch.randn(5, dtype=torch.float64),
        "labels": torch.tensor([0, -1, 2147483647, -2147483648, 7], dtype=torch.int32),
        "mask": torch.tensor([[True, False], [False, True]]),
        "empty": torch.zeros(0, 3),
        "\u00fcn\u00efcode": torch.tensor([1.5]),
    }
    meta = {"format": "pt", "note": 'fixture with "quotes", a tab\t and \u00fcn\u00efcode \u2713',
            "a": "first key after sorting"}
    wide = {
        "half": torch.tensor([1.0, -2.5, 65504.0, 6.1e-5, 0.0], dtype=torch.float16),
        "bfloat": torch.tensor([1.0, -3.140625, 1e30], dtype=torch.bfloat16),
        "long": torch.tensor([[-5, 0], [2147483647, -2147483648]], dtype=torch.int64),
        "short": torch.tensor([-32768, 32767], dtype=torch.int16),
        "byte": torch.tensor([0, 255], dtype=torch.uint8),
        "char": torch.tensor([-128, 127], dtype=torch.int8),
    }
    fixtures = os.path.join(HERE, "fixtures")
    os.makedirs(fixtures, exist_ok=True)
    write_safetensors(os.path.join(fixtures, "torch.safetensors"), main, meta)
    write_safetensors(os.path.join(fixtures, "torch-wide.safetensors"), wide)
    # Read back through the reader so the JSON describes what the files hold.
    files = {}
    for fname in ["torch.safetensors", "torch-wide.safetensors"]:
        tensors, metadata = read_safetensors(os.path.join(fixtures, fname))
        files[fname] = {"metadata": metadata,
                        "tensors": {k: describe(v) for k, v in tensors.items()}}
    out = {"version": 1, "generator": "test/io/generate_fixture.py",
           "torch": torch.__version__, "files": files}
    with open(os.path.join(fixtures, "torch.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2, ensure_ascii=False)
        f.write("\n")


def load_model(path):
    tensors, _ = read_safetensors(path)
    state = {k: v for k, v in tensors.items() if not k.startswith("#")}
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    model.load_state_dict(state, strict=True)
    with torch.no_grad():
        y = model(torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4)
    return {"output": y.tolist()}


if __name__ == "__main__":
    if len(sys.argv) == 1:
        generate()
    elif sys.argv[1] == "read":
        tensors, metadata = read_safetensors(sys.argv[2])
        print(json.dumps({"metadata": metadata,
                          "tensors": {k: describe(v) for k, v in tensors.items()}}))
    elif sys.argv[1] == "load-model":
        print(json.dumps(load_model(sys.argv[2])))
    else:
        sys.exit(f"unknown command {sys.argv[1]!r}")
