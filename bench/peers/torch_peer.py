"""PyTorch as a tsgrad benchmark peer: one workload in its own process (see bench/lib/protocol.ts).

Started by bench/run.ts as `/usr/bin/python3 bench/peers/torch_peer.py '<request JSON>'` with
OPENBLAS_CORETYPE=SkylakeX and OMP_WAIT_POLICY=PASSIVE in the environment, PyTorch's best
configuration on this machine (/work/shared/PEERS.md): Debian's OpenBLAS 0.3.21 does not
recognise the CPU and would otherwise fall back to its slowest kernels, and spinning OpenMP
threads would steal the other core. Convolutions run on oneDNN, which detects the ISA itself.

Prints one line `@@tsgrad-bench-result <JSON>` on stdout; logs go to stderr. The timing loop is
the one in bench/lib/measure.ts: warm-up steps (excluded), then timed windows of whole steps,
median window throughput.
"""

import json
import os
import resource
import sys
import time

RESULT_MARKER = "@@tsgrad-bench-result "


def max_rss_kib():
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def emit(result):
    sys.stdout.write(RESULT_MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()


def median(xs):
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def measure(name, unit, items_per_step, flops_per_step, step, timing, on_step=None):
    """Same schedule as measure() in bench/lib/measure.ts."""
    def run():
        v = step()
        if on_step is not None:
            on_step(v)

    w0 = time.perf_counter()
    for _ in range(3):
        run()
        if time.perf_counter() - w0 >= timing["warmupSeconds"]:
            break
    rates, per_step, steps = [], [], 0
    start = time.perf_counter()
    while True:
        ws = time.perf_counter()
        n = 0
        while True:
            run()
            n += 1
            if time.perf_counter() - ws >= timing["windowSeconds"]:
                break
        dt = time.perf_counter() - ws
        rates.append(n * items_per_step / dt)
        per_step.append(dt / n)
        steps += n
        elapsed = time.perf_counter() - start
        if elapsed >= timing["maxSeconds"]:
            break
        if elapsed >= timing["budget"] and len(rates) >= timing["minWindows"]:
            break
    return {
        "name": name,
        "unit": unit,
        "median": median(rates),
        "min": min(rates),
        "max": max(rates),
        "windows": len(rates),
        "steps": steps,
        "itemsPerStep": items_per_step,
        "secondsPerStep": median(per_step),
        "flopsPerStep": flops_per_step,
    }


def model_flops_per_image(spec):
    """Mirror of modelFlopsPerImage() in bench/lib/specs.ts."""
    c, h, w = spec["input"]
    flops, first = 0, True
    for l in spec["layers"]:
        k = l["kind"]
        if k == "conv":
            oh = h + 2 * l["pad"] - l["k"] + 1
            ow = w + 2 * l["pad"] - l["k"] + 1
            macs = l["out"] * oh * ow * l["in"] * l["k"] * l["k"]
            flops += 2 * macs * (2 if first else 3)
            c, h, w, first = l["out"], oh, ow, False
        elif k == "maxpool":
            h = (h - l["k"]) // l["stride"] + 1
            w = (w - l["k"]) // l["stride"] + 1
        elif k == "flatten":
            c, h, w = c * h * w, 1, 1
        elif k == "linear":
            flops += 2 * l["in"] * l["out"] * (2 if first else 3)
            c, h, w, first = l["out"], 1, 1, False
    return flops


LSTM_LM = {"vocab": 8000, "embedding": 256, "hidden": 512, "seq": 32, "batch": 32, "lr": 1e-3}


def lstm_flops_per_token(cfg):
    g = 4 * cfg["hidden"]
    return 3 * 2 * (cfg["embedding"] * g + cfg["hidden"] * g + cfg["hidden"] * cfg["vocab"])


def loaded_blas():
    """The BLAS library this process actually mapped: PyTorch links the generic libblas.so.3,
    which is Debian's reference BLAS unless OpenBLAS provides it (alternatives or LD_LIBRARY_PATH)."""
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line and ".so" in line}
    return ", ".join(sorted(libs)) or "none mapped"


