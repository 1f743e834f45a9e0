# The PyTorch side of native/bench.js, for a same-conditions ratio (run both back to back):
#   OPENBLAS_CORETYPE=SkylakeX OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 native/peers/torch_cnn.py
# Prints sgemm 1024 GFLOP/s and the training images/s of the PEERS.md CNN with plain SGD.
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(0)


def median(xs):
    return sorted(xs)[len(xs) // 2]


n = 1024
a, b = torch.randn(n, n), torch.randn(n, n)
for _ in range(5):
    a @ b
ts = []
for _ in range(20):
    t = time.perf_counter()
    a @ b
    ts.append(time.perf_counter() - t)
ms = median(ts) * 1e3
print(f"torch sgemm {n}: {ms:.2f} ms, {2 * n**3 / ms / 1e6:.1f} GFLOP/s")


def p(*shape, fan_in):
    return (torch.randn(*shape) * (2 / fan_in) ** 0.5).requires_grad_()


w1, b1 = p(32, 1, 5, 5, fan_in=25), torch.zeros(32, requires_grad=True)
w2, b2 = p(64, 32, 5, 5, fan_in=800), torch.zeros(64, requires_grad=True)
w3, b3 = p(1024, 3136, fan_in=3136), torch.zeros(1024, requires_grad=True)
w4, b4 = p(10, 1024, fan_in=1024), torch.zeros(10, requires_grad=True)
params = [w1, b1, w2, b2, w3, b3, w4, b4]
opt = torch.optim.SGD(params, lr=0.01)
x = torch.randn(64, 1, 28, 28)
y = torch.randint(0, 10, (64,))


def step():
    opt.zero_grad()
    h = F.max_pool2d(F.relu(F.conv2d(x, w1, b1, padding=2)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, w2, b2, padding=2)), 2)
    h = F.relu(F.linear(h.reshape(64, 3136), w3, b3))
    loss = F.cross_entropy(F.linear(h, w4, b4), y)
    loss.backward()
    opt.step()


for _ in range(3):
    step()
ts = []
for _ in range(15):
    t = time.perf_counter()
    step()
    ts.append(time.perf_counter() - t)
ms = median(ts) * 1e3
print(f"torch cnn train step (batch 64): {ms:.1f} ms, {64e3 / ms:.0f} images/s")
