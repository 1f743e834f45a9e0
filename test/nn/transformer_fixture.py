#!/usr/bin/python3
"""Reference values from PyTorch 1.13 for test/nn/transformer.test.ts.

Run with Debian's python3-torch:  /usr/bin/python3 test/nn/transformer_fixture.py
Writes fixtures/transformer.json: for each case, the module's configuration (in tsgrad's option
names), its state dict (torch's names, in order), the inputs and masks, the outputs, and the
gradients of sum(output * w_out) [+ sum(weights * w_weights)] with respect to the floating inputs
and every parameter, all computed in float64.

Every reference is computed with gradients enabled and parameters requiring grad, so torch takes
its composite ("slow") path, never the fused/nested-tensor fast path of eval mode.
"""
import json
import math
import os

import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)
torch.manual_seed(1913)


def flat(t):
    return t.detach().reshape(-1).tolist()


def enc(t):
    if t is None:
        return None
    kind = "bool" if t.dtype == torch.bool else "float"
    data = flat(t.double()) if kind == "float" else [int(v) for v in flat(t.int())]
    # JSON has no infinity: additive masks store -inf as null.
    if kind == "float":
        data = [None if (v == -math.inf) else v for v in data]
    return {"shape": list(t.shape), "dtype": kind, "data": data}


CASES = []


def record(name, kind, config, module, inputs, masks, forward, train=False, self_attention=False, call=None):
    """inputs: dict name -> tensor (requires grad); masks: dict name -> tensor or None; call: how
    tsgrad is called where it differs (isCausal instead of the causal attnMask; averageAttnWeights)."""
    module.train(train)
    inputs = {k: v.detach().clone().requires_grad_(True) for k, v in inputs.items()}
    out, weights = forward(module, inputs, masks)
    w_out = torch.randn(out.shape)
    loss = (out * w_out).sum()
    w_weights = None
    if weights is not None:
        w_weights = torch.randn(weights.shape)
        loss = loss + (weights * w_weights).sum()
    loss.backward()
    grads = {f"input.{k}": flat(v.grad) for k, v in inputs.items()}
    grads.update({f"param.{k}": flat(p.grad) for k, p in module.named_parameters()})
    CASES.append(
        {
            "name": name,
            "kind": kind,
            "config": config,
            "train": train,
            "selfAttention": self_attention,
            "call": call or {},
            "state": [{"name": k, "shape": list(v.shape), "data": flat(v)} for k, v in module.state_dict().items()],
            "inputs": {k: enc(v) for k, v in inputs.items()},
            "masks": {k: enc(v) for k, v in masks.items() if v is not None},
            "output": enc(out),
            "weights": enc(weights),
            "wOut": flat(w_out),
            "wWeights": flat(w_weights) if w_weights is not None else None,
            "grads": grads,
        }
    )


def mha_forward(opts):
    def run(m, x, masks):
        q = x["query"]
        k = x.get("key", q)
        v = x.get("value", k)
        return m(q, k, v, key_padding_mask=masks.get("keyPaddingMask"), attn_mask=masks.get("attnMask"), **opts)

    return run


def randomized(m):
    # Nonzero biases and non-unit norms, so that every parameter's role shows in the outputs.
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("bias") or "norm" in name:
                p.add_(0.3 * torch.randn(p.shape))
    return m


def causal(L):
    return nn.Transformer.generate_square_subsequent_mask(L)  # float: 0 on and below the diagonal, -inf above


# ---------------------------------------------------------------- MultiheadAttention
E, H = 8, 2
m = randomized(nn.MultiheadAttention(E, H))
pad = torch.tensor([[False, False, False, True], [False, False, False, False], [False, True, False, True]])
record(
    "mha self-attention, bool keyPaddingMask, [L, N, E]",
    "mha",
    {"embedDim": E, "numHeads": H},
    m,
    {"query": torch.randn(4, 3, E)},
    {"keyPaddingMask": pad},
    mha_forward({}),
    self_attention=True,
)

m = randomized(nn.MultiheadAttention(E, H, batch_first=True))
record(
    "mha cross-attention, additive attnMask, batchFirst, per-head weights",
    "mha",
    {"embedDim": E, "numHeads": H, "batchFirst": True},
    m,
    {"query": torch.randn(2, 3, E), "key": torch.randn(2, 5, E), "value": torch.randn(2, 5, E)},
    {"attnMask": 0.5 * torch.randn(3, 5)},
    mha_forward({"average_attn_weights": False}),
    call={"averageAttnWeights": False},
)