def main(req):
    log = lambda msg: sys.stderr.write(f"[{req['peer']} {req['workload']}] {msg}\n")
    try:
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
    except Exception as e:  # noqa: BLE001 - any import failure means the peer is absent
        return {"status": "absent", "reason": f"cannot import torch: {e}", "maxRssKiB": max_rss_kib()}

    torch.set_num_threads(req["threads"])
    torch.manual_seed(0)
    info = {
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "(unset)"),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "blas": loaded_blas(),
    }
    figures, checks, losses = [], [], []
    timing = req["timing"]
    # --bf16: PyTorch's own mixed precision on CPU, autocast to bfloat16 (conv, linear and
    # matmul run in bf16 on oneDNN; weights and optimizer stay float32).
    bf16 = bool(req.get("bf16"))
    info["bf16"] = bf16
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if bf16 else None

    if req["workload"] == "sgemm":
        for n in req["sizes"]:
            g = torch.Generator().manual_seed(n)
            a = torch.rand(n, n, generator=g) * 2 - 1
            b = torch.rand(n, n, generator=g) * 2 - 1
            if req["check"]:
                if autocast is None:
                    c = (a @ b).double()
                else:
                    with autocast():
                        c = (a @ b).double()
                ref = a.double() @ b.double()
                rel = ((c - ref).abs().max() / ref.abs().max()).item()
                ok = rel < (1e-2 if bf16 else 1e-4)  # bf16 operands: 8 significant bits
                checks.append({"name": f"sgemm-{n}", "ok": ok, "detail": f"max rel. error {rel:.2e}"})
                log(f"sgemm {n}: max relative error vs float64 {rel:.2e}")
                continue
            out = torch.empty(n, n)
            flops = 2 * n**3

            def product():
                if autocast is None:
                    return torch.matmul(a, b, out=out)
                with autocast():
                    return torch.matmul(a, b)

            f = measure(f"sgemm-{n}", "GFLOP/s", flops / 1e9, flops, product, timing)
            log(f"sgemm {n}: {f['median']:.2f} GFLOP/s ({f['windows']} windows, {f['steps']} products)")
            figures.append(f)
    else:
        if req["workload"] == "lstm":
            cfg = LSTM_LM
            V, E, H, T, B = cfg["vocab"], cfg["embedding"], cfg["hidden"], cfg["seq"], cfg["batch"]
            emb, lstm, head = nn.Embedding(V, E), nn.LSTM(E, H), nn.Linear(H, V)
            params = [*emb.parameters(), *lstm.parameters(), *head.parameters()]
            opt = torch.optim.Adam(params, lr=cfg["lr"])
            g = torch.Generator().manual_seed(2)
            tokens = torch.randint(0, V, (T, B), generator=g)
            targets = torch.randint(0, V, (T * B,), generator=g)

            def forward():
                out, _ = lstm(emb(tokens))
                return F.cross_entropy(head(out).reshape(T * B, V), targets)

            def step():
                opt.zero_grad()
                if autocast is None:
                    loss = forward()
                else:
                    with autocast():
                        loss = forward()
                loss.backward()
                opt.step()
                return loss.item()

            items, unit = T * B, "tokens/s"
            flops = items * lstm_flops_per_token(cfg)
        else:
            spec = req["model"]
            layers = []
            for l in spec["layers"]:
                k = l["kind"]
                if k == "conv":
                    layers.append(nn.Conv2d(l["in"], l["out"], l["k"], padding=l["pad"]))
                elif k == "relu":
                    layers.append(nn.ReLU())
                elif k == "maxpool":
                    layers.append(nn.MaxPool2d(l["k"], l["stride"]))
                elif k == "lrn":
                    layers.append(nn.LocalResponseNorm(l["size"], l["alpha"], l["beta"], l["k"]))
                elif k == "dropout":
                    layers.append(nn.Dropout(l["p"]))
                elif k == "flatten":
                    layers.append(nn.Flatten())
                elif k == "linear":
                    layers.append(nn.Linear(l["in"], l["out"]))
            net = nn.Sequential(*layers).train()
            o = spec["optimizer"]
            if o["kind"] == "adam":
                opt = torch.optim.Adam(net.parameters(), lr=o["lr"])
            else:
                opt = torch.optim.SGD(
                    net.parameters(), lr=o["lr"], momentum=o["momentum"], weight_decay=o["weightDecay"]
                )
            Bn = spec["batch"]
            g = torch.Generator().manual_seed(1)
            x = torch.rand(Bn, *spec["input"], generator=g) * 2 - 1
            y = torch.randint(0, spec["classes"], (Bn,), generator=g)

            def step():
                opt.zero_grad()
                if autocast is None:
                    loss = F.cross_entropy(net(x), y)
                else:
                    with autocast():
                        loss = F.cross_entropy(net(x), y)
                loss.backward()
                opt.step()
                return loss.item()

            items, unit = Bn, "images/s"
            flops = items * model_flops_per_image(spec)

        if req["check"]:
            for i in range(req["checkSteps"]):
                losses.append(step())
                log(f"step {i + 1}: loss {losses[-1]:.4f}")
            first, last = losses[0], losses[-1]
            checks.append({
                "name": f"{req['workload']}-trains",
                "ok": last == last and last < first,
                "detail": f"loss {first:.4f} → {last:.4f} over {len(losses)} steps",
            })
        else:
            def on_step(loss):
                if len(losses) < 2:
                    losses.append(loss)
                else:
                    losses[1] = loss

            f = measure(req["workload"], unit, items, flops, step, timing, on_step)
            log(f"{f['median']:.2f} {unit} ({f['windows']} windows, {f['steps']} steps, {f['secondsPerStep']:.3f} s/step)")
            figures.append(f)

    return {
        "status": "ok",
        "figures": figures,
        "losses": losses,
        "checks": checks,
        "threadsUsed": torch.get_num_threads(),
        "info": info,
        "maxRssKiB": max_rss_kib(),
    }


if __name__ == "__main__":
    request = json.loads(sys.argv[1])
    try:
        result = main(request)
    except Exception as e:  # noqa: BLE001 - report any failure to the orchestrator
        import traceback

        traceback.print_exc()
        result = {"status": "failed", "reason": f"{type(e).__name__}: {e}", "maxRssKiB": max_rss_kib()}
    emit(result)
