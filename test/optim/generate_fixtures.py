#!/usr/bin/python3
"""Reference trajectories from PyTorch 1.13 for tsgrad's optimizers, schedulers and clipping.

Run with Debian's python3-torch:  /usr/bin/python3 test/optim/generate_fixtures.py
Writes torch-optim.json next to this file:

- optimizers: for each configuration and dtype, the parameter values after each of STEPS steps
  of minimising  loss(w) = sum_k [ sum(c_k * (w_k - t_k)^2) + sum(sin(w_k)) ]  over two
  parameters (plus a third that never receives a gradient, which every optimizer must skip);
- schedulers: get_last_lr() (and the cycled momentum, for OneCycleLR) after construction and
  after each of 20 steps;
- clipping: clip_grad_norm_ / clip_grad_value_ results for fixed gradients.

The test (test/optim/torch-fixtures.test.ts) rebuilds the same configurations by name.
"""
import json
import math
import os
import subprocess
import warnings

import torch
from torch.nn.utils import clip_grad_norm_, clip_grad_value_

# SequentialLR calls scheduler.step(0) at milestones, which PyTorch itself flags as deprecated.
warnings.filterwarnings("ignore", message="The epoch parameter")

STEPS = 6
gen = torch.Generator().manual_seed(20240531)


def rand(*shape):
    return torch.rand(*shape, generator=gen, dtype=torch.float64)


# Problem data, shared by every configuration (stored in float64, cast per run).
W0 = [rand(2, 3) * 2 - 1, rand(4) * 2 - 1]
TARGET = [rand(2, 3) * 2 - 1, rand(4) * 2 - 1]
COEF = [rand(2, 3) + 0.5, rand(4) + 0.5]
FROZEN0 = rand(3) * 2 - 1  # in the optimizer but never in the loss: its grad stays None


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


# name -> (class, param-group spec, options). "groups" lists indices into [w1, w2, frozen] with
# per-group options; None means one group holding all three.
OPTIMIZERS = {
    "sgd": (torch.optim.SGD, None, dict(lr=0.1)),
    "sgd momentum": (torch.optim.SGD, None, dict(lr=0.1, momentum=0.9)),
    "sgd momentum dampening": (torch.optim.SGD, None, dict(lr=0.1, momentum=0.9, dampening=0.5)),
    "sgd nesterov": (torch.optim.SGD, None, dict(lr=0.1, momentum=0.9, nesterov=True)),
    "sgd weight decay": (torch.optim.SGD, None, dict(lr=0.1, momentum=0.5, weight_decay=0.1)),
    "sgd maximize": (torch.optim.SGD, None, dict(lr=0.05, momentum=0.9, maximize=True)),
    "sgd param groups": (
        torch.optim.SGD,
        [([0], dict(lr=0.2)), ([1, 2], dict(lr=0.01, momentum=0.9, nesterov=True))],
        dict(lr=0.1, momentum=0.5),
    ),
    "adam": (torch.optim.Adam, None, dict(lr=0.1)),
    "adam weight decay": (torch.optim.Adam, None, dict(lr=0.1, weight_decay=0.1)),
    "adam amsgrad": (torch.optim.Adam, None, dict(lr=0.1, betas=(0.8, 0.9), amsgrad=True)),
    "adam maximize": (torch.optim.Adam, None, dict(lr=0.05, maximize=True, eps=1e-3)),
    "adam param groups": (
        torch.optim.Adam,
        [([0, 2], dict()), ([1], dict(lr=0.01, betas=(0.5, 0.6), weight_decay=0.2))],
        dict(lr=0.1),
    ),
    "adamw": (torch.optim.AdamW, None, dict(lr=0.1)),
    "adamw amsgrad": (torch.optim.AdamW, None, dict(lr=0.1, weight_decay=0.1, amsgrad=True)),
    "adamw maximize": (torch.optim.AdamW, None, dict(lr=0.05, weight_decay=0.5, maximize=True)),
    "rmsprop": (torch.optim.RMSprop, None, dict(lr=0.01)),
    "rmsprop momentum": (torch.optim.RMSprop, None, dict(lr=0.01, momentum=0.9)),
    "rmsprop centered momentum weight decay": (
        torch.optim.RMSprop,
        None,
        dict(lr=0.01, alpha=0.9, eps=1e-6, centered=True, momentum=0.5, weight_decay=0.1),
    ),
    "rmsprop maximize": (torch.optim.RMSprop, None, dict(lr=0.01, centered=True, maximize=True)),
}