m = randomized(nn.MultiheadAttention(E, H, kdim=6, vdim=4, bias=False))
attn3 = torch.rand(2 * H, 3, 5) < 0.3
attn3[:, :, 0] = False  # every query keeps key 0
record(
    "mha kdim/vdim, no bias, 3-D bool attnMask and bool keyPaddingMask",
    "mha",
    {"embedDim": E, "numHeads": H, "kdim": 6, "vdim": 4, "bias": False},
    m,
    {"query": torch.randn(3, 2, E), "key": torch.randn(5, 2, 6), "value": torch.randn(5, 2, 4)},
    {"attnMask": attn3, "keyPaddingMask": torch.tensor([[False, False, True, False, True], [False] * 5])},
    mha_forward({}),
)

m = randomized(nn.MultiheadAttention(E, 4, batch_first=True))
record(
    "mha causal (isCausal vs torch's square subsequent mask) with padding",
    "mha",
    {"embedDim": E, "numHeads": 4, "batchFirst": True},
    m,
    {"query": torch.randn(2, 5, E)},
    {"attnMask": causal(5), "keyPaddingMask": torch.tensor([[False] * 5, [False, False, False, True, True]])},
    mha_forward({}),
    self_attention=True,
    call={"isCausal": True},
)

m = randomized(nn.MultiheadAttention(E, H))
record(
    "mha unbatched [L, E] with a float [S] keyPaddingMask",
    "mha",
    {"embedDim": E, "numHeads": H},
    m,
    {"query": torch.randn(3, E), "key": torch.randn(4, E), "value": torch.randn(4, E)},
    {"keyPaddingMask": torch.tensor([0.0, -math.inf, 0.5, -1.0])},
    mha_forward({}),
)


# ---------------------------------------------------------------- encoder layers and stacks
def layer_forward(m, x, masks):
    return m(x["src"], src_mask=masks.get("attnMask"), src_key_padding_mask=masks.get("keyPaddingMask")), None


def encoder_forward(m, x, masks):
    return m(x["src"], mask=masks.get("attnMask"), src_key_padding_mask=masks.get("keyPaddingMask")), None


layer = randomized(nn.TransformerEncoderLayer(E, H, dim_feedforward=12, dropout=0.0))
record(
    "encoder layer post-LN relu, [L, N, E], padding, train mode",
    "layer",
    {"dModel": E, "nhead": H, "dimFeedforward": 12, "dropout": 0},
    layer,
    {"src": torch.randn(4, 3, E)},
    {"keyPaddingMask": pad},
    layer_forward,
    train=True,
)

layer = randomized(
    nn.TransformerEncoderLayer(E, H, dim_feedforward=12, dropout=0.25, activation="gelu", batch_first=True, norm_first=True, layer_norm_eps=1e-6)
)
record(
    "encoder layer pre-LN gelu, batchFirst, causal, eval mode with dropout 0.25",
    "layer",
    {"dModel": E, "nhead": H, "dimFeedforward": 12, "dropout": 0.25, "activation": "gelu", "batchFirst": True, "normFirst": True, "layerNormEps": 1e-6},
    layer,
    {"src": torch.randn(2, 5, E)},
    {"attnMask": causal(5)},
    layer_forward,
    call={"isCausal": True},
)

layer = nn.TransformerEncoderLayer(E, H, dim_feedforward=12, dropout=0.1, batch_first=True)
stack = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(E))
randomized(stack)
record(
    "encoder 2 layers + norm, batchFirst, padding, eval mode",
    "encoder",
    {"dModel": E, "nhead": H, "dimFeedforward": 12, "dropout": 0.1, "batchFirst": True, "numLayers": 2, "norm": True},
    stack,
    {"src": torch.randn(3, 4, E)},
    {"keyPaddingMask": pad},
    encoder_forward,
)


def main():
    out = {"version": 1, "generator": "test/nn/transformer_fixture.py", "torch": torch.__version__, "cases": CASES}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "transformer.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        json.dump(out, fh)
    print(f"wrote {len(CASES)} cases to {path}")


if __name__ == "__main__":
    main()
