#!/usr/bin/python3
"""Evaluate the differential test's random programs with PyTorch (differential.test.ts).

Usage: /usr/bin/python3 test/differential/torch_eval.py in.json out.jsonl [start]

in.json holds the programs written by programs.ts: leaves (differentiated), constants, and nodes
whose `py` field is a Python expression over earlier names, `torch`, `F`, `DT` (the run's float
dtype) and the helpers below. Each program is evaluated twice, in float64 (the reference) and in
float32 (consulted only where float32's range or rounding decides a special value), with autograd:
the gradient of sum(output * w) for every leaf, w = weight(i) as in programs.ts (outputWeight).

Leaves and float constants arrive as base64 of their float32 bytes. out.jsonl (JSON lines,
appended): one line per program, with an entry per dtype: {"error": message} when torch raises,
else the output's shape, kind and values, and each leaf's gradient (null when it receives none);
float values as base64 of their float64 bytes, ints and bools as lists.
"""
import base64
import json
import math
import sys
import warnings

import numpy as np
import torch
import torch.nn.functional as F

warnings.filterwarnings("ignore")
torch.set_num_threads(1)


def weight(i):
    """Output weight i: the hash in programs.ts's outputWeight (in ±2, never 0, exact in float32)."""
    h = ((i + 1) * 0x9E3779B1) & 0xFFFFFFFF
    h ^= h >> 15
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    return (((h >> 8) & 0xFF) - 127.5) / 64


_weights = []


def weights(n, dtype):
    while len(_weights) < n:
        _weights.append(weight(len(_weights)))
    return torch.tensor(_weights[:n], dtype=dtype)


def sdpa(q, k, v, attn_mask=None, is_causal=False, scale=None):
    """torch.nn.functional.scaled_dot_product_attention (torch >= 2.0), as its documentation
    defines it; torch 1.13 has no public one."""
    L, S = q.size(-2), k.size(-2)
    scale = 1 / math.sqrt(q.size(-1)) if scale is None else scale
    bias = torch.zeros(L, S, dtype=q.dtype)
    if is_causal:
        keep = torch.ones(L, S, dtype=torch.bool).tril(diagonal=0)
        bias = bias.masked_fill(keep.logical_not(), float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            bias = bias.masked_fill(attn_mask.logical_not(), float("-inf"))
        else:
            bias = bias + attn_mask
    w = q @ k.transpose(-2, -1) * scale + bias
    return torch.softmax(w, dim=-1) @ v


def lstm(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
    """One LSTM layer as tg.F.lstmLayer: (outputs [T, B, H], h_n [B, H], c_n [B, H])."""
    params = [w_ih, w_hh] + ([b_ih, b_hh] if b_ih is not None else [])
    xs = x.flip(0) if reverse else x
    out, h, c = torch.lstm(xs, (h0[None], c0[None]), params, b_ih is not None, 1, 0.0, False, False, False)
    return (out.flip(0) if reverse else out), h[0], c[0]


def rms_norm(x, shape, weight=None, eps=None):
    """torch.nn.functional.rms_norm (torch >= 2.4) as its composite implementation computes it;
    torch 1.13 has none."""
    if eps is None:
        eps = torch.finfo(x.dtype).eps
    dims = tuple(range(-len(shape), 0))
    y = x * torch.rsqrt(x.pow(2).mean(dims, keepdim=True) + eps)
    return y * weight if weight is not None else y


def gru(x, h0, w_ih, w_hh, b_ih, b_hh, reverse):
    """One GRU layer as tg.F.gruLayer: (outputs [T, B, H], h_n [B, H])."""
    params = [w_ih, w_hh] + ([b_ih, b_hh] if b_ih is not None else [])
    xs = x.flip(0) if reverse else x
    out, h = torch.gru(xs, h0[None], params, b_ih is not None, 1, 0.0, False, False, False)
    return (out.flip(0) if reverse else out), h[0]


def decode_f32(b64, dtype):
    """A leaf or float constant: base64 of little-endian float32 bytes (exact, with NaN, ±Inf, -0)."""
    raw = base64.b64decode(b64)
    if not raw:
        return torch.empty(0, dtype=dtype)
    return torch.from_numpy(np.frombuffer(raw, dtype="<f4").copy()).to(dtype)


def encode(t):
    """Float tensors as base64 of their float64 bytes; ints and bools as lists of numbers."""
    t = t.detach()
    if t.is_floating_point():
        return base64.b64encode(t.to(torch.float64).contiguous().numpy().astype("<f8").tobytes()).decode()
    return t.to(torch.int64).reshape(-1).tolist()


def kind(t):
    return "float" if t.is_floating_point() else ("bool" if t.dtype == torch.bool else "int")


def evaluate(prog, dtype):
    env = {"torch": torch, "F": F, "DT": dtype, "sdpa": sdpa, "lstm": lstm, "gru": gru, "rms_norm": rms_norm}
    leaves = []
    try:
        for leaf in prog["leaves"]:
            t = decode_f32(leaf["f32"], dtype).reshape(leaf["shape"])
            t.requires_grad_(True)
            env[leaf["name"]] = t
            leaves.append(t)
        for c in prog["consts"]:
            if c["kind"] == "float":
                t = decode_f32(c["f32"], dtype)
            else:
                t = torch.tensor(c["data"], dtype=torch.int64 if c["kind"] == "int" else torch.bool)
            env[c["name"]] = t.reshape(c["shape"])
        for node in prog["nodes"]:
            env[node["name"]] = eval(node["py"], env)  # noqa: S307 (our own generated code)
        out = env[prog["output"]]
    except Exception as e:  # noqa: BLE001 (any error is an outcome to compare)
        return {"error": f"{type(e).__name__}: {e}".split("\n")[0]}
    result = {"shape": list(out.shape), "kind": kind(out), "data": encode(out), "grads": None}
    if out.is_floating_point() and out.requires_grad:
        try:
            (out * weights(out.numel(), dtype).reshape(out.shape)).sum().backward()
        except Exception as e:  # noqa: BLE001
            result["gradError"] = f"{type(e).__name__}: {e}".split("\n")[0]
            return result
    result["grads"] = [None if t.grad is None else encode(t.grad) for t in leaves]
    return result


def main():
    """Results go out one JSON line per program, flushed, so that when torch itself crashes
    (it has: "double free or corruption" inside a kernel) the caller knows which program did it
    and restarts after it (argv[3]: the index to start from)."""
    src, dst = sys.argv[1], sys.argv[2]
    start = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    with open(src) as f:
        programs = json.load(f)
    with open(dst, "a") as out:
        for p in programs[start:]:
            r = {"f64": evaluate(p, torch.float64), "f32": evaluate(p, torch.float32)}
            out.write(json.dumps(r, allow_nan=False) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