def run_optimizer(cls, groups, opts, dtype):
    ws = [w.clone().to(dtype).requires_grad_() for w in W0 + [FROZEN0]]
    if groups is None:
        opt = cls(ws, **opts)
    else:
        opt = cls([dict(params=[ws[i] for i in idx], **g) for idx, g in groups], **opts)
    traj = []
    for _ in range(STEPS):
        opt.zero_grad(set_to_none=True)
        loss = sum(
            (c.to(dtype) * (w - t.to(dtype)) ** 2).sum() + w.sin().sum()
            for w, t, c in zip(ws[:2], TARGET, COEF)
        )
        loss.backward()
        opt.step()
        traj.append([flat(w) for w in ws])
    return traj


def optimizer_fixtures():
    out = []
    for name, (cls, groups, opts) in OPTIMIZERS.items():
        out.append(
            dict(
                name=name,
                float64=run_optimizer(cls, groups, opts, torch.float64),
                float32=run_optimizer(cls, groups, opts, torch.float32),
            )
        )
    return out


# ---------------------------------------------------------------- schedulers

def two_group_sgd(momentum=0.0):
    a = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    return torch.optim.SGD([dict(params=[a]), dict(params=[b], lr=0.01)], lr=0.1, momentum=momentum)


def warmup_cosine(warmup, total, min_factor):
    # The tsgrad CosineWithWarmup schedule, written as the LambdaLR users would write by hand
    # (transformers' get_cosine_schedule_with_warmup when min_factor = 0).
    def f(step):
        if step < warmup:
            return step / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return min_factor + (1 - min_factor) * 0.5 * (1 + math.cos(math.pi * progress))

    return f


PLATEAU_METRICS = [1.0, 0.9, 0.95, 0.91, 0.92, 0.9, 0.89999, 0.93, 0.8, 0.85,
                   0.86, 0.87, 0.88, 0.7, 0.71, 0.72, 0.73, 0.74, 0.75, 0.76]


def schedule(name, make, steps=20, metrics=None, momentum_key=None):
    opt, sched = make()
    lrs = [list(sched.get_last_lr())] if hasattr(sched, "get_last_lr") else [
        [g["lr"] for g in opt.param_groups]]
    moms = []

    def momentum():
        if momentum_key == "betas":
            return [g["betas"][0] for g in opt.param_groups]
        return [g["momentum"] for g in opt.param_groups]

    if momentum_key:
        moms.append(momentum())
    for i in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        lrs.append([g["lr"] for g in opt.param_groups])
        if momentum_key:
            moms.append(momentum())
    entry = dict(name=name, lrs=lrs)
    if momentum_key:
        entry["momentum"] = moms
    return entry


def scheduler_fixtures():
    S = torch.optim.lr_scheduler
    out = []

    def with_opt(f, momentum=0.0):
        def make():
            opt = two_group_sgd(momentum)
            return opt, f(opt)

        return make

    out.append(schedule("StepLR", with_opt(lambda o: S.StepLR(o, step_size=3, gamma=0.5))))
    out.append(schedule("MultiStepLR", with_opt(
        lambda o: S.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3))))
    out.append(schedule("ExponentialLR", with_opt(lambda o: S.ExponentialLR(o, gamma=0.9))))
    out.append(schedule("CosineAnnealingLR", with_opt(
        lambda o: S.CosineAnnealingLR(o, T_max=7, eta_min=0.001))))
    out.append(schedule("LinearLR", with_opt(
        lambda o: S.LinearLR(o, start_factor=0.25, total_iters=4))))
    out.append(schedule("LinearLR decay", with_opt(
        lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=10))))

    def sequential(o):
        warm = S.LinearLR(o, start_factor=0.1, total_iters=5)
        cos = S.CosineAnnealingLR(o, T_max=15, eta_min=0.0)
        return S.SequentialLR(o, schedulers=[warm, cos], milestones=[5])

    out.append(schedule("SequentialLR warmup cosine", with_opt(sequential)))
    out.append(schedule("LambdaLR", with_opt(
        lambda o: S.LambdaLR(o, lr_lambda=[lambda e: 0.9 ** e, lambda e: 1 / (1 + e)]))))
    out.append(schedule("CosineWithWarmup", with_opt(
        lambda o: S.LambdaLR(o, lr_lambda=warmup_cosine(5, 20, 0.1)))))
    out.append(schedule("OneCycleLR", with_opt(
        lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=20), momentum=0.9),
        momentum_key="momentum"))

    def adam_one_cycle():
        a = torch.zeros(1, requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        opt = torch.optim.Adam([dict(params=[a]), dict(params=[b])], lr=0.1)
        return opt, S.OneCycleLR(opt, max_lr=[0.5, 0.05], total_steps=20, pct_start=0.25,
                                 anneal_strategy="linear", three_phase=True, div_factor=10.0,
                                 final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9)

    out.append(schedule("OneCycleLR adam three-phase linear", adam_one_cycle,
                        momentum_key="betas"))
    out.append(schedule("ReduceLROnPlateau min rel", with_opt(
        lambda o: S.ReduceLROnPlateau(o, mode="min", factor=0.5, patience=2, threshold=0.01,
                                      cooldown=1, min_lr=[0.02, 0.001])),
        metrics=PLATEAU_METRICS))
    out.append(schedule("ReduceLROnPlateau max abs", with_opt(
        lambda o: S.ReduceLROnPlateau(o, mode="max", factor=0.3, patience=1, threshold=0.05,
                                      threshold_mode="abs", min_lr=0.004)),
        metrics=[-m for m in PLATEAU_METRICS]))
    return out


# ---------------------------------------------------------------- clipping

CLIP_GRADS = [(rand(2, 3) * 4 - 2), (rand(5) * 4 - 2)]


def clip_fixtures():
    out = []
    for max_norm, norm_type in [(1.0, 2.0), (100.0, 2.0), (0.5, 1.0), (0.3, math.inf), (1.5, 3.0)]:
        ps = [torch.zeros_like(g, requires_grad=True) for g in CLIP_GRADS]
        for p, g in zip(ps, CLIP_GRADS):
            p.grad = g.clone()
        total = clip_grad_norm_(ps, max_norm, norm_type)
        out.append(dict(kind="norm", maxNorm=max_norm,
                        normType="inf" if norm_type == math.inf else norm_type,
                        total=float(total), grads=[flat(p.grad) for p in ps]))
    ps = [torch.zeros_like(g, requires_grad=True) for g in CLIP_GRADS]
    for p, g in zip(ps, CLIP_GRADS):
        p.grad = g.clone()
    clip_grad_value_(ps, 0.7)
    out.append(dict(kind="value", clipValue=0.7, grads=[flat(p.grad) for p in ps]))
    return out


def main():
    fixture = dict(
        version=1,
        generator="test/optim/generate_fixtures.py",
        torch=torch.__version__,
        steps=STEPS,
        problem=dict(w0=[flat(w) for w in W0], shapes=[list(w.shape) for w in W0],
                     target=[flat(t) for t in TARGET], coef=[flat(c) for c in COEF],
                     frozen0=flat(FROZEN0)),
        optimizers=optimizer_fixtures(),
        plateauMetrics=PLATEAU_METRICS,
        schedulers=scheduler_fixtures(),
        clipGrads=[flat(g) for g in CLIP_GRADS],
        clipShapes=[list(g.shape) for g in CLIP_GRADS],
        clip=clip_fixtures(),
    )
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch-optim.json")
    with open(path, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    # `npm test` checks formatting and only test/fixtures/*.json is prettier-ignored, so leave the
    # file the way prettier prints it.
    root = os.path.dirname(os.path.dirname(os.path.dirname(path)))
    if subprocess.run(["npx", "prettier", "--write", path], cwd=root).returncode != 0:
        print(f"WARNING: could not run prettier; run `npx prettier --write {path}` before committing")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
